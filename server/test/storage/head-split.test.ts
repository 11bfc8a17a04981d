// A GET's first batch of more than HEAD_SPLIT_BYTES (a 2.27 MB Parquet column chunk) ends with its first block
// (engine/batches.ts PartBatches.at `head`): the response head and that block go out once its frames are checked,
// while the rest of the range is read beside it in a pool task of its own. A smaller range stays one batch. A GET
// begun early (engine/get.ts readEarly) begins both batches, the first in the pool task of its metadata checks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countedGet, data, drives, open, put, quiet } from './helpers.js';
import type { ByteRange, ErasureObjects, OpenOptions } from '../../src/storage/index.js';

const BS = 512 * 1024;

let d: Awaited<ReturnType<typeof drives>>;
let s: ErasureObjects;
beforeAll(async () => {
  d = await drives(4);
  s = await open(d.paths, { blockSize: BS, inlineLimit: 0 });
  await s.makeBucket('bkt');
});
afterAll(async () => {
  await s?.close();
  await d?.cleanup();
});

/** A GET of `range` as the API makes it (its Range header given to openObject), and the read counters it moved. */
const getRange = (key: string, range: ByteRange, more: OpenOptions = {}) =>
  countedGet(s, key, { readingRange: `bytes=${range.start}-${range.end}`, ...more }, range);

describe("a large range's first batch", () => {
  const obj = data(BS * 6);

  it('ends with its first block: the rest is read beside it', async () => {
    await put(s, 'bkt', 'k', obj);
    // Blocks 1-3 of one grid cell, 1.4 MiB: two batches, the first of block 1 alone.
    const big = { start: BS + 1000, end: BS + 1000 + 1_468_006 };
    const a = await getRange('k', big, { conditional: true });
    expect(a.bytes.equals(obj.subarray(big.start, big.end + 1))).toBe(true);
    expect(a.tasks).toBe(2);
    expect(a.first).toBeLessThanOrEqual(BS - 1000); // the first chunk is of block 1

    // 0.9 MiB over three blocks: one batch, as before.
    quiet(s);
    const small = { start: BS - 100, end: BS - 100 + 943_718 };
    const b = await getRange('k', small, { conditional: true });
    expect(b.bytes.equals(obj.subarray(small.start, small.end + 1))).toBe(true);
    expect(b.tasks).toBe(1);
  });

  it('is begun early with the batch after it, the first in the metadata task', async () => {
    const big = { start: BS + 10, end: BS + 10 + 1_258_291 };
    quiet(s);
    await getRange('k', { start: 0, end: 99 }); // a hint for the next GET
    quiet(s);
    const e = await getRange('k', big);
    expect(e.bytes.equals(obj.subarray(big.start, big.end + 1))).toBe(true);
    expect(e.early).toBe(1);
    expect(e.shared).toBe(2); // both batches taken from what was begun early
    expect(e.tasks).toBe(1); // the first rode the metadata checks' task
  });
});
