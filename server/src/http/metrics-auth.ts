// Who may scrape the metrics: MinIO's default is a bearer JWT (`mc admin prometheus generate`, here
// `cairn admin prometheus generate`) signed with the secret key of the access key it names, issued by
// "prometheus"; MINIO_PROMETHEUS_AUTH_TYPE=public (CAIRN_PROMETHEUS_AUTH_TYPE) opens the endpoints.
// As MinIO: tokens of the root user, and of any long-term key (IAM user, service account) whose policies allow
// admin:Prometheus, each checked with that key's own secret.
// jose is loaded with the first token checked or made: a server nobody scrapes never loads it.

export type PrometheusAuthType = 'jwt' | 'public';

/** CAIRN_PROMETHEUS_AUTH_TYPE: jwt (default) or public; any other value is refused (the server does not start). */
export function prometheusAuthFromEnv(env: NodeJS.ProcessEnv): PrometheusAuthType {
  const value = (env.CAIRN_PROMETHEUS_AUTH_TYPE ?? 'jwt').toLowerCase();
  if (value === 'jwt' || value === 'public') return value;
  throw new Error(`CAIRN_PROMETHEUS_AUTH_TYPE must be jwt or public, not ${JSON.stringify(value)}`);
}

interface Key {
  accessKey: string;
  secretKey: string;
}

const ISSUER = 'prometheus';
/** As mc's tokens: valid for 100 years (a scrape config is written once). */
const TOKEN_LIFETIME_SECONDS = 100 * 365 * 24 * 3600;

/** A bearer token for Prometheus, as `mc admin prometheus generate` makes it (HS512). */
export async function prometheusToken(key: Key, nowMs = Date.now()): Promise<string> {
  const { SignJWT } = await import('jose');
  const now = Math.floor(nowMs / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS512', typ: 'JWT' })
    .setSubject(key.accessKey)
    .setIssuer(ISSUER)
    .setExpirationTime(now + TOKEN_LIFETIME_SECONDS)
    .sign(new TextEncoder().encode(key.secretKey));
}

/** A key a token may name: its secret (the token's signing key) and whether it may read the metrics. */
export interface TokenIssuer {
  secretKey: string;
  mayScrape(): boolean;
}

/** The access key a token names: `sub`, or `accessKey` as older mc tokens carry it. */
const accessKeyOf = (claims: { sub?: unknown; accessKey?: unknown }): string | undefined =>
  typeof claims.sub === 'string' ? claims.sub : typeof claims.accessKey === 'string' ? claims.accessKey : undefined;

/**
 * Whether the Authorization header carries a valid token: signed with the secret of the key it names
 * (`issuerOf`: undefined for an unknown or disabled key), and that key may scrape.
 */
export async function validPrometheusToken(
  authorization: string | undefined,
  issuerOf: (accessKey: string) => TokenIssuer | undefined,
): Promise<boolean> {
  const m = /^Bearer ([A-Za-z0-9._-]+)$/.exec(authorization ?? '');
  if (!m) return false;
  const { decodeJwt, jwtVerify } = await import('jose');
  try {
    // Unverified, only to know whose secret checks it; the verified claims must name the same key.
    const named = accessKeyOf(decodeJwt(m[1]));
    const issuer = named === undefined ? undefined : issuerOf(named);
    if (!issuer) return false;
    const { payload } = await jwtVerify(m[1], new TextEncoder().encode(issuer.secretKey), {
      issuer: ISSUER,
      algorithms: ['HS256', 'HS384', 'HS512'],
      requiredClaims: ['exp'],
    });
    return accessKeyOf(payload) === named && issuer.mayScrape();
  } catch {
    return false;
  }
}
