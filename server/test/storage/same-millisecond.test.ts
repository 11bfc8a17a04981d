// Writes of one key in the same millisecond, one after the other: the later one is the newer version (S3's
// read-after-write). Versions of equal mtime are ordered by their random ids, so before each write took an
// mtime of its own, a PUT then a PUT (or a DELETE, or a completed multipart upload) left the older version
// latest about half the time. The clock is frozen (only Date: the drives' I/O runs as usual).
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ErasureObjects } from '../../src/storage/index.js';
import { body, data, drives, get, open, put } from './helpers.js';

const ROUNDS = 12; // each would pass by chance with probability 1/2 on the old ordering: 2^-12 in all

describe('writes of one key in one millisecond', () => {
  let s: ErasureObjects;
  let d: Awaited<ReturnType<typeof drives>>;
  beforeAll(async () => {
    d = await drives(4);
    s = await open(d.paths);
    await s.makeBucket('ver');
    await s.updateBucketConfig('ver', { versioning: 'Enabled' });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  afterAll(async () => {
    await s.close();
    await d.cleanup();
  });

  const frozen = () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-12-06T12:00:00.000Z'));
  };

  it('PUT, PUT, DELETE: the last write is the latest version, and the listing is in write order', async () => {
    frozen();
    for (let i = 0; i < ROUNDS; i++) {
      const key = `k${i}`;
      const first = await put(s, 'ver', key, data(100));
      const second = data(200);
      const put2 = await put(s, 'ver', key, second);
      expect((await s.headObject('ver', key)).versionId, `round ${i}`).toBe(put2.versionId);
      expect((await get(s, 'ver', key)).equals(second)).toBe(true);
      const del = await s.deleteObject('ver', key);
      const latest = await s.headObject('ver', key).catch((e: Error) => e);
      expect(latest, `round ${i}: the delete marker hides the key`).toMatchObject({ deleteMarker: true });
      const lv = await s.listObjectVersions('ver', { prefix: key, maxKeys: 10 });
      expect(lv.versions.filter((v) => v.key === key).map((v) => v.versionId)).toEqual([
        del.versionId,
        put2.versionId,
        first.versionId,
      ]);
      // Each took its own millisecond, in write order.
      const times = lv.versions.filter((v) => v.key === key).map((v) => v.lastModified.getTime());
      expect(times[0]).toBeGreaterThan(times[1]);
      expect(times[1]).toBeGreaterThan(times[2]);
    }
  });

  it('a multipart upload completed in the same millisecond as a PUT is the newer', async () => {
    frozen();
    for (let i = 0; i < ROUNDS; i++) {
      const key = `mp${i}`;
      await put(s, 'ver', key, data(50));
      const part = data(1000);
      const up = await s.newMultipartUpload('ver', key, {});
      const p1 = await s.putObjectPart('ver', key, up.uploadId, 1, body(part), { size: part.length });
      const done = await s.completeMultipartUpload('ver', key, up.uploadId, [{ number: 1, etag: p1.etag }]);
      expect((await s.headObject('ver', key)).versionId, `round ${i}`).toBe(done.versionId);
      expect((await get(s, 'ver', key)).equals(part)).toBe(true);
    }
  });
});
