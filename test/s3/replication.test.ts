// Bucket replication between real Cairn servers (and to MinIO when /work/ext/bin/minio or CAIRN_TEST_MINIO names
// a binary): replication targets through MinIO's admin API and `cairn admin replicate` (probed, secrets sealed
// and never listed), Put/Get/DeleteBucketReplication (bad ones refused with nothing stored), versions copied
// byte-exact with their version ids, times, metadata, tags and lock, delete markers and versioned deletes, the
// status PENDING -> COMPLETED on the source and REPLICA on the target, a target down then back (counts exact),
// active-active without loops, and the receiving side's s3:ReplicateObject check. Nothing sleeps: tests wait for
// the queues to empty (replicationIdle) or poll (vi.waitFor).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketReplicationCommand,
  DeleteObjectCommand,
  GetBucketReplicationCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { adminCall, bucketCall } from '../../server/src/cli/admin-client.js';
import { replicateCommand } from '../../server/src/cli/admin-replicate.js';
import { ALT, ROOT, makeClient, s3Error } from '../helpers/cairn.js';
import { spawnCairn } from '../helpers/cli.js';
import { seededRandom } from '../helpers/random.js';
import {
  POLL,
  TARGET_CREDS,
  MINIO,
  type Site,
  useSites,
  versionedBucket,
  allowReplicator,
  addTarget,
  rule,
  replicateAll,
  versions,
  body,
  freePort,
  runCli,
} from '../helpers/replication.js';

const { site, dir: sitesDir } = useSites();

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
    const denied = await addTarget(src, 'photos', dst, 'photos-copy', ROOT, ALT).then(
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
    await replicateAll(src.client(), 'data', arn);
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
    // A key that needs encoding in a path, and every content header a replica takes.
    const odd = 'odd/a b+c=d&e%f~ü(1).txt';
    const expires = new Date('2031-05-06T07:08:09Z');
    await s3.send(
      new PutObjectCommand({
        Bucket: 'data',
        Key: odd,
        Body: small,
        ContentDisposition: 'attachment; filename="x.txt"',
        ContentEncoding: 'identity',
        ContentLanguage: 'fr',
        CacheControl: 'max-age=60',
        Expires: expires,
      }),
    );
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
    expect(mine).toHaveLength(8);
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
    const oddReplica = await t.send(new HeadObjectCommand({ Bucket: 'data-copy', Key: odd }));
    expect(oddReplica).toMatchObject({
      ContentDisposition: 'attachment; filename="x.txt"',
      ContentEncoding: 'identity',
      ContentLanguage: 'fr',
      CacheControl: 'max-age=60',
    });
    expect(oddReplica.Expires?.getTime()).toBe(expires.getTime());
    expect(src.server.replicationStatus()).toEqual([
      expect.objectContaining({ arn, queued: 0, replicated: 8, failed: 0 }),
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
      expect(status.target[0]).toMatchObject({
        resyncStatus: 'Completed',
        queued: 16,
        replicationCount: 16,
        // Counted before the walk: 15 versions and the delete marker; the bytes of the 15 bodies.
        total: 16,
        totalSize: 15 * 2 + 5 * 1,
      });
    }, POLL);
    expect(await runCli(src, ['replicate', 'resync-status', 'old'])).toMatch(
      /Completed\s+\[#{30}\] 100% 16\/16\s+16\s+35\/35\s+0$/,
    );
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

describe('resync progress', () => {
  it('its bar, against the versions counted at the start, moves with what the sender has copied', async () => {
    const src = await site('progress-src');
    const dst = await site('progress-dst');
    await versionedBucket(src.client(), 'many');
    await versionedBucket(dst.client(), 'many');
    const n = 120;
    for (let i = 0; i < n; i += 20)
      await Promise.all(
        Array.from({ length: 20 }, (_, j) =>
          src.client().send(new PutObjectCommand({ Bucket: 'many', Key: `m${i + j}`, Body: Buffer.alloc(1000, j) })),
        ),
      );
    const arn = await addTarget(src, 'many', dst, 'many');
    await replicateAll(src.client(), 'many', arn, { ExistingObjectReplication: { Status: 'Enabled' } });
    await replicateCommand(src.admin(), 'resync', ['many', arn]);
    // `--watch` (no terminal: no bar drawn) follows the resync to its end while the table is read over and over.
    const watched = runCli(src, ['replicate', 'resync-status', 'many', arn, '--watch']);
    const seen: { done: number; of: number; bytes: string }[] = [];
    for (const deadline = Date.now() + 120_000; Date.now() < deadline; ) {
      const r = (await replicateCommand(src.admin(), 'resync-status', ['many', arn])).rows![0];
      const m = /\] (\d+)% (\d+)\/(\d+)$/.exec(r.progress);
      if (m) {
        expect(Number(m[1])).toBe(Math.floor((Number(m[2]) / Number(m[3])) * 100));
        seen.push({ done: Number(m[2]), of: Number(m[3]), bytes: r.bytes });
      } else expect(r.progress).toBe('');
      if (r.status !== 'Ongoing') break;
    }
    expect(seen.every((s) => s.of === n)).toBe(true);
    expect(seen.at(-1)).toEqual({ done: n, of: n, bytes: `${n * 1000}/${n * 1000}` });
    for (let i = 1; i < seen.length; i++) expect(seen[i].done).toBeGreaterThanOrEqual(seen[i - 1].done);
    // Somewhere between empty and full: the bar followed the copies as they were made.
    expect(seen.some((s) => s.done > 0 && s.done < n)).toBe(true);
    expect(await watched).toMatch(/Completed\s+\[#{30}\] 100% 120\/120\s+120\s+120000\/120000\s+0$/);
    expect((await versions(dst.client(), 'many')).length).toBe(n);
  });
});

describe('MinIO as a replication target', () => {
  const haveMinio = existsSync(MINIO);
  it.skipIf(!haveMinio)(
    'replicates versions to MinIO with their version ids (skipped without a minio binary)',
    async () => {
      const port = await freePort();
      const dir = join(sitesDir(), 'minio');
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
        // A multipart version (raw CreateMultipartUpload / UploadPart / Complete) with metadata and a key that
        // needs encoding: MinIO keeps its parts (same ETag), version id, metadata and bytes.
        const mpKey = 'mp/a b+c=d&e%f~ü(1).bin';
        const parts = [Buffer.alloc(5 * 1024 * 1024, 'cairn'), Buffer.from('the last part')];
        const up = await s3.send(
          new CreateMultipartUploadCommand({
            Bucket: 'out',
            Key: mpKey,
            ContentType: 'application/x-test',
            Metadata: { origin: 'cairn' },
          }),
        );
        const etags: string[] = [];
        for (const [i, Body] of parts.entries())
          etags.push(
            (
              await s3.send(
                new UploadPartCommand({ Bucket: 'out', Key: mpKey, UploadId: up.UploadId, PartNumber: i + 1, Body }),
              )
            ).ETag ?? '',
          );
        await s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: 'out',
            Key: mpKey,
            UploadId: up.UploadId,
            MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
          }),
        );
        await src.server.replicationIdle();
        const mine = await versions(s3, 'out');
        const theirs = await versions(minio, 'mirror');
        expect(theirs.map(({ key, id, etag, size, marker }) => ({ key, id, etag, size, marker }))).toEqual(
          mine.map(({ key, id, etag, size, marker }) => ({ key, id, etag, size, marker })),
        );
        expect(mine.find((v) => v.key === mpKey)?.etag).toMatch(/-2"$/);
        const head = await minio.send(new HeadObjectCommand({ Bucket: 'mirror', Key: mpKey }));
        expect(head).toMatchObject({ ContentType: 'application/x-test', Metadata: { origin: 'cairn' } });
        expect((await body(minio, 'mirror', mpKey)).equals(Buffer.concat(parts))).toBe(true);
        expect(src.server.replicationStatus()[0]).toMatchObject({ replicated: 4, failed: 0 });
      } finally {
        proc.kill('SIGKILL');
      }
    },
  );
  if (!haveMinio) it('notes that MinIO is absent', () => console.log(`MinIO target tests skipped: no ${MINIO}`));
});
