// `cairn admin ...` against a real server: users, groups, policies and service accounts, as tables and JSON.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand, PutObjectCommand, CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startTestServer, type TestServer } from '../helpers/cairn.js';
import { errorCode, s3As } from './helpers.js';

const CAIRN = join(import.meta.dirname, '..', '..', 'server', 'bin', 'cairn.js');
/** Each test starts a dozen `cairn admin` processes: on a busy 2-core machine each can take seconds to start. */
const CLI_TEST_TIMEOUT = 180_000;
let server: TestServer;

async function cairn(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const env = {
    ...process.env,
    CAIRN_ENDPOINT: server.url,
    CAIRN_ROOT_USER: ROOT.accessKey,
    CAIRN_ROOT_PASSWORD: ROOT.secretKey,
  };
  try {
    const r = await promisify(execFile)(process.execPath, [CAIRN, 'admin', ...args], { env });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout, err: x.stderr };
  }
}

beforeAll(async () => {
  server = await startTestServer();
  await server.client().send(new CreateBucketCommand({ Bucket: 'cli-data' }));
  await server.client().send(new PutObjectCommand({ Bucket: 'cli-data', Key: 'k', Body: 'v' }));
});
afterAll(async () => server.close());

describe('cairn admin', { timeout: CLI_TEST_TIMEOUT }, () => {
  it('users, policies and groups, as tables and JSON', async () => {
    expect((await cairn('user', 'add', 'cliuser', 'cli-user-secret')).out).toContain('user cliuser added');
    const list = await cairn('user', 'list');
    expect(list.out.split('\n')[0]).toMatch(/^NAME\s+STATUS\s+POLICIES\s+GROUPS$/);
    expect(list.out).toMatch(/cliuser\s+enabled/);
    const s3 = s3As(server.url, { accessKeyId: 'cliuser', secretAccessKey: 'cli-user-secret' });
    expect(await errorCode(s3.send(new GetObjectCommand({ Bucket: 'cli-data', Key: 'k' })))).toBe('AccessDenied');
    const file = join(server.drives[0], '..', 'policy.json');
    const doc = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::cli-data/*' }],
    };
    await writeFile(file, JSON.stringify(doc));
    expect((await cairn('policy', 'create', 'cli-read', file)).code).toBe(0);
    expect((await cairn('policy', 'list')).out).toMatch(/cli-read\s+1/);
    expect((await cairn('policy', 'attach', 'cli-read', '--user', 'cliuser')).code).toBe(0);
    await s3.send(new GetObjectCommand({ Bucket: 'cli-data', Key: 'k' }));
    const info = JSON.parse((await cairn('--json', 'user', 'info', 'cliuser')).out) as { policyName: string };
    expect(info.policyName).toBe('cli-read');
    expect((await cairn('group', 'add', 'cligroup', 'cliuser')).code).toBe(0);
    expect(JSON.parse((await cairn('--json', 'group', 'list')).out)).toEqual(['cligroup']);
    expect((await cairn('user', 'disable', 'cliuser')).code).toBe(0);
    expect(await errorCode(s3.send(new GetObjectCommand({ Bucket: 'cli-data', Key: 'k' })))).toBe('InvalidAccessKeyId');
    // Errors are the server's, with a non-zero exit.
    const bad = await cairn('policy', 'attach', 'no-such-policy', '--user', 'cliuser');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/XMinioAdminNoSuchPolicy/);
  });

  it('service accounts: made for a user, narrowed by a policy, listed, removed', async () => {
    await cairn('user', 'add', 'svcparent', 'svc-parent-secret');
    await cairn('policy', 'attach', 'readwrite', '--user', 'svcparent');
    const made = await cairn(
      '--json',
      'svcacct',
      'add',
      'svcparent',
      '--access-key',
      'svcclikey',
      '--secret-key',
      'svc-cli-secret-1',
    );
    expect(JSON.parse(made.out)).toMatchObject({ accessKey: 'svcclikey', secretKey: 'svc-cli-secret-1' });
    const sa = s3As(server.url, { accessKeyId: 'svcclikey', secretAccessKey: 'svc-cli-secret-1' });
    await sa.send(new PutObjectCommand({ Bucket: 'cli-data', Key: 'by-sa', Body: 'x' }));
    expect((await cairn('svcacct', 'list', 'svcparent')).out).toMatch(/svcclikey\s+on/);
    expect((await cairn('svcacct', 'disable', 'svcclikey')).code).toBe(0);
    expect(await errorCode(sa.send(new GetObjectCommand({ Bucket: 'cli-data', Key: 'k' })))).toBe('InvalidAccessKeyId');
    expect((await cairn('svcacct', 'remove', 'svcclikey')).code).toBe(0);
    expect((await cairn('--json', 'svcacct', 'list', 'svcparent')).out.trim()).toBe('[]');
  });
});
