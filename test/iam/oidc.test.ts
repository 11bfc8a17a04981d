// STS AssumeRoleWithWebIdentity against a real OpenID provider (oidc-provider on loopback): ID tokens from the
// authorization code flow give temporary credentials with the policies their `policy` claim names (and
// ${jwt:*} policy variables), a session policy narrows them, the provider's key rotation is followed, and
// tokens Cairn must not trust (signed by a key the JWKS lacks, for another audience or issuer, expired, alg
// none, HS256 "signed" with the public key, naming no policy that exists) are refused with STS's errors and
// nothing stored. Role mode (CAIRN_IDENTITY_OPENID_ROLE_POLICY) answers for MinIO's role ARN only.
import { createHash, createPublicKey } from 'node:crypto';
import { CreatePolicyCommand, CreateRoleCommand, DeletePolicyCommand, ListUsersCommand } from '@aws-sdk/client-iam';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import {
  AssumeRoleWithWebIdentityCommand,
  type AssumeRoleWithWebIdentityCommandInput,
  GetCallerIdentityCommand,
  STSClient,
} from '@aws-sdk/client-sts';
import { importJWK, SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openIdConfigFromEnv, type OpenIdConfig } from '../../server/src/api/iam/openid.js';
import { startTestServer, type TestServer } from '../helpers/cairn.js';
import { CLIENT_ID, newSigningKey, startOidcProvider, type OidcProvider, type SigningKey } from '../helpers/oidc.js';
import { errorCode, iamClient, rootCreds, s3As, type Creds } from './helpers.js';

const BUCKET = 'oidc-data';
const READ_SHARED = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: ['s3:GetObject'], Resource: [`arn:aws:s3:::${BUCKET}/shared/*`] },
    // Each user's own folder, by the token's preferred_username claim.
    {
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject'],
      Resource: [`arn:aws:s3:::${BUCKET}/home/\${jwt:preferred_username}/*`],
    },
  ],
};
const WRITE_DROPBOX = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: ['s3:PutObject'], Resource: [`arn:aws:s3:::${BUCKET}/dropbox/*`] }],
};

let idp: OidcProvider;
let server: TestServer;
let offset = 0;

const openid = (extra: Partial<OpenIdConfig> = {}): OpenIdConfig => ({
  configUrl: idp.configUrl,
  clientId: CLIENT_ID,
  claimName: 'policy',
  claimPrefix: '',
  // Every unknown key id may fetch the JWKS again (the rotation test); the default server keeps 30 s.
  jwksCooldownMs: 0,
  ...extra,
});

/** An STS client without credentials: AssumeRoleWithWebIdentity is sent unsigned, as AWS's SDKs send it. */
const sts = (url = server.url) => new STSClient({ endpoint: url, region: 'us-east-1', maxAttempts: 1 });

async function webLogin(
  token: string,
  extra: Partial<AssumeRoleWithWebIdentityCommandInput> = {},
  url = server.url,
): Promise<{ creds: Creds; out: Awaited<ReturnType<STSClient['send']>> & Record<string, unknown> }> {
  const out = await sts(url).send(
    new AssumeRoleWithWebIdentityCommand({
      RoleArn: 'arn:aws:iam::123456789012:role/ignored-in-claim-mode',
      RoleSessionName: 'test-session',
      WebIdentityToken: token,
      ...extra,
    }),
  );
  const c = out.Credentials!;
  return {
    creds: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! },
    out: out as never,
  };
}

const loginError = (token: string, extra: Partial<AssumeRoleWithWebIdentityCommandInput> = {}, url = server.url) =>
  errorCode(webLogin(token, extra, url));

/** A token signed with `key` (by default the provider's own signing key), with claims a test chooses. */
async function sign(
  claims: JWTPayload,
  opts: { key?: SigningKey; kid?: string; iss?: string; exp?: number | string } = {},
): Promise<string> {
  const key = opts.key ?? idp.signingKey();
  const alg = key.jwk.alg as string;
  return new SignJWT({ sub: 'mallory', aud: CLIENT_ID, policy: 'oidc-read', preferred_username: 'alice', ...claims })
    .setProtectedHeader({ alg, kid: opts.kid ?? key.kid })
    .setIssuer(opts.iss ?? idp.issuer)
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? '10m')
    .sign(await importJWK(key.jwk, alg));
}

const b64 = (v: object | string) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

async function bucketKeys(): Promise<string[]> {
  const out = await s3As(server.url, rootCreds).send(new ListObjectsV2Command({ Bucket: BUCKET }));
  return (out.Contents ?? []).map((o) => o.Key!);
}
const ORIGINAL_KEYS = ['home/alice/notes.txt', 'private/salaries.csv', 'shared/report.csv'];

beforeAll(async () => {
  idp = await startOidcProvider({
    alice: { policy: 'oidc-read', preferred_username: 'alice', groups: ['analysts'] },
    // An array claim, one name of which no policy has.
    bob: { policy: ['no-such-policy', 'oidc-dropbox'], preferred_username: 'bob' },
    carol: { preferred_username: 'carol' },
    dave: { policy: 'no-such-policy' },
  });
  server = await startTestServer({ openid: openid(), now: () => Date.now() + offset });
  const root = s3As(server.url, rootCreds);
  await root.send(new CreateBucketCommand({ Bucket: BUCKET }));
  for (const [Key, Body] of [
    ['shared/report.csv', 'a,b\n1,2\n'],
    ['private/salaries.csv', 'secret'],
    ['home/alice/notes.txt', 'alice notes'],
  ]) {
    await root.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body }));
  }
  const iam = iamClient(server.url);
  await iam.send(new CreatePolicyCommand({ PolicyName: 'oidc-read', PolicyDocument: JSON.stringify(READ_SHARED) }));
  await iam.send(
    new CreatePolicyCommand({ PolicyName: 'oidc-dropbox', PolicyDocument: JSON.stringify(WRITE_DROPBOX) }),
  );
}, 60_000);

afterAll(async () => {
  await server?.close();
  await idp?.close();
});

describe('AssumeRoleWithWebIdentity with ID tokens from a real provider', () => {
  it("gives the claim's policy, ${jwt:preferred_username} as the folder, and nothing more", async () => {
    const token = await idp.login('alice');
    const { creds, out } = await webLogin(token, { DurationSeconds: 900 });
    expect(out.SubjectFromWebIdentityToken).toBe('alice');
    expect(out.Audience).toBe(CLIENT_ID);
    expect(out.Provider).toBe(idp.issuer);
    expect(out.AssumedRoleUser).toEqual({
      Arn: 'arn:aws:sts:::assumed-role/openid/test-session',
      AssumedRoleId: 'openid:test-session',
    });
    expect(creds.accessKeyId).toMatch(/^ASIA/);
    const seconds = ((out.Credentials as { Expiration: Date }).Expiration.getTime() - Date.now()) / 1000;
    expect(seconds).toBeGreaterThan(800);
    expect(seconds).toBeLessThanOrEqual(900);

    const s3 = s3As(server.url, creds);
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'shared/report.csv' }));
    expect(await got.Body!.transformToString()).toBe('a,b\n1,2\n');
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'home/alice/new.txt', Body: 'mine' }));
    const back = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'home/alice/new.txt' }));
    expect(await back.Body!.transformToString()).toBe('mine');
    for (const key of ['private/salaries.csv', 'home/bob/x.txt']) {
      expect(await errorCode(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key })))).toBe('AccessDenied');
    }
    for (const key of ['shared/new.csv', 'home/bob/x.txt']) {
      expect(await errorCode(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'x' })))).toBe(
        'AccessDenied',
      );
    }
    const who = await new STSClient({ endpoint: server.url, region: 'us-east-1', credentials: creds }).send(
      new GetCallerIdentityCommand({}),
    );
    expect(who.Arn).toBe('arn:aws:sts:::assumed-role/openid/test-session');
    expect(await bucketKeys()).toEqual(['home/alice/new.txt', ...ORIGINAL_KEYS]);
    await s3As(server.url, rootCreds).send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'home/alice/new.txt' }));
  });

  it('narrows the rights by a session policy: only what both allow', async () => {
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/home/alice/*` }],
    });
    const { creds, out } = await webLogin(await idp.login('alice'), { Policy: policy });
    expect(out.PackedPolicySize).toBeGreaterThan(0);
    const s3 = s3As(server.url, creds);
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'home/alice/notes.txt' }));
    expect(await got.Body!.transformToString()).toBe('alice notes');
    expect(await errorCode(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'shared/report.csv' })))).toBe(
      'AccessDenied',
    );
    expect(
      await errorCode(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'home/alice/refused.txt', Body: 'x' }))),
    ).toBe('AccessDenied');
    expect(await bucketKeys()).toEqual(ORIGINAL_KEYS);
  });

  it('takes the policies of an array claim that exist, and refuses tokens naming none', async () => {
    const { creds } = await webLogin(await idp.login('bob'));
    const s3 = s3As(server.url, creds);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'dropbox/from-bob.txt', Body: 'hello' }));
    expect(await errorCode(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'dropbox/from-bob.txt' })))).toBe(
      'AccessDenied',
    );
    const read = await s3As(server.url, rootCreds).send(
      new GetObjectCommand({ Bucket: BUCKET, Key: 'dropbox/from-bob.txt' }),
    );
    expect(await read.Body!.transformToString()).toBe('hello');
    await s3As(server.url, rootCreds).send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'dropbox/from-bob.txt' }));
    // No policy claim; a claim naming only policies that do not exist.
    expect(await loginError(await idp.login('carol'))).toBe('AccessDenied');
    expect(await loginError(await idp.login('dave'))).toBe('AccessDenied');
  });

  it("follows the provider's key rotation: a token with the new key id is accepted after a JWKS fetch", async () => {
    const before = idp.jwksFetches();
    const old = await idp.login('alice');
    const rotated = await idp.rotateKeys();
    const token = await idp.login('alice');
    expect(JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()).kid).toBe(rotated.kid);
    const { creds } = await webLogin(token);
    expect(idp.jwksFetches()).toBe(before + 1);
    const got = await s3As(server.url, creds).send(new GetObjectCommand({ Bucket: BUCKET, Key: 'shared/report.csv' }));
    expect(await got.Body!.transformToString()).toBe('a,b\n1,2\n');
    // The old key is still published: its tokens stay valid, without another fetch.
    await webLogin(old);
    expect(idp.jwksFetches()).toBe(before + 1);
  });

  it('cuts the sessions of a policy deleted after the login', async () => {
    await iamClient(server.url).send(
      new CreatePolicyCommand({ PolicyName: 'oidc-temp', PolicyDocument: JSON.stringify(READ_SHARED) }),
    );
    const { creds } = await webLogin(await sign({ policy: 'oidc-temp' }));
    const s3 = s3As(server.url, creds);
    await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'shared/report.csv' }));
    await iamClient(server.url).send(new DeletePolicyCommand({ PolicyArn: 'arn:aws:iam:::policy/oidc-temp' }));
    expect(await errorCode(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'shared/report.csv' })))).toBe(
      'AccessDenied',
    );
  });

  it('expires the temporary credentials after DurationSeconds, and refuses tokens past their exp', async () => {
    const token = await idp.login('alice');
    const { creds } = await webLogin(token, { DurationSeconds: 900 });
    offset = 901_000;
    try {
      expect(
        await errorCode(
          s3As(server.url, creds, offset).send(new GetObjectCommand({ Bucket: BUCKET, Key: 'shared/report.csv' })),
        ),
      ).toBe('ExpiredToken');
      // The provider's ID tokens last an hour; two hours on, the token itself has expired.
      offset = 2 * 3_600_000;
      expect(await loginError(token)).toBe('ExpiredTokenException');
    } finally {
      offset = 0;
    }
  });
});

describe('tokens Cairn must not trust', () => {
  it('refuses each with InvalidIdentityToken or ExpiredTokenException, storing nothing', async () => {
    const usersBefore = (await iamClient(server.url).send(new ListUsersCommand({}))).Users?.length;
    const foreign = await newSigningKey();
    const provider = idp.signingKey();
    const publicPem = createPublicKey({ key: provider.jwk as never, format: 'jwk' }).export({
      type: 'spki',
      format: 'pem',
    });
    const hs256WithPublicKey = await new SignJWT({ sub: 'mallory', aud: CLIENT_ID, policy: 'oidc-read' })
      .setProtectedHeader({ alg: 'HS256', kid: provider.kid })
      .setIssuer(idp.issuer)
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(publicPem as string));
    const now = Math.floor(Date.now() / 1000);
    const cases: [string, string, string][] = [
      ['a key the JWKS does not hold', await sign({}, { key: foreign }), 'InvalidIdentityToken'],
      [
        'a foreign key under the provider kid',
        await sign({}, { key: foreign, kid: provider.kid }),
        'InvalidIdentityToken',
      ],
      ['another audience', await sign({ aud: 'someone-else' }), 'InvalidIdentityToken'],
      ['another issuer', await sign({}, { iss: 'http://127.0.0.1:1/evil' }), 'InvalidIdentityToken'],
      ['no subject', await sign({ sub: undefined }), 'InvalidIdentityToken'],
      ['an empty subject', await sign({ sub: '' }), 'InvalidIdentityToken'],
      ['neither aud nor azp', await sign({ aud: undefined }), 'InvalidIdentityToken'],
      ['not yet valid', await sign({ nbf: now + 600 }), 'InvalidIdentityToken'],
      ['expired', await sign({}, { exp: now - 120 }), 'ExpiredTokenException'],
      [
        'alg none',
        `${b64({ alg: 'none' })}.${b64({ sub: 'm', aud: CLIENT_ID, iss: idp.issuer })}.`,
        'InvalidIdentityToken',
      ],
      ['HS256 with the public key as secret', hs256WithPublicKey, 'InvalidIdentityToken'],
      ['not a JWT', 'not-a-jwt-at-all', 'InvalidIdentityToken'],
    ];
    for (const [why, token, code] of cases) {
      expect({ why, code: await loginError(token) }).toEqual({ why, code });
    }
    // Within the skew a token just past its exp is still good; azp naming the client stands in for aud.
    await webLogin(await sign({}, { exp: now - 5 }));
    await webLogin(await sign({ aud: 'api-gateway', azp: CLIENT_ID }));
    expect(await bucketKeys()).toEqual(ORIGINAL_KEYS);
    expect((await iamClient(server.url).send(new ListUsersCommand({}))).Users?.length).toBe(usersBefore);
  });

  it('refuses DurationSeconds outside 900..43200 and parameters it does not implement', async () => {
    const token = await idp.login('alice');
    expect(await loginError(token, { DurationSeconds: 899 })).toBe('ValidationError');
    expect(await loginError(token, { DurationSeconds: 43_201 })).toBe('ValidationError');
    expect(await loginError(token, { ProviderId: 'www.amazon.com' })).toBe('NotImplemented');
    expect(await loginError(token, { PolicyArns: [{ arn: 'arn:aws:iam:::policy/no-such-policy' }] })).toBe(
      'MalformedPolicyDocument',
    );
    expect(await loginError(token, { Policy: '{"Statement": [{"Effect": "Allow"}]}' })).toBe('MalformedPolicyDocument');
    // An ARN of one of Cairn's IAM roles asks for its trust policy to judge the token, which must come from an
    // OIDC provider registered in IAM (oidc-roles.test.ts): this one is only configured.
    await iamClient(server.url).send(
      new CreateRoleCommand({
        RoleName: 'web-role',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam:::root' }, Action: 'sts:AssumeRole' }],
        }),
      }),
    );
    expect(await loginError(token, { RoleArn: 'arn:aws:iam:::role/web-role' })).toBe('InvalidIdentityToken');
  });

  it('answers the query shape of AWS STS, unsigned, and lets no other action through unsigned', async () => {
    const form = (params: Record<string, string>) =>
      fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ Version: '2011-06-15', ...params }),
      });
    const res = await form({ Action: 'AssumeRoleWithWebIdentity', WebIdentityToken: await idp.login('alice') });
    expect(res.status).toBe(200);
    const xml = await res.text();
    expect(xml).toMatch(
      /^<\?xml[^>]*>\s*<AssumeRoleWithWebIdentityResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/">/,
    );
    for (const el of ['Credentials', 'SubjectFromWebIdentityToken', 'AssumedRoleUser', 'Provider', 'Audience']) {
      expect(xml).toContain(`<${el}>`);
    }
    // Without RoleSessionName the session is named by the subject.
    expect(xml).toContain('<Arn>arn:aws:sts:::assumed-role/openid/alice</Arn>');
    const bad = await form({ Action: 'AssumeRoleWithWebIdentity', WebIdentityToken: 'not-a-jwt' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('<Code>InvalidIdentityToken</Code>');

    for (const params of <Record<string, string>[]>[
      { Action: 'AssumeRole', RoleArn: 'arn:aws:iam:::role/web-role', RoleSessionName: 'x' },
      { Action: 'GetSessionToken' },
      { Action: 'GetCallerIdentity' },
      { Action: 'CreateUser', UserName: 'unsigned-user' },
      { Action: 'ListUsers' },
      { Action: 'NoSuchAction' },
    ]) {
      const r = await form(params);
      expect({ action: params.Action, status: r.status }).toEqual({ action: params.Action, status: 403 });
      expect(await r.text()).toContain('<Code>AccessDenied</Code>');
    }
    const users = (await iamClient(server.url).send(new ListUsersCommand({}))).Users ?? [];
    expect(users.map((u) => u.UserName)).not.toContain('unsigned-user');
  });
});

describe('a provider out of reach, the JWKS cooldown, role mode', () => {
  let roleServer: TestServer;
  let offline: TestServer;
  const roleId = createHash('sha1').update(CLIENT_ID).digest('base64url');

  beforeAll(async () => {
    // Role mode, with the default JWKS cooldown (30 s).
    roleServer = await startTestServer({ openid: openid({ rolePolicy: ['oidc-read'], jwksCooldownMs: undefined }) });
    const iam = iamClient(roleServer.url);
    await iam.send(new CreatePolicyCommand({ PolicyName: 'oidc-read', PolicyDocument: JSON.stringify(READ_SHARED) }));
    await s3As(roleServer.url, rootCreds).send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3As(roleServer.url, rootCreds).send(new PutObjectCommand({ Bucket: BUCKET, Key: 'shared/a', Body: 'A' }));
    // A provider address nothing listens on.
    const gone = await startOidcProvider({});
    const configUrl = gone.configUrl;
    await gone.close();
    offline = await startTestServer({ openid: openid({ configUrl }) });
  }, 60_000);
  afterAll(async () => {
    await roleServer?.close();
    await offline?.close();
  });

  it('answers IDPCommunicationError when the provider cannot be reached', async () => {
    expect(await loginError(await idp.login('alice'), {}, offline.url)).toBe('IDPCommunicationError');
  });

  it("gives every login the role policy for MinIO's role ARN (or arn:cairn:), and nothing for another", async () => {
    const token = await idp.login('carol'); // no policy claim: the role policy applies
    for (const arn of [`arn:minio:iam:us-east-1::role/${roleId}`, `arn:cairn:iam:::role/${roleId}`]) {
      const { creds, out } = await webLogin(token, { RoleArn: arn }, roleServer.url);
      expect((out.AssumedRoleUser as { Arn: string }).Arn).toBe(`arn:aws:sts:::assumed-role/${roleId}/test-session`);
      const got = await s3As(roleServer.url, creds).send(new GetObjectCommand({ Bucket: BUCKET, Key: 'shared/a' }));
      expect(await got.Body!.transformToString()).toBe('A');
    }
    for (const other of [
      'arn:minio:iam:us-east-1::role/other',
      `arn:minio:iam:eu-west-1::role/${roleId}`,
      `xarn:minio:iam:us-east-1::role/${roleId}`,
      `arn:minio:iam:us-east-1::role/${roleId}/x`,
    ]) {
      expect(await loginError(token, { RoleArn: other }, roleServer.url)).toBe('AccessDenied');
    }
    expect(await loginError(token, { RoleArn: undefined }, roleServer.url)).toBe('ValidationError');
  });

  it('does not fetch the JWKS again for unknown key ids within the cooldown', async () => {
    const arn = `arn:minio:iam:us-east-1::role/${roleId}`;
    await webLogin(await idp.login('alice'), { RoleArn: arn }, roleServer.url);
    const fetches = idp.jwksFetches();
    for (let i = 0; i < 5; i++) {
      const made = await sign({}, { key: await newSigningKey('ES256') });
      expect(await loginError(made, { RoleArn: arn }, roleServer.url)).toBe('InvalidIdentityToken');
    }
    expect(idp.jwksFetches()).toBe(fetches);
  });
});

describe('configuration from the environment', () => {
  const E = 'CAIRN_IDENTITY_OPENID_';
  it("reads MinIO's names and refuses what Cairn does not implement", () => {
    expect(openIdConfigFromEnv({})).toBeUndefined();
    expect(
      openIdConfigFromEnv({
        [`${E}CONFIG_URL`]: 'https://idp/.well-known/openid-configuration',
        [`${E}CLIENT_ID`]: 'c',
      }),
    ).toEqual({
      configUrl: 'https://idp/.well-known/openid-configuration',
      clientId: 'c',
      claimName: 'policy',
      claimPrefix: '',
      rolePolicy: undefined,
    });
    const base = { [`${E}CONFIG_URL`]: 'https://idp/x', [`${E}CLIENT_ID`]: 'c', [`${E}CLIENT_SECRET`]: 's' };
    expect(openIdConfigFromEnv({ ...base, [`${E}ROLE_POLICY`]: 'readonly, diagnostics' })?.rolePolicy).toEqual([
      'readonly',
      'diagnostics',
    ]);
    expect(
      openIdConfigFromEnv({ ...base, [`${E}CLAIM_NAME`]: 'groups', [`${E}CLAIM_PREFIX`]: 'cairn_' }),
    ).toMatchObject({
      claimName: 'groups',
      claimPrefix: 'cairn_',
    });
    expect(openIdConfigFromEnv({ ...base, [`${E}ENABLE`]: 'off' })).toBeUndefined();
    expect(openIdConfigFromEnv({ ...base, [`${E}ENABLE`]: 'on', [`${E}SCOPES`]: '' })?.clientId).toBe('c');
    // Claim name `policy` set explicitly goes with a role policy, as in MinIO.
    expect(
      openIdConfigFromEnv({ ...base, [`${E}ROLE_POLICY`]: ' a,,b ', [`${E}CLAIM_NAME`]: 'policy' })?.rolePolicy,
    ).toEqual(['a', 'b']);
    // The console login's settings (MinIO's keys).
    expect(
      openIdConfigFromEnv({ ...base, [`${E}SCOPES`]: 'openid, profile', [`${E}DISPLAY_NAME`]: ' Corp SSO ' }),
    ).toMatchObject({ scopes: ['openid', 'profile'], displayName: 'Corp SSO' });
    for (const [env, message] of [
      [{ ...base, [`${E}SCOPES`]: 'profile' }, /must include openid/],
      [{ ...base, [`${E}SCOPES`]: 'openid,a"b' }, /not an OAuth scope/],
      [{ ...base, [`${E}DISPLAY_NAME`]: 'x'.repeat(101) }, /DISPLAY_NAME must be/],
      [{ ...base, [`${E}DISPLAY_NAME`]: 'a\nb' }, /DISPLAY_NAME must be/],
      [{ ...base, [`${E}REDIRECT_URI`]: 'https://x/cb' }, /console's own address/],
      [{ ...base, [`${E}REDIRECT_URI_DYNAMIC`]: 'on' }, /console's own address/],
      [{ ...base, [`${E}CLAIM_USERINFO`]: 'on' }, /not a setting Cairn implements/],
      [{ ...base, [`${E}CONFIG_URL_SECOND`]: 'https://idp2/x' }, /not a setting Cairn implements/],
      [{ ...base, [`${E}ROLE_POLICY`]: 'readonly', [`${E}CLAIM_NAME`]: 'groups' }, /cannot both be set/],
      [{ [`${E}CONFIG_URL`]: 'https://idp/x' }, /CLIENT_ID is required/],
      [{ ...base, [`${E}CONFIG_URL`]: 'ftp://idp/x' }, /http\(s\) URL/],
      [{ ...base, [`${E}CONFIG_URL`]: 'xhttps://idp/x' }, /http\(s\) URL/],
      [{ ...base, [`${E}CONFIG_URL`]: 'https://idp/x y' }, /http\(s\) URL/],
      [{ [`${E}CLIENT_ID`]: 'c' }, /CONFIG_URL is required/],
      [{ ...base, [`${E}ENABLE`]: 'yes' }, /ENABLE must be on or off/],
      [{ ...base, [`${E}ROLE_POLICY`]: ' , ' }, /names no policy/],
    ] as const) {
      expect(() => openIdConfigFromEnv(env)).toThrow(message);
    }
  });
});
