// Worker threads of one process share what they read (StorageOptions.sharedReads, storage/shared-reads.ts): a GET
// that lands on a worker that never saw the object checks the metadata files another worker read by their
// identity instead of reading them, and takes a small batch that worker read for the same window instead of
// reading the shards again. Two storage engines in one process over the same drives stand for two worker threads
// (the shared spaces are the process's). An object changed or deleted since is answered as it now is.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { data, drives, get, open, put } from './helpers.js';
import type { ByteRange, ErasureObjects } from '../../src/storage/index.js';

const BS = 4096; // small blocks: batches of a few KiB

let d: Awaited<ReturnType<typeof drives>>;
let first: ErasureObjects; // the worker that served the last request
let second: ErasureObjects; // the one a new connection landed on
let alone: ErasureObjects; // a worker that shares nothing
let wide: ErasureObjects; // one that writes 128 KiB blocks: batches of 512 KiB
beforeAll(async () => {
  d = await drives(4);
  const o = { blockSize: BS, inlineLimit: 0, sharedReads: true };
  first = await open(d.paths, o);
  await first.makeBucket('bkt');
  second = await open(d.paths, o);
  alone = await open(d.paths, { ...o, sharedReads: false });
  wide = await open(d.paths, { ...o, blockSize: 128 * 1024 });
});
afterAll(async () => {
  await Promise.all([first?.close(), second?.close(), alone?.close(), wide?.close()]);
  await d?.cleanup();
});

/** Files changed within 50 ms are not kept (drive/local-drive.ts SETTLED_MS): a moment after a write. */
async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 100));
}

async function getRange(s: ErasureObjects, key: string, range: ByteRange) {
  const before = s.readStats();
  const bytes = await get(s, 'bkt', key, { range });
  const after = s.readStats();
  return {
    bytes,
    reads: after.shardReads - before.shardReads,
    batches: after.sharedBatches - before.sharedBatches,
    metadata: after.sharedMetadata - before.sharedMetadata,
  };
}

describe('a range GET on a second worker', () => {
  const obj = data(BS * 40 + 123);
  const footer = { start: obj.length - 1000, end: obj.length - 1 };

  it('takes the batch and metadata files the first worker read, reading no shard', async () => {
    await put(first, 'bkt', 'k', obj);
    await settle();
    const a = await getRange(first, 'k', footer);
    expect(a.bytes.equals(obj.subarray(footer.start))).toBe(true);
    expect(a.reads).toBeGreaterThan(0);
    expect(a.batches).toBe(0);

    const b = await getRange(second, 'k', footer);
    expect(b.bytes.equals(obj.subarray(footer.start))).toBe(true);
    expect(b.batches).toBe(1);
    expect(b.reads).toBe(0);
    expect(b.metadata).toBe(4); // every drive's metadata file: checked by its identity, not read

    // A worker that shares nothing reads the shards itself.
    const c = await getRange(alone, 'k', footer);
    expect(c.bytes.equals(obj.subarray(footer.start))).toBe(true);
    expect(c.batches).toBe(0);
    expect(c.metadata).toBe(0);
    expect(c.reads).toBe(a.reads);
  });

  it('reads a batch too large to share itself', async () => {
    const big = data(1024 * 1024);
    await put(wide, 'bkt', 'big', big);
    await settle();
    const range = { start: 10, end: big.length - 10 }; // one batch of 4 blocks, 1 MiB: over SHARED_BATCH_MAX
    await getRange(first, 'big', range);
    const b = await getRange(second, 'big', range);
    expect(b.bytes.equals(big.subarray(10, big.length - 9))).toBe(true);
    expect(b.batches).toBe(0);
    expect(b.reads).toBeGreaterThan(0);
  });

  it('answers an object overwritten since with its new bytes', async () => {
    const old = data(BS * 8);
    await put(first, 'bkt', 'w', old);
    const range = { start: BS * 3 + 5, end: BS * 3 + 900 };
    await getRange(first, 'w', range);
    const now = data(BS * 8);
    await put(first, 'bkt', 'w', now);
    const b = await getRange(second, 'w', range);
    expect(b.bytes.equals(now.subarray(range.start, range.end + 1))).toBe(true);
    expect(b.batches).toBe(0);
    expect(b.metadata).toBe(0); // the files changed: read again, not taken
  });

  it('answers an object deleted since with NoSuchKey', async () => {
    const gone = data(BS * 4);
    await put(first, 'bkt', 'gone', gone);
    await getRange(first, 'gone', { start: 0, end: 99 });
    await first.deleteObject('bkt', 'gone');
    await expect(get(second, 'bkt', 'gone', { range: { start: 0, end: 99 } })).rejects.toMatchObject({
      code: 'NoSuchKey',
    });
  });
});
