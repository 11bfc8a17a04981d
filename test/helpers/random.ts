// Seeded randomness for tests: every random test input (bytes, offsets, lengths, fuzz cases) comes from a
// generator made here, so any failure can be replayed. The seed is CAIRN_TEST_SEED when set, else drawn once
// per test file; a failing test prints the seed of each generator it used and how to replay it.
import { randomInt } from 'node:crypto';
import { beforeEach, onTestFailed } from 'vitest';

export interface Random {
  readonly seed: number;
  /** Uniform in [0, 1). */
  next: () => number;
  /** An integer in [min, max). */
  int: (min: number, max: number) => number;
  /** `n` random bytes. */
  bytes: (n: number) => Buffer;
  /** `k` distinct integers of [0, n). */
  distinct: (k: number, n: number) => number[];
}

const envSeed = process.env.CAIRN_TEST_SEED;
if (envSeed !== undefined && !/^\d+$/.test(envSeed)) {
  throw new Error(`CAIRN_TEST_SEED must be an integer, got ${envSeed}`);
}
/** The seed of this test file (one module instance per file: vitest isolates files). */
const fileSeed = envSeed !== undefined ? Number(envSeed) >>> 0 : randomInt(2 ** 32);

/** The seed generators get when none is given. */
export function testSeed(): number {
  return fileSeed;
}

/** Prints `seed` when the current test (or, at collection time, any later test of the file) fails. */
function reportOnFailure(seed: number): void {
  const report = () => console.error(`random seed ${seed}: replay with CAIRN_TEST_SEED=${seed}`);
  try {
    onTestFailed(report); // made inside a test
  } catch {
    beforeEach(({ onTestFailed: onFailed }) => onFailed(report)); // made while the file is collected
  }
}

/**
 * A deterministic generator (mulberry32) from `seed` (the file's seed when not given). Tests that pin a
 * seed (fuzz corpora) pass it; the others take the file's seed, which varies between runs.
 */
export function seededRandom(seed: number = testSeed()): Random {
  reportOnFailure(seed);
  let a = seed >>> 0;
  const u32 = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const next = () => u32() / 4294967296;
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min));
  return {
    seed,
    next,
    int,
    bytes(n) {
      const out = Buffer.allocUnsafeSlow(n); // its own memory, as crypto.randomBytes gives (not the shared pool)
      let i = 0;
      for (; i + 4 <= n; i += 4) out.writeUInt32LE(u32(), i);
      for (; i < n; i++) out[i] = u32() & 0xff;
      return out;
    },
    distinct(k, n) {
      if (k > n) throw new RangeError(`cannot draw ${k} distinct integers below ${n}`);
      // Floyd's sampling: k draws, no retries, no array of n.
      const picked = new Set<number>();
      for (let j = n - k; j < n; j++) {
        const t = int(0, j + 1);
        picked.add(picked.has(t) ? j : t);
      }
      return [...picked];
    },
  };
}
