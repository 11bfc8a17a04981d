// OpenID Connect as an identity provider (STS AssumeRoleWithWebIdentity). The provider's discovery document
// (CAIRN_IDENTITY_OPENID_CONFIG_URL) names its issuer and its JWKS; a web identity token (an ID token, or a
// JWT access token) is accepted when its signature verifies with a key of that JWKS under an asymmetric
// algorithm, its `iss` is the issuer, its `aud` (or else `azp`) holds the configured client id, and the
// clock is within its `nbf`..`exp` (30 seconds of skew). sts.ts turns the result into temporary credentials
// with the policies a claim names (claim mode) or the configured role policy (role mode), as MinIO does.
//
// Keys come from the provider's JWKS (ProviderKeys): cached, and fetched again when a token names a key id the
// cached set does not hold (the provider rotated its keys), at most once per cooldown, so tokens with made-up
// key ids cannot make Cairn hammer the provider. Past their maximum age the cached keys are fetched again in
// the background and serve meanwhile, also while the provider is down (as AWS and MinIO keep serving). The
// discovery document and the JWKS are read within bounds (provider-fetch.ts: 1 MiB, 5 s, no redirect to
// another host). HS* tokens are refused whatever the JWKS holds: AWS accepts only
// asymmetric signatures, and an HMAC "verified" with a public key is the classic forgery.
import { createHash } from 'node:crypto';
// jose is loaded on the first token (most servers have no OpenID provider).
import type {
  createLocalJWKSet,
  JSONWebKeySet,
  JWTPayload,
  JWTVerifyGetKey,
  JWSHeaderParameters,
  FlattenedJWSInput,
} from 'jose';
import { S3Error } from '../../errors.js';
import { type OpenIdConfig, splitPolicyNames } from './openid-config.js';
import { fetchProviderJson } from './provider-fetch.js';

export { type OpenIdConfig, openIdConfigFromEnv, splitPolicyNames } from './openid-config.js';

/** The policy names of a claim value: a comma-separated string or an array of them; undefined when absent. */
export function policiesOfClaim(value: unknown): string[] | undefined {
  if (typeof value === 'string') return splitPolicyNames(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.flatMap(splitPolicyNames);
  return undefined;
}

/**
 * The role ARN of role mode, as MinIO makes it (so MinIO's clients and scripts send the same one): the
 * base64url SHA-1 of the client id as the resource id. `arn:cairn:` names it equally.
 */
export function openIdRoleId(clientId: string): string {
  return createHash('sha1').update(clientId).digest('base64url');
}

/** Asymmetric signature algorithms only (AWS's list, plus RSA-PSS and EdDSA, which jose verifies). */
const ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];
const SKEW_SECONDS = 30;
/** The discovery document is fetched again after a day (an issuer's JWKS URL rarely moves). */
const DISCOVERY_MAX_AGE_MS = 24 * 3_600_000;
/** Longest token accepted (AWS's WebIdentityToken limit). */
export const MAX_TOKEN_LENGTH = 20_000;

interface Discovery {
  issuer: string;
  jwks: ProviderKeys;
  fetched: number;
  /** For the console's login (code flow with PKCE); absent when the provider names none. */
  authorizationEndpoint?: string;
  tokenEndpoint?: string;
  scopesSupported?: string[];
}

/**
 * What the web console's login needs to know, served to anyone (console/openid.json): all of it public (the
 * provider publishes its endpoints; the client id is in every login URL). Never the client secret: the console
 * is a public client.
 */
export interface ConsoleOpenId {
  authorizationEndpoint: string;
  tokenEndpoint: string;
  clientId: string;
  scopes: string[];
  displayName?: string;
  /** Role mode: the ARN the login assumes (STS names it to anyone who leaves it out). */
  roleArn?: string;
}

/** How long the console's settings stay unavailable after the discovery document could not be read. */
const CONSOLE_RETRY_MS = 30_000;

const httpUrl = (v: unknown): string | undefined =>
  typeof v === 'string' && /^https?:\/\//.test(v) && URL.canParse(v) ? new URL(v).href : undefined;

const invalid = (why: string) => new S3Error('InvalidIdentityToken', why);
const unreachable = (why: string) => new S3Error('IDPCommunicationError', why);

/** The provider's JWKS, fetched when first needed, on an unknown key id (once per cooldown) and when old. */
class ProviderKeys {
  private local: ReturnType<typeof createLocalJWKSet> | undefined;
  /** When the keys were last fetched, and when a fetch was last tried (successful or not). */
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private triedAt = Number.NEGATIVE_INFINITY;
  private pending: Promise<void> | undefined;

  constructor(
    readonly url: URL,
    private readonly maxAgeMs: number,
    private readonly cooldownMs: number,
    private readonly thumbprints: readonly string[] | undefined,
  ) {}

  /** One fetch at a time, shared by the callers that want one meanwhile. */
  private reload(): Promise<void> {
    this.pending ??= (async () => {
      this.triedAt = Date.now();
      try {
        const json = await fetchProviderJson(this.url, {
          headers: { accept: 'application/json, application/jwk-set+json' },
          thumbprints: this.thumbprints,
        });
        const jose = await import('jose');
        this.local = jose.createLocalJWKSet(json as JSONWebKeySet);
        this.fetchedAt = Date.now();
      } catch (e) {
        if (e instanceof S3Error) throw e; // a certificate no registered thumbprint vouches for
        throw unreachable(`The OpenID provider's keys could not be read: ${(e as Error).message}`);
      } finally {
        this.pending = undefined;
      }
    })();
    return this.pending;
  }

  private coolingDown(): boolean {
    return Date.now() - this.triedAt < this.cooldownMs;
  }

  /** The key a token names (jwtVerify's key function). */
  readonly getKey: JWTVerifyGetKey = async (header: JWSHeaderParameters, token: FlattenedJWSInput) => {
    if (!this.local) await this.reload();
    else if (Date.now() - this.fetchedAt >= this.maxAgeMs && !this.coolingDown()) {
      // Old keys serve while new ones are fetched, and go on serving if the provider does not answer.
      this.reload().catch(() => {});
    }
    const keys = this.local!;
    try {
      return await keys(header, token);
    } catch (e) {
      if ((e as { code?: unknown }).code !== 'ERR_JWKS_NO_MATCHING_KEY' || this.coolingDown()) throw e;
      await this.reload(); // the provider may have rotated its keys
      return this.local!(header, token);
    }
  };
}

export class OpenIdProvider {
  /** Role mode's ARN (MinIO's form), or undefined in claim mode. */
  readonly roleArn: string | undefined;
  readonly roleId: string | undefined;
  private discovery: Discovery | undefined;
  private pending: Promise<Discovery> | undefined;
  private consoleFailedAt = Number.NEGATIVE_INFINITY;

  constructor(
    readonly config: OpenIdConfig,
    readonly region: string,
  ) {
    this.roleId = config.rolePolicy ? openIdRoleId(config.clientId) : undefined;
    this.roleArn = this.roleId && `arn:minio:iam:${region}::role/${this.roleId}`;
  }

  /** The claim holding policy names (claim mode). */
  get policyClaim(): string {
    return this.config.claimPrefix + this.config.claimName;
  }

  /** Is `arn` this provider's role ARN? MinIO's `arn:minio:` form or `arn:cairn:`, in this region or none. */
  isRoleArn(arn: string): boolean {
    const m = /^arn:(minio|cairn):iam:([^:]*)::role\/(.+)$/.exec(arn);
    // m[3] is never empty, so it never equals the undefined roleId of claim mode.
    return m !== null && m[3] === this.roleId && (m[2] === '' || m[2] === this.region);
  }

  private async fetchDiscovery(): Promise<Discovery> {
    let doc: {
      issuer?: unknown;
      jwks_uri?: unknown;
      authorization_endpoint?: unknown;
      token_endpoint?: unknown;
      scopes_supported?: unknown;
    };
    try {
      doc = (await fetchProviderJson(new URL(this.config.configUrl), {
        thumbprints: this.config.thumbprints,
      })) as typeof doc;
    } catch (e) {
      if (e instanceof S3Error) throw e; // a certificate no registered thumbprint vouches for
      throw unreachable(`The OpenID provider's discovery document could not be read: ${(e as Error).message}`);
    }
    const { issuer, jwks_uri: jwksUri } = doc ?? {};
    const jwksUrl = typeof jwksUri === 'string' && /^https?:\/\//.test(jwksUri) ? URL.parse(jwksUri) : null;
    if (typeof issuer !== 'string' || issuer === '' || !jwksUrl) {
      throw unreachable("The OpenID provider's discovery document names no issuer or no http(s) jwks_uri");
    }
    // A discovery document fetched again that names the same JWKS keeps the keys already fetched.
    const previous = this.discovery?.jwks;
    const { jwksMaxAgeMs = 600_000, jwksCooldownMs = 30_000 } = this.config;
    const jwks =
      previous?.url.href === jwksUrl.href
        ? previous
        : new ProviderKeys(jwksUrl, jwksMaxAgeMs, jwksCooldownMs, this.config.thumbprints);
    const scopes = doc.scopes_supported;
    return {
      issuer,
      jwks,
      fetched: Date.now(),
      authorizationEndpoint: httpUrl(doc.authorization_endpoint),
      tokenEndpoint: httpUrl(doc.token_endpoint),
      scopesSupported:
        Array.isArray(scopes) && scopes.every((x) => typeof x === 'string') ? scopes.slice(0, 50) : undefined,
    };
  }

  /** The discovery document, fetched once (one fetch for concurrent callers); kept when a later fetch fails. */
  private async current(): Promise<Discovery> {
    const d = this.discovery;
    if (d && Date.now() - d.fetched < DISCOVERY_MAX_AGE_MS) return d;
    this.pending ??= this.fetchDiscovery().finally(() => {
      this.pending = undefined;
    });
    try {
      this.discovery = await this.pending;
    } catch (e) {
      if (!d) throw e;
      d.fetched = Date.now();
    }
    return this.discovery ?? d!;
  }

  /**
   * The console login's settings: the provider's endpoints, the client id and the scopes (configured, else the
   * provider's advertised ones, as MinIO does, else `openid`). Undefined when the provider cannot be read or
   * names no authorization or token endpoint (the console then offers access keys only).
   */
  async consoleLogin(): Promise<ConsoleOpenId | undefined> {
    // Unauthenticated page loads ask this: after a failed read, the provider is not asked again for a while.
    if (Date.now() - this.consoleFailedAt < CONSOLE_RETRY_MS) return undefined;
    let d: Discovery;
    try {
      d = await this.current();
    } catch {
      this.consoleFailedAt = Date.now();
      return undefined;
    }
    if (!d.authorizationEndpoint || !d.tokenEndpoint) return undefined;
    const advertised = d.scopesSupported?.includes('openid') ? d.scopesSupported : undefined;
    return {
      authorizationEndpoint: d.authorizationEndpoint,
      tokenEndpoint: d.tokenEndpoint,
      clientId: this.config.clientId,
      scopes: this.config.scopes ?? advertised ?? ['openid'],
      displayName: this.config.displayName,
      roleArn: this.roleArn,
    };
  }

  /**
   * The verified claims of a web identity token, or the STS error saying why not. `audiences`: the client ids
   * the token may be for (default: the configured one; an IAM OIDC provider's ClientIDList).
   */
  async verify(
    token: string,
    nowMs: number,
    audiences: readonly string[] = [this.config.clientId],
  ): Promise<JWTPayload & { sub: string; iss: string }> {
    const d = await this.current();
    const { jwtVerify } = await import('jose');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, d.jwks.getKey, {
        issuer: d.issuer,
        algorithms: ALGORITHMS,
        currentDate: new Date(nowMs),
        clockTolerance: SKEW_SECONDS,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (e) {
      throw verifyError(e);
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') throw invalid('The token has no subject (sub)');
    const aud = payload.aud === undefined ? [] : Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    // OpenID Connect Core 2: `aud` holds the client id; MinIO also accepts it as the authorized party (`azp`).
    if (!audiences.some((id) => aud.includes(id) || payload.azp === id)) {
      throw invalid('Incorrect token audience: its aud (or azp) names no client id this server accepts');
    }
    return payload as JWTPayload & { sub: string; iss: string };
  }
}

/** jose's failure as STS answers it: the provider out of reach, an expired token, or an invalid one. */
function verifyError(e: unknown): S3Error {
  if (e instanceof S3Error) return e; // the provider's keys could not be read
  const code = (e as { code?: unknown }).code;
  if (code === 'ERR_JWT_EXPIRED') return new S3Error('ExpiredTokenException', 'The web identity token has expired');
  // Keys the provider published that cannot be used (a private key, say), or a failure without jose's code.
  // (The keys are a local set fetched by ProviderKeys: jose's remote-set codes never come here.)
  if (code === 'ERR_JWKS_INVALID' || !code) {
    return unreachable(`The OpenID provider's keys could not be read: ${(e as Error).message}`);
  }
  if (code === 'ERR_JWKS_NO_MATCHING_KEY')
    return invalid("No key of the provider's JWKS matches the token's kid and alg");
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED')
    return invalid(`The token's claims are not valid: ${(e as Error).message}`);
  if (code === 'ERR_JOSE_ALG_NOT_ALLOWED') return invalid('The token is not signed with an asymmetric algorithm');
  return invalid('The token is malformed or its signature does not verify');
}
