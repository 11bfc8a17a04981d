// Time to first byte and to last byte of single ranged GETs, Cairn and MinIO side by side (issue 23: DuckDB
// reads a Parquet file with one request at a time per file, mostly on a new connection each, so what it gets
// from a server is set by each request's latency, not by the server's throughput). The requests are DuckDB's
// (bench/readers/requests.ts --reader duckdb-httpfs): a 64 KiB footer at an object's end and 2.27 MB column
// chunks at any offset, each on a kept-alive connection and on a new one. The servers take turns request by
// request, so both see the same load.
//   node --import tsx bench/readers/latency.ts --minio BIN [--requests 200] [--bin CAIRN_JS] [--env NAME=VALUE]
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { objectPath, S3Client } from '../load/client.js';
import { table } from '../load/results.js';
import { DEFAULT_CAIRN_BIN, startCairn, startMinio, stopServer } from '../load/servers.js';

const { values: v } = parseArgs({
  options: {
    bin: { type: 'string', default: DEFAULT_CAIRN_BIN },
    minio: { type: 'string' },
    requests: { type: 'string', default: '200' },
    env: { type: 'string', multiple: true, default: [] },
    'drives-dir': { type: 'string', default: '/dev/shm' },
  },
});
if (!v.minio) throw new Error('--minio BIN is required');

const KEY = { accessKey: 'readers-lat', secretKey: 'readers-lat-secret-key' };
const BUCKET = 'readers-lat';
const OBJECTS = 4;
const SIZE = 60_000_000; // the readers' Parquet files are ~60 MB
const FOOTER = 65_536;
const CHUNK = 2_271_805; // one column chunk of the light group's dataset

const envOf = (list: string[]) =>
  Object.fromEntries(list.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
const servers = [
  await startCairn([v.bin!], v['drives-dir']!, KEY.accessKey, KEY.secretKey, {
    CAIRN_WORKERS: '1',
    ...envOf(v.env!),
  }),
  await startMinio(v.minio, v['drives-dir']!, KEY.accessKey, KEY.secretKey),
];

function connect(url: URL): Promise<net.Socket> {
  return new Promise((res, rej) => {
    const s = net.connect(Number(url.port), url.hostname, () => res(s));
    s.setNoDelay(true);
    s.once('error', rej);
  });
}

/** Sends `head` on `sock` and resolves [ms to the first response byte, ms to the last] once the body is in. */
function timed(sock: net.Socket, head: string, expect: number): Promise<[number, number]> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    let first = 0;
    let headBytes: Buffer | null = Buffer.alloc(0);
    let left = 0;
    const fail = (e: Error) => {
      sock.off('data', on);
      rej(e);
    };
    const on = (b: Buffer) => {
      first ||= performance.now();
      if (headBytes) {
        headBytes = Buffer.concat([headBytes, b]);
        const end = headBytes.indexOf('\r\n\r\n');
        if (end < 0) return;
        const text = headBytes.toString('latin1', 0, end);
        const length = /\r\ncontent-length: *(\d+)/i.exec(text);
        if (!/^HTTP\/1\.1 20[06]/.test(text) || !length || Number(length[1]) !== expect)
          return fail(new Error(`unexpected answer: ${text.split('\r\n')[0]}`));
        left = expect - (headBytes.length - end - 4);
        headBytes = null;
      } else left -= b.length;
      if (left <= 0) {
        sock.off('data', on);
        sock.off('error', fail);
        res([first - t0, performance.now() - t0]);
      }
    };
    sock.on('data', on);
    sock.once('error', fail);
    sock.write(head, 'latin1');
  });
}

try {
  const body = randomBytes(SIZE);
  for (const s of servers) {
    const c = new S3Client({ endpoint: s.url, ...KEY, region: 'us-east-1' }).connect();
    const made = await c.request({ method: 'PUT', path: objectPath(BUCKET) });
    if (made.status !== 200) throw new Error(`${s.name}: create bucket ${made.status}`);
    for (let i = 0; i < OBJECTS; i++) {
      const put = await c.request({ method: 'PUT', path: objectPath(BUCKET, `part-${i}.parquet`), body });
      if (put.status !== 200) throw new Error(`${s.name}: PUT ${put.status}`);
    }
    c.close();
  }
  const clients = servers.map((s) => new S3Client({ endpoint: s.url, ...KEY, region: 'us-east-1' }));
  const kept = await Promise.all(servers.map((s) => connect(new URL(s.url))));
  const got: Record<string, [number, number][]> = {};
  const loads: number[] = [];
  const n = Number(v.requests);
  for (let i = 0; i < n; i++) {
    if (i % Math.max(1, Math.floor(n / 4)) === 0) loads.push(loadavg()[0]);
    const path = objectPath(BUCKET, `part-${i % OBJECTS}.parquet`);
    const at = 1_000_000 + ((i * 7919) % 40) * 1_000_003; // any offset, not on the 1 MiB block grid
    const asks: [string, string, number][] = [
      ['footer 64 KiB', `bytes=${SIZE - FOOTER}-${SIZE - 1}`, FOOTER],
      ['range 2.27 MB', `bytes=${at}-${at + CHUNK - 1}`, CHUNK],
    ];
    // Turns flip each round: neither server always goes first after the other's requests.
    for (const si of i % 2 ? [1, 0] : [0, 1]) {
      for (const [name, range, expect] of asks) {
        const { head } = clients[si].build({ method: 'GET', path, range });
        (got[`${servers[si].name}\0${name}\0kept`] ??= []).push(await timed(kept[si], head, expect));
        const fresh = await connect(new URL(servers[si].url));
        (got[`${servers[si].name}\0${name}\0new`] ??= []).push(await timed(fresh, head, expect));
        fresh.destroy();
      }
    }
  }
  for (const k of kept) k.destroy();
  const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * p)];
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const f = (x: number) => x.toFixed(2);
  console.log(
    table([
      ['server', 'request', 'connection', 'first byte mean', 'p50', 'p90', 'last byte mean', 'p50', 'p90'],
      ...Object.keys(got)
        .sort()
        .map((k) => {
          const first = got[k].map((x) => x[0]);
          const last = got[k].map((x) => x[1]);
          return [
            ...k.split('\0'),
            f(mean(first)),
            f(q(first, 0.5)),
            f(q(first, 0.9)),
            f(mean(last)),
            f(q(last, 0.5)),
            f(q(last, 0.9)),
          ];
        }),
    ]),
  );
  console.log(
    `ms, ${n} requests of each kind per server; load average (1 min) during the run: ${loads.map((l) => l.toFixed(1)).join(' ')}`,
  );
} finally {
  for (const s of servers) await stopServer(s, false);
}
