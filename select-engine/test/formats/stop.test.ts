// LIMIT and an abort stop the reads of every scanner; breaking out of the batches closes the source.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  bufferSource,
  scanCsv,
  scanJson,
  scanParquet,
  type ByteSource,
  type ScanResult,
} from '../../src/formats/index.js';
import { newStats } from './helpers.js';

/** A source that records whether its stream was closed. */
function tracked(bytes: Buffer, chunk: number): ByteSource & { closed: boolean } {
  const inner = bufferSource(bytes, chunk);
  const t = {
    size: inner.size,
    closed: false,
    read: inner.read,
    async *stream(start?: number, end?: number) {
      try {
        yield* inner.stream(start, end);
      } finally {
        t.closed = true;
      }
    },
  };
  return t;
}

const lines = `${Array.from({ length: 50_000 }, (_, i) => JSON.stringify({ i })).join('\n')}\n`;
const csv = `${Array.from({ length: 50_000 }, (_, i) => `${i},x`).join('\n')}\n`;

describe('stopping a scan', () => {
  it('JSON LIMIT reads only the first chunks', async () => {
    const stats = newStats();
    const r = await scanJson(bufferSource(Buffer.from(lines), 4096), { type: 'LINES' }, { stats, limit: 3 });
    const got: unknown[] = [];
    for await (const b of r.batches) got.push(...b);
    expect(got).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }]);
    expect(stats.bytesScanned).toBeLessThanOrEqual(4096);
  });

  it('an abort signal ends CSV, JSON and Parquet scans with its reason', async () => {
    const parquet = await readFile(new URL('./fixtures/rowgroups.parquet', import.meta.url));
    const opens: Array<(signal: AbortSignal) => Promise<ScanResult>> = [
      (signal) => scanCsv(bufferSource(Buffer.from(csv), 1024), {}, { stats: newStats(), signal }),
      (signal) => scanJson(bufferSource(Buffer.from(lines), 1024), { type: 'LINES' }, { stats: newStats(), signal }),
      (signal) => scanParquet(bufferSource(parquet), undefined, { stats: newStats(), signal }),
    ];
    for (const open of opens) {
      const ac = new AbortController();
      const r = await open(ac.signal);
      let batches = 0;
      const run = (async () => {
        for await (const _ of r.batches) if (++batches === 2) ac.abort(new Error('client went away'));
      })();
      await expect(run).rejects.toThrow('client went away');
      expect(batches).toBeLessThan(10);
    }
  });

  it('breaking out of the batches closes the source stream', async () => {
    const cases: Array<[(s: ByteSource) => Promise<ScanResult>, string]> = [
      [(s) => scanCsv(s, {}, { stats: newStats() }), csv],
      [(s) => scanJson(s, { type: 'LINES' }, { stats: newStats() }), lines],
    ];
    for (const [open, text] of cases) {
      const src = tracked(Buffer.from(text), 1024);
      const r = await open(src);
      for await (const _ of r.batches) break;
      expect(src.closed).toBe(true);
    }
  });
});
