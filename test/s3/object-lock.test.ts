// S3 Object Lock over HTTP with the AWS SDK: lock-enabled buckets, default retention, retention and legal hold on
// writes and through their APIs, what a lock forbids (deletes, shorter or weaker retention) to everyone, root
// included, the governance bypass and its permission, and bad inputs that change nothing (read back).
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  UploadPartCommand,
  type ObjectLockRetentionMode,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALT, s3Error, startWithBucket, type TestServer } from '../helpers/cairn.js';
import { signedFetch } from '../helpers/signed-request.js';

let server: TestServer;
let s3: S3Client;
let alt: S3Client;
const DAY = 86_400_000;
const later = (days: number) => new Date(Math.floor((Date.now() + days * DAY) / 1000) * 1000);
const DENIED = { name: 'AccessDenied', status: 403 };

beforeAll(async () => {
  ({ server, s3, alt } = await startWithBucket());
});
afterAll(() => server?.close());

let n = 0;
async function lockedBucket(): Promise<string> {
  const Bucket = `lock-${++n}`;
  await s3.send(new CreateBucketCommand({ Bucket, ObjectLockEnabledForBucket: true }));
  return Bucket;
}

async function retention(Bucket: string, Key: string, VersionId?: string) {
  return (await s3.send(new GetObjectRetentionCommand({ Bucket, Key, VersionId }))).Retention;
}

async function versionsOf(Bucket: string) {
  const r = await s3.send(new ListObjectVersionsCommand({ Bucket }));
  return { versions: r.Versions ?? [], markers: r.DeleteMarkers ?? [] };
}

const putRetention = (Bucket: string, Key: string, Mode: ObjectLockRetentionMode, until: Date, bypass = false) =>
  s3.send(
    new PutObjectRetentionCommand({
      Bucket,
      Key,
      Retention: { Mode, RetainUntilDate: until },
      BypassGovernanceRetention: bypass || undefined,
    }),
  );

describe('lock-enabled buckets and their configuration', () => {
  it('a bucket created with object lock versions, and versioning cannot be suspended', async () => {
    const Bucket = await lockedBucket();
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket }))).Status).toBe('Enabled');
    const suspend = new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Suspended' } });
    expect(await s3Error(s3.send(suspend))).toEqual({ name: 'InvalidBucketState', status: 409 });
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket }))).Status).toBe('Enabled');
    const cfg = await s3.send(new GetObjectLockConfigurationCommand({ Bucket }));
    expect(cfg.ObjectLockConfiguration).toEqual({ ObjectLockEnabled: 'Enabled' });
  });

  it('stores a default retention and refuses invalid ones, keeping the previous one', async () => {
    const Bucket = await lockedBucket();
    const good = {
      ObjectLockEnabled: 'Enabled' as const,
      Rule: { DefaultRetention: { Mode: 'COMPLIANCE' as const, Years: 1 } },
    };
    await s3.send(new PutObjectLockConfigurationCommand({ Bucket, ObjectLockConfiguration: good }));
    const bad = [
      [{ Mode: 'GOVERNANCE', Days: 1, Years: 1 }, 'MalformedXML'],
      [{ Mode: 'GOVERNANCE', Days: 0 }, 'InvalidRetentionPeriod'],
      [{ Mode: 'GOVERNANCE', Years: -1 }, 'InvalidRetentionPeriod'],
      [{ Mode: 'governance', Days: 1 }, 'MalformedXML'],
      [{ Mode: 'GOVERNANCE' }, 'MalformedXML'],
    ] as const;
    for (const [DefaultRetention, code] of bad) {
      const conf = { ObjectLockEnabled: 'Enabled' as const, Rule: { DefaultRetention } };
      const e = await s3Error(
        s3.send(new PutObjectLockConfigurationCommand({ Bucket, ObjectLockConfiguration: conf as never })),
      );
      expect(e, JSON.stringify(DefaultRetention)).toEqual({ name: code, status: 400 });
    }
    const disabled = { ObjectLockEnabled: 'Disabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } } };
    expect(
      await s3Error(
        s3.send(new PutObjectLockConfigurationCommand({ Bucket, ObjectLockConfiguration: disabled as never })),
      ),
    ).toMatchObject({ name: 'MalformedXML' });
    const read = await s3.send(new GetObjectLockConfigurationCommand({ Bucket }));
    expect(read.ObjectLockConfiguration).toEqual(good);
  });

  it('a bucket without versioning cannot take a lock configuration; a versioned one can', async () => {
    const Bucket = 'lock-later';
    await s3.send(new CreateBucketCommand({ Bucket }));
    const conf = {
      ObjectLockEnabled: 'Enabled' as const,
      Rule: { DefaultRetention: { Mode: 'GOVERNANCE' as const, Days: 1 } },
    };
    const put = () => s3.send(new PutObjectLockConfigurationCommand({ Bucket, ObjectLockConfiguration: conf }));
    expect(await s3Error(put())).toEqual({ name: 'InvalidBucketState', status: 409 });
    expect(await s3Error(s3.send(new GetObjectLockConfigurationCommand({ Bucket })))).toEqual({
      name: 'ObjectLockConfigurationNotFoundError',
      status: 404,
    });
    await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    await put();
    expect((await s3.send(new GetObjectLockConfigurationCommand({ Bucket }))).ObjectLockConfiguration).toEqual(conf);
  });

  it('lock headers and lock APIs on a bucket without object lock are InvalidRequest and store nothing', async () => {
    const Bucket = 'no-lock';
    await s3.send(new CreateBucketCommand({ Bucket }));
    const put = new PutObjectCommand({
      Bucket,
      Key: 'k',
      Body: 'x',
      ObjectLockMode: 'GOVERNANCE',
      ObjectLockRetainUntilDate: later(1),
    });
    expect(await s3Error(s3.send(put))).toEqual({ name: 'InvalidRequest', status: 400 });
    expect((await versionsOf(Bucket)).versions).toEqual([]);
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }));
    expect(await s3Error(putRetention(Bucket, 'k', 'GOVERNANCE', later(1)))).toMatchObject({ name: 'InvalidRequest' });
    expect(await s3Error(s3.send(new GetObjectLegalHoldCommand({ Bucket, Key: 'k' })))).toMatchObject({
      name: 'InvalidRequest',
    });
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'k' }))).ObjectLockMode).toBeUndefined();
  });
});

describe('retention', () => {
  it('a PUT with retention is locked: HEAD and GET say so, and a versioned delete is refused without bypass', async () => {
    const Bucket = await lockedBucket();
    const until = later(30);
    const put = await s3.send(
      new PutObjectCommand({
        Bucket,
        Key: 'k',
        Body: 'x',
        ObjectLockMode: 'GOVERNANCE',
        ObjectLockRetainUntilDate: until,
      }),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'k' }));
    expect(head).toMatchObject({ ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: until });
    const get = await s3.send(new GetObjectCommand({ Bucket, Key: 'k' }));
    expect(get.ObjectLockMode).toBe('GOVERNANCE');
    await get.Body?.transformToString();
    const del = new DeleteObjectCommand({ Bucket, Key: 'k', VersionId: put.VersionId });
    expect(await s3Error(s3.send(del))).toEqual(DENIED);
    // A delete without version id adds a delete marker; the locked version stays.
    const marker = await s3.send(new DeleteObjectCommand({ Bucket, Key: 'k' }));
    expect(marker.DeleteMarker).toBe(true);
    expect((await versionsOf(Bucket)).versions.map((v) => v.VersionId)).toEqual([put.VersionId]);
    // Root with the bypass removes a governance version.
    await s3.send(
      new DeleteObjectCommand({ Bucket, Key: 'k', VersionId: put.VersionId, BypassGovernanceRetention: true }),
    );
    expect((await versionsOf(Bucket)).versions).toEqual([]);
  });

  it('compliance retention can only be extended, and no one deletes the version', async () => {
    const Bucket = await lockedBucket();
    const until = later(10);
    const put = await s3.send(
      new PutObjectCommand({
        Bucket,
        Key: 'c',
        Body: 'x',
        ObjectLockMode: 'COMPLIANCE',
        ObjectLockRetainUntilDate: until,
      }),
    );
    expect(await s3Error(putRetention(Bucket, 'c', 'COMPLIANCE', later(5), true))).toEqual(DENIED);
    expect(await s3Error(putRetention(Bucket, 'c', 'GOVERNANCE', later(20), true))).toEqual(DENIED);
    const clear = new PutObjectRetentionCommand({ Bucket, Key: 'c', Retention: {}, BypassGovernanceRetention: true });
    expect(await s3Error(s3.send(clear))).toEqual(DENIED);
    expect(await retention(Bucket, 'c')).toEqual({ Mode: 'COMPLIANCE', RetainUntilDate: until });
    const del = new DeleteObjectCommand({
      Bucket,
      Key: 'c',
      VersionId: put.VersionId,
      BypassGovernanceRetention: true,
    });
    expect(await s3Error(s3.send(del))).toEqual(DENIED);
    const longer = later(40);
    await putRetention(Bucket, 'c', 'COMPLIANCE', longer);
    expect(await retention(Bucket, 'c')).toEqual({ Mode: 'COMPLIANCE', RetainUntilDate: longer });
    expect((await versionsOf(Bucket)).versions).toHaveLength(1);
  });

  it('governance retention is extended freely; shortened, removed or made compliance only with the bypass', async () => {
    const Bucket = await lockedBucket();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'g', Body: 'x' }));
    const first = later(10);
    await putRetention(Bucket, 'g', 'GOVERNANCE', first);
    expect(await s3Error(putRetention(Bucket, 'g', 'GOVERNANCE', later(5)))).toEqual(DENIED);
    expect(await s3Error(putRetention(Bucket, 'g', 'COMPLIANCE', later(20)))).toEqual(DENIED);
    expect(await retention(Bucket, 'g')).toEqual({ Mode: 'GOVERNANCE', RetainUntilDate: first });
    const shorter = later(5);
    await putRetention(Bucket, 'g', 'GOVERNANCE', shorter, true);
    expect(await retention(Bucket, 'g')).toEqual({ Mode: 'GOVERNANCE', RetainUntilDate: shorter });
    await s3.send(new PutObjectRetentionCommand({ Bucket, Key: 'g', Retention: {}, BypassGovernanceRetention: true }));
    expect(await s3Error(s3.send(new GetObjectRetentionCommand({ Bucket, Key: 'g' })))).toEqual({
      name: 'NoSuchObjectLockConfiguration',
      status: 404,
    });
  });

  it('past and malformed dates are refused and change nothing', async () => {
    const Bucket = await lockedBucket();
    const past = new Date(Date.now() - DAY);
    const put = (extra: object) => s3.send(new PutObjectCommand({ Bucket, Key: 'p', Body: 'x', ...extra }));
    expect(await s3Error(put({ ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: past }))).toEqual({
      name: 'InvalidArgument',
      status: 400,
    });
    expect(await s3Error(put({ ObjectLockMode: 'GOVERNANCE' }))).toMatchObject({ name: 'InvalidArgument' });
    expect(await s3Error(put({ ObjectLockLegalHoldStatus: 'maybe' }))).toMatchObject({ name: 'InvalidArgument' });
    expect((await versionsOf(Bucket)).versions).toEqual([]);
    const raw = (headers: Record<string, string>) =>
      signedFetch(server.url, {
        method: 'PUT',
        path: `/${Bucket}/p`,
        body: 'x',
        headers: { 'content-md5': 'nTDHwLyLLl4P+z1JkgtpYQ==', ...headers },
      });
    const badDate = await raw({
      'x-amz-object-lock-mode': 'GOVERNANCE',
      'x-amz-object-lock-retain-until-date': 'soon',
    });
    expect(badDate.status).toBe(400);
    expect(badDate.text).toContain('<Code>InvalidArgument</Code>');
    expect((await versionsOf(Bucket)).versions).toEqual([]);

    const until = later(3);
    await put({ ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: until });
    expect(await s3Error(putRetention(Bucket, 'p', 'GOVERNANCE', past, true))).toMatchObject({
      name: 'InvalidArgument',
    });
    const xml = (date: string) =>
      `<Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Mode>GOVERNANCE</Mode><RetainUntilDate>${date}</RetainUntilDate></Retention>`;
    for (const body of [xml('tomorrow'), '<Retention><Mode>GOVERNANCE</Mode></Retention>', '<Retention']) {
      const r = await signedFetch(server.url, {
        method: 'PUT',
        path: `/${Bucket}/p`,
        query: { retention: '' },
        body,
        headers: { 'content-md5': (await import('node:crypto')).createHash('md5').update(body).digest('base64') },
      });
      expect(r.text, body).toContain('<Code>MalformedXML</Code>');
    }
    expect(await retention(Bucket, 'p')).toEqual({ Mode: 'GOVERNANCE', RetainUntilDate: until });
  });

  it('a digest is required for lock requests, and nothing changes without one', async () => {
    const Bucket = await lockedBucket();
    const noDigest = await signedFetch(server.url, {
      method: 'PUT',
      path: `/${Bucket}/d`,
      body: 'x',
      headers: {
        'x-amz-object-lock-mode': 'GOVERNANCE',
        'x-amz-object-lock-retain-until-date': later(1).toISOString(),
      },
    });
    expect(noDigest.status).toBe(400);
    expect(noDigest.text).toContain('<Code>InvalidRequest</Code>');
    expect((await versionsOf(Bucket)).versions).toEqual([]);
    await s3.send(new PutObjectCommand({ Bucket, Key: 'd', Body: 'x' }));
    const hold = await signedFetch(server.url, {
      method: 'PUT',
      path: `/${Bucket}/d`,
      query: { 'legal-hold': '' },
      body: '<LegalHold><Status>ON</Status></LegalHold>',
    });
    expect(hold.status).toBe(400);
    expect(await s3Error(s3.send(new GetObjectLegalHoldCommand({ Bucket, Key: 'd' })))).toMatchObject({
      name: 'NoSuchObjectLockConfiguration',
    });
  });

  it('the default retention applies to PUT, copy and multipart; explicit headers win', async () => {
    const Bucket = await lockedBucket();
    const conf = {
      ObjectLockEnabled: 'Enabled' as const,
      Rule: { DefaultRetention: { Mode: 'GOVERNANCE' as const, Days: 2 } },
    };
    await s3.send(new PutObjectLockConfigurationCommand({ Bucket, ObjectLockConfiguration: conf }));
    const before = Date.now();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'a', Body: 'x' }));
    const r = await retention(Bucket, 'a');
    expect(r?.Mode).toBe('GOVERNANCE');
    const t = r!.RetainUntilDate!.getTime();
    expect(t).toBeGreaterThanOrEqual(before + 2 * DAY - 1000);
    expect(t).toBeLessThanOrEqual(Date.now() + 2 * DAY);

    const until = later(7);
    await s3.send(
      new CopyObjectCommand({
        Bucket,
        Key: 'b',
        CopySource: `${Bucket}/a`,
        ObjectLockMode: 'COMPLIANCE',
        ObjectLockRetainUntilDate: until,
      }),
    );
    expect(await retention(Bucket, 'b')).toEqual({ Mode: 'COMPLIANCE', RetainUntilDate: until });

    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'm', ObjectLockLegalHoldStatus: 'ON' }));
    const part = await s3.send(
      new UploadPartCommand({ Bucket, Key: 'm', UploadId: up.UploadId, PartNumber: 1, Body: 'part' }),
    );
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: 'm',
        UploadId: up.UploadId,
        MultipartUpload: { Parts: [{ ETag: part.ETag, PartNumber: 1 }] },
      }),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'm' }));
    expect(head.ObjectLockLegalHoldStatus).toBe('ON');
    expect(head.ObjectLockMode).toBe('GOVERNANCE');
    const del = new DeleteObjectCommand({
      Bucket,
      Key: 'm',
      VersionId: done.VersionId,
      BypassGovernanceRetention: true,
    });
    expect(await s3Error(s3.send(del))).toEqual(DENIED);
  });

  it('a copy onto itself in a locked bucket makes a new version and leaves the locked one as it was', async () => {
    const Bucket = await lockedBucket();
    const put = await s3.send(
      new PutObjectCommand({
        Bucket,
        Key: 'self',
        Body: 'x',
        Metadata: { a: '1' },
        ObjectLockMode: 'GOVERNANCE',
        ObjectLockRetainUntilDate: later(3),
      }),
    );
    await s3.send(
      new CopyObjectCommand({
        Bucket,
        Key: 'self',
        CopySource: `${Bucket}/self`,
        MetadataDirective: 'REPLACE',
        Metadata: { a: '2' },
      }),
    );
    const old = await s3.send(new HeadObjectCommand({ Bucket, Key: 'self', VersionId: put.VersionId }));
    expect(old.Metadata).toEqual({ a: '1' });
    expect((await versionsOf(Bucket)).versions).toHaveLength(2);
  });
});

describe('legal hold', () => {
  it('a version under legal hold cannot be deleted, even with the bypass, until the hold is off', async () => {
    const Bucket = await lockedBucket();
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'h', Body: 'x' }));
    await s3.send(new PutObjectLegalHoldCommand({ Bucket, Key: 'h', LegalHold: { Status: 'ON' } }));
    expect((await s3.send(new GetObjectLegalHoldCommand({ Bucket, Key: 'h' }))).LegalHold?.Status).toBe('ON');
    const del = () =>
      s3.send(new DeleteObjectCommand({ Bucket, Key: 'h', VersionId: put.VersionId, BypassGovernanceRetention: true }));
    expect(await s3Error(del())).toEqual(DENIED);
    const bad = new PutObjectLegalHoldCommand({ Bucket, Key: 'h', LegalHold: { Status: 'maybe' as 'ON' } });
    expect(await s3Error(s3.send(bad))).toMatchObject({ name: 'MalformedXML' });
    expect((await s3.send(new GetObjectLegalHoldCommand({ Bucket, Key: 'h' }))).LegalHold?.Status).toBe('ON');
    await s3.send(new PutObjectLegalHoldCommand({ Bucket, Key: 'h', LegalHold: { Status: 'OFF' } }));
    await del();
    expect((await versionsOf(Bucket)).versions).toEqual([]);
  });

  it('a hold never set answers NoSuchObjectLockConfiguration; one set OFF (by call or header) answers OFF', async () => {
    const Bucket = await lockedBucket();
    const hold = async (Key: string) =>
      (await s3.send(new GetObjectLegalHoldCommand({ Bucket, Key }))).LegalHold?.Status;
    const holdHeader = async (Key: string) =>
      (await s3.send(new HeadObjectCommand({ Bucket, Key }))).ObjectLockLegalHoldStatus;
    await s3.send(new PutObjectCommand({ Bucket, Key: 'never', Body: 'x' }));
    expect(await s3Error(hold('never'))).toMatchObject({ name: 'NoSuchObjectLockConfiguration' });
    expect(await holdHeader('never')).toBeUndefined();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'header-off', Body: 'x', ObjectLockLegalHoldStatus: 'OFF' }));
    expect(await hold('header-off')).toBe('OFF');
    expect(await holdHeader('header-off')).toBe('OFF');
    await s3.send(new PutObjectCommand({ Bucket, Key: 'turned-off', Body: 'x', ObjectLockLegalHoldStatus: 'ON' }));
    expect(await holdHeader('turned-off')).toBe('ON');
    await s3.send(new PutObjectLegalHoldCommand({ Bucket, Key: 'turned-off', LegalHold: { Status: 'OFF' } }));
    expect(await hold('turned-off')).toBe('OFF');
    expect(await holdHeader('turned-off')).toBe('OFF');
  });
});

describe('DeleteObjects and the bypass permission', () => {
  it('reports AccessDenied per locked key and deletes the others', async () => {
    const Bucket = await lockedBucket();
    const a = await s3.send(
      new PutObjectCommand({
        Bucket,
        Key: 'a',
        Body: 'x',
        ObjectLockMode: 'GOVERNANCE',
        ObjectLockRetainUntilDate: later(1),
      }),
    );
    const b = await s3.send(new PutObjectCommand({ Bucket, Key: 'b', Body: 'x' }));
    const objects = [
      { Key: 'a', VersionId: a.VersionId },
      { Key: 'b', VersionId: b.VersionId },
    ];
    const r = await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: objects } }));
    expect(r.Deleted?.map((d) => d.Key)).toEqual(['b']);
    expect(r.Errors).toEqual([expect.objectContaining({ Key: 'a', VersionId: a.VersionId, Code: 'AccessDenied' })]);
    expect((await versionsOf(Bucket)).versions.map((v) => v.Key)).toEqual(['a']);
    const again = await s3.send(
      new DeleteObjectsCommand({ Bucket, Delete: { Objects: [objects[0]] }, BypassGovernanceRetention: true }),
    );
    expect(again.Errors ?? []).toEqual([]);
    expect((await versionsOf(Bucket)).versions).toEqual([]);
  });

  it('another user needs s3:BypassGovernanceRetention from a policy; a Deny takes it away', async () => {
    const Bucket = await lockedBucket();
    const put = await s3.send(
      new PutObjectCommand({
        Bucket,
        Key: 'k',
        Body: 'x',
        ObjectLockMode: 'GOVERNANCE',
        ObjectLockRetainUntilDate: later(1),
      }),
    );
    const policy = (bypass: 'Allow' | 'Deny') =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: [ALT.accessKey] },
            Action: ['s3:DeleteObjectVersion', 's3:PutObjectRetention', 's3:GetObjectRetention'],
            Resource: [`arn:aws:s3:::${Bucket}/*`],
          },
          {
            Effect: bypass,
            Principal: { AWS: [ALT.accessKey] },
            Action: ['s3:BypassGovernanceRetention'],
            Resource: [`arn:aws:s3:::${Bucket}/*`],
          },
        ],
      });
    const del = () =>
      alt.send(
        new DeleteObjectCommand({ Bucket, Key: 'k', VersionId: put.VersionId, BypassGovernanceRetention: true }),
      );
    await s3.send(new PutBucketPolicyCommand({ Bucket, Policy: policy('Deny') }));
    expect(await s3Error(del())).toEqual(DENIED);
    const shorten = new PutObjectRetentionCommand({
      Bucket,
      Key: 'k',
      Retention: {},
      BypassGovernanceRetention: true,
    });
    expect(await s3Error(alt.send(shorten))).toEqual(DENIED);
    expect((await versionsOf(Bucket)).versions).toHaveLength(1);
    await s3.send(new PutBucketPolicyCommand({ Bucket, Policy: policy('Allow') }));
    await del();
    expect((await versionsOf(Bucket)).versions).toEqual([]);
  });

  it('lock headers on a PUT need s3:PutObjectRetention', async () => {
    const Bucket = await lockedBucket();
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: [ALT.accessKey] },
          Action: ['s3:PutObject'],
          Resource: [`arn:aws:s3:::${Bucket}/*`],
        },
      ],
    });
    await s3.send(new PutBucketPolicyCommand({ Bucket, Policy: policy }));
    const put = new PutObjectCommand({
      Bucket,
      Key: 'k',
      Body: 'x',
      ObjectLockMode: 'GOVERNANCE',
      ObjectLockRetainUntilDate: later(1),
    });
    expect(await s3Error(alt.send(put))).toEqual(DENIED);
    expect((await versionsOf(Bucket)).versions).toEqual([]);
    await alt.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }));
  });
});
