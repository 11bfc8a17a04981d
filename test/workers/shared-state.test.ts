// `cairn server --workers 2`: state kept in each worker's memory follows a change made through the other one
// by the time that change is answered. IAM (users, their keys and policies, roles, and the STS sessions that
// hang on them) changed through one worker holds on the other at its next request; a bucket's object lock
// configuration set through one worker gives the other's PUTs their default retention, and the retention
// holds against deletes there. Every client is pinned to one worker (test/helpers/workers.ts).
import {
  AttachRolePolicyCommand,
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  DeleteRoleCommand,
  DeleteUserCommand,
  DeleteUserPolicyCommand,
  DetachRolePolicyCommand,
  IAMClient,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectRetentionCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectLockConfigurationCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { AssumeRoleCommand, GetSessionTokenCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, type Creds } from '../iam/helpers.js';
import { pinToWorker, startWorkers, WORKERS_ROOT, type WorkersServer } from '../helpers/workers.js';

let server: WorkersServer;
const rootCreds: Creds = { accessKeyId: WORKERS_ROOT.accessKey, secretAccessKey: WORKERS_ROOT.secretKey };
/** root[w - 1] is served by worker w. */
let root: S3Client[];
let iam: IAMClient[];

const common = (creds: Creds) => ({ endpoint: server.url, region: 'us-east-1', credentials: creds, maxAttempts: 1 });

/** An S3 client with these credentials whose requests worker `slot` answers. */
async function s3On(slot: number, creds: Creds): Promise<S3Client> {
  const agent = await server.agent(slot);
  return pinToWorker(
    new S3Client({ ...common(creds), forcePathStyle: true, requestHandler: { httpAgent: agent } }),
    slot,
  );
}
async function iamOn(slot: number, creds: Creds = rootCreds): Promise<IAMClient> {
  return pinToWorker(
    new IAMClient({ ...common(creds), requestHandler: { httpAgent: await server.agent(slot) } }),
    slot,
  );
}
async function stsOn(slot: number, creds: Creds): Promise<STSClient> {
  return pinToWorker(
    new STSClient({ ...common(creds), requestHandler: { httpAgent: await server.agent(slot) } }),
    slot,
  );
}

const BUCKET = 'iam-shared';
const readWrite = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`] }],
});

beforeAll(async () => {
  server = await startWorkers(2);
  root = await Promise.all([1, 2].map((w) => s3On(w, rootCreds)));
  iam = await Promise.all([1, 2].map((w) => iamOn(w)));
  await root[0].send(new CreateBucketCommand({ Bucket: BUCKET }));
});
afterAll(() => server?.close());

const text = async (s3: S3Client, key: string) =>
  (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToString();

describe('IAM across workers', () => {
  it('a user made on one worker signs on the other at once; its policy removed, then the user deleted, it is refused there', async () => {
    await iam[0].send(new CreateUserCommand({ UserName: 'carol' }));
    await iam[0].send(new PutUserPolicyCommand({ UserName: 'carol', PolicyName: 'rw', PolicyDocument: readWrite }));
    const k = (await iam[0].send(new CreateAccessKeyCommand({ UserName: 'carol' }))).AccessKey!;
    const carol = { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
    const [on1, on2] = [await s3On(1, carol), await s3On(2, carol)];

    await on2.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'by-carol', Body: 'from worker 2' }));
    expect(await text(on1, 'by-carol')).toBe('from worker 2');

    // The policy goes through worker 2: worker 1 denies at once (the user still signs).
    await iam[1].send(new DeleteUserPolicyCommand({ UserName: 'carol', PolicyName: 'rw' }));
    expect(await errorCode(on1.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'by-carol' })))).toBe('AccessDenied');
    await iam[1].send(new PutUserPolicyCommand({ UserName: 'carol', PolicyName: 'rw', PolicyDocument: readWrite }));
    expect(await text(on1, 'by-carol')).toBe('from worker 2');

    // The key made inactive on worker 1 no longer signs on worker 2, and active again it does.
    await iam[0].send(
      new UpdateAccessKeyCommand({ UserName: 'carol', AccessKeyId: carol.accessKeyId, Status: 'Inactive' }),
    );
    expect(await errorCode(on2.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'by-carol' })))).toBe(
      'InvalidAccessKeyId',
    );
    await iam[0].send(
      new UpdateAccessKeyCommand({ UserName: 'carol', AccessKeyId: carol.accessKeyId, Status: 'Active' }),
    );
    expect(await text(on2, 'by-carol')).toBe('from worker 2');

    // Deleted through worker 1: worker 2 refuses the key, and nothing it was refused changed anything.
    await iam[0].send(new DeleteUserPolicyCommand({ UserName: 'carol', PolicyName: 'rw' }));
    await iam[0].send(new DeleteAccessKeyCommand({ UserName: 'carol', AccessKeyId: carol.accessKeyId }));
    await iam[0].send(new DeleteUserCommand({ UserName: 'carol' }));
    const refused = on2.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'by-carol', Body: 'after delete' }));
    expect(await errorCode(refused)).toBe('InvalidAccessKeyId');
    expect(await text(root[1], 'by-carol')).toBe('from worker 2');
    expect(await text(root[0], 'by-carol')).toBe('from worker 2');
  });

  it('a user created on each worker at once: both exist on both workers (no change lost to the other)', async () => {
    const names = ['dave', 'erin', 'frank', 'grace'];
    await Promise.all(names.map((n, i) => iam[i % 2].send(new CreateUserCommand({ UserName: n }))));
    const keys = await Promise.all(
      names.map(async (n, i) => (await iam[(i + 1) % 2].send(new CreateAccessKeyCommand({ UserName: n }))).AccessKey!),
    );
    for (const [i, n] of names.entries()) {
      await iam[i % 2].send(new PutUserPolicyCommand({ UserName: n, PolicyName: 'rw', PolicyDocument: readWrite }));
    }
    for (const k of keys) {
      for (const w of [1, 2]) {
        const s3 = await s3On(w, { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! });
        await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${k.UserName}-${w}`, Body: 'x' }));
      }
    }
  });

  it('STS: credentials issued by one worker work on the other; the role deleted on it ends them on the first', async () => {
    await iam[1].send(new CreateUserCommand({ UserName: 'heidi' }));
    await iam[1].send(new PutUserPolicyCommand({ UserName: 'heidi', PolicyName: 'rw', PolicyDocument: readWrite }));
    const k = (await iam[1].send(new CreateAccessKeyCommand({ UserName: 'heidi' }))).AccessKey!;
    const heidi = { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };

    // GetSessionToken on worker 1, used on worker 2; the parent's policy removed on worker 2 denies it on 1.
    const st = (await (await stsOn(1, heidi)).send(new GetSessionTokenCommand({}))).Credentials!;
    const session = {
      accessKeyId: st.AccessKeyId!,
      secretAccessKey: st.SecretAccessKey!,
      sessionToken: st.SessionToken,
    };
    await (await s3On(2, session)).send(new PutObjectCommand({ Bucket: BUCKET, Key: 'by-session', Body: 'session' }));
    expect(await text(await s3On(1, session), 'by-session')).toBe('session');
    await iam[1].send(new DeleteUserPolicyCommand({ UserName: 'heidi', PolicyName: 'rw' }));
    expect(
      await errorCode((await s3On(1, session)).send(new GetObjectCommand({ Bucket: BUCKET, Key: 'by-session' }))),
    ).toBe('AccessDenied');

    // A role made on worker 1, assumed on worker 2, used on worker 1; deleted on worker 2, refused on 1.
    const trust = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam:::user/heidi' }, Action: 'sts:AssumeRole' }],
    });
    await iam[0].send(new CreateRoleCommand({ RoleName: 'reader', AssumeRolePolicyDocument: trust }));
    await iam[0].send(new AttachRolePolicyCommand({ RoleName: 'reader', PolicyArn: 'arn:aws:iam:::policy/readonly' }));
    const assumed = await (await stsOn(2, heidi)).send(
      new AssumeRoleCommand({ RoleArn: 'arn:aws:iam:::role/reader', RoleSessionName: 'w2' }),
    );
    const c = assumed.Credentials!;
    const role = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken };
    const roleOn1 = await s3On(1, role);
    expect(await text(roleOn1, 'by-session')).toBe('session');
    await iam[1].send(new DetachRolePolicyCommand({ RoleName: 'reader', PolicyArn: 'arn:aws:iam:::policy/readonly' }));
    await iam[1].send(new DeleteRoleCommand({ RoleName: 'reader' }));
    expect(await errorCode(roleOn1.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'by-session' })))).toBe(
      'AccessDenied',
    );
  });
});

describe('object lock across workers', () => {
  it("the default retention set through one worker applies to the other's PUTs, and holds against its deletes", async () => {
    const Bucket = 'locked-shared';
    await root[0].send(new CreateBucketCommand({ Bucket, ObjectLockEnabledForBucket: true }));
    const rule = (Mode: 'GOVERNANCE' | 'COMPLIANCE') => ({
      Bucket,
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' as const, Rule: { DefaultRetention: { Mode, Days: 1 } } },
    });
    await root[0].send(new PutObjectLockConfigurationCommand(rule('GOVERNANCE')));
    const put = await root[1].send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'kept' }));
    const kept = await root[1].send(new GetObjectRetentionCommand({ Bucket, Key: 'k' }));
    expect(kept.Retention?.Mode).toBe('GOVERNANCE');
    const del = root[1].send(new DeleteObjectCommand({ Bucket, Key: 'k', VersionId: put.VersionId }));
    expect(await errorCode(del)).toBe('AccessDenied');
    const read = await root[0].send(new GetObjectCommand({ Bucket, Key: 'k', VersionId: put.VersionId }));
    expect(await read.Body!.transformToString()).toBe('kept');

    // Changed through worker 2: worker 1's next PUT gets the new mode.
    await root[1].send(new PutObjectLockConfigurationCommand(rule('COMPLIANCE')));
    await root[0].send(new PutObjectCommand({ Bucket, Key: 'c', Body: 'compliance' }));
    expect((await root[0].send(new GetObjectRetentionCommand({ Bucket, Key: 'c' }))).Retention?.Mode).toBe(
      'COMPLIANCE',
    );
    const versions = await root[0].send(new ListObjectVersionsCommand({ Bucket }));
    expect((versions.Versions ?? []).map((v) => v.Key).sort()).toEqual(['c', 'k']);
  });
});
