// Row-group pruning by statistics, through runSelect (SQL -> plan -> scanner), checked two ways: the rows
// are exactly those a full scan returns (pruning never drops a match), and BytesScanned shows whether row
// groups were skipped. Fixtures (make_fixtures.py, make_pruning): five row groups of 100 rows, values
// rising with the row; decimals stored as fixed-length bytes and as INT64, dates (INT32 days), INT96
// timestamps (which pyarrow writes without statistics), and the same data without any statistics.
// A file with INT96 statistics is forged below: the Parquet format leaves INT96's sort order undefined,
// so a reader must not prune by them (parquet-format, "Column order": INT96 order is undefined).
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { bufferSource } from '../../src/formats/index.js';
import type { SelectRequest } from '../../src/index.js';
import { runToEnd, statsOf } from '../helpers.js';
import { BINARY, encode, I32, parquetFile, STRUCT, type TStruct } from './thrift.js';

const fixture = (name: string) => readFile(new URL(`./fixtures/${name}`, import.meta.url));
const ROWS = 500;
const DAY = 86400_000;
const dec = (i: number) => (i * 125 - 30000) / 100; // dec = id * 1.25 - 300
const day = (i: number) => new Date(Date.UTC(2024, 0, 1) + i * DAY);

/**
 * Ids a query returns (one `id` per line of CSV output), and the bytes it read beyond the footer (which
 * every query reads whole): a query that skips four row groups of five reads about a fifth of the data
 * that a query on the same columns matching every row reads.
 */
async function ids(bytes: Buffer, where: string): Promise<{ ids: number[]; scanned: number }> {
  const out = await runToEnd(parquetQuery(`SELECT s.id FROM S3Object s WHERE ${where}`), bufferSource(bytes));
  expect(out.error, where).toBeUndefined();
  expect(out.events.at(-1)?.type).toBe('End');
  const footer = bytes.readUInt32LE(bytes.length - 8) + 8;
  return { ids: out.records.split('\n').filter(Boolean).map(Number), scanned: statsOf(out).bytesScanned - footer };
}

function parquetQuery(expression: string): SelectRequest {
  return { expression, input: { parquet: {} }, output: { csv: {} } };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const where = (f: (i: number) => boolean) => range(0, ROWS).filter(f);

describe('pruning by statistics', () => {
  it('decimals (fixed-length bytes and INT64, negative and positive): exact rows, other groups skipped', async () => {
    for (const [file, col] of [
      ['pruning.parquet', 'dec'],
      ['pruning-dec-int64.parquet', 'dec_i64'],
    ]) {
      const bytes = await fixture(file);
      const all = await ids(bytes, `s."${col}" < 1000`); // the same columns, every row group
      expect(all.ids).toEqual(range(0, ROWS));
      for (const [sql, want] of [
        [`s."${col}" < -250`, where((i) => dec(i) < -250)],
        [`s."${col}" >= 300`, where((i) => dec(i) >= 300)],
        [`s."${col}" = 0`, where((i) => dec(i) === 0)],
        [`s."${col}" BETWEEN -1.25 AND 1.25`, where((i) => dec(i) >= -1.25 && dec(i) <= 1.25)],
      ] as const) {
        const r = await ids(bytes, sql);
        expect(r.ids, `${file}: ${sql}`).toEqual(want);
        expect(r.scanned, `${file}: ${sql} reads one row group of five`).toBeLessThan(all.scanned * 0.3);
      }
    }
  });

  it('dates: exact rows, other row groups skipped', async () => {
    const bytes = await fixture('pruning.parquet');
    const all = await ids(bytes, 's."day" < `2100-01-01T`');
    expect(all.ids).toEqual(range(0, ROWS));
    for (const [sql, want] of [
      ['s."day" < `2024-02-01T`', where((i) => day(i) < new Date('2024-02-01T00:00:00Z'))],
      ['s."day" >= `2025-05-01T`', where((i) => day(i) >= new Date('2025-05-01T00:00:00Z'))],
      ['s."day" = `2024-07-19T`', where((i) => day(i).getTime() === Date.parse('2024-07-19T00:00:00Z'))],
    ] as const) {
      const r = await ids(bytes, sql);
      expect(r.ids, sql).toEqual(want);
      expect(want.length).toBeGreaterThan(0);
      expect(r.scanned, sql).toBeLessThan(all.scanned * 0.3);
    }
  });

  it('without statistics: every row group is read and the rows are exact', async () => {
    const bytes = await fixture('pruning-nostats.parquet');
    const all = await ids(bytes, 's.id < 1000');
    const r = await ids(bytes, 's.id >= 480');
    expect(r.ids).toEqual(range(480, ROWS));
    expect(r.scanned).toBe(all.scanned);
    expect((await ids(bytes, `s."dec" < -250`)).ids).toEqual(where((i) => dec(i) < -250));
  });

  it('INT96 timestamps as pyarrow writes them (no statistics): exact rows', async () => {
    const bytes = await fixture('pruning-int96.parquet');
    const r = await ids(bytes, 's.ts >= `2024-01-20T00:00:00Z` AND s.ts < `2024-01-20T05:00:00Z`');
    const hour = (i: number) => Date.UTC(2024, 0, 1) + i * 3600_000;
    const [from, to] = [Date.parse('2024-01-20T00:00:00Z'), Date.parse('2024-01-20T05:00:00Z')];
    expect(r.ids).toEqual(where((i) => hour(i) >= from && hour(i) < to));
  });

  it('INT96 statistics are not trusted, however wrong they are', async () => {
    // Two row groups of ten hourly timestamps (2024-01-01 and 2024-01-02), both claiming min = max =
    // 1970-01-01: pruning by them would drop every row of the query below.
    const hours = (d: number) => Array.from({ length: 10 }, (_, h) => new Date(Date.UTC(2024, 0, 1 + d, h)));
    const bytes = int96File([hours(0), hours(1)], new Date(0));
    const sql = 'SELECT s.ts FROM S3Object s WHERE s.ts > `2024-01-02T05:00:00Z`';
    const out = await runToEnd(parquetQuery(sql), bufferSource(bytes));
    expect(out.error).toBeUndefined();
    // INT96 holds nanoseconds: the values keep nine fraction digits.
    const want = ['06', '07', '08', '09'].map((h) => `2024-01-02T${h}:00:00.000000000Z`);
    expect(out.records.split('\n').filter(Boolean)).toEqual(want);
  });
});

describe('bytes read by a full scan', () => {
  // The dictionary pages of string columns are looked at before each row group is decoded (to bound the
  // batch). Without a row filter the decoder reads every chunk whole: the probe reads them whole and hands
  // them on, so every byte of the file is read at most once (before, each dictionary page was read twice:
  // the bench's wide file read 153% of itself).
  it('reads each byte at most once, with the same answers, dictionaries and all', async () => {
    const bytes = await fixture('rowgroups.parquet');
    const run = async (sql: string) => {
      const out = await runToEnd(parquetQuery(sql), bufferSource(bytes));
      expect(out.error, sql).toBeUndefined();
      return { records: out.records, scanned: statsOf(out).bytesScanned };
    };
    const agg = await run('SELECT COUNT(*), MAX(s.grp), MIN(s.grp), SUM(s.id) FROM S3Object s');
    expect(agg.records).toBe('1000,g9,g0,499500\n');
    expect(agg.scanned).toBeLessThanOrEqual(bytes.length);
    const all = await run('SELECT * FROM S3Object s');
    expect(all.records.split('\n').filter(Boolean)).toHaveLength(1000);
    expect(all.records).toContain('999,g9,499.5,');
    expect(all.scanned).toBeLessThanOrEqual(bytes.length);
    // With a row filter the decoder may skip chunks: only the dictionary pages are probed, and rows stay exact.
    const some = await run("SELECT s.id FROM S3Object s WHERE s.grp = 'g3' AND s.id < 305");
    expect(some.records).toBe('300\n301\n302\n303\n304\n');
  });
});

describe('OR and IN', () => {
  it('return exactly the rows a full scan finds; an AND-ed simple comparison still prunes', async () => {
    const bytes = await fixture('pruning.parquet');
    const cases: [string, number[]][] = [
      ['s.id = 5 OR s.id = 450', [5, 450]],
      ['s.id IN (5, 450, 1000)', [5, 450]],
      ["s.grp IN ('g1', 'g3')", [...range(100, 200), ...range(300, 400)]],
      ['s."dec" < -299 OR s."dec" > 323', where((i) => dec(i) < -299 || dec(i) > 323)],
      ["s.grp = 'g0' OR s.id >= 498", [...range(0, 100), 498, 499]],
      ['NOT (s.id >= 3)', [0, 1, 2]],
      ['s.id NOT IN (1, 2, 3) AND s.id < 6', [0, 4, 5]],
    ];
    for (const [sql, want] of cases) expect((await ids(bytes, sql)).ids, sql).toEqual(want);
    // An OR inside an AND: the simple conjunct (grp = 'g0') may prune; the OR is evaluated on what is read.
    const mixed = await ids(bytes, `(s.id < 3 OR s."dec" > 320) AND s.grp = 'g0'`);
    const all = await ids(bytes, `(s.id < 3 OR s."dec" > 320) AND s.grp <> 'zz'`);
    expect(mixed.ids).toEqual([0, 1, 2]);
    expect(all.ids).toEqual([0, 1, 2, 497, 498, 499]);
    expect(mixed.scanned).toBeLessThan(all.scanned * 0.3);
  });
});

/** A Parquet file of one REQUIRED INT96 column `ts`, one row group per list, with the given min = max. */
function int96File(groups: Date[][], claimed: Date): Buffer {
  const int96 = (d: Date) => {
    const b = Buffer.alloc(12);
    const days = Math.floor(d.getTime() / DAY);
    b.writeBigInt64LE(BigInt(d.getTime() - days * DAY) * 1_000_000n, 0); // nanoseconds of the day
    b.writeInt32LE(days + 2440588, 8); // Julian day number
    return b;
  };
  const pages: Buffer[] = [];
  const rowGroups: TStruct[] = [];
  let offset = 4; // after "PAR1"
  for (const g of groups) {
    const data = Buffer.concat(g.map(int96));
    // A DATA_PAGE of PLAIN values (RLE levels, none written for a REQUIRED column).
    const dataPage: TStruct = [
      [1, { i32: g.length }],
      [2, { i32: 0 }],
      [3, { i32: 3 }],
      [4, { i32: 3 }],
    ];
    const header = encode([
      [1, { i32: 0 }],
      [2, { i32: data.length }],
      [3, { i32: data.length }],
      [5, { struct: dataPage }],
    ]);
    const size = BigInt(header.length + data.length);
    // ColumnMetaData: INT96, PLAIN, path "ts", uncompressed, its page, and statistics null_count/max/min.
    const meta: TStruct = [
      [1, { i32: 3 }],
      [2, { list: [{ i32: 0 }], elem: I32 }],
      [3, { list: [{ str: 'ts' }], elem: BINARY }],
      [4, { i32: 0 }],
      [5, { i64: BigInt(g.length) }],
      [6, { i64: size }],
      [7, { i64: size }],
      [9, { i64: BigInt(offset) }],
      [
        12,
        {
          struct: [
            [3, { i64: 0n }],
            [5, { bin: int96(claimed) }],
            [6, { bin: int96(claimed) }],
          ],
        },
      ],
    ];
    const chunk: TStruct = [
      [2, { i64: BigInt(offset) }],
      [3, { struct: meta }],
    ];
    const rows = BigInt(g.length);
    rowGroups.push([
      [1, { list: [{ struct: chunk }], elem: STRUCT }],
      [2, { i64: size }],
      [3, { i64: rows }],
    ]);
    pages.push(header, data);
    offset += Number(size);
  }
  // The root with one child, and `ts`: INT96, REQUIRED.
  const schema: TStruct[] = [
    [
      [4, { str: 'schema' }],
      [5, { i32: 1 }],
    ],
    [
      [1, { i32: 3 }],
      [3, { i32: 0 }],
      [4, { str: 'ts' }],
    ],
  ];
  return parquetFile(Buffer.concat(pages), [
    [1, { i32: 1 }],
    [2, { list: schema.map((struct) => ({ struct })), elem: STRUCT }],
    [3, { i64: BigInt(groups.reduce((n, g) => n + g.length, 0)) }],
    [4, { list: rowGroups.map((struct) => ({ struct })), elem: STRUCT }],
  ]);
}
