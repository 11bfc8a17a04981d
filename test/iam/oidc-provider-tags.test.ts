// Tags of IAM's OpenID Connect provider objects through @aws-sdk/client-iam against a real server:
// TagOpenIDConnectProvider / UntagOpenIDConnectProvider / ListOpenIDConnectProviderTags (keys without case, at
// most 50, IAM's codes for bad tags and nothing stored), kept across a restart, and every action on a provider
// judged with its tags as aws:ResourceTag/<k> (tagging also with aws:RequestTag/<k> and aws:TagKeys).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateAccessKeyCommand,
  CreateOpenIDConnectProviderCommand,
  CreateUserCommand,
  DeleteOpenIDConnectProviderCommand,
  GetOpenIDConnectProviderCommand,
  ListOpenIDConnectProviderTagsCommand,
  PutUserPolicyCommand,
  TagOpenIDConnectProviderCommand,
  UntagOpenIDConnectProviderCommand,
} from '@aws-sdk/client-iam';
import { startServer, type CairnServer } from '@cairn/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cairn.js';
import { errorCode, iamClient, type Creds } from './helpers.js';

let base: string;
let drives: string[];
let server: CairnServer;

const start = (): Promise<CairnServer> =>
  startServer({
    address: '127.0.0.1:0',
    drives,
    credentials: { root: ROOT, users: [] },
    storage: { background: false },
    shutdownGraceMs: 2000,
  });
const iam = () => iamClient(server.url);
const tagsOf = async (arn: string, client = iam()) =>
  Object.fromEntries(
    ((await client.send(new ListOpenIDConnectProviderTagsCommand({ OpenIDConnectProviderArn: arn }))).Tags ?? []).map(
      (t) => [t.Key, t.Value],
    ),
  );
const create = async (host: string, team: string) =>
  (
    await iam().send(
      new CreateOpenIDConnectProviderCommand({ Url: `https://${host}`, Tags: [{ Key: 'team', Value: team }] }),
    )
  ).OpenIDConnectProviderArn!;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'cairn-oidc-provider-tags-'));
  drives = [1, 2, 3, 4].map((i) => join(base, `d${i}`));
  server = await start();
});
afterAll(async () => {
  await server?.close();
  if (base) await rm(base, { recursive: true, force: true });
});

describe('tags of IAM OpenID Connect providers', () => {
  it('tags, lists and untags (keys without case), and keeps them across a restart', async () => {
    const arn = await create('tags.example.com', 'blue');
    const OpenIDConnectProviderArn = arn;
    await iam().send(
      new TagOpenIDConnectProviderCommand({
        OpenIDConnectProviderArn,
        Tags: [
          { Key: 'Team', Value: 'red' },
          { Key: 'env', Value: 'dev' },
        ],
      }),
    );
    expect(await tagsOf(arn)).toEqual({ Team: 'red', env: 'dev' });
    await iam().send(new UntagOpenIDConnectProviderCommand({ OpenIDConnectProviderArn, TagKeys: ['TEAM'] }));
    expect(await tagsOf(arn)).toEqual({ env: 'dev' });
    // Paged as IAM pages (MaxItems, Marker).
    await iam().send(
      new TagOpenIDConnectProviderCommand({ OpenIDConnectProviderArn, Tags: [{ Key: 'a', Value: '1' }] }),
    );
    const first = await iam().send(new ListOpenIDConnectProviderTagsCommand({ OpenIDConnectProviderArn, MaxItems: 1 }));
    expect([first.Tags, first.IsTruncated, typeof first.Marker]).toEqual([[{ Key: 'a', Value: '1' }], true, 'string']);
    const rest = await iam().send(
      new ListOpenIDConnectProviderTagsCommand({ OpenIDConnectProviderArn, Marker: first.Marker }),
    );
    expect([rest.Tags, rest.IsTruncated]).toEqual([[{ Key: 'env', Value: 'dev' }], false]);

    await server.close();
    server = await start();
    expect(await tagsOf(arn)).toEqual({ a: '1', env: 'dev' });
    const got = await iam().send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn }));
    expect(got.Tags).toEqual([
      { Key: 'env', Value: 'dev' },
      { Key: 'a', Value: '1' },
    ]);
    await iam().send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn }));
  });

  it('refuses bad tags with IAM codes and stores nothing', async () => {
    const arn = await create('bad-tags.example.com', 'blue');
    const OpenIDConnectProviderArn = arn;
    const many = (n: number, prefix: string) =>
      Array.from({ length: n }, (_, i) => ({ Key: `${prefix}${i}`, Value: 'v' }));
    const cases: [object[], string][] = [
      [[{ Key: 'aws:team', Value: 'x' }], 'InvalidInput'],
      [
        [
          { Key: 'k', Value: '1' },
          { Key: 'K', Value: '2' },
        ],
        'InvalidInput',
      ],
      [[{ Key: 'k', Value: 'x'.repeat(257) }], 'ValidationError'],
      [[{ Key: 'bad*key', Value: 'x' }], 'ValidationError'],
      [many(51, 'n'), 'ValidationError'],
      // 1 + 50: over the quota of the provider.
      [many(50, 'n'), 'LimitExceeded'],
    ];
    for (const [Tags, code] of cases) {
      const sent = iam().send(new TagOpenIDConnectProviderCommand({ OpenIDConnectProviderArn, Tags } as never));
      expect(await errorCode(sent), JSON.stringify(Tags).slice(0, 80)).toBe(code);
    }
    expect(
      await errorCode(iam().send(new TagOpenIDConnectProviderCommand({ OpenIDConnectProviderArn, Tags: [] }))),
    ).toBe('ValidationError');
    expect(
      await errorCode(iam().send(new UntagOpenIDConnectProviderCommand({ OpenIDConnectProviderArn, TagKeys: [] }))),
    ).toBe('ValidationError');
    const missing = 'arn:aws:iam:::oidc-provider/missing.example.com';
    expect(
      await errorCode(
        iam().send(
          new TagOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: missing, Tags: [{ Key: 'a', Value: 'b' }] }),
        ),
      ),
    ).toBe('NoSuchEntity');
    expect(await tagsOf(arn)).toEqual({ team: 'blue' });
    await iam().send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn }));
  });

  it('judges every action on a provider by its tags (aws:ResourceTag), tagging also by aws:RequestTag/TagKeys', async () => {
    const blue = await create('blue.example.com', 'blue');
    const red = await create('red.example.com', 'red');
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: [
            'iam:GetOpenIDConnectProvider',
            'iam:ListOpenIDConnectProviderTags',
            'iam:DeleteOpenIDConnectProvider',
          ],
          Resource: '*',
          Condition: { StringEquals: { 'aws:ResourceTag/team': 'blue' } },
        },
        {
          Effect: 'Allow',
          Action: 'iam:TagOpenIDConnectProvider',
          Resource: '*',
          Condition: {
            StringEquals: { 'aws:ResourceTag/team': 'blue' },
            'ForAllValues:StringEquals': { 'aws:TagKeys': ['env'] },
          },
        },
      ],
    });
    await iam().send(new CreateUserCommand({ UserName: 'blue-admin' }));
    await iam().send(new PutUserPolicyCommand({ UserName: 'blue-admin', PolicyName: 'p', PolicyDocument: policy }));
    const k = (await iam().send(new CreateAccessKeyCommand({ UserName: 'blue-admin' }))).AccessKey!;
    const creds: Creds = { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
    const user = iamClient(server.url, creds);

    expect((await user.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: blue }))).Url).toBe(
      'blue.example.com',
    );
    expect(await tagsOf(blue, user)).toEqual({ team: 'blue' });
    expect(await errorCode(user.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: red })))).toBe(
      'AccessDenied',
    );
    await user.send(
      new TagOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: blue, Tags: [{ Key: 'env', Value: 'prod' }] }),
    );
    // Retagging the team (a key the policy does not allow) and tagging the red provider are refused.
    const retag = { OpenIDConnectProviderArn: blue, Tags: [{ Key: 'team', Value: 'red' }] };
    expect(await errorCode(user.send(new TagOpenIDConnectProviderCommand(retag)))).toBe('AccessDenied');
    const other = { OpenIDConnectProviderArn: red, Tags: [{ Key: 'env', Value: 'x' }] };
    expect(await errorCode(user.send(new TagOpenIDConnectProviderCommand(other)))).toBe('AccessDenied');
    // No Untag right at all; a missing provider is AccessDenied too (its existence is not told).
    const untag = { OpenIDConnectProviderArn: blue, TagKeys: ['env'] };
    expect(await errorCode(user.send(new UntagOpenIDConnectProviderCommand(untag)))).toBe('AccessDenied');
    const missing = { OpenIDConnectProviderArn: 'arn:aws:iam:::oidc-provider/missing.example.com' };
    expect(await errorCode(user.send(new GetOpenIDConnectProviderCommand(missing)))).toBe('AccessDenied');
    expect(await errorCode(user.send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: red })))).toBe(
      'AccessDenied',
    );
    expect(await tagsOf(blue)).toEqual({ team: 'blue', env: 'prod' });
    expect(await tagsOf(red)).toEqual({ team: 'red' });

    await user.send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: blue }));
    expect(await errorCode(iam().send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: blue })))).toBe(
      'NoSuchEntity',
    );
    await iam().send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: red }));
  });
});
