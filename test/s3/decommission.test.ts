// Decommission of a server pool: `cairn admin decommission start POOL` (MinIO's pools/decommission call)
// moves every version of every key of the pool (plain, versioned with delete markers, multipart, inline and
// sharded objects, user metadata and tags) to the other pool while every object stays readable; status shows
// the progress; afterwards the pool holds no object, new objects never land in it, and a restart without the
// pool on the command line serves every object and version as before. Bodies are compared by digest.
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCall, type AdminTarget } from '../../server/src/cli/admin-client.js';
import { decommissionCommand } from '../../server/src/cli/admin-decommission.js';
import type { PoolDecommissionInfo } from '../../server/src/storage/decommission.js';
import { PoolsFixture, sha256 } from '../helpers/pools.js';
import { seededRandom } from '../helpers/random.js';

const rnd = seededRandom();
let f: PoolsFixture;
let s3: S3Client;
let admin: AdminTarget;
const poolArg = (n: number) => f.arg(n);

async function start(pools: number[]): Promise<void> {
  await f.start(pools);
  ({ s3, admin } = f);
}

/** Key -> digest of the latest version's body (plain bucket), and every version of the versioned one. */
const plain = new Map<string, string>();
type Version = { key: string; id: string; etag?: string; marker: boolean; latest: boolean };

async function versionsOf(bucket: string): Promise<Version[]> {
  const out: Version[] = [];
  let keyMarker: string | undefined;
  let idMarker: string | undefined;
  for (;;) {
    const r = await s3.send(
      new ListObjectVersionsCommand({ Bucket: bucket, MaxKeys: 7, KeyMarker: keyMarker, VersionIdMarker: idMarker }),
    );
    for (const v of r.Versions ?? [])
      out.push({ key: v.Key!, id: v.VersionId!, etag: v.ETag, marker: false, latest: v.IsLatest! });
    for (const m of r.DeleteMarkers ?? [])
      out.push({ key: m.Key!, id: m.VersionId!, marker: true, latest: m.IsLatest! });
    if (!r.IsTruncated) break;
    keyMarker = r.NextKeyMarker;
    idMarker = r.NextVersionIdMarker;
  }
  return out.sort((a, b) => (a.key + a.id < b.key + b.id ? -1 : 1));
}

const digestOf = (bucket: string, key: string, versionId?: string) => f.digestOf(bucket, key, versionId);

async function everyPlainObjectReads(): Promise<void> {
  for (const [key, digest] of plain) expect(await digestOf('plain', key), key).toBe(digest);
}

const metasIn = (pool: number, bucket: string) => f.metasIn(pool, bucket);

let versionedBefore: Version[];
const versionDigests = new Map<string, string>();

beforeAll(async () => {
  f = await PoolsFixture.make('cairn-decom-');
  await start([1, 2]);
  await s3.send(new CreateBucketCommand({ Bucket: 'plain' }));
  await s3.send(new CreateBucketCommand({ Bucket: 'ver' }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: 'ver', VersioningConfiguration: { Status: 'Enabled' } }));
  for (let i = 0; i < 40; i++) {
    const key = `k/${String(i).padStart(2, '0')}`;
    const body = rnd.bytes(i % 8 === 0 ? 1_500_000 : 200 + i * 37);
    await s3.send(
      new PutObjectCommand({ Bucket: 'plain', Key: key, Body: body, Metadata: { n: String(i) }, Tagging: `t=${i}` }),
    );
    plain.set(key, sha256(body));
  }
  // A multipart object (two parts: its ETag ends in -2).
  const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'plain', Key: 'mp' }));
  const p1 = rnd.bytes(5 * 1024 * 1024);
  const p2 = rnd.bytes(3000);
  const e1 = await s3.send(
    new UploadPartCommand({ Bucket: 'plain', Key: 'mp', UploadId: up.UploadId, PartNumber: 1, Body: p1 }),
  );
  const e2 = await s3.send(
    new UploadPartCommand({ Bucket: 'plain', Key: 'mp', UploadId: up.UploadId, PartNumber: 2, Body: p2 }),
  );
  await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: 'plain',
      Key: 'mp',
      UploadId: up.UploadId,
      MultipartUpload: {
        Parts: [
          { PartNumber: 1, ETag: e1.ETag },
          { PartNumber: 2, ETag: e2.ETag },
        ],
      },
    }),
  );
  plain.set('mp', sha256(Buffer.concat([p1, p2])));
  for (let i = 0; i < 24; i++) {
    const key = `v${i % 8}`;
    const body = rnd.bytes(i % 6 === 0 ? 400_000 : 100 + i);
    const r = await s3.send(new PutObjectCommand({ Bucket: 'ver', Key: key, Body: body }));
    versionDigests.set(`${key}\0${r.VersionId}`, sha256(body));
  }
  for (const key of ['v1', 'v4']) await s3.send(new DeleteObjectCommand({ Bucket: 'ver', Key: key }));
  // Many small objects: a drain long enough for its progress to be seen between empty and full.
  await s3.send(new CreateBucketCommand({ Bucket: 'many' }));
  for (let i = 0; i < 200; i += 20)
    await Promise.all(
      Array.from({ length: 20 }, (_, j) =>
        s3.send(new PutObjectCommand({ Bucket: 'many', Key: `m${i + j}`, Body: rnd.bytes(300) })),
      ),
    );
  versionedBefore = await versionsOf('ver');
  // IAM's records live in the system bucket, which moves too.
  await adminCall(admin, {
    method: 'PUT',
    path: 'add-user',
    query: { accessKey: 'pool-user' },
    body: { secretKey: 'pool-user-secret', status: 'enabled' },
    encrypt: true,
  });
}, 180_000);

afterAll(async () => {
  await f?.close();
});

describe('decommission of a server pool', () => {
  it('refuses what it cannot do, changing nothing', async () => {
    await expect(
      adminCall(admin, { method: 'POST', path: 'pools/decommission', query: { pool: '/no/such{1...4}' } }),
    ).rejects.toThrow(/400/);
    await expect(
      adminCall(admin, { method: 'POST', path: 'pools/cancel', query: { pool: poolArg(1) } }),
    ).rejects.toThrow(/400/);
    await expect(
      adminCall(admin, { method: 'GET', path: 'pools/decommission', query: { pool: poolArg(1) } }),
    ).rejects.toThrow(/405/);
    const list = (await adminCall(admin, { method: 'GET', path: 'pools/list' })) as {
      cmdline: string;
      decommissionInfo?: unknown;
    }[];
    expect(list.map((p) => p.cmdline)).toEqual([poolArg(1), poolArg(2)]);
    expect(list.every((p) => p.decommissionInfo === undefined)).toBe(true);
  });

  it('moves every version out of the pool while every object stays readable', async () => {
    expect(await metasIn(1, 'plain')).toBeGreaterThan(0);
    expect((await metasIn(1, '.cairn.sys/config')) + (await metasIn(2, '.cairn.sys/config'))).toBeGreaterThan(0);
    const started = await decommissionCommand(admin, 'start', [poolArg(1)]);
    expect(started.done).toMatch(/started/);
    // A second drain while one runs (or after it ended) is refused.
    await expect(
      adminCall(admin, { method: 'POST', path: 'pools/decommission', query: { pool: poolArg(1) } }),
    ).rejects.toThrow(/400/);
    // The status table's bar, read over and over while the drain runs (beside the reads below).
    const bars: { status: string; done: number; of: number; bytes: string }[] = [];
    const sampling = (async () => {
      for (const deadline = Date.now() + 240_000; Date.now() < deadline; ) {
        const r = (await decommissionCommand(admin, 'status', [poolArg(1)])).rows![0];
        const m = /\] (\d+)% (\d+)\/(\d+)$/.exec(r.progress);
        if (m) {
          expect(Number(m[1])).toBe(Math.floor((Number(m[2]) / Number(m[3])) * 100));
          bars.push({ status: r.status, done: Number(m[2]), of: Number(m[3]), bytes: r.bytes });
        } else expect([r.status, r.progress]).toEqual(['counting', '']);
        if (r.status !== 'draining' && r.status !== 'counting') return;
      }
    })();
    // Read everything over and over until the drain is complete (generous limit: a loaded machine).
    const deadline = Date.now() + 240_000;
    let status: { decommissionInfo?: PoolDecommissionInfo } = {};
    for (;;) {
      await everyPlainObjectReads();
      status = (await adminCall(admin, {
        method: 'GET',
        path: 'pools/status',
        query: { pool: poolArg(1) },
      })) as typeof status;
      if (status.decommissionInfo?.complete || status.decommissionInfo?.failed || Date.now() > deadline) break;
    }
    expect(status.decommissionInfo?.failed).toBe(false);
    expect(status.decommissionInfo?.complete).toBe(true);
    const info = status.decommissionInfo!;
    expect(info.objectsDecommissioned).toBeGreaterThan(200 / 2);
    // Counted at the start: every version the pool held (nothing was written meanwhile), and their bytes.
    expect(info.objectsTotal).toBe(info.objectsDecommissioned);
    expect(info.bytesTotal).toBe(info.bytesDecommissioned);
    await sampling;
    const of = info.objectsTotal!;
    expect(bars.every((b) => b.of === of)).toBe(true);
    expect(bars.at(-1)).toEqual({ status: 'complete', done: of, of, bytes: `${info.bytesTotal}/${info.bytesTotal}` });
    for (let i = 1; i < bars.length; i++) expect(bars[i].done).toBeGreaterThanOrEqual(bars[i - 1].done);
    expect(bars.some((b) => b.status === 'draining' && b.done > 0 && b.done < of)).toBe(true);
    const table = await decommissionCommand(admin, 'status', []);
    expect(table.rows!.map((r) => r.status)).toEqual(['complete', 'active']);
    expect(await metasIn(1, 'plain')).toBe(0);
    expect(await metasIn(1, 'ver')).toBe(0);
    expect(await metasIn(1, '.cairn.sys/config')).toBe(0);
  }, 300_000);

  it('after the drain: same objects, versions, metadata; new objects go to the other pool', async () => {
    await everyPlainObjectReads();
    const mp = await s3.send(new HeadObjectCommand({ Bucket: 'plain', Key: 'mp' }));
    expect(mp.ETag).toMatch(/-2"$/);
    const k3 = await s3.send(new HeadObjectCommand({ Bucket: 'plain', Key: 'k/03' }));
    expect(k3.Metadata).toEqual({ n: '3' });
    expect(await versionsOf('ver')).toEqual(versionedBefore);
    for (const [id, digest] of versionDigests) {
      const [key, versionId] = id.split('\0');
      expect(await digestOf('ver', key, versionId), id).toBe(digest);
    }
    for (let i = 0; i < 10; i++) {
      const body = rnd.bytes(100 + i);
      await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: `new/${i}`, Body: body }));
      plain.set(`new/${i}`, sha256(body));
    }
    expect(await metasIn(1, 'plain')).toBe(0);
  }, 120_000);

  it('a restart without the drained pool serves everything', async () => {
    await start([2]);
    await everyPlainObjectReads();
    expect(await versionsOf('ver')).toEqual(versionedBefore);
    const users = (await adminCall(admin, { method: 'GET', path: 'list-users', decrypt: true })) as Record<
      string,
      unknown
    >;
    expect(Object.keys(users)).toContain('pool-user');
    // One pool left: nothing to decommission into.
    await expect(adminCall(admin, { method: 'GET', path: 'pools/list' })).rejects.toThrow(/501/);
  }, 120_000);
});
