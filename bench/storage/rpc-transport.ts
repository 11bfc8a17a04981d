// HTTP/1.1 keep-alive against HTTP/2 (node:http2, one session) for the storage RPC's two kinds of traffic, on
// loopback, with the server in a child process: small request/answer pairs (a 4 KiB body each way: a batch of
// metadata calls) at concurrency 32, and 64 MiB streams sent in 1 MiB chunks (shard uploads) and received
// (shard reads) at concurrency 4. Prints ops/s and MiB/s per protocol. Figures and the choice they led to:
// server/src/storage/README.md ("Why HTTP/1.1").
//
//   node --import tsx bench/storage/rpc-transport.ts [--small 5000] [--streams 8]
import { fork } from 'node:child_process';
import { Agent, createServer, request } from 'node:http';
import { connect, createServer as createH2Server, constants } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';

const CHUNK = Buffer.alloc(1024 * 1024, 1);
const SMALL = Buffer.alloc(4096, 2);
const STREAM_BYTES = 64 * 1024 * 1024;

/** The server side: answers /small with 4 KiB, drains /up, sends 64 MiB for /down. */
function serve(): void {
  type Write = (b: Buffer) => Promise<void>;
  const handle = (
    path: string,
    body: AsyncIterable<Buffer>,
    send: (status: number, data?: Buffer) => void,
    stream: (produce: (write: Write) => Promise<void>) => Promise<void>,
  ) => {
    void (async () => {
      for await (const _ of body);
      if (path === '/small') send(200, SMALL);
      else if (path === '/up') send(200);
      else
        await stream(async (write) => {
          for (let n = 0; n < STREAM_BYTES; n += CHUNK.length) await write(CHUNK);
        });
    })();
  };
  const h1 = createServer((req, res) =>
    handle(
      req.url!,
      req,
      (status, data) => {
        res.writeHead(status, { 'content-length': data?.length ?? 0 });
        res.end(data);
      },
      async (produce) => {
        res.writeHead(200, { 'content-length': STREAM_BYTES });
        await produce((b: Buffer) => new Promise<void>((r) => (res.write(b) ? r() : res.once('drain', () => r()))));
        res.end();
      },
    ),
  );
  const h2 = createH2Server({ settings: { initialWindowSize: 16 * 1024 * 1024 } }, () => {});
  h2.on('stream', (s, headers) =>
    handle(
      headers[':path'] as string,
      s,
      (status, data) => {
        s.respond({ ':status': status, 'content-length': data?.length ?? 0 });
        s.end(data);
      },
      async (produce) => {
        s.respond({ ':status': 200, 'content-length': STREAM_BYTES });
        await produce((b: Buffer) => new Promise<void>((r) => (s.write(b) ? r() : s.once('drain', () => r()))));
        s.end();
      },
    ),
  );
  h1.listen(0, '127.0.0.1', () =>
    h2.listen(0, '127.0.0.1', () =>
      process.send!({ h1: (h1.address() as AddressInfo).port, h2: (h2.address() as AddressInfo).port }),
    ),
  );
}

type Exchange = (path: string, body: Buffer[] | null) => Promise<number>;

function http1(port: number): { exchange: Exchange; close(): void } {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const exchange: Exchange = (path, body) =>
    new Promise((resolve, reject) => {
      const req = request({ agent, host: '127.0.0.1', port, method: 'POST', path }, async (res) => {
        let n = 0;
        for await (const c of res) n += (c as Buffer).length;
        resolve(n);
      });
      req.on('error', reject);
      void (async () => {
        for (const b of body ?? []) if (!req.write(b)) await new Promise((r) => req.once('drain', r));
        req.end();
      })();
    });
  return { exchange, close: () => agent.destroy() };
}

function http2(port: number): { exchange: Exchange; close(): void } {
  const session = connect(`http://127.0.0.1:${port}`, { settings: { initialWindowSize: 16 * 1024 * 1024 } });
  session.once('connect', () => session.setLocalWindowSize(64 * 1024 * 1024));
  const exchange: Exchange = (path, body) =>
    new Promise((resolve, reject) => {
      const s = session.request({ [constants.HTTP2_HEADER_METHOD]: 'POST', [constants.HTTP2_HEADER_PATH]: path });
      let n = 0;
      s.on('data', (c: Buffer) => (n += c.length));
      s.on('end', () => resolve(n));
      s.on('error', reject);
      void (async () => {
        for (const b of body ?? []) if (!s.write(b)) await new Promise((r) => s.once('drain', r));
        s.end();
      })();
    });
  return { exchange, close: () => session.close() };
}

async function run(count: number, concurrency: number, one: () => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < count) await one();
    }),
  );
  return (performance.now() - start) / 1000;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { small: { type: 'string', default: '5000' }, streams: { type: 'string', default: '8' } },
  });
  const small = Number(values.small);
  const streams = Number(values.streams);
  const child = fork(process.argv[1], ['--serve'], { execArgv: process.execArgv });
  const ports = await new Promise<{ h1: number; h2: number }>((r) => child.once('message', (m) => r(m as never)));
  const upload = Array.from({ length: STREAM_BYTES / CHUNK.length }, () => CHUNK);
  console.log('protocol  small 4 KiB ops/s (c32)  upload MiB/s (64 MiB, c4)  download MiB/s (64 MiB, c4)');
  try {
    for (const [name, open] of [
      ['http/1.1', () => http1(ports.h1)],
      ['http/2', () => http2(ports.h2)],
    ] as const) {
      const client = open();
      await run(500, 32, () => client.exchange('/small', [SMALL])); // warm-up
      const smallS = await run(small, 32, () => client.exchange('/small', [SMALL]));
      const upS = await run(streams, 4, () => client.exchange('/up', upload));
      const downS = await run(streams, 4, () => client.exchange('/down', null));
      const mib = (streams * STREAM_BYTES) / 1024 / 1024;
      console.log(
        `${name.padEnd(8)}  ${(small / smallS).toFixed(0).padStart(22)}  ${(mib / upS).toFixed(0).padStart(25)}  ${(mib / downS).toFixed(0).padStart(27)}`,
      );
      client.close();
    }
  } finally {
    child.kill();
  }
}

if (process.argv.includes('--serve')) serve();
else await main();
