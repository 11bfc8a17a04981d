// Side-by-side reader benchmark: real analytics and ML readers (pyarrow, polars, DuckDB, Spark s3a,
// s3torchconnector, tf.data, Presto) against Cairn and another S3 server, alternating servers, best of N,
// with each reader's raw GET baseline (the same bytes through a lean client) and the server CPU per byte.
//   node --import tsx bench/readers/main.ts --minio /path/to/minio [--groups light,torch,...] [--repeat 3]
//   node --import tsx bench/readers/main.ts --other-endpoint URL --other-access-key K --other-secret-key S
// See README.md beside this file.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { table } from '../load/results.js';
import { rawGet, type ByteRangeSpec } from './raw.js';
import { externalTarget, serverCpu, startCairnTarget, startMinioTarget, type Target } from './servers.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../..');

/** Reader groups, the venv each runs in (made by scripts/analytics-venv.sh) and what else it needs. */
const GROUPS: Record<string, { venv: string; presto?: boolean }> = {
  light: { venv: '' },
  habits: { venv: '' },
  torch: { venv: '--torch' },
  tensorflow: { venv: '--tensorflow' },
  spark: { venv: '--spark' },
  presto: { venv: '', presto: true },
};

const OPTIONS = {
  minio: { type: 'string' },
  'other-endpoint': { type: 'string' },
  'other-access-key': { type: 'string' },
  'other-secret-key': { type: 'string' },
  'other-pid': { type: 'string' },
  'other-name': { type: 'string', default: 'minio' },
  'cairn-endpoint': { type: 'string' },
  'cairn-access-key': { type: 'string' },
  'cairn-secret-key': { type: 'string' },
  'cairn-pid': { type: 'string' },
  groups: { type: 'string', default: 'light,habits' },
  readers: { type: 'string' },
  repeat: { type: 'string', default: '3' },
  'raw-concurrency': { type: 'string', default: '8' },
  scale: { type: 'string', default: '1' },
  'data-dir': { type: 'string', default: join(tmpdir(), 'cairn-readers-data') },
  'drives-dir': { type: 'string', default: '/dev/shm' },
  json: { type: 'string' },
  keep: { type: 'boolean', default: false },
} as const;

interface ReaderSpec {
  unit: string;
  ranges: ByteRangeSpec[];
}

interface Sample {
  seconds: number;
  items: number;
  cpu?: number;
  load: number;
}

/** A reader group's Python process: JSON requests and answers, one per line. */
class GroupWorker {
  private readonly lines: AsyncIterator<string>;
  constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    this.lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  }

  static async start(group: string): Promise<GroupWorker> {
    const venv = await run('bash', [
      join(REPO, 'scripts/analytics-venv.sh'),
      ...(GROUPS[group].venv ? [GROUPS[group].venv] : []),
    ]);
    const env: NodeJS.ProcessEnv = { ...process.env, PYTHONUNBUFFERED: '1' };
    if (GROUPS[group].presto) env.PRESTO_HOME = await run('bash', [join(REPO, 'scripts/install-presto.sh')]);
    const child = spawn(join(venv, 'bin/python'), [join(HERE, 'worker.py'), group], {
      env,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    return new GroupWorker(group, child);
  }

  async ask<T>(request: object): Promise<T> {
    this.child.stdin!.write(`${JSON.stringify(request)}\n`);
    const line = await this.lines.next();
    if (line.done) throw new Error(`${this.name} worker exited`);
    const answer = JSON.parse(line.value) as T & { error?: string };
    if (answer.error) throw new Error(`${this.name}: ${answer.error}`);
    return answer;
  }

  async close(): Promise<void> {
    await this.ask({ op: 'close' }).catch(() => {});
    this.child.kill();
  }
}

/** Runs a command and returns its stdout's last line (the scripts print the path they made). */
function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.once('exit', (code) =>
      code === 0 ? res(out.trim().split('\n').pop()!) : rej(new Error(`${cmd} ${args.join(' ')}: exit ${code}`)),
    );
  });
}

const load1 = () => loadavg()[0];

/** One timed run with the server's CPU around it. */
async function measure(t: Target, body: () => Promise<{ seconds: number; items: number }>): Promise<Sample> {
  const c0 = await serverCpu(t);
  const load = load1();
  const r = await body();
  const c1 = await serverCpu(t);
  return { ...r, cpu: c0 === undefined || c1 === undefined ? undefined : c1 - c0, load };
}

/** `repeat` runs of `body` on each target, alternating which goes first. */
async function alternate(
  label: string,
  targets: Target[],
  repeat: number,
  body: (t: Target) => Promise<{ seconds: number; items: number }>,
): Promise<Map<string, Sample[]>> {
  const runs = new Map<string, Sample[]>(targets.map((t) => [t.name, []]));
  for (let i = 0; i < repeat; i++) {
    for (const t of i % 2 ? [...targets].reverse() : targets) {
      const s = await measure(t, () => body(t));
      runs.get(t.name)!.push(s);
      console.error(
        `  ${label} on ${t.name}: ${s.seconds.toFixed(2)} s, ${s.items} items` +
          `${s.cpu !== undefined ? `, server ${s.cpu.toFixed(2)} CPU-s` : ''} (load ${s.load.toFixed(1)})`,
      );
    }
  }
  return runs;
}

/** Best of the samples: the fastest run (its CPU and load beside it) and the lowest CPU of any run. */
function best(samples: Sample[]): Sample & { minCpu?: number } {
  const fastest = samples.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  const cpus = samples.map((s) => s.cpu).filter((c): c is number => c !== undefined);
  return { ...fastest, minCpu: cpus.length ? Math.min(...cpus) : undefined };
}

async function main(argv: string[]): Promise<void> {
  const { values: v } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  const repeat = Number(v.repeat);
  const groups = v.groups!.split(',');
  for (const g of groups)
    if (!GROUPS[g]) throw new Error(`unknown group ${g}; groups: ${Object.keys(GROUPS).join(', ')}`);
  if (!v.minio && !v['other-endpoint'])
    throw new Error('name the other server: --minio /path/to/minio or --other-endpoint URL');
  if (v.minio && !existsSync(v.minio)) throw new Error(`no MinIO binary at ${v.minio}`);
  const wanted = v.readers ? new Set(v.readers.split(',')) : undefined;
  const ak = 'readers-bench';
  const sk = 'readers-bench-secret';
  const targets: Target[] = [];
  const workers: GroupWorker[] = [];
  const rows: string[][] = [];
  const habitRows: string[][] = [];
  const results: object[] = [];
  try {
    targets.push(
      v['cairn-endpoint']
        ? externalTarget(
            'cairn',
            v['cairn-endpoint'],
            v['cairn-access-key'] ?? ak,
            v['cairn-secret-key'] ?? sk,
            v['cairn-pid'] ? Number(v['cairn-pid']) : undefined,
          )
        : await startCairnTarget(v['drives-dir']!, ak, sk, v.keep!),
    );
    targets.push(
      v['other-endpoint']
        ? externalTarget(
            v['other-name']!,
            v['other-endpoint'],
            v['other-access-key'] ?? ak,
            v['other-secret-key'] ?? sk,
            v['other-pid'] ? Number(v['other-pid']) : undefined,
          )
        : await startMinioTarget(v.minio!, v['drives-dir']!, ak, sk, v.keep!),
    );
    const [cairn, other] = targets;
    console.error(`cairn ${cairn.endpoint}, ${other.name} ${other.endpoint}`);
    const pyTargets = targets.map((t) => ({
      name: t.name,
      endpoint: t.endpoint,
      access_key: t.accessKey,
      secret_key: t.secretKey,
      region: t.region,
      bucket: t.bucket,
    }));

    for (const group of groups) {
      const w = await GroupWorker.start(group);
      workers.push(w);
      console.error(`${group}: preparing data in ${v['data-dir']} and on both servers ...`);
      const { readers } = await w.ask<{ readers: Record<string, ReaderSpec> }>({
        op: 'prepare',
        targets: pyTargets,
        data_dir: v['data-dir'],
        scale: Number(v.scale),
      });
      const rawCache = new Map<string, Map<string, Sample & { minCpu?: number; bytes: number }>>();
      let warm = true;
      for (const [reader, spec] of Object.entries(readers)) {
        if (wanted && !wanted.has(reader)) continue;
        const run = (t: Target) => w.ask<{ seconds: number; items: number }>({ op: 'run', reader, target: t.name });
        // The group's first reader runs once on each server untimed: JIT, pools and caches of both sides warm.
        if (warm) for (const t of targets) await run(t);
        warm = false;
        const runs = await alternate(reader, targets, repeat, run);
        const b = Object.fromEntries(targets.map((t) => [t.name, best(runs.get(t.name)!)]));
        const loads = `${b[cairn.name].load.toFixed(1)}/${b[other.name].load.toFixed(1)}`;
        if (spec.ranges.length === 0) {
          // Measured per request: requests/s and the server's CPU per request.
          const rate = (t: Target) => b[t.name].items / b[t.name].seconds;
          const us = (t: Target) =>
            b[t.name].minCpu === undefined ? '-' : ((b[t.name].minCpu! / b[t.name].items) * 1e6).toFixed(0);
          habitRows.push([
            reader,
            String(b[cairn.name].items),
            rate(cairn).toFixed(0),
            rate(other).toFixed(0),
            (rate(cairn) / rate(other)).toFixed(2),
            us(cairn),
            us(other),
            loads,
          ]);
          results.push({ group, reader, unit: spec.unit, runs: Object.fromEntries(runs) });
          continue;
        }
        // Raw GET of the same bytes, per server (cached for readers that need the same ranges).
        const rangesKey = JSON.stringify(spec.ranges);
        let raw = rawCache.get(rangesKey);
        if (!raw) {
          let bytes = 0;
          // At least ~1 GB per run (the list again and again): a short run measures too little CPU time.
          const wanted = spec.ranges.reduce((n, [, first, last]) => n + (last < 0 ? 64e6 : last - first + 1), 0);
          const passes = Math.min(32, Math.max(1, Math.ceil(1e9 / wanted)));
          const rawRuns = await alternate(`raw GET for ${reader} (x${passes})`, targets, repeat, async (t) => {
            const r = await rawGet({ ...t }, spec.ranges, Number(v['raw-concurrency']), passes);
            bytes = r.bytes / passes;
            return { seconds: r.seconds / passes, items: r.requests / passes };
          });
          // Per pass, as the reader's figures are.
          for (const runs of rawRuns.values()) for (const r of runs) if (r.cpu !== undefined) r.cpu /= passes;
          raw = new Map(targets.map((t) => [t.name, { ...best(rawRuns.get(t.name)!), bytes }]));
          rawCache.set(rangesKey, raw);
        }
        const bytes = raw.get(cairn.name)!.bytes;
        const mbps = (t: Target) => bytes / 1e6 / b[t.name].seconds;
        const rawMbps = (t: Target) => bytes / 1e6 / raw.get(t.name)!.seconds;
        const cpuPerGB = (s: { minCpu?: number }) =>
          s.minCpu === undefined ? '-' : (s.minCpu / (bytes / 1e9)).toFixed(2);
        rows.push([
          reader,
          (bytes / 1e6).toFixed(0),
          mbps(cairn).toFixed(0),
          mbps(other).toFixed(0),
          (mbps(cairn) / mbps(other)).toFixed(2),
          `${((100 * mbps(cairn)) / rawMbps(cairn)).toFixed(0)}%`,
          `${((100 * mbps(other)) / rawMbps(other)).toFixed(0)}%`,
          rawMbps(cairn).toFixed(0),
          rawMbps(other).toFixed(0),
          `${(b[cairn.name].items / b[cairn.name].seconds).toFixed(0)} ${spec.unit}/s`,
          cpuPerGB(b[cairn.name]),
          cpuPerGB(b[other.name]),
          cpuPerGB(raw.get(cairn.name)!),
          cpuPerGB(raw.get(other.name)!),
          loads,
        ]);
        results.push({
          group,
          reader,
          bytes,
          unit: spec.unit,
          runs: Object.fromEntries(runs),
          raw: Object.fromEntries(raw),
        });
      }
      await w.close();
      workers.splice(workers.indexOf(w), 1);
    }
  } finally {
    for (const w of workers) await w.close();
    for (const t of targets) await t.stop();
  }
  const o = targets[1]?.name ?? 'other';
  console.log(
    `\nCairn vs ${o}, best of ${repeat} (alternating servers), load = 1-minute load average at the best runs`,
  );
  if (rows.length > 0) {
    console.log(
      `MB = 10^6 bytes the reader needs; raw = the same ranges by a lean client at concurrency ` +
        `${v['raw-concurrency']}; cpu = server CPU-s per GB (lowest run)\n`,
    );
    console.log(
      table([
        [
          'reader',
          'MB',
          'cairn MB/s',
          `${o} MB/s`,
          `cairn/${o}`,
          'cairn % raw',
          `${o} % raw`,
          'raw cairn',
          `raw ${o}`,
          'cairn rate',
          'cpu cairn',
          `cpu ${o}`,
          'cpu raw cairn',
          `cpu raw ${o}`,
          'load c/o',
        ],
        ...rows,
      ]),
    );
  }
  if (habitRows.length > 0) {
    console.log('\nPer request: requests/s (4 boto3 threads) and server CPU-us per request (lowest run)\n');
    console.log(
      table([
        ['habit', 'requests', 'cairn req/s', `${o} req/s`, `cairn/${o}`, 'cpu-us cairn', `cpu-us ${o}`, 'load c/o'],
        ...habitRows,
      ]),
    );
  }
  if (v.json)
    await writeFile(
      v.json,
      JSON.stringify({ tool: 'cairn-readers', date: new Date().toISOString(), results }, null, 2),
    );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).catch((err) => {
    console.error((err as Error).message);
    process.exit(1);
  });
}
