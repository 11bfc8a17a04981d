// Source identity (IAM User Guide, "Monitor and control actions taken with assumed roles") through
// @aws-sdk/client-sts: AssumeRole's SourceIdentity and a web identity token's https://aws.amazon.com/source_identity
// claim (a real oidc-provider login). The trust policy must allow sts:SetSourceIdentity and judges the value as
// sts:SourceIdentity; the session answers it and policies read it as aws:SourceIdentity; role chaining keeps it
// and refuses another. Bad values are refused with STS's codes and no credentials.
import {
  CreateAccessKeyCommand,
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  CreateUserCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  AssumeRoleCommand,
  type AssumeRoleCommandInput,
  AssumeRoleWithWebIdentityCommand,
  STSClient,
} from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/cairn.js';
import { CLIENT_ID, startOidcProvider, type OidcProvider } from '../helpers/oidc.js';
import { errorCode, iamClient, rootCreds, s3As, stsClient, type Creds } from './helpers.js';

const BUCKET = 'audited';
let server: TestServer;
let idp: OidcProvider;
let dev: Creds;
let providerArn: string;

const iam = () => iamClient(server.url);
const doc = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const DEV = 'arn:aws:iam:::user/dev';
/** Reads only by a session whose source identity is dev or alice. */
const READ_AUDITED = doc({
  Effect: 'Allow',
  Action: 's3:GetObject',
  Resource: `arn:aws:s3:::${BUCKET}/*`,
  Condition: { StringEquals: { 'aws:SourceIdentity': ['dev', 'alice'] } },
});

async function role(name: string, trust: string) {
  await iam().send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trust }));
  await iam().send(new PutRolePolicyCommand({ RoleName: name, PolicyName: 'p', PolicyDocument: READ_AUDITED }));
  return `arn:aws:iam:::role/${name}`;
}

const toCreds = (c: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string }): Creds => ({
  accessKeyId: c.AccessKeyId!,
  secretAccessKey: c.SecretAccessKey!,
  sessionToken: c.SessionToken!,
});

async function assume(creds: Creds, input: Partial<AssumeRoleCommandInput>) {
  const out = await stsClient(server.url, creds).send(
    new AssumeRoleCommand({ RoleArn: 'arn:aws:iam:::role/critical', RoleSessionName: 'audit', ...input }),
  );
  return { creds: toCreds(out.Credentials!), out };
}

async function reads(creds: Creds): Promise<boolean> {
  try {
    await s3As(server.url, creds).send(new GetObjectCommand({ Bucket: BUCKET, Key: 'report' }));
    return true;
  } catch (e) {
    if ((e as Error).name === 'AccessDenied') return false;
    throw e;
  }
}

beforeAll(async () => {
  const claim = (v: unknown) => ({ 'https://aws.amazon.com/source_identity': v });
  idp = await startOidcProvider({ alice: claim('alice'), reserved: claim('aws:alice'), plain: {} });
  server = await startTestServer();
  await s3As(server.url, rootCreds).send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3As(server.url, rootCreds).send(new PutObjectCommand({ Bucket: BUCKET, Key: 'report', Body: 'r' }));
  await iam().send(new CreateUserCommand({ UserName: 'dev' }));
  const k = (await iam().send(new CreateAccessKeyCommand({ UserName: 'dev' }))).AccessKey!;
  dev = { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
  // As the User Guide's example: dev may assume the role, and set a source identity only to its own name.
  await role(
    'critical',
    doc(
      { Effect: 'Allow', Principal: { AWS: DEV }, Action: 'sts:AssumeRole' },
      {
        Effect: 'Allow',
        Principal: { AWS: DEV },
        Action: 'sts:SetSourceIdentity',
        Condition: { StringLike: { 'sts:SourceIdentity': '${aws:username}' } },
      },
    ),
  );
  providerArn = (
    await iam().send(new CreateOpenIDConnectProviderCommand({ Url: idp.issuer, ClientIDList: [CLIENT_ID] }))
  ).OpenIDConnectProviderArn!;
}, 60_000);

afterAll(async () => {
  await server?.close();
  await idp?.close();
});

describe('AssumeRole with SourceIdentity', () => {
  it('is answered, judged as sts:SourceIdentity, and read as aws:SourceIdentity in the session', async () => {
    const set = await assume(dev, { SourceIdentity: 'dev' });
    expect(set.out.SourceIdentity).toBe('dev');
    expect(await reads(set.creds)).toBe(true);
    const unset = await assume(dev, {});
    expect(unset.out.SourceIdentity).toBeUndefined();
    expect(await reads(unset.creds)).toBe(false);
    // The trust policy allows only the caller's own name.
    expect(await errorCode(assume(dev, { SourceIdentity: 'alice' }))).toBe('AccessDenied');
  });

  it('bad values are ValidationError; a trust policy without sts:SetSourceIdentity refuses', async () => {
    for (const bad of ['d', 'x'.repeat(65), 'aws:dev', 'AWS:dev', 'two words', 'star*']) {
      expect(await errorCode(assume(dev, { SourceIdentity: bad })), bad).toBe('ValidationError');
    }
    const plain = await role('plain', doc({ Effect: 'Allow', Principal: { AWS: DEV }, Action: 'sts:AssumeRole' }));
    await assume(dev, { RoleArn: plain });
    expect(await errorCode(assume(dev, { RoleArn: plain, SourceIdentity: 'dev' }))).toBe('AccessDenied');
  });

  it('role chaining keeps the source identity and refuses another one', async () => {
    const trustsCritical = (...actions: string[]) =>
      doc({
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam:::role/critical' },
        Action: actions,
        Condition: { StringEquals: { 'aws:SourceIdentity': 'dev', 'sts:SourceIdentity': 'dev' } },
      });
    const next = await role('next', trustsCritical('sts:AssumeRole', 'sts:SetSourceIdentity'));
    const nextPlain = await role('next-plain', trustsCritical('sts:AssumeRole'));
    const first = await assume(dev, { SourceIdentity: 'dev' });
    const chain = (RoleArn: string, extra: Partial<AssumeRoleCommandInput> = {}) =>
      stsClient(server.url, first.creds).send(new AssumeRoleCommand({ RoleArn, RoleSessionName: 'hop', ...extra }));
    const kept = await chain(next);
    expect(kept.SourceIdentity).toBe('dev');
    expect(await reads(toCreds(kept.Credentials!))).toBe(true);
    expect((await chain(next, { SourceIdentity: 'dev' })).SourceIdentity).toBe('dev');
    expect(await errorCode(chain(next, { SourceIdentity: 'other' }))).toBe('AccessDenied');
    // The inherited source identity needs sts:SetSourceIdentity in the next role's trust policy too.
    expect(await errorCode(chain(nextPlain))).toBe('AccessDenied');
    // A chain begun without one: the trust policy's conditions on it fail.
    const none = await assume(dev, {});
    const fromNone = stsClient(server.url, none.creds).send(
      new AssumeRoleCommand({ RoleArn: next, RoleSessionName: 'hop' }),
    );
    expect(await errorCode(fromNone)).toBe('AccessDenied');
  });
});

describe('AssumeRoleWithWebIdentity with the source_identity claim', () => {
  const web = async (RoleArn: string, account: string) => {
    const sts = new STSClient({ endpoint: server.url, region: 'us-east-1', maxAttempts: 1 });
    const token = await idp.login(account);
    return sts.send(new AssumeRoleWithWebIdentityCommand({ RoleArn, RoleSessionName: 'web', WebIdentityToken: token }));
  };

  it("a real provider's claim sets it, judged by the trust policy; a reserved value is invalid", async () => {
    const arn = await role(
      'web-audited',
      doc({
        Effect: 'Allow',
        Principal: { Federated: providerArn },
        Action: ['sts:AssumeRoleWithWebIdentity', 'sts:SetSourceIdentity'],
      }),
    );
    const out = await web(arn, 'alice');
    expect(out.SourceIdentity).toBe('alice');
    expect(await reads(toCreds(out.Credentials!))).toBe(true);
    const plain = await web(arn, 'plain');
    expect(plain.SourceIdentity).toBeUndefined();
    expect(await reads(toCreds(plain.Credentials!))).toBe(false);
    expect(await errorCode(web(arn, 'reserved'))).toBe('InvalidIdentityToken');
    const noSet = await role(
      'web-plain',
      doc({ Effect: 'Allow', Principal: { Federated: providerArn }, Action: 'sts:AssumeRoleWithWebIdentity' }),
    );
    expect(await errorCode(web(noSet, 'alice'))).toBe('AccessDenied');
    await web(noSet, 'plain');
  });
});
