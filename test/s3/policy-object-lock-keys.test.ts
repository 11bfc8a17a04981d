// The object lock condition keys (s3:object-lock-mode, s3:object-lock-retain-until-date,
// s3:object-lock-remaining-retention-days, s3:object-lock-legal-hold) of PutObject (its x-amz-object-lock-*
// headers), PutObjectRetention and PutObjectLegalHold (their bodies), in bucket policies (Deny) and an IAM
// user's policy (Allow only for some values), on a lock-enabled bucket: each allowed and refused, and nothing
// changed when refused (read back).
import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import {
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  GetObjectLegalHoldCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectRetentionCommand,
  type ObjectLockRetentionMode,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeClient, s3Error, startWithBucket, type TestServer } from '../helpers/cairn.js';
import { iamClient } from '../iam/helpers.js';

const bucket = 'lock-keys';
const DAY = 86_400_000;
const later = (days: number) => new Date(Math.floor((Date.now() + days * DAY) / 1000) * 1000);
const DENIED = { name: 'AccessDenied', status: 403 };
let server: TestServer;
/** ALT owns the bucket; the user has only what its policy allows. */
let alt: S3Client;
let user: S3Client;

const doc = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const denyWhen = (Action: string[], Condition: object) =>
  alt.send(
    new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: doc({ Effect: 'Deny', Principal: '*', Action, Resource: `arn:aws:s3:::${bucket}/*`, Condition }),
    }),
  );

const putLocked = (c: S3Client, Key: string, Mode: ObjectLockRetentionMode, until: Date) =>
  c.send(
    new PutObjectCommand({ Bucket: bucket, Key, Body: 'x', ObjectLockMode: Mode, ObjectLockRetainUntilDate: until }),
  );
const putRetention = (c: S3Client, Key: string, Mode: ObjectLockRetentionMode, until: Date) =>
  c.send(new PutObjectRetentionCommand({ Bucket: bucket, Key, Retention: { Mode, RetainUntilDate: until } }));
const putHold = (c: S3Client, Key: string, Status: 'ON' | 'OFF') =>
  c.send(new PutObjectLegalHoldCommand({ Bucket: bucket, Key, LegalHold: { Status } }));

async function stored(Key: string): Promise<boolean> {
  try {
    await alt.send(new HeadObjectCommand({ Bucket: bucket, Key }));
    return true;
  } catch (e) {
    if ((e as Error).name === 'NotFound') return false;
    throw e;
  }
}
const retentionOf = async (Key: string) =>
  (await alt.send(new GetObjectRetentionCommand({ Bucket: bucket, Key }))).Retention;
/** The object's legal hold, or the error name when it has none (never set). */
const holdOf = async (Key: string) => {
  try {
    return (await alt.send(new GetObjectLegalHoldCommand({ Bucket: bucket, Key }))).LegalHold?.Status;
  } catch (e) {
    return (e as Error).name;
  }
};

let n = 0;
/** A new object under GOVERNANCE retention for `days`. */
async function governed(days: number): Promise<{ key: string; until: Date }> {
  const key = `governed-${++n}`;
  const until = later(days);
  await putLocked(alt, key, 'GOVERNANCE', until);
  return { key, until };
}

beforeAll(async () => {
  ({ server, alt } = await startWithBucket());
  await alt.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
  // An IAM user that may write objects, but set retention only in GOVERNANCE mode for at most 30 days, and
  // only take legal holds off.
  const iam = iamClient(server.url);
  await iam.send(new CreateUserCommand({ UserName: 'locker' }));
  const policy = doc(
    {
      Effect: 'Allow',
      Action: ['s3:PutObject', 's3:GetObject', 's3:GetObjectRetention'],
      Resource: `arn:aws:s3:::${bucket}/*`,
    },
    {
      Effect: 'Allow',
      Action: 's3:PutObjectRetention',
      Resource: `arn:aws:s3:::${bucket}/*`,
      Condition: {
        StringEquals: { 's3:object-lock-mode': 'GOVERNANCE' },
        NumericLessThanEquals: { 's3:object-lock-remaining-retention-days': '30' },
      },
    },
    {
      Effect: 'Allow',
      Action: 's3:PutObjectLegalHold',
      Resource: `arn:aws:s3:::${bucket}/*`,
      Condition: { StringEquals: { 's3:object-lock-legal-hold': 'OFF' } },
    },
  );
  await iam.send(new PutUserPolicyCommand({ UserName: 'locker', PolicyName: 'p', PolicyDocument: policy }));
  const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'locker' }))).AccessKey!;
  user = makeClient(server.url, { credentials: { accessKey: k.AccessKeyId!, secretKey: k.SecretAccessKey! } });
});

afterAll(() => server?.close());
afterEach(() => alt.send(new DeleteBucketPolicyCommand({ Bucket: bucket })));

describe('s3:object-lock-remaining-retention-days', () => {
  it('a bucket policy capping retention at 30 days refuses longer PUT and PutObjectRetention asks', async () => {
    await denyWhen(['s3:PutObject', 's3:PutObjectRetention'], {
      NumericGreaterThan: { 's3:object-lock-remaining-retention-days': '30' },
    });
    expect(await s3Error(putLocked(alt, 'forty', 'GOVERNANCE', later(40)))).toMatchObject(DENIED);
    expect(await stored('forty')).toBe(false);
    await putLocked(alt, 'ten', 'GOVERNANCE', later(10));
    expect(await stored('ten')).toBe(true);
    const { key, until } = await governed(5);
    expect(await s3Error(putRetention(alt, key, 'GOVERNANCE', later(31)))).toMatchObject(DENIED);
    expect((await retentionOf(key))?.RetainUntilDate).toEqual(until);
    const allowed = later(29);
    await putRetention(alt, key, 'GOVERNANCE', allowed);
    expect((await retentionOf(key))?.RetainUntilDate).toEqual(allowed);
  });
});

describe('s3:object-lock-mode', () => {
  it('a bucket policy denying COMPLIANCE refuses it on PUT and PutObjectRetention, not GOVERNANCE', async () => {
    await denyWhen(['s3:PutObject', 's3:PutObjectRetention'], {
      StringEquals: { 's3:object-lock-mode': 'COMPLIANCE' },
    });
    expect(await s3Error(putLocked(alt, 'compliant', 'COMPLIANCE', later(1)))).toMatchObject(DENIED);
    expect(await stored('compliant')).toBe(false);
    // An object without retention: COMPLIANCE refused (none set), GOVERNANCE set.
    await alt.send(new PutObjectCommand({ Bucket: bucket, Key: 'unretained', Body: 'x' }));
    expect(await s3Error(putRetention(alt, 'unretained', 'COMPLIANCE', later(2)))).toMatchObject(DENIED);
    const none = alt.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: 'unretained' }));
    expect((await s3Error(none)).name).toBe('NoSuchObjectLockConfiguration');
    const until = later(2);
    await putRetention(alt, 'unretained', 'GOVERNANCE', until);
    expect(await retentionOf('unretained')).toEqual({ Mode: 'GOVERNANCE', RetainUntilDate: until });
  });
});

describe('s3:object-lock-retain-until-date', () => {
  it('DateGreaterThan a limit refuses later dates on PUT and PutObjectRetention', async () => {
    const limit = later(100).toISOString();
    await denyWhen(['s3:PutObject', 's3:PutObjectRetention'], {
      DateGreaterThan: { 's3:object-lock-retain-until-date': limit },
    });
    expect(await s3Error(putLocked(alt, 'far', 'GOVERNANCE', later(101)))).toMatchObject(DENIED);
    expect(await stored('far')).toBe(false);
    await putLocked(alt, 'near', 'GOVERNANCE', later(99));
    expect(await stored('near')).toBe(true);
    const { key, until } = await governed(1);
    expect(await s3Error(putRetention(alt, key, 'GOVERNANCE', later(101)))).toMatchObject(DENIED);
    expect((await retentionOf(key))?.RetainUntilDate).toEqual(until);
    const within = later(50);
    await putRetention(alt, key, 'GOVERNANCE', within);
    expect((await retentionOf(key))?.RetainUntilDate).toEqual(within);
  });
});

describe('s3:object-lock-legal-hold', () => {
  it('a bucket policy denying ON refuses it on PUT and PutObjectLegalHold, not OFF', async () => {
    await denyWhen(['s3:PutObject', 's3:PutObjectLegalHold'], {
      StringEquals: { 's3:object-lock-legal-hold': 'ON' },
    });
    const held = alt.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'held', Body: 'x', ObjectLockLegalHoldStatus: 'ON' }),
    );
    expect(await s3Error(held)).toMatchObject(DENIED);
    expect(await stored('held')).toBe(false);
    await alt.send(new PutObjectCommand({ Bucket: bucket, Key: 'free', Body: 'x' }));
    expect(await s3Error(putHold(alt, 'free', 'ON'))).toMatchObject(DENIED);
    expect(await holdOf('free')).toBe('NoSuchObjectLockConfiguration');
    await putHold(alt, 'free', 'OFF');
    expect(await holdOf('free')).toBe('OFF');
  });
});

describe("an IAM user's policy allowing only some lock values", () => {
  it('PutObjectRetention: GOVERNANCE for at most 30 days is allowed, COMPLIANCE or longer is not', async () => {
    await user.send(new PutObjectCommand({ Bucket: bucket, Key: 'by-user', Body: 'x' }));
    const until = later(20);
    await putRetention(user, 'by-user', 'GOVERNANCE', until);
    expect(await retentionOf('by-user')).toEqual({ Mode: 'GOVERNANCE', RetainUntilDate: until });
    expect(await s3Error(putRetention(user, 'by-user', 'GOVERNANCE', later(40)))).toMatchObject(DENIED);
    expect(await s3Error(putRetention(user, 'by-user', 'COMPLIANCE', later(25)))).toMatchObject(DENIED);
    expect(await retentionOf('by-user')).toEqual({ Mode: 'GOVERNANCE', RetainUntilDate: until });
    // On PUT the same keys come from the headers.
    await putLocked(user, 'user-put', 'GOVERNANCE', later(30));
    expect(await s3Error(putLocked(user, 'user-put-long', 'GOVERNANCE', later(31)))).toMatchObject(DENIED);
    expect(await stored('user-put-long')).toBe(false);
  });

  it('PutObjectLegalHold: OFF is allowed, ON is not', async () => {
    await user.send(new PutObjectCommand({ Bucket: bucket, Key: 'user-hold', Body: 'x' }));
    await putHold(user, 'user-hold', 'OFF');
    expect(await s3Error(putHold(user, 'user-hold', 'ON'))).toMatchObject(DENIED);
    expect(await holdOf('user-hold')).toBe('OFF');
  });
});
