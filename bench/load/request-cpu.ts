// The fixed CPU cost of one GET request: one Cairn process (one worker) answering a loop of small requests
// (64 KiB ranges of a 64 MiB object, HEADs, whole 4 KiB GETs) on one connection, where the per-request path
// (HTTP parsing, routing, SigV4, authorization, the metadata read, response headers, pool dispatch) costs
// more than the bytes. Prints per kind the CPU milliseconds per request of the main thread (JavaScript) and
// of the whole process (with the libuv pool and the GC's helpers), medians of the rounds, and the load
// average. With --cpu-prof DIR the server runs under node's --cpu-prof and writes its profile there on exit
// (open it in Chrome's DevTools or read its self times with `--top`). Bodies are read and dropped; the
// client's CPU is not counted.
//   node --import tsx bench/load/request-cpu.ts [--bin server/bin/cairn.js] [--rounds 5] [--requests 400]
//     [--kinds range,head,small] [--cpu-prof DIR] [--top 30] [--perf FILE] [--node-arg=--trace-gc] [--keep]
//     [--env CAIRN_METADATA_CACHE_MS=1000]
// With --perf FILE, `perf record` samples the server's main thread's CPU time during the timed rounds (node
// runs with --perf-basic-prof, so JavaScript frames have names): `perf report -i FILE --no-children`.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { objectPath, S3Client, type S3Connection, type S3Request } from './client.js';
import { eventLoopSeconds, sampleTree } from './procstat.js';
import { table } from './results.js';
import { DEFAULT_CAIRN_BIN, startCairn, stopServer, type ServerProcess } from './servers.js';

const MiB = 1024 * 1024;
const KEY = { accessKey: 'request-cpu', secretKey: 'request-cpu-secret-key' };

const { values: v } = parseArgs({
  options: {
    bin: { type: 'string', default: DEFAULT_CAIRN_BIN },
    rounds: { type: 'string', default: '5' },
    requests: { type: 'string', default: '400' },
    kinds: { type: 'string', default: 'range,head,small' },
    'cpu-prof': { type: 'string' },
    perf: { type: 'string' },
    'node-arg': { type: 'string', multiple: true, default: [] },
    env: { type: 'string', multiple: true, default: [] },
    keep: { type: 'boolean', default: false },
    top: { type: 'string', default: '30' },
    'drives-dir': { type: 'string', default: '/dev/shm' },
  },
});

type Kind = 'range' | 'head' | 'small';
const kinds = v.kinds!.split(',') as Kind[];
for (const k of kinds) if (!['range', 'head', 'small'].includes(k)) throw new Error(`--kinds: unknown ${k}`);

function request(kind: Kind): S3Request {
  if (kind === 'head') return { method: 'HEAD', path: objectPath('bench', 'big') };
  if (kind === 'small') return { method: 'GET', path: objectPath('bench', 'small') };
  const start = Math.floor(Math.random() * (64 * MiB - 64 * 1024));
  return { method: 'GET', path: objectPath('bench', 'big'), range: `bytes=${start}-${start + 64 * 1024 - 1}` };
}

async function send(conn: S3Connection, r: S3Request): Promise<void> {
  const res = await conn.request(r);
  if (res.status >= 300) throw new Error(`${r.method} ${r.path}: ${res.status}`);
}

/** Self time per function (with its file and line) of a .cpuprofile, the top `n` by milliseconds. */
interface Profile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/**
 * Self time per function (with its file and line) of the samples taken while the timed requests ran (V8's
 * timestamps and process.hrtime both read CLOCK_MONOTONIC), the top `n` by milliseconds. The profiler
 * samples wall time: a sample taken while the thread waits for a core (a loaded machine) counts for the
 * frame it was preempted in, the napi call after a pool task's wake-up most of all.
 */
function topFrames(profile: Profile, windows: [number, number][], n: number): string[][] {
  const byId = new Map(profile.nodes.map((x) => [x.id, x.callFrame]));
  const self = new Map<string, number>();
  let total = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    if (!windows.some(([a, b]) => at >= a && at <= b)) return;
    const f = byId.get(id)!;
    const where = f.url ? `${f.url.replace(/^.*\/(server|node_modules)\//, '$1/')}:${f.lineNumber + 1}` : '';
    const name = `${f.functionName || '(anonymous)'} ${where}`.trim();
    const us = profile.timeDeltas[i + 1] ?? 0;
    self.set(name, (self.get(name) ?? 0) + us);
    total += us;
  });
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => [name, (us / 1000).toFixed(0), ((100 * us) / total).toFixed(1)]);
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const nowMicros = () => Number(process.hrtime.bigint() / 1000n);
const windows: [number, number][] = [];

const command = [
  ...(v['cpu-prof'] ? [`--cpu-prof`, `--cpu-prof-dir=${v['cpu-prof']}`] : []),
  ...(v.perf ? ['--perf-basic-prof'] : []),
  ...v['node-arg']!,
  v.bin!,
];
let server: ServerProcess | undefined;
const conn: { c?: S3Connection } = {};
try {
  server = await startCairn(command, v['drives-dir']!, KEY.accessKey, KEY.secretKey, {
    CAIRN_WORKERS: '1',
    ...Object.fromEntries(v.env!.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
  });
  const c = (conn.c = new S3Client({ endpoint: server.url, ...KEY, region: 'us-east-1' }).connect());
  await send(c, { method: 'PUT', path: objectPath('bench') });
  await send(c, { method: 'PUT', path: objectPath('bench', 'big'), body: randomBytes(64 * MiB) });
  await send(c, { method: 'PUT', path: objectPath('bench', 'small'), body: randomBytes(4096) });
  for (const k of kinds) for (let i = 0; i < 50; i++) await send(c, request(k)); // JIT warm-up
  const main: Record<string, number[]> = {};
  const all: Record<string, number[]> = {};
  const loads: number[] = [];
  const pid = server.child.pid!;
  // perf samples CPU time (not wall time) of the main thread only (its tid is the pid), timed rounds only.
  const perf = v.perf
    ? spawn('perf', ['record', '-e', 'cpu-clock', '-F', '2000', '-g', '-t', String(pid), '-o', v.perf])
    : undefined;
  if (perf) await new Promise((r) => setTimeout(r, 1000)); // perf attaches
  for (let r = 0; r < Number(v.rounds); r++) {
    loads.push(loadavg()[0]);
    for (const k of kinds) {
      const n = Number(v.requests);
      const [m0, t0] = [await eventLoopSeconds(pid), (await sampleTree(pid)).cpuSeconds];
      const w0 = nowMicros();
      for (let i = 0; i < n; i++) await send(c, request(k));
      windows.push([w0, nowMicros()]);
      const [m1, t1] = [await eventLoopSeconds(pid), (await sampleTree(pid)).cpuSeconds];
      (main[k] ??= []).push(((m1 - m0) * 1000) / n);
      (all[k] ??= []).push(((t1 - t0) * 1000) / n);
    }
  }
  if (perf) {
    const exited = new Promise((r) => perf.once('exit', r));
    perf.kill('SIGINT');
    await exited;
    console.log(`perf data of the main thread in ${v.perf}: perf report -i ${v.perf} --no-children --sort sym`);
  }
  const names: Record<Kind, string> = { range: 'GET 64 KiB range', head: 'HEAD', small: 'GET whole 4 KiB' };
  console.log(
    table([
      ['request', 'main CPU-ms', 'process CPU-ms'],
      ...kinds.map((k) => [names[k], median(main[k]).toFixed(3), median(all[k]).toFixed(3)]),
    ]),
  );
  console.log(
    `medians of ${v.rounds} rounds of ${v.requests}; load average (1 min) at each round: ${loads.map((l) => l.toFixed(1)).join(' ')}`,
  );
} finally {
  conn.c?.close();
  if (server) await stopServer(server, v.keep!);
}
if (v['cpu-prof']) {
  const files = (await readdir(v['cpu-prof'])).filter((f) => f.endsWith('.cpuprofile')).sort();
  if (files.length > 0) {
    const newest = join(v['cpu-prof'], files[files.length - 1]);
    const profile = JSON.parse(await readFile(newest, 'utf8')) as Profile;
    console.log(`\n${newest}: top self times while the timed requests ran (ms, % of those samples)`);
    console.log(table([['frame', 'ms', '%'], ...topFrames(profile, windows, Number(v.top))]));
  }
}
