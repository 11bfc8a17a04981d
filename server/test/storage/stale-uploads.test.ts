// Unfinished multipart uploads expire (CAIRN_API_STALE_UPLOADS_EXPIRY): an upload older than the expiry goes
// with its parts from every drive; a younger one and completed objects stay.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { body, data, drives, open } from './helpers.js';
import type { ErasureObjects } from '../../src/storage/engine/erasure-objects.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

const HOUR = 3_600_000;

async function filesUnder(dir: string): Promise<string[]> {
  const out = await readdir(dir, { recursive: true }).catch(() => []);
  return out.map(String).filter((f) => f.includes('part.') || f.endsWith('upload.json'));
}

describe('stale multipart uploads', () => {
  it('removes uploads older than the expiry, parts and all, and keeps the others', async () => {
    const d = await drives(4);
    const s = await open(d.paths, { staleUploadsExpiryMs: 24 * HOUR });
    cleanup.push(
      () => d.cleanup(),
      () => s.close(),
    );
    await s.makeBucket('bkt');
    const old = await s.newMultipartUpload('bkt', 'old', {});
    const part = data(64 * 1024);
    await s.putObjectPart('bkt', 'old', old.uploadId, 1, body(part), { size: part.length });
    const sysDirs = d.paths.map((p) => join(p, '.cairn.sys', 'multipart'));
    expect((await Promise.all(sysDirs.map(filesUnder))).flat().length).toBeGreaterThan(0);

    // Judged a day later, the first upload is stale; one started "now" (at judging time) is not.
    const judged = old.initiated.getTime() + 24 * HOUR + 1;
    expect(await s.expireStaleUploads(old.initiated.getTime() + 24 * HOUR)).toBe(0);
    const young = await s.newMultipartUpload('bkt', 'young', {});
    expect(await s.expireStaleUploads(judged)).toBe(1);
    const left = await s.listMultipartUploads('bkt', { maxUploads: 10 });
    expect(left.uploads.map((u) => u.uploadId)).toEqual([young.uploadId]);
    for (const dir of sysDirs) expect((await filesUnder(dir)).some((f) => f.includes(old.uploadId))).toBe(false);
    await expect(s.listParts('bkt', 'old', old.uploadId, { maxParts: 10 })).rejects.toMatchObject({
      code: 'NoSuchUpload',
    });
  });

  // A part whose body is still arriving when its upload goes (removed as stale, or aborted) must not bring the
  // upload's folder back: it would hold the part's space with nothing left to remove it.
  for (const [how, end] of [
    ['removed as stale', (s: ErasureObjects) => s.expireStaleUploads(Date.now() + 24 * HOUR)],
    ['aborted', (s: ErasureObjects, id: string) => s.abortMultipartUpload('bkt', 'k', id)],
  ] as const) {
    it(`a part still arriving when its upload is ${how} is refused and leaves nothing`, async () => {
      const d = await drives(4);
      const s = await open(d.paths, { staleUploadsExpiryMs: 24 * HOUR });
      cleanup.push(
        () => d.cleanup(),
        () => s.close(),
      );
      await s.makeBucket('bkt');
      const up = await s.newMultipartUpload('bkt', 'k', {});
      const part = data(256 * 1024);
      // The body asks for data only once the part's write has begun (after its check that the upload exists).
      let reading!: () => void;
      const asked = new Promise<void>((r) => {
        reading = r;
      });
      const held = new Readable({ read: () => reading() });
      const writing = s.putObjectPart('bkt', 'k', up.uploadId, 1, held, { size: part.length });
      writing.catch(() => {});
      await asked;
      await end(s, up.uploadId);
      held.push(part);
      held.push(null);
      await expect(writing).rejects.toMatchObject({ code: 'NoSuchUpload' });
      const sysDirs = d.paths.map((p) => join(p, '.cairn.sys', 'multipart'));
      for (const dir of sysDirs) expect(await filesUnder(dir)).toEqual([]);
    });
  }
});
