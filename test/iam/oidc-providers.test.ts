// IAM's OpenID Connect provider objects through @aws-sdk/client-iam: create, get (the URL as IAM answers it,
// without its scheme), list, client ids added and removed, thumbprints replaced, delete; bad input refused
// with nothing stored; kept on the drives across a restart; and a user without the rights refused.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AddClientIDToOpenIDConnectProviderCommand,
  CreateAccessKeyCommand,
  CreateOpenIDConnectProviderCommand,
  CreateUserCommand,
  DeleteOpenIDConnectProviderCommand,
  GetOpenIDConnectProviderCommand,
  ListOpenIDConnectProvidersCommand,
  RemoveClientIDFromOpenIDConnectProviderCommand,
  UpdateOpenIDConnectProviderThumbprintCommand,
} from '@aws-sdk/client-iam';
import { startServer, type CairnServer } from '@cairn/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALT, ROOT } from '../helpers/cairn.js';
import { errorCode, iamClient } from './helpers.js';

const THUMB_A = '3768084dfb3d2b68b7897bf5f565da8efEXAMPLE';
const THUMB_B = 'aaaaaaaaaabbbbbbbbbbccccccccccdddddddddd';
let base: string;
let drives: string[];
let server: CairnServer;

const start = (): Promise<CairnServer> =>
  startServer({
    address: '127.0.0.1:0',
    drives,
    credentials: { root: ROOT, users: [ALT] },
    storage: { background: false },
    shutdownGraceMs: 2000,
  });
const iam = () => iamClient(server.url);
const arns = async () =>
  ((await iam().send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList ?? []).map((p) => p.Arn);

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'cairn-oidc-providers-'));
  drives = [1, 2, 3, 4].map((i) => join(base, `d${i}`));
  server = await start();
});
afterAll(async () => {
  await server?.close();
  if (base) await rm(base, { recursive: true, force: true });
});

describe('IAM OpenID Connect providers', () => {
  it('creates, reads, lists, changes and deletes one', async () => {
    const created = await iam().send(
      new CreateOpenIDConnectProviderCommand({
        Url: 'https://idp.example.com/realms/demo/',
        ClientIDList: ['app-one'],
        ThumbprintList: [THUMB_A],
        Tags: [{ Key: 'team', Value: 'data' }],
      }),
    );
    const arn = 'arn:aws:iam:::oidc-provider/idp.example.com/realms/demo';
    expect(created.OpenIDConnectProviderArn).toBe(arn);
    expect(await arns()).toEqual([arn]);
    const got = await iam().send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }));
    expect(got).toMatchObject({
      Url: 'idp.example.com/realms/demo',
      ClientIDList: ['app-one'],
      ThumbprintList: [THUMB_A],
      Tags: [{ Key: 'team', Value: 'data' }],
    });
    expect(got.CreateDate).toBeInstanceOf(Date);

    // Adding twice and removing what is not there change nothing.
    for (const ClientID of ['app-two', 'app-two']) {
      await iam().send(new AddClientIDToOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn, ClientID }));
    }
    await iam().send(
      new RemoveClientIDFromOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn, ClientID: 'app-one' }),
    );
    await iam().send(
      new RemoveClientIDFromOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn, ClientID: 'never' }),
    );
    await iam().send(
      new UpdateOpenIDConnectProviderThumbprintCommand({ OpenIDConnectProviderArn: arn, ThumbprintList: [THUMB_B] }),
    );
    expect(await iam().send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }))).toMatchObject({
      ClientIDList: ['app-two'],
      ThumbprintList: [THUMB_B],
    });

    // The state is on the drives: a restarted server has it.
    await server.close();
    server = await start();
    expect(await arns()).toEqual([arn]);
    expect(
      (await iam().send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }))).ClientIDList,
    ).toEqual(['app-two']);

    await iam().send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }));
    expect(await arns()).toEqual([]);
    expect(await errorCode(iam().send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn })))).toBe(
      'NoSuchEntity',
    );
    expect(await errorCode(iam().send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn })))).toBe(
      'NoSuchEntity',
    );
  });

  it('refuses a second provider for a URL, bad URLs, thumbprints and ARNs, storing nothing', async () => {
    const url = 'https://dup.example.com';
    const { OpenIDConnectProviderArn: arn } = await iam().send(
      new CreateOpenIDConnectProviderCommand({ Url: url, ClientIDList: ['a'] }),
    );
    expect(await errorCode(iam().send(new CreateOpenIDConnectProviderCommand({ Url: `${url}/` })))).toBe(
      'EntityAlreadyExists',
    );
    for (const input of [
      { Url: 'ftp://idp.example.com' },
      { Url: 'https://idp.example.com/?q=1' },
      { Url: `https://${'a'.repeat(250)}.com` },
      { Url: 'https://thumb.example.com', ThumbprintList: ['not-forty-hex'] },
      { Url: 'https://thumb.example.com', ThumbprintList: Array(6).fill(THUMB_A) },
      { Url: 'https://client.example.com', ClientIDList: ['x'.repeat(256)] },
    ]) {
      expect(await errorCode(iam().send(new CreateOpenIDConnectProviderCommand(input)))).toBe('InvalidInput');
    }
    expect(
      await errorCode(
        iam().send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: 'arn:aws:iam:::role/x' })),
      ),
    ).toBe('InvalidInput');
    expect(
      await errorCode(
        iam().send(
          new UpdateOpenIDConnectProviderThumbprintCommand({ OpenIDConnectProviderArn: arn, ThumbprintList: ['x'] }),
        ),
      ),
    ).toBe('InvalidInput');
    expect(await arns()).toEqual([arn]);
    expect(
      (await iam().send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }))).ThumbprintList,
    ).toEqual([]);
    await iam().send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }));
  });

  it('refuses a user whose policies do not allow it, and changes nothing', async () => {
    await iam().send(new CreateUserCommand({ UserName: 'no-rights' }));
    const key = (await iam().send(new CreateAccessKeyCommand({ UserName: 'no-rights' }))).AccessKey!;
    const user = iamClient(server.url, { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! });
    expect(
      await errorCode(user.send(new CreateOpenIDConnectProviderCommand({ Url: 'https://sneaky.example.com' }))),
    ).toBe('AccessDenied');
    expect(await errorCode(user.send(new ListOpenIDConnectProvidersCommand({})))).toBe('AccessDenied');
    expect(await arns()).toEqual([]);
  });
});
