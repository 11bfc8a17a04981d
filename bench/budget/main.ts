// The CPU budget of a small request: event-loop microseconds per 4 KiB PUT (unsigned and signed aws-chunked,
// as warp and mc send it) and per 4 KiB GET, split by stage (--size for other objects, e.g. 64MiB). Cairn runs under `node --cpu-prof` (every
// process it starts writes a V8 CPU profile); bench/load drives it from worker threads of this process;
// the samples of each phase's window are summed by stage (profile.ts) and divided by its requests. The
// profiler samples by the wall clock, so on a busy machine it also counts the time the event loop waited
// for a core: the stages are its shares of the event loops' CPU time (main and worker threads) read from /proc over the window. The
// process CPU (event loop, libuv pool and V8's threads) is printed beside it.
//
//   node --import tsx bench/budget/main.ts [--duration 8s] [--concurrency 32] [--interval 200] [--json out.json]
//       [--size 4KiB --objects 2000] [--phases put,put-streaming,get]
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { PayloadMode } from '../load/client.js';
import type { LoadConfig } from '../load/config.js';
import { eventLoopSeconds, sampleTree } from '../load/procstat.js';
import { table } from '../load/results.js';
import { ensureBucket, prepareObjects, runPhase } from '../load/run.js';
import { cairnCommand, DEFAULT_CAIRN_BIN, startCairn, stopServer } from '../load/servers.js';
import { formatSize, parseDuration, parseSize } from '../load/units.js';
import { addProfile, type CpuProfile, emptyTimes, STAGES, type StageTimes } from './profile.js';

const OPTIONS = {
  duration: { type: 'string', default: '8s' },
  concurrency: { type: 'string', default: '32' },
  objects: { type: 'string', default: '2000' },
  size: { type: 'string', default: '4KiB' },
  /** Comma-separated phases to run (put, put-streaming, get); default all. */
  phases: { type: 'string' },
  /** Sampling interval of the profiler, microseconds. */
  interval: { type: 'string', default: '200' },
  'cairn-bin': { type: 'string', default: DEFAULT_CAIRN_BIN },
  'from-source': { type: 'boolean', default: false },
  'drives-dir': { type: 'string', default: '/dev/shm' },
  /** Extra server environment, NAME=value, comma-separated (e.g. CAIRN_WORKERS=1). */
  env: { type: 'string' },
  top: { type: 'string', default: '8' },
  /** List the functions the samples of every stage were taken in (default: only those of "other"). */
  detail: { type: 'boolean', default: false },
  json: { type: 'string' },
} as const;

interface Phase {
  id: string;
  name: string;
  mode: 'put' | 'get';
  payload: PayloadMode;
}

const PHASES: Phase[] = [
  { id: 'put', name: 'PUT', mode: 'put', payload: 'unsigned' },
  { id: 'put-streaming', name: 'PUT signed streaming', mode: 'put', payload: 'streaming' },
  { id: 'get', name: 'GET', mode: 'get', payload: 'unsigned' },
];

interface Measured {
  phase: string;
  requests: number;
  opsPerSec: number;
  errors: number;
  /** Server process tree CPU (/proc) per request, microseconds. */
  processUs: number;
  /** CPU of the server's event loops (main and worker threads) per request, microseconds. */
  mainUs: number;
  window: [number, number];
  times?: StageTimes;
}

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

async function main(argv: string[]): Promise<void> {
  const { values: v } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  const profDir = await mkdtemp(join(tmpdir(), 'cairn-budget-'));
  const env = Object.fromEntries((v.env ? v.env.split(',') : []).map((kv) => kv.split('=', 2) as [string, string]));
  const command = [
    '--cpu-prof',
    '--cpu-prof-dir',
    profDir,
    '--cpu-prof-interval',
    v.interval!,
    ...(await cairnCommand(v['cairn-bin']!, v['from-source']!)),
  ];
  const accessKey = 'cairn-budget';
  const secretKey = 'cairn-budget-secret';
  const server = await startCairn(command, v['drives-dir']!, accessKey, secretKey, env);
  const pid = server.child.pid!;
  const log = (l: string) => console.error(l);
  const results: Measured[] = [];
  const load = loadavg()[0];
  const size = parseSize(v.size!);
  const phases = v.phases ? PHASES.filter((p) => v.phases!.split(',').includes(p.id)) : PHASES;
  try {
    const base: LoadConfig = {
      name: '',
      mode: 'put',
      endpoint: server.url,
      accessKey,
      secretKey,
      region: 'us-east-1',
      bucket: 'budget',
      prefix: `budget-${formatSize(size)}/`,
      objSize: size,
      objects: Number(v.objects),
      concurrency: Number(v.concurrency),
      durationMs: parseDuration(v.duration!),
      rangeSize: 4096,
      rangeAlign: 1,
      getRatio: 0,
      listMaxKeys: 1000,
      workers: 0,
      prepare: false,
    };
    await ensureBucket(base);
    if (phases.some((p) => p.mode === 'get')) await prepareObjects({ ...base, name: 'prepare' }, log);
    for (const p of phases) {
      const cfg = { ...base, name: `${p.name} ${formatSize(size)}`, mode: p.mode, payload: p.payload };
      log(`${p.name}: ${cfg.durationMs / 1000} s at concurrency ${cfg.concurrency} ...`);
      const cpu0 = (await sampleTree(pid)).cpuSeconds;
      const main0 = await eventLoopSeconds(pid);
      const from = nowUs();
      const r = await runPhase(cfg);
      const to = nowUs();
      const cpu = (await sampleTree(pid)).cpuSeconds - cpu0;
      const main = (await eventLoopSeconds(pid)) - main0;
      const op = r.ops[p.mode]!;
      const requests = op.ops + op.errors;
      results.push({
        phase: cfg.name,
        requests,
        opsPerSec: op.opsPerSec,
        errors: op.errors,
        processUs: (cpu * 1e6) / requests,
        mainUs: (main * 1e6) / requests,
        window: [from, to],
      });
      log(`  ${op.opsPerSec.toFixed(0)} ops/s, ${op.errors} errors`);
    }
  } finally {
    await stopServer(server, false);
  }
  const profiles = (await readdir(profDir)).filter((f) => f.endsWith('.cpuprofile'));
  if (profiles.length === 0) throw new Error(`the server wrote no CPU profile in ${profDir}`);
  for (const f of profiles) {
    const profile = JSON.parse(await readFile(join(profDir, f), 'utf8')) as CpuProfile;
    for (const m of results) addProfile((m.times ??= emptyTimes()), profile, m.window[0], m.window[1]);
  }
  await rm(profDir, { recursive: true, force: true });
  print(results, Number(v.top), load, profiles.length, size, v.detail!);
  if (v.json) {
    const { writeFile } = await import('node:fs/promises');
    const out = results.map(({ times, ...m }) => ({
      ...m,
      eventLoopUsPerRequest: Object.fromEntries(
        STAGES.map((s) => [s, ((times?.us[s] ?? 0) / (times?.busyUs || 1)) * m.mainUs]),
      ),
    }));
    await writeFile(
      v.json,
      `${JSON.stringify({ tool: 'cairn-budget', createdAt: new Date().toISOString(), results: out }, null, 2)}\n`,
    );
  }
}

function print(results: Measured[], top: number, load: number, profiles: number, size: number, detail: boolean): void {
  // Small objects: microseconds per request; large ones: milliseconds per GiB moved.
  const perGiB = size >= 1 << 20;
  const per = (m: Measured, us: number) =>
    perGiB ? ((us / 1000) * (1024 ** 3 / (m.requests * size))).toFixed(0) : (us / m.requests).toFixed(1);
  // A stage's share of the profiled samples, applied to the event loops' CPU time.
  const share = (m: Measured, us: number) => per(m, (us / m.times!.busyUs) * m.mainUs * m.requests);
  const rows = [[perGiB ? 'event-loop ms per GiB' : 'event-loop µs per request', ...results.map((m) => m.phase)]];
  for (const s of STAGES) rows.push([s, ...results.map((m) => share(m, m.times!.us[s]))]);
  rows.push(['= event loop (main + worker threads, /proc)', ...results.map((m) => per(m, m.mainUs * m.requests))]);
  rows.push(['  (profiler samples, wall clock)', ...results.map((m) => per(m, m.times!.busyUs))]);
  rows.push(['process CPU (/proc, all threads)', ...results.map((m) => per(m, m.processUs * m.requests))]);
  rows.push(['ops/s', ...results.map((m) => m.opsPerSec.toFixed(0))]);
  rows.push(['requests (errors)', ...results.map((m) => `${m.requests} (${m.errors})`)]);
  console.log(
    `\nCairn, 4 drives, ${formatSize(size)} objects; ${profiles} profiled process(es); load average ${load.toFixed(1)} at start\n`,
  );
  console.log(table(rows));
  for (const m of results) {
    for (const stage of detail ? STAGES : (['other'] as const)) {
      const leaves = [...m.times!.leaves.get(stage)!].sort((a, b) => b[1] - a[1]).slice(0, top);
      if (leaves.length === 0) continue;
      console.log(`\n${m.phase}, ${stage}, by function (${perGiB ? 'ms per GiB' : 'µs per request'}):`);
      for (const [name, us] of leaves) console.log(`  ${share(m, us).padStart(7)}  ${name}`);
    }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).catch((err) => {
    console.error((err as Error).message);
    process.exit(1);
  });
}
