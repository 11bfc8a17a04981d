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
