// s3:TlsVersion (numeric, as AWS writes it: 1.2, 1.3) in bucket and IAM user policies, over HTTPS with the AWS
// SDK on connections held to TLS 1.2 or let up to 1.3 (Cairn offers no older version): each allowed and refused,
// nothing stored when refused. Over plain HTTP the key is absent.
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
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
import { ALT, makeClient, ROOT, s3Error, startWithBucket, type TestSetup } from '../helpers/cairn.js';
import { install, issue, makeCa, type TestCa } from '../helpers/tls.js';

const bucket = 'tls-keys';
let base: string;
let ca: TestCa;
let setup: TestSetup;
/** The bucket's owner (ALT) over TLS 1.2 and over TLS 1.3. */
let tls12: S3Client;
let tls13: S3Client;
/** An IAM user whose own policy requires TLS 1.3, over each version. */
let user12: S3Client;
let user13: S3Client;

const doc = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const client = (credentials: { accessKey: string; secretKey: string }, maxVersion: 'TLSv1.2' | 'TLSv1.3') =>
  makeClient(setup.server.url, {
    credentials,
    extra: { requestHandler: { httpsAgent: new Agent({ ca: ca.pem, maxVersion }) } },
  });

async function stored(key: string): Promise<boolean> {
  try {
    await tls13.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (e) {
    if ((e as Error).name === 'NotFound') return false;
    throw e;
  }
}

const read = async (c: S3Client) => (await c.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }))).Body!;
const write = (c: S3Client, Key: string) => c.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'x' }));

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'cairn-tls-keys-'));
  ca = await makeCa(join(base, 'ca'));
  await install(join(base, 'certs'), await issue(ca, ['127.0.0.1', 'localhost']));
  const trusting = { requestHandler: { httpsAgent: new Agent({ ca: ca.pem }) } };
  setup = await startWithBucket(undefined, { certsDir: join(base, 'certs'), client: { extra: trusting } });
  tls12 = client(ALT, 'TLSv1.2');
  tls13 = client(ALT, 'TLSv1.3');
  await tls13.send(new CreateBucketCommand({ Bucket: bucket }));
  await tls13.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'v' }));
  const iam = new IAMClient({
    endpoint: setup.server.url,
    region: 'us-east-1',
    credentials: { accessKeyId: ROOT.accessKey, secretAccessKey: ROOT.secretKey },
    maxAttempts: 1,
    ...trusting,
  });
  await iam.send(new CreateUserCommand({ UserName: 'tls-user' }));
  const policy = doc(
    { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: `arn:aws:s3:::${bucket}/*` },
    { Effect: 'Deny', Action: 's3:*', Resource: '*', Condition: { NumericLessThan: { 's3:TlsVersion': '1.3' } } },
  );
  await iam.send(new PutUserPolicyCommand({ UserName: 'tls-user', PolicyName: 'p', PolicyDocument: policy }));
  const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'tls-user' }))).AccessKey!;
  const creds = { accessKey: k.AccessKeyId!, secretKey: k.SecretAccessKey! };
  user12 = client(creds, 'TLSv1.2');
  user13 = client(creds, 'TLSv1.3');
});

afterAll(async () => {
  await setup?.server.close();
  await rm(base, { recursive: true, force: true });
});

afterEach(() => tls13.send(new DeleteBucketPolicyCommand({ Bucket: bucket })));

/** AWS's pattern: deny every request on a connection older than `min`. */
const requireTls = (min: string) =>
  tls13.send(
    new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: doc({
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
        Condition: { NumericLessThan: { 's3:TlsVersion': min } },
      }),
    }),
  );

describe('s3:TlsVersion', () => {
  it('a bucket policy requiring TLS 1.2 lets TLS 1.2 and 1.3 connections through', async () => {
    await requireTls('1.2');
    expect(await (await read(tls12)).transformToString()).toBe('v');
    expect(await (await read(tls13)).transformToString()).toBe('v');
    await write(tls12, 'by-tls12');
    expect(await stored('by-tls12')).toBe(true);
  });

  it('a bucket policy requiring TLS 1.3 refuses TLS 1.2 connections, nothing stored', async () => {
    // The bucket policy Deny names s3:*, PutBucketPolicy included: its owner keeps that right (OWNER_ALWAYS).
    await requireTls('1.3');
    expect((await s3Error(read(tls12))).name).toBe('AccessDenied');
    expect((await s3Error(write(tls12, 'refused-12'))).name).toBe('AccessDenied');
    expect(await stored('refused-12')).toBe(false);
    expect(await (await read(tls13)).transformToString()).toBe('v');
    await write(tls13, 'by-tls13');
    expect(await stored('by-tls13')).toBe(true);
  });

  it("an IAM user's policy requiring TLS 1.3 refuses its TLS 1.2 requests", async () => {
    expect((await s3Error(read(user12))).name).toBe('AccessDenied');
    expect((await s3Error(write(user12, 'user-12'))).name).toBe('AccessDenied');
    expect(await stored('user-12')).toBe(false);
    expect(await (await read(user13)).transformToString()).toBe('v');
    await write(user13, 'user-13');
    expect(await stored('user-13')).toBe(true);
  });
});
