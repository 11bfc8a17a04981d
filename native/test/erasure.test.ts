// Reed-Solomon round trips: every combination of up to `parity` lost shards (a random sample plus the
// edge cases for the big layouts), sizes around the padding boundaries, and the sync/async agreement.
import { describe, expect, it } from 'vitest';
import {
  decodeBlock,
  decodeBlockAsync,
  encodeBlock,
  encodeBlockAsync,
  encodeShards,
  encodeShardsAsync,
  reconstructShards,
  reconstructShardsAsync,
  shardSize,
  splitShards,
} from '../index.js';
import { seededRandom } from '../../test/helpers/random.js';
import { native } from '../src-ts/binding.js';

const random = seededRandom();

/** Every subset of {0..n-1} with at most k elements. */
function* subsets(n: number, k: number, from = 0, chosen: number[] = []): Generator<number[]> {
  yield chosen;
  if (chosen.length === k) return;
  for (let i = from; i < n; i++) yield* subsets(n, k, i + 1, [...chosen, i]);
}

function countSubsets(n: number, k: number): number {
  let total = 0;
  let c = 1;
  for (let i = 0; i <= k; i++) {
    total += c;
    c = (c * (n - i)) / (i + 1);
  }
  return total;
}

/** Loss patterns for a layout: all of them when few, else edges plus a random sample. */
function lossPatterns(data: number, parity: number, limit = 3000): number[][] {
  const n = data + parity;
  if (countSubsets(n, parity) <= limit) return [...subsets(n, parity)];
  const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
  const edges = [
    [],
    range(0, parity),
    range(data, n),
    range(n - parity, n),
    range(0, Math.min(parity, data)),
    [0],
    [n - 1],
  ];
  const sample: number[][] = [];
  for (let s = 0; s < 300; s++) {
    const k = random.int(1, parity + 1);
    sample.push(random.distinct(k, n).sort((a, b) => a - b));
  }
  return [...edges, ...sample];
}

const LAYOUTS: [number, number][] = [
  [1, 1],
  [2, 2],
  [4, 2],
  [4, 4],
  [6, 2],
  [8, 4],
  [12, 4],
  [16, 16],
];

describe('shardSize', () => {
  it('is ceil(len / data) rounded up to even, 0 for an empty block', () => {
    expect(shardSize(0, 4)).toBe(0);
    expect(shardSize(1, 4)).toBe(2);
    expect(shardSize(8, 4)).toBe(2);
    expect(shardSize(9, 4)).toBe(4);
    expect(shardSize(1 << 20, 12)).toBe(87382);
    expect(shardSize(1 << 20, 16)).toBe(65536);
    expect(shardSize(7, 1)).toBe(8);
  });

  it('rejects layouts outside 1..16 data shards', () => {
    expect(() => shardSize(10, 0)).toThrow(/1..=16/);
    expect(() => shardSize(10, 17)).toThrow(/1..=16/);
  });

  it("agrees with the addon's own rule (erasure.rs) for every layout, around every padding boundary", () => {
    const lengths = [0, 1, 2, 3, 4095, 4096, 4097, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 0xffff_ffff];
    for (let i = 0; i < 2000; i++) lengths.push(Math.floor(random.next() * 2 ** 32));
    for (let data = 1; data <= 16; data++) {
      for (const len of lengths) {
        for (const n of [len, Math.max(0, len - data), len + data]) {
          if (n > 0xffff_ffff) continue; // not a u32: the addon refuses it
          expect(shardSize(n, data), `${n} / ${data}`).toBe(native.shardSize(n, data));
        }
      }
    }
  });
});

describe.each(LAYOUTS)('layout %i+%i', (data, parity) => {
  it('decodes and rebuilds with every allowed set of lost shards', () => {
    const patterns = lossPatterns(data, parity);
    for (const lost of patterns) {
      const len = random.int(1, 3000);
      const block = random.bytes(len);
      const size = shardSize(len, data);
      const packed = encodeBlock(block, data, parity);
      expect(packed.length).toBe(size * (data + parity));
      expect(packed.subarray(0, len).equals(block)).toBe(true); // systematic: data shards are the block
      const shards: (Buffer | null)[] = splitShards(packed, data + parity, size);
      for (const i of lost) shards[i] = null;
      const decoded = decodeBlock(shards, data, parity, len);
      if (!decoded.equals(block)) throw new Error(`${data}+${parity}, lost [${lost}], ${len} bytes: wrong block`);
      const rebuilt = splitShards(reconstructShards(shards, data, parity), lost.length, size);
      lost.forEach((index, k) => {
        if (!rebuilt[k].equals(packed.subarray(index * size, (index + 1) * size))) {
          throw new Error(`${data}+${parity}, lost [${lost}]: rebuilt shard ${index} differs`);
        }
      });
    }
  });

  it('fails cleanly with more than `parity` shards lost', () => {
    const block = random.bytes(1000);
    const shards: (Buffer | null)[] = splitShards(
      encodeBlock(block, data, parity),
      data + parity,
      shardSize(1000, data),
    );
    for (let i = 0; i <= parity; i++) shards[i] = null;
    expect(() => decodeBlock(shards, data, parity, 1000)).toThrow(/too few shards/);
    expect(() => reconstructShards(shards, data, parity)).toThrow(/too few shards/);
  });
});

describe('block sizes', () => {
  it('round-trips 0, 1, shard size ± 1 and multi-MiB blocks', () => {
    for (const [data, parity] of [
      [4, 2],
      [12, 4],
      [5, 3],
      [16, 16],
      [1, 1],
    ] as const) {
      const sizes = [
        0,
        1,
        2,
        data - 1,
        data,
        data + 1,
        2 * data - 1,
        2 * data,
        2 * data + 1,
        1000 * data - 1,
        1000 * data + 1,
        3 * (1 << 20) + 7,
      ];
      for (const len of sizes.filter((n) => n >= 0)) {
        const block = random.bytes(len);
        const size = shardSize(len, data);
        const packed = encodeBlock(block, data, parity);
        expect(packed.length).toBe(size * (data + parity));
        if (len > 0) expect(packed.subarray(len, size * data).every((b) => b === 0)).toBe(true); // zero padding
        const shards: (Buffer | null)[] = splitShards(packed, data + parity, size);
        for (let i = 0; i < parity; i++) shards[(i * 7) % (data + parity)] = null;
        const lost = shards.flatMap((s, i) => (s ? [] : [i]));
        expect(decodeBlock(shards, data, parity, len).equals(block)).toBe(true);
        const rebuilt = reconstructShards(shards, data, parity);
        expect(rebuilt.equals(Buffer.concat(lost.map((i) => packed.subarray(i * size, (i + 1) * size))))).toBe(true);
      }
    }
  });

  it('decodes right on both sides of the small-block decoder threshold', () => {
    // Small blocks restore lost data shards with a cached decoding matrix, large ones with the FFT
    // decoder; the switch for 12+4 with 4 data shards lost sits near 32 KB.
    for (const len of [12, 1000, 16_000, 30_000, 31_000, 32_000, 33_000, 34_000, 100_000]) {
      const block = random.bytes(len);
      const size = shardSize(len, 12);
      const packed = encodeBlock(block, 12, 4);
      for (const lost of [[0, 1, 2, 3], [11, 12], [5], [0, 4, 8, 15]]) {
        const shards: (Buffer | null)[] = splitShards(packed, 16, size);
        for (const i of lost) shards[i] = null;
        if (!decodeBlock(shards, 12, 4, len).equals(block))
          throw new Error(`${len} bytes, lost [${lost}]: wrong block`);
        const rebuilt = splitShards(reconstructShards(shards, 12, 4), lost.length, size);
        lost.forEach((index, k) =>
          expect(rebuilt[k].equals(packed.subarray(index * size, (index + 1) * size))).toBe(true),
        );
      }
    }
  });

  it('parity 0 splits the block and needs every shard', () => {
    const block = random.bytes(1001);
    const packed = encodeBlock(block, 3, 0);
    expect(packed.length).toBe(3 * 334);
    const shards: (Buffer | null)[] = splitShards(packed, 3, 334);
    expect(decodeBlock(shards, 3, 0, 1001).equals(block)).toBe(true);
    shards[1] = null;
    expect(() => decodeBlock(shards, 3, 0, 1001)).toThrow(/too few shards/);
  });
});

describe('encodeShards (zero-copy data shards)', () => {
  it('gives the same shards as encodeBlock, the whole data shards as views of the block', async () => {
    for (const [data, parity] of [
      [4, 2],
      [12, 4],
      [16, 16],
      [3, 0],
      [1, 1],
    ] as const) {
      for (const len of [0, 1, 2, 5, 1000, 4096, 87_382 * 12, (1 << 20) + 1, 3 * (1 << 20) + 7]) {
        const block = random.bytes(len);
        const size = shardSize(len, data);
        const expected = splitShards(encodeBlock(block, data, parity), data + parity, size);
        const shards = len % 2 ? await encodeShardsAsync(block, data, parity) : encodeShards(block, data, parity);
        expect(shards.length).toBe(data + parity);
        shards.forEach((s, i) => {
          if (!s.equals(expected[i])) throw new Error(`${data}+${parity}, ${len} bytes: shard ${i} differs`);
        });
        const whole = size === 0 ? data : Math.min(data, Math.floor(len / size)); // data shards whole in the block
        for (let i = 0; i < whole; i++) expect(shards[i].buffer).toBe(block.buffer);
        if (len > 0 && whole < data) expect(shards[whole].buffer).not.toBe(block.buffer);
      }
    }
  });

  it('writes the rest into a caller buffer, and checks its size', () => {
    const block = random.bytes(1000);
    const out = Buffer.alloc(3 * 250);
    const shards = encodeShards(block, 4, 2, out); // 250-byte shards: all 4 data shards whole
    expect(shards[4].buffer).toBe(out.buffer);
    expect(() => encodeShards(block, 4, 2, Buffer.alloc(499))).toThrow(/output buffer has 499 bytes, 500 needed/);
  });
});

describe('sync and async forms', () => {
  it('agree, and write into a caller buffer when given one', async () => {
    const block = random.bytes((1 << 20) + 11);
    const size = shardSize(block.length, 8);
    const packed = encodeBlock(block, 8, 4);
    const out = Buffer.alloc(size * 12 + 100, 0xee);
    const viaAsync = await encodeBlockAsync(block, 8, 4, out);
    expect(viaAsync.buffer).toBe(out.buffer);
    expect(viaAsync.length).toBe(size * 12);
    expect(viaAsync.equals(packed)).toBe(true);
    expect(out[size * 12]).toBe(0xee); // nothing written past the shards

    const shards: (Buffer | null)[] = splitShards(packed, 12, size);
    shards[0] = shards[3] = shards[9] = null;
    const blockOut = Buffer.alloc(block.length);
    const decoded = await decodeBlockAsync(shards, 8, 4, block.length, blockOut);
    expect(decoded.buffer).toBe(blockOut.buffer);
    expect(decoded.equals(block)).toBe(true);
    expect(decodeBlock(shards, 8, 4, block.length).equals(block)).toBe(true);
    expect((await reconstructShardsAsync(shards, 8, 4)).equals(reconstructShards(shards, 8, 4))).toBe(true);
    const rebuilt = splitShards(reconstructShards(shards, 8, 4), 3, size);
    [0, 3, 9].forEach((index, k) =>
      expect(rebuilt[k].equals(packed.subarray(index * size, (index + 1) * size))).toBe(true),
    );
  });

  it('reject bad arguments with clear errors', async () => {
    const block = random.bytes(100);
    expect(() => encodeBlock(block, 4, 2, Buffer.alloc(10))).toThrow(/output buffer has 10 bytes, 156 needed/);
    expect(() => encodeBlock(block, 17, 1)).toThrow(/1..=16/);
    expect(() => encodeBlock(block, 4, 17)).toThrow(/0..=16/);
    const shards: (Buffer | null)[] = splitShards(encodeBlock(block, 4, 2), 6, 26);
    expect(() => decodeBlock(shards.slice(0, 5), 4, 2, 100)).toThrow(/expected 6 shards/);
    expect(() => decodeBlock([shards[0]!.subarray(1), ...shards.slice(1)], 4, 2, 100)).toThrow(/shard 0 has 25 bytes/);
    expect(() => decodeBlock(shards, 4, 2, 120)).toThrow(/shard 0 has 26 bytes, expected 30/); // blockLength must match
    await expect(
      decodeBlockAsync([null, null, null, ...shards.slice(3)] as (Buffer | null)[], 4, 2, 100),
    ).rejects.toThrow(/too few/);
    const big = Buffer.alloc(4096);
    expect(() => encodeBlock(big.subarray(0, 100), 4, 2, big.subarray(50))).toThrow(/overlaps an input/);
    expect(() => encodeShards(big.subarray(0, 100), 4, 2, big.subarray(99))).toThrow(/overlaps an input/);
    const overShard0 = Buffer.from(shards[0]!.buffer, shards[0]!.byteOffset, 100);
    expect(() => decodeBlock(shards, 4, 2, 100, overShard0)).toThrow(/overlaps an input/);
  });
});
