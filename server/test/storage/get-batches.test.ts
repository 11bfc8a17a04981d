// GET in batches with read-ahead (readBatchBlocks x readAheadBatches): whole objects and ranges crossing
// batch and part boundaries are byte-exact; a corrupt or missing data shard inside the second batch sends
// that batch down the block-by-block path (parity) with the bytes still right and the object queued for
// healing; and pooled read buffers handed out as chunks are reused only once the consumer gave every chunk
// of their batch back (body.recycle), never while a chunk is still held. A GET's verified shard reads open
// and close their file in the same pool task: a paused GET holds no shard file open.
import { readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Readable } from 'node:stream';
import { body as bodyOf, data, drives, get, open, put, read, readAll } from './helpers.js';
import { FRAME_HASH_LENGTH, nativeCodec } from '../../src/storage/erasure/codec.js';
import type { ByteRange, ErasureObjects } from '../../src/storage/index.js';
import { objectDir } from '../../src/storage/meta/key-path.js';

const BS = 4096; // small blocks: many batches from small objects
const BLOCKS = 26;
const SIZE = BS * BLOCKS + 777; // 27 blocks, the last one short
const SHARD = nativeCodec().shardSize(BS, 2); // 2+2 on four drives
const FULL_FRAME = FRAME_HASH_LENGTH + SHARD;

let d: Awaited<ReturnType<typeof drives>>;
const objects = new Map<string, Buffer>();
const BATCHES = [1, 3, 4];
const AHEADS = [0, 1, 3];

/** The shard file (part.N) of `key` on drive `slot`: <drive>/bkt/<object dir>/<data dir>/part.N. */
async function shardFile(slot: number, key: string, part = 1): Promise<string> {
  const dir = join(d.paths[slot], 'bkt', objectDir(key));
  const found: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const names = await readdir(join(dir, e.name));
    if (names.includes(`part.${part}`)) found.push(join(dir, e.name, `part.${part}`));
  }
  expect(found, `${key} on drive ${slot}`).toHaveLength(1);
  return found[0];
}

/** Set slot holding data shard `i` (0-based) of `key`: shards rotate by crc32(key) (erasure-set.ts). */
function dataSlot(key: string, i: number): number {
  return ((crc32(key) % 4) + i) % 4;
}

function ranges(batch: number): ByteRange[] {
  const edge = batch * BS; // first byte of the second batch
  return [
    { start: 0, end: 0 },
    { start: edge - 1, end: edge }, // the last byte of one batch and the first of the next
    { start: edge - 100, end: 2 * edge + 100 },
    { start: edge, end: 2 * edge - 1 }, // exactly one batch
    { start: 17, end: SIZE - 18 },
    { start: BS * BLOCKS - 5, end: SIZE - 1 }, // into the short last block
    { start: SIZE - 1, end: SIZE - 1 },
    { start: BS + 1, end: BS + 1 },
  ];
}

async function getRange(s: ErasureObjects, key: string, range?: ByteRange): Promise<Buffer> {
  return get(s, 'bkt', key, { range });
}

beforeAll(async () => {
  d = await drives(4);
  const s = await open(d.paths, { blockSize: BS, inlineLimit: 0 });
  await s.makeBucket('bkt');
  const add = async (key: string, size: number) => {
    const b = data(size);
    objects.set(key, b);
    await put(s, 'bkt', key, b);
  };
  await add('plain', SIZE);
  await add('exact', BS * 12); // whole blocks only: every batch of 1, 3 or 4 is full
  for (const b of BATCHES)
    for (const a of AHEADS) for (const what of ['corrupt', 'missing']) await add(`${what}-${b}-${a}`, SIZE);
  // multipart: a 5 MiB part (1280 blocks) and a short one; ranges across the part boundary
  const up = await s.newMultipartUpload('bkt', 'multi', {});
  const p1 = data(5 * 1024 * 1024);
  const p2 = data(3 * BS + 5);
  const r1 = await s.putObjectPart('bkt', 'multi', up.uploadId, 1, bodyOf(p1), { size: p1.length });
  const r2 = await s.putObjectPart('bkt', 'multi', up.uploadId, 2, bodyOf(p2), { size: p2.length });
  await s.completeMultipartUpload('bkt', 'multi', up.uploadId, [
    { number: 1, etag: r1.etag },
    { number: 2, etag: r2.etag },
  ]);
  objects.set('multi', Buffer.concat([p1, p2]));
  await s.close();
});
afterAll(async () => {
  await d?.cleanup();
});

describe.each(BATCHES.flatMap((b) => AHEADS.map((a) => [b, a] as const)))(
  'readBatchBlocks %i, readAheadBatches %i',
  (batch, ahead) => {
    let s: ErasureObjects;
    beforeAll(async () => {
      s = await open(d.paths, {
        blockSize: BS,
        inlineLimit: 0,
        readBatchBlocks: batch,
        readAheadBatches: ahead,
        poolBytes: 1024 * 1024,
      });
    });
    afterAll(async () => {
      await s?.close();
    });

    it('whole objects and ranges across batch boundaries are byte-exact', async () => {
      for (const key of ['plain', 'exact']) {
        const want = objects.get(key)!;
        expect((await getRange(s, key)).equals(want), key).toBe(true);
        for (const r of ranges(batch)) {
          if (r.end >= want.length) continue;
          expect(
            (await getRange(s, key, r)).equals(want.subarray(r.start, r.end + 1)),
            `${key} ${r.start}-${r.end}`,
          ).toBe(true);
        }
      }
    });

    it('multipart: ranges across the part boundary', async () => {
      const want = objects.get('multi')!;
      const edge = 5 * 1024 * 1024;
      for (const r of [
        { start: edge - batch * BS - 3, end: edge + 2 * BS },
        { start: edge - 1, end: edge },
        { start: edge - 10, end: want.length - 1 },
      ]) {
        expect((await getRange(s, 'multi', r)).equals(want.subarray(r.start, r.end + 1)), `${r.start}-${r.end}`).toBe(
          true,
        );
      }
    });

    it('a corrupt data shard frame in the second batch: bytes right (parity), object healed', async () => {
      const key = `corrupt-${batch}-${ahead}`;
      const want = objects.get(key)!;
      const victim = batch === 1 ? 1 : batch + 1; // a block of the second batch, not its first
      const file = await shardFile(dataSlot(key, 1), key);
      const original = await readFile(file);
      const bad = Buffer.from(original);
      // a data byte: read unchecked it would show in the body
      bad[victim * FULL_FRAME + FRAME_HASH_LENGTH + 10] ^= 0x5a;
      await writeFile(file, bad);
      // a range starting in the first batch and ending after the corrupt block, then the whole object
      await expectReadAndHealed(key, want, { start: BS - 7, end: (victim + 2) * BS + 3 }, file, original);
      expect((await getRange(s, key)).equals(want)).toBe(true);
    });

    it('a missing data shard file: bytes right from parity, object healed', async () => {
      const key = `missing-${batch}-${ahead}`;
      const want = objects.get(key)!;
      const file = await shardFile(dataSlot(key, 0), key);
      const original = await readFile(file);
      await rm(file);
      await expectReadAndHealed(key, want, { start: batch * BS - 1, end: 3 * batch * BS }, file, original);
    });

    /** Range `r` and the whole object read right despite the damage; one heal restores `file` to `original`. */
    async function expectReadAndHealed(key: string, want: Buffer, r: ByteRange, file: string, original: Buffer) {
      const before = s.healStatus();
      expect((await getRange(s, key, r)).equals(want.subarray(r.start, r.end + 1))).toBe(true);
      expect((await getRange(s, key)).equals(want)).toBe(true);
      expect(s.healStatus().queued).toBeGreaterThanOrEqual(1);
      await s.healIdle();
      expect(s.healStatus().healedObjects).toBe(before.healedObjects + 1);
      expect((await readFile(file)).equals(original)).toBe(true);
    }
  },
);

/** Reads a body in flowing mode (as the HTTP layer does); `onChunk` sees each chunk as emitted. */
function consume(body: Readable, onChunk: (c: Buffer) => void): Promise<void> {
  return new Promise((res, rej) => {
    body.on('data', onChunk);
    body.once('end', res);
    body.once('error', rej);
  });
}

type Body = Readable & { recycle?: (c: Buffer) => void };

describe('pooled read buffers and body.recycle', () => {
  let s: ErasureObjects;
  const objs = new Map<string, Buffer>();
  beforeAll(async () => {
    // batch 4 of 2+2 frames is the size of a PUT's frame buffer too: GETs and PUTs share one free list.
    // No read cache: batches go back to the pool as soon as their chunks do (the cache's own tests are in
    // read-ahead.test.ts).
    s = await open(d.paths, {
      blockSize: BS,
      inlineLimit: 0,
      readBatchBlocks: 4,
      readAheadBatches: 1,
      readCacheBytes: 0,
    });
    for (const k of ['A', 'B', 'C', 'D', 'E']) {
      const b = data(BS * 40); // 10 full batches of whole blocks: all pooled
      objs.set(k, b);
      await put(s, 'bkt', `pool/${k}`, b);
    }
  });
  afterAll(async () => {
    await s?.close();
  });

  async function body(key: string, range?: ByteRange): Promise<Body> {
    const b = (await read(s, 'bkt', `pool/${key}`, { range })) as Body;
    expect(typeof b.recycle).toBe('function');
    return b;
  }

  /** Reads `key` giving every chunk back once copied; returns the copy and the memory the chunks sat in. */
  async function readRecycling(
    key: string,
    range?: ByteRange,
  ): Promise<{ bytes: Buffer; memory: Set<ArrayBufferLike> }> {
    const b = await body(key, range);
    const copies: Buffer[] = [];
    const memory = new Set<ArrayBufferLike>();
    await consume(b, (c) => {
      copies.push(Buffer.from(c));
      memory.add(c.buffer);
      b.recycle!(c);
    });
    return { bytes: Buffer.concat(copies), memory };
  }

  it('chunks kept without recycling stay intact while other reads recycle (and do reuse memory)', async () => {
    const a = await body('A');
    const kept: Buffer[] = [];
    await consume(a, (c) => kept.push(c)); // no copy, no recycle: the chunks are the pooled memory itself
    const memA = new Set(kept.map((c) => c.buffer));
    const b = await readRecycling('B');
    const c = await readRecycling('C');
    expect(b.bytes.equals(objs.get('B')!)).toBe(true);
    expect(c.bytes.equals(objs.get('C')!)).toBe(true);
    // recycling works (C ran on memory B gave back), so A's memory would have been reused had it been given
    expect([...c.memory].some((m) => b.memory.has(m))).toBe(true);
    expect([...b.memory, ...c.memory].some((m) => memA.has(m))).toBe(false);
    expect(Buffer.concat(kept).equals(objs.get('A')!)).toBe(true);
  });

  it('after every chunk of one read was recycled, the next read (on that memory) is right', async () => {
    const a = await readRecycling('A');
    const b = await readRecycling('B');
    expect(a.bytes.equals(objs.get('A')!)).toBe(true);
    expect(b.bytes.equals(objs.get('B')!)).toBe(true);
    expect([...b.memory].some((m) => a.memory.has(m))).toBe(true);
  });

  it('one chunk held back keeps its whole batch out of the pool (the others of that batch were recycled)', async () => {
    const a = await body('A');
    const held: Buffer[] = [];
    let n = 0;
    await consume(a, (c) => {
      // keep the 11th chunk (block 5, data shard 0: the middle of the second batch), give back all others
      if (n++ === 10) held.push(c);
      else a.recycle!(c);
    });
    expect(held).toHaveLength(1);
    const heldCopy = Buffer.from(held[0]);
    const want = objs.get('A')!;
    expect(2 * SHARD).toBe(BS);
    expect(held[0].equals(want.subarray(10 * SHARD, 11 * SHARD))).toBe(true);
    for (const k of ['B', 'C', 'D']) expect((await readRecycling(k)).bytes.equals(objs.get(k)!)).toBe(true);
    expect(held[0].equals(heldCopy)).toBe(true);
    // give it back late: the batch's memory returns and later reads are still right
    a.recycle!(held[0]);
    expect((await readRecycling('E')).bytes.equals(objs.get('E')!)).toBe(true);
    expect((await readRecycling('A')).bytes.equals(want)).toBe(true);
  });

  it('ranged reads recycling sub-chunks, two reads interleaved and a PUT alongside are all right', async () => {
    const r = { start: 3 * BS + 11, end: 33 * BS - 2 };
    const ranged = await readRecycling('C', r);
    expect(ranged.bytes.equals(objs.get('C')!.subarray(r.start, r.end + 1))).toBe(true);
    const fresh = data(BS * 40);
    const [x, y] = await Promise.all([readRecycling('D'), readRecycling('E'), put(s, 'bkt', 'pool/F', fresh)]);
    expect(x.bytes.equals(objs.get('D')!)).toBe(true);
    expect(y.bytes.equals(objs.get('E')!)).toBe(true);
    expect((await readRecycling('F')).bytes.equals(fresh)).toBe(true);
    // and PUTs after recycling reads write what they were given
    const again = data(BS * 40 + 3);
    await put(s, 'bkt', 'pool/G', again);
    await readRecycling('A');
    expect((await get(s, 'bkt', 'pool/G')).equals(again)).toBe(true);
  });

  it('a consumer that stops early (destroy) leaves later reads right', async () => {
    const a = await body('A');
    let n = 0;
    await new Promise<void>((res) => {
      a.on('data', (c: Buffer) => {
        a.recycle!(c);
        if (++n === 7) a.destroy();
      });
      a.once('close', () => res());
    });
    for (const k of ['B', 'A']) expect((await readRecycling(k)).bytes.equals(objs.get(k)!)).toBe(true);
  });
});

describe('tuning options', () => {
  it.each([{ readBatchBlocks: 0 }, { readAheadBatches: -1 }, { poolBytes: 1.5 }])(
    '%o is refused before any drive is touched',
    async (bad) => {
      const d = await drives(4);
      try {
        await expect(open(d.paths, bad)).rejects.toThrow(/whole number/);
        expect(await readdir(d.root)).toEqual([]); // no drive folder was created or formatted
      } finally {
        await d.cleanup();
      }
    },
  );
});

/** Shard files (part.N) under `dir` that this process has open now. */
async function openShardFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (target.startsWith(dir) && /\/part\.\d+$/.test(target)) out.push(target);
  }
  return out;
}

describe('shard files during a GET', () => {
  it('a paused GET holds no shard file open; it reads on right when resumed, and so do ranges', async () => {
    const s = await open(d.paths, { blockSize: BS, inlineLimit: 0, readBatchBlocks: 1, readAheadBatches: 0 });
    try {
      const want = objects.get('plain')!;
      const b = await read(s, 'bkt', 'plain'); // the first batch is read before this resolves
      expect(await openShardFiles(d.root)).toEqual([]);
      expect((await readAll(b)).equals(want)).toBe(true);
      const r = { start: 3 * BS - 5, end: 7 * BS + 2 };
      const ranged = await read(s, 'bkt', 'plain', { range: r });
      expect(await openShardFiles(d.root)).toEqual([]);
      expect((await readAll(ranged)).equals(want.subarray(r.start, r.end + 1))).toBe(true);
    } finally {
      await s.close();
    }
  });
});
