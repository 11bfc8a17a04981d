// The fused passes: the upload pass must equal the separate kernels (MD5, checksum, encode, per-shard
// HighwayHash), and the read/heal passes must find every corrupt frame and rebuild the right bytes.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  checksum,
  encodeBlock,
  frameSize,
  healBlock,
  healBlockAsync,
  highwayHash,
  readBlock,
  readBlockAsync,
  shardSize,
  splitShards,
  UploadHasher,
  verifyFrames,
  verifyFramesAsync,
  type ChecksumAlgorithm,
} from '../index.js';
import { seededRandom } from '../../test/helpers/random.js';

const random = seededRandom();
const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256', 'MD5'];

const KEY = random.bytes(32);

/** The frames of `block` built from the separate kernels. */
function framesBySeparateKernels(block: Buffer, data: number, parity: number): Buffer[] {
  const shards = splitShards(encodeBlock(block, data, parity), data + parity, shardSize(block.length, data));
  return shards.map((s) => Buffer.concat([highwayHash(s, KEY, 256), s]));
}

describe('UploadHasher (fused upload pass)', () => {
  it('equals MD5 + checksum + encode + per-shard HighwayHash, block after block', async () => {
    for (const algorithm of [null, ...CHECKSUM_ALGORITHMS]) {
      const up = new UploadHasher(algorithm);
      const blocks = [random.bytes(1 << 20), random.bytes(1), random.bytes(0), random.bytes(333_333)];
      for (const [k, block] of blocks.entries()) {
        const [data, parity] = k % 2 ? [12, 4] : [4, 2];
        const frames =
          k % 2 ? await up.encodeBlockAsync(block, data, parity, KEY) : up.encodeBlock(block, data, parity, KEY);
        const expected = framesBySeparateKernels(block, data, parity);
        expect(frames.length).toBe(data + parity);
        frames.forEach((f, i) => expect(f.equals(expected[i])).toBe(true));
      }
      const all = Buffer.concat(blocks);
      const d = up.finish();
      expect(d.md5.toString('hex')).toBe(createHash('md5').update(all).digest('hex'));
      expect(d.size).toBe(all.length);
      if (algorithm) expect(d.checksum?.equals(checksum(algorithm, all))).toBe(true);
      else expect(d.checksum).toBeNull();
    }
  });

  it('update() feeds the digests without encoding', () => {
    const up = new UploadHasher('CRC32C');
    const [a, b] = [random.bytes(5000), random.bytes(70_000)];
    up.update(a);
    up.encodeBlock(b, 2, 1, KEY);
    const d = up.finish();
    expect(d.md5.equals(checksum('MD5', Buffer.concat([a, b])))).toBe(true);
    expect(d.checksum?.equals(checksum('CRC32C', Buffer.concat([a, b])))).toBe(true);
  });

  it('sync blocks hash their MD5 in the call; the first async block carries that MD5 into the batcher', async () => {
    // Small uploads (sync blocks alone) never create a batcher stream; a larger one that starts with sync
    // blocks (or update()) goes on from their MD5 state, with kept pieces hashed later (finishAsync).
    for (const kept of [false, true]) {
      const small = new UploadHasher(null, { kept });
      const a = random.bytes(4096);
      small.encodeBlock(a, 2, 2, KEY);
      expect((await small.finishAsync()).md5.equals(checksum('MD5', a))).toBe(true);

      const up = new UploadHasher('CRC32', { kept });
      const blocks = [
        random.bytes(63),
        random.bytes(65),
        random.bytes(3 << 20),
        random.bytes(7),
        random.bytes(1 << 20),
      ];
      up.update(blocks[0]);
      up.encodeBlock(blocks[1], 2, 2, KEY);
      await up.encodeBlockAsync(blocks[2], 4, 2, KEY);
      up.encodeBlock(blocks[3], 2, 2, KEY);
      await up.encodeBlockAsync(blocks[4], 4, 2, KEY);
      const d = await up.finishAsync();
      const all = Buffer.concat(blocks);
      expect(d.md5.equals(checksum('MD5', all)), `kept ${kept}`).toBe(true);
      expect(d.checksum?.equals(checksum('CRC32', all))).toBe(true);
    }
    const none = new UploadHasher(null, { md5: false });
    none.encodeBlock(random.bytes(100), 2, 2, KEY);
    expect(none.finish().md5.toString('hex')).toBe('d41d8cd98f00b204e9800998ecf8427e');
  });

  it('writes into a reused output buffer', async () => {
    const up = new UploadHasher('CRC64NVME');
    const out = Buffer.alloc(16 * frameSize(1 << 20, 12));
    const block = random.bytes(1 << 20);
    const frames = await up.encodeBlockAsync(block, 12, 4, KEY, out);
    expect(frames.every((f) => f.buffer === out.buffer)).toBe(true);
    expect(frames[15].equals(framesBySeparateKernels(block, 12, 4)[15])).toBe(true);
    expect(() => up.encodeBlock(block, 12, 4, KEY, Buffer.alloc(100))).toThrow(/output buffer has 100 bytes/);
    expect(() => up.encodeBlock(out.subarray(0, 1000), 4, 2, KEY, out)).toThrow(/overlaps an input/);
    expect(up.finish().size).toBe(block.length); // the rejected calls changed nothing
  });

  it('takes one call at a time, in order', async () => {
    const up = new UploadHasher('SHA256');
    const block = random.bytes(1 << 20);
    const first = up.encodeBlockAsync(block, 4, 2, KEY);
    expect(() => up.encodeBlock(block, 4, 2, KEY)).toThrow(/still running/);
    await expect(up.encodeBlockAsync(block, 4, 2, KEY)).rejects.toThrow(/still running/);
    await first;
    expect(up.finish().size).toBe(block.length);
  });
});

describe('readBlock / verifyFrames / healBlock', () => {
  const block = random.bytes(1_000_003);
  const [data, parity] = [8, 4];
  const frames = framesBySeparateKernels(block, data, parity);

  it('reads the block from intact data frames alone', async () => {
    const given: (Buffer | null)[] = frames.map((f, i) => (i < data ? f : null));
    const r = readBlock(given, data, parity, block.length, KEY);
    expect(r.bad).toEqual([]);
    expect(r.block?.equals(block)).toBe(true);
    const out = Buffer.alloc(block.length);
    const ra = await readBlockAsync(given, data, parity, block.length, KEY, out);
    expect(ra.block?.buffer).toBe(out.buffer);
    expect(ra.block?.equals(block)).toBe(true);
  });

  it('reports corrupt frames (bitrot in hash or shard, truncation) and decodes around them', async () => {
    const given: (Buffer | null)[] = frames.map((f) => Buffer.from(f));
    given[0]![100] ^= 0x01; // shard byte
    given[5]![3] ^= 0x80; // stored hash byte
    given[9] = given[9]!.subarray(0, given[9]!.length - 2); // truncated
    given[11] = null; // not read
    expect(verifyFrames(given, KEY)).toEqual([0, 5, 9]);
    expect(await verifyFramesAsync(given, KEY)).toEqual([0, 5, 9]);
    expect(verifyFrames([Buffer.alloc(31), null], KEY)).toEqual([0]); // shorter than a hash
    const r = await readBlockAsync(given, data, parity, block.length, KEY);
    expect(r.bad).toEqual([0, 5, 9]);
    expect(r.block?.equals(block)).toBe(true);
    expect(readBlock(given, data, parity, block.length, KEY).block?.equals(block)).toBe(true);
  });

  it('returns no block when too few frames are good, so the caller reads more', () => {
    const given: (Buffer | null)[] = frames.map((f, i) => (i < data ? Buffer.from(f) : null));
    given[2]![40] ^= 1;
    const r = readBlock(given, data, parity, block.length, KEY);
    expect(r).toEqual({ block: null, bad: [2] });
    given[data] = frames[data]; // one parity frame more
    expect(readBlock(given, data, parity, block.length, KEY).block?.equals(block)).toBe(true);
  });

  it('heals missing and corrupt frames with the exact original frames', async () => {
    const given: (Buffer | null)[] = frames.map((f) => Buffer.from(f));
    given[1] = null;
    given[8]![50] ^= 4;
    given[10] = null;
    given[3]![7] ^= 2;
    for (const r of [
      healBlock(given, data, parity, block.length, KEY),
      await healBlockAsync(given, data, parity, block.length, KEY),
    ]) {
      expect(r.bad).toEqual([3, 8]);
      expect([...(r.rebuilt?.keys() ?? [])]).toEqual([1, 3, 8, 10]);
      for (const [i, f] of r.rebuilt ?? []) expect(f.equals(frames[i])).toBe(true);
    }
    given[0] = given[2] = null; // 6 of 12 unusable: too many
    expect(healBlock(given, data, parity, block.length, KEY).rebuilt).toBeNull();
  });

  it('handles empty and one-byte blocks', () => {
    for (const len of [0, 1]) {
      const b = random.bytes(len);
      const f: (Buffer | null)[] = new UploadHasher().encodeBlock(b, 4, 2, KEY);
      expect(f[0]!.length).toBe(frameSize(len, 4));
      f[0] = f[5] = null;
      expect(readBlock(f, 4, 2, len, KEY).block?.equals(b)).toBe(true);
      const healed = healBlock(f, 4, 2, len, KEY).rebuilt;
      expect(healed?.get(0)?.equals(framesBySeparateKernels(b, 4, 2)[0])).toBe(true);
    }
  });
});
