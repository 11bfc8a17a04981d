// Cairn beside MinIO under warp (MinIO's own S3 load generator): the four workloads of issue 14, each run on
// both servers one after the other (the order alternates by round), and a table of Cairn / MinIO ratios with
// each server's CPU per GiB and per 1,000 operations over warp's measured window.
//
//   node --import tsx bench/warp/main.ts --warp /path/to/warp --minio-bin /path/to/minio
//       starts both servers itself, each on 4 drives in a temporary folder under /dev/shm (EC 2+2)
//   node --import tsx bench/warp/main.ts --warp /path/to/warp \
//       --cairn http://127.0.0.1:9000 --cairn-pid PID --minio http://127.0.0.1:9001 --minio-pid PID
//       against servers already running (credentials: --cairn-access-key ... or the defaults below); a pid
//       list (`--cairn-pid 11,12,13,14`) sums the CPU of several processes: the nodes of a distributed
//       deployment (bench/warp/cluster.sh)
//
// warp's data files (`--benchdata`) go to a temporary folder outside the repository (--data-dir to keep them).
// Neither warp nor MinIO is kept or built here: see README.md.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sampleTree } from '../load/procstat.js';
import { table } from '../load/results.js';
import {
  cairnCommand,
  DEFAULT_CAIRN_BIN,
  type ServerProcess,
  startCairn,
  startMinio,
  stopServer,
} from '../load/servers.js';
import { parseDuration } from '../load/units.js';
import { parseAverage, parseSegments, Samples } from './analysis.js';

interface Workload {
  name: string;
  /** warp's command, and the operation its analysis reports. */
  command: 'get' | 'put';
  op: 'GET' | 'PUT';
  size: string;
  concurrent: number;
  /** Objects a GET benchmark uploads first (warp's preparation, not measured). */
  objects?: number;
}

const WORKLOADS: Workload[] = [
  { name: 'GET 64 MiB c4', command: 'get', op: 'GET', size: '64MiB', concurrent: 4, objects: 8 },
  { name: 'PUT 64 MiB c4', command: 'put', op: 'PUT', size: '64MiB', concurrent: 4 },
  { name: 'GET 4 KiB c32', command: 'get', op: 'GET', size: '4KiB', concurrent: 32, objects: 2500 },
  { name: 'PUT 4 KiB c32', command: 'put', op: 'PUT', size: '4KiB', concurrent: 32 },
];

const OPTIONS = {
  warp: { type: 'string' },
  'minio-bin': { type: 'string' },
  cairn: { type: 'string' },
  'cairn-pid': { type: 'string' },
  'cairn-access-key': { type: 'string', default: 'cairn-warp' },
  'cairn-secret-key': { type: 'string', default: 'cairn-warp-secret-key' },
  minio: { type: 'string' },
  'minio-pid': { type: 'string' },
  'minio-access-key': { type: 'string', default: 'minio-warp' },
  'minio-secret-key': { type: 'string', default: 'minio-warp-secret-key' },
  'cairn-bin': { type: 'string', default: DEFAULT_CAIRN_BIN },
  'from-source': { type: 'boolean', default: false },
  'drives-dir': { type: 'string', default: '/dev/shm' },
  'data-dir': { type: 'string' },
  duration: { type: 'string', default: '15s' },
  rounds: { type: 'string', default: '1' },
  /** Comma-separated workload numbers (1-4, in the order of the table); default all. */
  workloads: { type: 'string' },
  keep: { type: 'boolean', default: false },
  json: { type: 'string' },
} as const;

interface Target {
  name: string;
  url: string;
  accessKey: string;
  secretKey: string;
  /** The server's processes (their trees' CPU is summed). */
  pids: number[];
}

interface Measured {
  workload: string;
  server: string;
  round: number;
  mibPerSec: number;
  objPerSec: number;
  seconds: number;
  errors: number;
  /** Server CPU (all its processes) over the measured window, in seconds; NaN without a pid. */
  cpuSeconds: number;
  load1: number;
}

function run(file: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

async function measure(
  warp: string,
  w: Workload,
  t: Target,
  durationMs: number,
  dataDir: string,
  round: number,
): Promise<Measured> {
  const data = join(dataDir, `${t.name}-${w.command}-${w.size}-c${w.concurrent}-r${round}`);
  const args = [
    w.command,
    '--no-color',
    '--host',
    new URL(t.url).host,
    '--access-key',
    t.accessKey,
    '--secret-key',
    t.secretKey,
    '--bucket',
    'warp-bench',
    '--obj.size',
    w.size,
    '--concurrent',
    String(w.concurrent),
    '--duration',
    `${Math.round(durationMs / 1000)}s`,
    '--benchdata',
    data,
    ...(w.objects ? ['--objects', String(w.objects)] : []),
  ];
  const load1 = loadavg()[0];
  const cpu = new Samples();
  const sample = async () => {
    if (t.pids.length === 0) return;
    const trees = await Promise.all(t.pids.map(sampleTree));
    cpu.add(
      Date.now(),
      trees.reduce((n, tree) => n + tree.cpuSeconds, 0),
    );
  };
  await sample();
  const timer = setInterval(() => void sample(), 250);
  const res = await run(warp, args).finally(() => clearInterval(timer));
  await sample();
  if (res.code !== 0) throw new Error(`warp ${args.join(' ')} failed (${res.code}):\n${res.out.slice(-3000)}`);
  const segments = `${data}.segments.tsv`;
  const analysed = await run(warp, [
    'analyze',
    '--no-color',
    '--analyze.op',
    w.op,
    '--analyze.out',
    segments,
    `${data}.csv.zst`,
  ]);
  if (analysed.code !== 0) throw new Error(`warp analyze failed (${analysed.code}):\n${analysed.out.slice(-3000)}`);
  const avg = parseAverage(analysed.out);
  const window = parseSegments(await readFile(segments, 'utf8'));
  return {
    workload: w.name,
    server: t.name,
    round,
    mibPerSec: avg.mibPerSec,
    objPerSec: avg.objPerSec,
    seconds: (window.end - window.start) / 1000,
    errors: window.errors,
    cpuSeconds: t.pids.length > 0 ? cpu.at(window.end) - cpu.at(window.start) : Number.NaN,
    load1,
  };
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);
const fmt = (x: number, digits = 0) =>
  Number.isFinite(x)
    ? x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '-';

/** CPU seconds per GiB moved and per 1,000 operations, over the measured windows of `runs`. */
function cpuPer(runs: Measured[]): { perGiB: number; per1k: number; cores: number } {
  const cpu = runs.reduce((n, r) => n + r.cpuSeconds, 0);
  const gib = runs.reduce((n, r) => n + (r.mibPerSec * r.seconds) / 1024, 0);
  const ops = runs.reduce((n, r) => n + r.objPerSec * r.seconds, 0);
  const secs = runs.reduce((n, r) => n + r.seconds, 0);
  return { perGiB: cpu / gib, per1k: (1000 * cpu) / ops, cores: cpu / secs };
}

function report(results: Measured[], names: [string, string]): string {
  const [a, b] = names;
  const rows = [
    [
      'workload',
      `${a} MiB/s`,
      `${b} MiB/s`,
      `${a} obj/s`,
      `${b} obj/s`,
      `${a} / ${b}`,
      `${a} cores`,
      `${b} cores`,
      `${a} CPU s/GiB`,
      `${b} CPU s/GiB`,
      `${a} CPU s/1k ops`,
      `${b} CPU s/1k ops`,
      'load1',
    ],
  ];
  for (const w of WORKLOADS) {
    const ra = results.filter((r) => r.workload === w.name && r.server === a);
    const rb = results.filter((r) => r.workload === w.name && r.server === b);
    if (ra.length === 0 && rb.length === 0) continue;
    const [ca, cb] = [cpuPer(ra), cpuPer(rb)];
    const [ma, mb] = [mean(ra.map((r) => r.mibPerSec)), mean(rb.map((r) => r.mibPerSec))];
    const [oa, ob] = [mean(ra.map((r) => r.objPerSec)), mean(rb.map((r) => r.objPerSec))];
    const small = w.size.endsWith('KiB');
    rows.push([
      w.name,
      fmt(ma, small ? 1 : 0),
      fmt(mb, small ? 1 : 0),
      fmt(oa, small ? 0 : 2),
      fmt(ob, small ? 0 : 2),
      fmt(oa / ob, 2),
      fmt(ca.cores, 2),
      fmt(cb.cores, 2),
      fmt(ca.perGiB, 2),
      fmt(cb.perGiB, 2),
      fmt(ca.per1k, 2),
      fmt(cb.per1k, 2),
      [...ra, ...rb].map((r) => r.load1.toFixed(1)).join(' '),
    ]);
  }
  return table(rows);
}

async function main(argv: string[]): Promise<void> {
  const { values: v } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  if (!v.warp) throw new Error('--warp PATH (a warp binary) is required');
  if (!v.minio && !v['minio-bin'])
    throw new Error('--minio URL (running) or --minio-bin PATH (to start one) is required');
  const durationMs = parseDuration(v.duration!);
  const rounds = Number(v.rounds);
  const chosen = v.workloads ? v.workloads.split(',').map((n) => WORKLOADS[Number(n) - 1]) : WORKLOADS;
  if (chosen.some((w) => !w)) throw new Error(`--workloads takes numbers 1-${WORKLOADS.length}`);
  const dataDir = v['data-dir'] ?? (await mkdtemp(join(tmpdir(), 'cairn-warp-')));
  await mkdir(dataDir, { recursive: true });
  const started: ServerProcess[] = [];
  const log = (l: string) => console.error(l);
  try {
    const target = async (name: 'cairn' | 'minio'): Promise<Target> => {
      const url = v[name];
      const accessKey = v[`${name}-access-key`]!;
      const secretKey = v[`${name}-secret-key`]!;
      if (url) {
        const pids = (v[`${name}-pid`] ?? '').split(',').filter(Boolean).map(Number);
        if (pids.some((p) => !Number.isInteger(p) || p <= 0)) throw new Error(`--${name}-pid takes pids: 11,12,...`);
        return { name, url, accessKey, secretKey, pids };
      }
      const s =
        name === 'cairn'
          ? await startCairn(
              await cairnCommand(v['cairn-bin']!, v['from-source']!),
              v['drives-dir']!,
              accessKey,
              secretKey,
            )
          : await startMinio(v['minio-bin']!, v['drives-dir']!, accessKey, secretKey);
      started.push(s);
      log(`${name} started at ${s.url} (drives in ${s.dir})`);
      return { name, url: s.url, accessKey, secretKey, pids: s.child.pid ? [s.child.pid] : [] };
    };
    const targets = [await target('cairn'), await target('minio')];
    const results: Measured[] = [];
    const failed: string[] = [];
    for (const w of chosen) {
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 === 0 ? targets : [...targets].reverse();
        for (const t of order) {
          log(`${w.name} on ${t.name} (round ${round + 1}) ...`);
          // A run warp cannot analyse (too few samples in a short run) is reported and left out, not fatal.
          const m = await measure(v.warp, w, t, durationMs, dataDir, round).catch((e: Error) => {
            log(`  failed: ${e.message.split('\n').slice(0, 6).join(' | ')}`);
            failed.push(`${w.name} ${t.name} round ${round + 1}`);
          });
          if (!m) continue;
          log(
            `  ${fmt(m.mibPerSec, 1)} MiB/s, ${fmt(m.objPerSec, 1)} obj/s, ${fmt(m.cpuSeconds / m.seconds, 2)} cores, ` +
              `${m.errors} errors, load ${m.load1.toFixed(1)}`,
          );
          results.push(m);
        }
      }
    }
    console.log(
      `\nwarp ${v.warp}, ${durationMs / 1000} s per run, ${rounds} round(s); ratio = ${targets[0].name} / ${targets[1].name} ` +
        'objects per second (warp analyze --analyze.op: preparation excluded); CPU = server processes over the measured window\n',
    );
    console.log(report(results, ['cairn', 'minio']));
    if (failed.length) console.log(`\nnot measured (see above): ${failed.join(', ')}`);
    const errors = results.filter((r) => r.errors > 0);
    if (errors.length)
      console.log(`\nerrors: ${errors.map((r) => `${r.workload} ${r.server}: ${r.errors}`).join(', ')}`);
    if (v.json) {
      const { writeFile } = await import('node:fs/promises');
      await writeFile(
        v.json,
        `${JSON.stringify({ tool: 'cairn-warp', createdAt: new Date().toISOString(), results }, null, 2)}\n`,
      );
    }
  } finally {
    for (const s of started) await stopServer(s, v.keep!);
    if (!v['data-dir']) await rm(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).catch((err) => {
    console.error((err as Error).message);
    process.exit(1);
  });
}
