// Tags of IAM users and roles in identity policies, through @aws-sdk/client-iam and client-sts against a real
// server: an action on a user or role is judged with its tags as aws:ResourceTag/<k> and iam:ResourceTag/<k>;
// TagUser/TagRole/CreateUser/CreateRole with aws:RequestTag/<k> and aws:TagKeys, UntagUser/UntagRole with
// aws:TagKeys; AttachUserPolicy with iam:PolicyARN; sts:AssumeRole in the caller's own policy with the role's
// tags. Each refusal is checked to change nothing; bad tags get IAM's codes and nothing stored.
import {
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteRoleCommand,
  DeleteUserCommand,
  GetRoleCommand,
  GetUserCommand,
  ListAttachedUserPoliciesCommand,
  ListRoleTagsCommand,
  ListUsersCommand,
  ListUserTagsCommand,
  PutUserPolicyCommand,
  TagRoleCommand,
  TagUserCommand,
  UntagUserCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/cairn.js';
import { errorCode, iamClient, stsClient, type Creds } from './helpers.js';

let server: TestServer;
const iam = () => iamClient(server.url);
const doc = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const tagsOf = (o: Record<string, string>) => Object.entries(o).map(([Key, Value]) => ({ Key, Value }));

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => server.close());

/** A user with `policy` inline and an access key. */
async function principal(name: string, policy: string): Promise<Creds> {
  await iam().send(new CreateUserCommand({ UserName: name }));
  await iam().send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'p', PolicyDocument: policy }));
  const k = await iam().send(new CreateAccessKeyCommand({ UserName: name }));
  return { accessKeyId: k.AccessKey!.AccessKeyId!, secretAccessKey: k.AccessKey!.SecretAccessKey! };
}

const userTags = async (name: string) =>
  Object.fromEntries(
    ((await iam().send(new ListUserTagsCommand({ UserName: name }))).Tags ?? []).map((t) => [t.Key, t.Value]),
  );
const exists = (p: Promise<unknown>) =>
  p.then(
    () => true,
    (e: Error) => (e.name.startsWith('NoSuchEntity') ? false : Promise.reject(e)),
  );

describe('aws:ResourceTag and iam:ResourceTag: the tags of the user or role acted on', () => {
  it('a manager of the blue team may read, change and delete blue users only', async () => {
    await iam().send(new CreateUserCommand({ UserName: 'blue-1', Tags: tagsOf({ team: 'blue' }) }));
    await iam().send(new CreateUserCommand({ UserName: 'red-1', Tags: tagsOf({ Team: 'red' }) }));
    await iam().send(new CreateUserCommand({ UserName: 'untagged-1' }));
    const manager = await principal(
      'blue-manager',
      doc({
        Effect: 'Allow',
        Action: ['iam:GetUser', 'iam:AttachUserPolicy', 'iam:DeleteUser', 'iam:ListUserTags'],
        Resource: 'arn:aws:iam:::user/*',
        // The key's case does not matter (the user above was tagged `Team`), as in IAM.
        Condition: { StringEquals: { 'aws:ResourceTag/Team': 'blue' } },
      }),
    );
    const as = iamClient(server.url, manager);
    expect((await as.send(new GetUserCommand({ UserName: 'blue-1' }))).User?.UserName).toBe('blue-1');
    expect(await errorCode(as.send(new GetUserCommand({ UserName: 'red-1' })))).toBe('AccessDenied');
    expect(await errorCode(as.send(new GetUserCommand({ UserName: 'untagged-1' })))).toBe('AccessDenied');
    const readonly = 'arn:aws:iam:::policy/readonly';
    await as.send(new AttachUserPolicyCommand({ UserName: 'blue-1', PolicyArn: readonly }));
    expect(await errorCode(as.send(new AttachUserPolicyCommand({ UserName: 'red-1', PolicyArn: readonly })))).toBe(
      'AccessDenied',
    );
    const attached = (name: string) =>
      iam()
        .send(new ListAttachedUserPoliciesCommand({ UserName: name }))
        .then((r) => r.AttachedPolicies?.map((p) => p.PolicyName) ?? []);
    expect(await attached('blue-1')).toEqual(['readonly']);
    expect(await attached('red-1')).toEqual([]);
    expect(await errorCode(as.send(new DeleteUserCommand({ UserName: 'red-1' })))).toBe('AccessDenied');
    expect(await exists(iam().send(new GetUserCommand({ UserName: 'red-1' })))).toBe(true);
  });

  it('iam:ResourceTag in a Deny protects tagged roles; untagged ones are deleted', async () => {
    const trust = doc({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam:::root' }, Action: 'sts:AssumeRole' });
    await iam().send(
      new CreateRoleCommand({ RoleName: 'kept', AssumeRolePolicyDocument: trust, Tags: tagsOf({ protected: 'true' }) }),
    );
    await iam().send(new CreateRoleCommand({ RoleName: 'scratch', AssumeRolePolicyDocument: trust }));
    const admin = await principal(
      'role-admin',
      doc(
        { Effect: 'Allow', Action: 'iam:*', Resource: '*' },
        {
          Effect: 'Deny',
          Action: ['iam:DeleteRole', 'iam:TagRole', 'iam:UntagRole'],
          Resource: '*',
          Condition: { StringEquals: { 'iam:ResourceTag/protected': 'true' } },
        },
      ),
    );
    const as = iamClient(server.url, admin);
    expect(await errorCode(as.send(new DeleteRoleCommand({ RoleName: 'kept' })))).toBe('AccessDenied');
    expect(
      await errorCode(as.send(new TagRoleCommand({ RoleName: 'kept', Tags: tagsOf({ protected: 'false' }) }))),
    ).toBe('AccessDenied');
    const kept = await iam().send(new GetRoleCommand({ RoleName: 'kept' }));
    expect(kept.Role?.Tags).toEqual([{ Key: 'protected', Value: 'true' }]);
    await as.send(new DeleteRoleCommand({ RoleName: 'scratch' }));
    expect(await exists(iam().send(new GetRoleCommand({ RoleName: 'scratch' })))).toBe(false);
  });

  it("sts:AssumeRole in the caller's own policy is judged by the role's tags", async () => {
    const trust = doc({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam:::root' }, Action: 'sts:AssumeRole' });
    for (const [RoleName, env] of [
      ['dev-role', 'dev'],
      ['prod-role', 'prod'],
    ]) {
      await iam().send(new CreateRoleCommand({ RoleName, AssumeRolePolicyDocument: trust, Tags: tagsOf({ env }) }));
    }
    const dev = await principal(
      'developer',
      doc({
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Resource: '*',
        Condition: { StringEquals: { 'aws:ResourceTag/env': 'dev' } },
      }),
    );
    const assume = (role: string) =>
      stsClient(server.url, dev).send(
        new AssumeRoleCommand({ RoleArn: `arn:aws:iam:::role/${role}`, RoleSessionName: 'dev-session' }),
      );
    expect((await assume('dev-role')).Credentials?.AccessKeyId).toMatch(/^ASIA/);
    expect(await errorCode(assume('prod-role'))).toBe('AccessDenied');
  });
});

describe('aws:RequestTag, aws:TagKeys and iam:PolicyARN', () => {
  it('TagUser and CreateUser may set only the allowed tag (the IAM User Guide example)', async () => {
    await iam().send(new CreateUserCommand({ UserName: 'tag-target', Tags: tagsOf({ team: 'blue' }) }));
    const tagger = await principal(
      'cost-tagger',
      doc({
        Effect: 'Allow',
        Action: ['iam:TagUser', 'iam:CreateUser'],
        Resource: '*',
        Condition: {
          StringEquals: { 'aws:RequestTag/CostCenter': ['A-123', 'B-456'] },
          'ForAllValues:StringEquals': { 'aws:TagKeys': 'CostCenter' },
        },
      }),
    );
    const as = iamClient(server.url, tagger);
    await as.send(new TagUserCommand({ UserName: 'tag-target', Tags: tagsOf({ CostCenter: 'A-123' }) }));
    const refused: Record<string, string>[] = [
      { CostCenter: 'C-789' },
      { CostCenter: 'B-456', team: 'red' },
      { team: 'red' },
    ];
    for (const tags of refused) {
      expect(await errorCode(as.send(new TagUserCommand({ UserName: 'tag-target', Tags: tagsOf(tags) })))).toBe(
        'AccessDenied',
      );
    }
    expect(await userTags('tag-target')).toEqual({ team: 'blue', CostCenter: 'A-123' });
    await as.send(new CreateUserCommand({ UserName: 'costed', Tags: tagsOf({ CostCenter: 'B-456' }) }));
    expect(await errorCode(as.send(new CreateUserCommand({ UserName: 'uncosted' })))).toBe('AccessDenied');
    expect(await exists(iam().send(new GetUserCommand({ UserName: 'uncosted' })))).toBe(false);
  });

  it('UntagUser is judged by aws:TagKeys; AttachUserPolicy by iam:PolicyARN', async () => {
    await iam().send(new CreateUserCommand({ UserName: 'untag-target', Tags: tagsOf({ team: 'blue', note: 'x' }) }));
    const editor = await principal(
      'untagger',
      doc(
        { Effect: 'Allow', Action: ['iam:UntagUser', 'iam:AttachUserPolicy'], Resource: '*' },
        {
          Effect: 'Deny',
          Action: 'iam:UntagUser',
          Resource: '*',
          Condition: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': 'team' } },
        },
        {
          Effect: 'Deny',
          Action: 'iam:AttachUserPolicy',
          Resource: '*',
          Condition: { ArnNotEquals: { 'iam:PolicyARN': 'arn:aws:iam:::policy/readonly' } },
        },
      ),
    );
    const as = iamClient(server.url, editor);
    expect(
      await errorCode(as.send(new UntagUserCommand({ UserName: 'untag-target', TagKeys: ['note', 'team'] }))),
    ).toBe('AccessDenied');
    expect(await userTags('untag-target')).toEqual({ team: 'blue', note: 'x' });
    await as.send(new UntagUserCommand({ UserName: 'untag-target', TagKeys: ['note'] }));
    expect(await userTags('untag-target')).toEqual({ team: 'blue' });
    const attach = (PolicyArn: string) => as.send(new AttachUserPolicyCommand({ UserName: 'untag-target', PolicyArn }));
    expect(await errorCode(attach('arn:aws:iam:::policy/readwrite'))).toBe('AccessDenied');
    await attach('arn:aws:iam:::policy/readonly');
  });
});

describe('tags as IAM checks them', () => {
  it('keys compare without case: tagging `team` replaces `Team`, untagging `TEAM` removes it', async () => {
    await iam().send(new CreateUserCommand({ UserName: 'cased', Tags: tagsOf({ Team: 'blue', a: '1' }) }));
    await iam().send(new TagUserCommand({ UserName: 'cased', Tags: tagsOf({ team: 'red' }) }));
    expect(await userTags('cased')).toEqual({ a: '1', team: 'red' });
    await iam().send(new UntagUserCommand({ UserName: 'cased', TagKeys: ['TEAM'] }));
    expect(await userTags('cased')).toEqual({ a: '1' });
  });

  it('bad tags are refused with IAM codes and nothing is stored', async () => {
    await iam().send(new CreateUserCommand({ UserName: 'checked', Tags: tagsOf({ keep: 'me' }) }));
    const many = (n: number) => Array.from({ length: n }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    for (const [Tags, code] of [
      [[{ Key: 'aws:owner', Value: 'x' }], 'InvalidInput'],
      [tagsOf({ Dept: 'a', dept: 'b' }), 'InvalidInput'],
      [[{ Key: 'bad*key', Value: 'v' }], 'ValidationError'],
      [[{ Key: 'k'.repeat(129), Value: 'v' }], 'ValidationError'],
      [[{ Key: 'k', Value: 'v'.repeat(257) }], 'ValidationError'],
      [many(50), 'LimitExceeded'], // 50 new + the one it has
      [many(51), 'ValidationError'],
    ] as const) {
      expect(await errorCode(iam().send(new TagUserCommand({ UserName: 'checked', Tags: [...Tags] })))).toBe(code);
      expect(await userTags('checked')).toEqual({ keep: 'me' });
    }
    expect(
      await errorCode(iam().send(new CreateUserCommand({ UserName: 'never', Tags: [{ Key: 'aws:x', Value: '' }] }))),
    ).toBe('InvalidInput');
    expect(await exists(iam().send(new GetUserCommand({ UserName: 'never' })))).toBe(false);
  });
});

describe('ListUserTags and ListRoleTags page as IAM pages (MaxItems, Marker)', () => {
  // Sorted by key without case; the keys beyond Latin-1 still give a Marker within IAM's pattern.
  const tags = tagsOf({ b: '2', A: '1', 日本: 'y', c: '3', Équipe: 'x' });
  const sorted = ['A', 'b', 'c', 'Équipe', '日本'];
  const list = {
    user: (o: { MaxItems?: number; Marker?: string }) =>
      iam().send(new ListUserTagsCommand({ UserName: 'paged-user', ...o })),
    role: (o: { MaxItems?: number; Marker?: string }) =>
      iam().send(new ListRoleTagsCommand({ RoleName: 'paged-role', ...o })),
  };

  beforeAll(async () => {
    await iam().send(new CreateUserCommand({ UserName: 'paged-user', Tags: tags }));
    const trust = doc({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam:::root' }, Action: 'sts:AssumeRole' });
    await iam().send(new CreateRoleCommand({ RoleName: 'paged-role', AssumeRolePolicyDocument: trust, Tags: tags }));
  });

  it('gives MaxItems tags a page, IsTruncated and a Marker to go on from', async () => {
    for (const [what, call] of Object.entries(list)) {
      const pages: [string[], boolean | undefined][] = [];
      let Marker: string | undefined;
      do {
        const got = await call({ MaxItems: 2, Marker });
        pages.push([(got.Tags ?? []).map((t) => t.Key!), got.IsTruncated]);
        expect(got.Marker === undefined, what).toBe(!got.IsTruncated);
        if (got.Marker !== undefined) expect(got.Marker, what).toMatch(/^[\u0020-\u00FF]+$/);
        Marker = got.Marker;
      } while (Marker !== undefined && pages.length < 10);
      expect(pages, what).toEqual([
        [['A', 'b'], true],
        [['c', 'Équipe'], true],
        [['日本'], false],
      ]);
      const all = await call({});
      expect([all.Tags?.map((t) => t.Key), all.IsTruncated], what).toEqual([sorted, false]);
      expect((await call({ MaxItems: 5 })).IsTruncated, what).toBe(false);
    }
  });

  it('refuses a MaxItems out of 1..1000 and a Marker it did not give with ValidationError', async () => {
    const cases: { MaxItems?: number; Marker?: string }[] = [
      { MaxItems: 0 },
      { MaxItems: 1001 },
      { MaxItems: 1.5 },
      { MaxItems: -1 },
      { Marker: '' },
      { Marker: 'not a marker!' },
      { Marker: 'YQ==' }, // base64 with padding: not the form Cairn gives
      { Marker: '%FF' },
    ];
    for (const [what, call] of Object.entries(list)) {
      for (const o of cases) expect(await errorCode(call(o)), `${what} ${JSON.stringify(o)}`).toBe('ValidationError');
      expect(
        (await call({})).Tags?.map((t) => t.Key),
        what,
      ).toEqual(sorted);
    }
    // The same paging serves ListUsers.
    expect(await errorCode(iam().send(new ListUsersCommand({ Marker: 'not a marker!' })))).toBe('ValidationError');
    expect(await errorCode(iam().send(new ListUsersCommand({ MaxItems: 0 })))).toBe('ValidationError');
  });
});
