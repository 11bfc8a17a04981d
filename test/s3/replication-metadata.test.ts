// Metadata-only changes of replicated versions between real Cairn servers with object lock: tags (set and
// deleted), GOVERNANCE retention (set, extended, shortened, removed) and legal hold reach the target's same
// version without a new one, sent by a target user holding only the replication permissions; a replica the
// target lost comes back whole; a changer without s3:ReplicateTags is refused.
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectTaggingCommand,
  GetObjectLegalHoldCommand,
  GetObjectRetentionCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectRetentionCommand,
  PutObjectTaggingCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { ALT, s3Error } from '../helpers/cairn.js';
import {
  TARGET_CREDS,
  type Site,
  useSites,
  allowReplicator,
  addTarget,
  replicateAll,
  versions,
  body,
} from '../helpers/replication.js';

const { site } = useSites();

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
  /** The version's legal hold, or the error name when it has none (never set). */
  const holdOn = async (s3: S3Client, Bucket: string, VersionId: string) => {
    try {
      return (await s3.send(new GetObjectLegalHoldCommand({ Bucket, Key: 'doc', VersionId }))).LegalHold?.Status;
    } catch (e) {
      return (e as Error).name;
    }
  };

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
      expect(await holdOn(t, 'locked-copy', v2)).toBe('NoSuchObjectLockConfiguration');
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
