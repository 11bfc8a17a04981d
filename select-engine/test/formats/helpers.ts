// Test helpers: run a scanner to completion and collect its records.
import type { ScanOptions, ScanResult } from '../../src/formats/index.js';

export function newStats(): ScanOptions['stats'] {
  return { bytesScanned: 0, bytesProcessed: 0 };
}

export async function collect(result: ScanResult | Promise<ScanResult>): Promise<unknown[]> {
  const r = await result;
  const out: unknown[] = [];
  for await (const batch of r.batches) out.push(...batch);
  return out;
}

/** Deterministic pseudo-random generator (mulberry32) so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
