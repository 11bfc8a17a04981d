// STS on the S3 endpoint: AssumeRole (a role's rights for a while, narrowed by a session policy; or, without
// RoleArn, as MinIO does, the caller's own rights), GetSessionToken and GetCallerIdentity. Credentials are
// minted as sealed session tokens (session-token.ts): nothing is stored, the token is checked on every request.
// The identity providers' actions (AssumeRoleWithWebIdentity, AssumeRoleWithLDAPIdentity) plug in here: they
// produce SessionClaims for a role or for policies mapped to their claims, the same way. A web identity for an
// IAM role (AWS's model, judged by the role's trust policy) is web-identity-role.ts; the configured provider's
// MinIO modes are below.
import { S3Error } from '../../errors.js';
import { identityVerdict } from '../authorize.js';
import { evaluate } from '../policy-document.js';
import type { ConditionContext } from '../policy-conditions.js';
import type { ApiContext, Caller, S3Response } from '../types.js';
import { roleArn, sessionArn } from './principal.js';
import { queryAnswer, type ServiceRequest } from './service.js';
import { normalizeDn } from './ldap.js';
import { MAX_TOKEN_LENGTH, policiesOfClaim } from './openid.js';
import { openIdSessionArn } from './principal.js';
import type { SessionClaims } from './session-token.js';
import {
  credentialsAnswer,
  denied,
  duration,
  newClaims,
  refuseUnsupported,
  ROLE_SESSION_PARAMS,
  sessionName,
  sessionPolicies,
  simpleClaims,
} from './sts-credentials.js';
import {
  packedSize,
  requestKeys,
  roleTagKeys,
  sessionExtras,
  sourceIdentityOf,
  tagsOfParams,
  transitiveOf,
  withInherited,
} from './session-tags.js';
import { assumeRoleWithWebIdentityForRole, roleOfArn } from './web-identity-role.js';

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

/** Parameters of other STS actions that AWS's GetSessionToken does not define. */
const GET_SESSION_TOKEN_FOREIGN = ['Policy', 'PolicyArns', ...ROLE_SESSION_PARAMS];

/** AWS's limit on a session made by role chaining (a role session assuming a role), in seconds. */
const CHAINED_MAX_SECONDS = 3600;

function parentOf(store: NonNullable<ApiContext['iam']>, caller: Caller): SessionClaims['parent'] {
  const kind = caller.iam.kind;
  if (kind === 'session') throw denied('Temporary credentials cannot ask for more temporary credentials here');
  if (kind === 'root') return { kind, key: caller.accessKey };
  if (kind === 'service-account') return { kind, key: caller.accessKey };
  const u = store.users.get(caller.iam.user ?? '');
  if (!u) throw denied('The user is gone');
  return { kind, key: caller.accessKey, user: u.name.toLowerCase(), userId: u.id };
}

/**
 * The calling session of a role chain (AWS: a role session calling AssumeRole; at most an hour), or undefined
 * when the caller is not temporary. The new session keeps the first parent, so disabling or deleting that user
 * ends the whole chain (for a chain begun by a web identity login into a role: deleting that role), and
 * inherits the transitive tags and the source identity. LDAP and MinIO-mode OpenID sessions and sessions of no
 * role cannot chain.
 */
function callingSession(store: NonNullable<ApiContext['iam']>, req: ServiceRequest): SessionClaims | undefined {
  const caller = req.caller!;
  if (caller.iam.kind !== 'session') return undefined;
  const header = req.headers['x-amz-security-token'];
  const token = typeof header === 'string' ? header : (req.query.get('X-Amz-Security-Token') ?? '');
  const c = store.sessionClaims(caller.accessKey, token);
  if (!c.role || c.ldap || c.openid)
    throw denied('Only the temporary credentials of a role session can assume a role (role chaining)');
  // A web identity login's session has no parent credential: the chain keeps the role it logged into.
  if (c.web) return { ...c, parent: { ...c.parent, webRole: { name: c.role.name, id: c.role.id } } };
  return c;
}

async function assumeRole(ctx: ApiContext, req: ServiceRequest, params: URLSearchParams): Promise<S3Response> {
  const store = ctx.iam!;
  const caller = req.caller!;
  const arn = params.get('RoleArn');
  // Session tags and source identity belong to role sessions: MinIO's form below has no role to trust them.
  refuseUnsupported(params, arn ? [] : ROLE_SESSION_PARAMS);
  const policies = sessionPolicies(ctx, params);
  if (!arn) {
    // MinIO's AssumeRole: temporary credentials with the caller's own rights.
    const parent = parentOf(store, caller);
    const claims = newClaims(ctx, parent, duration(params, 900, 43_200, 3600));
    Object.assign(claims, policies);
    return queryAnswer('sts', 'AssumeRole', { Credentials: credentialsAnswer(ctx, claims) }, req.requestId);
  }
  const session = sessionName(params);
  if (session === undefined) throw new S3Error('ValidationError', 'RoleSessionName is required');
  // Role chaining: a role session may assume a role; anything else temporary asks for nothing (parentOf).
  const chain = callingSession(store, req);
  const parent = chain?.parent ?? parentOf(store, caller);
  const inheritedSource = chain?.sourceIdentity;
  const tags = withInherited(transitiveOf(chain?.tags, chain?.transitive), tagsOfParams(params));
  const sourceIdentity = sourceIdentityOf(params.get('SourceIdentity') ?? undefined, inheritedSource);
  const packed = packedSize(policies, tags);
  const role = roleOfArn(store, arn);
  const notAuthorized = (action = 'sts:AssumeRole') =>
    denied(`${caller.iam.arn} is not authorized to perform ${action} on resource ${arn}`);
  if (!role) throw notAuthorized();
  const resource = roleArn(role.path, role.name);
  const context = () => {
    const c: ConditionContext = {
      'aws:principalarn': caller.iam.arn,
      'aws:username': caller.iam.username,
      'aws:userid': caller.iam.userId,
      'aws:sourceip': req.sourceIp,
      'aws:currenttime': new Date(ctx.now()).toISOString(),
      'aws:epochtime': String(Math.floor(ctx.now() / 1000)),
      'aws:securetransport': String(req.secure),
      'sts:rolesessionname': session,
      'sts:externalid': params.get('ExternalId') ?? undefined,
      ...requestKeys(tags, sourceIdentity, inheritedSource),
    };
    for (const [k, v] of Object.entries(caller.iam.tags)) c[`aws:principaltag/${k.toLowerCase()}`] = v;
    // The role's own tags are the resource's (IAM User Guide: allow tagging only into roles with given tags).
    Object.assign(c, roleTagKeys(role.tags));
    return c;
  };
  // Each action the session needs (sts:AssumeRole; sts:TagSession for tags, sts:SetSourceIdentity for a source
  // identity) must be allowed by the trust policy. The caller's own policies may deny it; within the account,
  // allowing it there delegates the account's principal ("arn:aws:iam::<account>:root") in the trust policy.
  const trust = store.compile(role.trust, 'trust');
  const needed = ['sts:AssumeRole'];
  if (tags) needed.push('sts:TagSession');
  if (sourceIdentity !== undefined) needed.push('sts:SetSourceIdentity');
  for (const action of needed) {
    const q = { action: action.toLowerCase(), resource, context, principals: caller.iam.tokens };
    const own = identityVerdict(ctx, caller, q);
    if (own.identity === 'Deny' || own.restricted === 'Deny') throw notAuthorized(action);
    const tokens =
      own.identity === 'Allow' && own.restricted === 'Allow'
        ? new Set([...caller.iam.tokens, 'account'])
        : caller.iam.tokens;
    if (evaluate(trust, { ...q, principals: tokens }) !== 'Allow') throw notAuthorized(action);
  }
  const maxSeconds = chain ? Math.min(CHAINED_MAX_SECONDS, role.maxSessionDuration) : role.maxSessionDuration;
  const claims = newClaims(ctx, parent, duration(params, 900, maxSeconds, Math.min(3600, maxSeconds)));
  claims.role = { name: role.name.toLowerCase(), id: role.id, session };
  Object.assign(claims, policies, sessionExtras(tags, sourceIdentity));
  return queryAnswer(
    'sts',
    'AssumeRole',
    {
      Credentials: credentialsAnswer(ctx, claims),
      AssumedRoleUser: { AssumedRoleId: `${role.id}:${session}`, Arn: sessionArn(role.name, session) },
      // As AWS: only when the request passed session policies or tags.
      PackedPolicySize: policies.policy === undefined && !policies.policyArns && !tags ? undefined : packed,
      SourceIdentity: sourceIdentity,
    },
    req.requestId,
  );
}

/** MinIO's AssumeRoleWithLDAPIdentity: temporary credentials with the policies mapped to the user's LDAP DNs. */
async function assumeRoleWithLdap(ctx: ApiContext, req: ServiceRequest, params: URLSearchParams): Promise<S3Response> {
  const ldap = ctx.ldap;
  if (!ldap) throw new S3Error('NotImplemented', 'No LDAP server is configured (CAIRN_IDENTITY_LDAP_SERVER_ADDR)');
  // Session tags and a source identity become aws:PrincipalTag / aws:SourceIdentity, which policies trust
  // because a role's trust policy allowed sts:TagSession / sts:SetSourceIdentity for them. An LDAP login has no
  // role and no trust policy: accepted, the user would choose their own principal tags. (MinIO ignores them.)
  for (const name of ROLE_SESSION_PARAMS) {
    if ([...params.keys()].some((k) => k.split('.')[0] === name)) {
      throw new S3Error(
        'NotImplemented',
        `AssumeRoleWithLDAPIdentity takes no ${name}: an LDAP login has no trust policy to allow ${
          name === 'SourceIdentity' ? 'sts:SetSourceIdentity' : 'sts:TagSession'
        }, so the user would set their own ${name === 'SourceIdentity' ? 'aws:SourceIdentity' : 'aws:PrincipalTag'}`,
      );
    }
  }
  refuseUnsupported(params);
  const policies = sessionPolicies(ctx, params);
  const seconds = duration(params, 900, 43_200, 3600);
  const who = await ldap.authenticate(params.get('LDAPUsername') ?? '', params.get('LDAPPassword') ?? '', req.sourceIp);
  const dn = normalizeDn(who.userDn);
  const groups = who.groupDns.map(normalizeDn);
  if (ctx.iam!.ldapMappingsOf(dn, groups).every((m) => m.attached.length === 0)) {
    throw denied(`No policy is mapped to the LDAP user ${dn} or to their groups`);
  }
  const claims = newClaims(ctx, { kind: 'ldap', key: who.username }, seconds);
  claims.ldap = { username: who.username, dn, groups };
  Object.assign(claims, policies);
  req.log.info({ ldapUser: dn, groups: groups.length }, 'STS: LDAP login');
  return queryAnswer(
    'sts',
    'AssumeRoleWithLDAPIdentity',
    { Credentials: credentialsAnswer(ctx, claims) },
    req.requestId,
  );
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
  refuseUnsupported(params, ROLE_SESSION_PARAMS);
  for (const name of ['ProviderId', 'TokenRevokeType']) {
    if (params.has(name)) throw new S3Error('NotImplemented', `The parameter ${name} is not implemented`);
  }
  const token = params.get('WebIdentityToken') ?? '';
  if (token.length < 4 || token.length > MAX_TOKEN_LENGTH) {
    throw new S3Error('ValidationError', `WebIdentityToken must be 4 to ${MAX_TOKEN_LENGTH} characters`);
  }
  const arn = params.get('RoleArn') ?? undefined;
  // AWS's model: the ARN of one of Cairn's IAM roles, whose trust policy judges the token of a registered
  // OIDC provider (web-identity-role.ts). Otherwise MinIO's, with the configured provider (below).
  const role = arn === undefined ? undefined : roleOfArn(ctx.iam!, arn);
  if (role) return assumeRoleWithWebIdentityForRole(ctx, req, params, role, token);
  const oidc = ctx.openid;
  if (!oidc) {
    if (arn === undefined) throw new S3Error('ValidationError', 'RoleArn is required');
    throw denied(`Not authorized to perform sts:AssumeRoleWithWebIdentity on ${arn.slice(0, 300)}`);
  }
  const requestedSession = sessionName(params);
  const narrowing = sessionPolicies(ctx, params);
  const seconds = duration(params, 900, 43_200, 3600);
  // Role mode answers only for its own ARN. In claim mode MinIO ignores RoleArn, which AWS's SDKs and CLI
  // insist on sending (an ARN naming no IAM role of Cairn's).
  if (oidc.roleArn !== undefined) {
    if (arn === undefined)
      throw new S3Error('ValidationError', `RoleArn is required: this server's is ${oidc.roleArn}`);
    if (!oidc.isRoleArn(arn)) throw denied(`Not authorized to perform sts:AssumeRoleWithWebIdentity on ${arn}`);
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
  const session = requestedSession ?? claims.sub.slice(0, 64);
  const c = newClaims(ctx, { kind: 'openid', key: claims.sub }, seconds);
  c.openid = {
    sub: claims.sub,
    iss: claims.iss,
    policies: existing.map((p) => ctx.iam!.managedPolicy(p)!.name),
    role: oidc.roleId,
    session,
    claims: simpleClaims(claims),
  };
  Object.assign(c, narrowing);
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
      PackedPolicySize:
        narrowing.policy === undefined && !narrowing.policyArns ? undefined : packedSize(narrowing, undefined),
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
      // AWS's GetSessionToken has no session policies, tags or source identity (they belong to AssumeRole and
      // GetFederationToken); a request naming them is malformed for this action, not asking for something
      // Cairn lacks, so it is STS's 400 InvalidQueryParameter rather than ignored.
      for (const k of params.keys()) {
        const name = k.split('.')[0];
        if (GET_SESSION_TOKEN_FOREIGN.includes(name)) {
          throw new S3Error('InvalidQueryParameter', `GetSessionToken takes no ${name} parameter`);
        }
      }
      refuseUnsupported(params);
      const parent = parentOf(ctx.iam!, caller);
      const claims = newClaims(ctx, parent, duration(params, 900, 129_600, 43_200));
      return queryAnswer('sts', action, { Credentials: credentialsAnswer(ctx, claims) }, req.requestId);
    }
    default:
      throw new S3Error('NotImplemented', `The STS action ${action} is not implemented`);
  }
}
