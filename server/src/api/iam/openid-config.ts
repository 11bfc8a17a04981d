// The OpenID Connect provider's settings from the environment (MinIO's names, CAIRN_ prefix). Kept apart from
// the verifier (openid.ts, which loads jose) so the command line can check them in a process that never
// verifies a token: the primary of a multi-worker server.
export interface OpenIdConfig {
  /** CAIRN_IDENTITY_OPENID_CONFIG_URL: the provider's `.well-known/openid-configuration`. */
  configUrl: string;
  /** CAIRN_IDENTITY_OPENID_CLIENT_ID: the audience tokens must be for. */
  clientId: string;
  /** CAIRN_IDENTITY_OPENID_CLAIM_NAME (default `policy`), after CAIRN_IDENTITY_OPENID_CLAIM_PREFIX. */
  claimName: string;
  claimPrefix: string;
  /** CAIRN_IDENTITY_OPENID_ROLE_POLICY: role mode, every session gets these policies (names). */
  rolePolicy?: string[];
  /** Least time between two JWKS fetches caused by unknown key ids (default 30 s; tests lower it). */
  jwksCooldownMs?: number;
  /** How long fetched keys are used before they are fetched again (default 10 minutes). */
  jwksMaxAgeMs?: number;
  /** An IAM OIDC provider's ThumbprintList: the private CAs trusted for its HTTPS (provider-fetch.ts). */
  thumbprints?: readonly string[];
  /** CAIRN_IDENTITY_OPENID_SCOPES: what the web console's login asks for (default: the provider's advertised). */
  scopes?: string[];
  /** CAIRN_IDENTITY_OPENID_DISPLAY_NAME: the console's login button names the provider so. */
  displayName?: string;
}

const ENV = 'CAIRN_IDENTITY_OPENID_';
/** MinIO's settings that Cairn reads; CLIENT_SECRET is accepted (MinIO configurations carry it), not needed. */
const KNOWN = new Set([
  'ENABLE',
  'CONFIG_URL',
  'CLIENT_ID',
  'CLIENT_SECRET',
  'CLAIM_NAME',
  'CLAIM_PREFIX',
  'ROLE_POLICY',
  'SCOPES',
  'DISPLAY_NAME',
]);
/**
 * MinIO's redirect settings for its console login: Cairn's console is its own redirect URI (the page's origin
 * + /console/, on the S3 address and on --console-address), so a configured one would be ignored: refused.
 */
const REDIRECTS = new Set(['REDIRECT_URI', 'REDIRECT_URI_DYNAMIC']);
/** An OAuth scope token (RFC 6749 3.3): printable ASCII without space, `"` or `\`. */
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]{1,64}$/;
const MAX_DISPLAY_NAME = 100;

/** The OpenID settings of the environment, in MinIO's names; undefined when no provider is configured. */
export function openIdConfigFromEnv(env: NodeJS.ProcessEnv): OpenIdConfig | undefined {
  const get = (name: string) => env[ENV + name] || undefined;
  const enable = get('ENABLE');
  if (enable !== undefined && enable !== 'on' && enable !== 'off') throw new Error(`${ENV}ENABLE must be on or off`);
  const configUrl = get('CONFIG_URL');
  if (enable === 'off' || (configUrl === undefined && get('CLIENT_ID') === undefined)) return undefined;
  for (const [k, v] of Object.entries(env)) {
    if (!k.startsWith(ENV) || v === undefined || v === '') continue;
    const name = k.slice(ENV.length);
    if (REDIRECTS.has(name)) {
      throw new Error(`${k}: Cairn's console login returns to the console's own address (/console/); remove it`);
    }
    // Several providers (MinIO's _<NAME> suffixes), user info claims, vendor extensions: not implemented.
    if (!KNOWN.has(name)) throw new Error(`${k} is not a setting Cairn implements`);
  }
  if (configUrl === undefined) throw new Error(`${ENV}CONFIG_URL is required with ${ENV}CLIENT_ID`);
  if (!/^https?:\/\/[^\s]+$/.test(configUrl) || !URL.canParse(configUrl)) {
    throw new Error(`${ENV}CONFIG_URL must be an http(s) URL`);
  }
  const clientId = get('CLIENT_ID');
  if (clientId === undefined) throw new Error(`${ENV}CLIENT_ID is required with ${ENV}CONFIG_URL`);
  const claimName = get('CLAIM_NAME') ?? 'policy';
  const roleText = get('ROLE_POLICY');
  let rolePolicy: string[] | undefined;
  if (roleText !== undefined) {
    // As MinIO: a role policy and a claim name other than the default cannot both be set.
    if (claimName !== 'policy') {
      throw new Error(`${ENV}ROLE_POLICY and ${ENV}CLAIM_NAME cannot both be set`);
    }
    rolePolicy = splitPolicyNames(roleText);
    if (rolePolicy.length === 0) throw new Error(`${ENV}ROLE_POLICY names no policy`);
  }
  return {
    configUrl,
    clientId,
    claimName,
    claimPrefix: get('CLAIM_PREFIX') ?? '',
    rolePolicy,
    scopes: scopesOf(get('SCOPES')),
    displayName: displayNameOf(get('DISPLAY_NAME')),
  };
}

/** SCOPES, comma-separated as MinIO takes them; an ID token needs `openid` among them. */
function scopesOf(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const scopes = splitPolicyNames(text);
  const bad = scopes.find((s) => !SCOPE.test(s));
  if (bad !== undefined) throw new Error(`${ENV}SCOPES: ${JSON.stringify(bad)} is not an OAuth scope`);
  if (!scopes.includes('openid')) throw new Error(`${ENV}SCOPES must include openid (the console needs an ID token)`);
  return scopes;
}

function displayNameOf(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const name = text.trim();
  if (name === '' || name.length > MAX_DISPLAY_NAME || /\p{Cc}/u.test(name)) {
    throw new Error(`${ENV}DISPLAY_NAME must be 1-${MAX_DISPLAY_NAME} characters without control characters`);
  }
  return name;
}

/** Policy names as a claim or ROLE_POLICY gives them: comma-separated, trimmed, without empty ones. */
export function splitPolicyNames(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
