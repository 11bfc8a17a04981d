// ReadOptions.mutable (SSE GETs open sealed packages where storage read them): a GET alone gets chunks marked
// its own (body.mutable), taken out of the read-ahead cache, so writing into them changes no later read; GETs
// that share batches through the cache never get a chunk marked theirs that another reader sees.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Readable } from 'node:stream';
import type { ErasureObjects } from '../../src/storage/index.js';
import type { ObjectBody } from '../../src/storage/object-layer.js';
import { data, drives, get, open, put } from './helpers.js';

const BS = 64 * 1024;
let d: Awaited<ReturnType<typeof drives>>;
let s: ErasureObjects;

beforeAll(async () => {
  d = await drives(4);
  // Cache entries live for the whole test: a later GET finds whatever was left there.
  s = await open(d.paths, { blockSize: BS, inlineLimit: 0, readCacheLingerMs: 600_000 });
  await s.makeBucket('bkt');
});

afterAll(async () => {
  await s?.close();
  await d?.cleanup();
});

interface Got {
  bytes: Buffer;
  /** Chunks as received (not given back until the end), and which were marked the reader's. */
  chunks: Buffer[];
  mine: Buffer[];
}

/**
 * A GET asking for mutable chunks: each chunk copied, then (when marked its own) overwritten as an in-place
 * open would; chunks are given back only once `release` is called (a slow socket).
 */
async function mutableGet(key: string, opts: { unverified?: boolean } = {}): Promise<Got & { release(): void }> {
  const body = (await (await s.openObject('bkt', key)).read(undefined, { ...opts, mutable: true })) as ObjectBody;
  const got: Got = { bytes: Buffer.alloc(0), chunks: [], mine: [] };
  const copies: Buffer[] = [];
  for await (const c of body as Readable & AsyncIterable<Buffer>) {
    copies.push(Buffer.from(c));
    got.chunks.push(c);
    if (body.mutable?.(c)) {
      got.mine.push(c);
      c.fill(0xee);
    }
  }
  got.bytes = Buffer.concat(copies);
  return { ...got, release: () => got.chunks.forEach((c) => body.recycle?.(c)) };
}

const overlap = (a: Buffer, b: Buffer) =>
  a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.length && b.byteOffset < a.byteOffset + a.length;

describe('mutable reads', () => {
  it('a GET alone gets its chunks as its own; writing into them changes no later read', async () => {
    const obj = data(BS * 20 + 333);
    await put(s, 'bkt', 'alone', obj);
    for (const unverified of [false, true]) {
      const a = await mutableGet('alone', { unverified });
      expect(a.bytes.equals(obj)).toBe(true);
      expect(a.mine.length).toBe(a.chunks.length);
      a.release();
      // The batches left the cache as they were sent: read again, from the drives, the right bytes.
      const before = s.readStats().shardReads;
      expect((await get(s, 'bkt', 'alone')).equals(obj)).toBe(true);
      const again = await mutableGet('alone', { unverified });
      expect(again.bytes.equals(obj)).toBe(true);
      again.release();
      expect(s.readStats().shardReads).toBeGreaterThan(before);
    }
  });

  it('GETs sharing batches: no chunk marked one reader’s is seen by another', async () => {
    const obj = data(BS * 24 + 5);
    await put(s, 'bkt', 'shared', obj);
    // A plain GET first leaves every batch in the cache (held there, read-only for everyone but one claimant).
    expect((await get(s, 'bkt', 'shared')).equals(obj)).toBe(true);
    const shared = s.readStats().shared;
    const gets = await Promise.all([0, 1, 2].map(() => mutableGet('shared')));
    for (const g of gets) expect(g.bytes.equals(obj)).toBe(true);
    expect(s.readStats().shared).toBeGreaterThan(shared);
    for (const [i, g] of gets.entries())
      for (const c of g.mine)
        for (const [j, h] of gets.entries()) if (i !== j) expect(h.chunks.some((x) => overlap(c, x))).toBe(false);
    for (const g of gets) g.release();
    // What the cache kept was never written into.
    expect((await get(s, 'bkt', 'shared')).equals(obj)).toBe(true);
  });

  it('is ignored without the option: chunks are never marked', async () => {
    const obj = data(BS * 3);
    await put(s, 'bkt', 'plain', obj);
    const body = (await (await s.openObject('bkt', 'plain')).read()) as ObjectBody;
    let marked = 0;
    for await (const c of body as Readable & AsyncIterable<Buffer>) if (body.mutable?.(c)) marked++;
    expect(marked).toBe(0);
  });
});
