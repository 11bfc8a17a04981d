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
      PackedPolicySize: policy === undefined ? 0 : Math.min(100, Math.ceil((policy.length * 100) / 2048)),
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

export async function stsQuery(
  ctx: ApiContext,
  req: ServiceRequest,
  action: string,
  params: URLSearchParams,
): Promise<S3Response> {
  // MinIO's LDAP action is not signed: the username and password are the credentials.
  if (action === 'AssumeRoleWithLDAPIdentity') return assumeRoleWithLdap(ctx, req, params);
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
