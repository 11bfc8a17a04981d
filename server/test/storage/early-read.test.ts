// A GET's first batch begun with its metadata read, from the metadata the object's last read found (engine/get.ts
// readEarly), in the same pool task as the metadata checks: the GET takes that batch instead of reading it again when its own metadata read chose the same
// version; an object overwritten or deleted in between is answered as it now is, never from the early batch; a GET
// that may be answered without its body (304), a range the API refuses, or the first read of an object begin
// nothing early.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countedGet, data, drives, open, put, quiet } from './helpers.js';
import type { ByteRange, ErasureObjects, OpenOptions } from '../../src/storage/index.js';

const BS = 4096; // small blocks: batches of a few KiB

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

/** A GET as the API makes it: the Range header passed to openObject, then the range it parsed read. */
const getRange = (key: string, header: string | undefined, range?: ByteRange, more: OpenOptions = {}) =>
  countedGet(s, key, { readingWhole: header === undefined, readingRange: header, ...more }, range);

describe('a GET after a GET of the same object', () => {
  const obj = data(BS * 40 + 123);

  it('begins its first batch early and takes it, reading it once', async () => {
    await put(s, 'bkt', 'k', obj);
    const first = await getRange('k', `bytes=${obj.length - 1000}-`, { start: obj.length - 1000, end: obj.length - 1 });
    expect(first.bytes.equals(obj.subarray(obj.length - 1000))).toBe(true);
    expect(first.early).toBe(0); // the object's first read: no hint yet

    // A chunk in the middle, off the block grid: begun early from the footer GET's metadata.
    const start = BS * 5 + 700;
    const end = BS * 9 + 99;
    quiet(s);
    const alone = await getRange('k', `bytes=${start}-${end}`, { start, end });
    expect(alone.bytes.equals(obj.subarray(start, end + 1))).toBe(true);
    expect(alone.early).toBe(1);
    // The early batch is the GET's first: taken from the cache (shared), not read a second time.
    expect(alone.shared).toBeGreaterThanOrEqual(1);

    // The same GET with nothing begun early (a conditional GET) reads the same shards itself.
    quiet(s);
    const plain = await getRange('k', `bytes=${start}-${end}`, { start, end }, { conditional: true });
    expect(plain.bytes.equals(obj.subarray(start, end + 1))).toBe(true);
    expect(plain.early).toBe(0);
    expect(plain.shared).toBe(0);
    expect(alone.reads).toBe(plain.reads);
    // The early batch's shard reads ran in the pool task of the GET's metadata checks, not in one of their own.
    expect(plain.tasks).toBeGreaterThanOrEqual(1);
    expect(alone.tasks).toBe(plain.tasks - 1);

    // Bytes of one data shard's frame (a Parquet footer's shape) as well.
    quiet(s);
    const [a, z] = [BS * 20 + 10, BS * 20 + 500];
    const footer = await getRange('k', `bytes=${a}-${z}`, { start: a, end: z });
    expect(footer.bytes.equals(obj.subarray(a, z + 1))).toBe(true);
    expect(footer.early).toBe(1);
    expect(footer.reads).toBe(1);
    expect(footer.tasks).toBe(0);
  });

  it('answers an object overwritten since with the new bytes, not the early batch of the old', async () => {
    const old = data(BS * 20);
    const now = data(BS * 20);
    await put(s, 'bkt', 'over', old);
    await getRange('over', 'bytes=0-99', { start: 0, end: 99 }); // the hint: the old version's metadata
    await put(s, 'bkt', 'over', now);
    const r = await getRange('over', `bytes=${BS + 5}-${BS * 6}`, { start: BS + 5, end: BS * 6 });
    expect(r.early).toBe(1); // begun from the old version's metadata...
    expect(r.bytes.equals(now.subarray(BS + 5, BS * 6 + 1))).toBe(true); // ...and not what the GET answers
    expect(r.bytes.equals(old.subarray(BS + 5, BS * 6 + 1))).toBe(false);
  });

  it('answers an object deleted since with NoSuchKey', async () => {
    await put(s, 'bkt', 'gone', data(BS * 8));
    await getRange('gone', 'bytes=0-99', { start: 0, end: 99 });
    await s.deleteObject('bkt', 'gone');
    await expect(s.openObject('bkt', 'gone', { readingRange: 'bytes=100-200' })).rejects.toMatchObject({
      code: 'NoSuchKey',
    });
  });

  it('begins nothing early for a conditional GET, a range past the end, or a malformed range', async () => {
    const obj2 = data(BS * 8);
    await put(s, 'bkt', 'c', obj2);
    await getRange('c', undefined); // the hint
    for (const [header, more] of [
      ['bytes=0-99', { conditional: true }],
      [`bytes=${obj2.length}-`, {}],
      ['bytes=-0', {}],
      ['bytes=5-1', {}],
      ['bytes=1-2,5-6', {}],
      ['items=0-9', {}],
    ] as [string, OpenOptions][]) {
      const before = s.readStats().earlyReads;
      const o = await s.openObject('bkt', 'c', { readingRange: header, ...more });
      o.release?.();
      expect(s.readStats().earlyReads - before, header).toBe(0);
    }
    // A whole GET (no Range) begins its first batch early.
    const whole = await getRange('c', undefined);
    expect(whole.early).toBe(1);
    expect(whole.bytes.equals(obj2)).toBe(true);
  });

  it('begins nothing for a HEAD, and a HEAD is a hint for the GET after it', async () => {
    const obj3 = data(BS * 8);
    await put(s, 'bkt', 'fresh', obj3);
    const before = s.readStats().earlyReads;
    await s.headObject('bkt', 'fresh');
    expect(s.readStats().earlyReads).toBe(before);
    const r = await getRange('fresh', 'bytes=10-5000', { start: 10, end: 5000 });
    expect(r.early).toBe(1);
    expect(r.bytes.equals(obj3.subarray(10, 5001))).toBe(true);
  });
});
