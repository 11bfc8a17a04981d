// GET's reads as analytics and ML readers use them, counted in drive reads (readStats): a range that
// starts or ends inside a block reads only the data shards holding it (a Parquet footer: one frame); GETs
// of the same blocks at once, or a footer asked again, share one read (read-ahead cache); an overwrite is
// never answered from the old version's batches; a reader going through an object chunk by chunk gets its
// next chunk read ahead, and the read-ahead stays within one chunk of what it asked; GETs and HEADs of one
// object at once share one metadata read, but never one begun before a write that returned; a GET stopped
// early gives its buffers back once their reads finish, and so do read-ahead batches nobody took.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { data, drives, get, open, put, read, readAll } from './helpers.js';
import { seededRandom } from '../../../test/helpers/random.js';
import { FRAME_HASH_LENGTH, nativeCodec } from '../../src/storage/erasure/codec.js';
import type { ByteRange, ErasureObjects } from '../../src/storage/index.js';
import { BufferPool } from '../../src/storage/erasure/buffer-pool.js';
import { Lease, ReadAhead, recycleChunk, type SharedBatch } from '../../src/storage/engine/read-ahead.js';

const BS = 4096; // small blocks: many blocks and batches from small objects
const SHARD = nativeCodec().shardSize(BS, 2); // 2+2 on four drives
const FRAME = FRAME_HASH_LENGTH + SHARD;

const random = seededRandom();
let d: Awaited<ReturnType<typeof drives>>;
beforeAll(async () => {
  d = await drives(4);
});
afterAll(async () => {
  await d?.cleanup();
});

async function getRange(s: ErasureObjects, key: string, range?: ByteRange): Promise<Buffer> {
  return get(s, 'bkt', key, { range });
}

/** Drive reads (shard reads, their bytes, the pool calls they took) done by `f`. */
async function counted<T>(
  s: ErasureObjects,
  f: () => Promise<T>,
): Promise<{ value: T; reads: number; bytes: number; tasks: number }> {
  const before = s.readStats();
  const value = await f();
  const after = s.readStats();
  return {
    value,
    reads: after.shardReads - before.shardReads,
    bytes: after.shardBytes - before.shardBytes,
    tasks: after.readTasks - before.readTasks,
  };
}

/** Polls (without a time bound of its own: the test's timeout is the bound) until `cond` holds. */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

describe('ranges read only the shards that hold them', () => {
  let s: ErasureObjects;
  const obj = data(BS * 10 + 1000);
  beforeAll(async () => {
    s = await open(d.paths, { blockSize: BS, inlineLimit: 0, readCacheBytes: 0 });
    await s.makeBucket('bkt');
    await put(s, 'bkt', 'k', obj);
  });
  afterAll(async () => {
    await s?.close();
  });

  it.each([
    ['inside the second shard of a block', BS * 3 + SHARD + 10, BS * 3 + SHARD + 20, 1],
    ['inside the first shard of a block', BS * 3 + 5, BS * 3 + 6, 1],
    ['from the second shard of a block to the first of the next', BS * 3 + SHARD + 1, BS * 4 + 1, 2],
    ['two whole blocks and a shard of each neighbour', BS * 3 + SHARD, BS * 6 + SHARD - 1, 6],
    ['a suffix inside the short last block (a footer)', obj.length - 100, obj.length - 1, 1],
  ])('%s', async (_what, start, end, frames) => {
    const r = await counted(s, () => getRange(s, 'k', { start, end }));
    expect(r.value.equals(obj.subarray(start, end + 1))).toBe(true);
    // one read per data shard involved, of exactly the frames holding the range
    expect(r.bytes).toBe(
      frames * FRAME - (end >= BS * 10 ? FRAME - (FRAME_HASH_LENGTH + nativeCodec().shardSize(1000, 2)) : 0),
    );
    expect(r.reads).toBeLessThanOrEqual(frames);
  });

  // Batches of 4 blocks on a grid of 4 (the default): a range's edge batch of at most 2 blocks joins its
  // neighbour. `before`: the reads of grid batches only.
  it.each([
    ['a short first batch joins the next', BS * 3 + 5, BS * 10 + 4, 6, 4],
    ['a short last batch joins the one before', 7, BS * 8 + 4, 5, 4],
    ['both edges join the cell between them', BS * 2 + 9, BS * 9 + 4, 6, 2],
    ['grid batches stay as they are', 0, BS * 8 - 1, 4, 4],
  ])('%s: one read per data shard and batch', async (_what, start, end, before, reads) => {
    const r = await counted(s, () => getRange(s, 'k', { start, end }));
    expect(r.value.equals(obj.subarray(start, end + 1))).toBe(true);
    expect(r.reads).toBe(reads);
    expect(reads).toBeLessThanOrEqual(before);
  });

  it('a whole block and the whole object read every frame once', async () => {
    const block = await counted(s, () => getRange(s, 'k', { start: BS * 2, end: BS * 3 - 1 }));
    expect(block.value.equals(obj.subarray(BS * 2, BS * 3))).toBe(true);
    expect(block.bytes).toBe(2 * FRAME);
    const all = await counted(s, () => getRange(s, 'k'));
    expect(all.value.equals(obj)).toBe(true);
    expect(all.bytes).toBe(10 * 2 * FRAME + 2 * (FRAME_HASH_LENGTH + nativeCodec().shardSize(1000, 2)));
  });

  it('ranges of two cells at any offset read into pooled buffers of few sizes (1, 2, 4 or 8 frames)', async () => {
    // A size per frame count (2 to 6 for these ranges) left the pool missing one size or another under
    // load: a fresh buffer, external memory, V8 mark-compacts (bench/readers/engine-cpu.ts).
    const pool = s.ctx.pool;
    const sizes = new Set<number>();
    const take = pool.take;
    pool.take = (size: number) => {
      sizes.add(size);
      return take.call(pool, size);
    };
    try {
      for (let b = 0; b < 3; b++)
        for (const at of [0, 10, SHARD + 10]) {
          const start = b * BS + at;
          const end = Math.min(start + 8 * BS - 1, obj.length - 1);
          const got = await getRange(s, 'k', { start, end });
          expect(got.equals(obj.subarray(start, end + 1))).toBe(true);
        }
    } finally {
      pool.take = take;
    }
    expect([...sizes].sort((x, y) => x - y)).toEqual(
      [FRAME, 2 * FRAME, 4 * FRAME, 8 * FRAME].filter((x) => sizes.has(x)),
    );
    expect(sizes.size).toBeGreaterThanOrEqual(3);
  });

  it('the data shards of a batch are read in one pool call, a range edge needing one shard in its own', async () => {
    const all = await counted(s, () => getRange(s, 'k'));
    expect(all.reads).toBe(3 * 2); // blocks 0-3, 4-7, 8-10: two data shards each
    expect(all.tasks).toBe(3);
    const edge = await counted(s, () => getRange(s, 'k', { start: BS * 3 + SHARD + 10, end: BS * 3 + SHARD + 20 }));
    expect(edge.reads).toBe(1);
    expect(edge.tasks).toBe(1);
  });
});

describe('the read-ahead cache', () => {
  let s: ErasureObjects;
  beforeAll(async () => {
    s = await open(d.paths, {
      blockSize: BS,
      inlineLimit: 0,
      readBatchBlocks: 4,
      readAheadBatches: 1,
      readCacheLingerMs: 60_000,
    });
    await s.makeBucket('bkt').catch(() => {}); // made by the tests above, on the same drives
  });
  afterAll(async () => {
    await s?.close();
  });

  it('a footer asked again is served from the batch just read: no drive read', async () => {
    const obj = data(BS * 20 + 300);
    await put(s, 'bkt', 'footer', obj);
    const range = { start: obj.length - 64, end: obj.length - 1 };
    const first = await counted(s, () => getRange(s, 'footer', range));
    expect(first.reads).toBe(1);
    const shared = s.readStats().shared;
    const again = await counted(s, () => getRange(s, 'footer', range));
    expect(again.value.equals(obj.subarray(range.start))).toBe(true);
    expect(again.reads).toBe(0);
    expect(s.readStats().shared).toBe(shared + 1);
  });

  it('a footer kept in the cache holds a copy of its bytes: its frame goes back to the pool at once', async () => {
    const obj = data(BS * 20); // the last block is whole: its frames are FRAME long
    await put(s, 'bkt', 'small-buffer', obj);
    const out = s.readStats().poolOutBytes;
    const range = { start: obj.length - 64, end: obj.length - 1 };
    const got = await counted(s, () => getRange(s, 'small-buffer', range));
    expect(got.value.equals(obj.subarray(range.start))).toBe(true);
    expect(got.bytes).toBe(FRAME); // read and verified as a whole frame
    expect(s.readStats().poolOutBytes).toBe(out); // the frame is back; the cache holds 64 bytes
    const again = await counted(s, () => getRange(s, 'small-buffer', range));
    expect(again.value.equals(obj.subarray(range.start))).toBe(true);
    expect(again.reads).toBe(0);
  });

  it('a range of most of a block keeps its frames (no copy), read into buffers of one frame each', async () => {
    const obj = data(BS * 20);
    await put(s, 'bkt', 'edge', obj);
    const out = s.readStats().poolOutBytes;
    const range = { start: BS * 9 + 10, end: BS * 10 - 1 }; // both data shards of block 9, one batch
    const got = await counted(s, () => getRange(s, 'edge', range));
    expect(got.value.equals(obj.subarray(range.start, range.end + 1))).toBe(true);
    expect(got.bytes).toBe(2 * FRAME);
    expect(s.readStats().poolOutBytes - out).toBe(2 * FRAME); // held by the cache: not readBatchBlocks frames each
  });

  it('GETs of the same blocks at once read them once', async () => {
    const a = data(BS * 10);
    const b = data(BS * 10);
    await put(s, 'bkt', 'alone', a);
    await put(s, 'bkt', 'together', b);
    const alone = await counted(s, () => getRange(s, 'alone'));
    expect(alone.value.equals(a)).toBe(true);
    const together = await counted(s, () => Promise.all([0, 1, 2, 3].map(() => getRange(s, 'together'))));
    for (const got of together.value) expect(got.equals(b)).toBe(true);
    expect(together.reads).toBe(alone.reads);
    expect(together.bytes).toBe(alone.bytes);
  });

  it('ranges at random offsets at once, sharing batches that start and end anywhere: every byte once', async () => {
    const obj = data(BS * 40 + 123);
    await put(s, 'bkt', 'random-ranges', obj);
    const shared = s.readStats().shared;
    for (let round = 0; round < 25; round++) {
      await Promise.all(
        Array.from({ length: 6 }, async () => {
          const start = random.int(0, obj.length);
          const end = Math.min(obj.length - 1, start + random.int(0, BS * 9));
          const got = await getRange(s, 'random-ranges', { start, end });
          expect(got.length, `bytes=${start}-${end}`).toBe(end - start + 1);
          expect(got.equals(obj.subarray(start, end + 1)), `bytes=${start}-${end}`).toBe(true);
        }),
      );
    }
    expect(s.readStats().shared).toBeGreaterThan(shared); // batches were shared (off-grid ones among them)
  });

  it('an overwrite is never answered from the old version', async () => {
    const v1 = data(BS * 8);
    const v2 = data(BS * 8);
    const range = { start: BS + 7, end: BS * 5 };
    await put(s, 'bkt', 'over', v1);
    expect((await getRange(s, 'over', range)).equals(v1.subarray(range.start, range.end + 1))).toBe(true);
    await put(s, 'bkt', 'over', v2); // v1's batches are still in the cache (60 s linger)
    const r = await counted(s, () => getRange(s, 'over', range));
    expect(r.value.equals(v2.subarray(range.start, range.end + 1))).toBe(true);
    expect(r.reads).toBeGreaterThan(0);
  });

  it('readers and an alternating writer: every answer is one version, its ETag and bytes together', async () => {
    const versions = [data(BS * 6 + 11), data(BS * 6 + 11)];
    const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
    const etags = versions.map(md5);
    await put(s, 'bkt', 'race', versions[0]);
    let stop = false;
    const writer = (async () => {
      for (let i = 1; !stop; i++) await put(s, 'bkt', 'race', versions[i % 2]);
    })();
    const seen = new Set<number>();
    const reader = async (range?: ByteRange) => {
      for (let i = 0; i < 40 || (seen.size < 2 && i < 2000); i++) {
        const res = await s.openObject('bkt', 'race');
        const body = await readAll(await res.read(range));
        const which = etags.indexOf(res.info.etag);
        expect(which).toBeGreaterThanOrEqual(0);
        const want = range ? versions[which].subarray(range.start, range.end + 1) : versions[which];
        expect(body.equals(want)).toBe(true);
        seen.add(which);
      }
    };
    try {
      const r = { start: BS - 3, end: BS * 4 + 2 };
      await Promise.all([reader(), reader(r), reader(r), reader({ start: BS * 6, end: BS * 6 + 10 })]);
    } finally {
      stop = true;
      await writer;
    }
    expect(seen).toEqual(new Set([0, 1]));
  });

  it('a sequential reader gets its next chunk read ahead; read-ahead stays within one chunk', async () => {
    const obj = data(BS * 64);
    await put(s, 'bkt', 'seq', obj);
    const chunk = BS * 5 + 123; // chunks that do not follow block boundaries
    const before = s.readStats();
    // three chunks, then the reader stops
    let at = 0;
    for (let i = 0; i < 3; i++, at += chunk) {
      expect((await getRange(s, 'seq', { start: at, end: at + chunk - 1 })).equals(obj.subarray(at, at + chunk))).toBe(
        true,
      );
    }
    const stats = s.readStats();
    expect(stats.prefetched).toBeGreaterThan(before.prefetched);
    expect(stats.prefetchUsed).toBeGreaterThan(before.prefetchUsed);
    // Read: the blocks of the three chunks plus at most one chunk ahead (and its two edge blocks), whole frames.
    const needed = Math.ceil((3 * chunk) / BS) * 2 * FRAME;
    await until(() => s.readStats().shardBytes >= stats.shardBytes); // read-ahead in flight is counted when asked
    expect(s.readStats().shardBytes - before.shardBytes).toBeLessThanOrEqual(
      needed + (Math.ceil(chunk / BS) + 2) * 2 * FRAME,
    );
    // and on to the end: every byte right, the last chunk reads nothing past the object
    for (; at < obj.length; at += chunk) {
      const end = Math.min(at + chunk, obj.length);
      expect((await getRange(s, 'seq', { start: at, end: end - 1 })).equals(obj.subarray(at, end))).toBe(true);
    }
    expect(s.readStats().shardBytes - before.shardBytes).toBeLessThanOrEqual(
      64 * 2 * FRAME + (obj.length / chunk + 1) * FRAME,
    );
  });
});

describe('metadata reads shared by reads of one object at once', () => {
  let s: ErasureObjects;
  beforeAll(async () => {
    s = await open(d.paths, { blockSize: BS, inlineLimit: 0 });
    await s.makeBucket('bkt').catch(() => {}); // made by the tests above, on the same drives
  });
  afterAll(async () => {
    await s?.close();
  });

  it('HEADs and GETs of one key at once read its metadata less often than they are asked', async () => {
    await put(s, 'bkt', 'm', data(BS * 3));
    const before = s.readStats().metadataReads;
    await Promise.all([
      ...Array.from({ length: 6 }, () => s.headObject('bkt', 'm')),
      ...Array.from({ length: 6 }, () => get(s, 'bkt', 'm', { range: { start: 0, end: 9 } })),
    ]);
    expect(s.readStats().metadataReads - before).toBeLessThan(12);
  });

  it('a read begun after a write returned sees it, even while an earlier read of the key is in flight', async () => {
    for (let i = 0; i < 20; i++) {
      const v1 = data(100 + i);
      const v2 = data(200 + i);
      await put(s, 'bkt', 'raw', v1);
      const early = s.headObject('bkt', 'raw'); // in flight while the write below happens
      await put(s, 'bkt', 'raw', v2);
      const after = await s.headObject('bkt', 'raw');
      expect(after.size).toBe(v2.length);
      expect([v1.length, v2.length]).toContain((await early).size);
    }
  });
});

describe('buffers of a GET stopped early, and read-ahead nobody took, go back to the pool', () => {
  type Body = Readable & { recycle?: (c: Buffer) => void };

  /** Reads the first chunk of a GET of `key`, then stops (destroy), as a client closing early does. */
  async function stopEarly(s: ErasureObjects, key: string): Promise<void> {
    const body = (await read(s, 'bkt', key)) as Body;
    await new Promise<void>((res) => {
      body.once('data', (c: Buffer) => {
        body.recycle!(c);
        body.destroy();
      });
      body.once('close', () => res());
    });
  }

  async function readRecycling(s: ErasureObjects, key: string, range?: ByteRange): Promise<Buffer> {
    const body = (await read(s, 'bkt', key, { range })) as Body;
    const parts: Buffer[] = [];
    for await (const c of body) {
      parts.push(Buffer.from(c as Buffer));
      body.recycle!(c as Buffer);
    }
    return Buffer.concat(parts);
  }

  it('a GET stopped early gives back the batches it asked for ahead, once their reads are done', async () => {
    const batch = 2;
    const s = await open(d.paths, {
      blockSize: BS,
      inlineLimit: 0,
      readBatchBlocks: batch,
      readAheadBatches: 3,
      readCacheBytes: 0,
    });
    try {
      await s.makeBucket('bkt').catch(() => {});
      const obj = data(BS * 40);
      await put(s, 'bkt', 'early', obj);
      const out = s.readStats().poolOutBytes; // what the PUT kept, if anything
      await stopEarly(s, 'early'); // three batches were asked for ahead of the one being sent
      // The batch being sent may stay out (a chunk the stream had buffered is never given back: left to
      // the GC); the three read ahead come back.
      const oneBatch = 2 * batch * FRAME; // both data shards' buffers
      await until(() => s.readStats().poolOutBytes - out <= oneBatch);
      expect((await readRecycling(s, 'early')).equals(obj)).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('read-ahead for a sequential reader that never comes back: its buffers return once it lingered', async () => {
    const s = await open(d.paths, {
      blockSize: BS,
      inlineLimit: 0,
      readBatchBlocks: 2,
      readAheadBatches: 1,
      readCacheLingerMs: 50,
    });
    try {
      await s.makeBucket('bkt').catch(() => {});
      const obj = data(BS * 40);
      await put(s, 'bkt', 'gone', obj);
      const out = s.readStats().poolOutBytes;
      const before = s.readStats();
      const chunk = BS * 4;
      for (let at = 0; at < 3 * chunk; at += chunk) {
        expect(
          (await readRecycling(s, 'gone', { start: at, end: at + chunk - 1 })).equals(obj.subarray(at, at + chunk)),
        ).toBe(true);
      }
      const after = s.readStats();
      expect(after.prefetched).toBeGreaterThan(before.prefetched);
      expect(after.prefetched).toBeGreaterThan(after.prefetchUsed); // the fourth chunk was read ahead for nobody
      // The reader is gone: the cache drops what it holds once it lingered, and every buffer comes back.
      await until(() => s.readStats().cachedBatches === 0 && s.readStats().poolOutBytes === out);
    } finally {
      await s.close();
    }
  });
});

describe('ReadAhead (a fake clock)', () => {
  function cache(maxBytes = 1000, lingerMs = 100) {
    let t = 0;
    const pool = new BufferPool(1 << 20);
    const ra = new ReadAhead(pool, maxBytes, lingerMs, 1 << 20, () => t);
    return { ra, pool, advance: (ms: number) => (t += ms) };
  }
  /** A batch read into one pooled buffer, as PartBatches registers it (the reader's hold included). */
  function batch(pool: BufferPool, first: number, last: number, from: number, to: number, size = 64): SharedBatch {
    const buf = pool.take(size);
    const lease = new Lease(pool);
    const b = Promise.resolve({ start: from, pieces: [buf.subarray(0, to - from)], buffers: [buf] });
    void b.then((x) => lease.attach(x.buffers));
    return { first, last, from, to, batch: b, lease, bytes: to - from };
  }

  it('shares a batch only for blocks and bytes it holds', async () => {
    const { ra, pool } = cache();
    const b = batch(pool, 4, 7, 4100, 7000);
    ra.add('v', 'v#0', b);
    expect(ra.find('v#0', 4, 7, 4100, 7000)?.lease).toBe(b.lease);
    expect(ra.find('v#0', 5, 6, 5000, 6000)?.lease).toBe(b.lease); // inside it
    expect(ra.find('v#0', 4, 7, 4000, 7000)).toBeUndefined(); // bytes before it
    expect(ra.find('v#0', 4, 8, 4100, 7000)).toBeUndefined(); // a block after it
    expect(ra.find('v#1', 4, 7, 4100, 7000)).toBeUndefined(); // another part or version
  });

  it('among many batches of a part, finds the one holding the blocks wherever it starts, and only such', async () => {
    const { ra, pool } = cache(1 << 20);
    // Ranges at random offsets leave batches starting at every block; one of three blocks, one of eight.
    for (let f = 0; f < 200; f++) ra.add('v', 'v#0', batch(pool, f, f, f * 100 + 10, f * 100 + 90));
    const long = batch(pool, 300, 307, 30_000, 30_800);
    ra.add('v', 'v#0', long);
    expect(ra.find('v#0', 57, 57, 5720, 5780)?.first).toBe(57);
    expect(ra.find('v#0', 57, 57, 5700, 5780)).toBeUndefined(); // bytes before the batch of block 57
    expect(ra.find('v#0', 57, 58, 5720, 5780)).toBeUndefined(); // no batch holds blocks 57 and 58
    expect(ra.find('v#0', 305, 307, 30_500, 30_800)?.lease).toBe(long.lease); // inside, starting 5 blocks after
    expect(ra.find('v#0', 306, 308, 30_600, 30_800)).toBeUndefined();
    // Taken out for its reader alone (claim): no longer found.
    const only = batch(pool, 400, 401, 40_000, 40_100);
    ra.add('v', 'v#0', only);
    await only.batch;
    expect(ra.claim('v#0', only)).toBe(true);
    expect(ra.find('v#0', 400, 401, 40_000, 40_100)).toBeUndefined();
    expect(ra.size).toBe(201);
  });

  it('a batch goes back to the pool once it lingered, every holder let go and every chunk came back', async () => {
    const { ra, pool, advance } = cache();
    const b = batch(pool, 0, 0, 0, 50);
    ra.add('v', 'v#0', b);
    await b.batch;
    const chunk = (await b.batch).pieces[0].subarray(0, 10);
    b.lease.lend(chunk);
    b.lease.release(); // the reader is done cutting chunks
    expect(pool.outBytes).toBe(64);
    advance(100);
    expect(ra.find('v#0', 0, 0, 0, 50)).toBeUndefined(); // expired: dropped
    expect(pool.outBytes).toBe(64); // a chunk is still out
    recycleChunk(chunk);
    expect(pool.outBytes).toBe(0);
    recycleChunk(chunk); // twice counts once
    expect(pool.outBytes).toBe(0);
  });

  it('clear() drops every batch and GET end at once: their buffers go back, nothing looks sequential', async () => {
    const { ra, pool } = cache();
    const bs = [0, 1].map((i) => batch(pool, i, i, i * 50, i * 50 + 50));
    for (const b of bs) {
      ra.add('v', 'v#0', b);
      b.lease.release();
    }
    await Promise.all(bs.map((b) => b.batch));
    expect(ra.sequential('v', 0, 100)).toBe(false);
    expect(pool.outBytes).toBe(128);
    ra.clear();
    expect(ra.size).toBe(0);
    expect(ra.find('v#0', 0, 0, 0, 50)).toBeUndefined();
    expect(pool.outBytes).toBe(0);
    expect(ra.sequential('v', 100, 200)).toBe(false); // the GET that ended at 100 is forgotten
    expect(ra.sequential('v', 200, 300)).toBe(true); // as the one noted after it is not
  });

  it('keeps at most maxBytes: the oldest batches go first', async () => {
    const { ra, pool } = cache(130); // each batch holds a 64-byte buffer: two fit
    const bs = [0, 1, 2].map((i) => batch(pool, i, i, i * 50, i * 50 + 50));
    for (const b of bs) {
      ra.add('v', 'v#0', b);
      b.lease.release();
    }
    await Promise.all(bs.map((b) => b.batch));
    expect(ra.size).toBe(2);
    expect(ra.find('v#0', 0, 0, 0, 50)).toBeUndefined();
    expect(pool.outBytes).toBe(128); // the first one's buffer is back
  });

  it('counts the buffers a batch holds, not only the bytes asked for (a footer in a large buffer)', async () => {
    const { ra, pool } = cache(1000);
    const bs = [0, 1, 2].map((i) => batch(pool, i, i, i * 400, i * 400 + 10, 400)); // 10 bytes asked, 400 held
    for (const b of bs) {
      ra.add('v', 'v#0', b);
      b.lease.release();
    }
    await Promise.all(bs.map((b) => b.batch));
    await Promise.resolve(); // the cache's own callback on the last batch
    expect(ra.size).toBe(2);
    expect(ra.find('v#0', 0, 0, 0, 10)).toBeUndefined(); // the oldest went
    expect(pool.outBytes).toBe(800);
  });

  it('sequential: a GET starting where one of the same version ended; not after read-ahead went unused', async () => {
    const { ra, pool, advance } = cache(1 << 20, 100);
    expect(ra.sequential('v', 0, 100)).toBe(false);
    expect(ra.sequential('v', 100, 200)).toBe(true);
    expect(ra.sequential('w', 200, 300)).toBe(false); // another version
    expect(ra.sequential('v', 150, 250)).toBe(false); // not where one ended
    // two batches read ahead for v that nobody takes: v is not read ahead any more
    for (const at of [1000, 2000]) {
      const b = batch(pool, at, at, at, at + 10);
      ra.add('v', 'v#0', b, true);
      b.lease.release();
    }
    advance(100);
    expect(ra.sequential('v', 0, 300)).toBe(false);
    expect(ra.sequential('v', 300, 400)).toBe(false); // would be sequential, but its read-ahead goes unused
    // one taken again resets it
    const used = batch(pool, 5, 5, 5000, 5010);
    ra.add('v', 'v#0', used, true);
    used.lease.release();
    ra.find('v#0', 5, 5, 5000, 5010)!.lease.release();
    expect(ra.sequential('v', 400, 500)).toBe(true);
    // and old ends are forgotten after lingerMs
    advance(100);
    expect(ra.sequential('v', 500, 600)).toBe(false);
  });
});
