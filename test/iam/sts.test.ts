// STS AssumeRole on the S3 endpoint through @aws-sdk/client-sts: trust policies, session policies, temporary
// credentials checked on every request (header and presigned forms), expiry to the second (the server's clock
// is moved, the clients sign with the same offset), parents disabled or deleted cutting their sessions at once,
// and tokens altered, foreign or missing refused.
import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  DeleteRoleCommand,
  DetachRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { AssumeRoleCommand, GetCallerIdentityCommand, GetSessionTokenCommand } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedFetch } from '../helpers/signed-request.js';
import { ALT, startTestServer, type TestServer } from '../helpers/cairn.js';
import { errorCode, iamClient, rootCreds, s3As, stsClient, type Creds } from './helpers.js';

const BUCKET = 'sts-data';
let server: TestServer;
let other: TestServer;
let offset = 0;
const now = () => Date.now() + offset;
const altCreds: Creds = { accessKeyId: ALT.accessKey, secretAccessKey: ALT.secretKey };

const trustFor = (user: string) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam:::user/${user}` }, Action: 'sts:AssumeRole' }],
  });

beforeAll(async () => {
  server = await startTestServer({ now });
  other = await startTestServer();
  const s3 = s3As(server.url, rootCreds);
  await s3.send(new (await import('@aws-sdk/client-s3')).CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'a/1.txt', Body: 'one' }));
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'b/2.txt', Body: 'two' }));
  const iam = iamClient(server.url);
  await iam.send(new CreateRoleCommand({ RoleName: 'reader', AssumeRolePolicyDocument: trustFor(ALT.accessKey) }));
  await iam.send(new AttachRolePolicyCommand({ RoleName: 'reader', PolicyArn: 'arn:aws:iam:::policy/readonly' }));
});
afterAll(async () => {
  await server.close();
  await other.close();
});

async function assume(creds: Creds, extra: Partial<ConstructorParameters<typeof AssumeRoleCommand>[0]> = {}) {
  const sts = stsClient(server.url, creds, offset);
  const r = await sts.send(
    new AssumeRoleCommand({ RoleArn: 'arn:aws:iam:::role/reader', RoleSessionName: 'test', ...extra }),
  );
  const c = r.Credentials!;
  return {
    creds: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! },
    r,
  };
}
const get = (creds: Creds, key = 'a/1.txt') =>
  s3As(server.url, creds, offset).send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));

describe('AssumeRole', () => {
  it("gives the role's rights, no more, to a user the trust policy names", async () => {
    const { creds, r } = await assume(altCreds);
    expect(r.AssumedRoleUser?.Arn).toBe('arn:aws:sts:::assumed-role/reader/test');
    expect(creds.accessKeyId).toMatch(/^ASIA/);
    expect(await (await get(creds)).Body!.transformToString()).toBe('one');
    const s3 = s3As(server.url, creds);
    expect(await errorCode(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'x', Body: 'x' })))).toBe(
      'AccessDenied',
    );
    const who = await stsClient(server.url, creds).send(new GetCallerIdentityCommand({}));
    expect(who.Arn).toBe('arn:aws:sts:::assumed-role/reader/test');
  });

  it('is refused to a caller the trust policy does not name, and for a role that does not exist', async () => {
    const iam = iamClient(server.url);
    await iam.send(new CreateUserCommand({ UserName: 'stranger' }));
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'stranger' }))).AccessKey!;
    const stranger = { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
    expect(await errorCode(assume(stranger))).toBe('AccessDenied');
    // Allowing sts:AssumeRole in its own policy is not enough: the trust policy must name it (or the account).
    const allow = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }] };
    await iam.send(
      new PutUserPolicyCommand({ UserName: 'stranger', PolicyName: 'p', PolicyDocument: JSON.stringify(allow) }),
    );
    expect(await errorCode(assume(stranger))).toBe('AccessDenied');
    expect(await errorCode(assume(altCreds, { RoleArn: 'arn:aws:iam:::role/nosuch' }))).toBe('AccessDenied');
  });

  it('a session policy narrows the rights (an intersection)', async () => {
    const policy = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/b/*` }],
    };
    const { creds } = await assume(altCreds, { Policy: JSON.stringify(policy) });
    expect(await (await get(creds, 'b/2.txt')).Body!.transformToString()).toBe('two');
    expect(await errorCode(get(creds, 'a/1.txt'))).toBe('AccessDenied');
    const bad = await errorCode(assume(altCreds, { Policy: '{"Statement": [' }));
    expect(bad).toBe('MalformedPolicyDocument');
  });

  it('DurationSeconds outside 900 .. the role maximum is refused', async () => {
    expect(await errorCode(assume(altCreds, { DurationSeconds: 899 }))).toBe('ValidationError');
    expect(await errorCode(assume(altCreds, { DurationSeconds: 3601 }))).toBe('ValidationError');
  });

  it('expires to the second', async () => {
    const { creds, r } = await assume(altCreds, { DurationSeconds: 900 });
    const expires = r.Credentials!.Expiration!.getTime();
    const base = Date.now();
    try {
      offset = expires - base - 2000;
      await get(creds);
      offset = expires - base + 1000;
      expect(await errorCode(get(creds))).toBe('ExpiredToken');
    } finally {
      offset = 0;
    }
  });

  it('deleting the role, or disabling or deleting the parent, ends the sessions at once', async () => {
    const iam = iamClient(server.url);
    await iam.send(new CreateUserCommand({ UserName: 'parent' }));
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'parent' }))).AccessKey!;
    const parent = { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
    await iam.send(new CreateRoleCommand({ RoleName: 'temp', AssumeRolePolicyDocument: trustFor('parent') }));
    await iam.send(new AttachRolePolicyCommand({ RoleName: 'temp', PolicyArn: 'arn:aws:iam:::policy/readonly' }));
    const { creds } = await assume(parent, { RoleArn: 'arn:aws:iam:::role/temp' });
    await get(creds);
    const { UpdateAccessKeyCommand, DeleteAccessKeyCommand, DeleteUserCommand } = await import('@aws-sdk/client-iam');
    // The key it was made with going inactive does not end it; the user being disabled (admin API) would.
    await iam.send(
      new UpdateAccessKeyCommand({ UserName: 'parent', AccessKeyId: parent.accessKeyId, Status: 'Inactive' }),
    );
    await get(creds);
    await iam.send(new DeleteAccessKeyCommand({ UserName: 'parent', AccessKeyId: parent.accessKeyId }));
    await iam.send(new DeleteUserCommand({ UserName: 'parent' }));
    expect(await errorCode(get(creds))).toBe('AccessDenied');
    // A user of the same name made again is another user: the old sessions stay dead.
    await iam.send(new CreateUserCommand({ UserName: 'parent' }));
    expect(await errorCode(get(creds))).toBe('AccessDenied');

    const again = await assume(altCreds);
    await get(again.creds);
    await iam.send(new DetachRolePolicyCommand({ RoleName: 'temp', PolicyArn: 'arn:aws:iam:::policy/readonly' }));
    await iam.send(new DeleteRoleCommand({ RoleName: 'temp' }));
    await get(again.creds); // a session of another role is not affected
  });

  it('tokens altered, from another deployment, or missing are refused, never served', async () => {
    const { creds } = await assume(altCreds);
    const t = creds.sessionToken!;
    const flipped = t.slice(0, 40) + (t[40] === 'A' ? 'B' : 'A') + t.slice(41);
    expect(await errorCode(get({ ...creds, sessionToken: flipped }))).toBe('InvalidToken');
    expect(await errorCode(get({ ...creds, sessionToken: 'not-a-token' }))).toBe('InvalidToken');
    expect(await errorCode(get({ accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey }))).toBe(
      'InvalidAccessKeyId',
    );
    // A token of this deployment with another session's key.
    const second = await assume(altCreds);
    expect(await errorCode(get({ ...second.creds, sessionToken: t }))).toBe('InvalidToken');
    // A token sealed by another deployment, even one with the same root credentials; and a long-term key
    // presented with a token.
    const foreign = await stsClient(other.url, rootCreds).send(new GetSessionTokenCommand({}));
    const f = foreign.Credentials!;
    const fc = { accessKeyId: f.AccessKeyId!, secretAccessKey: f.SecretAccessKey!, sessionToken: f.SessionToken! };
    expect(await errorCode(get(fc))).toBe('InvalidToken');
    expect(await errorCode(get({ ...altCreds, sessionToken: t }))).toBe('InvalidToken');
  });

  it('presigned URLs carry the token (X-Amz-Security-Token), checked like the header', async () => {
    const { creds } = await assume(altCreds);
    const url = await getSignedUrl(s3As(server.url, creds), new GetObjectCommand({ Bucket: BUCKET, Key: 'a/1.txt' }));
    expect(url).toContain('X-Amz-Security-Token');
    expect(await (await fetch(url)).text()).toBe('one');
    const tampered = url.replace(/X-Amz-Security-Token=([^&]{10})/, 'X-Amz-Security-Token=AAAAAAAAAA');
    const res = await fetch(tampered);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('<Code>InvalidToken</Code>');
  });

  it('role chaining: a role session assumes a role trusting it, for an hour at most, while the first parent lasts', async () => {
    const iam = iamClient(server.url);
    await iam.send(new CreateUserCommand({ UserName: 'chainer' }));
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'chainer' }))).AccessKey!;
    const chainer = { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
    await iam.send(new CreateRoleCommand({ RoleName: 'hop1', AssumeRolePolicyDocument: trustFor('chainer') }));
    const trustsHop1 = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam:::role/hop1' }, Action: 'sts:AssumeRole' }],
    });
    await iam.send(new CreateRoleCommand({ RoleName: 'hop2', AssumeRolePolicyDocument: trustsHop1 }));
    await iam.send(new AttachRolePolicyCommand({ RoleName: 'hop2', PolicyArn: 'arn:aws:iam:::policy/readwrite' }));
    const first = await assume(chainer, { RoleArn: 'arn:aws:iam:::role/hop1', RoleSessionName: 'one' });
    // hop1 has no policy of its own: it can only move on.
    expect(await errorCode(get(first.creds))).toBe('AccessDenied');
    const sts = stsClient(server.url, first.creds, offset);
    const hop = (extra: Partial<ConstructorParameters<typeof AssumeRoleCommand>[0]> = {}) =>
      sts.send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam:::role/hop2', RoleSessionName: 'two', ...extra }));
    expect(await errorCode(hop({ DurationSeconds: 3601 }))).toBe('ValidationError');
    const r = await hop({ DurationSeconds: 3600 });
    expect(r.AssumedRoleUser?.Arn).toBe('arn:aws:sts:::assumed-role/hop2/two');
    expect(r.Credentials!.Expiration!.getTime() - now()).toBeLessThanOrEqual(3_601_000);
    const c = r.Credentials!;
    const second = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
    const asSecond = s3As(server.url, second, offset);
    await asSecond.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'chained', Body: 'c' }));
    expect(await (await get(second, 'chained')).Body!.transformToString()).toBe('c');
    // A role whose trust policy does not name hop1: refused.
    expect(
      await errorCode(
        sts.send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam:::role/reader', RoleSessionName: 'again' })),
      ),
    ).toBe('AccessDenied');
    // Temporary credentials of no role (GetSessionToken) cannot chain.
    const plain = (await stsClient(server.url, chainer, offset).send(new GetSessionTokenCommand({}))).Credentials!;
    const plainCreds = {
      accessKeyId: plain.AccessKeyId!,
      secretAccessKey: plain.SecretAccessKey!,
      sessionToken: plain.SessionToken!,
    };
    expect(
      await errorCode(
        stsClient(server.url, plainCreds, offset).send(
          new AssumeRoleCommand({ RoleArn: 'arn:aws:iam:::role/hop1', RoleSessionName: 'again' }),
        ),
      ),
    ).toBe('AccessDenied');
    // The user at the start of the chain deleted: every link ends at once.
    const { DeleteAccessKeyCommand, DeleteUserCommand } = await import('@aws-sdk/client-iam');
    await iam.send(new DeleteAccessKeyCommand({ UserName: 'chainer', AccessKeyId: chainer.accessKeyId }));
    await iam.send(new DeleteUserCommand({ UserName: 'chainer' }));
    expect(await errorCode(get(second, 'chained'))).toBe('AccessDenied');
    await s3As(server.url, rootCreds).send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'chained' }));
  });

  it("without RoleArn (MinIO's form) and GetSessionToken give the caller's own rights", async () => {
    const sts = stsClient(server.url, rootCreds);
    const r = await sts.send(new GetSessionTokenCommand({ DurationSeconds: 900 }));
    const c = r.Credentials!;
    const creds = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
    const listed = await s3As(server.url, creds).send(new ListObjectsV2Command({ Bucket: BUCKET }));
    expect(listed.KeyCount).toBe(2);
    // Temporary credentials cannot mint more.
    expect(await errorCode(stsClient(server.url, creds).send(new GetSessionTokenCommand({})))).toBe('AccessDenied');
  });

  it('GetSessionToken takes no session policy, tags or source identity: 400 InvalidQueryParameter, no credentials', async () => {
    const call = (extra: Record<string, string>) =>
      signedFetch(server.url, {
        method: 'POST',
        path: '/',
        service: 'sts',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ Action: 'GetSessionToken', Version: '2011-06-15', ...extra }).toString(),
      });
    expect((await call({})).text).toContain('<SessionToken>');
    const foreign: Record<string, string>[] = [
      { Policy: JSON.stringify({ Version: '2012-10-17', Statement: [] }) },
      { 'PolicyArns.member.1.arn': 'arn:aws:iam:::policy/readonly' },
      { 'Tags.member.1.Key': 'team', 'Tags.member.1.Value': 'blue' },
      { 'TransitiveTagKeys.member.1': 'team' },
      { SourceIdentity: 'someone' },
    ];
    for (const extra of foreign) {
      const res = await call(extra);
      expect(res.status).toBe(400);
      expect(res.text).toContain('<Code>InvalidQueryParameter</Code>');
      expect(res.text).not.toContain('SessionToken>');
    }
  });
});
