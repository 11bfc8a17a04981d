// The Parquet scan reads the ranges it asks for as the source's own chunks (storage's read batches), and the
// native side joins them in the one copy it takes, then cuts out the ranges it asked for; the chunks go back
// to the source (`recycle`) as soon as the scan has copied them. Checked here against the same queries over
// one piece per read: the same records and stats whatever the split (1 byte, 97 bytes, mid-page); a source
// that scribbles over every chunk it is given back (as storage reuses its buffers) changes nothing, and every
// chunk is given back; a range read short is refused.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { bufferSource } from '../../src/formats/index.js';
import type { ByteSource } from '../../src/formats/types.js';
import type { SelectRequest } from '../../src/index.js';
import { runToEnd, statsOf } from '../helpers.js';

const fixture = (name: string) => readFile(new URL(`./fixtures/${name}`, import.meta.url));
const request = (expression: string): SelectRequest => ({ expression, input: { parquet: {} }, output: { csv: {} } });
const digest = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * The file in chunks of `chunk` bytes, each a fresh copy; a chunk given back is overwritten (the source reuses
 * it) and counted. `short`: every ranged stream ends that many bytes early.
 */
function scribbling(bytes: Buffer, chunk: number, short = 0): ByteSource & { given: number; back: number } {
  const s = {
    size: bytes.length,
    given: 0,
    back: 0,
    async read(start: number, end: number) {
      return Buffer.from(bytes.subarray(start, end));
    },
    async *stream(start = 0, end = bytes.length) {
      for (let p = start; p < end - short; p += chunk) {
        s.given++;
        yield Buffer.from(bytes.subarray(p, Math.min(p + chunk, end - short)));
      }
    },
    recycle(c: Uint8Array) {
      s.back++;
      (c as Buffer).fill(0xa5);
    },
  };
  return s;
}

const cases: Array<[string, string]> = [
  ['types-snappy.parquet', 'SELECT * FROM S3Object'],
  ['types-gzip.parquet', 'SELECT s.name, s.i64, s."dec" FROM S3Object s WHERE s.i32 >= 700000'],
  ['types-v2-nodict.parquet', 'SELECT * FROM S3Object'],
  ['encodings-v2.parquet', 'SELECT * FROM S3Object'],
  ['rowgroups.parquet', 'SELECT COUNT(*), SUM(s.id), MIN(s.grp), MAX(s.grp), MAX(s.val) FROM S3Object s'],
  ['rowgroups.parquet', "SELECT s.id, s.ts FROM S3Object s WHERE s.grp = 'g3' OR s.id < 5"],
  ['pruning.parquet', 'SELECT s.id FROM S3Object s WHERE s.id >= 250 AND s.id < 260'],
  // SUM reads the data (COUNT, MIN and MAX alone come from the statistics): `cat` is read as a dictionary array.
  ['dictionary.parquet', 'SELECT COUNT(*), MIN(s.cat), MAX(s.cat), SUM(s.n) FROM S3Object s'],
];

describe('Parquet ranges read in pieces', () => {
  it('gives the same records and stats for any split, with every chunk given back and scribbled over', async () => {
    for (const [file, sql] of cases) {
      const bytes = await fixture(file);
      const want = await runToEnd(request(sql), bufferSource(bytes));
      expect(want.error, `${file}: ${sql}`).toBeUndefined();
      expect(want.records.length, `${file}: ${sql} returns rows`).toBeGreaterThan(0);
      // 1-byte pieces only on the small files: a Buffer per byte is slow on a loaded machine.
      for (const chunk of bytes.length < 4000 ? [1, 97, 4096] : [97, 4096]) {
        const source = scribbling(bytes, chunk);
        const got = await runToEnd(request(sql), source);
        const label = `${file}: ${sql} in ${chunk}-byte pieces`;
        expect(got.error, label).toBeUndefined();
        expect(digest(got.records), label).toBe(digest(want.records));
        expect(statsOf(got), label).toEqual(statsOf(want));
        expect(source.given, label).toBeGreaterThan(0);
        expect(source.back, `${label}: every chunk given back`).toBe(source.given);
      }
    }
  });

  it('refuses a range read short', async () => {
    for (const [file, sql] of cases.slice(0, 5)) {
      const bytes = await fixture(file);
      const got = await runToEnd(request(sql), scribbling(bytes, 4096, 1));
      expect(got.error, `${file}: ${sql}`).toBe('ParquetParsingError');
    }
  });
});
