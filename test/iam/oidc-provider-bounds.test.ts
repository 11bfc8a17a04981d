// What Cairn reads from an OpenID provider is bounded: a discovery document or JWKS larger than 1 MiB
// (declared or streamed), one that does not arrive within 5 s, or a redirect to another host make
// AssumeRoleWithWebIdentity fail with IDPCommunicationError, and the server keeps answering. Keys fetched once
// keep serving while the provider is down, also past their maximum age. The provider is a real HTTP server
// on loopback serving real keys; each scenario is one path prefix of it, and one Cairn server.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreatePolicyCommand } from '@aws-sdk/client-iam';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenIdConfig } from '../../server/src/api/iam/openid.js';
import { startTestServer, type TestServer } from '../helpers/cairn.js';
import { errorCode, iamClient, rootCreds, s3As } from './helpers.js';

const CLIENT = 'bounds-client';
const MiB = 1024 * 1024;
const POLICY = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: ['s3:ListAllMyBuckets'], Resource: ['arn:aws:s3:::*'] }],
};

/** How the provider answers one scenario's discovery document or JWKS. */
type Answer = 'ok' | 'oversized' | 'oversized-streamed' | 'elsewhere' | 'down' | 'stalled';

let provider: Server;
let elsewhere: Server;
let base: string;
let elsewhereHits = 0;
const stalled: { destroy(): void }[] = [];
const behaviour = new Map<string, { discovery: Answer; jwks: Answer }>();
let key: {
  kid: string;
  privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  jwks: { keys: object[] };
};

/** The document `doc` as `how` says: as it is, padded past 1 MiB (still valid), elsewhere, failing or stalled. */
function answer(res: ServerResponse, how: Answer, doc: object): void {
  const body = JSON.stringify(doc);
  if (how === 'ok') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  } else if (how === 'oversized') {
    // The real document with 2 MiB more, its length declared.
    const big = JSON.stringify({ ...doc, padding: 'x'.repeat(2 * MiB) });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(big) }).end(big);
  } else if (how === 'oversized-streamed') {
    // No length declared (chunked): the real document with 4 MiB more.
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(`${body.slice(0, -1)},"padding":"`);
    const chunk = 'y'.repeat(64 * 1024);
    let sent = 0;
    const more = () => {
      while (sent < 4 * MiB) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', more);
      }
      res.end('"}');
    };
    res.on('error', () => {});
    more();
  } else if (how === 'elsewhere') {
    const { port } = elsewhere.address() as AddressInfo;
    res.writeHead(302, { location: `http://127.0.0.1:${port}/keys` }).end();
  } else if (how === 'down') {
    res.writeHead(503).end();
  } else {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"keys":['); // and nothing more
    stalled.push(res);
  }
}

beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const kid = 'bounds-key';
  key = { kid, privateKey, jwks: { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256' }] } };
  elsewhere = createServer((_req, res) => {
    elsewhereHits++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(key.jwks));
  });
  provider = createServer((req, res) => {
    const [, scenario, ...rest] = (req.url ?? '').split('/');
    const b = behaviour.get(scenario);
    if (!b) return void res.writeHead(404).end();
    const issuer = `${base}/${scenario}`;
    if (rest.join('/') === '.well-known/openid-configuration') {
      return answer(res, b.discovery, { issuer, jwks_uri: `${issuer}/jwks` });
    }
    if (rest.join('/') === 'jwks') return answer(res, b.jwks, key.jwks);
    res.writeHead(404).end();
  });
  for (const s of [provider, elsewhere]) await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const r of stalled) r.destroy();
  for (const s of [provider, elsewhere]) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** A Cairn server whose OpenID provider is scenario `name` of the test provider, and the policy tokens name. */
async function cairnFor(name: string, how: { discovery: Answer; jwks: Answer }, extra: Partial<OpenIdConfig> = {}) {
  behaviour.set(name, how);
  const openid: OpenIdConfig = {
    configUrl: `${base}/${name}/.well-known/openid-configuration`,
    clientId: CLIENT,
    claimName: 'policy',
    claimPrefix: '',
    ...extra,
  };
  const server = await startTestServer({ openid });
  await iamClient(server.url).send(
    new CreatePolicyCommand({ PolicyName: 'bounds', PolicyDocument: JSON.stringify(POLICY) }),
  );
  return server;
}

async function token(scenario: string): Promise<string> {
  return new SignJWT({ sub: 'alice', aud: CLIENT, policy: 'bounds' })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid })
    .setIssuer(`${base}/${scenario}`)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(key.privateKey);
}

function login(server: TestServer, scenario: string) {
  return token(scenario).then((t) =>
    new STSClient({ endpoint: server.url, region: 'us-east-1', maxAttempts: 1 }).send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: 'arn:aws:iam::123456789012:role/any',
        RoleSessionName: 'bounds',
        WebIdentityToken: t,
      }),
    ),
  );
}

/** The server still answers: ListBuckets as root. */
async function stillServes(server: TestServer): Promise<void> {
  const out = await s3As(server.url, rootCreds).send(new ListBucketsCommand({}));
  expect(out.Buckets).toBeDefined();
}

describe('a provider that answers too much, too slowly or from elsewhere', () => {
  const refused: [string, { discovery: Answer; jwks: Answer }][] = [
    ['discovery-oversized', { discovery: 'oversized', jwks: 'ok' }],
    ['discovery-streamed', { discovery: 'oversized-streamed', jwks: 'ok' }],
    ['discovery-redirect', { discovery: 'elsewhere', jwks: 'ok' }],
    ['jwks-oversized', { discovery: 'ok', jwks: 'oversized' }],
    ['jwks-streamed', { discovery: 'ok', jwks: 'oversized-streamed' }],
    ['jwks-redirect', { discovery: 'ok', jwks: 'elsewhere' }],
    ['jwks-stalled', { discovery: 'ok', jwks: 'stalled' }],
  ];
  for (const [name, how] of refused) {
    it(`${name}: IDPCommunicationError, and the server keeps serving`, async () => {
      const server = await cairnFor(name, how);
      try {
        const hitsBefore = elsewhereHits;
        expect(await errorCode(login(server, name))).toBe('IDPCommunicationError');
        expect(elsewhereHits).toBe(hitsBefore); // a redirect to another host is not followed
        await stillServes(server);
        // The same provider answering properly afterwards: the login works (nothing bad was kept).
        behaviour.set(name, { discovery: 'ok', jwks: 'ok' });
        const ok = await login(server, name);
        expect(ok.Credentials?.AccessKeyId).toBeTruthy();
      } finally {
        await server.close();
      }
    });
  }
});

describe('a provider that goes down after its keys were fetched', () => {
  it('the cached keys keep serving, also past their maximum age', async () => {
    // Maximum age 0: every login finds the keys old and asks for them again; a cooldown of 0 lets it.
    const server = await cairnFor(
      'down-later',
      { discovery: 'ok', jwks: 'ok' },
      { jwksMaxAgeMs: 0, jwksCooldownMs: 0 },
    );
    try {
      expect((await login(server, 'down-later')).Credentials?.AccessKeyId).toBeTruthy();
      behaviour.set('down-later', { discovery: 'down', jwks: 'down' });
      for (let i = 0; i < 3; i++) expect((await login(server, 'down-later')).Credentials?.AccessKeyId).toBeTruthy();
    } finally {
      await server.close();
    }
  });
});
