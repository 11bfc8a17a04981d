// Session tags (AssumeRole Tags / TransitiveTagKeys; a web identity token's https://aws.amazon.com/tags claim)
// through @aws-sdk/client-sts against real policies: the trust policy must allow sts:TagSession and judges the
// tags by aws:RequestTag/<k>, aws:TagKeys and sts:TransitiveTagKeys; in the session they are aws:PrincipalTag/<k>
// (over the role's own tag of the same key, any case) for conditions and policy variables; transitive tags pass
// through role chaining and cannot be overridden there. Bad input is answered with STS's codes and no credentials.
import {
  CreateAccessKeyCommand,
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  CreateUserCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  AssumeRoleCommand,
  type AssumeRoleCommandInput,
  AssumeRoleWithWebIdentityCommand,
  STSClient,
  type Tag,
} from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/cairn.js';
import { CLIENT_ID, startOidcProvider, type OidcProvider } from '../helpers/oidc.js';
import { errorCode, iamClient, rootCreds, s3As, stsClient, type Creds } from './helpers.js';

const BUCKET = 'abac';
let server: TestServer;
let idp: OidcProvider;
let tagger: Creds;
let providerArn: string;

const iam = () => iamClient(server.url);
const doc = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const TAGGER = 'arn:aws:iam:::user/tagger';
/** Reads under the prefix the session's Project tag names, and under dept-<its Department tag>. */
const BY_TAGS = doc({
  Effect: 'Allow',
  Action: 's3:GetObject',
  Resource: [
    `arn:aws:s3:::${BUCKET}/\${aws:PrincipalTag/Project}/*`,
    `arn:aws:s3:::${BUCKET}/dept-\${aws:PrincipalTag/Department}/*`,
  ],
});

async function role(name: string, trust: string, tags: Tag[] = [], permissions = BY_TAGS) {
  await iam().send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trust, Tags: tags }));
  await iam().send(new PutRolePolicyCommand({ RoleName: name, PolicyName: 'p', PolicyDocument: permissions }));
  return `arn:aws:iam:::role/${name}`;
}

const toCreds = (c: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string }): Creds => ({
  accessKeyId: c.AccessKeyId!,
  secretAccessKey: c.SecretAccessKey!,
  sessionToken: c.SessionToken!,
});

async function assume(creds: Creds, input: Partial<AssumeRoleCommandInput>) {
  const out = await stsClient(server.url, creds).send(
    new AssumeRoleCommand({ RoleArn: 'arn:aws:iam:::role/abac', RoleSessionName: 'ss', ...input }),
  );
  return { creds: toCreds(out.Credentials!), out };
}

const tagsOf = (o: Record<string, string>): Tag[] => Object.entries(o).map(([Key, Value]) => ({ Key, Value }));

/** Whether the credentials may read `key` (AccessDenied: no; anything else fails the test). */
async function reads(creds: Creds, key: string): Promise<boolean> {
  try {
    await s3As(server.url, creds).send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return true;
  } catch (e) {
    if ((e as Error).name === 'AccessDenied') return false;
    throw e;
  }
}

beforeAll(async () => {
  const tagsClaim = (principal_tags: object, transitive_tag_keys: string[] = []) => ({
    'https://aws.amazon.com/tags': { principal_tags, transitive_tag_keys },
  });
  idp = await startOidcProvider({
    eng: tagsClaim({ Department: ['Engineering'], Project: ['alpha'] }, ['Project']),
    sales: tagsClaim({ Department: ['Sales'], Project: ['beta'] }),
    multi: tagsClaim({ Department: ['Engineering', 'Marketing'] }),
    plain: {},
  });
  server = await startTestServer();
  const root = s3As(server.url, rootCreds);
  await root.send(new CreateBucketCommand({ Bucket: BUCKET }));
  for (const Key of ['alpha/x', 'beta/x', 'gamma/x', 'dept-Engineering/x']) {
    await root.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: Key }));
  }
  await iam().send(new CreateUserCommand({ UserName: 'tagger' }));
  const k = (await iam().send(new CreateAccessKeyCommand({ UserName: 'tagger' }))).AccessKey!;
  tagger = { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
  // The role trusts tagger to assume it, and to tag the session with a Department of two values and any
  // Project, marking at most Project and Department transitive. Its own tags: project=gamma, Team=red.
  const trust = doc(
    { Effect: 'Allow', Principal: { AWS: TAGGER }, Action: 'sts:AssumeRole' },
    {
      Effect: 'Allow',
      Principal: { AWS: TAGGER },
      Action: 'sts:TagSession',
      Condition: {
        StringEquals: { 'aws:RequestTag/Department': ['Engineering', 'Marketing'] },
        'ForAllValues:StringEquals': {
          'sts:TransitiveTagKeys': ['Project', 'Department'],
          'aws:TagKeys': ['Project', 'Department'],
        },
      },
    },
  );
  await role('abac', trust, tagsOf({ project: 'gamma', Team: 'red' }));
  providerArn = (
    await iam().send(new CreateOpenIDConnectProviderCommand({ Url: idp.issuer, ClientIDList: [CLIENT_ID] }))
  ).OpenIDConnectProviderArn!;
}, 60_000);

afterAll(async () => {
  await server?.close();
  await idp?.close();
});

describe('AssumeRole with session tags', () => {
  it('tags become aws:PrincipalTag/<k>, over the role tag of the same key in any case', async () => {
    const tagged = await assume(tagger, { Tags: tagsOf({ Project: 'alpha', Department: 'Engineering' }) });
    expect(tagged.out.PackedPolicySize).toBeGreaterThan(0);
    expect(await reads(tagged.creds, 'alpha/x')).toBe(true);
    expect(await reads(tagged.creds, 'dept-Engineering/x')).toBe(true);
    // The role's project=gamma gave way to the session's Project=alpha.
    expect(await reads(tagged.creds, 'gamma/x')).toBe(false);
    expect(await reads(tagged.creds, 'beta/x')).toBe(false);
    // Without session tags the role's own tag is the principal tag.
    const untagged = await assume(tagger, {});
    expect(untagged.out.PackedPolicySize).toBeUndefined();
    expect(await reads(untagged.creds, 'gamma/x')).toBe(true);
    expect(await reads(untagged.creds, 'alpha/x')).toBe(false);
    expect(await reads(untagged.creds, 'dept-Engineering/x')).toBe(false);
  });

  it('the trust policy must allow sts:TagSession, with the tags and transitive keys its conditions name', async () => {
    const plainTrust = doc({ Effect: 'Allow', Principal: { AWS: TAGGER }, Action: 'sts:AssumeRole' });
    await role('no-tags', plainTrust);
    const noTags = { RoleArn: 'arn:aws:iam:::role/no-tags' };
    await assume(tagger, noTags);
    expect(await errorCode(assume(tagger, { ...noTags, Tags: tagsOf({ Project: 'alpha' }) }))).toBe('AccessDenied');
    // aws:RequestTag/Department must be one of two values; aws:TagKeys and sts:TransitiveTagKeys are bounded.
    const refused: Partial<AssumeRoleCommandInput>[] = [
      { Tags: tagsOf({ Department: 'Sales' }) },
      { Tags: tagsOf({ Project: 'alpha' }) },
      { Tags: tagsOf({ Department: 'Engineering', CostCenter: '1' }) },
      { Tags: tagsOf({ Department: 'Engineering', Team: 'blue' }), TransitiveTagKeys: ['Team'] },
    ];
    for (const input of refused) expect(await errorCode(assume(tagger, input))).toBe('AccessDenied');
    await assume(tagger, { Tags: tagsOf({ Department: 'Marketing', Project: 'p' }), TransitiveTagKeys: ['Project'] });
    // The caller's own policy may deny tagging.
    const denyTags = doc({ Effect: 'Deny', Action: 'sts:TagSession', Resource: '*' });
    await iam().send(new PutUserPolicyCommand({ UserName: 'tagger', PolicyName: 'deny', PolicyDocument: denyTags }));
    expect(await errorCode(assume(tagger, { Tags: tagsOf({ Department: 'Marketing' }) }))).toBe('AccessDenied');
    await assume(tagger, {});
    const { DeleteUserPolicyCommand } = await import('@aws-sdk/client-iam');
    await iam().send(new DeleteUserPolicyCommand({ UserName: 'tagger', PolicyName: 'deny' }));
  });

  it('limits: 50 tags, keys 1-128 and values up to 256 characters, the packed size; no duplicate keys', async () => {
    const many = (n: number, key = (i: number) => `k${i}`, value = () => 'v') =>
      Array.from({ length: n }, (_, i) => ({ Key: key(i), Value: value() }));
    const openTrust = doc({
      Effect: 'Allow',
      Principal: { AWS: TAGGER },
      Action: ['sts:AssumeRole', 'sts:TagSession'],
    });
    await role('open', openTrust);
    const open = { RoleArn: 'arn:aws:iam:::role/open' };
    const ok = await assume(tagger, { ...open, Tags: many(50) });
    expect(ok.out.PackedPolicySize).toBeGreaterThan(0);
    const bad: [Partial<AssumeRoleCommandInput>, string][] = [
      [{ Tags: many(51) }, 'ValidationError'],
      [{ Tags: [{ Key: 'k'.repeat(129), Value: 'v' }] }, 'ValidationError'],
      [{ Tags: [{ Key: 'k', Value: 'v'.repeat(257) }] }, 'ValidationError'],
      [{ Tags: [{ Key: 'aws:x', Value: 'v' }] }, 'ValidationError'],
      [{ Tags: [{ Key: 'bad*key', Value: 'v' }] }, 'ValidationError'],
      [{ Tags: tagsOf({ Dept: 'a', dept: 'b' }) }, 'ValidationError'],
      [{ Tags: tagsOf({ Dept: 'a' }), TransitiveTagKeys: ['Other'] }, 'ValidationError'],
      // 10 tags of the longest key and value: 3,840 characters, over the packed space.
      [
        {
          Tags: many(
            10,
            (i) => `${i}`.padEnd(128, 'k'),
            () => 'v'.repeat(256),
          ),
        },
        'PackedPolicyTooLarge',
      ],
    ];
    for (const [input, code] of bad) expect(await errorCode(assume(tagger, { ...open, ...input }))).toBe(code);
    // Edges that pass: a key of 128, a value of 256, an empty value.
    await assume(tagger, {
      ...open,
      Tags: [
        { Key: 'k'.repeat(128), Value: 'v'.repeat(256) },
        { Key: 'e', Value: '' },
      ],
    });
  });

  it('transitive tags pass through role chaining and cannot be overridden; the others do not pass', async () => {
    const trustsAbac = (...actions: string[]) =>
      doc({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam:::role/abac' }, Action: actions });
    await role('next', trustsAbac('sts:AssumeRole', 'sts:TagSession'));
    await role('next-untagged', trustsAbac('sts:AssumeRole'));
    const first = await assume(tagger, {
      Tags: tagsOf({ Project: 'alpha', Department: 'Engineering' }),
      TransitiveTagKeys: ['project'],
    });
    const chain = (RoleArn: string, extra: Partial<AssumeRoleCommandInput> = {}) =>
      stsClient(server.url, first.creds).send(new AssumeRoleCommand({ RoleArn, RoleSessionName: 'cc', ...extra }));
    const second = toCreds((await chain('arn:aws:iam:::role/next')).Credentials!);
    expect(await reads(second, 'alpha/x')).toBe(true);
    // Department was not transitive: the chained session has none.
    expect(await reads(second, 'dept-Engineering/x')).toBe(false);
    expect(await reads(first.creds, 'dept-Engineering/x')).toBe(true);
    // A tag with an inherited key (any case) is refused; other tags may be added.
    const retag = chain('arn:aws:iam:::role/next', { Tags: tagsOf({ PROJECT: 'beta' }) });
    expect(await errorCode(retag)).toBe('InvalidParameterValue');
    const more = toCreds((await chain('arn:aws:iam:::role/next', { Tags: tagsOf({ Department: 'x' }) })).Credentials!);
    expect(await reads(more, 'alpha/x')).toBe(true);
    // Inherited tags are session tags of the new session: its trust policy must allow sts:TagSession.
    expect(await errorCode(chain('arn:aws:iam:::role/next-untagged'))).toBe('AccessDenied');
    // And they pass on again from the second session.
    await role(
      'third',
      doc({
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam:::role/next' },
        Action: ['sts:AssumeRole', 'sts:TagSession'],
      }),
    );
    const third = await stsClient(server.url, second).send(
      new AssumeRoleCommand({ RoleArn: 'arn:aws:iam:::role/third', RoleSessionName: 'c3' }),
    );
    const thirdCreds = toCreds(third.Credentials!);
    expect(await reads(thirdCreds, 'alpha/x')).toBe(true);
    expect(await reads(thirdCreds, 'beta/x')).toBe(false);
  });

  it('AssumeRole without RoleArn (MinIO form) and GetSessionToken refuse session tags', async () => {
    const sts = stsClient(server.url, tagger);
    const minioForm = sts.send(new AssumeRoleCommand({ Tags: tagsOf({ a: 'b' }) } as AssumeRoleCommandInput));
    expect(await errorCode(minioForm)).toBe('NotImplemented');
  });
});

describe('AssumeRoleWithWebIdentity with the tags claim', () => {
  const webTrust = (...actions: string[]) =>
    doc({
      Effect: 'Allow',
      Principal: { Federated: providerArn },
      Action: actions,
      Condition: { StringEquals: { 'aws:RequestTag/Department': 'Engineering' } },
    });
  const web = async (RoleArn: string, account: string) => {
    const sts = new STSClient({ endpoint: server.url, region: 'us-east-1', maxAttempts: 1 });
    const out = await sts.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn,
        RoleSessionName: 'web',
        WebIdentityToken: await idp.login(account),
      }),
    );
    return { creds: toCreds(out.Credentials!), out };
  };

  it("a real provider's token tags the session; the trust policy judges aws:RequestTag", async () => {
    const arn = await role('web-abac', webTrust('sts:AssumeRoleWithWebIdentity', 'sts:TagSession'));
    const eng = await web(arn, 'eng');
    expect(eng.out.PackedPolicySize).toBeGreaterThan(0);
    expect(await reads(eng.creds, 'alpha/x')).toBe(true);
    expect(await reads(eng.creds, 'dept-Engineering/x')).toBe(true);
    expect(await reads(eng.creds, 'beta/x')).toBe(false);
    // Department=Sales: the condition refuses; no tags at all: aws:RequestTag/Department is absent.
    expect(await errorCode(web(arn, 'sales'))).toBe('AccessDenied');
    expect(await errorCode(web(arn, 'plain'))).toBe('AccessDenied');
  });

  it("a web identity session chains into another role with the token's transitive tags", async () => {
    const first = await role('web-first', webTrust('sts:AssumeRoleWithWebIdentity', 'sts:TagSession'));
    const trustsFirst = (...actions: string[]) => doc({ Effect: 'Allow', Principal: { AWS: first }, Action: actions });
    const next = await role('web-next', trustsFirst('sts:AssumeRole', 'sts:TagSession'));
    const untagged = await role('web-next-untagged', trustsFirst('sts:AssumeRole'));
    const eng = await web(first, 'eng');
    const hop = (RoleArn: string, extra: Partial<AssumeRoleCommandInput> = {}) =>
      stsClient(server.url, eng.creds).send(new AssumeRoleCommand({ RoleArn, RoleSessionName: 'hop', ...extra }));
    const chained = await hop(next);
    const creds = toCreds(chained.Credentials!);
    // Project (transitive in the token) passed on; Department did not.
    expect(await reads(creds, 'alpha/x')).toBe(true);
    expect(await reads(creds, 'dept-Engineering/x')).toBe(false);
    expect(await errorCode(hop(next, { Tags: tagsOf({ project: 'beta' }) }))).toBe('InvalidParameterValue');
    expect(await errorCode(hop(untagged))).toBe('AccessDenied');
    expect(await errorCode(hop(next, { DurationSeconds: 3601 }))).toBe('ValidationError');
    // Deleting the role the login assumed ends the chain.
    const { DeleteRoleCommand, DeleteRolePolicyCommand } = await import('@aws-sdk/client-iam');
    await iam().send(new DeleteRolePolicyCommand({ RoleName: 'web-first', PolicyName: 'p' }));
    await iam().send(new DeleteRoleCommand({ RoleName: 'web-first' }));
    expect(
      await errorCode(s3As(server.url, creds).send(new GetObjectCommand({ Bucket: BUCKET, Key: 'alpha/x' }))),
    ).toBe('AccessDenied');
  });

  it('without sts:TagSession a tagged token is refused; multivalued tags are invalid', async () => {
    const noTag = doc({
      Effect: 'Allow',
      Principal: { Federated: providerArn },
      Action: 'sts:AssumeRoleWithWebIdentity',
    });
    const arn = await role('web-untagged', noTag);
    await web(arn, 'plain');
    expect(await errorCode(web(arn, 'eng'))).toBe('AccessDenied');
    const tagging = await role(
      'web-any',
      doc({
        Effect: 'Allow',
        Principal: { Federated: providerArn },
        Action: ['sts:AssumeRoleWithWebIdentity', 'sts:TagSession'],
      }),
    );
    expect(await errorCode(web(tagging, 'multi'))).toBe('InvalidIdentityToken');
  });
});
