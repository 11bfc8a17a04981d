// STS on the S3 endpoint: AssumeRole (a role's rights for a while, narrowed by a session policy; or, without
// RoleArn, as MinIO does, the caller's own rights), GetSessionToken and GetCallerIdentity. Credentials are
// minted as sealed session tokens (session-token.ts): nothing is stored, the token is checked on every request.
// The identity providers' actions (AssumeRoleWithWebIdentity, AssumeRoleWithLDAPIdentity) plug in here: they
// produce SessionClaims for a role or for policies mapped to their claims, the same way.
import { randomBytes } from 'node:crypto';
import { S3Error } from '../../errors.js';
import { identityVerdict } from '../authorize.js';
import { evaluate } from '../policy-document.js';
import type { ApiContext, Caller, S3Response } from '../types.js';
import { checkDocument, getRole } from './manage.js';
import { roleArn, sessionArn } from './principal.js';
import { newSecret } from './records.js';
import { queryAnswer, type ServiceRequest } from './service.js';
import { normalizeDn } from './ldap.js';
import { MAX_TOKEN_LENGTH, policiesOfClaim } from './openid.js';
import { openIdSessionArn } from './principal.js';
import { mintToken, type SessionClaims } from './session-token.js';

/** Actions answered by STS (the rest of the query API is IAM's). */
export const STS_ACTIONS = new Set([
  'AssumeRole',
  'GetSessionToken',
  'GetCallerIdentity',
  'AssumeRoleWithWebIdentity',
  'AssumeRoleWithLDAPIdentity',
  'AssumeRoleWithSAML',
  'AssumeRoleWithClientGrants',
  'AssumeRoleWithCertificate',
  'GetFederationToken',
  'DecodeAuthorizationMessage',
  'GetAccessKeyInfo',
]);

/**
 * The only actions answered without a signature: the identity providers' logins, whose parameters carry the
 * proof of identity (a web identity token; an LDAP username and password). service.ts lets nothing else through.
 */
export const UNSIGNED_STS_ACTIONS = new Set(['AssumeRoleWithWebIdentity', 'AssumeRoleWithLDAPIdentity']);

const denied = (why: string) => new S3Error('AccessDenied', why);

/** DurationSeconds: an integer within the bounds, or the default. */
function duration(params: URLSearchParams, min: number, max: number, dflt: number): number {
  const v = params.get('DurationSeconds');
  if (v === null) return dflt;
  const n = /^\d{1,9}$/.test(v) ? Number(v) : Number.NaN;
  if (!(n >= min && n <= max)) {
    throw new S3Error('ValidationError', `DurationSeconds must be between ${min} and ${max} seconds`);
  }
  return n;
}

/** Parameters Cairn does not implement are refused, never ignored. */
function refuseUnsupported(params: URLSearchParams): void {
  for (const k of params.keys()) {
    const base = k.split('.')[0];
    if (
      [
        'PolicyArns',
        'Tags',
        'TransitiveTagKeys',
        'SerialNumber',
        'TokenCode',
        'SourceIdentity',
        'ProvidedContexts',
      ].includes(base)
    ) {
      throw new S3Error('NotImplemented', `The parameter ${base} is not implemented`);
    }
  }
}

function parentOf(store: NonNullable<ApiContext['iam']>, caller: Caller): SessionClaims['parent'] {
  const kind = caller.iam.kind;
  if (kind === 'session') throw denied('Temporary credentials cannot ask for more temporary credentials here');
  if (kind === 'root') return { kind, key: caller.accessKey };
  if (kind === 'service-account') return { kind, key: caller.accessKey };
  const u = store.users.get(caller.iam.user ?? '');
  if (!u) throw denied('The user is gone');
  return { kind, key: caller.accessKey, user: u.name.toLowerCase(), userId: u.id };
}

function credentialsAnswer(ctx: ApiContext, claims: SessionClaims): { [k: string]: string } {
  return {
    AccessKeyId: claims.ak,
    SecretAccessKey: claims.sk,
    SessionToken: mintToken(ctx.iam!.sealer, claims),
    Expiration: new Date(claims.exp * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
}

function newClaims(ctx: ApiContext, parent: SessionClaims['parent'], seconds: number): SessionClaims {
  const now = Math.floor(ctx.now() / 1000);
  const ak = `ASIA${randomBytes(12)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '')
    .toUpperCase()}`.slice(0, 20);
  return { v: 1, ak: ak.padEnd(20, 'X'), sk: newSecret(), iat: now, exp: now + seconds, parent };
}

/** STS's PackedPolicySize: the session policy's share of the packed limit, in percent. */
const packedPolicySize = (policy: string | undefined): number =>
  policy === undefined ? 0 : Math.min(100, Math.ceil((policy.length * 100) / 2048));

function sessionPolicy(ctx: ApiContext, params: URLSearchParams): string | undefined {
  const policy = params.get('Policy') ?? undefined;
  if (policy !== undefined) checkDocument(ctx.iam!, policy, 'session');
  return policy;
}

async function assumeRole(ctx: ApiContext, req: ServiceRequest, params: URLSearchParams): Promise<S3Response> {
  const store = ctx.iam!;
  const caller = req.caller!;
  refuseUnsupported(params);
  const policy = sessionPolicy(ctx, params);
  const parent = parentOf(store, caller);
  const arn = params.get('RoleArn');
  if (!arn) {
    // MinIO's AssumeRole: temporary credentials with the caller's own rights.
    const claims = newClaims(ctx, parent, duration(params, 900, 43_200, 3600));
    claims.policy = policy;
    return queryAnswer('sts', 'AssumeRole', { Credentials: credentialsAnswer(ctx, claims) }, req.requestId);
  }
  const session = params.get('RoleSessionName') ?? '';
  if (!/^[\w+=,.@-]{2,64}$/.test(session)) {
    throw new S3Error('ValidationError', 'RoleSessionName must be 2 to 64 characters of letters, digits and +=,.@_-');
  }
  const m = /^arn:[\w-]+:iam::[^:]*:role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(arn);
  let role: ReturnType<typeof getRole> | undefined;
  try {
    role = m ? getRole(store, m[1]) : undefined;
  } catch {
    role = undefined;
  }
  const notAuthorized = denied(`${caller.iam.arn} is not authorized to perform sts:AssumeRole on resource ${arn}`);
  if (!role || roleArn(role.path, role.name) !== arn.replace(/^arn:[\w-]+:iam::[^:]*:/, 'arn:aws:iam:::')) {
    throw notAuthorized;
  }
  const q = {
    action: 'sts:assumerole',
    resource: roleArn(role.path, role.name),
    context: () => ({
      'aws:principalarn': caller.iam.arn,
      'aws:username': caller.iam.username,
      'aws:userid': caller.iam.userId,
      'aws:sourceip': req.sourceIp,
      'aws:currenttime': new Date(ctx.now()).toISOString(),
      'aws:epochtime': String(Math.floor(ctx.now() / 1000)),
      'aws:securetransport': String(req.secure),
      'sts:rolesessionname': session,
      'sts:externalid': params.get('ExternalId') ?? undefined,
    }),
    principals: caller.iam.tokens,
  };
  // The caller's own policies may deny it; within the account, allowing it there delegates the account's
  // principal ("arn:aws:iam::<account>:root") in the trust policy to this caller.
  const own = identityVerdict(ctx, caller, q);
  if (own.identity === 'Deny' || own.restricted === 'Deny') throw notAuthorized;
  const tokens =
    own.identity === 'Allow' && own.restricted === 'Allow'
      ? new Set([...caller.iam.tokens, 'account'])
      : caller.iam.tokens;
  if (evaluate(store.compile(role.trust, 'trust'), { ...q, principals: tokens }) !== 'Allow') throw notAuthorized;
  const claims = newClaims(ctx, parent, duration(params, 900, role.maxSessionDuration, 3600));
  claims.role = { name: role.name.toLowerCase(), id: role.id, session };
  claims.policy = policy;
  return queryAnswer(
    'sts',
    'AssumeRole',
    {
      Credentials: credentialsAnswer(ctx, claims),
      AssumedRoleUser: { AssumedRoleId: `${role.id}:${session}`, Arn: sessionArn(role.name, session) },
      PackedPolicySize: packedPolicySize(policy),
    },
    req.requestId,
  );
}

/** MinIO's AssumeRoleWithLDAPIdentity: temporary credentials with the policies mapped to the user's LDAP DNs. */
async function assumeRoleWithLdap(ctx: ApiContext, req: ServiceRequest, params: URLSearchParams): Promise<S3Response> {
  const ldap = ctx.ldap;
  if (!ldap) throw new S3Error('NotImplemented', 'No LDAP server is configured (CAIRN_IDENTITY_LDAP_SERVER_ADDR)');
  refuseUnsupported(params);
  const policy = sessionPolicy(ctx, params);
  const seconds = duration(params, 900, 43_200, 3600);
  const who = await ldap.authenticate(params.get('LDAPUsername') ?? '', params.get('LDAPPassword') ?? '', req.sourceIp);
  const dn = normalizeDn(who.userDn);
  const groups = who.groupDns.map(normalizeDn);
  if (ctx.iam!.ldapMappingsOf(dn, groups).every((m) => m.attached.length === 0)) {
    throw denied(`No policy is mapped to the LDAP user ${dn} or to their groups`);
  }
  const claims = newClaims(ctx, { kind: 'ldap', key: who.username }, seconds);
  claims.ldap = { username: who.username, dn, groups };
  claims.policy = policy;
  req.log.info({ ldapUser: dn, groups: groups.length }, 'STS: LDAP login');
  return queryAnswer(
    'sts',
    'AssumeRoleWithLDAPIdentity',
    { Credentials: credentialsAnswer(ctx, claims) },
    req.requestId,
  );
}

/** Claims kept in the session for the jwt:* condition keys: simple values, bounded in number and size. */
const MAX_CLAIMS = 64;
const MAX_CLAIM_BYTES = 6 * 1024;

function simpleClaims(payload: Record<string, unknown>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  let n = 0;
  for (const [k, v] of Object.entries(payload)) {
    let value: string | string[] | undefined;
    if (typeof v === 'string') value = v;
    else if (typeof v === 'number' || typeof v === 'boolean') value = String(v);
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) value = v;
    // Objects (address, realm_access, ...) have no jwt:* key to name them by.
    if (value === undefined || k.length > 128) continue;
    if (++n > MAX_CLAIMS) throw new S3Error('ValidationError', `The web identity token has over ${MAX_CLAIMS} claims`);
    out[k] = value;
  }
  // The claims travel in the session token, which has a bounded size.
  if (Buffer.byteLength(JSON.stringify(out)) > MAX_CLAIM_BYTES) {
    throw new S3Error('ValidationError', `The web identity token's claims exceed ${MAX_CLAIM_BYTES} bytes`);
  }
  return out;
}

/**
 * AssumeRoleWithWebIdentity (OpenID Connect): temporary credentials for the subject of a token the configured
 * provider signed, with the policies its claim names (claim mode) or the role policy (role mode, when RoleArn
 * is the provider's role ARN), narrowed by a session policy.
 */
async function assumeRoleWithWebIdentity(
  ctx: ApiContext,
  req: ServiceRequest,
  params: URLSearchParams,
): Promise<S3Response> {
  const oidc = ctx.openid;
  if (!oidc) throw new S3Error('NotImplemented', 'No OpenID provider is configured (CAIRN_IDENTITY_OPENID_CONFIG_URL)');
  refuseUnsupported(params);
  for (const name of ['ProviderId', 'TokenRevokeType']) {
    if (params.has(name)) throw new S3Error('NotImplemented', `The parameter ${name} is not implemented`);
  }
  const token = params.get('WebIdentityToken') ?? '';
  if (token.length < 4 || token.length > MAX_TOKEN_LENGTH) {
    throw new S3Error('ValidationError', `WebIdentityToken must be 4 to ${MAX_TOKEN_LENGTH} characters`);
  }
  const sessionName = params.get('RoleSessionName') ?? undefined;
  if (sessionName !== undefined && !/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
    throw new S3Error('ValidationError', 'RoleSessionName must be 2 to 64 characters of letters, digits and +=,.@_-');
  }
  const policy = sessionPolicy(ctx, params);
  const seconds = duration(params, 900, 43_200, 3600);
  const arn = params.get('RoleArn') ?? undefined;
  // Role mode answers only for its own ARN. In claim mode MinIO ignores RoleArn, which AWS's SDKs and CLI
  // insist on sending; an ARN of one of Cairn's IAM roles, though, asks for that role's trust policy to judge
  // the token, which is not implemented.
  if (oidc.roleArn !== undefined) {
    if (arn === undefined)
      throw new S3Error('ValidationError', `RoleArn is required: this server's is ${oidc.roleArn}`);
    if (!oidc.isRoleArn(arn)) throw denied(`Not authorized to perform sts:AssumeRoleWithWebIdentity on ${arn}`);
  } else if (arn !== undefined) {
    const m = /^arn:[\w-]+:iam::[^:]*:role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(arn);
    if (m && ctx.iam!.roles.has(m[1].toLowerCase())) {
      throw new S3Error(
        'NotImplemented',
        'Assuming an IAM role with a web identity (its trust policy) is not implemented',
      );
    }
  }
  const claims = await oidc.verify(token, ctx.now());
  let policies: string[];
  if (oidc.config.rolePolicy) policies = oidc.config.rolePolicy;
  else {
    const named = policiesOfClaim(claims[oidc.policyClaim]);
    if (named === undefined || named.length === 0) {
      throw denied(`The web identity token has no ${oidc.policyClaim} claim naming policies`);
    }
    policies = named;
  }
  // As MinIO: the policies that exist; none existing gives no credentials.
  const existing = policies.filter((p) => ctx.iam!.managedPolicy(p) !== undefined);
  if (existing.length === 0) throw denied(`None of the policies ${policies.join(', ').slice(0, 256)} exists`);
  const session = sessionName ?? claims.sub.slice(0, 64);
  const c = newClaims(ctx, { kind: 'openid', key: claims.sub }, seconds);
  c.openid = {
    sub: claims.sub,
    iss: claims.iss,
    policies: existing.map((p) => ctx.iam!.managedPolicy(p)!.name),
    role: oidc.roleId,
    session,
    claims: simpleClaims(claims),
  };
  c.policy = policy;
  req.log.info({ sub: claims.sub, iss: claims.iss, policies: c.openid.policies }, 'STS: OpenID login');
  const aud = Array.isArray(claims.aud) ? claims.aud.join(',') : (claims.aud ?? oidc.config.clientId);
  return queryAnswer(
    'sts',
    'AssumeRoleWithWebIdentity',
    {
      Credentials: credentialsAnswer(ctx, c),
      SubjectFromWebIdentityToken: claims.sub,
      AssumedRoleUser: {
        Arn: openIdSessionArn(oidc.roleId, session),
        AssumedRoleId: `${oidc.roleId ?? 'openid'}:${session}`,
      },
      PackedPolicySize: policy === undefined ? undefined : packedPolicySize(policy),
      Provider: claims.iss,
      Audience: aud,
    },
    req.requestId,
  );
}

export async function stsQuery(
  ctx: ApiContext,
  req: ServiceRequest,
  action: string,
  params: URLSearchParams,
): Promise<S3Response> {
  if (action === 'AssumeRoleWithLDAPIdentity') return assumeRoleWithLdap(ctx, req, params);
  if (action === 'AssumeRoleWithWebIdentity') return assumeRoleWithWebIdentity(ctx, req, params);
  // Every other action needs a signature (UNSIGNED_STS_ACTIONS lists the two above).
  const caller = req.caller;
  if (!caller) throw new S3Error('AccessDenied', `${action} needs a signed request`);
  switch (action) {
    case 'GetCallerIdentity':
      return queryAnswer('sts', action, { Arn: caller.iam.arn, UserId: caller.iam.userId, Account: '' }, req.requestId);
    case 'AssumeRole':
      return assumeRole(ctx, req, params);
    case 'GetSessionToken': {
      refuseUnsupported(params);
      const parent = parentOf(ctx.iam!, caller);
      const claims = newClaims(ctx, parent, duration(params, 900, 129_600, 43_200));
      return queryAnswer('sts', action, { Credentials: credentialsAnswer(ctx, claims) }, req.requestId);
    }
    default:
      throw new S3Error('NotImplemented', `The STS action ${action} is not implemented`);
  }
}
