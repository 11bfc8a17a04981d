// `cairn admin idp openid list|info` against real servers: MinIO's admin API for identity provider configurations
// (GET idp-config/openid[/NAME], encrypted answers as madmin's ListIDPConfig / GetIDPConfig read them), for a
// server in claim mode, one in role mode and one without a provider; other names and non-admin callers refused.
// Listing and describing the configuration asks nothing of the provider (none runs here).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALT, ROOT, startTestServer, type TestServer } from '../helpers/cairn.js';

const CAIRN = join(import.meta.dirname, '..', '..', 'server', 'bin', 'cairn.js');
const CONFIG_URL = 'http://127.0.0.1:9/.well-known/openid-configuration';
let claimMode: TestServer;
let roleMode: TestServer;
let none: TestServer;

async function cairn(
  server: TestServer,
  args: string[],
  who = ROOT,
): Promise<{ code: number; out: string; err: string }> {
  const env = {
    ...process.env,
    CAIRN_ENDPOINT: server.url,
    CAIRN_ACCESS_KEY: who.accessKey,
    CAIRN_SECRET_KEY: who.secretKey,
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
  const base = { configUrl: CONFIG_URL, clientId: 'cairn-client', claimName: 'policy', claimPrefix: '' };
  claimMode = await startTestServer({ openid: { ...base, claimName: 'groups', claimPrefix: 'cairn' } });
  roleMode = await startTestServer({ openid: { ...base, rolePolicy: ['readonly', 'diagnostics'] } });
  none = await startTestServer();
});
afterAll(async () => {
  await Promise.all([claimMode?.close(), roleMode?.close(), none?.close()]);
});

describe('cairn admin idp openid', () => {
  it('list: the configured provider, named _ as MinIO names it, with its role ARN in role mode', async () => {
    const table = await cairn(claimMode, ['idp', 'openid', 'list']);
    expect(table.out.split('\n')[0]).toMatch(/^NAME\s+TYPE\s+ENABLED\s+ROLEARN$/);
    expect(table.out).toMatch(/^_\s+openid\s+on$/m);
    expect(JSON.parse((await cairn(claimMode, ['--json', 'idp', 'openid', 'list'])).out)).toEqual([
      { type: 'openid', name: '_', enabled: true },
    ]);
    const role = JSON.parse((await cairn(roleMode, ['--json', 'idp', 'openid', 'list'])).out);
    expect(role).toEqual([
      { type: 'openid', name: '_', enabled: true, roleARN: expect.stringMatching(/^arn:minio:iam:/) },
    ]);
    expect(JSON.parse((await cairn(none, ['--json', 'idp', 'openid', 'list'])).out)).toEqual([]);
  });

  it('info: the settings in MinIO key names, the role ARN in role mode', async () => {
    const table = await cairn(claimMode, ['idp', 'openid', 'info']);
    expect(table.out.split('\n')[0]).toMatch(/^KEY\s+VALUE\s+ENV$/);
    expect(table.out).toMatch(/^config_url\s+http:\/\/127\.0\.0\.1:9\/\.well-known\/openid-configuration\s+yes$/m);
    const claim = JSON.parse((await cairn(claimMode, ['--json', 'idp', 'openid', 'info', '_'])).out);
    expect(claim).toEqual({
      type: 'openid',
      name: '_',
      info: [
        { key: 'enable', value: 'on', isCfg: true, isEnv: false },
        { key: 'config_url', value: CONFIG_URL, isCfg: true, isEnv: true },
        { key: 'client_id', value: 'cairn-client', isCfg: true, isEnv: true },
        { key: 'claim_name', value: 'groups', isCfg: true, isEnv: true },
        { key: 'claim_prefix', value: 'cairn', isCfg: true, isEnv: true },
      ],
    });
    const role = JSON.parse((await cairn(roleMode, ['--json', 'idp', 'openid', 'info'])).out) as {
      info: { key: string; value: string }[];
    };
    const values = Object.fromEntries(role.info.map((i) => [i.key, i.value]));
    expect(values.role_policy).toBe('readonly,diagnostics');
    expect(values.roleARN).toMatch(/^arn:minio:iam:us-east-1::role\//);
    expect(values.claim_name).toBeUndefined();
  });

  it('another name, or no provider: XMinioAdminNoSuchConfigTarget; a caller without admin rights: AccessDenied', async () => {
    const other = await cairn(claimMode, ['idp', 'openid', 'info', 'dex']);
    expect([other.code !== 0, other.err]).toEqual([true, expect.stringContaining('XMinioAdminNoSuchConfigTarget')]);
    const unset = await cairn(none, ['idp', 'openid', 'info']);
    expect([unset.code !== 0, unset.err]).toEqual([true, expect.stringContaining('XMinioAdminNoSuchConfigTarget')]);
    // ALT is a static user, not an IAM admin: the admin API refuses it (admin:ConfigUpdate, as MinIO asks).
    const denied = await cairn(claimMode, ['idp', 'openid', 'list'], ALT);
    expect([denied.code !== 0, denied.err]).toEqual([true, expect.stringContaining('AccessDenied')]);
  });
});
