// Remote tiers and lifecycle transitions between two real Cairn servers: the "hot" one under test, with the
// lifecycle test clock (a day of 1 s, rules applied every 250 ms), and a second Cairn as its tier. Tier
// configuration through MinIO's admin API (bad ones refused with nothing stored, secrets never listed, admin
// rights checked), transitions of current and noncurrent versions (local shards freed, metadata kept, bytes
// and ranges read back through the tier), the tier stopped (503, nothing changed) and back, and deletes that
// remove the remote copy (now, or once the tier is back). Nothing sleeps: each test polls (vi.waitFor).
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteBucketLifecycleCommand,
  DeleteObjectCommand,
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  RestoreObjectCommand,
  type LifecycleRule,
  type S3Client,
  type TransitionStorageClass,
} from '@aws-sdk/client-s3';
import { startServer, type CairnServer } from '@cairn/server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { adminCall, type AdminTarget } from '../../server/src/cli/admin-client.js';
import { ALT, ROOT, makeClient, s3Error, startWithBucket, type TestServer } from '../helpers/cairn.js';
import { spawnCairn } from '../helpers/cli.js';

const POLL = { timeout: 45_000, interval: 100 };
/** The tier's name as a lifecycle StorageClass (the SDK's type lists AWS's classes only). */
const WARM = 'WARM' as TransitionStorageClass;
const KMS_KEY = `tier-test-key:${randomBytes(32).toString('base64')}`;

/** The tier: a second Cairn, restartable on the same port and drives. */
class TierServer {
  server!: CairnServer;
  port = 0;
  constructor(readonly base: string) {}
  async start(): Promise<void> {
    this.server = await startServer({
      address: `127.0.0.1:${this.port}`,
      credentials: { root: ROOT, users: [] },
      storage: { background: false },
      shutdownGraceMs: 500,
      drives: [1, 2, 3, 4].map((i) => join(this.base, `d${i}`)),
    });
    this.port = this.server.port;
  }
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }
}

let hot: TestServer;
let s3: S3Client;
let tier: TierServer;
let remote: S3Client;
let admin: AdminTarget;

beforeAll(async () => {
  tier = new TierServer(await mkdtemp(join(tmpdir(), 'cairn-tier-')));
  await tier.start();
  remote = makeClient(tier.url);
  await remote.send(new CreateBucketCommand({ Bucket: 'warm' }));
  await remote.send(new CreateBucketCommand({ Bucket: 'other' }));
  ({ server: hot, s3 } = await startWithBucket(undefined, {
    lifecycleDaySeconds: 1,
    storage: { background: true, staleUploadsCleanupIntervalMs: 250, gcGraceMs: 100 },
    kms: { secretKey: KMS_KEY },
  }));
  admin = { endpoint: hot.url, ...ROOT, region: 'us-east-1' };
});
afterAll(async () => {
  await hot?.close();
  await tier?.server.close();
  if (tier) await rm(tier.base, { recursive: true, force: true });
});

const tierConfig = (over: Record<string, unknown> = {}, section: Record<string, unknown> = {}) => ({
  Version: 'v1',
  Type: 'minio',
  Name: 'WARM',
  ...over,
  MinIO: {
    Endpoint: tier.url,
    AccessKey: ROOT.accessKey,
    SecretKey: ROOT.secretKey,
    Bucket: 'warm',
    Prefix: 'hot-tier/',
    ...section,
  },
});
const addTier = (body: unknown, as: AdminTarget = admin) =>
  adminCall(as, { method: 'PUT', path: 'tier', body, encrypt: true });
const listTiers = async () => (await adminCall(admin, { method: 'GET', path: 'tier' })) as Record<string, unknown>[];
/** The admin API's refusal: `<status> <code>`. */
async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).message.replace(/^[^:]+: (\d+) ([A-Za-z]+):.*$/s, '$1 $2');
  }
  throw new Error('expected a refusal');
}
const remoteKeys = async (Bucket = 'warm') =>
  ((await remote.send(new ListObjectsV2Command({ Bucket }))).Contents ?? []).map((o) => o.Key!);

/** Files other than metadata, listing journals and bucket documents in a bucket's folder on the hot server's drives. */
async function dataFiles(bucket: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(dir: string): Promise<void> {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (!['meta', '_idx', '_bucket.json'].includes(e.name)) out.push(p);
    }
  }
  for (const d of hot.drives) await walk(join(d, bucket));
  return out;
}

const setRules = (Bucket: string, Rules: LifecycleRule[]) =>
  s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules } }));
const storageClass = async (Bucket: string, Key: string, VersionId?: string) =>
  (await s3.send(new HeadObjectCommand({ Bucket, Key, VersionId }))).StorageClass ?? 'STANDARD';
const bytesOf = async (Bucket: string, Key: string, Range?: string, VersionId?: string) =>
  Buffer.from(
    await (await s3.send(new GetObjectCommand({ Bucket, Key, Range, VersionId }))).Body!.transformToByteArray(),
  );

describe('tier configuration (admin API)', () => {
  it('refuses bad tiers with MinIO codes and stores none of them', async () => {
    const bad: [string, unknown, string][] = [
      ['another config version', tierConfig({ Version: 'v2' }), '400 XMinioAdminTierInvalidConfigVersion'],
      ['an Azure tier', { Version: 'v1', Type: 'azure', Name: 'AZ', Azure: {} }, '400 XMinioAdminTierTypeUnsupported'],
      ['a lower-case name', tierConfig({ Name: 'warm' }), '400 XMinioAdminTierNameNotUpperCase'],
      ['a reserved name', tierConfig({ Name: 'STANDARD' }), '400 XMinioAdminTierReserved'],
      ['no secret', tierConfig({}, { SecretKey: '' }), '403 XMinioAdminTierMissingCredentials'],
      [
        'a remote bucket that does not exist',
        tierConfig({}, { Bucket: 'nosuch' }),
        '400 XMinioAdminTierBucketNotFound',
      ],
      ['a wrong secret', tierConfig({}, { SecretKey: 'wrong-secret' }), '400 XMinioAdminTierInvalidCredentials'],
      ['a remote user without rights', tierConfig({}, { AccessKey: ALT.accessKey, SecretKey: ALT.secretKey }), ''],
      ['an endpoint with a path', tierConfig({}, { Endpoint: `${tier.url}/x` }), '400 XMinioAdminTierInvalidConfig'],
      ['an endpoint nobody answers', tierConfig({}, { Endpoint: 'http://127.0.0.1:1' }), '503 ServiceUnavailable'],
    ];
    for (const [what, body, code] of bad) {
      const got = await refusal(addTier(body));
      // The tier knows no ALT user: its credentials are invalid there.
      if (code === '') expect(got, what).toBe('400 XMinioAdminTierInvalidCredentials');
      else expect(got, what).toBe(code);
    }
    expect(await listTiers()).toEqual([]);
  });

  it('adds a tier that answers, lists it without its secret, and checks admin rights', async () => {
    // ALT has no admin:SetTier or admin:ListTier.
    const alt = { ...admin, ...ALT };
    expect(await refusal(addTier(tierConfig(), alt))).toBe('403 AccessDenied');
    expect(await refusal(adminCall(alt, { method: 'GET', path: 'tier' }))).toBe('403 AccessDenied');
    await addTier(tierConfig());
    const listed = await listTiers();
    expect(listed).toEqual([
      {
        Version: 'v1',
        Type: 'minio',
        Name: 'WARM',
        MinIO: {
          Endpoint: tier.url,
          AccessKey: ROOT.accessKey,
          SecretKey: 'REDACTED',
          Bucket: 'warm',
          Prefix: 'hot-tier/',
          Region: 'us-east-1',
        },
      },
    ]);
    expect(JSON.stringify(listed)).not.toContain(ROOT.secretKey);
    expect(await refusal(addTier(tierConfig()))).toBe('409 XMinioAdminTierAlreadyExists');
    await adminCall(admin, { method: 'GET', path: 'tier/WARM' }); // verify
    expect(await refusal(adminCall(admin, { method: 'GET', path: 'tier/NOPE' }))).toBe('404 XMinioAdminTierNotFound');
    // The probe object is gone again: the tier's prefix is empty.
    expect(await remoteKeys()).toEqual([]);
  });

  it('cairn admin tier add / ls / rm', async () => {
    const env = { CAIRN_ENDPOINT: hot.url, CAIRN_ROOT_USER: ROOT.accessKey, CAIRN_ROOT_PASSWORD: ROOT.secretKey };
    const run = (...args: string[]) =>
      new Promise<{ code: number; out: string; err: string }>((resolve) => {
        const p = spawnCairn(['admin', 'tier', ...args], env);
        let out = '';
        let err = '';
        p.stdout!.on('data', (d) => (out += d));
        p.stderr!.on('data', (d) => (err += d));
        p.on('close', (code) => resolve({ code: code ?? -1, out, err }));
      });
    const secret = ['--access-key', ROOT.accessKey, '--secret-key', ROOT.secretKey];
    expect((await run('add', 'COLD', tier.url, 'other', 'cold', ...secret)).out).toContain('tier COLD added');
    const ls = await run('ls');
    expect(ls.out).toMatch(/COLD\s+minio\s+http:\/\/127\.0\.0\.1:\d+\s+other\s+cold\//);
    expect(ls.out).not.toContain(ROOT.secretKey);
    const wrong = await run('add', 'COLDER', tier.url, 'nosuch', '', ...secret);
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain('XMinioAdminTierBucketNotFound');
    const info = await run('info');
    expect(info.out).toMatch(/STANDARD\s+internal\s+\d+\s+\d+\s+\d+/);
    expect(info.out).toMatch(/COLD\s+minio\s+0\s+0\s+0\s+0\s+0\n/);
    expect((await run('rm', 'COLD')).out).toContain('tier COLD removed');
    expect((await listTiers()).map((t) => t.Name)).toEqual(['WARM']);
  });
});

describe('lifecycle transitions', () => {
  it('refuses a transition to a tier that does not exist, storing nothing', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'no-tier' }));
    const e = await s3Error(
      setRules('no-tier', [
        { ID: 't', Filter: { Prefix: '' }, Status: 'Enabled', Transitions: [{ Days: 1, StorageClass: 'GLACIER' }] },
      ]),
    );
    expect(e).toEqual({ name: 'InvalidStorageClass', status: 400 });
    expect(await s3Error(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'no-tier' })))).toMatchObject({
      name: 'NoSuchLifecycleConfiguration',
    });
  });

  const big = randomBytes(3 * 1024 * 1024 + 12345);
  const small = randomBytes(1000);
  const sealed = randomBytes(200_000);

  it('moves matching objects to the tier: local shards freed, metadata kept, bytes and ranges read back', async () => {
    const Bucket = 'transit';
    await s3.send(new CreateBucketCommand({ Bucket }));
    const bigPut = await s3.send(
      new PutObjectCommand({
        Bucket,
        Key: 'cold/big',
        Body: big,
        Metadata: { owner: 'tier-test' },
        Tagging: 'a=1',
        ContentType: 'application/x-test',
        ChecksumAlgorithm: 'SHA256',
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket, Key: 'cold/small', Body: small }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'cold/sealed', Body: sealed, ServerSideEncryption: 'AES256' }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'hot/keep', Body: small }));
    const before = await dataFiles(Bucket);
    expect(before.length).toBeGreaterThan(0); // the big objects' shard files
    await setRules(Bucket, [
      { ID: 'cold', Filter: { Prefix: 'cold/' }, Status: 'Enabled', Transitions: [{ Days: 1, StorageClass: WARM }] },
    ]);
    const rules = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket }));
    expect(rules.Rules![0].Transitions).toEqual([{ Days: 1, StorageClass: WARM }]);
    for (const Key of ['cold/big', 'cold/small', 'cold/sealed'])
      await vi.waitFor(async () => expect(await storageClass(Bucket, Key)).toBe('WARM'), POLL);
    expect(await storageClass(Bucket, 'hot/keep')).toBe('STANDARD');
    // One remote object per version, under the tier's prefix; no local shard file left (the reaper's grace).
    const keys = await remoteKeys();
    expect(keys).toHaveLength(3);
    for (const k of keys) expect(k.startsWith('hot-tier/')).toBe(true);
    await vi.waitFor(async () => expect(await dataFiles(Bucket)).toEqual([]), POLL);
    // Metadata as it was.
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'cold/big', ChecksumMode: 'ENABLED' }));
    expect(head.ETag).toBe(bigPut.ETag);
    expect(head.ContentLength).toBe(big.length);
    expect(head.ContentType).toBe('application/x-test');
    expect(head.Metadata).toEqual({ owner: 'tier-test' });
    expect(head.ChecksumSHA256).toBe(bigPut.ChecksumSHA256);
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket, Key: 'cold/big' }))).TagSet).toEqual([
      { Key: 'a', Value: '1' },
    ]);
    const sealedHead = await s3.send(new HeadObjectCommand({ Bucket, Key: 'cold/sealed' }));
    expect(sealedHead.ServerSideEncryption).toBe('AES256');
    // The listing shows the tier.
    const listed = await s3.send(new ListObjectsV2Command({ Bucket }));
    expect(Object.fromEntries(listed.Contents!.map((o) => [o.Key, o.StorageClass]))).toEqual({
      'cold/big': 'WARM',
      'cold/sealed': 'WARM',
      'cold/small': 'WARM',
      'hot/keep': 'STANDARD',
    });
    // Bytes, whole and in ranges (across block boundaries, suffixes), plain and sealed.
    expect((await bytesOf(Bucket, 'cold/big')).equals(big)).toBe(true);
    expect((await bytesOf(Bucket, 'cold/small')).equals(small)).toBe(true);
    expect((await bytesOf(Bucket, 'cold/sealed')).equals(sealed)).toBe(true);
    const mib = 1024 * 1024;
    for (const [start, end] of [
      [0, 0],
      [mib - 10, mib + 10],
      [2 * mib + 5, big.length - 1],
    ])
      expect((await bytesOf(Bucket, 'cold/big', `bytes=${start}-${end}`)).equals(big.subarray(start, end + 1))).toBe(
        true,
      );
    expect((await bytesOf(Bucket, 'cold/big', 'bytes=-100')).equals(big.subarray(big.length - 100))).toBe(true);
    expect((await bytesOf(Bucket, 'cold/sealed', 'bytes=65530-70000')).equals(sealed.subarray(65530, 70001))).toBe(
      true,
    );
    // tier-stats (mc admin tier info): WARM holds the three versions; STANDARD the rest of what usage counts.
    type Stats = { totalSize: number; numVersions: number; numObjects: number };
    type Info = { Name: string; Type: string; Stats: Stats; DailyStats: { Bins: Stats[]; UpdatedAt: string } };
    const tierStats = async () => (await adminCall(admin, { method: 'GET', path: 'tier-stats' })) as Info[];
    // The scanner counts a transition just after committing it.
    const moved = async () => (await tierStats())[1].DailyStats.Bins.reduce((n, b) => n + b.numVersions, 0);
    await vi.waitFor(async () => expect(await moved()).toBe(3), POLL);
    const infos = await tierStats();
    // DailyStats: the three transitions in the bins of the last day (the hour may have turned meanwhile), MinIO's
    // shape (24 bins, a time); none for the drives.
    const bins = infos[1].DailyStats.Bins;
    expect(bins).toHaveLength(24);
    const sum = (f: keyof Stats) => bins.reduce((n, b) => n + b[f], 0);
    expect([sum('totalSize'), sum('numVersions'), sum('numObjects')]).toEqual([
      big.length + small.length + sealed.length,
      3,
      3,
    ]);
    expect(bins.filter((b) => b.numVersions > 0).length).toBeLessThanOrEqual(2);
    expect(Date.now() - Date.parse(infos[1].DailyStats.UpdatedAt)).toBeLessThan(3_600_000);
    expect(infos[0].DailyStats).toEqual({
      Bins: Array.from({ length: 24 }, () => ({ totalSize: 0, numVersions: 0, numObjects: 0 })),
      UpdatedAt: '0001-01-01T00:00:00Z',
    });
    expect(infos.map((i) => [i.Name, i.Type])).toEqual([
      ['STANDARD', 'internal'],
      ['WARM', 'minio'],
    ]);
    const warm = infos[1].Stats;
    expect(warm).toEqual({ totalSize: big.length + small.length + sealed.length, numVersions: 3, numObjects: 3 });
    const usage = (await adminCall(admin, { method: 'GET', path: 'datausageinfo' })) as {
      objectsCount: number;
      versionsCount: number;
      objectsTotalSize: number;
      tierStats: Record<string, Info['Stats']>;
    };
    expect(usage.tierStats).toEqual({ STANDARD: infos[0].Stats, WARM: warm });
    expect(infos[0].Stats.numObjects).toBe(usage.objectsCount - 3);
    expect(infos[0].Stats.numVersions).toBe(usage.versionsCount - 3);
    expect(infos[0].Stats.totalSize).toBe(usage.objectsTotalSize - warm.totalSize);
    expect(infos[0].Stats.numObjects).toBeGreaterThanOrEqual(1); // hot/keep
    const alt = { ...admin, ...ALT };
    expect(await refusal(adminCall(alt, { method: 'GET', path: 'tier-stats' }))).toBe('403 AccessDenied');
    // A tier that still holds transitioned data is not removed (unless forced).
    expect(await refusal(adminCall(admin, { method: 'DELETE', path: 'tier/WARM' }))).toBe(
      '400 XMinioAdminTierBackendNotEmpty',
    );
  });

  it('answers 503 while the tier is down, changing nothing, and reads again once it is back', async () => {
    const Bucket = 'transit';
    await tier.server.close();
    const down = await s3.send(new GetObjectCommand({ Bucket, Key: 'cold/big' })).catch((e: Error) => e);
    expect(down).toMatchObject({ name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } });
    expect((down as Error).message).toMatch(/^The remote tier WARM \(http:\/\/127\.0\.0\.1:\d+\) could not read/);
    // HEAD answers from the local metadata.
    expect(await storageClass(Bucket, 'cold/big')).toBe('WARM');
    await tier.start();
    expect((await bytesOf(Bucket, 'cold/big')).equals(big)).toBe(true);
  });

  it('deletes the remote copy with the object, now or once the tier is back', async () => {
    const Bucket = 'transit';
    const before = await remoteKeys();
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'cold/small' }));
    await vi.waitFor(async () => expect(await remoteKeys()).toHaveLength(before.length - 1), POLL);
    // Tier down: the removal is written down and done by the background work once the tier answers.
    await tier.server.close();
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'cold/sealed' }));
    await expect(s3Error(s3.send(new HeadObjectCommand({ Bucket, Key: 'cold/sealed' })))).resolves.toMatchObject({
      status: 404,
    });
    await tier.start();
    await vi.waitFor(async () => expect(await remoteKeys()).toHaveLength(before.length - 2), POLL);
    // An overwrite in an unversioned bucket drops the old version, and its remote copy with it (no rule left to
    // move the new one).
    await s3.send(new DeleteBucketLifecycleCommand({ Bucket }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'cold/big', Body: 'new' }));
    await vi.waitFor(async () => expect(await remoteKeys()).toHaveLength(before.length - 3), POLL);
    expect((await bytesOf(Bucket, 'cold/big')).toString()).toBe('new');
  });

  it('moves noncurrent versions; a delete marker keeps the remote data, deleting the version removes it', async () => {
    const Bucket = 'versioned-transit';
    await s3.send(new CreateBucketCommand({ Bucket }));
    await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    const old = (await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: big }))).VersionId!;
    const cur = (await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: small }))).VersionId!;
    const before = (await remoteKeys()).length;
    await setRules(Bucket, [
      {
        ID: 'nc',
        Filter: { Prefix: '' },
        Status: 'Enabled',
        NoncurrentVersionTransitions: [{ NoncurrentDays: 1, StorageClass: WARM }],
      },
    ]);
    await vi.waitFor(async () => expect(await storageClass(Bucket, 'k', old)).toBe('WARM'), POLL);
    expect(await storageClass(Bucket, 'k', cur)).toBe('STANDARD');
    expect((await bytesOf(Bucket, 'k', 'bytes=100-199', old)).equals(big.subarray(100, 200))).toBe(true);
    expect(await remoteKeys()).toHaveLength(before + 1);
    // No more moves (the current version, made noncurrent by the marker below, stays here).
    await s3.send(new DeleteBucketLifecycleCommand({ Bucket }));
    // A delete marker: the versions stay, and so does the remote data.
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'k' }));
    expect(await remoteKeys()).toHaveLength(before + 1);
    expect((await bytesOf(Bucket, 'k', undefined, old)).equals(big)).toBe(true);
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'k', VersionId: old }));
    await vi.waitFor(async () => expect(await remoteKeys()).toHaveLength(before), POLL);
  });

  it('sends a version larger than one upload part to the tier in parts, and reads it back', async () => {
    const Bucket = 'large';
    const large = randomBytes(17 * 1024 * 1024 + 5);
    await s3.send(new CreateBucketCommand({ Bucket }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: large }));
    await setRules(Bucket, [
      { ID: 't', Filter: { Prefix: '' }, Status: 'Enabled', Transitions: [{ Days: 1, StorageClass: WARM }] },
    ]);
    await vi.waitFor(async () => expect(await storageClass(Bucket, 'k')).toBe('WARM'), POLL);
    const remoteObjects = (await remote.send(new ListObjectsV2Command({ Bucket: 'warm' }))).Contents ?? [];
    expect(remoteObjects.map((o) => o.Size)).toContain(large.length);
    // A multipart upload on the tier (8 MiB parts): its ETag says how many parts.
    expect(remoteObjects.find((o) => o.Size === large.length)!.ETag).toMatch(/-3"$/);
    expect((await bytesOf(Bucket, 'k')).equals(large)).toBe(true);
    const at = 16 * 1024 * 1024 - 3;
    expect((await bytesOf(Bucket, 'k', `bytes=${at}-${at + 9}`)).equals(large.subarray(at, at + 10))).toBe(true);
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'k' }));
    const sizes = async () =>
      ((await remote.send(new ListObjectsV2Command({ Bucket: 'warm' }))).Contents ?? []).map((o) => o.Size);
    await vi.waitFor(async () => expect(await sizes()).not.toContain(large.length), POLL);
  });

  it('moves a version on from one tier to the next, releasing the first copy; RestoreObject is refused', async () => {
    await addTier(tierConfig({ Name: 'COLD' }, { Bucket: 'other', Prefix: 'colder' }));
    const Bucket = 'two-step';
    await s3.send(new CreateBucketCommand({ Bucket }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: big }));
    const warmBefore = (await remoteKeys()).length;
    await setRules(Bucket, [
      {
        ID: 'steps',
        Filter: { Prefix: '' },
        Status: 'Enabled',
        Transitions: [
          { Days: 1, StorageClass: WARM },
          { Days: 3, StorageClass: 'COLD' as TransitionStorageClass },
        ],
      },
    ]);
    await vi.waitFor(async () => expect(await storageClass(Bucket, 'k')).toBe('COLD'), POLL);
    expect(await remoteKeys('other')).toHaveLength(1);
    expect((await remoteKeys('other'))[0].startsWith('colder/')).toBe(true);
    await vi.waitFor(async () => expect(await remoteKeys()).toHaveLength(warmBefore), POLL);
    expect((await bytesOf(Bucket, 'k', 'bytes=1000-2999')).equals(big.subarray(1000, 3000))).toBe(true);
    const restore = await s3
      .send(new RestoreObjectCommand({ Bucket, Key: 'k', RestoreRequest: { Days: 1 } }))
      .catch((e: Error) => e);
    expect(restore).toMatchObject({ name: 'NotImplemented', $metadata: { httpStatusCode: 501 } });
  });
});
