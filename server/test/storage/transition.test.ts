// Transitioned versions in storage (metadata format 4): transitionObject hands the stored bytes to the
// caller's upload and swaps the local shards for the remote location, keeping the metadata; a change during
// the upload wins (nothing local changes); healing carries the remote location to a replaced drive; reads go
// through the attached RemoteTiers; removing the version reports its remote object. The tier here is a
// folder of buffers standing for the remote bucket (the real S3 path: test/s3/tier.test.ts).
import { readdir, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { ByteRange, RemoteObject, RemoteTiers } from '../../src/storage/object-layer.js';
import { body, data, drives, get, open, readAll } from './helpers.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

class BufferTier implements RemoteTiers {
  readonly objects = new Map<string, Buffer>();
  readonly releasedKeys: string[] = [];
  private n = 0;
  async upload(b: Readable): Promise<RemoteObject> {
    const key = `remote/${++this.n}`;
    this.objects.set(key, await readAll(b));
    return { tier: 'WARM', key };
  }
  async read(r: RemoteObject, range: ByteRange | undefined): Promise<Readable> {
    const all = this.objects.get(r.key)!;
    return Readable.from([range ? all.subarray(range.start, range.end + 1) : all]);
  }
  async released(remotes: RemoteObject[]): Promise<void> {
    this.releasedKeys.push(...remotes.map((r) => r.key));
  }
}

async function setup() {
  const d = await drives(4);
  const s = await open(d.paths, { gcGraceMs: 0 });
  cleanup.push(
    () => d.cleanup(),
    () => s.close(),
  );
  await s.makeBucket('bkt', { versioning: 'Enabled' });
  const tier = new BufferTier();
  s.attachTiers(tier);
  return { d, s, tier };
}

/** Shard files (part.N) left under the bucket on every drive. */
async function partFiles(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths)
    for (const f of await readdir(join(p, 'bkt'), { recursive: true }).catch(() => [] as string[]))
      if (/part\.\d+$/.test(f)) out.push(f);
  return out;
}

describe('transitioned versions', () => {
  it('keeps the metadata, frees the shards, reads through the tier, heals, and reports the remote on removal', async () => {
    const { d, s, tier } = await setup();
    const b = data(2 * 1024 * 1024 + 77);
    const put = await s.putObject('bkt', 'k', body(b), {
      size: b.length,
      userMetadata: { a: '1' },
      tagging: 't=1',
      checksumAlgorithm: 'CRC32C',
    });
    expect(await partFiles(d.paths)).not.toEqual([]);
    const moved = await s.transitionObject('bkt', 'k', put.versionId, { upload: (x) => tier.upload(x) });
    expect(tier.objects.get('remote/1')!.equals(b)).toBe(true);
    const { transition: _t, storageClass: _c, ...kept } = moved;
    const { storageClass: _c2, ...before } = put;
    expect(kept).toMatchObject({ ...before, userMetadata: { a: '1' }, tagging: 't=1' });
    expect(moved.storageClass).toBe('WARM');
    expect(moved.transition).toEqual({ tier: 'WARM', key: 'remote/1' });
    await s.close(); // lets the reaper's removals land
    const s2 = await open(d.paths);
    cleanup.push(() => s2.close());
    s2.attachTiers(tier);
    expect(await partFiles(d.paths)).toEqual([]);
    expect(
      (await get(s2, 'bkt', 'k', { range: { start: 1000, end: 1_500_000 } })).equals(b.subarray(1000, 1_500_001)),
    ).toBe(true);
    // A replaced drive gets the version's record, remote location included; two drives are then enough.
    await rm(d.paths[3], { recursive: true });
    await mkdir(d.paths[3]);
    await s2.checkDrives();
    await s2.healIdle();
    for (const i of [0, 1]) await rm(join(d.paths[i], 'bkt'), { recursive: true });
    expect((await s2.headObject('bkt', 'k')).transition).toEqual({ tier: 'WARM', key: 'remote/1' });
    expect((await get(s2, 'bkt', 'k')).equals(b)).toBe(true);
    expect(await partFiles(d.paths)).toEqual([]);
    await s2.deleteObject('bkt', 'k', { versionId: put.versionId });
    expect(tier.releasedKeys).toEqual(['remote/1']);
  });

  it('changes nothing when the version changed during the upload, or the upload failed', async () => {
    const { s, tier } = await setup();
    const b = data(300_000);
    const put = await s.putObject('bkt', 'k', body(b), { size: b.length });
    const during = s.transitionObject('bkt', 'k', put.versionId, {
      upload: async (x) => {
        const r = await tier.upload(x);
        await s.updateObjectMetadata('bkt', 'k', { versionId: put.versionId, tagging: 'changed=1' });
        return r;
      },
    });
    await expect(during).rejects.toMatchObject({ code: 'PreconditionFailed' });
    const failed = s.transitionObject('bkt', 'k', put.versionId, {
      upload: async (x) => {
        x.destroy();
        throw new Error('tier refused');
      },
    });
    await expect(failed).rejects.toThrow('tier refused');
    const info = await s.headObject('bkt', 'k');
    expect(info.storageClass).toBe('STANDARD');
    expect(info.transition).toBeUndefined();
    expect(info.tagging).toBe('changed=1');
    expect((await get(s, 'bkt', 'k')).equals(b)).toBe(true);
    // A delete marker has nothing to move.
    const marker = await s.deleteObject('bkt', 'k');
    await expect(
      s.transitionObject('bkt', 'k', marker.versionId!, { upload: (x) => tier.upload(x) }),
    ).rejects.toMatchObject({ code: 'InvalidObjectState' });
  });
});
