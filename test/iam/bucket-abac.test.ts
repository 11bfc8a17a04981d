// Attribute-based access control on buckets (PutBucketAbac / GetBucketAbac through @aws-sdk/client-s3): while a
// bucket has ABAC on, its tags are aws:ResourceTag/<k> for requests on it and its objects, in identity and
// bucket policies; while off, the keys are absent (as in S3), and PutBucketTagging / DeleteBucketTagging are
// refused while on (S3 then takes only TagResource). Roles' tags are aws:ResourceTag in their trust policies.
import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  PutUserPolicyCommand,
  TagUserCommand,
} from '@aws-sdk/client-iam';
import {
  CreateBucketCommand,
  DeleteBucketTaggingCommand,
  GetBucketAbacCommand,
  GetBucketTaggingCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketAbacCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/cairn.js';
import { errorCode, iamClient, rootCreds, s3As, stsClient, type Creds } from './helpers.js';

let server: TestServer;
let root: S3Client;
let user: S3Client;
let userCreds: Creds;
const iam = () => iamClient(server.url);
const doc = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });

const abac = (Bucket: string, Status: 'Enabled' | 'Disabled') =>
  root.send(new PutBucketAbacCommand({ Bucket, AbacStatus: { Status } }));
const status = async (Bucket: string) => (await root.send(new GetBucketAbacCommand({ Bucket }))).AbacStatus?.Status;
const tagSet = async (Bucket: string) =>
  (await root.send(new GetBucketTaggingCommand({ Bucket }))).TagSet?.map((t) => `${t.Key}=${t.Value}`);

async function reads(Bucket: string): Promise<boolean> {
  try {
    await user.send(new GetObjectCommand({ Bucket, Key: 'x' }));
    await user.send(new ListObjectsV2Command({ Bucket }));
    return true;
  } catch (e) {
    if ((e as Error).name === 'AccessDenied') return false;
    throw e;
  }
}

beforeAll(async () => {
  server = await startTestServer();
  root = s3As(server.url, rootCreds);
  for (const [Bucket, project] of [
    ['blue-data', 'blue'],
    ['red-data', 'red'],
  ]) {
    await root.send(new CreateBucketCommand({ Bucket }));
    await root.send(new PutObjectCommand({ Bucket, Key: 'x', Body: 'x' }));
    await root.send(new PutBucketTaggingCommand({ Bucket, Tagging: { TagSet: [{ Key: 'project', Value: project }] } }));
  }
  // A user of project blue may read buckets whose project tag is its own.
  await iam().send(new CreateUserCommand({ UserName: 'blue-user' }));
  await iam().send(new TagUserCommand({ UserName: 'blue-user', Tags: [{ Key: 'project', Value: 'blue' }] }));
  const byTag = doc({
    Effect: 'Allow',
    Action: ['s3:GetObject', 's3:ListBucket'],
    Resource: '*',
    Condition: { StringEquals: { 'aws:ResourceTag/Project': '${aws:PrincipalTag/project}' } },
  });
  await iam().send(new PutUserPolicyCommand({ UserName: 'blue-user', PolicyName: 'abac', PolicyDocument: byTag }));
  const k = (await iam().send(new CreateAccessKeyCommand({ UserName: 'blue-user' }))).AccessKey!;
  userCreds = { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
  user = s3As(server.url, userCreds);
});

afterAll(async () => {
  await server?.close();
});

describe('bucket ABAC', () => {
  it('off by default: aws:ResourceTag is absent; on: the bucket tags are its resource tags', async () => {
    expect(await status('blue-data')).toBe('Disabled');
    expect(await reads('blue-data')).toBe(false);
    await abac('blue-data', 'Enabled');
    expect(await status('blue-data')).toBe('Enabled');
    expect(await reads('blue-data')).toBe(true);
    // Another project's bucket: ABAC off, then on, and still not the user's project.
    expect(await reads('red-data')).toBe(false);
    await abac('red-data', 'Enabled');
    expect(await reads('red-data')).toBe(false);
    await abac('red-data', 'Disabled');
    await abac('blue-data', 'Disabled');
    expect(await status('blue-data')).toBe('Disabled');
    expect(await reads('blue-data')).toBe(false);
  });

  it('bucket policies read aws:ResourceTag too (a Deny on a tag)', async () => {
    await abac('blue-data', 'Enabled');
    const deny = doc({
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::blue-data/*',
      Condition: { StringEquals: { 'aws:ResourceTag/project': 'blue' } },
    });
    await root.send(new PutBucketPolicyCommand({ Bucket: 'blue-data', Policy: deny }));
    expect(await errorCode(user.send(new GetObjectCommand({ Bucket: 'blue-data', Key: 'x' })))).toBe('AccessDenied');
    await user.send(new ListObjectsV2Command({ Bucket: 'blue-data' }));
    const { DeleteBucketPolicyCommand } = await import('@aws-sdk/client-s3');
    await root.send(new DeleteBucketPolicyCommand({ Bucket: 'blue-data' }));
    await abac('blue-data', 'Disabled');
  });

  it('while on, PutBucketTagging and DeleteBucketTagging are refused and change nothing', async () => {
    await abac('blue-data', 'Enabled');
    const retag = root.send(
      new PutBucketTaggingCommand({ Bucket: 'blue-data', Tagging: { TagSet: [{ Key: 'project', Value: 'red' }] } }),
    );
    expect(await errorCode(retag)).toBe('InvalidRequest');
    expect(await errorCode(root.send(new DeleteBucketTaggingCommand({ Bucket: 'blue-data' })))).toBe('InvalidRequest');
    expect(await tagSet('blue-data')).toEqual(['project=blue']);
    await abac('blue-data', 'Disabled');
    await root.send(
      new PutBucketTaggingCommand({ Bucket: 'blue-data', Tagging: { TagSet: [{ Key: 'project', Value: 'blue' }] } }),
    );
  });

  it('bad input and callers without s3:PutBucketAbac change nothing', async () => {
    await abac('red-data', 'Enabled');
    const bad = root.send(
      new PutBucketAbacCommand({ Bucket: 'red-data', AbacStatus: { Status: 'Maybe' as 'Enabled' } }),
    );
    expect(await errorCode(bad)).toBe('MalformedXML');
    expect(await status('red-data')).toBe('Enabled');
    const byUser = user.send(new PutBucketAbacCommand({ Bucket: 'red-data', AbacStatus: { Status: 'Disabled' } }));
    expect(await errorCode(byUser)).toBe('AccessDenied');
    expect(await status('red-data')).toBe('Enabled');
    expect(await errorCode(root.send(new GetBucketAbacCommand({ Bucket: 'no-such-bucket' })))).toBe('NoSuchBucket');
    await abac('red-data', 'Disabled');
  });

  it("a role's tags are aws:ResourceTag in its trust policy", async () => {
    const trust = doc({
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam:::user/blue-user' },
      Action: 'sts:AssumeRole',
      Condition: { StringEquals: { 'aws:ResourceTag/project': '${aws:PrincipalTag/project}' } },
    });
    for (const [RoleName, project] of [
      ['blue-role', 'blue'],
      ['red-role', 'red'],
    ]) {
      await iam().send(
        new CreateRoleCommand({
          RoleName,
          AssumeRolePolicyDocument: trust,
          Tags: [{ Key: 'project', Value: project }],
        }),
      );
    }
    const assume = (RoleName: string) =>
      stsClient(server.url, userCreds).send(
        new AssumeRoleCommand({ RoleArn: `arn:aws:iam:::role/${RoleName}`, RoleSessionName: 'abac' }),
      );
    await assume('blue-role');
    expect(await errorCode(assume('red-role'))).toBe('AccessDenied');
  });
});
