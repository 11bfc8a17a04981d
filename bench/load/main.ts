// The load generator's command line.
//   node --import tsx bench/load/main.ts [run] --mode get --endpoint http://127.0.0.1:9000 ... [--json out.json]
//   node --import tsx bench/load/main.ts compare a.json b.json
//   node --import tsx bench/load/main.ts serve [--port 9000]        the in-memory ceiling server
//   node --import tsx bench/load/main.ts ceiling [--duration 10s]   the generator against that server
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PAYLOADS, type PayloadMode } from './client.js';
import type { LoadConfig, Mode } from './config.js';
import { MODES, needsObjects } from './config.js';
import { startMemServer } from './mem-server.js';
import { sampleTree } from './procstat.js';
import type { ResultFile, RunResult } from './results.js';
import { compareTable, errorReport, runTable, writeResults } from './results.js';
import { ensureBucket, prepareObjects, runLoad, runPhase } from './run.js';
import { formatSize, parseDuration, parseSize } from './units.js';

const USAGE = `usage:
  main.ts [run] --mode ${MODES.join('|')} [options]
      --endpoint URL (http://127.0.0.1:9000)  --access-key K  --secret-key S  --region us-east-1
      --bucket B (load)  --prefix P (load-<size>/)  --obj-size 4KiB  --objects 1000  --concurrency 32
      --duration 15s  --range-size 8MiB  --range-align 1 (get-range starts: multiples of it)
      --get-ratio 0.8 (mixed)  --list-max-keys 1000  --workers 0 (auto)
      --payload unsigned|streaming|streaming-trailer (how PUT bodies are signed; streaming: aws-chunked)
      --no-prepare (objects already written)  --name label  --json out.json
      --ca FILE (PEM CA an https endpoint's certificate chains to; default: the system's roots)
  main.ts compare a.json b.json
  main.ts suite [suite options]                 see suite.ts (same as node --import tsx suite.ts)
  main.ts serve [--port 9000] [--body-size 64MiB]
  main.ts ceiling [--duration 10s] [--workers N] [--json out.json]`;

export const RUN_OPTIONS = {
  mode: { type: 'string', default: 'put' },
  endpoint: { type: 'string', default: 'http://127.0.0.1:9000' },
  'access-key': { type: 'string', default: process.env.AWS_ACCESS_KEY_ID ?? 'minioadmin' },
  'secret-key': { type: 'string', default: process.env.AWS_SECRET_ACCESS_KEY ?? 'minioadmin' },
  region: { type: 'string', default: 'us-east-1' },
  bucket: { type: 'string', default: 'load' },
  prefix: { type: 'string' },
  'obj-size': { type: 'string', default: '4KiB' },
  objects: { type: 'string', default: '1000' },
  concurrency: { type: 'string', default: '32' },
  duration: { type: 'string', default: '15s' },
  'range-size': { type: 'string', default: '8MiB' },
  'range-align': { type: 'string', default: '1' },
  'get-ratio': { type: 'string', default: '0.8' },
  'list-max-keys': { type: 'string', default: '1000' },
  ca: { type: 'string' },
  workers: { type: 'string', default: '0' },
  'no-prepare': { type: 'boolean', default: false },
  payload: { type: 'string', default: 'unsigned' },
  name: { type: 'string' },
  json: { type: 'string' },
  port: { type: 'string', default: '9000' },
  'body-size': { type: 'string', default: '64MiB' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof RUN_OPTIONS }>>['values'];

function positiveInt(v: string | undefined, what: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${what} must be a positive integer, got "${v}"`);
  return n;
}

export function configFrom(v: Values): LoadConfig {
  const mode = v.mode as Mode;
  if (!MODES.includes(mode)) throw new Error(`--mode must be one of ${MODES.join(', ')}`);
  const objSize = parseSize(v['obj-size']!);
  const getRatio = Number(v['get-ratio']);
  if (!(getRatio >= 0 && getRatio <= 1)) throw new Error('--get-ratio must be between 0 and 1');
  const payload = v.payload as PayloadMode;
  if (!PAYLOADS.includes(payload)) throw new Error(`--payload must be one of ${PAYLOADS.join(', ')}`);
  return {
    name: v.name ?? `${mode}-${formatSize(objSize)}`,
    mode,
    endpoint: v.endpoint!.replace(/\/+$/, ''),
    accessKey: v['access-key']!,
    secretKey: v['secret-key']!,
    region: v.region!,
    ca: v.ca === undefined ? undefined : readFileSync(v.ca, 'utf8'),
    bucket: v.bucket!,
    prefix: v.prefix ?? `load-${formatSize(objSize)}/`,
    objSize,
    objects: positiveInt(v.objects, 'objects'),
    concurrency: positiveInt(v.concurrency, 'concurrency'),
    durationMs: parseDuration(v.duration!),
    rangeSize: parseSize(v['range-size']!),
    rangeAlign: parseSize(v['range-align']!),
    getRatio,
    listMaxKeys: positiveInt(v['list-max-keys'], 'list-max-keys'),
    workers: v.workers === '0' ? 0 : positiveInt(v.workers, 'workers'),
    prepare: !v['no-prepare'],
    payload,
  };
}

async function readResults(path: string): Promise<ResultFile> {
  const f = JSON.parse(await readFile(path, 'utf8')) as ResultFile;
  if (f.tool !== 'cairn-load' || !Array.isArray(f.runs))
    throw new Error(`${path}: not a result file of this load generator`);
  return f;
}

function printRuns(runs: RunResult[]): void {
  console.log(runTable(runs));
  const errors = errorReport(runs);
  if (errors) console.log(`\n${errors}`);
}

/** Starts the in-memory server in a child process (as a real server would be) and returns its URL. */
async function spawnMemServer(bodySize: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), 'serve', '--port', '0', '--body-size', bodySize],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /http:\/\/[\d.:]+/.exec(out);
      if (m) resolve(m[0]);
    });
    child.once('exit', (code) => reject(new Error(`in-memory server exited (${code})`)));
  });
  return { url, child };
}

/** The generator against the in-memory server: the most it can drive on this machine. */
async function ceiling(v: Values): Promise<RunResult[]> {
  const mem = await spawnMemServer(v['body-size']!);
  const base = configFrom({ ...v, endpoint: mem.url });
  const shapes: Array<Partial<LoadConfig>> = [
    { name: 'ceiling-put-4KiB', mode: 'put', objSize: 4096, concurrency: 32 },
    { name: 'ceiling-get-4KiB', mode: 'get', objSize: 4096, concurrency: 32 },
    { name: 'ceiling-head-4KiB', mode: 'head', objSize: 4096, concurrency: 32 },
    { name: 'ceiling-put-64MiB', mode: 'put', objSize: 64 << 20, objects: 8, concurrency: 8 },
    { name: 'ceiling-get-64MiB', mode: 'get', objSize: 64 << 20, objects: 8, concurrency: 8 },
    {
      name: 'ceiling-get-range-8MiB',
      mode: 'get-range',
      objSize: 64 << 20,
      rangeSize: 8 << 20,
      objects: 8,
      concurrency: 16,
    },
  ];
  const runs: RunResult[] = [];
  try {
    for (const s of shapes) {
      const cfg = { ...base, objects: 1000, ...s, prefix: `ceiling-${formatSize(s.objSize!)}/` };
      await ensureBucket(cfg);
      if (needsObjects(cfg.mode)) await prepareObjects(cfg, (l) => console.error(l));
      const cpu0 = (await sampleTree(mem.child.pid!)).cpuSeconds;
      const r = await runPhase(cfg);
      r.serverCores = ((await sampleTree(mem.child.pid!)).cpuSeconds - cpu0) / r.seconds;
      runs.push(r);
      console.error(runTable([r]).split('\n').slice(-1)[0]);
    }
  } finally {
    mem.child.kill();
  }
  return runs;
}

async function main(argv: string[]): Promise<void> {
  const command = argv[0] && !argv[0].startsWith('-') ? argv[0] : 'run';
  const rest = command === argv[0] ? argv.slice(1) : argv;
  if (command === 'compare') {
    if (rest.length !== 2) throw new Error(USAGE);
    const [a, b] = await Promise.all(rest.map(readResults));
    console.log(`A = ${rest[0]}\nB = ${rest[1]}\n${compareTable(a, b)}`);
    return;
  }
  if (command === 'suite') return (await import('./suite.js')).runSuite(rest);
  if (command === 'help' || rest.includes('--help') || rest.includes('-h')) return void console.log(USAGE);
  const { values } = parseArgs({ args: rest, options: RUN_OPTIONS, strict: true });
  if (command === 'serve') {
    const mem = await startMemServer({ port: Number(values.port), bodySize: parseSize(values['body-size']!) });
    console.log(`in-memory S3 server on ${mem.url} (Ctrl-C stops it)`);
    return;
  }
  let runs: RunResult[];
  if (command === 'ceiling') runs = await ceiling(values);
  else if (command === 'run') runs = [await runLoad(configFrom(values), (l) => console.error(l))];
  else throw new Error(USAGE);
  console.log('');
  printRuns(runs);
  if (values.json) await writeResults(values.json, runs);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).catch((err) => {
    console.error((err as Error).message);
    process.exit(1);
  });
}
