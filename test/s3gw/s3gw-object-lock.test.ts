// `cairn gateway s3`: object lock is the backend's, passed through. A bucket made with object lock through the
// gateway is one on the backend; its configuration (default retention), the x-amz-object-lock-* headers of a PUT
// and a multipart upload, PutObjectRetention and PutObjectLegalHold reach the backend; GET and HEAD show the
// backend's lock. Cairn's rules and policies decide first, per resource, as on the direct server: a locked version
// is not removed, GOVERNANCE yields only to x-amz-bypass-governance-retention from a caller allowed
// s3:BypassGovernanceRetention in Cairn, and a refused request leaves the backend as it was.
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALT, s3Error, type TestServer } from '../helpers/cairn.js';
import { startNasGateway } from '../helpers/nas.js';
import { backendClient, type S3Gateway, startBackend, startS3Gateway } from '../helpers/s3gw.js';
import { ROOT } from '../helpers/cairn.js';

let backend: TestServer;
let gw: S3Gateway;
let s3: S3Client;
let be: S3Client;

const DAY = 86_400_000;
const denied = { name: 'AccessDenied', status: 403 };
const versionsOn = async (c: S3Client, Bucket: string, Key: string) =>
  ((await c.send(new ListObjectVersionsCommand({ Bucket, Prefix: Key }))).Versions ?? []).map((v) => v.VersionId);

beforeAll(async () => {
  backend = await startBackend();
  be = backendClient(backend);
  gw = await startS3Gateway(backend.url);
  s3 = gw.client();
});
afterAll(async () => {
  await gw?.close();
  await backend?.close();
});

describe('object lock passed through to the backend', () => {
  it('a bucket made with object lock, its default retention, and new versions’ locks are the backend’s', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'locked', ObjectLockEnabledForBucket: true }));
    expect((await be.send(new GetBucketVersioningCommand({ Bucket: 'locked' }))).Status).toBe('Enabled');
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: 'locked' }))).Status).toBe('Enabled');
    const onBackend = await be.send(new GetObjectLockConfigurationCommand({ Bucket: 'locked' }));
    expect(onBackend.ObjectLockConfiguration?.ObjectLockEnabled).toBe('Enabled');

    // A default retention: on the backend, and what a PUT without lock headers gets.
    await s3.send(
      new PutObjectLockConfigurationCommand({
        Bucket: 'locked',
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } },
        },
      }),
    );
    const rule = (await be.send(new GetObjectLockConfigurationCommand({ Bucket: 'locked' }))).ObjectLockConfiguration;
    expect(rule?.Rule?.DefaultRetention).toEqual({ Mode: 'GOVERNANCE', Days: 1 });
    const before = Date.now();
    const v1 = (await s3.send(new PutObjectCommand({ Bucket: 'locked', Key: 'd', Body: 'one' }))).VersionId!;
    const kept = await be.send(new GetObjectRetentionCommand({ Bucket: 'locked', Key: 'd', VersionId: v1 }));
    expect(kept.Retention?.Mode).toBe('GOVERNANCE');
    const until = kept.Retention!.RetainUntilDate!.getTime();
    expect(until).toBeGreaterThanOrEqual(before + DAY - 5000);
    expect(until).toBeLessThanOrEqual(Date.now() + DAY + 5000);

    // Headers on a PUT: retention and legal hold, shown by HEAD and GET through the gateway.
    const retainUntil = new Date(Date.now() + 2 * DAY);
    const v2 = (
      await s3.send(
        new PutObjectCommand({
          Bucket: 'locked',
          Key: 'h',
          Body: 'held',
          ObjectLockMode: 'GOVERNANCE',
          ObjectLockRetainUntilDate: retainUntil,
          ObjectLockLegalHoldStatus: 'ON',
          ChecksumAlgorithm: 'CRC32',
        }),
      )
    ).VersionId!;
    const head = await be.send(new HeadObjectCommand({ Bucket: 'locked', Key: 'h', VersionId: v2 }));
    expect([head.ObjectLockMode, head.ObjectLockLegalHoldStatus]).toEqual(['GOVERNANCE', 'ON']);
    expect(Math.abs(head.ObjectLockRetainUntilDate!.getTime() - retainUntil.getTime())).toBeLessThan(1000);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'locked', Key: 'h' }));
    await got.Body!.transformToString();
    expect([got.ObjectLockMode, got.ObjectLockLegalHoldStatus]).toEqual(['GOVERNANCE', 'ON']);
    const gwHead = await s3.send(new HeadObjectCommand({ Bucket: 'locked', Key: 'h', VersionId: v2 }));
    expect(gwHead.ObjectLockMode).toBe('GOVERNANCE');
    expect((await s3.send(new GetObjectLegalHoldCommand({ Bucket: 'locked', Key: 'h' }))).LegalHold?.Status).toBe('ON');

    // A multipart upload's lock, given at its start, is the completed version's on the backend.
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket: 'locked',
        Key: 'mp',
        ObjectLockMode: 'GOVERNANCE',
        ObjectLockRetainUntilDate: retainUntil,
      }),
    );
    const part = await s3.send(
      new UploadPartCommand({ Bucket: 'locked', Key: 'mp', UploadId, PartNumber: 1, Body: 'part' }),
    );
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'locked',
        Key: 'mp',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    const mp = await be.send(new GetObjectRetentionCommand({ Bucket: 'locked', Key: 'mp', VersionId: done.VersionId }));
    expect(mp.Retention?.Mode).toBe('GOVERNANCE');
  });

  it('a locked version stays: deletes, shorter retention and the bypass are Cairn’s to allow, per caller', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'worm', ObjectLockEnabledForBucket: true }));
    const retainUntil = new Date(Date.now() + DAY);
    const put = (Key: string) =>
      s3.send(
        new PutObjectCommand({
          Bucket: 'worm',
          Key,
          Body: Key,
          ObjectLockMode: 'GOVERNANCE',
          ObjectLockRetainUntilDate: retainUntil,
          ChecksumAlgorithm: 'CRC32',
        }),
      );
    const v = (await put('g')).VersionId!;
    const policy = (Action: string[]) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: ['*'] },
            Action,
            Resource: ['arn:aws:s3:::worm', 'arn:aws:s3:::worm/*'],
          },
        ],
      });
    const alt = gw.client({ credentials: ALT });
    // Allowed to delete versions and set retention, not to bypass GOVERNANCE: the header gives nothing.
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: 'worm',
        Policy: policy(['s3:DeleteObjectVersion', 's3:PutObjectRetention', 's3:GetObjectRetention']),
      }),
    );
    const remove = (c: S3Client, bypass?: boolean) =>
      c.send(new DeleteObjectCommand({ Bucket: 'worm', Key: 'g', VersionId: v, BypassGovernanceRetention: bypass }));
    expect(await s3Error(remove(alt))).toEqual(denied);
    expect(await s3Error(remove(alt, true))).toEqual(denied);
    const shorter = (c: S3Client, bypass?: boolean) =>
      c.send(
        new PutObjectRetentionCommand({
          Bucket: 'worm',
          Key: 'g',
          VersionId: v,
          Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.now() + DAY / 2) },
          BypassGovernanceRetention: bypass,
        }),
      );
    expect(await s3Error(shorter(alt, true))).toEqual(denied);
    expect(await s3Error(shorter(s3))).toEqual(denied); // root, but no bypass asked
    expect(await versionsOn(be, 'worm', 'g')).toEqual([v]);
    const kept = await be.send(new GetObjectRetentionCommand({ Bucket: 'worm', Key: 'g', VersionId: v }));
    expect(Math.abs(kept.Retention!.RetainUntilDate!.getTime() - retainUntil.getTime())).toBeLessThan(1000);

    // Extending needs no bypass; it reaches the backend.
    const longer = new Date(Date.now() + 3 * DAY);
    await alt.send(
      new PutObjectRetentionCommand({
        Bucket: 'worm',
        Key: 'g',
        VersionId: v,
        Retention: { Mode: 'GOVERNANCE', RetainUntilDate: longer },
      }),
    );
    const extended = await be.send(new GetObjectRetentionCommand({ Bucket: 'worm', Key: 'g', VersionId: v }));
    expect(Math.abs(extended.Retention!.RetainUntilDate!.getTime() - longer.getTime())).toBeLessThan(1000);
    const shown = await alt.send(new GetObjectRetentionCommand({ Bucket: 'worm', Key: 'g', VersionId: v }));
    expect(shown.Retention?.Mode).toBe('GOVERNANCE');

    // A legal hold through the gateway holds the version even against the bypass.
    await s3.send(
      new PutObjectLegalHoldCommand({ Bucket: 'worm', Key: 'g', VersionId: v, LegalHold: { Status: 'ON' } }),
    );
    const hold = await be.send(new GetObjectLegalHoldCommand({ Bucket: 'worm', Key: 'g', VersionId: v }));
    expect(hold.LegalHold?.Status).toBe('ON');
    expect(await s3Error(remove(s3, true))).toEqual(denied);
    await s3.send(
      new PutObjectLegalHoldCommand({ Bucket: 'worm', Key: 'g', VersionId: v, LegalHold: { Status: 'OFF' } }),
    );
    expect(
      (await be.send(new GetObjectLegalHoldCommand({ Bucket: 'worm', Key: 'g', VersionId: v }))).LegalHold?.Status,
    ).toBe('OFF');

    // Allowed the bypass in Cairn: the same requests go through, and the backend lets go of the version.
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: 'worm',
        Policy: policy(['s3:DeleteObjectVersion', 's3:PutObjectRetention', 's3:BypassGovernanceRetention']),
      }),
    );
    await shorter(alt, true);
    const shortened = await be.send(new GetObjectRetentionCommand({ Bucket: 'worm', Key: 'g', VersionId: v }));
    expect(shortened.Retention!.RetainUntilDate!.getTime()).toBeLessThan(retainUntil.getTime());
    await remove(alt, true);
    expect(await versionsOn(be, 'worm', 'g')).toEqual([]);

    // COMPLIANCE yields to no one, root with the bypass included.
    const c = await s3.send(
      new PutObjectCommand({
        Bucket: 'worm',
        Key: 'c',
        Body: 'c',
        ObjectLockMode: 'COMPLIANCE',
        ObjectLockRetainUntilDate: retainUntil,
        ChecksumAlgorithm: 'CRC32',
      }),
    );
    const removeC = s3.send(
      new DeleteObjectCommand({ Bucket: 'worm', Key: 'c', VersionId: c.VersionId, BypassGovernanceRetention: true }),
    );
    expect(await s3Error(removeC)).toEqual(denied);
    expect(await versionsOn(be, 'worm', 'c')).toEqual([c.VersionId]);
  });

  it('lock headers need a lock-enabled bucket: refused, nothing stored', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'plain' }));
    const put = s3.send(
      new PutObjectCommand({
        Bucket: 'plain',
        Key: 'k',
        Body: 'x',
        ObjectLockMode: 'GOVERNANCE',
        ObjectLockRetainUntilDate: new Date(Date.now() + DAY),
        ChecksumAlgorithm: 'CRC32',
      }),
    );
    expect((await s3Error(put)).status).toBe(400);
    expect(await versionsOn(be, 'plain', 'k')).toEqual([]);
  });
});

describe('a backend without object lock', () => {
  it('a bucket with object lock is NotImplemented, and no bucket is left', async () => {
    const nas = await startNasGateway({});
    const front = await startS3Gateway(nas.url, { backendCredentials: ROOT });
    try {
      const c = front.client();
      const made = c.send(new CreateBucketCommand({ Bucket: 'lockless', ObjectLockEnabledForBucket: true }));
      expect(await s3Error(made)).toEqual({ name: 'NotImplemented', status: 501 });
      expect(await s3Error(nas.client().send(new GetBucketVersioningCommand({ Bucket: 'lockless' })))).toEqual({
        name: 'NoSuchBucket',
        status: 404,
      });
    } finally {
      await front.close();
      await nas.close();
    }
  });
});
