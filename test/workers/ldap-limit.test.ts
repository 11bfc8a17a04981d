// The limit on failed LDAP logins (10 a minute per source address) is the server's, not each worker's: with
// `cairn server --workers 2` and a real slapd, failures spread over both workers add up, and once the limit
// is reached every worker refuses that address, even with the right password.
import { type Agent, request } from 'node:http';
import { CreatePolicyCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnCairn } from '../helpers/cli.js';
import { LDAP_ALICE, type LdapDirectory, startLdapDirectory } from '../helpers/ldap-directory.js';
import { startWorkers, WORKERS_ROOT, type WorkersServer } from '../helpers/workers.js';
import { iamClient } from '../iam/helpers.js';

let directory: LdapDirectory;
let server: WorkersServer;

beforeAll(async () => {
  directory = await startLdapDirectory();
  server = await startWorkers(2, directory.env);
  // A policy mapped to alice's DN: her right password gives credentials.
  const root = { accessKeyId: WORKERS_ROOT.accessKey, secretAccessKey: WORKERS_ROOT.secretKey };
  const document = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['s3:ListAllMyBuckets'], Resource: ['*'] }],
  };
  await iamClient(server.url, root).send(
    new CreatePolicyCommand({ PolicyName: 'alice-list', PolicyDocument: JSON.stringify(document) }),
  );
  const admin = spawnCairn(['admin', 'idp', 'ldap', 'policy', 'attach', 'alice-list', '--user', LDAP_ALICE], {
    CAIRN_ENDPOINT: server.url,
    CAIRN_ROOT_USER: WORKERS_ROOT.accessKey,
    CAIRN_ROOT_PASSWORD: WORKERS_ROOT.secretKey,
  });
  let out = '';
  admin.stdout!.on('data', (d) => (out += d));
  admin.stderr!.on('data', (d) => (out += d));
  expect(await new Promise((resolve) => admin.once('exit', resolve))).toBe(0);
  expect(out).toContain('alice-list attached');
});

afterAll(async () => {
  await server?.close();
  await directory?.stop();
});

/** AssumeRoleWithLDAPIdentity (unsigned POST) on the connection of `agent`: status, worker, error message. */
function login(agent: Agent, password: string): Promise<{ status: number; worker: string; message?: string }> {
  const body = new URLSearchParams({
    Action: 'AssumeRoleWithLDAPIdentity',
    Version: '2011-06-15',
    LDAPUsername: 'alice',
    LDAPPassword: password,
  }).toString();
  return new Promise((resolve, reject) => {
    const req = request(server.url, {
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
    });
    req.once('response', (res) => {
      let xml = '';
      res.on('data', (d) => (xml += d));
      res.once('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          worker: String(res.headers['x-cairn-worker']),
          message: /<Message>([^<]*)<\/Message>/.exec(xml)?.[1],
        }),
      );
    });
    req.once('error', reject);
    req.end(body);
  });
}

it('failures on two workers add up to one limit, which every worker then enforces', async () => {
  const workers = [await server.agent(1), await server.agent(2)];
  // The right password works on both first.
  for (const [i, agent] of workers.entries()) {
    expect(await login(agent, 'alice-password')).toMatchObject({ status: 200, worker: String(i + 1) });
  }
  // Ten wrong passwords, alternating: five on each worker. Each one is a plain refusal.
  for (let i = 0; i < 10; i++) {
    const r = await login(workers[i % 2], `guess-${i}`);
    expect(r).toMatchObject({ status: 403, worker: String((i % 2) + 1) });
    expect(r.message).not.toContain('Too many failed LDAP logins');
  }
  // The limit is reached: both workers refuse the address, the right password too.
  for (const [i, agent] of workers.entries()) {
    const r = await login(agent, 'alice-password');
    expect(r).toMatchObject({ status: 403, worker: String(i + 1) });
    expect(r.message).toContain('Too many failed LDAP logins');
  }
});
