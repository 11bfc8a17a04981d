// The OpenID Connect login: the authorization code flow with PKCE as a public client (the page holds no secret;
// the provider must allow this origin's /console/ as a redirect URI and CORS on its token endpoint). The state
// and the PKCE verifier live in sessionStorage (this tab) for one round trip. Back from the provider, the page
// checks the state, trades the code for an ID token, and calls STS AssumeRoleWithWebIdentity unsigned; its
// temporary credentials become the session, as with access keys (login.ts).
import { ApiError, errorOf } from './client.js';
import { DURATION_SECONDS, startLoggedIn } from './login.js';
import { parseXml, text } from './xml.js';

/** The server's console/openid.json (server/src/api/iam/openid.ts, ConsoleOpenId). */
export interface OpenIdSettings {
  authorizationEndpoint: string;
  tokenEndpoint: string;
  clientId: string;
  scopes: string[];
  displayName?: string;
  roleArn?: string;
}

const PENDING = 'cairn.openid';
const FORM = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };

/** The provider's settings, or undefined when the server has none (access keys only). */
export async function openIdSettings(): Promise<OpenIdSettings | undefined> {
  const res = await fetch('/console/openid.json', { credentials: 'omit', cache: 'no-store' });
  if (res.status === 404) return undefined;
  if (!res.ok) throw new ApiError(`HTTP${res.status}`, 'The OpenID settings could not be read', res.status);
  return (await res.json()) as OpenIdSettings;
}

const redirectUri = () => `${location.origin}/console/`;

const base64url = (bytes: ArrayBuffer | Uint8Array): string =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

const randomText = (n: number) => base64url(crypto.getRandomValues(new Uint8Array(n)));

/** Sends the browser to the provider's login. */
export async function startOpenIdLogin(s: OpenIdSettings): Promise<void> {
  const state = randomText(16);
  const verifier = randomText(32);
  sessionStorage.setItem(PENDING, JSON.stringify({ state, verifier }));
  const challenge = base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  const url = new URL(s.authorizationEndpoint);
  for (const [k, v] of Object.entries({
    client_id: s.clientId,
    response_type: 'code',
    scope: s.scopes.join(' '),
    redirect_uri: redirectUri(),
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  })) {
    url.searchParams.set(k, v);
  }
  location.assign(url.href);
}

/** Is this page load the provider sending the browser back (`?state=` with `code` or `error`)? */
export function isOpenIdReturn(): boolean {
  const q = new URLSearchParams(location.search);
  return q.has('state') && (q.has('code') || q.has('error'));
}

/** Finishes the login the provider sent the browser back from; throws (nothing kept) when anything is off. */
export async function finishOpenIdLogin(): Promise<void> {
  const q = new URLSearchParams(location.search);
  // The code is for one use: it leaves the address bar (and history) at once.
  history.replaceState(null, '', location.pathname + location.hash);
  const pending = sessionStorage.getItem(PENDING);
  sessionStorage.removeItem(PENDING);
  const { state, verifier } = (pending ? JSON.parse(pending) : {}) as { state?: string; verifier?: string };
  if (!state || !verifier || q.get('state') !== state) {
    throw new ApiError('InvalidState', 'This login answer is not for a login this page started: refused.', 400);
  }
  const error = q.get('error');
  if (error) throw new ApiError(error, q.get('error_description') || 'The provider refused the login', 400);
  const s = await openIdSettings();
  if (!s) throw new ApiError('NoProvider', 'This server has no OpenID provider', 404);
  const res = await fetch(s.tokenEndpoint, {
    method: 'POST',
    credentials: 'omit',
    headers: FORM,
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: q.get('code') ?? '',
      redirect_uri: redirectUri(),
      client_id: s.clientId,
      code_verifier: verifier,
    }),
  });
  const token = (await res.json().catch(() => ({}))) as {
    id_token?: unknown;
    error?: string;
    error_description?: string;
  };
  if (!res.ok || typeof token.id_token !== 'string') {
    throw new ApiError(token.error ?? `HTTP${res.status}`, token.error_description || 'No ID token', res.status);
  }
  const params: Record<string, string> = {
    Action: 'AssumeRoleWithWebIdentity',
    Version: '2011-06-15',
    WebIdentityToken: token.id_token,
    DurationSeconds: String(DURATION_SECONDS),
  };
  if (s.roleArn) params.RoleArn = s.roleArn;
  const sts = await fetch('/', {
    method: 'POST',
    credentials: 'omit',
    headers: FORM,
    body: new URLSearchParams(params),
  });
  if (!sts.ok) throw await errorOf(sts);
  const doc = parseXml(await sts.text());
  await startLoggedIn(doc, undefined, nameOf(token.id_token) || text(doc, 'SubjectFromWebIdentityToken'));
}

/** The name the header shows (display only: the server verified the token): preferred_username, email, sub. */
function nameOf(idToken: string): string {
  try {
    const payload = idToken.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = new TextDecoder().decode(Uint8Array.from(atob(payload), (c) => c.charCodeAt(0)));
    const claims = JSON.parse(json) as Record<string, unknown>;
    const name = [claims.preferred_username, claims.email, claims.sub].find((v) => typeof v === 'string');
    return (name as string | undefined) ?? '';
  } catch {
    return '';
  }
}
