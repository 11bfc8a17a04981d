// S3 Select side by side with MinIO, through HTTP, on the same objects (issue 19's targets): both servers run as
// child processes on 4 drive folders each, the same data is uploaded to both, and each query's server CPU time
// (the run time of every thread of the server's process tree, from /proc/*/task/*/schedstat) is read around it. Prints one table:
//
//   | query | Cairn MB/CPU-s | MinIO MB/CPU-s | ratio | Cairn read | MinIO read | target |
//
// plus the engine alone (runSelect in this process over a file) against Cairn through HTTP. MB are of the object.
//
//   npm run -w bench select:minio                       # 128 MiB CSV and JSON lines, 640k-row 20-column Parquet
//   SELECT_BENCH_MB=256 SELECT_BENCH_WIDE_ROWS=1000000 SELECT_BENCH_RUNS=3 npm run -w bench select:minio
//   SELECT_BENCH_ONLY=JSON npm run -w bench select:minio  # only the queries whose label holds the text
//   SELECT_BENCH_STAT=median SELECT_BENCH_RUNS=5 npm run -w bench select:minio  # each figure the median run's, not the best
//   MINIO_BIN=/work/ext/bin/minio (default) ; SELECT_BENCH_PYTHON: a Python with pyarrow (see data.ts)
//   SELECT_BENCH_CAIRN_WORKERS=1 (Cairn's --workers; default: the server's own, one per core)
//   SELECT_BENCH_CAIRN_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' (node flags of Cairn's process: profiles)
// Data is generated once into os.tmpdir()/cairn-select-bench (outside the repository).

import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  CreateBucketCommand,
  ListBucketsCommand,
  S3Client,
  SelectObjectContentCommand,
  type SelectObjectContentCommandInput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { fileSource } from '../../select-engine/src/formats/index.js';
import * as engine from '../../select-engine/src/index.js';
import { schedSecondsTree } from '../load/procstat.js';
import { csvFile, jsonFile, wideParquetFile } from './data.js';

const MB = Number(process.env.SELECT_BENCH_MB ?? 128);
const WIDE_ROWS = Number(process.env.SELECT_BENCH_WIDE_ROWS ?? 640_000);
const RUNS = Number(process.env.SELECT_BENCH_RUNS ?? 2);
const ONLY = process.env.SELECT_BENCH_ONLY;
/** Which of the RUNS runs a figure is: the one of least CPU (best) or the median one (noise of a loaded machine). */
const STAT = process.env.SELECT_BENCH_STAT ?? 'best';
if (STAT !== 'best' && STAT !== 'median') throw new Error('SELECT_BENCH_STAT is best or median');
const MINIO = process.env.MINIO_BIN ?? '/work/ext/bin/minio';
const CAIRN_WORKERS = process.env.SELECT_BENCH_CAIRN_WORKERS;
const CAIRN_NODE_ARGS = (process.env.SELECT_BENCH_CAIRN_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
const venvPython = fileURLToPath(new URL('../../.venv/bin/python', import.meta.url));
const PYTHON = process.env.SELECT_BENCH_PYTHON ?? (existsSync(venvPython) ? venvPython : 'python3');
const repo = fileURLToPath(new URL('../..', import.meta.url));
const CREDS = { accessKeyId: 'benchroot', secretAccessKey: 'bench-root-secret' };
const BUCKET = 'selectbench';

interface Server {
  name: string;
  url: string;
  child: ChildProcess;
  client: S3Client;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function client(url: string): S3Client {
  return new S3Client({ endpoint: url, region: 'us-east-1', forcePathStyle: true, credentials: CREDS, maxAttempts: 1 });
}

async function startCairn(dir: string): Promise<Server> {
  const child = spawn(
    process.execPath,
    [
      ...CAIRN_NODE_ARGS,
      '--conditions=source',
      '--import',
      'tsx',
      'server/src/cli/main.ts',
      'server',
      ...(CAIRN_WORKERS ? ['--workers', CAIRN_WORKERS] : []),
      '--address',
      '127.0.0.1:0',
      join(dir, 'd{1...4}'),
    ],
    {
      cwd: repo,
      env: {
        ...process.env,
        CAIRN_ROOT_USER: CREDS.accessKeyId,
        CAIRN_ROOT_PASSWORD: CREDS.secretAccessKey,
        CAIRN_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`cairn exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (text) => {
      try {
        const line = JSON.parse(text) as { url?: string };
        if (typeof line.url === 'string') resolve(line.url);
      } catch {
        // not a log line
      }
    });
  });
  return { name: 'Cairn', url, child, client: client(url) };
}

async function startMinio(dir: string): Promise<Server> {
  const [port, console] = [await freePort(), await freePort()];
  for (let k = 1; k <= 4; k++) await mkdir(join(dir, `m${k}`), { recursive: true }); // MinIO waits for missing drives
  const child = spawn(
    MINIO,
    [
      'server',
      '--quiet',
      '--address',
      `127.0.0.1:${port}`,
      '--console-address',
      `127.0.0.1:${console}`,
      join(dir, 'm{1...4}'),
    ],
    {
      env: {
        ...process.env,
        MINIO_ROOT_USER: CREDS.accessKeyId,
        MINIO_ROOT_PASSWORD: CREDS.secretAccessKey,
        MINIO_API_SELECT_PARQUET: 'on',
        MINIO_BROWSER: 'off',
        // The drive folders sit on the root disk, which MinIO refuses outside CI mode.
        MINIO_CI_CD: 'on',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  const s3 = client(url);
  // Ready once it answers S3 (its health check answers before the drives are initialised).
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`minio exited with ${child.exitCode}`);
    if (i > 600) {
      child.kill('SIGKILL');
      throw new Error('minio did not start');
    }
    try {
      await s3.send(new ListBucketsCommand({}));
      break;
    } catch {
      // not serving yet
    }
    await new Promise((r) => setTimeout(r, 100)); // polling a child process's readiness, not test synchronisation
  }
  return { name: 'MinIO', url, child, client: s3 };
}

/** Waits for a child to exit, killing it after 20 s. */
async function stopped(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await new Promise((r) => child.once('exit', r));
  clearTimeout(kill);
}

async function upload(s: Server, key: string, path: string): Promise<void> {
  await new Upload({
    client: s.client,
    params: { Bucket: BUCKET, Key: key, Body: createReadStream(path) },
    partSize: 16 << 20,
  }).done();
}

interface Outcome {
  cpuSeconds: number;
  seconds: number;
  bytesScanned: number;
  returned: number;
  error?: string;
}

type Input = SelectObjectContentCommandInput['InputSerialization'];

async function selectOnce(s: Server, key: string, sql: string, input: Input): Promise<Outcome> {
  const before = await schedSecondsTree(s.child.pid!);
  const t0 = performance.now();
  let bytesScanned = 0;
  let returned = 0;
  try {
    const res = await s.client.send(
      new SelectObjectContentCommand({
        Bucket: BUCKET,
        Key: key,
        Expression: sql,
        ExpressionType: 'SQL',
        InputSerialization: input,
        OutputSerialization: { CSV: {} },
      }),
    );
    for await (const ev of res.Payload!) {
      if (ev.Records?.Payload) returned += ev.Records.Payload.byteLength;
      if (ev.Stats?.Details) bytesScanned = Number(ev.Stats.Details.BytesScanned ?? 0);
    }
  } catch (e) {
    return { cpuSeconds: 0, seconds: 0, bytesScanned: 0, returned: 0, error: (e as Error).name ?? String(e) };
  }
  const seconds = (performance.now() - t0) / 1000;
  const after = await schedSecondsTree(s.child.pid!);
  return { cpuSeconds: after - before, seconds, bytesScanned, returned };
}

/** RUNS runs of `f`: the one of least CPU, or with SELECT_BENCH_STAT=median the median one (the first error ends it). */
async function pick(f: () => Promise<Outcome>): Promise<Outcome> {
  const runs: Outcome[] = [];
  for (let i = 0; i < RUNS; i++) {
    const o = await f();
    if (o.error) return o;
    runs.push(o);
  }
  runs.sort((a, b) => a.cpuSeconds - b.cpuSeconds);
  return runs[STAT === 'median' ? (runs.length - 1) >> 1 : 0];
}

/** The engine alone: runSelect in this process over the file (CPU of this process, pool threads included). */
async function engineAlone(path: string, sql: string, input: engine.SelectRequest['input']): Promise<Outcome> {
  return pick(async () => {
    const source = await fileSource(path, 1 << 20);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let returned = 0;
    try {
      const frames = await engine.runSelect({ expression: sql, input, output: { csv: {} } }, source);
      for await (const f of frames) returned += f.byteLength;
    } finally {
      await source.close();
    }
    const cpu = process.cpuUsage(cpu0);
    return {
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      seconds: (performance.now() - t0) / 1000,
      bytesScanned: 0,
      returned,
    };
  });
}

interface Query {
  label: string;
  key: string;
  path: string;
  sql: string;
  input: Input;
  engineInput: engine.SelectRequest['input'];
  target: string;
}

const fmt = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '-');

async function main() {
  console.error(
    `select vs MinIO: ${MB} MiB CSV and JSON lines, ${WIDE_ROWS}-row 20-column Parquet, ${STAT} of ${RUNS}, load ${loadavg()[0].toFixed(1)}`,
  );
  const csv = await csvFile(MB);
  const json = await jsonFile(MB);
  const wide = await wideParquetFile(WIDE_ROWS, PYTHON);
  if (!wide) throw new Error('no Parquet file: set SELECT_BENCH_PYTHON to a Python with pyarrow');
  const size = async (p: string) => (await stat(p)).size;
  const groupRows = Math.floor(WIDE_ROWS / 20);
  const lo = groupRows * 7 + 10;
  const numbers = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7', 'n8', 'n9'];
  const all: Query[] = [
    {
      label: 'Parquet full-scan aggregate (every column)',
      key: 'wide.parquet',
      path: wide,
      sql:
        `SELECT COUNT(*), ${numbers.map((n) => `SUM(s.${n})`).join(', ')}, ` +
        `${Array.from({ length: 10 }, (_, k) => `MAX(s.s${k + 10})`).join(', ')} FROM S3Object s`,
      input: { Parquet: {} },
      engineInput: { parquet: {} },
      target: '>= 400 MB/CPU-s, >= 20x MinIO',
    },
    {
      label: 'Parquet aggregate of one column',
      key: 'wide.parquet',
      path: wide,
      sql: 'SELECT SUM(s.n2) FROM S3Object s',
      input: { Parquet: {} },
      engineInput: { parquet: {} },
      target: '-',
    },
    {
      label: 'Parquet 1 of 20 columns, 1 of 20 row groups',
      key: 'wide.parquet',
      path: wide,
      sql: `SELECT s.id FROM S3Object s WHERE s.id BETWEEN ${lo} AND ${lo + 99}`,
      input: { Parquet: {} },
      engineInput: { parquet: {} },
      target: 'reads < 5% of the file',
    },
    {
      label: 'CSV 1% filter',
      key: 'rows.csv',
      path: csv,
      sql: 'SELECT * FROM S3Object s WHERE CAST(s.amount AS INT) < 1000',
      input: { CSV: { FileHeaderInfo: 'USE' } },
      engineInput: { csv: { fileHeaderInfo: 'USE' } },
      target: '>= 800 MB/CPU-s, >= 3x MinIO',
    },
    {
      label: 'JSON lines 1% filter',
      key: 'rows.jsonl',
      path: json,
      sql: 'SELECT * FROM S3Object s WHERE s.amount < 1000',
      input: { JSON: { Type: 'LINES' } },
      engineInput: { json: { type: 'LINES' } },
      target: '>= 400 MB/CPU-s, >= 3x MinIO',
    },
    // What the native line filters give: `1 = 1 AND` first, the same WHERE runs in the reader alone.
    {
      label: 'CSV 1% filter, no line filter',
      key: 'rows.csv',
      path: csv,
      sql: 'SELECT * FROM S3Object s WHERE 1 = 1 AND CAST(s.amount AS INT) < 1000',
      input: { CSV: { FileHeaderInfo: 'USE' } },
      engineInput: { csv: { fileHeaderInfo: 'USE' } },
      target: '-',
    },
    {
      label: 'JSON lines 1% filter, no line filter',
      key: 'rows.jsonl',
      path: json,
      sql: 'SELECT * FROM S3Object s WHERE 1 = 1 AND s.amount < 1000',
      input: { JSON: { Type: 'LINES' } },
      engineInput: { json: { type: 'LINES' } },
      target: '-',
    },
  ];
  const queries = all.filter((q) => ONLY === undefined || q.label.includes(ONLY));

  const dir = await mkdtemp(join(tmpdir(), 'cairn-vs-minio-'));
  const servers: Server[] = [];
  try {
    servers.push(await startCairn(dir));
    servers.push(await startMinio(dir));
    for (const s of servers) {
      await s.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
      for (const [key, path] of [
        ['rows.csv', csv],
        ['rows.jsonl', json],
        ['wide.parquet', wide],
      ])
        if (queries.some((q) => q.key === key)) await upload(s, key, path);
      console.error(`  ${s.name} at ${s.url}: data uploaded`);
    }
    console.log(
      '\n| query | object MB | Cairn MB/CPU-s | MinIO MB/CPU-s | Cairn / MinIO | Cairn read | MinIO read | target |',
    );
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
    const engineRows: string[] = [];
    for (const q of queries) {
      const objMB = (await size(q.path)) / 1e6;
      console.error(`  ${q.label}`);
      const c = await pick(() => selectOnce(servers[0], q.key, q.sql, q.input));
      const m = await pick(() => selectOnce(servers[1], q.key, q.sql, q.input));
      const rate = (o: Outcome) => (o.error ? NaN : objMB / o.cpuSeconds);
      const read = (o: Outcome) => (o.error ? o.error : `${((100 * o.bytesScanned) / (objMB * 1e6)).toFixed(1)}%`);
      const ratio = rate(c) / rate(m);
      const minioRate = m.error ? m.error : fmt(rate(m));
      const times = Number.isFinite(ratio) ? `${fmt(ratio, 1)}x` : '-';
      console.log(
        `| ${q.label} | ${fmt(objMB)} | ${fmt(rate(c))} | ${minioRate} | ${times} | ${read(c)} | ${read(m)} | ${q.target} |`,
      );
      const e = await engineAlone(q.path, q.sql, q.engineInput);
      engineRows.push(
        `| ${q.label} | ${fmt(objMB / e.cpuSeconds)} | ${fmt(rate(c))} | ${fmt((100 * (c.cpuSeconds - e.cpuSeconds)) / e.cpuSeconds, 0)}% | ${fmt(e.returned / 1e6, 1)} |`,
      );
    }
    console.log(
      '\n| query | engine alone MB/CPU-s | through HTTP (Cairn server) MB/CPU-s | HTTP overhead (CPU) | output MB |',
    );
    console.log('| --- | --- | --- | --- | --- |');
    for (const r of engineRows) console.log(r);
    console.log(
      "\nMB/CPU-s: object MB over the server process's CPU seconds (all threads); target for HTTP: within 20%.",
    );
    console.log(
      `${STAT} of ${RUNS} runs; load ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} (1, 5, 15 min) at the end.`,
    );
  } finally {
    // Cairn stops on SIGTERM (so that a --cpu-prof given in SELECT_BENCH_CAIRN_NODE_ARGS writes its profile).
    for (const s of servers) s.child.kill(s.name === 'Cairn' ? 'SIGTERM' : 'SIGKILL');
    await Promise.all(servers.map((s) => stopped(s.child)));
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
