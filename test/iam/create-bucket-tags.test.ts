// CreateBucket with tags (CreateBucketConfiguration <Tags>, as S3 takes them for general purpose buckets) through
// @aws-sdk/client-s3: the bucket is made with those tags (GetBucketTagging); tags need s3:TagResource besides
// s3:CreateBucket, and both are judged with aws:RequestTag/<k> and aws:TagKeys. Bad tags are S3's InvalidTag and
// a refused create makes no bucket.
import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import {
  CreateBucketCommand,
  type CreateBucketCommandInput,
  GetBucketTaggingCommand,
  HeadBucketCommand,
  ListBucketsCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/cairn.js';
import { signedFetch } from '../helpers/signed-request.js';
import { errorCode, iamClient, s3As, type Creds } from './helpers.js';

let server: TestServer;
const doc = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const tagsOf = (o: Record<string, string>) => Object.entries(o).map(([Key, Value]) => ({ Key, Value }));

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => server.close());

async function principal(name: string, policy: string): Promise<Creds> {
  const iam = iamClient(server.url);
  await iam.send(new CreateUserCommand({ UserName: name }));
  await iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'p', PolicyDocument: policy }));
  const k = await iam.send(new CreateAccessKeyCommand({ UserName: name }));
  return { accessKeyId: k.AccessKey!.AccessKeyId!, secretAccessKey: k.AccessKey!.SecretAccessKey! };
}

const create = (creds: Creds | undefined, Bucket: string, tags?: Record<string, string>) => {
  const input: CreateBucketCommandInput = { Bucket };
  if (tags) input.CreateBucketConfiguration = { Tags: tagsOf(tags) };
  return (creds ? s3As(server.url, creds) : server.client()).send(new CreateBucketCommand(input));
};
const tagsOfBucket = async (Bucket: string) =>
  Object.fromEntries(
    ((await server.client().send(new GetBucketTaggingCommand({ Bucket }))).TagSet ?? []).map((t) => [t.Key, t.Value]),
  );
const bucketExists = (Bucket: string) =>
  server
    .client()
    .send(new HeadBucketCommand({ Bucket }))
    .then(
      () => true,
      (e: Error) => (e.name === 'NotFound' || e.name === 'NoSuchBucket' ? false : Promise.reject(e)),
    );

describe('CreateBucket with tags', () => {
  it('makes the bucket with its tags', async () => {
    await create(undefined, 'tagged-at-birth', { team: 'blue', 'cost center': 'A-1' });
    expect(await tagsOfBucket('tagged-at-birth')).toEqual({ team: 'blue', 'cost center': 'A-1' });
    // With a location constraint as well, and an empty tag list meaning none.
    const raw = (bucket: string, body: string) => signedFetch(server.url, { method: 'PUT', path: `/${bucket}`, body });
    const both = await raw(
      'tagged-located',
      '<CreateBucketConfiguration><LocationConstraint>us-east-1</LocationConstraint><Tags><Tag><Key>k</Key><Value>v</Value></Tag></Tags></CreateBucketConfiguration>',
    );
    expect(both.status).toBe(200);
    expect(await tagsOfBucket('tagged-located')).toEqual({ k: 'v' });
    expect((await raw('untagged', '<CreateBucketConfiguration><Tags/></CreateBucketConfiguration>')).status).toBe(200);
    expect(await errorCode(server.client().send(new GetBucketTaggingCommand({ Bucket: 'untagged' })))).toBe(
      'NoSuchTagSet',
    );
  });

  it('needs s3:TagResource too, and both are judged with aws:RequestTag and aws:TagKeys', async () => {
    const creator = await principal('creator', doc({ Effect: 'Allow', Action: 's3:CreateBucket', Resource: '*' }));
    await create(creator, 'plain-by-user');
    expect(await errorCode(create(creator, 'tagged-by-user', { team: 'blue' }))).toBe('AccessDenied');
    expect(await bucketExists('tagged-by-user')).toBe(false);

    const teams = await principal(
      'team-creator',
      doc({
        Effect: 'Allow',
        Action: ['s3:CreateBucket', 's3:TagResource'],
        Resource: '*',
        Condition: {
          StringEquals: { 'aws:RequestTag/team': 'blue' },
          'ForAllValues:StringEquals': { 'aws:TagKeys': ['team', 'project'] },
        },
      }),
    );
    await create(teams, 'blue-bucket', { team: 'blue', project: 'p' });
    expect(await tagsOfBucket('blue-bucket')).toEqual({ team: 'blue', project: 'p' });
    for (const [name, tags] of [
      ['red-bucket', { team: 'red' }],
      ['extra-bucket', { team: 'blue', owner: 'me' }],
      ['bare-bucket', undefined],
    ] as const) {
      expect(await errorCode(create(teams, name, tags))).toBe('AccessDenied');
      expect(await bucketExists(name)).toBe(false);
    }
  });

  it('bad tags are InvalidTag, MalformedXML for a broken list, and no bucket is made', async () => {
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));
    for (const tags of [{ 'aws:x': 'v' }, { ['k'.repeat(129)]: 'v' }, { k: 'v'.repeat(257) }, many]) {
      expect(await errorCode(create(undefined, 'bad-tags', tags))).toBe('InvalidTag');
      expect(await bucketExists('bad-tags')).toBe(false);
    }
    const dup = await signedFetch(server.url, {
      method: 'PUT',
      path: '/dup-tags',
      body: '<CreateBucketConfiguration><Tags><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>a</Key><Value>2</Value></Tag></Tags></CreateBucketConfiguration>',
    });
    expect(dup.status).toBe(400);
    expect(dup.text).toContain('<Code>InvalidTag</Code>');
    const noKey = await signedFetch(server.url, {
      method: 'PUT',
      path: '/no-key',
      body: '<CreateBucketConfiguration><Tags><Tag><Value>1</Value></Tag></Tags></CreateBucketConfiguration>',
    });
    expect(noKey.text).toContain('<Code>MalformedXML</Code>');
    const names = (await server.client().send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name);
    for (const b of ['bad-tags', 'dup-tags', 'no-key']) expect(names).not.toContain(b);
  });
});
