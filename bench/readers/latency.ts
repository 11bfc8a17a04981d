// Time to first byte and to last byte of single ranged GETs, Cairn and MinIO side by side (issue 23: DuckDB
// reads a Parquet file with one request at a time per file, mostly on a new connection each, so what it gets
// from a server is set by each request's latency, not by the server's throughput). The requests are DuckDB's
// (bench/readers/requests.ts --reader duckdb-httpfs): a 64 KiB footer at an object's end and 2.27 MB column
// chunks at any offset, each on a kept-alive connection and on a new one. The servers take turns request by
// request, so both see the same load.
//   node --import tsx bench/readers/latency.ts --minio BIN [--requests 200] [--bin CAIRN_JS] [--env NAME=VALUE]
//     [--workers 1] [--probe] [--cpu-prof DIR]
//   node --import tsx bench/readers/latency.ts --b-env NAME=VALUE [--b-bin CAIRN_JS] [--b-workers N] ...
// (a second Cairn, `cairn-b`, in MinIO's place: an A/B of a setting or a build under the same load).
// Beside the client's figures it prints, per server and thread group, the time its threads ran and waited on a
// run queue for a core (/proc schedstat) per request; --probe also loads loop-probe.mjs into Cairn's threads and
// prints each one's event-loop delay; --cpu-prof writes Cairn's CPU profiles (one per thread) into DIR.
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { objectPath, S3Client } from '../load/client.js';
import { table } from '../load/results.js';
import { DEFAULT_CAIRN_BIN, startCairn, startMinio, stopServer } from '../load/servers.js';
import { type Sched, schedDelta, schedstats } from '../load/threads.js';

const { values: v } = parseArgs({
  options: {
    bin: { type: 'string', default: DEFAULT_CAIRN_BIN },
    minio: { type: 'string' },
    requests: { type: 'string', default: '200' },
    env: { type: 'string', multiple: true, default: [] },
    'drives-dir': { type: 'string', default: '/dev/shm' },
    workers: { type: 'string', default: '1' },
    probe: { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    'b-bin': { type: 'string' },
    'b-env': { type: 'string', multiple: true, default: [] },
    'b-workers': { type: 'string' },
  },
});
const against = v['b-bin'] || v['b-env']!.length || v['b-workers'] ? 'cairn-b' : 'minio';
if (against === 'minio' && !v.minio) throw new Error('--minio BIN (or a second Cairn: --b-env, --b-bin) is required');

const KEY = { accessKey: 'readers-lat', secretKey: 'readers-lat-secret-key' };
const BUCKET = 'readers-lat';
const OBJECTS = 4;
const SIZE = 60_000_000; // the readers' Parquet files are ~60 MB
const FOOTER = 65_536;
const CHUNK = 2_271_805; // one column chunk of the light group's dataset

const envOf = (list: string[]) =>
  Object.fromEntries(list.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
const probeDir = v.probe ? await mkdtemp(join(tmpdir(), 'readers-probe-')) : undefined;
const nodeOptions = [
  ...(probeDir ? [`--import=${new URL('./loop-probe.mjs', import.meta.url).pathname}`] : []),
  ...(v['cpu-prof'] ? [`--cpu-prof`, `--cpu-prof-dir=${v['cpu-prof']}`] : []),
];
const servers = [
  await startCairn([v.bin!], v['drives-dir']!, KEY.accessKey, KEY.secretKey, {
    CAIRN_WORKERS: v.workers,
    ...(nodeOptions.length ? { NODE_OPTIONS: nodeOptions.join(' ') } : {}),
    ...(probeDir ? { CAIRN_BENCH_PROBE_DIR: probeDir } : {}),
    ...envOf(v.env!),
  }),
  against === 'minio'
    ? await startMinio(v.minio!, v['drives-dir']!, KEY.accessKey, KEY.secretKey)
    : Object.assign(
        await startCairn([v['b-bin'] ?? v.bin!], v['drives-dir']!, KEY.accessKey, KEY.secretKey, {
          CAIRN_WORKERS: v['b-workers'] ?? v.workers,
          ...envOf(v['b-env']!),
        }),
        { name: 'cairn-b' },
      ),
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
  const probe = () => servers[0].child.kill('SIGUSR2');
  /** One round: each server (turns flipping, so neither always goes first after the other) answers both kinds. */
  const round = async (i: number, record: boolean) => {
    const path = objectPath(BUCKET, `part-${i % OBJECTS}.parquet`);
    const at = 1_000_000 + ((i * 7919) % 40) * 1_000_003; // any offset, not on the 1 MiB block grid
    const asks: [string, string, number][] = [
      ['footer 64 KiB', `bytes=${SIZE - FOOTER}-${SIZE - 1}`, FOOTER],
      ['range 2.27 MB', `bytes=${at}-${at + CHUNK - 1}`, CHUNK],
    ];
    for (const si of i % 2 ? [1, 0] : [0, 1]) {
      for (const [name, range, expect] of asks) {
        const { head } = clients[si].build({ method: 'GET', path, range });
        const k = await timed(kept[si], head, expect);
        const fresh = await connect(new URL(servers[si].url));
        const f = await timed(fresh, head, expect);
        fresh.destroy();
        if (!record) continue;
        (got[`${servers[si].name}\0${name}\0kept`] ??= []).push(k);
        (got[`${servers[si].name}\0${name}\0new`] ??= []).push(f);
      }
    }
  };
  // A warm-up (JIT, buffer pools, the garbage the PUTs left), then the counters start.
  for (let i = 0; i < 10; i++) await round(i, false);
  if (probeDir) probe(); // what start-up, the PUTs and the warm-up left (each thread's file -0) is not shown
  const schedBefore = await Promise.all(servers.map((s) => schedstats(s.child.pid!)));
  const window = [process.hrtime.bigint() / 1000n];
  for (let i = 0; i < n; i++) {
    if (i % Math.max(1, Math.floor(n / 4)) === 0) loads.push(loadavg()[0]);
    await round(i, true);
  }
  const sched = await Promise.all(
    servers.map(async (s, i) => schedDelta(await schedstats(s.child.pid!), schedBefore[i])),
  );
  window.push(process.hrtime.bigint() / 1000n);
  if (probeDir) {
    probe(); // the measured rounds: each thread's file -1
    const count = async (n: number) => (await readdir(probeDir)).filter((f) => f.endsWith(`-${n}.json`)).length;
    for (let waited = 0; waited < 10_000 && (await count(1)) < (await count(0)); waited += 100)
      await new Promise((r) => setTimeout(r, 100));
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
  // Each server answered 4 GETs a round (two kinds, kept and new connections).
  const perRequest = (x: number) => (x / 1e6 / (4 * n)).toFixed(3);
  console.log(
    table([
      [
        'server',
        'threads',
        'on a core ms/request',
        'waiting for a core ms/request',
        'runs/request',
        'slept/request',
        'preempted/request',
      ],
      ...sched.flatMap((d: Sched, i) =>
        Object.entries(d)
          .filter(([, g]) => g.slices > 0)
          .map(([k, g]) => [
            servers[i].name,
            k,
            perRequest(g.runNs),
            perRequest(g.waitNs),
            (g.slices / (4 * n)).toFixed(2),
            (g.voluntary / (4 * n)).toFixed(2),
            (g.preempted / (4 * n)).toFixed(2),
          ]),
      ),
    ]),
  );
  // The profiles' sample times are on the same monotonic clock (µs): the measured rounds are this window.
  if (v['cpu-prof']) console.log(`measured rounds: monotonic µs ${window[0]} to ${window[1]}`);
  if (probeDir) {
    const rows: string[][] = [];
    const heads: string[][] = [];
    for (const f of (await readdir(probeDir)).filter((f) => f.endsWith('-1.json')).sort()) {
      const r = JSON.parse(await readFile(join(probeDir, f), 'utf8'));
      const d = r.delayMs;
      const h = r.toHead;
      if (h.requests > 0)
        heads.push([
          String(r.thread),
          String(h.requests),
          ...[h.wall.mean, h.wall.p50, h.wall.p90, h.cpu.mean, h.cpu.p50, h.cpu.p90].map((x: number) => x.toFixed(2)),
        ]);
      rows.push([
        `${r.thread}${r.main ? ' (main)' : ''}`,
        r.seconds.toFixed(1),
        String(r.samples),
        ...[d.mean, d.p50, d.p90, d.p99, d.max].map((x: number) => x.toFixed(2)),
        `${(d.over10 * 100).toFixed(1)}%`,
        `${(r.utilization * 100).toFixed(1)}%`,
        r.cpuSeconds.toFixed(2),
      ]);
    }
    console.log(
      table([
        ['thread', 's', 'samples', 'loop delay mean', 'p50', 'p90', 'p99', 'max', 'late > 10 ms', 'loop busy', 'cpu s'],
        ...rows,
      ]),
    );
    console.log('loop delay: ms a 10 ms timer of the thread fired late (perf_hooks.monitorEventLoopDelay)');
    console.log(
      table([['thread', 'requests', 'to head wall mean', 'p50', 'p90', 'thread cpu mean', 'p50', 'p90'], ...heads]),
    );
    console.log("to head: ms from a request's start (headers parsed) to its writeHead, inside the server");
    await rm(probeDir, { recursive: true, force: true });
  }
} finally {
  for (const s of servers) await stopServer(s, false);
}
