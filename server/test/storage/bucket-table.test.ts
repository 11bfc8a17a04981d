// The bucket table is read from the drives on first use. When too few drives can list their buckets, that
// is InsufficientReadQuorum and nothing is kept: a bucket missing from a partial read must not become
// NoSuchBucket for the life of the process. Drives fail for real: their root becomes a symlink loop (ELOOP).
import { rename, rm, symlink } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { drives, open } from './helpers.js';

describe('bucket table', () => {
  it('refuses to load from too few drives, and loads once they answer again', async () => {
    const d = await drives(4);
    try {
      const first = await open(d.paths);
      await first.makeBucket('bkt');
      await first.close();

      const s = await open(d.paths); // the table is read on first use, not at open
      const failing = d.paths.slice(0, 3);
      for (const p of failing) {
        await rename(p, `${p}.real`);
        await symlink(p, p);
      }
      await expect(s.headBucket('bkt')).rejects.toMatchObject({ code: 'InsufficientReadQuorum' });
      await expect(s.getBucketConfig('bkt')).rejects.toMatchObject({ code: 'InsufficientReadQuorum', status: 503 });
      for (const p of failing) {
        await rm(p);
        await rename(`${p}.real`, p);
      }
      expect((await s.headBucket('bkt')).name).toBe('bkt');
      expect((await s.listBuckets()).map((b) => b.name)).toEqual(['bkt']);
      await s.close();
    } finally {
      await d.cleanup();
    }
  });
});
