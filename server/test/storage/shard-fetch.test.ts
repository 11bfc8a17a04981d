// The storage RPC's shard reads (storage/rpc/shard-fetch.ts) against a real socket server that answers as told:
// the body lands in the caller's buffer however the answer is cut into reads, connections are kept alive and a
// kept-alive one the node closed meanwhile is dialled again once, and every malformed, oversized, cut or
// silent answer fails the read with a code (EIO, ECONNRESET, ETIMEDOUT) instead of giving wrong bytes. Over
// TLS too (a throw-away CA), with the certificate verified.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ShardFetcher } from '../../src/storage/rpc/shard-fetch.js';
import { internodeTrust } from '../../src/storage/rpc/transport.js';
import { issue, makeCa } from '../../../test/helpers/tls.js';

/** How the server answers one request: the raw bytes, in pieces written one turn apart. */
type Answer = (request: string, socket: Socket) => Promise<void> | void;

let server: Server;
let answer: Answer;
let connections = 0;
let requests: string[] = [];
const fetchers: ShardFetcher[] = [];

function serve(socket: Socket): void {
  connections++;
  let pending = '';
  socket.on('error', () => {});
  socket.on('data', (d) => {
    pending += d.toString('latin1');
    while (pending.includes('\r\n\r\n')) {
      const end = pending.indexOf('\r\n\r\n') + 4;
      const request = pending.slice(0, end);
      pending = pending.slice(end);
      requests.push(request);
      void answer(request, socket);
    }
  });
}

async function pieces(socket: Socket, parts: (string | Buffer)[]): Promise<void> {
  for (const p of parts) {
    socket.write(p);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function ok(body: Buffer, extra = ''): string {
  return `HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\nx-cairn-bad-frames: 0\r\n${extra}\r\n`;
}

function fetcher(origin: string, timeoutMs = 2000, trust?: ReturnType<typeof internodeTrust>): ShardFetcher {
  const f = new ShardFetcher(
    new URL(origin),
    trust,
    timeoutMs,
    () => Object.assign(new Error('storage RPC: no answer'), { code: 'ETIMEDOUT' }),
    () => 'authorization: Bearer t0k3n\r\n',
  );
  fetchers.push(f);
  return f;
}

const body = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31 + (i >> 9)) & 0xff));
let origin: string;

beforeAll(async () => {
  server = createServer(serve);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => {
  for (const f of fetchers.splice(0)) f.close();
  connections = 0;
  requests = [];
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

describe('bodies', () => {
  it('lands in the caller buffer whatever the cuts: head byte by byte, head and body together, body in pieces', async () => {
    const head = ok(body);
    const cuts: (string | Buffer)[][] = [
      [...head.split(''), body],
      [Buffer.concat([Buffer.from(head), body])],
      [
        head.slice(0, 10),
        Buffer.concat([Buffer.from(head.slice(10)), body.subarray(0, 7)]),
        body.subarray(7, 65_543),
        body.subarray(65_543),
      ],
    ];
    for (const parts of cuts) {
      answer = (_, s) => pieces(s, parts);
      const into = Buffer.alloc(body.length + 100, 0xee);
      const got = await fetcher(origin).get('/rpc/shard?x', body.length, into);
      expect(got.status).toBe(200);
      expect(got.header('x-cairn-bad-frames')).toBe('0');
      expect(got.body.buffer).toBe(into.buffer);
      expect(got.body.equals(body)).toBe(true);
      // Nothing written past the answer's length.
      expect(into.subarray(body.length).every((b) => b === 0xee)).toBe(true);
    }
    expect(requests[0]).toMatch(
      /^GET \/rpc\/shard\?x HTTP\/1\.1\r\nhost: 127\.0\.0\.1:\d+\r\nauthorization: Bearer t0k3n\r\n\r\n$/,
    );
  });

  it('an empty body, and a body into a new buffer when none is given', async () => {
    answer = (_, s) => pieces(s, [ok(Buffer.alloc(0))]);
    const f = fetcher(origin);
    expect((await f.get('/a', 10)).body.length).toBe(0);
    answer = (_, s) => pieces(s, [ok(body), body]);
    expect((await f.get('/b', body.length)).body.equals(body)).toBe(true);
  });

  it('another status gives its (JSON) body', async () => {
    const err = Buffer.from('{"code":"ENOENT","message":"no such shard"}');
    answer = (_, s) => pieces(s, [`HTTP/1.1 404 Not Found\r\ncontent-length: ${err.length}\r\n\r\n`, err]);
    const got = await fetcher(origin).get('/a', 10, Buffer.alloc(10));
    expect(got.status).toBe(404);
    expect(got.body.toString()).toBe(err.toString());
  });
});

describe('connections', () => {
  it('are kept alive: reads one after the other share one', async () => {
    answer = (_, s) => pieces(s, [ok(body), body]);
    const f = fetcher(origin);
    for (let i = 0; i < 4; i++) expect((await f.get('/a', body.length)).body.equals(body)).toBe(true);
    expect(connections).toBe(1);
    // At once: one connection each.
    const all = await Promise.all([1, 2, 3].map(() => f.get('/a', body.length)));
    expect(all.every((r) => r.body.equals(body))).toBe(true);
    expect(connections).toBe(3);
  });

  it('a kept-alive connection the node closed meanwhile: the read goes out again on a new one', async () => {
    answer = (_, s) => pieces(s, [ok(body), body]);
    const f = fetcher(origin);
    await f.get('/a', body.length);
    // The next request finds the connection closed by the node without an answer.
    answer = (_, s) => {
      s.destroy();
      answer = (_, s2) => pieces(s2, [ok(body), body]);
    };
    expect((await f.get('/b', body.length)).body.equals(body)).toBe(true);
    expect(connections).toBe(2);
  });

  it('connection: close from the node is honoured (not kept)', async () => {
    answer = (_, s) => pieces(s, [ok(body, 'connection: close\r\n'), body]);
    const f = fetcher(origin);
    await f.get('/a', body.length);
    await f.get('/a', body.length);
    expect(connections).toBe(2);
  });
});

describe('bad answers fail the read', () => {
  const cases: [string, (string | Buffer)[], string][] = [
    ['a body longer than asked', [ok(body)], 'EIO'],
    ['no length', ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n'], 'EIO'],
    ['not HTTP', ['SSH-2.0-OpenSSH\r\n\r\n'], 'EIO'],
    ['a head too large', [`HTTP/1.1 200 OK\r\nx: ${'a'.repeat(20_000)}\r\n\r\n`], 'EIO'],
    ['bytes past the answer', [Buffer.concat([Buffer.from(ok(body.subarray(0, 10))), body.subarray(0, 20)])], 'EIO'],
    ['an error body too large', [`HTTP/1.1 500 x\r\ncontent-length: 100000\r\n\r\n`], 'EIO'],
  ];
  for (const [name, parts, code] of cases) {
    it(name, async () => {
      answer = (_, s) => pieces(s, parts);
      const limit = name === 'a body longer than asked' ? body.length - 1 : body.length;
      await expect(fetcher(origin).get('/a', limit, Buffer.alloc(body.length))).rejects.toMatchObject({ code });
    });
  }

  it('a body that fits the limit but not the caller buffer', async () => {
    answer = (_, s) => pieces(s, [ok(body)]);
    const read = fetcher(origin).get('/a', body.length, Buffer.alloc(body.length - 1));
    await expect(read).rejects.toMatchObject({ code: 'EIO', message: /longer than its buffer/ });
  });

  it('an answer cut in the middle: ECONNRESET, not sent again', async () => {
    answer = async (_, s) => {
      await pieces(s, [ok(body), body.subarray(0, 1000)]);
      s.destroy();
    };
    const f = fetcher(origin);
    await expect(f.get('/a', body.length)).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(requests.length).toBe(1);
  });

  it('a node that never answers: ETIMEDOUT after the timeout, once (also on a kept-alive connection)', async () => {
    answer = (_, s) => pieces(s, [ok(body), body]);
    const f = fetcher(origin, 300);
    await f.get('/a', body.length);
    answer = () => {};
    const t0 = Date.now();
    await expect(f.get('/a', body.length)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(250);
    // Below the 2 s the other cases' fetchers use, so a timeout not taken from this one still fails; not tighter
    // (it was 900 ms): a loaded machine's timers fire late.
    expect(took).toBeLessThan(1900);
    expect(requests.length).toBe(2);
  });

  it('a refused connection: its code', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await expect(fetcher(`http://127.0.0.1:${port}`).get('/a', 10)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

describe('over TLS', () => {
  let dir: string;
  let tlsServer: Server;
  let tlsOrigin: string;
  let trust: ReturnType<typeof internodeTrust>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cairn-shard-fetch-'));
    const ca = await makeCa(join(dir, 'ca'));
    const leaf = await issue(ca, ['127.0.0.1']);
    tlsServer = createTlsServer({ cert: leaf.cert, key: leaf.key }, serve);
    await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
    tlsOrigin = `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}`;
    trust = internodeTrust([ca.pem], join(dir, 'CAs'));
  });

  afterAll(async () => {
    await new Promise((r) => tlsServer.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  it('reads bodies into the caller buffer, kept alive', async () => {
    answer = (_, s) => pieces(s, [ok(body), body.subarray(0, 5), body.subarray(5)]);
    const f = fetcher(tlsOrigin, 5000, trust);
    for (let i = 0; i < 3; i++) {
      const into = Buffer.alloc(body.length);
      const got = await f.get('/a', body.length, into);
      expect(got.body.buffer).toBe(into.buffer);
      expect(got.body.equals(body)).toBe(true);
    }
    expect(connections).toBe(1);
  });

  it('refuses a node whose certificate it does not trust', async () => {
    const other = internodeTrust([], join(dir, 'CAs'));
    answer = (_, s) => pieces(s, [ok(body), body]);
    await expect(fetcher(tlsOrigin, 5000, other).get('/a', body.length)).rejects.toMatchObject({
      code: expect.stringMatching(/CERT|VERIFY|ISSUER/),
    });
  });
});
