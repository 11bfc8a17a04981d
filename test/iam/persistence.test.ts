// IAM's state lives with the data: after a restart, and after losing a drive, users, keys, policies, groups,
// roles and service accounts are all there, secrets included (sealed on the drives, never in clear).
import { readFile, readdir, rm } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AddUserToGroupCommand,
  AttachGroupPolicyCommand,
  CreateAccessKeyCommand,
  CreateGroupCommand,
  CreateRoleCommand,
  CreateUserCommand,
  GetRoleCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startServer, type CairnServer } from '@cairn/server';
import { afterAll, describe, expect, it } from 'vitest';
import { ALT, ROOT } from '../helpers/cairn.js';
import { errorCode, iamClient, s3As, type Creds } from './helpers.js';

let base = '';
afterAll(async () => {
  if (base) await rm(base, { recursive: true, force: true });
});

const start = (drives: string[]): Promise<CairnServer> =>
  startServer({
    address: '127.0.0.1:0',
    drives,
    credentials: { root: ROOT, users: [ALT] },
    storage: { background: false },
  });

/** Every file under a directory, recursively. */
async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await files(p)));
    else out.push(p);
  }
  return out;
}

describe('IAM state on the drives', () => {
  it('survives a restart and the loss of a drive; secrets are not stored in clear', async () => {
    base = await mkdtemp(join(tmpdir(), 'cairn-iam-'));
    const drives = [1, 2, 3, 4].map((i) => join(base, `d${i}`));
    let server = await start(drives);
    let creds: Creds;
    try {
      const iam = iamClient(server.url);
      await iam.send(new CreateUserCommand({ UserName: 'kept' }));
      const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'kept' }))).AccessKey!;
      creds = { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
      await iam.send(new CreateGroupCommand({ GroupName: 'keepers' }));
      await iam.send(
        new AttachGroupPolicyCommand({ GroupName: 'keepers', PolicyArn: 'arn:aws:iam:::policy/readonly' }),
      );
      await iam.send(new AddUserToGroupCommand({ GroupName: 'keepers', UserName: 'kept' }));
      const deny = {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Deny', Action: 's3:GetObject', Resource: 'arn:aws:s3:::kept-bucket/secret' }],
      };
      await iam.send(
        new PutUserPolicyCommand({ UserName: 'kept', PolicyName: 'd', PolicyDocument: JSON.stringify(deny) }),
      );
      const trust = {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam:::user/kept' }, Action: 'sts:AssumeRole' }],
      };
      await iam.send(new CreateRoleCommand({ RoleName: 'kept-role', AssumeRolePolicyDocument: JSON.stringify(trust) }));
      const s3 = s3As(server.url, { accessKeyId: ROOT.accessKey, secretAccessKey: ROOT.secretKey });
      await s3.send(new CreateBucketCommand({ Bucket: 'kept-bucket' }));
      await s3.send(new PutObjectCommand({ Bucket: 'kept-bucket', Key: 'open', Body: 'o' }));
      await s3.send(new PutObjectCommand({ Bucket: 'kept-bucket', Key: 'secret', Body: 's' }));
    } finally {
      await server.close();
    }
    // The secret is nowhere on the drives in clear.
    for (const d of drives) {
      for (const f of await files(join(d, '.cairn.sys', 'config'))) {
        expect((await readFile(f)).includes(Buffer.from(creds.secretAccessKey)), f).toBe(false);
      }
    }
    const check = async () => {
      const s3 = s3As(server.url, creds);
      expect(
        await (await s3.send(new GetObjectCommand({ Bucket: 'kept-bucket', Key: 'open' }))).Body!.transformToString(),
      ).toBe('o');
      expect(await errorCode(s3.send(new GetObjectCommand({ Bucket: 'kept-bucket', Key: 'secret' })))).toBe(
        'AccessDenied',
      );
      const role = await iamClient(server.url).send(new GetRoleCommand({ RoleName: 'kept-role' }));
      expect(role.Role?.Arn).toBe('arn:aws:iam:::role/kept-role');
    };
    server = await start(drives);
    try {
      await check();
    } finally {
      await server.close();
    }
    // A drive lost (emptied): the state is read from the others.
    await rm(drives[0], { recursive: true, force: true });
    server = await start(drives);
    try {
      await check();
    } finally {
      await server.close();
    }
  });
});
