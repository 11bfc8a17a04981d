import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { bufferSource, scanCsv, scanJson, withDecompression } from '../../src/formats/index.js';
import { collect, newStats } from './helpers.js';

const fixture = (name: string) => readFile(new URL(`./fixtures/${name}`, import.meta.url));
const rowsCsv = Array.from({ length: 20000 }, (_, i) => `${i},name-${i},${(i * 7) % 1000}\n`).join('');

describe('withDecompression', () => {
  it('GZIP: CSV and JSON, counting compressed and decompressed bytes apart', async () => {
    const gz = gzipSync(rowsCsv);
    const stats = newStats();
    const rows = await collect(scanCsv(withDecompression(bufferSource(gz, 4096), 'GZIP'), {}, { stats }));
    expect(rows).toHaveLength(20000);
    expect(rows[123]).toEqual(['123', 'name-123', '861']);
    expect(stats.bytesScanned).toBe(gz.length);
    expect(stats.bytesProcessed).toBe(Buffer.byteLength(rowsCsv));
    const json = gzipSync('{"a":1}\n{"a":2}\n');
    expect(
      await collect(
        scanJson(withDecompression(bufferSource(json, 3), 'gzip'), { type: 'LINES' }, { stats: newStats() }),
      ),
    ).toEqual([{ a: 1 }, { a: 2 }]);
    // Concatenated gzip members are one stream.
    const two = Buffer.concat([gzipSync('a,b\n'), gzipSync('c,d\n')]);
    expect(await collect(scanCsv(withDecompression(bufferSource(two), 'GZIP'), {}, { stats: newStats() }))).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
  });

  it('BZIP2: several blocks and concatenated streams', async () => {
    const bz = await fixture('rows.csv.bz2');
    const stats = newStats();
    const rows = await collect(scanCsv(withDecompression(bufferSource(bz, 8192), 'BZIP2'), {}, { stats }));
    expect(rows).toHaveLength(20000);
    expect(rows[19999]).toEqual(['19999', 'name-19999', String((19999 * 7) % 1000)]);
    expect(stats.bytesScanned).toBe(bz.length);
    expect(stats.bytesProcessed).toBe(Buffer.byteLength(rowsCsv));
    const two = await fixture('two-streams.csv.bz2');
    expect(await collect(scanCsv(withDecompression(bufferSource(two, 7), 'BZIP2'), {}, { stats: newStats() }))).toEqual(
      [
        ['a', 'b'],
        ['c', 'd'],
      ],
    );
  });

  it('LIMIT stops decompression early', async () => {
    const gz = gzipSync(rowsCsv.repeat(5));
    const stats = newStats();
    const rows = await collect(scanCsv(withDecompression(bufferSource(gz, 4096), 'GZIP'), {}, { stats, limit: 10 }));
    expect(rows).toHaveLength(10);
    expect(stats.bytesScanned).toBeLessThan(gz.length / 2);
  });

  it('a wrong CompressionType is an error, not junk', async () => {
    const plain = Buffer.from(rowsCsv);
    const gz = gzipSync(rowsCsv);
    const bz = await fixture('rows.csv.bz2');
    const run = (bytes: Buffer, type: string) =>
      collect(scanCsv(withDecompression(bufferSource(bytes, 1000), type), {}, { stats: newStats() }));
    await expect(run(plain, 'GZIP')).rejects.toMatchObject({ code: 'InvalidCompressionFormat' });
    await expect(run(plain, 'BZIP2')).rejects.toMatchObject({ code: 'InvalidCompressionFormat' });
    await expect(run(gz, 'BZIP2')).rejects.toMatchObject({ code: 'InvalidCompressionFormat' });
    await expect(run(bz, 'GZIP')).rejects.toMatchObject({ code: 'InvalidCompressionFormat' });
    await expect(run(gz, 'NONE')).rejects.toMatchObject({ code: 'InvalidCompressionFormat' });
    await expect(run(bz, 'NONE')).rejects.toMatchObject({ code: 'InvalidCompressionFormat' });
    expect(() => withDecompression(bufferSource(gz), 'ZIP')).toThrow(
      expect.objectContaining({ code: 'InvalidCompressionFormat' }),
    );
  });

  it('truncated or corrupt compressed data ends in TruncatedInput', async () => {
    const gz = gzipSync(rowsCsv);
    const bz = await fixture('rows.csv.bz2');
    const run = (bytes: Buffer, type: string) =>
      collect(scanCsv(withDecompression(bufferSource(bytes, 1000), type), {}, { stats: newStats() }));
    await expect(run(gz.subarray(0, gz.length - 50), 'GZIP')).rejects.toMatchObject({ code: 'TruncatedInput' });
    await expect(run(bz.subarray(0, bz.length >> 1), 'BZIP2')).rejects.toMatchObject({ code: 'TruncatedInput' });
    const corrupt = Buffer.from(bz);
    corrupt.fill(0x55, 2000, 2100);
    await expect(run(corrupt, 'BZIP2')).rejects.toMatchObject({ code: 'TruncatedInput' });
  });

  it('ScanRange on compressed input is refused', async () => {
    const gz = gzipSync(rowsCsv);
    await expect(
      scanCsv(withDecompression(bufferSource(gz), 'GZIP'), {}, { stats: newStats(), scanRange: { start: 0, end: 10 } }),
    ).rejects.toMatchObject({ code: 'UnsupportedScanRangeInput' });
  });
});
