// The seeded generator every test takes its random input from: same seed, same input; distinct draws are
// distinct (resilience tests flip distinct bytes: the same byte twice would cancel out).
import { describe, expect, it } from 'vitest';
import { seededRandom, testSeed } from './random.js';

describe('seededRandom', () => {
  it('replays the same sequence from the same seed', () => {
    const [a, b] = [seededRandom(7), seededRandom(7)];
    expect(Array.from({ length: 5 }, a.next)).toEqual(Array.from({ length: 5 }, b.next));
    expect(a.bytes(1001).equals(b.bytes(1001))).toBe(true);
    expect(a.distinct(10, 1000)).toEqual(b.distinct(10, 1000));
    expect(seededRandom(8).bytes(64).equals(seededRandom(7).bytes(64))).toBe(false);
  });

  it('keeps mulberry32, so pinned fuzz corpora stay the same', () => {
    // First outputs of mulberry32(1), as the fuzz tests drew them before the generator was shared.
    const r = seededRandom(1);
    expect([r.next(), r.next()].map((x) => Math.round(x * 2 ** 32))).toEqual([2693262067, 11749833]);
  });

  it('draws distinct integers in range, up to all of them', () => {
    const r = seededRandom();
    for (const [k, n] of [
      [0, 5],
      [3, 3],
      [5, 1000],
      [100, 101],
      [2, 2],
    ]) {
      const got = r.distinct(k, n);
      expect(new Set(got).size).toBe(k);
      expect(got.every((x) => Number.isInteger(x) && x >= 0 && x < n)).toBe(true);
    }
    expect(() => r.distinct(4, 3)).toThrow(RangeError);
  });

  it('draws integers in [min, max) and takes the file seed by default', () => {
    const r = seededRandom();
    expect(r.seed).toBe(testSeed());
    const seen = new Set(Array.from({ length: 500 }, () => r.int(3, 7)));
    expect([...seen].sort()).toEqual([3, 4, 5, 6]);
  });
});
