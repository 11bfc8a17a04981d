// The condition keys of how a request was signed (s3:signatureversion, s3:authType, s3:signatureAge), in bucket
// and IAM user policies, over HTTP with the AWS SDK and raw signed requests (SigV4 headers, presigned URLs,
// SigV2, POST forms): each allowed and refused, nothing stored when refused. s3:TlsVersion: policy-tls-version.test.ts.
import { createHash, createHmac } from 'node:crypto';
import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import {
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ALT, s3Error, startWithBucket, type TestServer } from '../helpers/cairn.js';
import { amzDate, authorization, presignV4, queryString, signV4 } from '../helpers/sigv4.js';
import { iamClient } from '../iam/helpers.js';

const bucket = 'sig-keys';
const TEN_MINUTES = 600_000;
let server: TestServer;
/** ALT owns the bucket: its own rights allow it everything a bucket policy Deny does not take away. */
let alt: S3Client;
let user: { accessKey: string; secretKey: string };

const doc = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const denyWhen = (Condition: object) =>
  doc({
    Effect: 'Deny',
    Principal: '*',
    Action: ['s3:GetObject', 's3:PutObject'],
    Resource: `arn:aws:s3:::${bucket}/*`,
    Condition,
  });
const setPolicy = (Policy: string) => alt.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy }));

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);
type Creds = { accessKey: string; secretKey: string };

/** A presigned URL of `method` on `key`, signed at `time` and valid for an hour. */
function presigned(method: string, key: string, time: Date, credentials: Creds = ALT): string {
  const host = new URL(server.url).host;
  const q = presignV4({ method, path: `/${bucket}/${key}`, headers: { host }, time, credentials }, 3600);
  return `${server.url}/${bucket}/${key}?${queryString(q)}`;
}

/**
 * A request signed with SigV4 in its Authorization header, at `time` (x-amz-date); `body` is sent with the
 * x-amz-content-sha256 `payloadHash` (default its SHA-256).
 */
function headerSigned(
  method: string,
  key: string,
  time: Date,
  credentials: Creds = ALT,
  body = '',
  payloadHash = createHash('sha256').update(body).digest('hex'),
): Promise<Response> {
  const host = new URL(server.url).host;
  const all = { host, 'x-amz-content-sha256': payloadHash, 'x-amz-date': amzDate(time) };
  const s = signV4({ method, path: `/${bucket}/${key}`, headers: all, payloadHash, time, credentials });
  const { host: _, ...sent } = all;
  const init = { method, headers: { ...sent, authorization: authorization(s) } };
  return fetch(`${server.url}/${bucket}/${key}`, method === 'PUT' ? { ...init, body } : init);
}

/** A request signed with SigV2 (`Authorization: AWS key:signature`); PUT sends `body`. */
function sigV2(method: 'GET' | 'PUT', key: string, body?: string): Promise<Response> {
  const date = new Date().toUTCString();
  const stringToSign = `${method}\n\n\n${date}\n/${bucket}/${key}`;
  const signature = createHmac('sha1', ALT.secretKey).update(stringToSign).digest('base64');
  return fetch(`${server.url}/${bucket}/${key}`, {
    method,
    headers: { date, authorization: `AWS ${ALT.accessKey}:${signature}` },
    body: body === undefined ? undefined : Buffer.from(body),
  });
}

/** A browser form upload with a SigV2 policy (s3:authType POST, s3:signatureversion AWS). */
function postV2(key: string, body: string): Promise<Response> {
  const expiration = new Date(Date.now() + 60_000).toISOString();
  const policy = Buffer.from(JSON.stringify({ expiration, conditions: [{ bucket }, ['eq', '$key', key]] })).toString(
    'base64',
  );
  const form = new FormData();
  form.append('key', key);
  form.append('AWSAccessKeyId', ALT.accessKey);
  form.append('policy', policy);
  form.append('signature', createHmac('sha1', ALT.secretKey).update(policy).digest('base64'));
  form.append('file', new Blob([body]), 'f');
  return fetch(`${server.url}/${bucket}`, { method: 'POST', body: form });
}

async function stored(key: string): Promise<boolean> {
  try {
    await alt.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (e) {
    if ((e as Error).name === 'NotFound') return false;
    throw e;
  }
}

const statusOf = async (p: Promise<Response>): Promise<number> => (await p).status;

beforeAll(async () => {
  ({ server, alt } = await startWithBucket());
  await alt.send(new CreateBucketCommand({ Bucket: bucket }));
  await alt.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'content' }));
  // An IAM user allowed to read and write the bucket, except through a presigned URL signed too long ago.
  const iam = iamClient(server.url);
  await iam.send(new CreateUserCommand({ UserName: 'presigner' }));
  const policy = doc(
    { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: `arn:aws:s3:::${bucket}/*` },
    {
      Effect: 'Deny',
      Action: ['s3:GetObject', 's3:PutObject'],
      Resource: '*',
      Condition: {
        StringEquals: { 's3:authType': 'REST-QUERY-STRING' },
        NumericGreaterThan: { 's3:signatureAge': TEN_MINUTES },
      },
    },
  );
  await iam.send(new PutUserPolicyCommand({ UserName: 'presigner', PolicyName: 'p', PolicyDocument: policy }));
  const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'presigner' }))).AccessKey!;
  user = { accessKey: k.AccessKeyId!, secretKey: k.SecretAccessKey! };
});

afterAll(() => server?.close());
afterEach(() => alt.send(new DeleteBucketPolicyCommand({ Bucket: bucket })));

describe('s3:signatureAge', () => {
  it('a bucket policy refuses presigned URLs signed more than ten minutes ago, and accepts fresher ones', async () => {
    await setPolicy(denyWhen({ NumericGreaterThan: { 's3:signatureAge': TEN_MINUTES } }));
    expect(await statusOf(fetch(presigned('GET', 'k', minutesAgo(11))))).toBe(403);
    expect(await statusOf(fetch(presigned('GET', 'k', minutesAgo(9))))).toBe(200);
    expect(await statusOf(fetch(presigned('GET', 'k', new Date())))).toBe(200);
    const old = await fetch(presigned('PUT', 'old-put', minutesAgo(11)), { method: 'PUT', body: 'x' });
    expect([old.status, await old.text()]).toEqual([403, expect.stringContaining('<Code>AccessDenied</Code>')]);
    expect(await stored('old-put')).toBe(false);
    const fresh = await fetch(presigned('PUT', 'fresh-put', minutesAgo(1)), { method: 'PUT', body: 'x' });
    expect(fresh.status).toBe(200);
    expect(await stored('fresh-put')).toBe(true);
  });

  it('counts from the x-amz-date of header-signed requests too (inside the 15 minutes of allowed skew)', async () => {
    await setPolicy(denyWhen({ NumericGreaterThan: { 's3:signatureAge': TEN_MINUTES } }));
    expect(await statusOf(headerSigned('GET', 'k', minutesAgo(11)))).toBe(403);
    expect(await statusOf(headerSigned('GET', 'k', minutesAgo(2)))).toBe(200);
  });

  it("an IAM user's policy refuses its own presigned URLs signed too long ago", async () => {
    expect(await statusOf(fetch(presigned('GET', 'k', minutesAgo(11), user)))).toBe(403);
    expect(await statusOf(fetch(presigned('GET', 'k', minutesAgo(5), user)))).toBe(200);
    // Header-signed requests of the same age are not presigned URLs: the Deny names only those.
    expect(await statusOf(headerSigned('GET', 'k', minutesAgo(11), user))).toBe(200);
    const old = await fetch(presigned('PUT', 'user-old', minutesAgo(12), user), { method: 'PUT', body: 'x' });
    expect(old.status).toBe(403);
    expect(await stored('user-old')).toBe(false);
    const fresh = await fetch(presigned('PUT', 'user-fresh', minutesAgo(3), user), { method: 'PUT', body: 'x' });
    expect(fresh.status).toBe(200);
    expect(await stored('user-fresh')).toBe(true);
  });
});

describe('s3:signatureversion', () => {
  it('a bucket policy denying "AWS" refuses SigV2 and lets SigV4 through', async () => {
    expect(await statusOf(sigV2('GET', 'k'))).toBe(200);
    await setPolicy(denyWhen({ StringEquals: { 's3:signatureversion': 'AWS' } }));
    expect(await statusOf(sigV2('GET', 'k'))).toBe(403);
    expect(await statusOf(sigV2('PUT', 'v2-put', 'x'))).toBe(403);
    expect(await stored('v2-put')).toBe(false);
    expect(await statusOf(postV2('v2-post', 'x'))).toBe(403);
    expect(await stored('v2-post')).toBe(false);
    await alt.send(new PutObjectCommand({ Bucket: bucket, Key: 'v4-put', Body: 'x' }));
    expect(await stored('v4-put')).toBe(true);
    expect(await statusOf(fetch(presigned('GET', 'k', new Date())))).toBe(200);
  });

  it('requiring "AWS4-HMAC-SHA256" (StringNotEquals) refuses SigV2 but not anonymous requests', async () => {
    await setPolicy(denyWhen({ StringNotEquals: { 's3:signatureversion': 'AWS4-HMAC-SHA256' } }));
    expect(await statusOf(sigV2('GET', 'k'))).toBe(403);
    expect(await statusOf(headerSigned('GET', 'k', new Date()))).toBe(200);
    // An anonymous request has no signature version: the key is absent and StringNotEquals does not match
    // (as in AWS); it is refused because nothing allows it, not by this Deny.
    expect(await statusOf(fetch(`${server.url}/${bucket}/k`))).toBe(403);
  });
});

describe('s3:authType', () => {
  it('requiring REST-HEADER refuses presigned URLs and POST forms, not header-signed requests', async () => {
    await setPolicy(denyWhen({ StringNotEquals: { 's3:authType': 'REST-HEADER' } }));
    expect(await statusOf(fetch(presigned('GET', 'k', new Date())))).toBe(403);
    expect((await fetch(presigned('PUT', 'q-put', new Date()), { method: 'PUT', body: 'x' })).status).toBe(403);
    expect(await stored('q-put')).toBe(false);
    expect(await statusOf(postV2('form-put', 'x'))).toBe(403);
    expect(await stored('form-put')).toBe(false);
    const got = await alt.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }));
    expect(await got.Body!.transformToString()).toBe('content');
    expect(await statusOf(sigV2('GET', 'k'))).toBe(200);
    expect(await statusOf(sigV2('PUT', 'h-put', 'x'))).toBe(200);
    expect(await stored('h-put')).toBe(true);
  });

  it('a Deny on POST refuses form uploads only', async () => {
    await setPolicy(denyWhen({ StringEquals: { 's3:authType': 'POST' } }));
    expect(await statusOf(postV2('form-denied', 'x'))).toBe(403);
    expect(await stored('form-denied')).toBe(false);
    expect(await statusOf(fetch(presigned('GET', 'k', new Date())))).toBe(200);
    await setPolicy(denyWhen({ StringEquals: { 's3:authType': 'REST-QUERY-STRING' } }));
    expect(await statusOf(postV2('form-allowed', 'x'))).toBe(204);
    expect(await stored('form-allowed')).toBe(true);
  });

  it('a signature age the Numeric operators cannot read is MalformedPolicy', async () => {
    const err = await s3Error(setPolicy(denyWhen({ NumericGreaterThan: { 's3:signatureAge': 'ten minutes' } })));
    expect(err.name).toBe('MalformedPolicy');
  });
});

describe('s3:x-amz-content-sha256', () => {
  it('denying UNSIGNED-PAYLOAD refuses presigned and unsigned header-signed uploads, not signed ones', async () => {
    await setPolicy(denyWhen({ StringEquals: { 's3:x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }));
    expect((await fetch(presigned('PUT', 'presigned-put', new Date()), { method: 'PUT', body: 'x' })).status).toBe(403);
    expect(await stored('presigned-put')).toBe(false);
    expect(await statusOf(headerSigned('PUT', 'unsigned-put', new Date(), ALT, 'x', 'UNSIGNED-PAYLOAD'))).toBe(403);
    expect(await stored('unsigned-put')).toBe(false);
    expect(await statusOf(headerSigned('PUT', 'signed-put', new Date(), ALT, 'x'))).toBe(200);
    expect(await stored('signed-put')).toBe(true);
  });
});
