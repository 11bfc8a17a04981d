import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { bufferSource, scanParquet, type ScanOptions } from '../../src/formats/index.js';
import { collect, newStats } from './helpers.js';
import { Decimal } from '../../src/exec/decimal.js';
import type { ScanConjunct, ScanLiteral } from '../../src/formats/types.js';
import { encode, oneColumnFooter, parquetFile } from './thrift.js';

const fixture = (name: string) => readFile(new URL(`./fixtures/${name}`, import.meta.url));

/** A pushed conjunct on a top-level column (the planner builds them from SQL: plan/conjuncts.ts). */
function on(column: string, op: ScanConjunct['op'], ...values: Array<number | string | Date>): ScanConjunct {
  const lit = (v: number | string | Date): ScanLiteral =>
    typeof v === 'string'
      ? { kind: 'string', text: v }
      : v instanceof Date
        ? { kind: 'timestamp', text: String(BigInt(v.getTime()) * 1_000_000n) }
        : { kind: 'int', text: String(v) };
  return { column: { steps: [column], quoted: [false] }, op, values: values.map(lit) };
}
const where = (...conjuncts: ScanConjunct[]) => ({ where: { conjuncts, whole: true } });

async function rows(bytes: Buffer, s: Partial<ScanOptions> = {}) {
  return (await collect(scanParquet(bufferSource(bytes), undefined, { stats: newStats(), ...s }))) as Record<
    string,
    unknown
  >[];
}

/** Bytes of the file outside its footer, and how many of them a scan read (footer reads subtracted). */
const footerBytes = (bytes: Buffer) => bytes.readUInt32LE(bytes.length - 8) + 8;
const dataSize = (bytes: Buffer) => bytes.length - footerBytes(bytes);
const dataRead = (bytes: Buffer, stats: ScanOptions['stats']) => stats.bytesScanned - footerBytes(bytes);

describe('scanParquet', () => {
  for (const codec of ['none', 'snappy', 'gzip', 'brotli', 'zstd', 'lz4', 'v2-nodict']) {
    it(`reads every type pyarrow writes (${codec})`, async () => {
      const r = await rows(await fixture(`types-${codec}.parquet`));
      expect(r).toHaveLength(40);
      const row = r[5];
      expect(row).toMatchObject({
        i8: -45,
        i16: 1500,
        i32: 350000,
        i64: 5_000_000_000_000,
        u32: 4_000_000_005,
        f32: 5.5,
        f64: 1.25,
        flag: false,
        name: 'name-5',
        list: [0],
        st: { a: 5, b: 'b5' },
        los: [{ x: 5 }, { x: 5 }],
        map: { k: 5 },
      });
      expect(row.big).toBe(2n ** 62n + 5n); // beyond 2^53 stays exact
      // DECIMAL of every width stays exact; timestamps keep the digits of their unit.
      expect(row.dec).toBeInstanceOf(Decimal);
      expect(String(row.dec)).toBe('6.25');
      expect(String(row.dec38)).toBe('500000000000000000000');
      expect(String(row.day)).toBe('2024-01-06T00:00:00.000Z');
      expect(String(row.ts_ms)).toBe('2024-01-01T00:00:05.000Z');
      expect(String(row.ts_us)).toBe('2024-01-01T00:00:00.000005Z');
      expect(String(row.ts_ns)).toBe('2024-01-01T00:05:00.000000000Z');
      expect(r[3].name).toBeNull();
      expect(r[39]).toMatchObject({ i32: 39 * 70000, list: [0, 1, 2] });
      expect(String(r[39].dec)).toBe('48.75');
    });
  }

  for (const name of ['encodings.parquet', 'encodings-v2.parquet']) {
    it(`decodes DELTA_*, BYTE_STREAM_SPLIT, RLE and PLAIN (${name})`, async () => {
      const r = await rows(await fixture(name));
      expect(r).toHaveLength(40);
      r.forEach((row, i) =>
        expect(row).toEqual({
          delta_i32: i * 3 - 20,
          delta_i64: i * 1e10,
          dlba: `s${i}`,
          dba: `prefix-${String(i).padStart(4, '0')}`,
          bss_f32: i * 1.5,
          bss_f64: i * 2.25,
          bss_i32: i * 5,
          rle_bool: i % 3 === 0,
          plain: i,
        }),
      );
    });
  }

  it('decodes legacy INT96 timestamps (to the nanosecond)', async () => {
    const r = await rows(await fixture('int96.parquet'));
    expect(String(r[3].ts)).toBe('2024-01-01T03:00:00.000000000Z');
  });

  it('decodes dictionary pages', async () => {
    const r = await rows(await fixture('dictionary.parquet'));
    expect(r.map((x) => x.cat)).toEqual(Array.from({ length: 40 }, (_, i) => ['red', 'green', 'blue'][i % 3]));
  });

  it('reads only the needed columns', async () => {
    const bytes = await fixture('rowgroups.parquet');
    const all = newStats();
    await rows(bytes, { stats: all });
    const one = newStats();
    const r = await rows(bytes, { stats: one, columns: ['ID'] });
    expect(Object.keys(r[0])).toEqual(['id']);
    expect(r).toHaveLength(1000);
    expect(one.bytesScanned).toBeLessThan(all.bytesScanned / 2);
    expect(one.bytesScanned).toBe(one.bytesProcessed);
  });

  it('no columns needed (COUNT(*)): one empty record per row', async () => {
    const r = await rows(await fixture('rowgroups.parquet'), { columns: [] });
    expect(r).toHaveLength(1000);
  });

  it('skips row groups whose min/max cannot match the conjuncts, and filters rows in the scan', async () => {
    const bytes = await fixture('rowgroups.parquet');
    const stats = newStats();
    const r = await rows(bytes, { stats, ...where(on('id', '>=', 250), on('id', '<', 300)) });
    expect(r.map((x) => x.id)).toEqual(Array.from({ length: 50 }, (_, i) => 250 + i));
    expect(dataRead(bytes, stats)).toBeLessThan(dataSize(bytes) / 5);
    // Strings and timestamps prune too; a predicate matching nothing reads only the footer.
    const s2 = newStats();
    expect(await rows(bytes, { stats: s2, ...where(on('grp', '=', 'zzz')) })).toEqual([]);
    expect(s2.bytesScanned).toBe(footerBytes(bytes));
    const s3 = newStats();
    const r3 = await rows(bytes, { stats: s3, ...where(on('ts', '<', new Date('2024-01-02T00:00:00Z'))) });
    expect(r3).toHaveLength(24);
    expect(dataRead(bytes, s3)).toBeLessThan(dataSize(bytes) / 5);
    // A conjunct on an unknown column or with a mismatched type is left to the evaluator.
    expect(await rows(bytes, where(on('nope', '=', 1)))).toHaveLength(1000);
    expect(await rows(bytes, where(on('id', '=', 'abc')))).toHaveLength(1000);
    expect(await rows(bytes, where(on('id', 'IS NULL')))).toHaveLength(0);
    expect((await rows(bytes, where(on('grp', 'IN', 'g1', 'g3')))).map((x) => x.grp)).toEqual([
      ...Array(100).fill('g1'),
      ...Array(100).fill('g3'),
    ]);
    expect(await rows(bytes, where(on('grp', 'LIKE PREFIX', 'g9')))).toHaveLength(100);
  });

  it('applies LIMIT over rows the scan filtered exactly, stopping reads early', async () => {
    const bytes = await fixture('rowgroups.parquet');
    const stats = newStats();
    const r = await rows(bytes, { stats, limit: 5, ...where(on('id', '>=', 1)) });
    expect(r.map((x) => x.id)).toEqual([1, 2, 3, 4, 5]);
    expect(dataRead(bytes, stats)).toBeLessThan(dataSize(bytes) / 5);
  });

  it('ScanRange selects the row groups that start in the range, each exactly once', async () => {
    const bytes = await fixture('rowgroups.parquet');
    const ids: number[] = [];
    for (let start = 0; start < bytes.length; start += 5000) {
      const r = await rows(bytes, { scanRange: { start, end: start + 4999 }, columns: ['id'] });
      ids.push(...r.map((x) => x.id as number));
    }
    expect(ids).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it('forged footers with huge declared sizes are refused before anything is allocated', async () => {
    const body = Buffer.alloc(20);
    const rss0 = process.memoryUsage().rss;
    const cases: Array<[string, Buffer, string]> = [
      ['sane control', parquetFile(body, oneColumnFooter({})), 'ParquetParsingError'], // body is not a page
      [
        'chunk of 2^40 bytes uncompressed',
        parquetFile(body, oneColumnFooter({ uncompressed: 2n ** 40n })),
        'OverMaxParquetBlockSize',
      ],
      [
        'chunk past the end of the file',
        parquetFile(body, oneColumnFooter({ compressed: 2n ** 33n })),
        'ParquetParsingError',
      ],
      ['chunk at a negative offset', parquetFile(body, oneColumnFooter({ offset: -5n })), 'ParquetParsingError'],
      ['2^40 rows', parquetFile(body, oneColumnFooter({ rows: 2n ** 40n })), 'OverMaxParquetBlockSize'],
      ['path not in the schema', parquetFile(body, oneColumnFooter({ pathCount: 2 })), 'ParquetParsingError'],
    ];
    // A list declaring 2^31 elements in 8 bytes.
    const hugeList = Buffer.concat([
      encode([[1, { i32: 1 }]]).subarray(0, 2),
      Buffer.from([0x19, 0xfc, 0xff, 0xff, 0xff, 0x07]),
    ]);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(hugeList.length);
    cases.push([
      'list of 2^31 elements',
      Buffer.concat([Buffer.from('PAR1'), hugeList, len, Buffer.from('PAR1')]),
      'ParquetParsingError',
    ]);
    for (const [name, bytes, code] of cases) {
      await expect(rows(bytes), name).rejects.toMatchObject({ code });
    }
    expect(process.memoryUsage().rss - rss0).toBeLessThan(256 * 1024 * 1024);
  });

  it('a dictionary bomb is decoded in batches that stay bounded', async () => {
    // 19 KB on disk: one 300 KB text entry that 1,000 rows point at (300 MB decoded). A whole-file batch held
    // every copy at once and aborted the process; the scan cuts batches so their longest entries fit 256 MB.
    const bytes = await fixture('dictionary-bomb.parquet');
    const r = await scanParquet(bufferSource(bytes), undefined, { stats: newStats() });
    let count = 0;
    let largest = 0;
    for await (const batch of r.batches) {
      count += batch.length;
      largest = Math.max(largest, batch.length);
      for (const row of batch) expect((row as { s: string }).s.length).toBe(300 * 1024);
    }
    expect(count).toBe(1000);
    expect(largest).toBeGreaterThan(0);
    expect(largest).toBeLessThanOrEqual(Math.floor((256 * 1024 * 1024) / (300 * 1024)));
  });

  it('hostile files end in a typed error', async () => {
    const good = await fixture('types-zstd.parquet');
    const footerLen = good.readUInt32LE(good.length - 8);
    const cases: Array<[string, Buffer]> = [
      ['empty', Buffer.alloc(0)],
      ['not parquet', Buffer.from('hello world, this is not parquet')],
      ['truncated', good.subarray(0, good.length - 100)],
      ['cut in half', good.subarray(0, good.length >> 1)],
    ];
    const lying = Buffer.from(good);
    lying.writeUInt32LE(0xfffffff0, lying.length - 8);
    cases.push(['lying footer length', lying]);
    const shortFooter = Buffer.from(good);
    shortFooter.writeUInt32LE(footerLen - 10, shortFooter.length - 8);
    cases.push(['footer length too small', shortFooter]);
    const zeroedFooter = Buffer.from(good);
    zeroedFooter.fill(0xff, good.length - 8 - footerLen, good.length - 8);
    cases.push(['garbage footer', zeroedFooter]);
    const pages = Buffer.from(good);
    pages.fill(0x7f, 4, 2000); // page headers and data destroyed
    cases.push(['garbage pages', pages]);
    cases.push(['schema nested 100 deep', await fixture('deep.parquet')]);
    for (const [name, bytes] of cases) {
      await expect(rows(bytes), name).rejects.toMatchObject({
        name: 'SelectError',
        code: expect.stringMatching(/^(ParquetParsingError|OverMaxParquetBlockSize)$/),
      });
    }
  });
});
