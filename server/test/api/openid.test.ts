// The OpenID Connect verifier (api/iam/openid.ts) and its settings (openid-config.ts), without a Cairn server:
// tokens from a real provider (oidc-provider on loopback, test/helpers/oidc.ts) and tokens a test signs, with
// the provider's key or another, verified as AssumeRoleWithWebIdentity verifies them. test/iam/oidc.test.ts
// proves the same through STS over HTTP; this file is what mutation runs (--quick) can afford per mutant.
import { createServer } from 'node:http';
import { exportJWK, generateKeyPair, importJWK, type JWK, type JWTPayload, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MAX_TOKEN_LENGTH,
  type OpenIdConfig,
  OpenIdProvider,
  openIdConfigFromEnv,
  openIdRoleId,
  policiesOfClaim,
  splitPolicyNames,
} from '../../src/api/iam/openid.js';
import { isS3Error } from '../../src/errors.js';
import {
  CLIENT_ID,
  newSigningKey,
  type OidcProvider,
  type SigningKey,
  startOidcProvider,
} from '../../../test/helpers/oidc.js';

describe('settings (CAIRN_IDENTITY_OPENID_*)', () => {
  const env = (vars: Record<string, string>) =>
    openIdConfigFromEnv(Object.fromEntries(Object.entries(vars).map(([k, v]) => [`CAIRN_IDENTITY_OPENID_${k}`, v])));
  const url = 'http://127.0.0.1:9/.well-known/openid-configuration';

  it('none configured, or switched off: no provider', () => {
    expect(openIdConfigFromEnv({ PATH: '/bin' })).toBeUndefined();
    expect(env({ ENABLE: 'off', CONFIG_URL: url, CLIENT_ID: 'c' })).toBeUndefined();
    expect(env({ CONFIG_URL: '', CLIENT_ID: '' })).toBeUndefined();
    expect(env({ ENABLE: 'on' })).toBeUndefined();
  });

  it('the provider, with MinIO’s defaults', () => {
    expect(env({ CONFIG_URL: url, CLIENT_ID: 'c', CLIENT_SECRET: 's', ENABLE: 'on', SCOPES: '' })).toEqual({
      configUrl: url,
      clientId: 'c',
      claimName: 'policy',
      claimPrefix: '',
      rolePolicy: undefined,
    });
    expect(
      env({ CONFIG_URL: 'https://idp.example/x', CLIENT_ID: 'c', CLAIM_NAME: 'groups', CLAIM_PREFIX: 'minio/' }),
    ).toEqual({
      configUrl: 'https://idp.example/x',
      clientId: 'c',
      claimName: 'groups',
      claimPrefix: 'minio/',
      rolePolicy: undefined,
    });
    const role = env({ CONFIG_URL: url, CLIENT_ID: 'c', ROLE_POLICY: ' readonly, ,diagnostics,' });
    expect(role?.rolePolicy).toEqual(['readonly', 'diagnostics']);
    // The default claim name, given explicitly, goes with a role policy.
    expect(env({ CONFIG_URL: url, CLIENT_ID: 'c', ROLE_POLICY: 'readonly', CLAIM_NAME: 'policy' })?.rolePolicy).toEqual(
      ['readonly'],
    );
  });

  it('refused: what is missing, malformed, contradictory, or not implemented', () => {
    const refused = (vars: Record<string, string>) => expect(() => env(vars)).toThrow(/CAIRN_IDENTITY_OPENID_/);
    refused({ ENABLE: 'yes', CONFIG_URL: url, CLIENT_ID: 'c' });
    refused({ CLIENT_ID: 'c' });
    refused({ CONFIG_URL: url });
    refused({ CONFIG_URL: 'ftp://idp.example/x', CLIENT_ID: 'c' });
    refused({ CONFIG_URL: 'http://idp example/x', CLIENT_ID: 'c' });
    refused({ CONFIG_URL: 'http://', CLIENT_ID: 'c' });
    refused({ CONFIG_URL: ` ${url}`, CLIENT_ID: 'c' });
    refused({ CONFIG_URL: url, CLIENT_ID: 'c', ROLE_POLICY: 'readonly', CLAIM_NAME: 'groups' });
    refused({ CONFIG_URL: url, CLIENT_ID: 'c', ROLE_POLICY: ' , ' });
    // Scopes without openid, and a display name with a control character (both settings are the console login's).
    refused({ CONFIG_URL: url, CLIENT_ID: 'c', SCOPES: 'x' });
    refused({ CONFIG_URL: url, CLIENT_ID: 'c', DISPLAY_NAME: 'a\u0007b' });
    for (const name of ['REDIRECT_URI', 'REDIRECT_URI_DYNAMIC', 'CLAIM_USERINFO', 'CONFIG_URL_2']) {
      refused({ CONFIG_URL: url, CLIENT_ID: 'c', [name]: 'x' });
    }
  });

  it('the console login’s settings: scopes and a display name, checked; unset, empty and other variables are no settings', () => {
    const c = env({ CONFIG_URL: url, CLIENT_ID: 'c', SCOPES: 'openid, email ,!#[]~', DISPLAY_NAME: '  Corp SSO  ' });
    expect(c?.scopes).toEqual(['openid', 'email', '!#[]~']);
    expect(c?.displayName).toBe('Corp SSO');
    const longest = `openid,${'s'.repeat(64)}`;
    expect(env({ CONFIG_URL: url, CLIENT_ID: 'c', SCOPES: longest })?.scopes).toEqual(['openid', 's'.repeat(64)]);
    expect(env({ CONFIG_URL: url, CLIENT_ID: 'c', DISPLAY_NAME: 'n'.repeat(100) })?.displayName).toBe('n'.repeat(100));
    // Variables of other programs, and Cairn's OpenID ones set empty or unset, are not looked at.
    const vars = {
      PATH: '/bin',
      CAIRN_IDENTITY_OPENID_CONFIG_URL: url,
      CAIRN_IDENTITY_OPENID_CLIENT_ID: 'c',
      CAIRN_IDENTITY_OPENID_REDIRECT_URI: '',
      CAIRN_IDENTITY_OPENID_CLAIM_USERINFO: undefined,
    };
    expect(openIdConfigFromEnv(vars)?.clientId).toBe('c');
  });

  it('a refused setting: the message (all the operator gets) names the setting and why', () => {
    const refused = (vars: Record<string, string>, why: RegExp) => expect(() => env(vars)).toThrow(why);
    const base = { CONFIG_URL: url, CLIENT_ID: 'c' };
    refused({ CLIENT_ID: 'c' }, /CONFIG_URL is required/);
    refused({ CONFIG_URL: 'http://idp.example/a b', CLIENT_ID: 'c' }, /CONFIG_URL must be an http\(s\) URL/);
    refused({ CONFIG_URL: `${url}\n`, CLIENT_ID: 'c' }, /CONFIG_URL must be an http\(s\) URL/);
    refused({ ...base, REDIRECT_URI: 'http://x/cb' }, /REDIRECT_URI: .*console/);
    refused({ ...base, REDIRECT_URI_DYNAMIC: 'on' }, /REDIRECT_URI_DYNAMIC: .*console/);
    refused({ ...base, CLAIM_USERINFO: 'on' }, /CLAIM_USERINFO is not a setting/);
    for (const bad of ['a b', 'a"b', 'a\\b', 'é', 's'.repeat(65)]) {
      refused({ ...base, SCOPES: `openid,${bad}` }, /SCOPES: .* is not an OAuth scope/);
    }
    refused({ ...base, SCOPES: 'email,profile' }, /SCOPES must include openid/);
    for (const bad of ['   ', 'n'.repeat(101), 'a\u0007b', 'a\nb']) {
      refused({ ...base, DISPLAY_NAME: bad }, /DISPLAY_NAME must be 1-100 characters/);
    }
  });

  it('policy names: comma-separated, trimmed, empty ones dropped; a claim may be a list of such', () => {
    expect(splitPolicyNames(' a ,b,, c ')).toEqual(['a', 'b', 'c']);
    expect(splitPolicyNames('')).toEqual([]);
    expect(policiesOfClaim('a, b')).toEqual(['a', 'b']);
    expect(policiesOfClaim(['a,b', ' c ', ''])).toEqual(['a', 'b', 'c']);
    expect(policiesOfClaim([])).toEqual([]);
    expect(policiesOfClaim(['a', 1])).toBeUndefined();
    expect(policiesOfClaim(1)).toBeUndefined();
    expect(policiesOfClaim(undefined)).toBeUndefined();
    expect(policiesOfClaim({ a: 'b' })).toBeUndefined();
  });

  it('role mode: MinIO’s role ARN (base64url SHA-1 of the client id), also as arn:cairn:, in this region or none', () => {
    // sha1("minio") as `sha1sum` prints it, in base64url: the resource id MinIO derives.
    expect(openIdRoleId('minio')).toBe(
      Buffer.from('30747605e1f6faad5d1cedb2c7953d31ffad3fd4', 'hex').toString('base64url'),
    );
    const config: OpenIdConfig = { configUrl: 'http://x', clientId: 'minio', claimName: 'policy', claimPrefix: 'p/' };
    const role = new OpenIdProvider({ ...config, rolePolicy: ['readonly'] }, 'eu-west-1');
    const id = openIdRoleId('minio');
    expect(role.roleId).toBe(id);
    expect(role.roleArn).toBe(`arn:minio:iam:eu-west-1::role/${id}`);
    expect(role.isRoleArn(`arn:minio:iam:eu-west-1::role/${id}`)).toBe(true);
    expect(role.isRoleArn(`arn:cairn:iam:::role/${id}`)).toBe(true);
    expect(role.isRoleArn(`arn:minio:iam:us-east-1::role/${id}`)).toBe(false);
    expect(role.isRoleArn(`arn:aws:iam:::role/${id}`)).toBe(false);
    expect(role.isRoleArn(`arn:minio:iam:::role/${id}x`)).toBe(false);
    expect(role.isRoleArn(`x:arn:minio:iam:::role/${id}`)).toBe(false);
    expect(role.isRoleArn(`arn:minio:iam:eu-west-1:123:role/${id}`)).toBe(false);
    expect(role.isRoleArn(`arn:minio:iam:::role/${id}\n`)).toBe(false);
    const claims = new OpenIdProvider(config, 'eu-west-1');
    expect(claims.roleId).toBeUndefined();
    expect(claims.roleArn).toBeUndefined();
    expect(claims.isRoleArn(`arn:minio:iam:::role/${id}`)).toBe(false);
    expect(claims.isRoleArn('arn:minio:iam:::role/undefined')).toBe(false);
    expect(claims.policyClaim).toBe('p/policy');
  });
});

describe('verifying web identity tokens against a real provider', () => {
  let idp: OidcProvider;
  const config = (extra: Partial<OpenIdConfig> = {}): OpenIdConfig => ({
    configUrl: idp.configUrl,
    clientId: CLIENT_ID,
    claimName: 'policy',
    claimPrefix: '',
    jwksCooldownMs: 0,
    ...extra,
  });
  beforeAll(async () => {
    idp = await startOidcProvider({ alice: { policy: 'readonly', preferred_username: 'alice' } });
  });
  afterAll(async () => {
    await idp?.close();
  });

  async function sign(
    claims: JWTPayload,
    o: { key?: SigningKey; iss?: string; exp?: number | string | null; alg?: string } = {},
  ): Promise<string> {
    const key = o.key ?? idp.signingKey();
    const alg = o.alg ?? (key.jwk.alg as string);
    let jwt = new SignJWT({ sub: 'mallory', aud: CLIENT_ID, ...claims })
      .setProtectedHeader({ alg, kid: key.kid })
      .setIssuer(o.iss ?? idp.issuer)
      .setIssuedAt();
    if (o.exp !== null) jwt = jwt.setExpirationTime(o.exp ?? '10m');
    return jwt.sign(await importJWK(key.jwk, alg));
  }

  /** The STS error code a verification fails with, or the token's subject. */
  async function outcome(p: OpenIdProvider, token: string, now = Date.now(), audiences?: string[]): Promise<string> {
    try {
      return `sub=${(await p.verify(token, now, audiences)).sub}`;
    } catch (e) {
      if (isS3Error(e)) return e.code;
      throw e;
    }
  }

  it('an ID token the provider issued through its login flow', async () => {
    const p = new OpenIdProvider(config(), 'us-east-1');
    const token = await idp.login('alice');
    const claims = await p.verify(token, Date.now());
    expect(claims.sub).toBe('alice');
    expect(claims.iss).toBe(idp.issuer);
    expect(claims.policy).toBe('readonly');
    expect(token.length).toBeLessThan(MAX_TOKEN_LENGTH);
  });

  it('the audience: aud holds the client id, or azp names it; another list of client ids when asked', async () => {
    const p = new OpenIdProvider(config(), 'us-east-1');
    expect(await outcome(p, await sign({ aud: [CLIENT_ID, 'other'] }))).toBe('sub=mallory');
    expect(await outcome(p, await sign({ aud: 'other', azp: CLIENT_ID }))).toBe('sub=mallory');
    expect(await outcome(p, await sign({ aud: undefined, azp: CLIENT_ID }))).toBe('sub=mallory');
    expect(await outcome(p, await sign({ aud: 'other' }))).toBe('InvalidIdentityToken');
    expect(await outcome(p, await sign({ aud: undefined }))).toBe('InvalidIdentityToken');
    expect(await outcome(p, await sign({ aud: ['a', 'b'], azp: 'c' }))).toBe('InvalidIdentityToken');
    expect(await outcome(p, await sign({ aud: 'other' }), Date.now(), ['x', 'other'])).toBe('sub=mallory');
    expect(await outcome(p, await sign({}), Date.now(), ['x', 'other'])).toBe('InvalidIdentityToken');
  });

  it('time: expired past 30 s of skew, not yet valid, no exp at all; the clock given is the one used', async () => {
    const p = new OpenIdProvider(config(), 'us-east-1');
    const now = Math.floor(Date.now() / 1000);
    expect(await outcome(p, await sign({}, { exp: now - 10 }))).toBe('sub=mallory');
    expect(await outcome(p, await sign({}, { exp: now - 120 }))).toBe('ExpiredTokenException');
    expect(await outcome(p, await sign({ nbf: now + 10 }))).toBe('sub=mallory');
    expect(await outcome(p, await sign({ nbf: now + 300 }))).toBe('InvalidIdentityToken');
    expect(await outcome(p, await sign({}, { exp: null }))).toBe('InvalidIdentityToken');
    const token = await sign({}, { exp: now + 600 });
    expect(await outcome(p, token, Date.now() + 3_600_000)).toBe('ExpiredTokenException');
    const soon = await sign({ nbf: now + 10 });
    expect(await outcome(p, soon, Date.now() - 60_000)).toBe('InvalidIdentityToken'); // not yet valid then
  });

  it('the subject and issuer must be there and right', async () => {
    const p = new OpenIdProvider(config(), 'us-east-1');
    expect(await outcome(p, await sign({ sub: undefined }))).toBe('InvalidIdentityToken');
    expect(await outcome(p, await sign({ sub: '' }))).toBe('InvalidIdentityToken');
    expect(await outcome(p, await sign({}, { iss: `${idp.issuer}/other` }))).toBe('InvalidIdentityToken');
    expect(await outcome(p, await sign({}, { iss: 'https://evil.example' }))).toBe('InvalidIdentityToken');
  });

  it('signatures: the provider’s keys and asymmetric algorithms only', async () => {
    const p = new OpenIdProvider(config(), 'us-east-1');
    const foreign = await newSigningKey();
    expect(await outcome(p, await sign({}, { key: foreign }))).toBe('InvalidIdentityToken');
    expect(await outcome(p, await sign({}, { key: { ...foreign, kid: idp.signingKey().kid } }))).toBe(
      'InvalidIdentityToken',
    );
    // HS256 "signed" with the provider's public key as the HMAC secret: the classic forgery.
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = idp.signingKey().jwk;
    const secret = new TextEncoder().encode(JSON.stringify(pub));
    const forged = await new SignJWT({ sub: 'mallory', aud: CLIENT_ID })
      .setProtectedHeader({ alg: 'HS256', kid: idp.signingKey().kid })
      .setIssuer(idp.issuer)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(secret);
    expect(await outcome(p, forged)).toBe('InvalidIdentityToken');
    const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const none = `${b64({ alg: 'none' })}.${b64({ sub: 'mallory', aud: CLIENT_ID, iss: idp.issuer, exp: Math.floor(Date.now() / 1000) + 600 })}.`;
    expect(await outcome(p, none)).toBe('InvalidIdentityToken');
    expect(await outcome(p, 'not.a.token')).toBe('InvalidIdentityToken');
    const valid = await sign({});
    expect(await outcome(p, `${valid.slice(0, -4)}AAAA`)).toBe('InvalidIdentityToken');
  });

  it('keys: fetched once, again on an unknown key id (at most once per cooldown) and when old', async () => {
    const fetches = () => idp.jwksFetches();
    const cooled = new OpenIdProvider(config({ jwksCooldownMs: 3_600_000 }), 'us-east-1');
    const fresh = new OpenIdProvider(config({ jwksCooldownMs: 0 }), 'us-east-1');
    let before = fetches();
    expect(await outcome(cooled, await sign({}))).toBe('sub=mallory');
    expect(await outcome(fresh, await sign({}))).toBe('sub=mallory');
    expect(fetches() - before).toBe(2);
    before = fetches();
    expect(await outcome(cooled, await sign({}))).toBe('sub=mallory');
    expect(await outcome(fresh, await sign({}))).toBe('sub=mallory');
    expect(fetches()).toBe(before); // cached
    // Unknown key ids: the cooled-down verifier does not ask the provider again.
    const foreign = await newSigningKey();
    before = fetches();
    expect(await outcome(cooled, await sign({}, { key: foreign }))).toBe('InvalidIdentityToken');
    expect(fetches()).toBe(before);
    expect(await outcome(fresh, await sign({}, { key: foreign }))).toBe('InvalidIdentityToken');
    expect(fetches()).toBe(before + 1);
    // The provider rotates its keys: tokens of the new key verify once the keys are fetched again.
    const rotated = await idp.rotateKeys();
    const token = await sign({}, { key: rotated });
    expect(await outcome(fresh, token)).toBe('sub=mallory');
    expect(await outcome(cooled, token)).toBe('InvalidIdentityToken');
    // Keys past their maximum age are fetched again in the background; the old ones serve meanwhile.
    const aging = new OpenIdProvider(config({ jwksMaxAgeMs: 0, jwksCooldownMs: 0 }), 'us-east-1');
    expect(await outcome(aging, token)).toBe('sub=mallory');
    before = fetches();
    expect(await outcome(aging, token)).toBe('sub=mallory');
    for (let i = 0; i < 3000 && fetches() === before; i++) await new Promise((r) => setTimeout(r, 20));
    expect(fetches()).toBeGreaterThan(before);
  });

  /**
   * The real provider's discovery document with some fields changed (undefined removes one), served by a server
   * of the test's own at /.well-known/openid-configuration: a provider misconfigured as oidc-provider will not
   * be. `jwks`, when set, is served at /jwks; any other path is 404. `failing` answers 500. Counts its fetches.
   */
  async function altered(changes: Record<string, unknown>) {
    const real = (await (await fetch(idp.configUrl)).json()) as Record<string, unknown>;
    const state = { doc: JSON.stringify({ ...real, ...changes }), jwks: undefined as unknown, failing: false };
    let fetches = 0;
    const server = createServer((req, res) => {
      const body =
        req.url === '/.well-known/openid-configuration' ? state.doc : req.url === '/jwks' ? state.jwks : undefined;
      if (req.url === '/.well-known/openid-configuration') fetches++;
      res.statusCode = state.failing ? 500 : body === undefined ? 404 : 200;
      res.setHeader('content-type', 'application/json');
      res.end(res.statusCode === 200 ? (typeof body === 'string' ? body : JSON.stringify(body)) : '');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    servers.push(server);
    return { base, configUrl: `${base}/.well-known/openid-configuration`, fetches: () => fetches, state };
  }
  const servers: ReturnType<typeof createServer>[] = [];
  afterAll(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((resolve) => s.close(resolve));
    }
  });
  /** The real provider's discovery document. */
  const discovery = async () => (await (await fetch(idp.configUrl)).json()) as Record<string, unknown>;

  it('the console login: the provider’s endpoints, the client id, scopes configured, else advertised, else openid', async () => {
    const real = await discovery();
    expect(real.scopes_supported).toContain('openid');
    expect(await new OpenIdProvider(config(), 'us-east-1').consoleLogin()).toEqual({
      authorizationEndpoint: real.authorization_endpoint,
      tokenEndpoint: real.token_endpoint,
      clientId: CLIENT_ID,
      scopes: real.scopes_supported,
    });
    const role = new OpenIdProvider(
      config({ scopes: ['openid', 'email'], displayName: 'Corp', rolePolicy: ['readonly'] }),
      'eu-west-1',
    );
    expect(await role.consoleLogin()).toEqual({
      authorizationEndpoint: real.authorization_endpoint,
      tokenEndpoint: real.token_endpoint,
      clientId: CLIENT_ID,
      scopes: ['openid', 'email'],
      displayName: 'Corp',
      roleArn: `arn:minio:iam:eu-west-1::role/${openIdRoleId(CLIENT_ID)}`,
    });
    // Advertised scopes without openid, not all strings, or none: openid alone. At most 50 are taken.
    const many = Array.from({ length: 60 }, (_, i) => (i === 0 ? 'openid' : `s${i}`));
    for (const [advertised, scopes] of [
      [['profile', 'email'], ['openid']],
      [['openid', 7], ['openid']],
      [undefined, ['openid']],
      ['openid', ['openid']],
      [many, many.slice(0, 50)],
    ]) {
      const alt = await altered({ scopes_supported: advertised });
      const login = await new OpenIdProvider(config({ configUrl: alt.configUrl }), 'us-east-1').consoleLogin();
      expect(login?.scopes).toEqual(scopes);
    }
    // Endpoints: http(s) URLs only, normalised.
    const alt = await altered({ authorization_endpoint: 'http://IdP.Example:80/auth' });
    const login = await new OpenIdProvider(config({ configUrl: alt.configUrl }), 'us-east-1').consoleLogin();
    expect(login?.authorizationEndpoint).toBe('http://idp.example/auth');
  });

  it('the console login: none when the provider names no usable endpoints, or cannot be read (asked again after 30 s)', async () => {
    for (const bad of [
      { authorization_endpoint: undefined },
      { token_endpoint: undefined },
      { authorization_endpoint: 'javascript:alert(1)//http://x' },
      { authorization_endpoint: ['http://idp.example/auth'] },
      { authorization_endpoint: 'ftp://idp.example/auth' },
      { token_endpoint: 'http://' },
      { token_endpoint: 'http://idp example/token' },
    ]) {
      const alt = await altered(bad);
      const p = new OpenIdProvider(config({ configUrl: alt.configUrl }), 'us-east-1');
      expect(await p.consoleLogin(), JSON.stringify(bad)).toBeUndefined();
      // The verifier needs neither endpoint.
      expect(await outcome(p, await sign({}))).toBe('sub=mallory');
    }
    const alt = await altered({});
    alt.state.failing = true;
    const p = new OpenIdProvider(config({ configUrl: alt.configUrl }), 'us-east-1');
    expect(await p.consoleLogin()).toBeUndefined();
    expect(alt.fetches()).toBe(1);
    alt.state.failing = false;
    // Page loads do not ask the provider again for 30 s (two calls in a row are well within that)...
    expect(await p.consoleLogin()).toBeUndefined();
    expect(alt.fetches()).toBe(1);
    // ...but a token to verify does.
    expect(await outcome(p, await sign({}))).toBe('sub=mallory');
    expect(alt.fetches()).toBe(2);
  });

  it('the discovery document: fetched once (one fetch for concurrent callers), kept a day', async () => {
    const alt = await altered({});
    const p = new OpenIdProvider(config({ configUrl: alt.configUrl }), 'us-east-1');
    const token = await sign({});
    expect(await Promise.all([outcome(p, token), outcome(p, token), p.consoleLogin()])).toMatchObject([
      'sub=mallory',
      'sub=mallory',
      { clientId: CLIENT_ID },
    ]);
    // Let the clock move on (a millisecond is all a shortened maximum age would need).
    for (const until = Date.now() + 5; Date.now() < until; ) await new Promise((r) => setImmediate(r));
    expect(await outcome(p, token)).toBe('sub=mallory');
    expect(await p.consoleLogin()).toBeDefined();
    expect(alt.fetches()).toBe(1);
  });

  it('a discovery document without an issuer or an http(s) jwks_uri, or keys that cannot be used: IDPCommunicationError', async () => {
    const jwks = (await (await fetch(`${idp.issuer}/jwks`)).json()) as { keys: object[] };
    const token = await sign({});
    for (const bad of [
      { issuer: undefined },
      { issuer: '' },
      { issuer: 7 },
      { jwks_uri: undefined },
      { jwks_uri: 'ftp://127.0.0.1/jwks' },
      // The provider's own keys in a data: URL (a URL that fetch reads, with an http:// inside it).
      { jwks_uri: `data:application/json,${JSON.stringify({ ...jwks, note: 'http://x' })}` },
    ]) {
      const alt = await altered(bad);
      const p = new OpenIdProvider(config({ configUrl: alt.configUrl }), 'us-east-1');
      expect(await outcome(p, token), JSON.stringify(bad).slice(0, 40)).toBe('IDPCommunicationError');
    }
    // The discovery document is fine, the JWKS is not there, or publishes the private key.
    const alt = await altered({});
    alt.state.doc = JSON.stringify({ ...(await discovery()), jwks_uri: `${alt.base}/jwks` });
    const p = new OpenIdProvider(config({ configUrl: alt.configUrl }), 'us-east-1');
    expect(await outcome(p, token)).toBe('IDPCommunicationError');
    alt.state.jwks = { keys: [idp.signingKey().jwk] };
    expect(await outcome(new OpenIdProvider(config({ configUrl: alt.configUrl }), 'us-east-1'), token)).toBe(
      'IDPCommunicationError',
    );
    alt.state.jwks = jwks;
    expect(await outcome(new OpenIdProvider(config({ configUrl: alt.configUrl }), 'us-east-1'), token)).toBe(
      'sub=mallory',
    );
  });

  it('every asymmetric algorithm of the list verifies: RSA, RSA-PSS, ECDSA, EdDSA', async () => {
    // Keys without an alg, so one RSA key serves all six RSA algorithms and one Ed25519 key both names.
    const keyOf = async (alg: string, kid: string): Promise<JWK> => {
      const { privateKey } = await generateKeyPair(alg, { extractable: true });
      return { ...(await exportJWK(privateKey)), kid };
    };
    const rsa = await keyOf('PS256', 'rsa');
    const [p256, p384, p521, ed] = await Promise.all([
      keyOf('ES256', 'p256'),
      keyOf('ES384', 'p384'),
      keyOf('ES512', 'p521'),
      keyOf('EdDSA', 'ed'),
    ]);
    const pub = ({ d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...rest }: JWK) => rest;
    const alt = await altered({});
    alt.state.doc = JSON.stringify({ ...(await discovery()), jwks_uri: `${alt.base}/jwks` });
    alt.state.jwks = { keys: [rsa, p256, p384, p521, ed].map(pub) };
    const p = new OpenIdProvider(config({ configUrl: alt.configUrl }), 'us-east-1');
    const cases: [string, JWK][] = [
      ['RS256', rsa],
      ['RS384', rsa],
      ['RS512', rsa],
      ['PS256', rsa],
      ['PS384', rsa],
      ['PS512', rsa],
      ['ES256', p256],
      ['ES384', p384],
      ['ES512', p521],
      ['EdDSA', ed],
      ['Ed25519', ed],
    ];
    for (const [alg, jwk] of cases) {
      const token = await sign({}, { key: { kid: jwk.kid as string, jwk }, alg });
      expect(await outcome(p, token), alg).toBe('sub=mallory');
    }
  });

  it('the provider out of reach: IDPCommunicationError; keys already fetched go on serving', async () => {
    const gone = await startOidcProvider({});
    const p = new OpenIdProvider(config({ configUrl: gone.configUrl }), 'us-east-1');
    const k = gone.signingKey();
    const token = await new SignJWT({ sub: 'mallory', aud: CLIENT_ID })
      .setProtectedHeader({ alg: 'RS256', kid: k.kid })
      .setIssuer(gone.issuer)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(await importJWK(k.jwk, 'RS256'));
    expect(await outcome(p, token)).toBe('sub=mallory');
    await gone.close();
    expect(await outcome(p, token)).toBe('sub=mallory');
    const never = new OpenIdProvider(config({ configUrl: gone.configUrl }), 'us-east-1');
    expect(await outcome(never, token)).toBe('IDPCommunicationError');
    // A discovery document naming no issuer and no jwks_uri (the provider's JWKS taken for one).
    const wrong = new OpenIdProvider(config({ configUrl: `${idp.issuer}/jwks` }), 'us-east-1');
    expect(await outcome(wrong, token)).toBe('IDPCommunicationError');
  });
});
