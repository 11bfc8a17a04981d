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
import { BINARY, encode, I32, parquetFile, STRUCT, type TStruct } from './thrift.js';

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

/** PLAIN byte arrays: a u32 length, then the bytes, each. */
const plain = (values: string[]) =>
  Buffer.concat(
    values.flatMap((v) => {
      const len = Buffer.alloc(4);
      len.writeUInt32LE(Buffer.byteLength(v));
      return [len, Buffer.from(v)];
    }),
  );

/** An uncompressed page: its header (type, sizes, the page type's own header as field `kind`), then its body. */
function page(type: number, kind: number, header: TStruct, body: Buffer): Buffer {
  const sizes: TStruct = [
    [1, { i32: type }],
    [2, { i32: body.length }],
    [3, { i32: body.length }],
    [kind, { struct: header }],
  ];
  return Buffer.concat([encode(sizes), body]);
}
const dictionaryPage = (values: string[]) =>
  page(
    2,
    7,
    [
      [1, { i32: values.length }],
      [2, { i32: 0 }],
    ],
    plain(values),
  );
/** A v1 data page of a required column: PLAIN (0) values, or RLE_DICTIONARY (8) runs of [count < 64, key < 256]. */
const dataPage = (rows: number, encoding: 0 | 8, body: Buffer) =>
  page(
    0,
    5,
    [
      [1, { i32: rows }],
      [2, { i32: encoding }],
      [3, { i32: 3 }],
      [4, { i32: 3 }],
    ],
    body,
  );
const runs = (r: Array<[count: number, key: number]>) => Buffer.from([8, ...r.flatMap(([c, k]) => [c << 1, k])]);

/** A file of one required UTF8 column "s" in one uncompressed row group: a dictionary page, then `pages`. */
function forged(dictionary: string[], pages: Array<[rows: number, page: Buffer]>): Buffer {
  const dict = dictionaryPage(dictionary);
  const chunk = Buffer.concat([dict, ...pages.map(([, p]) => p)]);
  const rows = BigInt(pages.reduce((a, [n]) => a + n, 0));
  const size = BigInt(chunk.length);
  const meta: TStruct = [
    [1, { i32: 6 }], // BYTE_ARRAY
    [2, { list: [{ i32: 0 }, { i32: 8 }], elem: I32 }],
    [3, { list: [{ str: 's' }], elem: BINARY }],
    [4, { i32: 0 }], // UNCOMPRESSED
    [5, { i64: rows }],
    [6, { i64: size }],
    [7, { i64: size }],
    [9, { i64: 4n + BigInt(dict.length) }],
    [11, { i64: 4n }],
  ];
  const schema = [
    {
      struct: [
        [4, { str: 'schema' }],
        [5, { i32: 1 }],
      ] as TStruct,
    },
    {
      struct: [
        [1, { i32: 6 }],
        [3, { i32: 0 }],
        [4, { str: 's' }],
        [6, { i32: 0 }],
      ] as TStruct,
    }, // UTF8
  ];
  const column: TStruct = [
    [2, { i64: 4n }],
    [3, { struct: meta }],
  ];
  const group: TStruct = [
    [1, { list: [{ struct: column }], elem: STRUCT }],
    [2, { i64: size }],
    [3, { i64: rows }],
  ];
  return parquetFile(chunk, [
    [1, { i32: 1 }],
    [2, { list: schema, elem: STRUCT }],
    [3, { i64: rows }],
    [4, { list: [{ struct: group }], elem: STRUCT }],
  ]);
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

  it('a chunk of dictionary indices, and one with a page of plain values after them (read as strings)', async () => {
    const dictionary = ['b', 'zz', 'a'];
    const indices = dataPage(
      5,
      8,
      runs([
        [2, 1],
        [3, 2],
      ]),
    ); // zz zz a a a
    const only = forged(dictionary, [[5, indices]]);
    expect(await fromRows(only, 's')).toEqual([5, 'a', 'zz']);
    expect(normal(await inScan(only, 's'))).toEqual([5, 'a', 'zz']);
    const mixed = forged(dictionary, [
      [5, indices],
      [2, dataPage(2, 0, plain(['zzz', '0']))],
    ]);
    expect(await fromRows(mixed, 's')).toEqual([7, '0', 'zzz']);
    expect(normal(await inScan(mixed, 's'))).toEqual([7, '0', 'zzz']);
  });

  it('MIN and MAX in JS string order over long shared prefixes and characters beyond U+FFFF', async () => {
    // UTF-8 byte order puts U+FFFD before U+1F600; JS (UTF-16 code units) puts it after (0xFFFD > 0xD83D).
    const dictionary = ['prefix-12\uFFFD', 'prefix-12\u{1F600}', 'prefix-123456789', 'prefix-12', 'prefix-12345678'];
    const file = forged(dictionary, [
      [
        5,
        dataPage(
          5,
          8,
          runs([
            [1, 0],
            [1, 1],
            [1, 2],
            [1, 3],
            [1, 4],
          ]),
        ),
      ],
    ]);
    const want = [5, 'prefix-12', 'prefix-12\uFFFD'];
    expect(await fromRows(file, 's')).toEqual(want);
    expect(normal(await inScan(file, 's'))).toEqual(want);
    const turned = forged(dictionary.slice().reverse(), [
      [
        5,
        dataPage(
          5,
          8,
          runs([
            [1, 4],
            [1, 2],
            [1, 0],
            [1, 3],
            [1, 1],
          ]),
        ),
      ],
    ]);
    expect(normal(await inScan(turned, 's'))).toEqual(want);
  });

  it('a dictionary bomb aggregates without expanding its rows', async () => {
    // One 300 KB entry that 1,000 rows point at: read as a dictionary array, no batch holds its copies.
    const bytes = await fixture('dictionary-bomb.parquet');
    const [count, min, max] = normal(await inScan(bytes, 's'));
    expect(count).toBe(1000);
    expect(min).toBe('x'.repeat(300 * 1024));
    expect(max).toBe(min);
  });
});

describe('COUNT, MIN and MAX from exact column-chunk statistics', () => {
  /** bufferSource, counting the bytes of the ranges streamed (footer reads are `read`s). */
  const counted = (bytes: Buffer) => {
    const inner = bufferSource(bytes);
    const c = {
      ...inner,
      streamed: 0,
      async *stream(start?: number, end?: number) {
        for await (const chunk of inner.stream(start, end)) {
          c.streamed += chunk.byteLength;
          yield chunk;
        }
      },
    };
    return c;
  };
  const all = (name: string): ScanAggregate[] =>
    (['COUNT', 'MIN', 'MAX'] as const).map((func) => ({ func, column: column(name) }));

  it('answers without reading a data page where the statistics are exact, and decodes where there are none', async () => {
    for (const [file, name, fromStats] of [
      ['dictionary.parquet', 'cat', true],
      ['rowgroups.parquet', 'grp', true],
      ['pruning.parquet', 'id', true],
      ['pruning-nostats.parquet', 'id', false],
      ['pruning-nostats.parquet', 'grp', false],
    ] as const) {
      const bytes = await fixture(file);
      const source = counted(bytes);
      const r = await scanParquet(source, undefined, { stats: newStats(), aggregates: all(name) });
      expect(await collect(r)).toEqual([]);
      const rows = (await values(bytes, name)).filter((v) => v !== null && v !== undefined);
      const sorted = rows
        .map((v) => (typeof v === 'bigint' ? Number(v) : v))
        .sort((a, b) => (a! < b! ? -1 : a! > b! ? 1 : 0));
      expect(normal(r.aggregates!.values!), `${file} ${name}`).toEqual([rows.length, sorted[0], sorted.at(-1)]);
      expect(source.streamed === 0, `${file} ${name}: answered from the statistics`).toBe(fromStats);
    }
  });
});

describe('SUM of numeric columns in the Parquet scan', () => {
  for (const file of ['types-snappy.parquet', 'types-v2-nodict.parquet', 'rowgroups.parquet']) {
    it(`${file}: integers exact (past 64 bits IntegerOverflow), doubles added in row order`, async () => {
      const bytes = await fixture(file);
      const ints = file === 'rowgroups.parquet' ? ['id'] : ['i64', 'big'];
      for (const name of ints) {
        const all = await values(bytes, name);
        expect(all.length).toBeGreaterThan(0);
        const want = all.reduce((a: bigint, v) => a + BigInt(v as number | bigint), 0n);
        if (want > 9223372036854775807n) {
          // SUM of INT is an INT, 8 bytes (AWS s3-select-sql-reference-aggregate.html): `big` (2^62 + i) passes it.
          await expect(inScan(bytes, name, ['SUM', 'COUNT']), name).rejects.toMatchObject({ code: 'IntegerOverflow' });
          continue;
        }
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
