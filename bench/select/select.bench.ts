// S3 Select scan throughput: MB of input per second on one core (the scanners are single-threaded JS),
// over cached CSV, JSON-lines and Parquet files of the same rows (see data.ts), for SELECT *, a
// 1%-selective filter, a 2-column projection and an aggregate-like full pass, plus the fraction of a
// Parquet file read when min/max statistics prune. The scanners are driven directly with compiled filter
// functions; end-to-end rows through runSelect are added when the engine exports it.
//
//   npm run -w bench select                       # 1 GiB CSV and JSON, 256 MiB Parquet
//   SELECT_BENCH_MB=256 SELECT_BENCH_PARQUET_ROWS=2000000 npm run -w bench select
//   SELECT_BENCH_PYTHON=/path/to/python (default: the repository's .venv, which needs pyarrow)
//   SELECT_BENCH_ONLY="CSV SELECT * WHERE" SELECT_BENCH_RUNS=3 (a subset of the rows, more runs)

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  fileSource,
  scanCsv,
  scanJson,
  scanParquet,
  withDecompression,
  type ScanOptions,
  type ScanResult,
} from '../../select-engine/src/formats/index.js';
import type { ByteSource } from '../../select-engine/src/formats/types.js';
import * as engine from '../../select-engine/src/index.js';
import { compressedCsv, csvFile, jsonFile, parquetFile } from './data.js';

const MB = Number(process.env.SELECT_BENCH_MB ?? 1024);
const PARQUET_ROWS = Number(process.env.SELECT_BENCH_PARQUET_ROWS ?? 8_000_000);
/** Size of the CSV prefix used for the GZIP / BZIP2 rows (bzip2 in JS is slow). */
const COMPRESSED_MB = Number(process.env.SELECT_BENCH_COMPRESSED_MB ?? 64);
const RUNS = Number(process.env.SELECT_BENCH_RUNS ?? 2);
/** Only the rows whose "format query" contains this text (e.g. SELECT_BENCH_ONLY="CSV SELECT * WHERE"). */
const ONLY = process.env.SELECT_BENCH_ONLY ?? '';
const venvPython = fileURLToPath(new URL('../../.venv/bin/python', import.meta.url));
const PYTHON = process.env.SELECT_BENCH_PYTHON ?? (existsSync(venvPython) ? venvPython : 'python3');

interface Row {
  format: string;
  query: string;
  inputMB: number;
  /** Bytes after decompression (equal to the input for uncompressed objects). */
  processedMB: number;
  readMB: number;
  seconds: number;
  /** CPU time of the process (all its threads: GC helpers and file reads count too). */
  cpuSeconds: number;
  records: number;
}
const rows: Row[] = [];

type Open = (source: ByteSource, opts: ScanOptions) => Promise<ScanResult>;

/** Runs a scan RUNS times (best time kept: the machine is shared) and consumes every batch with `sink`. */
async function measure(
  format: string,
  query: string,
  path: string,
  open: Open,
  opts: Omit<ScanOptions, 'stats'>,
  sink?: (batch: unknown[]) => void,
) {
  if (!`${format} ${query}`.includes(ONLY)) return;
  let best: Row | undefined;
  for (let run = 0; run < RUNS; run++) {
    const source = await fileSource(path, 1 << 20);
    const stats = { bytesScanned: 0, bytesProcessed: 0 };
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    let records = 0;
    try {
      const result = await open(source, { ...opts, stats });
      for await (const batch of result.batches) {
        records += batch.length;
        sink?.(batch);
      }
    } finally {
      await source.close();
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    if (!best || seconds < best.seconds) {
      best = {
        format,
        query,
        inputMB: source.size / 1e6,
        processedMB: stats.bytesProcessed / 1e6,
        readMB: stats.bytesScanned / 1e6,
        seconds,
        cpuSeconds,
        records,
      };
    }
  }
  rows.push(best!);
  const r = best!;
  console.error(
    `  ${format} ${query}: ${(r.inputMB / r.seconds).toFixed(0)} MB/s, ${(r.inputMB / r.cpuSeconds).toFixed(0)} MB/CPU-s (${r.records} records)`,
  );
}

/** A file source that counts the bytes it hands out (runSelect keeps its own Stats internal). */
async function countingSource(path: string) {
  const src = await fileSource(path, 1 << 20);
  const counter = { bytes: 0 };
  const source: ByteSource = {
    size: src.size,
    async read(start, end) {
      const b = await src.read(start, end);
      counter.bytes += b.byteLength;
      return b;
    },
    async *stream(start, end) {
      for await (const c of src.stream(start, end)) {
        counter.bytes += c.byteLength;
        yield c;
      }
    },
  };
  return { source, counter, close: () => src.close() };
}

/** End to end: SQL text through runSelect (parse, plan, scan, evaluate, write, frame). */
async function measureSql(
  format: string,
  path: string,
  request: Omit<engine.SelectRequest, 'expression'>,
  sql: string,
) {
  const label = `${format} e2e`;
  if (!`${label} ${sql}`.includes(ONLY)) return;
  let best: Row | undefined;
  for (let run = 0; run < RUNS; run++) {
    const { source, counter, close } = await countingSource(path);
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    let frameBytes = 0;
    try {
      const frames = await engine.runSelect({ ...request, expression: sql }, source);
      for await (const f of frames) frameBytes += f.byteLength;
    } finally {
      await close();
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    if (!best || seconds < best.seconds) {
      best = {
        format: label,
        query: sql,
        inputMB: source.size / 1e6,
        processedMB: counter.bytes / 1e6,
        readMB: counter.bytes / 1e6,
        seconds,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        records: frameBytes,
      };
    }
  }
  rows.push(best!);
  console.error(
    `  ${label} ${sql}: ${(best!.inputMB / best!.seconds).toFixed(0)} MB/s (${best!.records} output bytes)`,
  );
}

async function main() {
  console.error(
    `select bench: ${MB} MiB CSV and JSON lines, ${PARQUET_ROWS} Parquet rows, best of ${RUNS} (files cached in the temp dir)`,
  );
  const csv = await csvFile(MB);
  const json = await jsonFile(MB);
  const parquet = await parquetFile(PARQUET_ROWS, PYTHON);

  // CSV with a header: id,user,amount,color,ts,text
  const openCsv: Open = (s, o) => scanCsv(s, { fileHeaderInfo: 'USE' }, o);
  let sum = 0;
  await measure('CSV', 'SELECT *', csv, openCsv, {});
  await measure('CSV', 'SELECT * WHERE amount < 1000 (1%)', csv, openCsv, {
    filterColumns: ['amount'],
    filter: (r) => Number((r as string[])[2]) < 1000,
  });
  await measure('CSV', 'SELECT user, amount', csv, openCsv, { columns: ['user', 'amount'] });
  await measure('CSV', 'SUM(amount) (aggregate pass)', csv, openCsv, { columns: ['amount'] }, (b) => {
    for (const r of b as string[][]) sum += Number(r[2]);
  });

  type J = { amount: number; user: string };
  const openJson: Open = (s, o) => scanJson(s, { type: 'LINES' }, o);
  await measure('JSON lines', 'SELECT *', json, openJson, {});
  await measure('JSON lines', 'SELECT * WHERE amount < 1000 (1%)', json, openJson, {
    filter: (r) => (r as J).amount < 1000,
  });
  await measure('JSON lines', 'SELECT user, amount', json, openJson, {}, (b) => {
    for (const r of b as J[]) sum += r.user.length + r.amount;
  });
  await measure('JSON lines', 'SUM(amount) (aggregate pass)', json, openJson, {}, (b) => {
    for (const r of b as J[]) sum += r.amount;
  });

  if (parquet) {
    const openParquet: Open = (s, o) => scanParquet(s, undefined, o);
    await measure('Parquet', 'SELECT *', parquet, openParquet, {});
    // The conjunct runs inside the native scan (exactly: the scan's rows are final).
    const on = (column: string, op: '<' | '>=' | '<=', n: number) => ({
      column: { steps: [column], quoted: [false] },
      op,
      values: [{ kind: 'int' as const, text: String(n) }],
    });
    await measure('Parquet', 'SELECT * WHERE amount < 1000 (1%)', parquet, openParquet, {
      where: { conjuncts: [on('amount', '<', 1000)], whole: true },
    });
    await measure('Parquet', 'SELECT user, amount', parquet, openParquet, { columns: ['user', 'amount'] });
    await measure('Parquet', 'SUM(amount) (aggregate pass)', parquet, openParquet, { columns: ['amount'] }, (b) => {
      for (const r of b as J[]) sum += r.amount;
    });
    const lo = Math.floor(PARQUET_ROWS / 2);
    await measure('Parquet', `SELECT * WHERE id BETWEEN ${lo} AND ${lo + 9999} (stats prune)`, parquet, openParquet, {
      where: { conjuncts: [on('id', '>=', lo), on('id', '<=', lo + 9999)], whole: true },
    });
  }

  // MB/s is wall-clock; MB per CPU-second is steadier on a shared machine (it counts every thread of the process).
  // End-to-end rows (the "records" column holds event-stream output bytes there).
  const out = { json: {} };
  const csvIn = { input: { csv: { fileHeaderInfo: 'USE' as const } }, output: { csv: {} } };
  await measureSql('CSV', csv, csvIn, 'SELECT * FROM S3Object');
  await measureSql('CSV', csv, csvIn, 'SELECT * FROM S3Object s WHERE CAST(s.amount AS INT) < 1000');
  await measureSql('CSV', csv, csvIn, 'SELECT s."user", s.amount FROM S3Object s');
  await measureSql('CSV', csv, csvIn, 'SELECT SUM(CAST(amount AS INT)) FROM S3Object');
  const jsonIn = { input: { json: { type: 'LINES' as const } }, output: out };
  await measureSql('JSON lines', json, jsonIn, 'SELECT * FROM S3Object s WHERE s.amount < 1000');
  await measureSql('JSON lines', json, jsonIn, 'SELECT SUM(s.amount) FROM S3Object s');
  if (parquet) {
    const pIn = { input: { parquet: {} }, output: out };
    const lo = Math.floor(PARQUET_ROWS / 2);
    await measureSql('Parquet', parquet, pIn, `SELECT * FROM S3Object s WHERE s.id >= ${lo} AND s.id <= ${lo + 9999}`);
    await measureSql('Parquet', parquet, pIn, 'SELECT SUM(s.amount) FROM S3Object s');
  }

  // Compressed input (a prefix of the CSV): decompression plus the 1% filter.
  for (const type of ['GZIP', 'BZIP2'] as const) {
    const query = `SELECT * WHERE amount < 1000 (${COMPRESSED_MB} MiB before compression)`;
    if (!`CSV ${type} ${query}`.includes(ONLY)) continue;
    const file = await compressedCsv(COMPRESSED_MB, type, PYTHON);
    if (!file) continue;
    await measure(
      `CSV ${type}`,
      query,
      file,
      (s, o) => scanCsv(withDecompression(s, type), { fileHeaderInfo: 'USE' }, o),
      { filterColumns: ['amount'], filter: (r) => Number((r as string[])[2]) < 1000 },
    );
  }

  console.log('\n| format | query | input MB | MB/s (input, wall) | MB per CPU-s | read from object | records |');
  console.log('|---|---|---:|---:|---:|---:|---:|');
  // Compressed rows: MB/s of the compressed object; the decompressed rate is in the query column.
  for (const r of rows)
    if (r.processedMB > r.readMB * 1.01) r.query += ` [${(r.processedMB / r.seconds).toFixed(0)} MB/s decompressed]`;
  for (const r of rows) {
    const frac = `${r.readMB.toFixed(1)} MB (${((100 * r.readMB) / r.inputMB).toFixed(1)}%)`;
    console.log(
      `| ${r.format} | ${r.query} | ${r.inputMB.toFixed(0)} | ${(r.inputMB / r.seconds).toFixed(0)} | ${(r.inputMB / r.cpuSeconds).toFixed(0)} | ${frac} | ${r.records} |`,
    );
  }
  if (sum === -1) console.log(sum); // keeps the sinks' work observable
}

await main();
