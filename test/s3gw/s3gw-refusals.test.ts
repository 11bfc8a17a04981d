// `cairn gateway s3`: what the gateway does not do is refused (NotImplemented) and changes nothing on the
// backend (versioning: what a backend that cannot version answers); Cairn's own users and policies (kept in
// the state folder, not on the backend) decide who may do what, and survive a restart; a stopped backend is
// 503 ServiceUnavailable, never an invented answer, except the configuration the gateway keeps itself.
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateAccessKeyCommand, CreateUserCommand, GetUserCommand } from '@aws-sdk/client-iam';
import {
  CreateBucketCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALT, makeClient, ROOT, s3Error, type TestServer } from '../helpers/cairn.js';
import { startNasGateway } from '../helpers/nas.js';
import { backendClient, type S3Gateway, startBackend, startS3Gateway } from '../helpers/s3gw.js';
import { iamClient } from '../iam/helpers.js';

let backend: TestServer;
let gw: S3Gateway;
let s3: S3Client;
let be: S3Client;
/** The gateway's state folder, kept across its restart. */
let stateDir: string;

/** The backend's buckets and every object's key and ETag: what a refused request must not change. */
async function backendState(): Promise<string[]> {
  const out: string[] = [];
  for (const b of (await be.send(new ListBucketsCommand({}))).Buckets ?? []) {
    out.push(`${b.Name}/`);
    const objects = await be.send(new ListObjectsV2Command({ Bucket: b.Name }));
    for (const o of objects.Contents ?? []) out.push(`${b.Name}/${o.Key} ${o.ETag}`);
    const v = await be.send(new GetBucketVersioningCommand({ Bucket: b.Name }));
    out.push(`${b.Name} versioning=${v.Status ?? 'never'}`);
  }
  return out;
}

beforeAll(async () => {
  backend = await startBackend();
  be = backendClient(backend);
  await be.send(new CreateBucketCommand({ Bucket: 'data' }));
  await be.send(new PutObjectCommand({ Bucket: 'data', Key: 'a.txt', Body: 'inside' }));
  await be.send(new PutObjectCommand({ Bucket: 'data', Key: 'folder/f.txt', Body: 'f' }));
  stateDir = await mkdtemp(join(tmpdir(), 'cairn-s3gw-state-'));
  gw = await startS3Gateway(backend.url, { stateDir, sseCOverLoopbackHttp: true });
  s3 = gw.client();
});
afterAll(async () => {
  await gw?.close();
  await backend?.close();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

describe('what the gateway does not do is refused, and the backend is left as it was', () => {
  it('lifecycle, default encryption, SSE-C: NotImplemented; a legal hold on a bucket without object lock', async () => {
    const before = await backendState();
    const lifecycle = new PutBucketLifecycleConfigurationCommand({
      Bucket: 'data',
      LifecycleConfiguration: {
        Rules: [{ ID: 'r', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 1 } }],
      },
    });
    expect(await s3Error(s3.send(lifecycle))).toEqual({ name: 'NotImplemented', status: 501 });
    const encryption = new PutBucketEncryptionCommand({
      Bucket: 'data',
      ServerSideEncryptionConfiguration: {
        Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
    });
    expect((await s3Error(s3.send(encryption))).status).toBe(501);
    const sseC = new PutObjectCommand({
      Bucket: 'data',
      Key: 'sealed.txt',
      Body: 'secret',
      SSECustomerAlgorithm: 'AES256',
      SSECustomerKey: Buffer.alloc(32, 9).toString('base64'),
    });
    expect(await s3Error(s3.send(sseC))).toEqual({ name: 'NotImplemented', status: 501 });
    const hold = new PutObjectLegalHoldCommand({ Bucket: 'data', Key: 'a.txt', LegalHold: { Status: 'ON' } });
    expect((await s3Error(s3.send(hold))).status).toBeGreaterThanOrEqual(400);
    expect(await backendState()).toEqual(before);
  });
});

describe('a backend that cannot version', () => {
  it('answers NotImplemented to PutBucketVersioning, and that is the answer; nothing changes', async () => {
    // A NAS gateway refuses versioning: the S3 gateway in front of it passes the refusal on.
    const nas = await startNasGateway({ prepare: (root) => mkdir(join(root, 'plain')) });
    const front = await startS3Gateway(nas.url, { backendCredentials: ROOT });
    try {
      const c = front.client();
      const enable = new PutBucketVersioningCommand({
        Bucket: 'plain',
        VersioningConfiguration: { Status: 'Enabled' },
      });
      expect(await s3Error(c.send(enable))).toEqual({ name: 'NotImplemented', status: 501 });
      expect((await c.send(new GetBucketVersioningCommand({ Bucket: 'plain' }))).Status).toBeUndefined();
      expect((await nas.client().send(new GetBucketVersioningCommand({ Bucket: 'plain' }))).Status).toBeUndefined();
      await c.send(new PutObjectCommand({ Bucket: 'plain', Key: 'k', Body: 'v' }));
      const got = await c.send(new GetObjectCommand({ Bucket: 'plain', Key: 'k', VersionId: 'null' }));
      expect([await got.Body!.transformToString(), got.VersionId]).toEqual(['v', undefined]);
    } finally {
      await front.close();
      await nas.close();
    }
  });
});

describe('Cairn’s users and policies, kept in the state folder', () => {
  it('another user needs a policy; IAM users are not on the backend and survive a restart', async () => {
    const before = await backendState();
    const alt = makeClient(gw.url, { credentials: ALT });
    expect((await s3Error(alt.send(new GetObjectCommand({ Bucket: 'data', Key: 'a.txt' })))).status).toBe(403);
    const policy = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { AWS: ['*'] }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::data/a.txt' },
      ],
    };
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'data', Policy: JSON.stringify(policy) }));
    const got = await alt.send(new GetObjectCommand({ Bucket: 'data', Key: 'a.txt' }));
    expect(await got.Body!.transformToString()).toBe('inside');
    expect((await s3Error(alt.send(new GetObjectCommand({ Bucket: 'data', Key: 'folder/f.txt' })))).status).toBe(403);

    const iam = iamClient(gw.url);
    await iam.send(new CreateUserCommand({ UserName: 'gw-user' }));
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'gw-user' }))).AccessKey!;
    const user = makeClient(gw.url, { credentials: { accessKey: k.AccessKeyId!, secretKey: k.SecretAccessKey! } });
    expect((await s3Error(user.send(new GetObjectCommand({ Bucket: 'data', Key: 'folder/f.txt' })))).status).toBe(403);
    // Nothing of it went to the backend: its buckets and objects are as they were.
    expect(await backendState()).toEqual(before);
    expect(await readdir(gw.stateDir)).toContain('.cairn.sys');

    await gw.close();
    gw = await startS3Gateway(backend.url, { stateDir, sseCOverLoopbackHttp: true });
    s3 = gw.client();
    expect((await iamClient(gw.url).send(new GetUserCommand({ UserName: 'gw-user' }))).User?.UserName).toBe('gw-user');
    const again = makeClient(gw.url, { credentials: ALT });
    expect(
      await (await again.send(new GetObjectCommand({ Bucket: 'data', Key: 'a.txt' }))).Body!.transformToString(),
    ).toBe('inside');
  });

  it('wrong backend credentials: the backend’s AccessDenied-like answers, never success', async () => {
    const wrong = await startS3Gateway(backend.url, { backendCredentials: { accessKey: 'nobody', secretKey: 'nope' } });
    try {
      const c = wrong.client();
      expect((await s3Error(c.send(new GetObjectCommand({ Bucket: 'data', Key: 'a.txt' })))).status).toBe(403);
      expect((await s3Error(c.send(new PutObjectCommand({ Bucket: 'data', Key: 'b.txt', Body: 'x' })))).status).toBe(
        403,
      );
      expect(await s3Error(be.send(new HeadObjectCommand({ Bucket: 'data', Key: 'b.txt' })))).toMatchObject({
        status: 404,
      });
    } finally {
      await wrong.close();
    }
  });
});

describe('a stopped backend', () => {
  it('is 503 ServiceUnavailable for reads, writes and listings', async () => {
    const doomed = await startBackend();
    await backendClient(doomed).send(new CreateBucketCommand({ Bucket: 'gone' }));
    const front = await startS3Gateway(doomed.url);
    try {
      const c = front.client();
      await c.send(new PutObjectCommand({ Bucket: 'gone', Key: 'k', Body: 'v' }));
      await doomed.close();
      const unavailable = { name: 'ServiceUnavailable', status: 503 };
      expect(await s3Error(c.send(new GetObjectCommand({ Bucket: 'gone', Key: 'k' })))).toEqual(unavailable);
      expect(await s3Error(c.send(new PutObjectCommand({ Bucket: 'gone', Key: 'k2', Body: 'v' })))).toEqual(
        unavailable,
      );
      expect(await s3Error(c.send(new ListObjectsV2Command({ Bucket: 'gone' })))).toEqual(unavailable);
      expect(await s3Error(c.send(new ListBucketsCommand({})))).toEqual(unavailable);
    } finally {
      await front.close();
    }
  });

  it('a bucket whose configuration the gateway keeps: that configuration is answered, the rest is 503', async () => {
    const doomed = await startBackend();
    await backendClient(doomed).send(new CreateBucketCommand({ Bucket: 'kept' }));
    await backendClient(doomed).send(new CreateBucketCommand({ Bucket: 'other' }));
    const dir = await mkdtemp(join(tmpdir(), 'cairn-s3gw-kept-'));
    const Policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { AWS: ['*'] }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::kept/*' },
      ],
    });
    let front = await startS3Gateway(doomed.url, { stateDir: dir });
    try {
      await front.client().send(new PutBucketPolicyCommand({ Bucket: 'kept', Policy }));
      await front
        .client()
        .send(new PutBucketTaggingCommand({ Bucket: 'kept', Tagging: { TagSet: [{ Key: 't', Value: 'v' }] } }));
      await doomed.close();
      // A new gateway process: the bucket's versioning, never read in it, cannot be read from the stopped backend.
      await front.close();
      front = await startS3Gateway(doomed.url, { stateDir: dir });
      const c = front.client();
      expect((await c.send(new GetBucketPolicyCommand({ Bucket: 'kept' }))).Policy).toBe(Policy);
      expect((await c.send(new GetBucketTaggingCommand({ Bucket: 'kept' }))).TagSet).toEqual([
        { Key: 't', Value: 'v' },
      ]);
      // The kept policy still decides who may ask; what then needs the backend is 503, versioning included.
      const alt = front.client({ credentials: ALT });
      expect(await s3Error(alt.send(new GetBucketPolicyCommand({ Bucket: 'kept' })))).toEqual({
        name: 'AccessDenied',
        status: 403,
      });
      const unavailable = { name: 'ServiceUnavailable', status: 503 };
      expect(await s3Error(alt.send(new GetObjectCommand({ Bucket: 'kept', Key: 'k' })))).toEqual(unavailable);
      expect(await s3Error(c.send(new GetBucketVersioningCommand({ Bucket: 'kept' })))).toEqual(unavailable);
      expect(await s3Error(c.send(new PutObjectCommand({ Bucket: 'kept', Key: 'k', Body: 'v' })))).toEqual(unavailable);
      // A bucket whose configuration is not kept here: nothing to answer from.
      expect(await s3Error(c.send(new GetBucketPolicyCommand({ Bucket: 'other' })))).toEqual(unavailable);
    } finally {
      await front.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
