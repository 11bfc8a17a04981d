// AssumeRoleWithWebIdentity into an IAM role, as AWS STS does it. The role's trust policy names an IAM OpenID
// Connect provider (CreateOpenIDConnectProvider, oidc-providers.ts) as its Federated principal; a token is
// judged in this order:
//   1. its `iss` (read before the signature is checked, only to choose) must be the URL of a registered
//      provider, else InvalidIdentityToken ("No OpenIDConnect provider found");
//   2. it must verify against that provider's keys (its discovery document at <iss>/.well-known/openid-
//      configuration, then its JWKS: openid.ts, the same verifier as the configured provider's), with `iss`,
//      `exp`/`nbf` (30 s of skew) and `sub` checked, and its `aud` (or `azp`) must be one of the provider's
//      client ids (a provider with none accepts no token, as in AWS);
//   3. the trust policy must allow sts:AssumeRoleWithWebIdentity to `federated:oidc-provider/<url>` with the
//      token's claims as condition keys (`<url>:aud`, `:sub`, `:amr`, `:azp`, jwt:*; oidc-providers.ts), else
//      AccessDenied.
// The session is a role session (the role's inline and attached policies, narrowed by the session Policy),
// cut as soon as the role is deleted (store.ts checks the role's id on every request).
//
// Session tags and a source identity come from the token's claims (session-tags.ts).
//
// Thumbprints: Cairn fetches the discovery document and JWKS over TLS verified against Node's trusted CAs, as
// AWS does for providers with publicly trusted certificates (thumbprints are then not used); otherwise the top
// CA certificate of the chain the provider presents must have a registered thumbprint, and is then the only
// trust anchor (provider-fetch.ts). Neither: InvalidIdentityToken.
import { S3Error } from '../../errors.js';
import { evaluate } from '../policy-document.js';
import { federatedToken } from '../policy-principals.js';
import type { ApiContext, S3Response } from '../types.js';
import {
  normalizeIssuerUrl,
  oidcProviderArn,
  oidcProviderId,
  type OidcProviderRecord,
  webIdentityKeys,
} from './oidc-providers.js';
import { OpenIdProvider } from './openid.js';
import { roleArn, sessionArn } from './principal.js';
import type { RoleRecord } from './records.js';
import { queryAnswer, type ServiceRequest } from './service.js';
import {
  packedSize,
  requestKeys,
  roleTagKeys,
  SOURCE_IDENTITY_CLAIM,
  sessionExtras,
  sourceIdentityOf,
  tagsOfToken,
} from './session-tags.js';
import type { IamStore } from './store.js';
import {
  credentialsAnswer,
  denied,
  duration,
  newClaims,
  sessionName,
  sessionPolicies,
  simpleClaims,
} from './sts-credentials.js';

const invalid = (why: string) => new S3Error('InvalidIdentityToken', why);
/** More registered providers than this and the verifiers are dropped and made again as tokens come. */
const MAX_VERIFIERS = 256;

/** One verifier per registered provider URL (each keeps the provider's discovery document and keys). */
export class RegisteredProviders {
  private readonly verifiers = new Map<string, OpenIdProvider>();

  verifier(p: OidcProviderRecord): OpenIdProvider {
    const issuer = `${p.scheme}://${p.url}`;
    // Keys fetched under other thumbprints are not kept: a changed ThumbprintList makes a new verifier, whose
    // first login fetches the provider's documents again under the new list.
    const id = `${issuer}\n${p.thumbprints.join(',').toLowerCase()}`;
    let v = this.verifiers.get(id);
    if (!v) {
      if (this.verifiers.size >= MAX_VERIFIERS) this.verifiers.clear();
      const configUrl = `${issuer}/.well-known/openid-configuration`;
      // The client ids are the provider record's (read at each login), not the verifier's.
      const config = { configUrl, clientId: '', claimName: '', claimPrefix: '', thumbprints: p.thumbprints };
      v = new OpenIdProvider(config, '');
      this.verifiers.set(id, v);
    }
    return v;
  }
}

/** The role an IAM role ARN names (its path included), or undefined. The account is not compared. */
export function roleOfArn(store: IamStore, arn: string): RoleRecord | undefined {
  const m = /^arn:[\w-]+:iam::[^:]*:role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(arn);
  const role = m ? store.roles.get(m[1].toLowerCase()) : undefined;
  if (!role || roleArn(role.path, role.name) !== arn.replace(/^arn:[\w-]+:iam::[^:]*:/, 'arn:aws:iam:::')) {
    return undefined;
  }
  return role;
}

/** The registered provider whose URL is the token's issuer (the signature is checked after, with its keys). */
async function providerOfToken(store: IamStore, token: string): Promise<OidcProviderRecord> {
  const { decodeJwt } = await import('jose'); // loaded on the first web identity login
  let iss: unknown;
  try {
    iss = decodeJwt(token).iss;
  } catch {
    throw invalid('The token is malformed or its signature does not verify');
  }
  if (typeof iss !== 'string') throw invalid('The token names no issuer (iss)');
  let issuer: ReturnType<typeof normalizeIssuerUrl> | undefined;
  try {
    issuer = normalizeIssuerUrl(iss);
  } catch {
    issuer = undefined;
  }
  const p = issuer && store.oidcProviders.get(oidcProviderId(issuer.url));
  if (!p || p.scheme !== issuer!.scheme) {
    throw invalid(`No OpenIDConnect provider found in your account for ${iss.slice(0, 256)}`);
  }
  return p;
}

/** AssumeRoleWithWebIdentity with the ARN of an IAM role (sts.ts has checked the token's size and parameters). */
export async function assumeRoleWithWebIdentityForRole(
  ctx: ApiContext,
  req: ServiceRequest,
  params: URLSearchParams,
  role: RoleRecord,
  token: string,
): Promise<S3Response> {
  const store = ctx.iam!;
  const providers = ctx.webIdentity;
  if (!providers) throw new S3Error('NotImplemented', 'Web identity logins into IAM roles are not available here');
  const session = sessionName(params);
  if (session === undefined) throw new S3Error('ValidationError', 'RoleSessionName is required');
  const policies = sessionPolicies(ctx, params);
  const seconds = duration(params, 900, role.maxSessionDuration, 3600);
  const provider = await providerOfToken(store, token);
  const payload = await providers.verifier(provider).verify(token, ctx.now(), provider.clientIds);
  // Session tags and a source identity come from the token's own claims (AWS's names); the trust policy must
  // allow sts:TagSession and sts:SetSourceIdentity for them (session-tags.ts).
  const tags = tagsOfToken(payload);
  const source: unknown = payload[SOURCE_IDENTITY_CLAIM];
  if (source !== undefined && typeof source !== 'string') throw invalid(`${SOURCE_IDENTITY_CLAIM} is not a string`);
  const sourceIdentity = sourceIdentityOf(source as string | undefined, undefined, invalid);
  const packed = packedSize(policies, tags);
  const claims = simpleClaims(payload);
  const keys = webIdentityKeys(provider.url, claims);
  const now = ctx.now();
  const trust = store.compile(role.trust, 'trust');
  const needed = ['sts:assumerolewithwebidentity'];
  if (tags) needed.push('sts:tagsession');
  if (sourceIdentity !== undefined) needed.push('sts:setsourceidentity');
  const context = () => ({
    ...keys,
    ...requestKeys(tags, sourceIdentity, undefined),
    ...roleTagKeys(role.tags),
    'aws:sourceip': req.sourceIp,
    'aws:currenttime': new Date(now).toISOString(),
    'aws:epochtime': String(Math.floor(now / 1000)),
    'aws:securetransport': String(req.secure),
    'sts:rolesessionname': session,
  });
  const principals = new Set(['*', federatedToken(oidcProviderArn(provider.url))]);
  for (const action of needed) {
    if (evaluate(trust, { action, resource: roleArn(role.path, role.name), context, principals }) !== 'Allow') {
      const name = action.replace('sts:assumerolewithwebidentity', 'sts:AssumeRoleWithWebIdentity');
      throw denied(`Not authorized to perform ${name} on ${roleArn(role.path, role.name)}`);
    }
  }
  const c = newClaims(ctx, { kind: 'openid', key: payload.sub }, seconds);
  c.role = { name: role.name.toLowerCase(), id: role.id, session };
  c.web = { provider: provider.url, claims };
  Object.assign(c, policies, sessionExtras(tags, sourceIdentity));
  req.log.info({ sub: payload.sub, iss: payload.iss, role: role.name }, 'STS: web identity login into a role');
  const aud = Array.isArray(payload.aud) ? payload.aud : payload.aud === undefined ? [] : [payload.aud];
  return queryAnswer(
    'sts',
    'AssumeRoleWithWebIdentity',
    {
      Credentials: credentialsAnswer(ctx, c),
      SubjectFromWebIdentityToken: payload.sub,
      AssumedRoleUser: { AssumedRoleId: `${role.id}:${session}`, Arn: sessionArn(role.name, session) },
      PackedPolicySize: policies.policy === undefined && !policies.policyArns && !tags ? undefined : packed,
      // As AWS answers for an IAM OIDC provider (EKS, GitHub Actions): its ARN, not the token's iss.
      Provider: oidcProviderArn(provider.url),
      // The client id the token was accepted for.
      Audience: provider.clientIds.find((id) => aud.includes(id) || payload.azp === id),
      SourceIdentity: sourceIdentity,
    },
    req.requestId,
  );
}
