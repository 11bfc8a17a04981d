// identity_openid and identity_ldap in the stored server configuration (MinIO's key names): set over the admin
// API with the secrets redacted when read back, every bad value refused with nothing stored, and in effect once the
// server restarts on the same drives (a real oidc-provider's ID token and a real slapd's user log in through STS);
// the environment wins (CAIRN_IDENTITY_OPENID_ENABLE=off). Like MinIO, these subsystems apply at restart.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { startServer, type CairnServer } from '@cairn/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCall, adminText, type AdminTarget } from '../../server/src/cli/admin-client.js';
import { ALT, makeClient, ROOT } from '../helpers/cairn.js';
import { CLIENT_ID, startOidcProvider, type OidcProvider } from '../helpers/oidc.js';
import { LDAP_ALICE, LDAP_SUFFIX, type LdapDirectory, startLdapDirectory } from '../helpers/ldap-directory.js';
import { errorCode, s3As } from '../iam/helpers.js';

const CAIRN = join(import.meta.dirname, '..', '..', 'server', 'bin', 'cairn.js');

let base: string;
let drives: string[];
let server: CairnServer;
let idp: OidcProvider;
let directory: LdapDirectory;

async function start(env: NodeJS.ProcessEnv = {}): Promise<void> {
  server = await startServer({
    drives,
    address: '127.0.0.1:0',
    credentials: { root: ROOT, users: [ALT] },
    storage: { background: false },
    shutdownGraceMs: 2000,
    env,
  });
}

const as = (): AdminTarget => ({ endpoint: server.url, region: 'us-east-1', ...ROOT });
const get = (key: string) => adminText(as(), { method: 'GET', path: 'get-config-kv', query: { key }, decrypt: true });
const set = (body: string) => adminText(as(), { method: 'PUT', path: 'set-config-kv', body, encrypt: true });
const full = () => adminText(as(), { method: 'GET', path: 'config', decrypt: true });
const history = () =>
  adminCall(as(), { method: 'GET', path: 'list-config-history-kv', query: { count: '100' }, decrypt: true });

async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return (e as Error).message;
  }
}

/** AssumeRoleWithWebIdentity with a token the provider issued to `account`; its credentials' S3 client. */
async function webLogin(account: string) {
  const out = await new STSClient({ endpoint: server.url, region: 'us-east-1', maxAttempts: 1 }).send(
    new AssumeRoleWithWebIdentityCommand({
      RoleArn: 'arn:aws:iam::123456789012:role/ignored-in-claim-mode',
      RoleSessionName: 'config-test',
      WebIdentityToken: await idp.login(account),
    }),
  );
  const c = out.Credentials!;
  return s3As(server.url, {
    accessKeyId: c.AccessKeyId!,
    secretAccessKey: c.SecretAccessKey!,
    sessionToken: c.SessionToken!,
  });
}

/** AssumeRoleWithLDAPIdentity as MinIO's clients send it (unsigned): the status and error code. */
async function ldapLogin(username: string, password: string): Promise<{ status: number; code?: string }> {
  const res = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      Action: 'AssumeRoleWithLDAPIdentity',
      Version: '2011-06-15',
      LDAPUsername: username,
      LDAPPassword: password,
    }),
  });
  const xml = await res.text();
  return { status: res.status, code: /<Code>([^<]*)<\/Code>/.exec(xml)?.[1] };
}

beforeAll(async () => {
  idp = await startOidcProvider({ alice: { policy: 'readonly', preferred_username: 'alice' } });
  directory = await startLdapDirectory();
  base = await mkdtemp(join(tmpdir(), 'cairn-config-identity-'));
  drives = [1, 2, 3, 4].map((i) => join(base, `d${i}`));
  await start();
}, 60_000);

afterAll(async () => {
  await server?.close();
  await idp?.close();
  await directory?.stop();
  if (base) await rm(base, { recursive: true, force: true });
});

describe('identity_openid and identity_ldap', () => {
  it('show their defaults under MinIO key names', async () => {
    expect(await get('identity_openid')).toBe(
      'identity_openid enable= config_url= client_id= client_secret= claim_name=policy claim_prefix= role_policy= ' +
        'scopes= display_name=\n',
    );
    expect(await get('identity_ldap')).toBe(
      'identity_ldap server_addr= lookup_bind_dn= lookup_bind_password= user_dn_search_base_dn= ' +
        'user_dn_search_filter= group_search_base_dn= group_search_filter= server_insecure=off tls_skip_verify=off\n',
    );
  });

  const bad: [string, string, RegExp][] = [
    ['a config URL that is not http(s)', 'identity_openid config_url=ftp://x client_id=c', /BadJSON: .*http\(s\) URL/],
    ['a client id without config URL', 'identity_openid client_id=c', /BadJSON: identity_openid: .*CONFIG_URL is req/],
    ['a config URL without client id', 'identity_openid config_url=http://x/', /BadJSON: .*CLIENT_ID is required/],
    [
      'role policy with another claim',
      'identity_openid config_url=http://x/ client_id=c claim_name=groups role_policy=readonly',
      /cannot both be set/,
    ],
    ['a bad on/off', 'identity_openid enable=maybe', /XMinioAdminConfigBadJSON: identity_openid enable: /],
    ["MinIO's console redirect", 'identity_openid redirect_uri=http://x/', /XMinioConfigError: unknown key 'redir/],
    [
      'scopes without openid',
      'identity_openid config_url=http://x/ client_id=c scopes=profile',
      /BadJSON: .*must include openid/,
    ],
    ['a second provider', 'identity_openid:second config_url=http://x/ client_id=c', /only supports single target/],
    ['an LDAP server without bind DN', 'identity_ldap server_addr=127.0.0.1:389', /BadJSON: .*LOOKUP_BIND_DN is req/],
    [
      'a user filter without %s',
      `identity_ldap server_addr=h:389 lookup_bind_dn=cn=x lookup_bind_password=p user_dn_search_base_dn=${LDAP_SUFFIX} user_dn_search_filter=(uid=alice)`,
      /must contain %s/,
    ],
    [
      'a group base without filter',
      `identity_ldap server_addr=h:389 lookup_bind_dn=cn=x lookup_bind_password=p user_dn_search_base_dn=${LDAP_SUFFIX} user_dn_search_filter=(uid=%s) group_search_base_dn=${LDAP_SUFFIX}`,
      /go together/,
    ],
    ['a bad on/off', 'identity_ldap server_insecure=yes', /XMinioAdminConfigBadJSON: identity_ldap server_insecure: /],
  ];
  it.each(bad)('refuse %s, storing nothing', async (_why, body, error) => {
    const before = { config: await full(), history: await history() };
    expect(await outcome(set(body))).toMatch(error);
    expect({ config: await full(), history: await history() }).toEqual(before);
  });

  it('are set with secrets redacted, and apply at restart: logins through both providers', async () => {
    // Not configured yet: both logins refused.
    await expect(webLogin('alice')).rejects.toThrow();
    const unconfigured = await ldapLogin('alice', 'alice-password');
    expect(unconfigured.status).not.toBe(200);
    await set(
      `identity_openid config_url=${idp.configUrl} client_id=${CLIENT_ID} client_secret=not-needed-0123 claim_name=policy`,
    );
    await set(directory.configLine);
    expect(await get('identity_openid')).toContain('client_secret=*redacted* ');
    expect(await get('identity_ldap')).toContain('lookup_bind_password=*redacted* ');
    // Stored, not live (as MinIO: identity subsystems need a restart).
    await expect(webLogin('alice')).rejects.toThrow();

    await server.close();
    await start();
    // The provider's ID token logs in, with the readonly policy its claim names.
    const root = makeClient(server.url);
    await root.send(new CreateBucketCommand({ Bucket: 'idcfg' }));
    await root.send(new PutObjectCommand({ Bucket: 'idcfg', Key: 'a.txt', Body: 'readable' }));
    const s3 = await webLogin('alice');
    const got = await s3.send(new GetObjectCommand({ Bucket: 'idcfg', Key: 'a.txt' }));
    expect(await got.Body!.transformToString()).toBe('readable');
    expect(await errorCode(s3.send(new PutObjectCommand({ Bucket: 'idcfg', Key: 'b.txt', Body: 'x' })))).toBe(
      'AccessDenied',
    );
    // LDAP: configured now (before: 501 NotImplemented); a wrong password is refused, and once a policy is mapped
    // to the user the right one logs in.
    expect(unconfigured).toEqual({ status: 501, code: 'NotImplemented' });
    expect(await ldapLogin('alice', 'not-her-password')).toEqual({ status: 403, code: 'AccessDenied' });
    await promisify(execFile)(
      process.execPath,
      [CAIRN, 'admin', 'idp', 'ldap', 'policy', 'attach', 'readonly', '--user', LDAP_ALICE],
      {
        env: {
          ...process.env,
          CAIRN_ROOT_USER: ROOT.accessKey,
          CAIRN_ROOT_PASSWORD: ROOT.secretKey,
          CAIRN_ENDPOINT: server.url,
        },
      },
    );
    expect((await ldapLogin('alice', 'alice-password')).status).toBe(200);
    expect((await ldapLogin('alice', 'not-her-password')).status).toBe(403);
  });

  it('give way to the environment: CAIRN_IDENTITY_OPENID_ENABLE=off turns the stored provider off', async () => {
    await server.close();
    await start({ CAIRN_IDENTITY_OPENID_ENABLE: 'off' });
    expect(await errorCode(webLogin('alice'))).not.toBe('');
    expect(await get('identity_openid')).toMatch(/^# CAIRN_IDENTITY_OPENID_ENABLE=off\nidentity_openid enable= /);
  });
});
