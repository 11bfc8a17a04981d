// Bucket replication between real Cairn servers (and to MinIO when /work/ext/bin/minio or CAIRN_TEST_MINIO names
// a binary): replication targets through MinIO's admin API and `cairn admin replicate` (probed, secrets sealed
// and never listed), Put/Get/DeleteBucketReplication (bad ones refused with nothing stored), versions copied
// byte-exact with their version ids, times, metadata, tags and lock, delete markers and versioned deletes, the
// status PENDING -> COMPLETED on the source and REPLICA on the target, a target down then back (counts exact),
// active-active without loops, and the receiving side's s3:ReplicateObject check. Nothing sleeps: tests wait for
// the queues to empty (replicationIdle) or poll (vi.waitFor).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketReplicationCommand,
  DeleteObjectCommand,
  GetBucketReplicationCommand,
  GetObjectCommand,
  DeleteObjectTaggingCommand,
  GetObjectLegalHoldCommand,
  GetObjectRetentionCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketPolicyCommand,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectRetentionCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
  type ReplicationConfiguration,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startServer, type CairnServer } from '@cairn/server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { adminCall, bucketCall, type AdminTarget } from '../../server/src/cli/admin-client.js';
import { ALT, ROOT, makeClient, s3Error } from '../helpers/cairn.js';
import { spawnCairn } from '../helpers/cli.js';
import { seededRandom } from '../helpers/random.js';

const POLL = { timeout: 60_000, interval: 100 };
const TARGET_CREDS = { accessKey: 'replicator', secretKey: 'replicator-secret-never-listed' };
const MINIO = process.env.CAIRN_TEST_MINIO ?? '/work/ext/bin/minio';

/** A Cairn server restartable on the same port and drives (a replication target names host:port). */
class Site {
  server!: CairnServer;
  port = 0;
  constructor(
    readonly base: string,
    readonly users = [ALT, TARGET_CREDS],
  ) {}
  async start(): Promise<this> {
    this.server = await startServer({
      address: `127.0.0.1:${this.port}`,
      credentials: { root: ROOT, users: this.users },
      storage: { background: false },
      shutdownGraceMs: 500,
      drives: [1, 2, 3, 4].map((i) => join(this.base, `d${i}`)),
      replicationRetry: { minMs: 50, maxMs: 400 },
      prometheusAuth: 'public',
    });
    this.port = this.server.port;
    return this;
  }
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }
  client(creds = ROOT): S3Client {
    return makeClient(this.url, { credentials: creds });
  }
  admin(creds = ROOT): AdminTarget {
    return { endpoint: this.url, ...creds, region: 'us-east-1' };
  }
  async stop(): Promise<void> {
    await this.server.close();
  }
}

let base: string;
const sites: Site[] = [];
async function site(name: string): Promise<Site> {
  const s = await new Site(join(base, name)).start();
  sites.push(s);
  return s;
}

async function versionedBucket(s3: S3Client, Bucket: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket }));
  await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
}

/**
 * The target's credentials: a user allowed on `bucket` only what replication needs (MinIO's replication
 * policy: s3:ReplicateObject, s3:ReplicateDelete, the multipart parts' s3:PutObject, the probe's reads).
 */
async function allowReplicator(s3: S3Client, bucket: string, more: string[] = []): Promise<void> {
  const who = { AWS: [TARGET_CREDS.accessKey] };
  await s3.send(
    new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: who,
            Action: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:PutObject', ...more],
            Resource: [`arn:aws:s3:::${bucket}/*`],
          },
          {
            Effect: 'Allow',
            Principal: who,
            Action: ['s3:ListBucket', 's3:GetBucketVersioning'],
            Resource: [`arn:aws:s3:::${bucket}`],
          },
        ],
      }),
    }),
  );
}

/** Adds a replication target of `bucket` on `from`: its ARN. */
async function addTarget(from: Site, bucket: string, to: { host: string }, targetBucket: string, creds = ROOT) {
  const body = {
    sourcebucket: bucket,
    endpoint: to.host,
    secure: false,
    credentials: creds,
    targetbucket: targetBucket,
    type: 'replication',
  };
  return (await adminCall(from.admin(), {
    method: 'PUT',
    path: 'set-remote-target',
    query: { bucket },
    body,
    encrypt: true,
  })) as string;
}

function rule(arn: string, extra: Partial<NonNullable<ReplicationConfiguration['Rules']>[number]> = {}) {
  return {
    ID: 'all',
    Priority: 1,
    Status: 'Enabled' as const,
    Filter: { Prefix: '' },
    DeleteMarkerReplication: { Status: 'Enabled' as const },
    Destination: { Bucket: arn },
    ...extra,
  };
}

async function replicateAll(s3: S3Client, Bucket: string, arn: string, extra = {}) {
  await s3.send(
    new PutBucketReplicationCommand({
      Bucket,
      ReplicationConfiguration: { Role: '', Rules: [rule(arn, extra)] },
    }),
  );
}

/** Every version of a bucket (delete markers too), newest first per key, as comparable rows. */
async function versions(s3: S3Client, Bucket: string) {
  const out = await s3.send(new ListObjectVersionsCommand({ Bucket }));
  const rows = [
    ...(out.Versions ?? []).map((v) => ({
      key: v.Key,
      id: v.VersionId,
      etag: v.ETag,
      size: v.Size,
      time: v.LastModified?.getTime(),
      latest: v.IsLatest,
      marker: false,
    })),
    ...(out.DeleteMarkers ?? []).map((m) => ({
      key: m.Key,
      id: m.VersionId,
      etag: undefined,
      size: undefined,
      time: m.LastModified?.getTime(),
      latest: m.IsLatest,
      marker: true,
    })),
  ];
  return rows.sort((a, b) => `${a.key}\0${a.id}`.localeCompare(`${b.key}\0${b.id}`));
}

async function body(s3: S3Client, Bucket: string, Key: string, VersionId?: string): Promise<Buffer> {
  const out = await s3.send(new GetObjectCommand({ Bucket, Key, VersionId }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/** `cairn admin ARGS...` against a site, as its root user: stdout (rejects with stderr on failure). */
function runCli(s: Site, args: string[]): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const p = spawnCairn(['admin', '--endpoint', s.url, ...args], {
      CAIRN_ROOT_USER: ROOT.accessKey,
      CAIRN_ROOT_PASSWORD: ROOT.secretKey,
    });
    let stdout = '';
    let stderr = '';
    p.stdout!.on('data', (d) => (stdout += d));
    p.stderr!.on('data', (d) => (stderr += d));
    p.on('exit', (code) => (code === 0 ? resolve(stdout.trim()) : reject(new Error(stderr))));
  });
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'cairn-replication-'));
});

afterAll(async () => {
  for (const s of sites) await s.server.close().catch(() => {});
  await rm(base, { recursive: true, force: true });
});

describe('replication targets (MinIO admin API)', () => {
  let src: Site;
  let dst: Site;
  beforeAll(async () => {
    src = await site('targets-src');
    dst = await site('targets-dst');
    await versionedBucket(src.client(), 'photos');
    await versionedBucket(dst.client(), 'photos-copy');
    await allowReplicator(dst.client(), 'photos-copy');
    await dst.client().send(new CreateBucketCommand({ Bucket: 'plain' }));
    await src.client().send(new CreateBucketCommand({ Bucket: 'unversioned' }));
  });

  it('refuses bad targets with MinIO errors and stores nothing', async () => {
    const fail = (p: Promise<unknown>) =>
      p.then(
        () => 'stored',
        (e: Error) => e.message,
      );
    expect(await fail(addTarget(src, 'photos', dst, 'no-such-bucket'))).toMatch(/XMinioAdminRemoteTargetNotFoundError/);
    expect(await fail(addTarget(src, 'photos', dst, 'plain'))).toMatch(/RemoteTargetNotVersionedError/);
    expect(await fail(addTarget(src, 'unversioned', dst, 'photos-copy'))).toMatch(/ReplicationSourceNotVersionedError/);
    expect(
      await fail(addTarget(src, 'photos', dst, 'photos-copy', { accessKey: ROOT.accessKey, secretKey: 'wrong' })),
    ).toMatch(/XMinioAdminReplicationRemoteConnectionError/);
    expect(await fail(addTarget(src, 'photos', src, 'photos'))).toMatch(/XMinioAdminRemoteIdenticalToSource/);
    const listed = await adminCall(src.admin(), {
      method: 'GET',
      path: 'list-remote-targets',
      query: { bucket: 'photos', type: 'replication' },
    });
    expect(listed).toEqual([]);
  });

  it('adds a target with `cairn admin replicate add`, lists it without its secret, seals the secret at rest', async () => {
    const out = await new Promise<string>((resolve, reject) => {
      const p = spawnCairn(
        [
          'admin',
          '--endpoint',
          src.url,
          'replicate',
          'add',
          'photos',
          dst.url,
          'photos-copy',
          '--access-key',
          TARGET_CREDS.accessKey,
          '--secret-key',
          TARGET_CREDS.secretKey,
        ],
        { CAIRN_ROOT_USER: ROOT.accessKey, CAIRN_ROOT_PASSWORD: ROOT.secretKey },
      );
      let stdout = '';
      let stderr = '';
      p.stdout!.on('data', (d) => (stdout += d));
      p.stderr!.on('data', (d) => (stderr += d));
      p.on('exit', (code) => (code === 0 ? resolve(stdout.trim()) : reject(new Error(stderr))));
    });
    expect(out).toMatch(/^arn:minio:replication::[0-9a-f-]{36}:photos-copy$/);
    const listed = (await adminCall(src.admin(), {
      method: 'GET',
      path: 'list-remote-targets',
      query: { bucket: 'photos', type: 'replication' },
    })) as Record<string, unknown>[];
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({
      arn: out,
      endpoint: dst.host,
      targetbucket: 'photos-copy',
      credentials: { accessKey: TARGET_CREDS.accessKey },
    });
    expect(JSON.stringify(listed)).not.toContain(TARGET_CREDS.secretKey);
    // Adding the same target again answers its ARN (MinIO's behaviour), not a second target.
    expect(await addTarget(src, 'photos', dst, 'photos-copy', TARGET_CREDS)).toBe(out);
    // The secret is nowhere on the source's drives in clear.
    const grep = await new Promise<string>((resolve) =>
      execFile('grep', ['-r', '-l', TARGET_CREDS.secretKey, join(src.base)], (_e, stdout) => resolve(stdout)),
    );
    expect(grep).toBe('');
    // A target in use by a replication configuration cannot be removed; an unused one can.
    await replicateAll(src.client(), 'photos', out);
    const inUse = await adminCall(src.admin(), {
      method: 'DELETE',
      path: 'remove-remote-target',
      query: { bucket: 'photos', arn: out },
    }).then(
      () => 'removed',
      (e: Error) => e.message,
    );
    expect(inUse).toMatch(/XMinioAdminRemoteRemoveDisallowed/);
    await src.client().send(new DeleteBucketReplicationCommand({ Bucket: 'photos' }));
    await adminCall(src.admin(), {
      method: 'DELETE',
      path: 'remove-remote-target',
      query: { bucket: 'photos', arn: out },
    });
    expect(
      await adminCall(src.admin(), { method: 'GET', path: 'list-remote-targets', query: { bucket: 'photos' } }),
    ).toEqual([]);
  });

  it('needs admin:SetBucketTarget', async () => {
    const denied = await addTarget(
      { ...src, admin: () => src.admin(ALT) } as unknown as Site,
      'photos',
      dst,
      'photos-copy',
    ).then(
      () => 'stored',
      (e: Error) => e.message,
    );
    expect(denied).toMatch(/AccessDenied/);
  });
});

describe('PutBucketReplication', () => {
  let src: Site;
  let dst: Site;
  let arn: string;
  const read = (s3: S3Client) => s3.send(new GetBucketReplicationCommand({ Bucket: 'docs' }));
  beforeAll(async () => {
    src = await site('config-src');
    dst = await site('config-dst');
    await versionedBucket(src.client(), 'docs');
    await versionedBucket(dst.client(), 'docs');
    await src.client().send(new CreateBucketCommand({ Bucket: 'unversioned' }));
    arn = await addTarget(src, 'docs', dst, 'docs');
  });

  it('reads back what was put, and deletes', async () => {
    const s3 = src.client();
    expect((await s3Error(read(s3))).name).toBe('ReplicationConfigurationNotFoundError');
    const rules = [
      rule(arn, { ID: 'logs', Priority: 2, Filter: { Prefix: 'logs/' } }),
      rule(arn, {
        ID: 'tagged',
        Priority: 1,
        Filter: { And: { Prefix: 'p/', Tags: [{ Key: 'replicate', Value: 'yes' }] } },
        DeleteMarkerReplication: { Status: 'Disabled' },
        ExistingObjectReplication: { Status: 'Enabled' },
      }),
    ];
    await s3.send(
      new PutBucketReplicationCommand({ Bucket: 'docs', ReplicationConfiguration: { Role: '', Rules: rules } }),
    );
    const got = (await read(s3)).ReplicationConfiguration!;
    expect(got.Rules).toHaveLength(2);
    expect(got.Rules![0]).toMatchObject({
      ID: 'logs',
      Priority: 2,
      Status: 'Enabled',
      Filter: { Prefix: 'logs/' },
      DeleteMarkerReplication: { Status: 'Enabled' },
      Destination: { Bucket: arn },
    });
    expect(got.Rules![1]).toMatchObject({
      ID: 'tagged',
      Priority: 1,
      Filter: { And: { Prefix: 'p/', Tags: [{ Key: 'replicate', Value: 'yes' }] } },
      DeleteMarkerReplication: { Status: 'Disabled' },
      ExistingObjectReplication: { Status: 'Enabled' },
    });
    await s3.send(new DeleteBucketReplicationCommand({ Bucket: 'docs' }));
    expect((await s3Error(read(s3))).name).toBe('ReplicationConfigurationNotFoundError');
  });

  it('refuses bad configurations with AWS/MinIO codes and stores nothing', async () => {
    const s3 = src.client();
    const put = (Rules: ReturnType<typeof rule>[], Bucket = 'docs') =>
      s3Error(s3.send(new PutBucketReplicationCommand({ Bucket, ReplicationConfiguration: { Role: '', Rules } })));
    const unknownArn = 'arn:minio:replication::00000000-0000-0000-0000-000000000000:docs';
    expect((await put([rule(unknownArn)])).name).toBe('XMinioAdminRemoteTargetNotFoundError');
    expect((await put([rule(arn)], 'unversioned')).name).toBe('InvalidRequest');
    expect((await put([rule(arn, { ID: 'a' }), rule(arn, { ID: 'b' })])).name).toBe('MalformedXML'); // same priority
    expect(
      (
        await put([
          rule(arn, { Filter: { Tag: { Key: 'k', Value: 'v' } }, DeleteMarkerReplication: { Status: 'Enabled' } }),
        ])
      ).name,
    ).toBe('InvalidRequest');
    expect((await put([rule(arn, { ID: 'x'.repeat(256) })])).name).toBe('InvalidArgument');
    expect((await put([rule(arn, { Destination: { Bucket: arn, Metrics: { Status: 'Enabled' } } })])).name).toBe(
      'NotImplemented',
    );
    expect((await put([rule(arn, { Status: 'On' as 'Enabled' })])).name).toBe('MalformedXML');
    expect((await s3Error(read(s3))).name).toBe('ReplicationConfigurationNotFoundError');
    // A bucket with a replication target stays versioned: its versions are replicated by id.
    const suspend = s3.send(
      new PutBucketVersioningCommand({ Bucket: 'docs', VersioningConfiguration: { Status: 'Suspended' } }),
    );
    expect((await s3Error(suspend)).name).toBe('InvalidBucketState');
  });
});

describe('asynchronous replication', () => {
  let src: Site;
  let dst: Site;
  let arn: string;
  const random = seededRandom();
  beforeAll(async () => {
    src = await site('async-src');
    dst = await site('async-dst');
    await versionedBucket(src.client(), 'data');
    await versionedBucket(dst.client(), 'data-copy');
    await allowReplicator(dst.client(), 'data-copy');
    arn = await addTarget(src, 'data', dst, 'data-copy', TARGET_CREDS);
    await replicateAll(src.client(), 'data', arn, { DeleteReplication: undefined });
  });

  it('copies versions byte-exact with their version ids, times, metadata and tags; delete markers too', async () => {
    const s3 = src.client();
    const small = random.bytes(1000);
    const big = random.bytes(300 * 1024);
    await s3.send(
      new PutObjectCommand({
        Bucket: 'data',
        Key: 'a/small.bin',
        Body: small,
        ContentType: 'application/x-test',
        Metadata: { origin: 'source', n: '1' },
        Tagging: 'team=ml&tier=hot',
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'a/small.bin', Body: big }));
    await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'empty', Body: Buffer.alloc(0) }));
    // A multipart object: its replica is made of the same parts (same ETag).
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'data', Key: 'mp/object' }));
    const p1 = random.bytes(5 * 1024 * 1024);
    const p2 = random.bytes(1024 * 1024 + 17);
    const e1 = await s3.send(
      new UploadPartCommand({ Bucket: 'data', Key: 'mp/object', UploadId: up.UploadId, PartNumber: 1, Body: p1 }),
    );
    const e2 = await s3.send(
      new UploadPartCommand({ Bucket: 'data', Key: 'mp/object', UploadId: up.UploadId, PartNumber: 2, Body: p2 }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'data',
        Key: 'mp/object',
        UploadId: up.UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: e1.ETag },
            { PartNumber: 2, ETag: e2.ETag },
          ],
        },
      }),
    );
    // A multipart object of one part (ETag `...-1`): its replica is a one-part upload too.
    const one = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'data', Key: 'mp/one' }));
    const only = await s3.send(
      new UploadPartCommand({ Bucket: 'data', Key: 'mp/one', UploadId: one.UploadId, PartNumber: 1, Body: p2 }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'data',
        Key: 'mp/one',
        UploadId: one.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: only.ETag }] },
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'gone', Body: 'x' }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'data', Key: 'gone' })); // a delete marker
    await src.server.replicationIdle();

    const mine = await versions(s3, 'data');
    const theirs = await versions(dst.client(), 'data-copy');
    expect(theirs).toEqual(mine);
    expect(mine).toHaveLength(7);
    expect(mine.find((v) => v.key === 'mp/one')?.etag).toMatch(/-1"$/);
    const t = dst.client();
    for (const v of mine.filter((x) => !x.marker)) {
      expect((await body(t, 'data-copy', v.key!, v.id)).equals(await body(s3, 'data', v.key!, v.id))).toBe(true);
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: v.key, VersionId: v.id }));
      expect(head.ReplicationStatus).toBe('COMPLETED');
      const replica = await t.send(new HeadObjectCommand({ Bucket: 'data-copy', Key: v.key, VersionId: v.id }));
      expect(replica.ReplicationStatus).toBe('REPLICA');
    }
    const first = mine.find((v) => v.key === 'a/small.bin' && !v.latest)!;
    const replica = await t.send(
      new HeadObjectCommand({ Bucket: 'data-copy', Key: 'a/small.bin', VersionId: first.id }),
    );
    expect(replica.ContentType).toBe('application/x-test');
    expect(replica.Metadata).toEqual({ origin: 'source', n: '1' });
    const tags = await t.send(
      new GetObjectTaggingCommand({ Bucket: 'data-copy', Key: 'a/small.bin', VersionId: first.id }),
    );
    expect(tags.TagSet).toEqual([
      { Key: 'team', Value: 'ml' },
      { Key: 'tier', Value: 'hot' },
    ]);
    expect(src.server.replicationStatus()).toEqual([
      expect.objectContaining({ arn, queued: 0, replicated: 7, failed: 0 }),
    ]);
  });

  it('keeps everything queued while the target is down and delivers it when it is back (counts exact)', async () => {
    const s3 = src.client();
    await dst.stop();
    const keys = Array.from({ length: 20 }, (_, i) => `down/k${String(i).padStart(2, '0')}`);
    for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: 'data', Key, Body: Key }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'data', Key: keys[0] }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: keys[1] }));
    expect(['PENDING', 'FAILED']).toContain(head.ReplicationStatus);
    await vi.waitFor(() => expect(src.server.replicationStatus()[0].failedAttempts).toBeGreaterThan(0), POLL);
    await dst.start();
    await src.server.replicationIdle();
    const theirs = (await versions(dst.client(), 'data-copy')).filter((v) => v.key!.startsWith('down/'));
    expect(theirs).toEqual((await versions(s3, 'data')).filter((v) => v.key!.startsWith('down/')));
    expect(theirs).toHaveLength(21);
    for (const Key of keys.slice(1))
      expect((await s3.send(new HeadObjectCommand({ Bucket: 'data', Key }))).ReplicationStatus).toBe('COMPLETED');
  });

  it('a requester without s3:ReplicateObject cannot name a version id, and nothing is stored', async () => {
    const alt = dst.client(ALT);
    const id = '11111111-2222-4333-8444-555555555555';
    const replicaPut = (client: S3Client, Key: string) => {
      const cmd = new PutObjectCommand({ Bucket: 'data-copy', Key, Body: 'forged' });
      cmd.middlewareStack.add(
        (next) => async (args) => {
          const r = args.request as { query: Record<string, string>; headers: Record<string, string> };
          r.query.versionId = id;
          r.headers['x-minio-source-replication-request'] = 'true';
          r.headers['x-amz-replication-status'] = 'REPLICA';
          r.headers['x-minio-source-mtime'] = new Date().toISOString();
          return next(args);
        },
        { step: 'build' },
      );
      return client.send(cmd);
    };
    expect((await s3Error(replicaPut(alt, 'forged'))).name).toBe('AccessDenied');
    // Without the replication request, a version id on a PUT is refused for anyone, root included.
    const plain = new PutObjectCommand({ Bucket: 'data-copy', Key: 'forged', Body: 'x' });
    plain.middlewareStack.add(
      (next) => async (args) => {
        (args.request as { query: Record<string, string> }).query.versionId = id;
        return next(args);
      },
      { step: 'build' },
    );
    expect((await s3Error(dst.client().send(plain))).name).toBe('InvalidArgument');
    expect((await versions(dst.client(), 'data-copy')).filter((v) => v.key === 'forged')).toEqual([]);
    // The replication user (s3:ReplicateObject) may.
    await replicaPut(dst.client(TARGET_CREDS), 'allowed');
    const head = await dst.client().send(new HeadObjectCommand({ Bucket: 'data-copy', Key: 'allowed' }));
    expect(head.VersionId).toBe(id);
    expect(head.ReplicationStatus).toBe('REPLICA');
  });
});

describe('metadata-only changes', () => {
  let src: Site;
  let dst: Site;
  const day = 86_400_000;
  beforeAll(async () => {
    src = await site('meta-src');
    dst = await site('meta-dst');
    for (const s of [src, dst]) {
      const Bucket = s === src ? 'locked' : 'locked-copy';
      await s.client().send(new CreateBucketCommand({ Bucket, ObjectLockEnabledForBucket: true }));
    }
    // The replication user: MinIO's replication policy with s3:ReplicateTags, and the governance bypass.
    await allowReplicator(dst.client(), 'locked-copy', ['s3:ReplicateTags', 's3:BypassGovernanceRetention']);
    await replicateAll(src.client(), 'locked', await addTarget(src, 'locked', dst, 'locked-copy', TARGET_CREDS));
  });

  const tagsOn = async (s3: S3Client, Bucket: string, VersionId: string) =>
    (await s3.send(new GetObjectTaggingCommand({ Bucket, Key: 'doc', VersionId }))).TagSet;
  const retentionOn = async (s3: S3Client, Bucket: string, VersionId: string) => {
    try {
      const r = (await s3.send(new GetObjectRetentionCommand({ Bucket, Key: 'doc', VersionId }))).Retention;
      return { mode: r?.Mode, until: r?.RetainUntilDate?.getTime() };
    } catch (e) {
      return (e as Error).name;
    }
  };
  const holdOn = async (s3: S3Client, Bucket: string, VersionId: string) =>
    (await s3.send(new GetObjectLegalHoldCommand({ Bucket, Key: 'doc', VersionId }))).LegalHold?.Status;

  it('tags, retention and legal hold set on a replicated version reach its replica, same version id', async () => {
    const s3 = src.client();
    const t = dst.client();
    const v1 = (await s3.send(new PutObjectCommand({ Bucket: 'locked', Key: 'doc', Body: 'one' }))).VersionId!;
    const v2 = (await s3.send(new PutObjectCommand({ Bucket: 'locked', Key: 'doc', Body: 'two' }))).VersionId!;
    await src.server.replicationIdle();
    const before = await versions(t, 'locked-copy');
    expect(before.map((v) => v.id).sort()).toEqual([v1, v2].sort());
    const sent = () => src.server.replicationStatus()[0].replicated;
    const sentBefore = sent();
    const changed = async () => {
      await src.server.replicationIdle();
      // No new version on the target: the change landed on the replica in place.
      expect(await versions(t, 'locked-copy')).toEqual(before);
      for (const v of [v1, v2]) {
        const head = await s3.send(new HeadObjectCommand({ Bucket: 'locked', Key: 'doc', VersionId: v }));
        expect(head.ReplicationStatus).toBe('COMPLETED');
        const replica = await t.send(new HeadObjectCommand({ Bucket: 'locked-copy', Key: 'doc', VersionId: v }));
        expect(replica.ReplicationStatus).toBe('REPLICA');
      }
    };

    // Tags of the older version (not the latest), then removed.
    const TagSet = [
      { Key: 'stage', Value: 'raw' },
      { Key: 'owner', Value: 'a b&c=d' },
    ];
    await s3.send(new PutObjectTaggingCommand({ Bucket: 'locked', Key: 'doc', VersionId: v1, Tagging: { TagSet } }));
    await changed();
    expect(await tagsOn(t, 'locked-copy', v1)).toEqual(await tagsOn(s3, 'locked', v1));
    expect(await tagsOn(t, 'locked-copy', v1)).toHaveLength(2);
    expect(await tagsOn(t, 'locked-copy', v2)).toEqual([]);
    await s3.send(new DeleteObjectTaggingCommand({ Bucket: 'locked', Key: 'doc', VersionId: v1 }));
    await changed();
    expect(await tagsOn(t, 'locked-copy', v1)).toEqual([]);

    // Retention: set, extended, shortened and removed with the governance bypass.
    const until = (days: number) => new Date(Math.ceil((Date.now() + days * day) / 1000) * 1000);
    for (const [Mode, d] of [
      ['GOVERNANCE', 2],
      ['GOVERNANCE', 5],
      ['GOVERNANCE', 1],
    ] as const) {
      await s3.send(
        new PutObjectRetentionCommand({
          Bucket: 'locked',
          Key: 'doc',
          VersionId: v2,
          Retention: { Mode, RetainUntilDate: until(d) },
          BypassGovernanceRetention: true,
        }),
      );
      await changed();
      expect(await retentionOn(t, 'locked-copy', v2)).toEqual(await retentionOn(s3, 'locked', v2));
      expect(await retentionOn(t, 'locked-copy', v2)).toMatchObject({ mode: Mode });
    }
    await s3.send(
      new PutObjectRetentionCommand({
        Bucket: 'locked',
        Key: 'doc',
        VersionId: v2,
        Retention: {},
        BypassGovernanceRetention: true,
      }),
    );
    await changed();
    expect(await retentionOn(t, 'locked-copy', v2)).toBe('NoSuchObjectLockConfiguration');
    expect(await retentionOn(t, 'locked-copy', v1)).toBe('NoSuchObjectLockConfiguration');

    // Legal hold on, then off.
    for (const Status of ['ON', 'OFF'] as const) {
      await s3.send(
        new PutObjectLegalHoldCommand({ Bucket: 'locked', Key: 'doc', VersionId: v1, LegalHold: { Status } }),
      );
      await changed();
      expect(await holdOn(t, 'locked-copy', v1)).toBe(Status);
      expect(await holdOn(t, 'locked-copy', v2)).toBe('OFF');
    }
    // Each change went out once (2 tagging + 4 retention + 2 legal hold); nothing failed.
    expect(sent() - sentBefore).toBe(8);
    expect(src.server.replicationStatus()[0]).toMatchObject({ failed: 0, queued: 0 });
  });

  it('a replica the target lost is copied whole when its metadata changes; a changer without s3:ReplicateTags is refused', async () => {
    const s3 = src.client();
    const t = dst.client();
    const v = (await s3.send(new PutObjectCommand({ Bucket: 'locked', Key: 'doc', Body: 'three' }))).VersionId!;
    await src.server.replicationIdle();
    await t.send(new DeleteObjectCommand({ Bucket: 'locked-copy', Key: 'doc', VersionId: v }));
    const TagSet = [{ Key: 'back', Value: 'yes' }];
    await s3.send(new PutObjectTaggingCommand({ Bucket: 'locked', Key: 'doc', VersionId: v, Tagging: { TagSet } }));
    await src.server.replicationIdle();
    expect(await tagsOn(t, 'locked-copy', v)).toEqual(TagSet);
    expect((await body(t, 'locked-copy', 'doc', v)).toString()).toBe('three');

    // The replication flag on a tagging request is authorized as s3:ReplicateTags: ALT has no such right.
    const forged = new PutObjectTaggingCommand({
      Bucket: 'locked-copy',
      Key: 'doc',
      VersionId: v,
      Tagging: { TagSet: [{ Key: 'forged', Value: '1' }] },
    });
    forged.middlewareStack.add(
      (next) => async (args) => {
        (args.request as { headers: Record<string, string> }).headers['x-minio-source-replication-request'] = 'true';
        return next(args);
      },
      { step: 'build' },
    );
    expect((await s3Error(dst.client(ALT).send(forged))).name).toBe('AccessDenied');
    expect(await tagsOn(t, 'locked-copy', v)).toEqual(TagSet);
  });
});

describe('active-active between two Cairns', () => {
  it('concurrent writes on both sides converge, and replicas are not replicated back', async () => {
    const a = await site('aa-a');
    const b = await site('aa-b');
    await versionedBucket(a.client(), 'shared');
    await versionedBucket(b.client(), 'shared');
    await replicateAll(a.client(), 'shared', await addTarget(a, 'shared', b, 'shared'));
    await replicateAll(b.client(), 'shared', await addTarget(b, 'shared', a, 'shared'));
    const keys = ['k0', 'k1', 'k2', 'k3'];
    const writes: Promise<unknown>[] = [];
    for (let round = 0; round < 5; round++) {
      for (const Key of keys) {
        writes.push(a.client().send(new PutObjectCommand({ Bucket: 'shared', Key, Body: `a${round}` })));
        writes.push(b.client().send(new PutObjectCommand({ Bucket: 'shared', Key, Body: `b${round}` })));
      }
    }
    writes.push(a.client().send(new DeleteObjectCommand({ Bucket: 'shared', Key: 'k3' })));
    await Promise.all(writes);
    await Promise.all([a.server.replicationIdle(), b.server.replicationIdle()]);
    const va = await versions(a.client(), 'shared');
    const vb = await versions(b.client(), 'shared');
    expect(vb).toEqual(va);
    expect(va).toHaveLength(4 * 5 * 2 + 1); // every write once on each side: no loop added any
    for (const Key of keys.slice(0, 3))
      expect(await body(b.client(), 'shared', Key)).toEqual(await body(a.client(), 'shared', Key));
    const replicated = (s: Site) => s.server.replicationStatus().reduce((n, t) => n + t.replicated, 0);
    expect(replicated(a) + replicated(b)).toBe(va.length);

    // A tag change on either side reaches the other once, whether the version there is the original or the replica
    // (ReplicaModifications, MinIO's default), and does not come back.
    const sentBefore = replicated(a) + replicated(b);
    const written = va.filter((v) => !v.marker && v.key === 'k0');
    for (const [i, v] of written.slice(0, 2).entries()) {
      const on = i === 0 ? a : b;
      const TagSet = [{ Key: 'side', Value: i === 0 ? 'a' : 'b' }];
      await on
        .client()
        .send(new PutObjectTaggingCommand({ Bucket: 'shared', Key: 'k0', VersionId: v.id, Tagging: { TagSet } }));
    }
    await Promise.all([a.server.replicationIdle(), b.server.replicationIdle()]);
    await Promise.all([a.server.replicationIdle(), b.server.replicationIdle()]);
    for (const [i, v] of written.slice(0, 2).entries())
      for (const s of [a, b])
        expect(
          (await s.client().send(new GetObjectTaggingCommand({ Bucket: 'shared', Key: 'k0', VersionId: v.id }))).TagSet,
        ).toEqual([{ Key: 'side', Value: i === 0 ? 'a' : 'b' }]);
    expect(replicated(a) + replicated(b) - sentBefore).toBe(2);
    expect(await versions(b.client(), 'shared')).toEqual(await versions(a.client(), 'shared'));
  });
});

describe('resync of existing objects', () => {
  it('replicates what the bucket held before its rule, reports progress, and counts it in the metrics', async () => {
    const src = await site('resync-src');
    const dst = await site('resync-dst');
    await versionedBucket(src.client(), 'old');
    await versionedBucket(dst.client(), 'old');
    const s3 = src.client();
    for (let i = 0; i < 15; i++)
      await s3.send(new PutObjectCommand({ Bucket: 'old', Key: `k${i % 10}`, Body: `v${i}` }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'old', Key: 'k9' }));
    const arn = await addTarget(src, 'old', dst, 'old');
    const reset = () => bucketCall(src.admin(), 'old', { method: 'PUT', query: { 'replication-reset': '', arn } });
    await replicateAll(s3, 'old', arn);
    expect(
      await reset().then(
        () => 'started',
        (e: Error) => e.message,
      ),
    ).toMatch(/XMinioReplicationNoExistingObjects/);
    await replicateAll(s3, 'old', arn, { ExistingObjectReplication: { Status: 'Enabled' } });
    expect(await versions(dst.client(), 'old')).toEqual([]);
    const out = await runCli(src, ['replicate', 'resync', 'old', arn]);
    expect(JSON.parse(out).target[0].arn).toBe(arn);
    await vi.waitFor(async () => {
      const status = (await bucketCall(src.admin(), 'old', {
        method: 'GET',
        query: { 'replication-reset-status': '', arn },
      })) as { target: Record<string, unknown>[] };
      expect(status.target[0]).toMatchObject({ resyncStatus: 'Completed', queued: 16, replicationCount: 16 });
    }, POLL);
    expect(await runCli(src, ['replicate', 'resync-status', 'old'])).toMatch(/Completed\s+16\s+16/);
    expect(await versions(dst.client(), 'old')).toEqual(await versions(s3, 'old'));
    const metrics = await (await fetch(`${src.url}/minio/v2/metrics/bucket`)).text();
    const host = new URL(src.url).host;
    expect(metrics).toContain(
      `minio_bucket_replication_sent_count{bucket="old",targetArn="${arn}",server="${host}"} 16`,
    );
    expect(metrics).toContain(
      `cairn_bucket_replication_queued_count{bucket="old",targetArn="${arn}",server="${host}"} 0`,
    );
  });
});

describe('MinIO as a replication target', () => {
  const haveMinio = existsSync(MINIO);
  it.skipIf(!haveMinio)(
    'replicates versions to MinIO with their version ids (skipped without a minio binary)',
    async () => {
      const port = await freePort();
      const dir = join(base, 'minio');
      const proc = execFile(MINIO, ['server', '--address', `127.0.0.1:${port}`, '--quiet', dir], {
        env: { ...process.env, MINIO_ROOT_USER: ROOT.accessKey, MINIO_ROOT_PASSWORD: ROOT.secretKey },
      });
      try {
        const minio = makeClient(`http://127.0.0.1:${port}`);
        await vi.waitFor(() => minio.send(new CreateBucketCommand({ Bucket: 'mirror' })), POLL);
        await minio.send(
          new PutBucketVersioningCommand({ Bucket: 'mirror', VersioningConfiguration: { Status: 'Enabled' } }),
        );
        const src = await site('minio-src');
        await versionedBucket(src.client(), 'out');
        const arn = await addTarget(src, 'out', { host: `127.0.0.1:${port}` }, 'mirror');
        await replicateAll(src.client(), 'out', arn);
        const s3 = src.client();
        await s3.send(new PutObjectCommand({ Bucket: 'out', Key: 'one', Body: 'first', Metadata: { m: '1' } }));
        await s3.send(new PutObjectCommand({ Bucket: 'out', Key: 'one', Body: 'second' }));
        await s3.send(new DeleteObjectCommand({ Bucket: 'out', Key: 'one' }));
        await src.server.replicationIdle();
        const mine = await versions(s3, 'out');
        const theirs = await versions(minio, 'mirror');
        expect(theirs.map(({ key, id, etag, size, marker }) => ({ key, id, etag, size, marker }))).toEqual(
          mine.map(({ key, id, etag, size, marker }) => ({ key, id, etag, size, marker })),
        );
        expect(src.server.replicationStatus()[0]).toMatchObject({ replicated: 3, failed: 0 });
      } finally {
        proc.kill('SIGKILL');
      }
    },
  );
  if (!haveMinio) it('notes that MinIO is absent', () => console.log(`MinIO target tests skipped: no ${MINIO}`));
});
