// What a Python reader asks a server for, and what those requests cost the server when the reader itself
// sends them against when the lean client sends the very same ones (issue 23: pyarrow's whole and filtered
// reads cost Cairn 1.4-1.5x the CPU per byte of raw whole GETs of the same files).
//
// The light group's Python worker reads the Parquet dataset once through a logging proxy (method, path,
// Range, status, bytes, time to the server's response head, time to its last byte, requests in flight, and
// which of the reader's TCP connections carried it: the proxy's own connections to the server are kept
// alive whatever the reader does), and the list is printed. Then, in rounds (order flipped
// each round), the server's CPU by thread per GB for: the reader itself; the lean client (bench/load)
// replaying the reader's GETs with the same ranges on the same number of connections; and the lean client
// GETting the files whole (the readers bench's raw baseline). One Cairn process (one worker), or MinIO.
//   node --import tsx bench/readers/requests.ts [--reader pyarrow-whole] [--rounds 3] [--minio BIN | --bin CAIRN_JS]
//     [--kinds reader,replay,whole]
//     [--env NAME=VALUE] [--data-dir DIR] [--idle SECONDS]
// --idle leaves the server idle that long before each measured run, as the readers bench's turns do.
import { spawn } from 'node:child_process';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { objectPath, S3Client } from '../load/client.js';
import { table } from '../load/results.js';
import { DEFAULT_CAIRN_BIN, REPO, startCairn, startMinio, stopServer, type ServerProcess } from '../load/servers.js';
import { threads } from '../load/threads.js';

const { values: v } = parseArgs({
  options: {
    reader: { type: 'string', default: 'pyarrow-whole' },
    bin: { type: 'string', default: DEFAULT_CAIRN_BIN },
    kinds: { type: 'string', default: 'reader,replay,whole' },
    rounds: { type: 'string', default: '3' },
    minio: { type: 'string' },
    env: { type: 'string', multiple: true, default: [] },
    'data-dir': { type: 'string', default: join(tmpdir(), 'cairn-readers-data') },
    'drives-dir': { type: 'string', default: '/dev/shm' },
    idle: { type: 'string', default: '0' },
  },
});

const KEY = { accessKey: 'readers-req', secretKey: 'readers-req-secret-key' };
const BUCKET = 'readers-req';

/** One request the reader sent, as the proxy saw it. */
interface Seen {
  method: string;
  path: string;
  range: string;
  status: number;
  bytes: number;
  /** When the request arrived (ms, from the logged run's first request). */
  at: number;
  /** Time to the server's response head, and to its last byte (ms, from the request's arrival). */
  ttfb: number;
  ms: number;
  /** Of `ms`, how long the reader's socket was full (the proxy waited for the reader to read on). */
  held: number;
  inFlight: number;
  /** The reader's TCP connection that carried it (1 = its first). */
  conn: number;
}

/** A proxy to `target` that notes every request (for the one logged run; its CPU is not the server's). */
async function loggingProxy(
  target: URL,
): Promise<{ url: string; seen: Seen[]; connections: () => number; reset(): void; close(): void }> {
  const seen: Seen[] = [];
  let inFlight = 0;
  let connections = 0;
  let t0 = -1;
  const connOf = new WeakMap<object, number>();
  const server = createServer((req, res) => {
    const started = performance.now();
    if (t0 < 0) t0 = started;
    inFlight++;
    const s: Seen = {
      method: req.method!,
      path: req.url!.split('?')[0],
      range: String(req.headers.range ?? ''),
      at: started - t0,
      status: 0,
      bytes: 0,
      ttfb: 0,
      ms: 0,
      held: 0,
      inFlight,
      conn: connOf.get(req.socket) ?? 0,
    };
    if (req.url!.includes('?')) s.path += `?${req.url!.split('?')[1].split('&')[0]}`;
    const up = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (ur) => {
        s.status = ur.statusCode!;
        s.ttfb = performance.now() - started;
        res.writeHead(ur.statusCode!, ur.headers);
        // pipe by hand, to time how long the reader left its socket full (the body held up by the reader).
        let heldSince = 0;
        ur.on('data', (b: Buffer) => {
          s.bytes += b.length;
          if (res.write(b)) return;
          ur.pause();
          heldSince = performance.now();
          res.once('drain', () => {
            s.held += performance.now() - heldSince;
            ur.resume();
          });
        });
        ur.once('end', () => {
          res.end();
          inFlight--;
          s.ms = performance.now() - started;
          seen.push(s);
        });
      },
    );
    req.pipe(up);
  });
  server.on('connection', (socket) => connOf.set(socket, ++connections));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    connections: () => connections,
    /** Forget what was seen: the next request starts the clock. */
    reset: () => {
      seen.length = 0;
      t0 = -1;
    },
    close: () => server.close(),
  };
}

/** The light group's Python worker (bench/readers/worker.py), one JSON line each way. */
async function pythonWorker() {
  const venv = await new Promise<string>((res, rej) => {
    const c = spawn('bash', [join(REPO, 'scripts/analytics-venv.sh')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (b: Buffer) => (out += b.toString()));
    c.once('exit', (code) => (code === 0 ? res(out.trim().split('\n').pop()!) : rej(new Error('venv'))));
  });
  const child = spawn(join(venv, 'bin/python'), [join(REPO, 'bench/readers/worker.py'), 'light'], {
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    async ask<T>(req: object): Promise<T> {
      child.stdin.write(`${JSON.stringify(req)}\n`);
      const line = await lines.next();
      if (line.done) throw new Error('python worker exited');
      const a = JSON.parse(line.value) as T & { error?: string };
      if (a.error) throw new Error(a.error);
      return a;
    },
    close: () => child.kill(),
  };
}

const target = (name: string, endpoint: string) => ({
  name,
  endpoint,
  access_key: KEY.accessKey,
  secret_key: KEY.secretKey,
  region: 'us-east-1',
  bucket: BUCKET,
});

/** Sends `gets` ([path, range]) on `conns` connections of the lean client; bytes received. */
async function replay(url: string, gets: [string, string][], conns: number): Promise<number> {
  const client = new S3Client({ endpoint: url, ...KEY, region: 'us-east-1' });
  const cs = Array.from({ length: Math.min(conns, gets.length) }, () => client.connect());
  await Promise.all(cs.map((c) => c.warmUp()));
  let next = 0;
  let bytes = 0;
  try {
    await Promise.all(
      cs.map(async (c) => {
        for (let i = next++; i < gets.length; i = next++) {
          const [path, range] = gets[i];
          const res = await c.request({ method: 'GET', path, range: range || undefined });
          if (res.status >= 300) throw new Error(`GET ${path} ${range}: ${res.status}`);
          bytes += res.bytes;
        }
      }),
    );
  } finally {
    for (const c of cs) c.close();
  }
  return bytes;
}

/**
 * Where the logged run's wall time went: with no request in flight (the reader decoding, or between its
 * requests), with some in flight but none yet answered with a head (waiting for the server), and with
 * bodies streaming; and the reader's gaps between a response's end and its next request.
 */
function timeline(seen: Seen[]): string {
  const edges: [number, number, number][] = []; // [time, d in flight, d waiting for a head]
  for (const s of seen) {
    edges.push([s.at, 1, 1], [s.at + s.ttfb, 0, -1], [s.at + s.ms, -1, 0]);
  }
  edges.sort((a, b) => a[0] - b[0]);
  let inFlight = 0;
  let waiting = 0;
  let last = edges[0]?.[0] ?? 0;
  const spent = { idle: 0, headOnly: 0, body: 0 };
  for (const [t, f, w] of edges) {
    const dt = t - last;
    if (inFlight === 0) spent.idle += dt;
    else if (waiting === inFlight) spent.headOnly += dt;
    else spent.body += dt;
    inFlight += f;
    waiting += w;
    last = t;
  }
  const wall = last - (edges[0]?.[0] ?? 0);
  const ends = [...seen].sort((a, b) => a.at - b.at);
  const gaps: number[] = [];
  for (let k = 1; k < ends.length; k++) {
    const prevEnd = Math.max(...ends.slice(0, k).map((s) => s.at + s.ms));
    if (ends[k].at > prevEnd) gaps.push(ends[k].at - prevEnd);
  }
  const pct = (x: number) => `${x.toFixed(0)} ms (${((100 * x) / wall).toFixed(0)}%)`;
  const streamed = seen.reduce((n, s) => n + s.ms - s.ttfb, 0);
  const held = seen.reduce((n, s) => n + s.held, 0);
  return (
    `wall ${wall.toFixed(0)} ms: nothing in flight ${pct(spent.idle)}, every request in flight still waiting for ` +
    `its head ${pct(spent.headOnly)}, bodies streaming ${pct(spent.body)}; ${gaps.length} gaps with nothing in ` +
    `flight, median ${gaps.length ? median(gaps).toFixed(1) : '-'} ms, largest ${gaps.length ? Math.max(...gaps).toFixed(1) : '-'} ms; ` +
    `summed over requests: heads ${seen.reduce((n, s) => n + s.ttfb, 0).toFixed(0)} ms, bodies ${streamed.toFixed(0)} ms, ` +
    `of which the reader's socket was full ${held.toFixed(0)} ms (${((100 * held) / streamed).toFixed(0)}%)`
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const envOf = (list: string[]) =>
  Object.fromEntries(list.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
const server: ServerProcess = v.minio
  ? await startMinio(v.minio, v['drives-dir']!, KEY.accessKey, KEY.secretKey)
  : await startCairn([v.bin!], v['drives-dir']!, KEY.accessKey, KEY.secretKey, {
      CAIRN_WORKERS: '1',
      ...envOf(v.env!),
    });
const py = await pythonWorker();
const proxy = await loggingProxy(new URL(server.url));
try {
  const prepared = await py.ask<{ readers: Record<string, { ranges: [string, number, number][] }> }>({
    op: 'prepare',
    targets: [target('direct', server.url), target('proxied', proxy.url)],
    data_dir: v['data-dir'],
    scale: 1,
  });
  const whole = prepared.readers['pyarrow-whole'].ranges.map(
    ([key]) => [objectPath(BUCKET, key), ''] as [string, string],
  );
  await py.ask({ op: 'run', reader: v.reader, target: 'direct' }); // warm-up
  proxy.reset();
  const connsBefore = proxy.connections();
  await py.ask({ op: 'run', reader: v.reader, target: 'proxied' });
  const seen = [...proxy.seen];
  console.log(
    table([
      ['at ms', 'method', 'path', 'range', 'status', 'bytes', 'ttfb ms', 'ms', 'held ms', 'in flight', 'conn'],
      ...[...seen]
        .sort((a, b) => a.at - b.at)
        .map((s) => [
          s.at.toFixed(1),
          s.method,
          s.path,
          s.range,
          String(s.status),
          String(s.bytes),
          s.ttfb.toFixed(1),
          s.ms.toFixed(0),
          s.held.toFixed(0),
          String(s.inFlight),
          String(s.conn - connsBefore),
        ]),
    ]),
  );
  console.log(timeline(seen));
  const gets = seen
    .filter((s) => s.method === 'GET' && !s.path.includes('?'))
    .map((s) => [s.path, s.range] as [string, string]);
  const conns = Math.max(...seen.map((s) => s.inFlight));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(
    `${seen.length} requests on ${proxy.connections() - connsBefore} connections of the reader, ${gets.length} object GETs, up to ${conns} in flight; ` +
      `time to the response head median ${median(seen.map((s) => s.ttfb)).toFixed(1)} ms, mean ${mean(seen.map((s) => s.ttfb)).toFixed(1)} ms; ` +
      `load ${loadavg()[0].toFixed(1)}`,
  );

  const kinds: Record<string, () => Promise<number>> = {
    reader: async () => {
      await py.ask({ op: 'run', reader: v.reader, target: 'direct' });
      return seen.reduce((n, s) => n + s.bytes, 0);
    },
    replay: () => replay(server.url, gets, conns),
    whole: () => replay(server.url, whole, 8),
  };
  const perGB: Record<string, Record<string, number[]>> = {};
  const loads: number[] = [];
  const order = v.kinds!.split(',');
  for (let r = 0; r < Number(v.rounds); r++) {
    loads.push(loadavg()[0]);
    for (const kind of r % 2 ? [...order].reverse() : order) {
      // The readers bench leaves a server idle while the other server or a reader's decoding runs.
      await new Promise((res) => setTimeout(res, Number(v.idle) * 1000));
      const before = await threads(server.child.pid!);
      const bytes = await kinds[kind]();
      const after = await threads(server.child.pid!);
      const rows = (perGB[kind] ??= {});
      let total = 0;
      for (const [g, a] of Object.entries(after)) {
        const b = before[g] ?? { user: 0, sys: 0 };
        const s = (a.user - b.user + a.sys - b.sys) / (bytes / 1e9);
        (rows[g] ??= []).push(s);
        total += s;
      }
      (rows.total ??= []).push(total);
    }
  }
  const groups = [...new Set(Object.values(perGB).flatMap((r) => Object.keys(r)))].sort();
  console.log(
    table([
      ['thread', ...order],
      ...groups.map((g) => [g, ...order.map((k) => (perGB[k][g] ? median(perGB[k][g]).toFixed(3) : '-'))]),
    ]),
  );
  console.log(
    `${server.name}, server CPU-s per GB (10^9 bytes received), medians of ${v.rounds} rounds; load average (1 min) at each round: ${loads.map((l) => l.toFixed(1)).join(' ')}`,
  );
} finally {
  py.close();
  proxy.close();
  await stopServer(server, false);
}
