// The AWS IAM query API through @aws-sdk/client-iam against a real server, and what the identities it makes
// may then do through S3: identity policies (inline, managed, MinIO's canned ones, groups'), policy
// variables, explicit Deny winning, malformed documents refused with where they fail and nothing stored.
import {
  AddUserToGroupCommand,
  AttachGroupPolicyCommand,
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreateGroupCommand,
  CreatePolicyCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  DeletePolicyCommand,
  DeleteUserCommand,
  DeleteUserPolicyCommand,
  DetachUserPolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  ListAttachedUserPoliciesCommand,
  ListUsersCommand,
  PutUserPolicyCommand,
  RemoveUserFromGroupCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALT, startWithBucket, type TestSetup } from '../helpers/cairn.js';
import { signedFetch } from '../helpers/signed-request.js';
import { errorCode, errorMessage, iamClient, s3As, type Creds } from './helpers.js';

const BUCKET = 'iam-data';
let t: TestSetup;
let iam: ReturnType<typeof iamClient>;

beforeAll(async () => {
  t = await startWithBucket(BUCKET);
  iam = iamClient(t.server.url);
  await t.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'shared/readme.txt', Body: 'hello' }));
});
afterAll(async () => t.server.close());

async function newUser(name: string): Promise<Creds> {
  await iam.send(new CreateUserCommand({ UserName: name }));
  const k = await iam.send(new CreateAccessKeyCommand({ UserName: name }));
  return { accessKeyId: k.AccessKey!.AccessKeyId!, secretAccessKey: k.AccessKey!.SecretAccessKey! };
}

const read = (creds: Creds, key = 'shared/readme.txt') =>
  s3As(t.server.url, creds).send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
const write = (creds: Creds, key: string) =>
  s3As(t.server.url, creds).send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'x' }));

describe('users and access keys', () => {
  it('a new user may do nothing until a policy allows it', async () => {
    const u = await newUser('nopolicy');
    expect(await errorCode(read(u))).toBe('AccessDenied');
    expect(await errorCode(s3As(t.server.url, u).send(new ListBucketsCommand({})))).toBe('AccessDenied');
    expect(await errorCode(s3As(t.server.url, u).send(new CreateBucketCommand({ Bucket: 'nopolicy-bkt' })))).toBe(
      'AccessDenied',
    );
    // Its own IAM user is not its to read either: IAM actions need policies too.
    expect(await errorCode(iamClient(t.server.url, u).send(new GetUserCommand({})))).toBe('AccessDenied');
  });

  it("MinIO's canned readonly policy lets a user read and not write; detaching it takes it away", async () => {
    const u = await newUser('reader');
    await iam.send(new AttachUserPolicyCommand({ UserName: 'reader', PolicyArn: 'arn:aws:iam:::policy/readonly' }));
    expect(await (await read(u)).Body!.transformToString()).toBe('hello');
    expect(await errorCode(write(u, 'shared/new.txt'))).toBe('AccessDenied');
    const attached = await iam.send(new ListAttachedUserPoliciesCommand({ UserName: 'reader' }));
    expect(attached.AttachedPolicies?.map((p) => p.PolicyName)).toEqual(['readonly']);
    await iam.send(new DetachUserPolicyCommand({ UserName: 'reader', PolicyArn: 'arn:aws:iam:::policy/readonly' }));
    expect(await errorCode(read(u))).toBe('AccessDenied');
  });

  it('an inactive or deleted access key no longer signs', async () => {
    const u = await newUser('keyholder');
    await iam.send(new AttachUserPolicyCommand({ UserName: 'keyholder', PolicyArn: 'arn:aws:iam:::policy/readonly' }));
    await read(u);
    await iam.send(
      new UpdateAccessKeyCommand({ UserName: 'keyholder', AccessKeyId: u.accessKeyId, Status: 'Inactive' }),
    );
    expect(await errorCode(read(u))).toBe('InvalidAccessKeyId');
    await iam.send(new DeleteAccessKeyCommand({ UserName: 'keyholder', AccessKeyId: u.accessKeyId }));
    expect(await errorCode(read(u))).toBe('InvalidAccessKeyId');
  });

  it('refuses a second user of the same name in another case, and deleting a user with policies', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'Dup' }));
    expect(await errorCode(iam.send(new CreateUserCommand({ UserName: 'dup' })))).toBe('EntityAlreadyExists');
    await iam.send(new AttachUserPolicyCommand({ UserName: 'dup', PolicyArn: 'arn:aws:iam:::policy/readonly' }));
    expect(await errorCode(iam.send(new DeleteUserCommand({ UserName: 'Dup' })))).toBe('DeleteConflict');
    const names = (await iam.send(new ListUsersCommand({}))).Users?.map((u) => u.UserName);
    expect(names).toContain('Dup');
    expect(await errorCode(iam.send(new GetUserCommand({ UserName: 'ghost' })))).toBe('NoSuchEntity');
  });
});

describe('identity policies', () => {
  it('policy variables: each user writes under its own name only', async () => {
    const alice = await newUser('alice');
    const policy = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 's3:PutObject', Resource: `arn:aws:s3:::${BUCKET}/home/\${aws:username}/*` },
        {
          Effect: 'Allow',
          Action: 's3:ListBucket',
          Resource: `arn:aws:s3:::${BUCKET}`,
          Condition: { StringLike: { 's3:prefix': ['home/${aws:username}/*'] } },
        },
      ],
    };
    await iam.send(
      new PutUserPolicyCommand({ UserName: 'alice', PolicyName: 'home', PolicyDocument: JSON.stringify(policy) }),
    );
    await write(alice, 'home/alice/a.txt');
    expect(await errorCode(write(alice, 'home/bob/a.txt'))).toBe('AccessDenied');
    const s3 = s3As(t.server.url, alice);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'home/alice/' }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual(['home/alice/a.txt']);
    expect(await errorCode(s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'home/bob/' })))).toBe(
      'AccessDenied',
    );
  });

  it("a group's policies apply to its members, and stop applying when a member leaves", async () => {
    const u = await newUser('member');
    await iam.send(new CreateGroupCommand({ GroupName: 'readers' }));
    await iam.send(new AttachGroupPolicyCommand({ GroupName: 'readers', PolicyArn: 'arn:aws:iam:::policy/readonly' }));
    expect(await errorCode(read(u))).toBe('AccessDenied');
    await iam.send(new AddUserToGroupCommand({ GroupName: 'readers', UserName: 'member' }));
    await read(u);
    await iam.send(new RemoveUserFromGroupCommand({ GroupName: 'readers', UserName: 'member' }));
    expect(await errorCode(read(u))).toBe('AccessDenied');
  });

  it('an explicit Deny wins over an Allow, in the same policy set or in the bucket policy', async () => {
    const u = await newUser('denied');
    await iam.send(new AttachUserPolicyCommand({ UserName: 'denied', PolicyArn: 'arn:aws:iam:::policy/readwrite' }));
    await read(u);
    const deny = { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 's3:GetObject', Resource: '*' }] };
    await iam.send(
      new PutUserPolicyCommand({ UserName: 'denied', PolicyName: 'no-get', PolicyDocument: JSON.stringify(deny) }),
    );
    expect(await errorCode(read(u))).toBe('AccessDenied');
    await iam.send(new DeleteUserPolicyCommand({ UserName: 'denied', PolicyName: 'no-get' }));
    await read(u);
    // A bucket policy Deny naming the user by its ARN refuses it too; root is never refused.
    const bucketDeny = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Deny',
          Principal: { AWS: 'arn:aws:iam:::user/denied' },
          Action: 's3:GetObject',
          Resource: `arn:aws:s3:::${BUCKET}/*`,
        },
        { Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: `arn:aws:s3:::${BUCKET}/locked/*` },
      ],
    };
    await t.s3.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: JSON.stringify(bucketDeny) }));
    try {
      expect(await errorCode(read(u))).toBe('AccessDenied');
      await t.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'locked/root.txt', Body: 'root' }));
    } finally {
      await t.s3.send(
        new PutBucketPolicyCommand({
          Bucket: BUCKET,
          Policy: JSON.stringify({
            Statement: [
              {
                Effect: 'Allow',
                Principal: { AWS: ALT.accessKey },
                Action: 's3:GetObject',
                Resource: `arn:aws:s3:::${BUCKET}/nothing`,
              },
            ],
          }),
        }),
      );
    }
    await read(u);
  });

  it('managed policies: created, attached, refused for deletion while attached', async () => {
    const u = await newUser('managed');
    const doc = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: [`arn:aws:s3:::${BUCKET}/shared/*`] }],
    };
    const p = await iam.send(
      new CreatePolicyCommand({ PolicyName: 'shared-read', PolicyDocument: JSON.stringify(doc) }),
    );
    await iam.send(new AttachUserPolicyCommand({ UserName: 'managed', PolicyArn: p.Policy!.Arn }));
    await read(u);
    expect(await errorCode(iam.send(new DeletePolicyCommand({ PolicyArn: p.Policy!.Arn })))).toBe('DeleteConflict');
  });

  it('a static user (CAIRN_USERS) keeps its own buckets and may be given identity policies', async () => {
    await t.alt.send(new CreateBucketCommand({ Bucket: 'alt-own' }));
    await t.alt.send(new PutObjectCommand({ Bucket: 'alt-own', Key: 'k', Body: 'v' }));
    expect(await errorCode(t.alt.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'shared/readme.txt' })))).toBe(
      'AccessDenied',
    );
    await iam.send(
      new AttachUserPolicyCommand({ UserName: ALT.accessKey, PolicyArn: 'arn:aws:iam:::policy/readonly' }),
    );
    await t.alt.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'shared/readme.txt' }));
    // An identity Deny applies to its own bucket as well.
    const deny = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Action: 's3:GetObject', Resource: 'arn:aws:s3:::alt-own/*' }],
    };
    await iam.send(
      new PutUserPolicyCommand({ UserName: ALT.accessKey, PolicyName: 'no', PolicyDocument: JSON.stringify(deny) }),
    );
    expect(await errorCode(t.alt.send(new GetObjectCommand({ Bucket: 'alt-own', Key: 'k' })))).toBe('AccessDenied');
    await iam.send(new DeleteUserPolicyCommand({ UserName: ALT.accessKey, PolicyName: 'no' }));
    await t.alt.send(new GetObjectCommand({ Bucket: 'alt-own', Key: 'k' }));
    await iam.send(
      new DetachUserPolicyCommand({ UserName: ALT.accessKey, PolicyArn: 'arn:aws:iam:::policy/readonly' }),
    );
  });
});

describe('bad policy documents', () => {
  const put = (doc: string) =>
    iam.send(new PutUserPolicyCommand({ UserName: 'alice', PolicyName: 'bad', PolicyDocument: doc }));

  it('are MalformedPolicyDocument saying where, and nothing is stored', async () => {
    expect(await errorMessage(put('{"Version": "2012-10-17",\n "Statement": [}'))).toMatch(/line 2, column 16/);
    expect(await errorCode(put('{"Version": "2012-10-17", "Statement": [}'))).toBe('MalformedPolicyDocument');
    const unknownAction = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObjekt', Resource: '*' }],
    };
    expect(await errorMessage(put(JSON.stringify(unknownAction)))).toMatch(
      /Statement 1.*unknown action "s3:GetObjekt"/,
    );
    const unknownOp = {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'x',
          Effect: 'Allow',
          Action: 's3:GetObject',
          Resource: '*',
          Condition: { StringLikeish: { 's3:prefix': 'a' } },
        },
      ],
    };
    expect(await errorMessage(put(JSON.stringify(unknownOp)))).toMatch(/Statement 1 \(Sid x\).*Invalid Condition type/);
    const principal = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: '*' }],
    };
    expect(await errorCode(put(JSON.stringify(principal)))).toBe('MalformedPolicyDocument');
    const long = {
      Version: '2012-10-17',
      Statement: Array.from({ length: 400 }, () => ({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' })),
    };
    expect(await errorMessage(put(JSON.stringify(long)))).toMatch(/longer than 20480/);
    expect(await errorCode(iam.send(new GetUserPolicyCommand({ UserName: 'alice', PolicyName: 'bad' })))).toBe(
      'NoSuchEntity',
    );
  });
});

describe('the system area', () => {
  it('is no bucket: not listed, not reachable, not creatable, even by root', async () => {
    const names = (await t.s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name);
    expect(names).not.toContain('.cairn.sys/config');
    for (const [method, path, query] of [
      ['GET', '/.cairn.sys%2Fconfig', { 'list-type': '2', prefix: 'iam/' }],
      ['GET', '/.cairn.sys%2Fconfig/iam/users/alice.json', {}],
      ['PUT', '/.cairn.sys%2Fconfig/iam/users/mallory.json', {}],
      ['PUT', '/.cairn.sys%2Fconfig', {}],
    ] as const) {
      const res = await signedFetch(t.server.url, { method, path, query });
      expect(res.text, `${method} ${path}`).toMatch(/<Code>(NoSuchBucket|InvalidBucketName)<\/Code>/);
    }
  });
});
