// Aggregates computed inside the Parquet scan, checked against the rows the same files decode to.
// - COUNT, MIN and MAX of text columns (compared here in JS string order, the evaluator's). The scan reads a
//   text column whose chunk holds one dictionary page and only dictionary-index pages as a dictionary array
//   (each distinct value compared once, the dictionary page not inflated twice); other chunks (no
//   dictionary, DELTA encodings, v2 pages) are read as plain strings.
// - SUM of INT64 and DOUBLE columns without nulls (summed straight over the values): exact for integers,
//   and for doubles the same additions in row order as the evaluator makes.
// Fixtures: make_fixtures.py.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { bufferSource, scanParquet } from '../../src/formats/index.js';
import type { ScanAggregate } from '../../src/formats/types.js';
import { collect, newStats } from './helpers.js';

const fixture = (name: string) => readFile(new URL(`./fixtures/${name}`, import.meta.url));

const column = (name: string) => ({ steps: [name], quoted: [false] });

/** COUNT, MIN and MAX of `name` (or the functions given) as the scan computes them. */
async function inScan(
  bytes: Buffer,
  name: string,
  funcs: ScanAggregate['func'][] = ['COUNT', 'MIN', 'MAX'],
): Promise<unknown[]> {
  const aggregates: ScanAggregate[] = funcs.map((func) => ({ func, column: column(name) }));
  const r = await scanParquet(bufferSource(bytes), undefined, { stats: newStats(), aggregates });
  expect(r.aggregates, 'the scan computes the aggregates').toBeDefined();
  expect(await collect(r)).toEqual([]);
  return r.aggregates!.values!;
}

/** The same from the decoded rows: nulls skipped, JS string order (UTF-16 code units). */
async function fromRows(bytes: Buffer, name: string): Promise<unknown[]> {
  const texts = (await values(bytes, name)).filter((v): v is string => typeof v === 'string');
  let min: string | null = null;
  let max: string | null = null;
  for (const v of texts) {
    if (min === null || v < min) min = v;
    if (max === null || v > max) max = v;
  }
  return [texts.length, min, max];
}

/** The decoded values of one column. */
async function values(bytes: Buffer, name: string): Promise<unknown[]> {
  const rows = (await collect(
    scanParquet(bufferSource(bytes), undefined, { stats: newStats(), columns: [name] }),
  )) as Record<string, unknown>[];
  return rows.map((r) => r[name]);
}

const normal = (values: unknown[]) => values.map((v) => (typeof v === 'bigint' ? Number(v) : v));

describe('COUNT, MIN and MAX of text columns in the Parquet scan', () => {
  const cases: Array<[string, string]> = [
    ['types-none.parquet', 'name'],
    ['types-snappy.parquet', 'name'],
    ['types-gzip.parquet', 'name'],
    ['types-brotli.parquet', 'name'],
    ['types-zstd.parquet', 'name'],
    ['types-lz4.parquet', 'name'],
    ['types-v2-nodict.parquet', 'name'],
    ['encodings.parquet', 'dlba'],
    ['encodings.parquet', 'dba'],
    ['encodings-v2.parquet', 'dba'],
    ['dictionary.parquet', 'cat'],
    ['rowgroups.parquet', 'grp'],
  ];
  for (const [file, name] of cases) {
    it(`${file} ${name}: the same as the decoded rows`, async () => {
      const bytes = await fixture(file);
      const want = await fromRows(bytes, name);
      expect(want[0], 'the column has values').toBeGreaterThan(0);
      expect(normal(await inScan(bytes, name))).toEqual(want);
    });
  }

  it('a dictionary bomb aggregates without expanding its rows', async () => {
    // One 300 KB entry that 3,000 rows point at: read as a dictionary array, no batch holds its copies.
    const bytes = await fixture('dictionary-bomb.parquet');
    const [count, min, max] = normal(await inScan(bytes, 's'));
    expect(count).toBe(3000);
    expect(min).toBe('x'.repeat(300 * 1024));
    expect(max).toBe(min);
  });
});

describe('SUM of numeric columns in the Parquet scan', () => {
  for (const file of ['types-snappy.parquet', 'types-v2-nodict.parquet', 'rowgroups.parquet']) {
    it(`${file}: integers exact, doubles added in row order`, async () => {
      const bytes = await fixture(file);
      const ints = file === 'rowgroups.parquet' ? ['id'] : ['i64', 'big'];
      for (const name of ints) {
        const all = await values(bytes, name);
        expect(all.length).toBeGreaterThan(0);
        const want = all.reduce((a: bigint, v) => a + BigInt(v as number | bigint), 0n);
        const [sum, count] = await inScan(bytes, name, ['SUM', 'COUNT']);
        expect([String(sum), count], name).toEqual([String(want), all.length]);
      }
      if (file === 'rowgroups.parquet') return;
      const doubles = await values(bytes, 'f64');
      let want = 0;
      for (const v of doubles) want += v as number;
      expect(await inScan(bytes, 'f64', ['SUM', 'COUNT'])).toEqual([want, doubles.length]);
    });
  }
});
