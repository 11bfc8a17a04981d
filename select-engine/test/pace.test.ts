// A query shares the event loop: however costly its expression, it gives the loop a turn every few
// milliseconds. Each case runs a query whose work per row is thousands of expression nodes over an input held
// in memory (nothing in it waits for I/O, so without pacing the whole run is one synchronous stretch), while a
// 1 ms interval timer records the longest stretch between two of its turns. The stretch is measured in CPU
// time of this thread, which a busy machine does not inflate (wall-clock gaps are logged beside it). Each run
// must also have paused more than 75 times (SLICE_MS each): its work spans over three times the bound, so a
// version that never pauses shows one stretch of all of it (680 ms CPU for the first case, measured).
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { bufferSource } from '../src/formats/index.js';
import { Pacer, SLICE_MS, runSelect, type SelectRequest } from '../src/index.js';
import { decodeFrame } from './helpers.js';
import { encode, oneColumnFooter, parquetFile } from './formats/thrift.js';

/** Far above a slice (SLICE_MS) and its overshoot, far below the whole run (several hundred ms). */
const BOUND_MS = 100;

interface Stretches {
  /** Longest CPU time of this thread between two turns of the timer. */
  cpuMs: number;
  /** Longest wall-clock time between two turns of the timer. */
  wallMs: number;
}

/** Runs `work` while a 1 ms interval timer records the longest stretch between its turns. */
async function stretches<T>(work: () => Promise<T>): Promise<{ result: T; longest: Stretches }> {
  const cpuNow = () => {
    const u = process.threadCpuUsage();
    return (u.user + u.system) / 1000;
  };
  let lastCpu = cpuNow();
  let lastWall = performance.now();
  const longest = { cpuMs: 0, wallMs: 0 };
  const sample = () => {
    const [cpu, wall] = [cpuNow(), performance.now()];
    longest.cpuMs = Math.max(longest.cpuMs, cpu - lastCpu);
    longest.wallMs = Math.max(longest.wallMs, wall - lastWall);
    [lastCpu, lastWall] = [cpu, wall];
  };
  const timer = setInterval(sample, 1);
  try {
    const result = await work();
    sample(); // the stretch up to the end counts too
    return { result, longest };
  } finally {
    clearInterval(timer);
  }
}

/** `_1 = 'z0' OR _1 = 'z1' OR ...`: `terms` comparisons per row, none of which matches the data. */
const manyTerms = (path: string, terms: number) =>
  Array.from({ length: terms }, (_, i) => `${path} = 'z${i}'`).join(' OR ');

/** Decoded Records payloads of a stream of frames, and the error code of an error frame. */
async function drain(frames: AsyncIterable<Uint8Array>): Promise<{ records: string; error?: string }> {
  let records = '';
  for await (const f of frames) {
    const d = decodeFrame(f);
    if (d.type === 'error') return { records, error: d.headers[':error-code'] };
    if (d.type === 'Records') records += Buffer.from(d.body).toString('utf8');
  }
  return { records };
}

/**
 * Runs a query and returns its output, having checked that evaluation (after the SQL is parsed: its cost is
 * bounded by the token limit, see sql.test.ts) never held the thread longer than BOUND_MS at a stretch.
 */
async function paced(request: SelectRequest, data: Buffer): Promise<string> {
  const pacer = new Pacer();
  const frames = await runSelect(request, bufferSource(data), { pacer });
  const { result, longest } = await stretches(() => drain(frames));
  console.log(
    `${request.expression.slice(0, 50)}...: ${pacer.pauses} pauses, longest stretch`,
    `${longest.cpuMs.toFixed(1)} ms CPU, ${longest.wallMs.toFixed(1)} ms wall`,
  );
  expect(result.error).toBeUndefined();
  expect(longest.cpuMs).toBeLessThan(BOUND_MS);
  expect(pacer.pauses).toBeGreaterThan((3 * BOUND_MS) / SLICE_MS);
  return result.records;
}

/** A Parquet file of one INT64 column `x` holding 0, 1, ... n-1: one row group, one plain page. */
function int64Parquet(n: number): Buffer {
  const values = Buffer.alloc(8 * n);
  for (let i = 0; i < n; i++) values.writeBigInt64LE(BigInt(i), 8 * i);
  // PageHeader: DATA_PAGE, sizes, DataPageHeader (num_values, PLAIN, RLE levels).
  const header = encode([
    [1, { i32: 0 }],
    [2, { i32: values.length }],
    [3, { i32: values.length }],
    [
      5,
      {
        struct: [
          [1, { i32: n }],
          [2, { i32: 0 }],
          [3, { i32: 3 }],
          [4, { i32: 3 }],
        ],
      },
    ],
  ]);
  const size = BigInt(header.length + values.length);
  const footer = oneColumnFooter({ rows: BigInt(n), uncompressed: size, compressed: size });
  return parquetFile(Buffer.concat([header, values]), footer);
}

const csvRequest = (expression: string): SelectRequest => ({
  expression,
  expressionType: 'SQL',
  input: { csv: {} },
  output: { csv: {} },
});
const jsonRequest = (expression: string, type: 'LINES' | 'DOCUMENT' = 'LINES'): SelectRequest => ({
  expression,
  expressionType: 'SQL',
  input: { json: { type } },
  output: { json: {} },
});

describe('a query gives the event loop a turn every few milliseconds', () => {
  const oneCharRows = Buffer.from('a\n'.repeat(30_000));

  it('CSV, the WHERE clause applied by the scanner', async () => {
    const sql = `SELECT _1 FROM S3Object WHERE ${manyTerms('_1', 2000)} OR _1 = 'a'`;
    const records = await paced(csvRequest(sql), oneCharRows);
    expect(records).toBe('a\n'.repeat(30_000));
  });

  it('CSV, a costly SELECT list and no WHERE', async () => {
    const records = await paced(csvRequest(`SELECT ${manyTerms('_1', 2000)} FROM S3Object`), oneCharRows);
    expect(records).toBe('false\n'.repeat(30_000));
  });

  it('CSV, an aggregate of a costly expression', async () => {
    const sum = `SELECT SUM(CASE WHEN ${manyTerms('_1', 2000)} THEN 1 ELSE 2 END) FROM S3Object`;
    const records = await paced(csvRequest(sum), oneCharRows);
    expect(records).toBe(`${2 * 30_000}\n`);
  });

  it('JSON lines, the WHERE clause applied by the scanner', async () => {
    const lines = Buffer.from('{"a":"x"}\n'.repeat(24_000));
    const records = await paced(jsonRequest(`SELECT COUNT(*) FROM S3Object s WHERE ${manyTerms('s.a', 2000)}`), lines);
    expect(records).toBe('{"_1":0}\n');
  });

  it('JSON, rows of a FROM path (the WHERE clause applied after unnesting)', async () => {
    const doc = Buffer.from(JSON.stringify({ items: Array.from({ length: 24_000 }, () => ({ a: 'x' })) }));
    const sql = `SELECT COUNT(*) FROM S3Object[*].items[*] s WHERE ${manyTerms('s.a', 2000)}`;
    const records = await paced(jsonRequest(sql, 'DOCUMENT'), doc);
    expect(records).toBe('{"_1":0}\n');
  });

  it('CSV compressed with BZIP2 in blocks of runs, each decoding to about 46 MB', async () => {
    const file = await readFile(new URL('./formats/fixtures/long-runs.csv.bz2', import.meta.url));
    const request: SelectRequest = {
      expression: 'SELECT COUNT(*) FROM S3Object',
      expressionType: 'SQL',
      input: { csv: {}, compressionType: 'BZIP2' },
      output: { csv: {} },
    };
    expect(await paced(request, file)).toBe('100000\n');
  });

  it('Parquet, the WHERE clause applied by the scanner', async () => {
    const terms = Array.from({ length: 2000 }, (_, i) => `s.x = ${-1 - i}`).join(' OR ');
    const sql = `SELECT COUNT(*) FROM S3Object s WHERE ${terms} OR s.x = 5`;
    const request: SelectRequest = {
      expression: sql,
      expressionType: 'SQL',
      input: { parquet: {} },
      output: { json: {} },
    };
    const records = await paced(request, int64Parquet(12_000));
    expect(records).toBe('{"_1":1}\n');
  });
});
