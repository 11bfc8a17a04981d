// Server pools on one machine: `cairn server p1/d{1...4} p2/d{1...4}` serves two pools of 4 drives as one
// store. Each object lives in exactly one pool (its `meta` on that pool's drives only) and stays there when
// written again; GET, HEAD and DELETE find it; listings merge both pools in order with the same paging;
// multipart uploads complete in their pool; buckets exist in every pool; a restart (and a pool added later)
// serves everything again. Bodies are compared by digest.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Error } from '../helpers/cairn.js';
import { PoolsFixture, sha256 } from '../helpers/pools.js';
import { seededRandom } from '../helpers/random.js';

const rnd = seededRandom();
let f: PoolsFixture;
let s3: S3Client;
const upTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
/** The pools (1-based) whose first drive holds `key`'s metadata in `bucket`. */
const poolsOf = (bucket: string, key: string, pools = 2) => f.poolsOf(bucket, key, upTo(pools));
const get = (bucket: string, key: string) => f.digestOf(bucket, key);

async function start(pools: number): Promise<void> {
  await f.start(upTo(pools));
  s3 = f.s3;
}

async function listAll(bucket: string, page: number, delimiter?: string): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const r = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, MaxKeys: page, ContinuationToken: token, Delimiter: delimiter }),
    );
    out.push(...(r.Contents ?? []).map((c) => c.Key!), ...(r.CommonPrefixes ?? []).map((c) => c.Prefix!));
    token = r.NextContinuationToken;
  } while (token);
  return out;
}

const bodies = new Map<string, string>();

beforeAll(async () => {
  f = await PoolsFixture.make('cairn-pools-');
  await start(2);
}, 60_000);

afterAll(async () => {
  await f?.close();
});

describe('two server pools', () => {
  it('buckets are made in every pool', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'pools' }));
    for (const p of [1, 2]) expect(existsSync(join(f.base, `p${p}`, 'd1', 'pools'))).toBe(true);
  });

  it('a PUT lands in one pool, keys spread over both; GET and HEAD find each', async () => {
    for (let i = 0; i < 40; i++) {
      const key = `dir${i % 4}/k${String(i).padStart(2, '0')}`;
      // Small (inline) and larger (shard files) objects.
      const body = rnd.bytes(i % 5 === 0 ? 300_000 : 1000 + i);
      await s3.send(new PutObjectCommand({ Bucket: 'pools', Key: key, Body: body }));
      bodies.set(key, sha256(body));
    }
    const where = new Map<number, number>();
    for (const key of bodies.keys()) {
      const p = poolsOf('pools', key);
      expect(p, key).toHaveLength(1);
      where.set(p[0], (where.get(p[0]) ?? 0) + 1);
    }
    // Placement is random, weighted by free space (both pools on one file system here): both get some.
    expect(where.get(1)).toBeGreaterThan(0);
    expect(where.get(2)).toBeGreaterThan(0);
    for (const [key, digest] of bodies) {
      expect(await get('pools', key), key).toBe(digest);
      const h = await s3.send(new HeadObjectCommand({ Bucket: 'pools', Key: key }));
      expect(h.ContentLength).toBeGreaterThan(0);
    }
  }, 120_000);

  it('an object written again stays in its pool', async () => {
    const keys = [...bodies.keys()].slice(0, 8);
    for (const key of keys) {
      const before = poolsOf('pools', key);
      for (let n = 0; n < 3; n++) {
        const body = rnd.bytes(2000 + n);
        await s3.send(new PutObjectCommand({ Bucket: 'pools', Key: key, Body: body }));
        bodies.set(key, sha256(body));
      }
      expect(poolsOf('pools', key), key).toEqual(before);
      expect(await get('pools', key)).toBe(bodies.get(key));
    }
  }, 60_000);

  it('listings merge both pools in key order, with the same paging', async () => {
    const all = [...bodies.keys()].sort();
    expect(await listAll('pools', 1000)).toEqual(all);
    expect(await listAll('pools', 7)).toEqual(all);
    expect(await listAll('pools', 1, '/')).toEqual(['dir0/', 'dir1/', 'dir2/', 'dir3/']);
    const r = await s3.send(new ListObjectsV2Command({ Bucket: 'pools', Prefix: 'dir2/', StartAfter: 'dir2/k10' }));
    expect(r.Contents!.map((c) => c.Key)).toEqual(all.filter((k) => k.startsWith('dir2/') && k > 'dir2/k10'));
  }, 60_000);

  it('versions of a key stay in one pool and list merged', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'versioned' }));
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: 'versioned', VersioningConfiguration: { Status: 'Enabled' } }),
    );
    for (const p of [1, 2]) expect(existsSync(join(f.base, `p${p}`, 'd1', 'versioned'))).toBe(true);
    const ids = new Map<string, string[]>();
    for (let i = 0; i < 12; i++) {
      const key = `v${i % 6}`;
      const r = await s3.send(new PutObjectCommand({ Bucket: 'versioned', Key: key, Body: `body ${i}` }));
      ids.set(key, [r.VersionId!, ...(ids.get(key) ?? [])]);
    }
    await s3.send(new DeleteObjectCommand({ Bucket: 'versioned', Key: 'v0' }));
    for (const key of ids.keys()) expect(poolsOf('versioned', key), key).toHaveLength(1);
    const seen: { key: string; id: string; latest: boolean }[] = [];
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    for (;;) {
      const r = await s3.send(
        new ListObjectVersionsCommand({
          Bucket: 'versioned',
          MaxKeys: 5,
          KeyMarker: keyMarker,
          VersionIdMarker: idMarker,
        }),
      );
      for (const v of [...(r.Versions ?? []), ...(r.DeleteMarkers ?? [])])
        seen.push({ key: v.Key!, id: v.VersionId!, latest: v.IsLatest! });
      if (!r.IsTruncated) break;
      keyMarker = r.NextKeyMarker;
      idMarker = r.NextVersionIdMarker;
    }
    expect(seen).toHaveLength(13);
    for (const [key, list] of ids) {
      const mine = seen.filter((s) => s.key === key && !(key === 'v0' && s.latest));
      expect(mine.map((s) => s.id).sort()).toEqual([...list].sort());
    }
    expect(seen.filter((s) => s.latest)).toHaveLength(6);
    expect((await s3Error(s3.send(new GetObjectCommand({ Bucket: 'versioned', Key: 'v0' })))).status).toBe(404);
    const old = await s3.send(new GetObjectCommand({ Bucket: 'versioned', Key: 'v0', VersionId: ids.get('v0')![1] }));
    expect(await old.Body!.transformToString()).toBe('body 0');
  }, 60_000);

  it('a multipart upload completes in the pool it started in; uploads of both pools are listed', async () => {
    const uploads: { key: string; id: string }[] = [];
    for (let i = 0; i < 6; i++) {
      const key = `mp/u${i}`;
      const r = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'pools', Key: key }));
      uploads.push({ key, id: r.UploadId! });
    }
    const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'pools', Prefix: 'mp/' }));
    expect(listed.Uploads!.map((u) => u.UploadId).sort()).toEqual(uploads.map((u) => u.id).sort());
    const paged: string[] = [];
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    for (;;) {
      const r = await s3.send(
        new ListMultipartUploadsCommand({
          Bucket: 'pools',
          Prefix: 'mp/',
          MaxUploads: 2,
          KeyMarker: keyMarker,
          UploadIdMarker: idMarker,
        }),
      );
      paged.push(...(r.Uploads ?? []).map((u) => u.UploadId!));
      if (!r.IsTruncated) break;
      keyMarker = r.NextKeyMarker;
      idMarker = r.NextUploadIdMarker;
    }
    expect(paged.sort()).toEqual(uploads.map((u) => u.id).sort());

    const part1 = rnd.bytes(5 * 1024 * 1024);
    const part2 = rnd.bytes(1000);
    for (const { key, id } of uploads.slice(0, 2)) {
      const e1 = await s3.send(
        new UploadPartCommand({ Bucket: 'pools', Key: key, UploadId: id, PartNumber: 1, Body: part1 }),
      );
      const e2 = await s3.send(
        new UploadPartCommand({ Bucket: 'pools', Key: key, UploadId: id, PartNumber: 2, Body: part2 }),
      );
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'pools',
          Key: key,
          UploadId: id,
          MultipartUpload: {
            Parts: [
              { PartNumber: 1, ETag: e1.ETag },
              { PartNumber: 2, ETag: e2.ETag },
            ],
          },
        }),
      );
      bodies.set(key, sha256(Buffer.concat([part1, part2])));
      expect(poolsOf('pools', key), key).toHaveLength(1);
      expect(await get('pools', key)).toBe(bodies.get(key));
    }
  }, 120_000);

  it('DELETE finds the pool; a bucket with objects in either pool is not empty', async () => {
    const victims = [...bodies.keys()].filter((k) => k.startsWith('dir3/'));
    for (const key of victims) {
      await s3.send(new DeleteObjectCommand({ Bucket: 'pools', Key: key }));
      expect(poolsOf('pools', key), key).toEqual([]);
      expect((await s3Error(s3.send(new GetObjectCommand({ Bucket: 'pools', Key: key })))).status).toBe(404);
      bodies.delete(key);
    }
    expect(await listAll('pools', 5)).toEqual([...bodies.keys()].sort());
    await s3.send(new CreateBucketCommand({ Bucket: 'one-object' }));
    await s3.send(new PutObjectCommand({ Bucket: 'one-object', Key: 'only', Body: 'x' }));
    expect((await s3Error(s3.send(new DeleteBucketCommand({ Bucket: 'one-object' })))).name).toBe('BucketNotEmpty');
    await s3.send(new DeleteObjectCommand({ Bucket: 'one-object', Key: 'only' }));
    await s3.send(new DeleteBucketCommand({ Bucket: 'one-object' }));
    for (const p of [1, 2]) expect(existsSync(join(f.base, `p${p}`, 'd1', 'one-object', '_bucket.json'))).toBe(false);
  }, 60_000);

  it('a restart serves every object; a third pool added later gets the buckets and new objects', async () => {
    await start(3);
    for (const [key, digest] of bodies) expect(await get('pools', key), key).toBe(digest);
    expect(existsSync(join(f.base, 'p3', 'd1', 'pools'))).toBe(true);
    for (let i = 0; i < 30; i++) {
      const key = `later/k${i}`;
      const body = rnd.bytes(500 + i);
      await s3.send(new PutObjectCommand({ Bucket: 'pools', Key: key, Body: body }));
      bodies.set(key, sha256(body));
      expect(poolsOf('pools', key, 3), key).toHaveLength(1);
    }
    expect(await listAll('pools', 9)).toEqual([...bodies.keys()].sort());
    for (const [key, digest] of bodies) expect(await get('pools', key), key).toBe(digest);
  }, 120_000);
});
