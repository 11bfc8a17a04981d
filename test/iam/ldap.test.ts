// STS AssumeRoleWithLDAPIdentity against a real slapd: users bind with their LDAP password, the policies mapped
// (cairn admin idp ldap policy attach) to their group's DN give the temporary credentials their rights, and
// wrong passwords, empty passwords, filter injection and brute force are refused with nothing stored.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreatePolicyCommand, DeletePolicyCommand, ListUsersCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { startServer, type CairnServer } from '@cairn/server';
import { ALT, makeClient, ROOT } from '../helpers/cairn.js';
import { LDAP_ANALYSTS as ANALYSTS, type LdapDirectory, startLdapDirectory } from '../helpers/ldap-directory.js';
import { errorCode, iamClient, s3As, type Creds } from './helpers.js';

const CAIRN = join(import.meta.dirname, '..', '..', 'server', 'bin', 'cairn.js');
const BUCKET = 'ldap-data';
const POLICY_ARN = 'arn:aws:iam:::policy/analysts-read';
let directory: LdapDirectory;
let server: CairnServer;
let base: string;
let drives: string[];

const start = (): Promise<CairnServer> =>
  startServer({
    address: '127.0.0.1:0',
    credentials: { root: ROOT, users: [ALT] },
    storage: { background: false },
    shutdownGraceMs: 2000,
    drives,
    ldap: directory.options,
  });
const rootS3 = () => makeClient(server.url);

async function cairnAdmin(...args: string[]): Promise<string> {
  const env = {
    ...process.env,
    CAIRN_ENDPOINT: server.url,
    CAIRN_ROOT_USER: ROOT.accessKey,
    CAIRN_ROOT_PASSWORD: ROOT.secretKey,
  };
  return (await promisify(execFile)(process.execPath, [CAIRN, 'admin', ...args], { env })).stdout;
}

/** The unsigned STS request MinIO's clients send; the credentials, or the error code and message. */
async function ldapLogin(
  username: string,
  password: string,
  extra: Record<string, string> = {},
): Promise<{ status: number; creds?: Creds; expiration?: string; code?: string; message?: string }> {
  const body = new URLSearchParams({
    Action: 'AssumeRoleWithLDAPIdentity',
    Version: '2011-06-15',
    LDAPUsername: username,
    LDAPPassword: password,
    ...extra,
  });
  const res = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  const xml = await res.text();
  const field = (n: string) => new RegExp(`<${n}>([^<]*)</${n}>`).exec(xml)?.[1];
  if (res.status !== 200) return { status: res.status, code: field('Code'), message: field('Message') };
  return {
    status: res.status,
    creds: {
      accessKeyId: field('AccessKeyId')!,
      secretAccessKey: field('SecretAccessKey')!,
      sessionToken: field('SessionToken')!,
    },
    expiration: field('Expiration'),
  };
}

async function bucketKeys(): Promise<string[]> {
  const out = await rootS3().send(new ListObjectsV2Command({ Bucket: BUCKET }));
  return (out.Contents ?? []).map((o) => o.Key!);
}

beforeAll(async () => {
  directory = await startLdapDirectory();
  base = await mkdtemp(join(tmpdir(), 'cairn-ldap-'));
  drives = [1, 2, 3, 4].map((i) => join(base, `d${i}`));
  server = await start();
  const root = rootS3();
  await root.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await root.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'shared/report.csv', Body: 'a,b\n1,2\n' }));
  await root.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'private/salaries.csv', Body: 'secret' }));
  await iamClient(server.url).send(
    new CreatePolicyCommand({
      PolicyName: 'analysts-read',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: [`arn:aws:s3:::${BUCKET}/shared/*`] }],
      }),
    }),
  );
  // The DN as an administrator types it (spaces, capitals): mappings are kept normalized.
  const out = await cairnAdmin(
    'idp',
    'ldap',
    'policy',
    'attach',
    'analysts-read',
    '--group',
    ANALYSTS.replace(/,/g, ', '),
  );
  expect(out).toContain('analysts-read attached');
}, 60_000);

afterAll(async () => {
  await server?.close();
  await directory?.stop();
  if (base) await rm(base, { recursive: true, force: true });
});

describe('AssumeRoleWithLDAPIdentity', () => {
  it("gives a group member temporary credentials with the group's mapped policy, and nothing more", async () => {
    const login = await ldapLogin('alice', 'alice-password', { DurationSeconds: '900' });
    expect(login.status).toBe(200);
    const creds = login.creds!;
    expect(creds.accessKeyId).toMatch(/^ASIA/);
    expect(creds.sessionToken).toMatch(/^CAIRNv1\./);
    const seconds = (Date.parse(login.expiration!) - Date.now()) / 1000;
    expect(seconds).toBeGreaterThan(800);
    expect(seconds).toBeLessThanOrEqual(900);

    const s3 = s3As(server.url, creds);
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'shared/report.csv' }));
    expect(await got.Body!.transformToString()).toBe('a,b\n1,2\n');
    expect(await errorCode(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'private/salaries.csv' })))).toBe(
      'AccessDenied',
    );
    expect(await errorCode(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'shared/new.csv', Body: 'x' })))).toBe(
      'AccessDenied',
    );
    // Without the session token the temporary key is no one.
    const { sessionToken: _, ...noToken } = creds;
    expect(
      await errorCode(
        s3As(server.url, noToken).send(new GetObjectCommand({ Bucket: BUCKET, Key: 'shared/report.csv' })),
      ),
    ).toBe('InvalidAccessKeyId');
    expect(await bucketKeys()).toEqual(['private/salaries.csv', 'shared/report.csv']);
  });

  it('narrows the rights by a session policy', async () => {
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: [`arn:aws:s3:::${BUCKET}/nothing/*`] }],
    });
    const login = await ldapLogin('alice', 'alice-password', { Policy: policy });
    expect(login.status).toBe(200);
    const s3 = s3As(server.url, login.creds!);
    expect(await errorCode(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'shared/report.csv' })))).toBe(
      'AccessDenied',
    );
  });

  it('keeps a policy mapped to an LDAP DN from being deleted', async () => {
    expect(await errorCode(iamClient(server.url).send(new DeletePolicyCommand({ PolicyArn: POLICY_ARN })))).toBe(
      'DeleteConflict',
    );
  });

  it('refuses session tags and a source identity, saying why: no trust policy allows them', async () => {
    const refused: [Record<string, string>, string][] = [
      [{ 'Tags.member.1.Key': 'team', 'Tags.member.1.Value': 'admins' }, 'sts:TagSession'],
      [{ 'TransitiveTagKeys.member.1': 'team' }, 'sts:TagSession'],
      [{ SourceIdentity: 'alice' }, 'sts:SetSourceIdentity'],
    ];
    for (const [extra, why] of refused) {
      const login = await ldapLogin('alice', 'alice-password', extra);
      expect(login).toMatchObject({ status: 501, code: 'NotImplemented' });
      expect(login.message).toContain(why);
    }
  });

  it('refuses a user with no policy mapped to them or their groups', async () => {
    const login = await ldapLogin('bob', 'bob-password');
    expect(login).toMatchObject({ status: 403, code: 'AccessDenied' });
    expect(login.message).toContain('No policy is mapped');
  });

  it('refuses wrong and empty passwords, and filter injection in the username; nothing is stored', async () => {
    const iam = iamClient(server.url);
    const usersBefore = (await iam.send(new ListUsersCommand({}))).Users?.map((u) => u.UserName);
    expect(await ldapLogin('alice', 'not-her-password')).toMatchObject({ status: 403, code: 'AccessDenied' });
    // An empty password would be an anonymous bind, which slapd accepts for any DN.
    expect(await ldapLogin('alice', '')).toMatchObject({ status: 403, code: 'AccessDenied' });
    // Unescaped, `(uid=*)(uid=*)` would match every user; escaped, it is a literal username no one has.
    for (const injected of ['*)(uid=*', 'al*', 'alice)(|(uid=*']) {
      expect(await ldapLogin(injected, 'alice-password')).toMatchObject({ status: 403, code: 'AccessDenied' });
    }
    expect(await bucketKeys()).toEqual(['private/salaries.csv', 'shared/report.csv']);
    expect((await iam.send(new ListUsersCommand({}))).Users?.map((u) => u.UserName)).toEqual(usersBefore);
  });

  it('cuts the sessions of a mapping detached at once', async () => {
    const login = await ldapLogin('alice', 'alice-password');
    const s3 = s3As(server.url, login.creds!);
    await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'shared/report.csv' }));
    await cairnAdmin('idp', 'ldap', 'policy', 'detach', 'analysts-read', '--group', ANALYSTS);
    try {
      expect(await errorCode(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'shared/report.csv' })))).toBe(
        'AccessDenied',
      );
      expect(await ldapLogin('alice', 'alice-password')).toMatchObject({ status: 403, code: 'AccessDenied' });
    } finally {
      await cairnAdmin('idp', 'ldap', 'policy', 'attach', 'analysts-read', '--group', ANALYSTS);
    }
  });

  it('keeps the mappings on the drives: a restarted server gives the same rights', async () => {
    await server.close();
    server = await start();
    const login = await ldapLogin('alice', 'alice-password');
    expect(login.status).toBe(200);
    const got = await s3As(server.url, login.creds!).send(
      new GetObjectCommand({ Bucket: BUCKET, Key: 'shared/report.csv' }),
    );
    expect(await got.Body!.transformToString()).toBe('a,b\n1,2\n');
  });

  // Last: it locks this source out.
  it('limits failed logins per source address, then refuses even the right password', async () => {
    let locked: string | undefined;
    for (let i = 0; i < 11 && locked === undefined; i++) {
      const r = await ldapLogin('alice', `guess-${i}`);
      expect(r).toMatchObject({ status: 403, code: 'AccessDenied' });
      if (r.message?.includes('Too many failed LDAP logins')) locked = r.message;
    }
    expect(locked).toBeDefined();
    const r = await ldapLogin('alice', 'alice-password');
    expect(r).toMatchObject({ status: 403, code: 'AccessDenied' });
    expect(r.message).toContain('Too many failed LDAP logins');
  });
});
