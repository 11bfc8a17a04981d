// The standard suite: starts Cairn on its default 4-drive layout (drives in a temporary folder under
// /dev/shm, a free port, credentials in the environment), runs 64 MiB PUT/GET (and 8 MiB ranged GETs of
// them) and 4 KiB PUT/GET at concurrency 32, samples the server's RSS throughout and prints one table of
// results beside targets.
//   node --import tsx bench/load/suite.ts [--duration 20s] [--json out.json] [--from-source] [--keep] [--phases a,b]
//     [--workers N] [--worker-mode processes|threads]
//   node --import tsx bench/load/suite.ts --tls ...   (Cairn over HTTPS: a throw-away CA and certificate, openssl)
//   node --import tsx bench/load/suite.ts --sse-s3 ...   (every object encrypted: a throw-away KMS key)
//   node --import tsx bench/load/suite.ts --endpoint URL --access-key K --secret-key S [--server-pid PID]
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { LoadConfig } from './config.js';
import { ProcSampler, pssTree, sampleTree } from './procstat.js';
import type { RunResult } from './results.js';
import { errorReport, runTable, table, writeResults } from './results.js';
import { ensureBucket, prepareObjects, runPhase } from './run.js';
import { parseDuration } from './units.js';
import { cairnCommand, DEFAULT_CAIRN_BIN, type ServerProcess, startCairn, stopServer } from './servers.js';

const MiB = 1024 ** 2;

interface Target {
  run: string;
  what: string;
  value: (r: RunResult) => number;
  min: number;
  unit: string;
}

const TARGETS: Target[] = [
  { run: 'get-64MiB', what: '64 MiB GET', value: (r) => (r.ops.get?.mibPerSec ?? 0) / 1024, min: 2.5, unit: 'GiB/s' },
  { run: 'put-64MiB', what: '64 MiB PUT', value: (r) => (r.ops.put?.mibPerSec ?? 0) / 1024, min: 1, unit: 'GiB/s' },
  { run: 'put-4KiB', what: '4 KiB PUT c32', value: (r) => r.ops.put?.opsPerSec ?? 0, min: 3000, unit: 'ops/s' },
  { run: 'get-4KiB', what: '4 KiB GET c32', value: (r) => r.ops.get?.opsPerSec ?? 0, min: 8000, unit: 'ops/s' },
];
// Issue 14: all workers together under the suite, and the idle server (sampled before the first run).
const RSS_LIMIT = 600e6;
const IDLE_RSS_LIMIT = 150e6;
/** An aligned 8 MiB ranged GET may cost at most this times the server CPU per byte of a whole 64 MiB GET. */
const RANGE_CPU_LIMIT = 1.1;

/** Server CPU seconds per GiB a GET phase delivered, as the run table counts it (undefined: no pid or bytes). */
function cpuPerGiB(r: RunResult | undefined): number | undefined {
  const bytes = r?.ops.get?.bytes;
  return r?.serverCores === undefined || !bytes ? undefined : (r.serverCores * r.seconds) / (bytes / 1024 ** 3);
}

const OPTIONS = {
  endpoint: { type: 'string' },
  'access-key': { type: 'string', default: 'cairn-load' },
  'secret-key': { type: 'string', default: 'cairn-load-secret-key' },
  region: { type: 'string', default: 'us-east-1' },
  bucket: { type: 'string', default: 'load' },
  'server-pid': { type: 'string' },
  duration: { type: 'string', default: '20s' },
  'big-concurrency': { type: 'string', default: '8' },
  'drives-dir': { type: 'string', default: '/dev/shm' },
  'cairn-bin': { type: 'string', default: DEFAULT_CAIRN_BIN },
  'from-source': { type: 'boolean', default: false },
  json: { type: 'string' },
  /** cairn server --workers (default: the server's own default, one per core). */
  workers: { type: 'string' },
  /** cairn server --worker-mode (CAIRN_WORKER_MODE; default the server's, processes). */
  'worker-mode': { type: 'string' },
  /** Comma-separated run names to keep (e.g. get-64MiB,put-4KiB); default all. */
  phases: { type: 'string' },
  keep: { type: 'boolean', default: false },
  /** Serve Cairn over HTTPS (ECDSA P-256 certificate from a throw-away CA); the generator trusts that CA. */
  tls: { type: 'boolean', default: false },
  /** Encrypt every object (SSE-S3 auto-encryption with a throw-away static KMS key). */
  'sse-s3': { type: 'boolean', default: false },
} as const;

export async function runSuite(argv: string[]): Promise<void> {
  const { values: v } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  const durationMs = parseDuration(v.duration!);
  let cairn: ServerProcess | undefined;
  const endpoint =
    v.endpoint ??
    (cairn = await startCairn(
      await cairnCommand(v['cairn-bin']!, v['from-source']!),
      v['drives-dir']!,
      v['access-key']!,
      v['secret-key']!,
      {
        ...(v['sse-s3']
          ? { CAIRN_KMS_SECRET_KEY: `bench:${randomBytes(32).toString('base64')}`, CAIRN_KMS_AUTO_ENCRYPTION: 'on' }
          : {}),
        ...(v.workers ? { CAIRN_WORKERS: v.workers } : {}),
        ...(v['worker-mode'] ? { CAIRN_WORKER_MODE: v['worker-mode'] } : {}),
      },
      v.tls!,
    )).url;
  const pid = cairn?.child.pid ?? (v['server-pid'] ? Number(v['server-pid']) : undefined);
  const sampler = pid ? new ProcSampler(pid) : undefined;
  sampler?.start();
  const big = Number(v['big-concurrency']);
  const common = {
    endpoint,
    ca: cairn?.ca,
    accessKey: v['access-key']!,
    secretKey: v['secret-key']!,
    region: v.region!,
    bucket: v.bucket!,
    durationMs,
    rangeSize: 8 * MiB,
    rangeAlign: 1,
    getRatio: 0.8,
    listMaxKeys: 1000,
    workers: 0,
    prepare: false,
  };
  const phases: LoadConfig[] = [
    {
      ...common,
      name: 'put-64MiB',
      mode: 'put',
      prefix: 'suite-64MiB/',
      objSize: 64 * MiB,
      objects: 8,
      concurrency: big,
    },
    // No target: the same PUTs signed as minio-go, mc and warp send them on plain HTTP (aws-chunked, a
    // signature per 64 KiB chunk); the aim is the unsigned figure.
    {
      ...common,
      name: 'put-64MiB-streaming',
      mode: 'put',
      prefix: 'suite-64MiB/',
      objSize: 64 * MiB,
      objects: 8,
      concurrency: big,
      payload: 'streaming',
    },
    {
      ...common,
      name: 'get-64MiB',
      mode: 'get',
      prefix: 'suite-64MiB/',
      objSize: 64 * MiB,
      objects: 8,
      concurrency: big,
    },
    // No target: how 8 MiB ranged readers (Parquet column chunks, ML loaders) fare on the same objects.
    {
      ...common,
      name: 'get-range-8MiB',
      mode: 'get-range',
      prefix: 'suite-64MiB/',
      objSize: 64 * MiB,
      objects: 8,
      concurrency: 2 * big,
    },
    // The same on a grid of 8 MiB, as s3torchconnector and the CRT ask for the parts of an object: the server
    // CPU per byte of these against get-64MiB's is a target (RANGE_CPU_LIMIT).
    {
      ...common,
      name: 'get-range-8MiB-aligned',
      mode: 'get-range',
      prefix: 'suite-64MiB/',
      objSize: 64 * MiB,
      objects: 8,
      concurrency: 2 * big,
      rangeAlign: 8 * MiB,
    },
    { ...common, name: 'put-4KiB', mode: 'put', prefix: 'suite-4KiB/', objSize: 4096, objects: 5000, concurrency: 32 },
    {
      ...common,
      name: 'put-4KiB-streaming',
      mode: 'put',
      prefix: 'suite-4KiB/',
      objSize: 4096,
      objects: 5000,
      concurrency: 32,
      payload: 'streaming',
    },
    { ...common, name: 'get-4KiB', mode: 'get', prefix: 'suite-4KiB/', objSize: 4096, objects: 5000, concurrency: 32 },
  ];
  if (v.phases) {
    const want = new Set(v.phases.split(','));
    const unknown = [...want].filter((n) => !phases.some((p) => p.name === n));
    if (unknown.length)
      throw new Error(`unknown phase ${unknown.join(', ')}; phases: ${phases.map((p) => p.name).join(', ')}`);
    phases.splice(0, phases.length, ...phases.filter((p) => want.has(p.name)));
  }
  const runs: RunResult[] = [];
  const log = (l: string) => console.error(l);
  let idleRss: number | undefined;
  let idlePss: number | undefined;
  const loads: string[] = [];
  try {
    await ensureBucket(phases[0]);
    if (pid) {
      idleRss = (await sampleTree(pid)).rssBytes;
      // RSS sums count pages the workers share (the node binary) once per process; PSS splits them.
      idlePss = await pssTree(pid);
    }
    let written = 0; // objects of the previous PUT phase that surely exist (every key written once)
    for (const cfg of phases) {
      // A GET phase reads what the PUT phase before it wrote; if that phase wrote too few, top up first.
      if (cfg.mode !== 'put' && written < cfg.objects) {
        await prepareObjects(cfg, log);
        written = cfg.objects;
      }
      if (sampler) sampler.label = cfg.name;
      const cpu0 = await sampler?.cpuSeconds();
      loads.push(`${cfg.name} ${loadavg()[0].toFixed(1)}`);
      log(
        `${cfg.name}: ${cfg.durationMs / 1000} s at concurrency ${cfg.concurrency}, load average ${loadavg()[0].toFixed(1)} ...`,
      );
      const r = await runPhase(cfg);
      if (sampler && cpu0 !== undefined) r.serverCores = ((await sampler.cpuSeconds()) - cpu0) / r.seconds;
      runs.push(r);
      log(runTable([r]).split('\n').slice(-1)[0]);
      // Keys are handed out in order and every started PUT is waited for, so an error-free PUT phase of
      // at least `objects` operations wrote every key.
      if (cfg.mode === 'put') written = r.ops.put?.errors ? 0 : (r.ops.put?.ops ?? 0);
    }
  } finally {
    sampler?.stop();
    if (cairn) await stopServer(cairn, v.keep!);
  }

  const rows = [['', 'target', 'result', 'verdict']];
  for (const t of TARGETS) {
    const r = runs.find((x) => x.name === t.run);
    if (!r && v.phases) continue; // not selected
    const val = r ? t.value(r) : 0;
    const errors = r ? Object.values(r.ops).reduce((n, s) => n + (s?.errors ?? 0), 0) : 0;
    rows.push([
      t.what,
      `>= ${t.min} ${t.unit}`,
      `${val.toFixed(t.unit === 'GiB/s' ? 2 : 0)} ${t.unit}`,
      (val >= t.min ? 'PASS' : 'FAIL') + (errors ? ` (${errors} errors)` : ''),
    ]);
  }
  if (sampler) {
    rows.push([
      'server RSS max',
      `< ${RSS_LIMIT / 1e6} MB`,
      `${(sampler.maxBytes / 1e6).toFixed(0)} MB`,
      sampler.samples === 0 ? 'no samples' : sampler.maxBytes < RSS_LIMIT ? 'PASS' : 'FAIL',
    ]);
    if (idleRss !== undefined)
      rows.push([
        'server RSS idle',
        `< ${IDLE_RSS_LIMIT / 1e6} MB`,
        `${(idleRss / 1e6).toFixed(0)} MB${idlePss ? ` (PSS ${(idlePss / 1e6).toFixed(0)} MB)` : ''}`,
        idleRss < IDLE_RSS_LIMIT ? 'PASS' : 'FAIL',
      ]);
  } else {
    rows.push(['server RSS max', `< ${RSS_LIMIT / 1e6} MB`, 'n/a', 'pass --server-pid to sample']);
  }
  const whole = cpuPerGiB(runs.find((x) => x.name === 'get-64MiB'));
  const ranged = cpuPerGiB(runs.find((x) => x.name === 'get-range-8MiB-aligned'));
  if (whole !== undefined && ranged !== undefined) {
    rows.push([
      'server CPU/byte, 8 MiB aligned range vs whole GET',
      `<= ${RANGE_CPU_LIMIT}x`,
      `${(ranged / whole).toFixed(2)}x (${ranged.toFixed(2)} vs ${whole.toFixed(2)} CPU-s/GiB)`,
      ranged / whole <= RANGE_CPU_LIMIT ? 'PASS' : 'FAIL',
    ]);
  }
  console.log(
    `\nendpoint ${endpoint}${cairn ? ` (Cairn, 4 drives under ${v['drives-dir']})` : ''}, ${durationMs / 1000} s per run\n`,
  );
  console.log(runTable(runs));
  const errors = errorReport(runs);
  if (errors) console.log(`\n${errors}`);
  console.log(`\n${table(rows)}`);
  console.log(`load average (1 min) at each run's start: ${loads.join(', ')}`);
  if (sampler) {
    console.log(
      `RSS max per run (MB): ${Object.entries(sampler.perLabelMax)
        .map(([k, b]) => `${k} ${(b / 1e6).toFixed(0)}`)
        .join(', ')}`,
    );
  }
  if (v.json) {
    await writeResults(
      v.json,
      runs,
      sampler
        ? {
            rss: {
              maxBytes: sampler.maxBytes,
              samples: sampler.samples,
              perRunMaxBytes: sampler.perLabelMax,
              ...(idleRss !== undefined ? { idleBytes: idleRss } : {}),
              ...(idlePss !== undefined ? { idlePssBytes: idlePss } : {}),
            },
          }
        : {},
    );
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  runSuite(process.argv.slice(2)).catch((err) => {
    console.error((err as Error).message);
    process.exit(1);
  });
}
