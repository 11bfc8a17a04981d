// The CPU budget of a small request: event-loop microseconds per 4 KiB PUT (unsigned and signed aws-chunked,
// as warp and mc send it) and per 4 KiB GET, split by stage. Cairn runs under `node --cpu-prof` (every
// process it starts writes a V8 CPU profile); bench/load drives it from worker threads of this process;
// the samples of each phase's window are summed by stage (profile.ts) and divided by its requests. The
// process CPU from /proc (event loop, libuv pool and V8's threads) is printed beside it.
//
//   node --import tsx bench/budget/main.ts [--duration 8s] [--concurrency 32] [--interval 200] [--json out.json]
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { PayloadMode } from '../load/client.js';
import type { LoadConfig } from '../load/config.js';
import { sampleTree } from '../load/procstat.js';
import { table } from '../load/results.js';
import { ensureBucket, prepareObjects, runPhase } from '../load/run.js';
import { cairnCommand, DEFAULT_CAIRN_BIN, startCairn, stopServer } from '../load/servers.js';
import { parseDuration } from '../load/units.js';
import { addProfile, type CpuProfile, emptyTimes, STAGES, type StageTimes } from './profile.js';

const OPTIONS = {
  duration: { type: 'string', default: '8s' },
  concurrency: { type: 'string', default: '32' },
  objects: { type: 'string', default: '2000' },
  /** Sampling interval of the profiler, microseconds. */
  interval: { type: 'string', default: '200' },
  'cairn-bin': { type: 'string', default: DEFAULT_CAIRN_BIN },
  'from-source': { type: 'boolean', default: false },
  'drives-dir': { type: 'string', default: '/dev/shm' },
  /** Extra server environment, NAME=value, comma-separated (e.g. CAIRN_WORKERS=1). */
  env: { type: 'string' },
  top: { type: 'string', default: '8' },
  json: { type: 'string' },
} as const;

interface Phase {
  name: string;
  mode: 'put' | 'get';
  payload: PayloadMode;
}

const PHASES: Phase[] = [
  { name: 'PUT 4 KiB', mode: 'put', payload: 'unsigned' },
  { name: 'PUT 4 KiB signed streaming', mode: 'put', payload: 'streaming' },
  { name: 'GET 4 KiB', mode: 'get', payload: 'unsigned' },
];

interface Measured {
  phase: string;
  requests: number;
  opsPerSec: number;
  errors: number;
  /** Server process tree CPU (/proc) per request, microseconds. */
  processUs: number;
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
  try {
    const base: LoadConfig = {
      name: '',
      mode: 'put',
      endpoint: server.url,
      accessKey,
      secretKey,
      region: 'us-east-1',
      bucket: 'budget',
      prefix: 'budget-4KiB/',
      objSize: 4096,
      objects: Number(v.objects),
      concurrency: Number(v.concurrency),
      durationMs: parseDuration(v.duration!),
      rangeSize: 4096,
      getRatio: 0,
      listMaxKeys: 1000,
      workers: 0,
      prepare: false,
    };
    await ensureBucket(base);
    await prepareObjects({ ...base, name: 'prepare' }, log);
    for (const p of PHASES) {
      const cfg = { ...base, name: p.name, mode: p.mode, payload: p.payload };
      log(`${p.name}: ${cfg.durationMs / 1000} s at concurrency ${cfg.concurrency} ...`);
      const cpu0 = (await sampleTree(pid)).cpuSeconds;
      const from = nowUs();
      const r = await runPhase(cfg);
      const to = nowUs();
      const cpu = (await sampleTree(pid)).cpuSeconds - cpu0;
      const op = r.ops[p.mode]!;
      const requests = op.ops + op.errors;
      results.push({
        phase: p.name,
        requests,
        opsPerSec: op.opsPerSec,
        errors: op.errors,
        processUs: (cpu * 1e6) / requests,
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
  print(results, Number(v.top), load, profiles.length);
  if (v.json) {
    const { writeFile } = await import('node:fs/promises');
    const out = results.map(({ times, ...m }) => ({
      ...m,
      eventLoopUsPerRequest: Object.fromEntries(STAGES.map((s) => [s, (times?.us[s] ?? 0) / m.requests])),
    }));
    await writeFile(
      v.json,
      `${JSON.stringify({ tool: 'cairn-budget', createdAt: new Date().toISOString(), results: out }, null, 2)}\n`,
    );
  }
}

function print(results: Measured[], top: number, load: number, profiles: number): void {
  const per = (m: Measured, us: number) => (us / m.requests).toFixed(1);
  const rows = [['event-loop µs per request', ...results.map((m) => m.phase)]];
  for (const s of STAGES) rows.push([s, ...results.map((m) => per(m, m.times!.us[s]))]);
  rows.push(['= event loop (profiled)', ...results.map((m) => per(m, m.times!.busyUs))]);
  rows.push(['process CPU (/proc, all threads)', ...results.map((m) => m.processUs.toFixed(1))]);
  rows.push(['ops/s', ...results.map((m) => m.opsPerSec.toFixed(0))]);
  rows.push(['requests (errors)', ...results.map((m) => `${m.requests} (${m.errors})`)]);
  console.log(
    `\nCairn, 4 drives, 4 KiB objects; ${profiles} profiled process(es); load average ${load.toFixed(1)} at start\n`,
  );
  console.log(table(rows));
  for (const m of results) {
    const other = [...m.times!.other].sort((a, b) => b[1] - a[1]).slice(0, top);
    if (other.length === 0) continue;
    console.log(`\n${m.phase}, "other" by function (µs per request):`);
    for (const [name, us] of other) console.log(`  ${(us / m.requests).toFixed(2).padStart(7)}  ${name}`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).catch((err) => {
    console.error((err as Error).message);
    process.exit(1);
  });
}
