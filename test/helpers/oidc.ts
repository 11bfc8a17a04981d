// A real OpenID Connect provider for tests: `oidc-provider` (a certified implementation) on a free loopback
// port, with one confidential client and accounts whose claims the test chooses. `login` drives the
// authorization code flow with PKCE as a browser would (the development login and consent forms, cookies
// kept between redirects) and returns the ID token the token endpoint issues. `allowPublicClient` registers the
// web console's public client (no secret, PKCE, CORS on the token endpoint for its redirect URI's origin). `rotateKeys` makes the
// provider sign with a new key (the old one still published), as providers rotate keys.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider from 'oidc-provider';

export const CLIENT_ID = 'cairn-test-client';
export const CLIENT_SECRET = 'cairn-test-client-secret-0123456789';
export const REDIRECT_URI = 'http://127.0.0.1/callback';
/** The public client (no secret) a browser page logs in with. */
export const PUBLIC_CLIENT_ID = 'cairn-console';

export interface SigningKey {
  kid: string;
  /** The private key as a JWK (tests sign tokens of their own with it). */
  jwk: JWK;
}

export interface OidcProvider {
  issuer: string;
  /** The discovery document, as CAIRN_IDENTITY_OPENID_CONFIG_URL takes it. */
  configUrl: string;
  /** The key the provider signs with now. */
  signingKey(): SigningKey;
  /** Requests for the JWKS so far (what Cairn fetched). */
  jwksFetches(): number;
  /** Logs `account` in through the authorization code flow; the ID token. */
  login(account: string): Promise<string>;
  /** Signs with a new key from now on, publishing it before the old one; the new key. */
  rotateKeys(): Promise<SigningKey>;
  /** Registers PUBLIC_CLIENT_ID with these redirect URIs (its pages' origins may call the token endpoint). */
  allowPublicClient(redirectUris: string[]): void;
  close(): Promise<void>;
}

export async function newSigningKey(alg: 'RS256' | 'ES256' = 'RS256'): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `k-${randomBytes(6).toString('hex')}`;
  return { kid, jwk: { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' } };
}

/** A cookie jar of one: name=value pairs as the provider set them, sent back on every request. */
class Cookies {
  private readonly jar = new Map<string, string>();
  take(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair.indexOf('=');
      this.jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1));
    }
  }
  header(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/**
 * `tls`: serve over HTTPS with this certificate chain (PEM, leaf first) and key; the issuer is then https://.
 * (`login` speaks plain HTTP only: over HTTPS, tests sign their tokens with `signingKey`.)
 */
export async function startOidcProvider(
  accounts: Record<string, Record<string, unknown>>,
  tls?: { cert: string; key: string },
): Promise<OidcProvider> {
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
  let jwksFetches = 0;
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/jwks') jwksFetches++;
    handler(req, res);
  };
  const server = tls ? createHttpsServer(tls, listener) : createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as { port: number }).port}`;
  let keys = [await newSigningKey()];
  let publicRedirects: string[] = [];

  const install = () => {
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
          redirect_uris: [REDIRECT_URI],
          grant_types: ['authorization_code'],
          response_types: ['code'],
        },
        ...(publicRedirects.length === 0
          ? []
          : [
              {
                client_id: PUBLIC_CLIENT_ID,
                token_endpoint_auth_method: 'none' as const,
                redirect_uris: publicRedirects,
                grant_types: ['authorization_code'],
                response_types: ['code' as const],
              },
            ]),
      ],
      // A public client's pages may call the token endpoint from its redirect URIs' origins (the library's
      // default rule, stated so it does not warn).
      clientBasedCORS: (_ctx, origin, client) =>
        client.clientAuthMethod === 'none' && client.redirectUris!.some((uri) => URL.parse(uri)?.origin === origin),
      jwks: { keys: keys.map((k) => k.jwk) },
      findAccount: (_ctx, id) =>
        accounts[id] === undefined ? undefined : { accountId: id, claims: () => ({ sub: id, ...accounts[id] }) },
      // The `profile` scope carries the claims Cairn reads (the policy claim, names, groups, AWS's session tags
      // and source identity).
      claims: {
        openid: ['sub'],
        profile: [
          'policy',
          'preferred_username',
          'groups',
          'email',
          'https://aws.amazon.com/tags',
          'https://aws.amazon.com/source_identity',
        ],
      },
      // Claims in the ID token itself (not only from the userinfo endpoint).
      conformIdTokenClaims: false,
      cookies: { keys: ['cairn-test-cookie-key'] },
      // ID tokens last an hour (the expiry test counts on it).
      ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 3600, IdToken: 3600 },
      features: { devInteractions: { enabled: true } },
    });
    handler = provider.callback();
  };
  install();

  const login = async (account: string): Promise<string> => {
    const cookies = new Cookies();
    const verifier = randomBytes(32).toString('base64url');
    const go = async (url: string, form?: Record<string, string>): Promise<Response> => {
      const res = await fetch(new URL(url, issuer), {
        method: form ? 'POST' : 'GET',
        redirect: 'manual',
        headers: {
          cookie: cookies.header(),
          ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        body: form ? new URLSearchParams(form) : undefined,
      });
      cookies.take(res);
      await res.arrayBuffer();
      return res;
    };
    const auth = new URL('/auth', issuer);
    auth.search = new URLSearchParams({
      client_id: CLIENT_ID,
      response_type: 'code',
      scope: 'openid profile',
      redirect_uri: REDIRECT_URI,
      state: randomBytes(8).toString('hex'),
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString();
    // Redirects until the provider sends the browser back to the client with a code; the login and consent
    // forms are answered on the way.
    let res = await go(auth.href);
    for (let step = 0; step < 10; step++) {
      const location = res.headers.get('location');
      if (!location) throw new Error(`the provider stopped at ${res.status} without a redirect`);
      if (location.startsWith(REDIRECT_URI)) {
        const back = new URL(location);
        const code = back.searchParams.get('code');
        if (!code) throw new Error(`the provider refused the login: ${back.search}`);
        const token = await fetch(new URL('/token', issuer), {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
          },
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            code,
            redirect_uri: REDIRECT_URI,
            code_verifier: verifier,
          }),
        });
        const body = (await token.json()) as { id_token?: string; error?: string };
        if (!body.id_token) throw new Error(`no ID token: ${JSON.stringify(body)}`);
        return body.id_token;
      }
      const interaction = /^\/interaction\/([^/]+)$/.exec(new URL(location, issuer).pathname);
      if (interaction) {
        const page = await fetch(new URL(location, issuer), { headers: { cookie: cookies.header() } });
        const html = await page.text();
        const prompt = html.includes('name="login"') ? 'login' : 'consent';
        res = await go(location, prompt === 'login' ? { prompt, login: account, password: 'any' } : { prompt });
      } else {
        res = await go(location);
      }
    }
    throw new Error('the login did not finish in 10 redirects');
  };

  return {
    issuer,
    configUrl: `${issuer}/.well-known/openid-configuration`,
    signingKey: () => keys[0],
    jwksFetches: () => jwksFetches,
    login,
    allowPublicClient: (redirectUris) => {
      publicRedirects = redirectUris;
      install();
    },
    rotateKeys: async () => {
      keys = [await newSigningKey(), ...keys];
      install();
      return keys[0];
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
