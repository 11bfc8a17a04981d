// StorageOptions.metadataCacheMs: a GET's or HEAD's metadata read answers the object's next reads for that
// long, until any metadata of its erasure set changes. Kept answers are used (no drive read), an overwrite, a
// delete or a re-creation is seen at once, and a fault made behind Cairn's back shows once the kept answer
// expired. Off (0) by default: every read reads the metadata (the other storage tests). Across workers (the
// change bus): test/workers/metadata-cache.test.ts.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { objectDir } from '../../src/storage/meta/key-path.js';
import { META_NAME } from '../../src/storage/meta/meta-file.js';
import type { StorageOptions } from '../../src/storage/index.js';
import { data, drives, get, open, put } from './helpers.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function setup(o: Partial<StorageOptions>) {
  const d = await drives(4);
  const s = await open(d.paths, o);
  cleanup.push(
    () => d.cleanup(),
    () => s.close(),
  );
  await s.makeBucket('bkt');
  return { d, s };
}

describe('metadata cache', () => {
  it('is off by default: every read reads the metadata', async () => {
    const { s } = await setup({});
    await put(s, 'bkt', 'k', data(1000));
    const before = s.readStats();
    for (let i = 0; i < 3; i++) await get(s, 'bkt', 'k');
    const after = s.readStats();
    expect(after.metadataReads - before.metadataReads).toBe(3);
    expect(after.metadataCacheHits).toBe(0);
  });

  it('answers the next reads from the kept read; overwrites, deletes and re-creations are seen at once', async () => {
    // A long time: only a change can make a read go to the drives again.
    const { s } = await setup({ metadataCacheMs: 600_000 });
    // Inline and in shard files, overwritten by each other (the data dir of the old version goes away).
    const sizes = [1000, 3_000_000, 2000, 2_500_000];
    for (const [i, size] of sizes.entries()) {
      const b = data(size);
      await put(s, 'bkt', 'k', b);
      const reads = s.readStats().metadataReads;
      expect((await get(s, 'bkt', 'k')).equals(b), `version ${i}`).toBe(true);
      expect(s.readStats().metadataReads, `version ${i}: the first read after the write`).toBe(reads + 1);
      const hits = s.readStats().metadataCacheHits;
      expect((await get(s, 'bkt', 'k')).equals(b), `version ${i}`).toBe(true);
      expect((await get(s, 'bkt', 'k', { range: { start: 10, end: 99 } })).equals(b.subarray(10, 100))).toBe(true);
      expect((await s.openObject('bkt', 'k')).info.size).toBe(size);
      expect(s.readStats().metadataCacheHits, `version ${i}`).toBe(hits + 3);
      expect(s.readStats().metadataReads, `version ${i}`).toBe(reads + 1);
    }
    await s.deleteObject('bkt', 'k');
    await expect(s.openObject('bkt', 'k')).rejects.toMatchObject({ code: 'NoSuchKey' });
    // A missing key's answer is kept too, and a write replaces it.
    await expect(s.openObject('bkt', 'k')).rejects.toMatchObject({ code: 'NoSuchKey' });
    const again = data(5000);
    await put(s, 'bkt', 'k', again);
    expect((await get(s, 'bkt', 'k')).equals(again)).toBe(true);
    // A write to another key of the set lets go of every kept answer (one set here: 4 drives).
    await put(s, 'bkt', 'other', data(10));
    const reads = s.readStats().metadataReads;
    expect((await get(s, 'bkt', 'k')).equals(again)).toBe(true);
    expect(s.readStats().metadataReads).toBe(reads + 1);
  });

  it('a fault made behind its back (metadata removed on 3 of 4 drives) shows once the kept read expired', async () => {
    const { d, s } = await setup({ metadataCacheMs: 200 });
    const b = data(1000);
    await put(s, 'bkt', 'k', b);
    expect((await get(s, 'bkt', 'k')).equals(b)).toBe(true);
    const files = d.paths.slice(0, 3).map((p) => join(p, 'bkt', objectDir('k'), META_NAME));
    const saved = await Promise.all(files.map((f) => readFile(f)));
    for (const f of files) {
      await rm(f);
      await mkdir(f); // unreadable as a file: the drive's copy is corrupt, not merely absent
    }
    // Polled: how soon the 200 ms pass depends on the machine; the bound is only there to end a broken run.
    let error: unknown;
    for (let waited = 0; waited < 60_000 && !error; waited += 50) {
      error = await s.openObject('bkt', 'k').then(
        () => undefined,
        (e: unknown) => e,
      );
      if (!error) await new Promise((r) => setTimeout(r, 50));
    }
    expect(error).toMatchObject({ code: 'InsufficientReadQuorum' });
    for (const [i, f] of files.entries()) {
      await rm(f, { recursive: true });
      await writeFile(f, saved[i]);
    }
    // The failed read was not kept: the next one reads the repaired files.
    expect((await get(s, 'bkt', 'k')).equals(b)).toBe(true);
  });
});
