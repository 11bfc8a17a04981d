// Who a credential stands for, as authorization needs it: the caller object authentication hands to the API
// (types.ts Caller) with what IAM knows of it. Every kind of credential maps to the same few facts, which is
// what lets later identity providers (OpenID Connect, LDAP) plug in: a provider's session is a `session`
// caller whose identity policies come from a role or from policies mapped to its claims, narrowed by its
// session policy, with its claims in `claims` for the jwt:/ldap: condition keys.
import type { CompiledPolicy } from '../policy-document.js';
import type { Caller } from '../types.js';
import { principalTags } from './session-tags.js';

export type PrincipalKind = 'root' | 'static' | 'user' | 'service-account' | 'session';

export interface IamIdentity {
  kind: PrincipalKind;
  /** The user (lower-cased name) whose identity policies apply; for root and role sessions, none. */
  user?: string;
  /** The role (lower-cased name) whose policies apply to a role session. */
  role?: string;
  /** An LDAP session: the user's DN and group DNs (normalized), whose mapped policies apply. */
  ldap?: { user: string; groups: readonly string[] };
  /** An OpenID Connect session: the managed policies (names) its token or the role policy gave it. */
  openid?: { policies: readonly string[] };
  /** Policies the credential is narrowed by (a service account's own, an STS session policy): each must allow. */
  restrictions: readonly CompiledPolicy[];
  /** The caller's ARN (aws:PrincipalArn, GetCallerIdentity). */
  arn: string;
  /** aws:userid */
  userId: string;
  /** aws:username (users only) */
  username?: string;
  /** What Principal elements of bucket and trust policies may name it by (policy-principals.ts). */
  tokens: ReadonlySet<string>;
  /** The user's or role's tags (aws:PrincipalTag/<key>). */
  tags: Readonly<Record<string, string>>;
  /** A service account's or session's: the kind of the credential it derives from (root, user, ...). */
  derivedFrom?: PrincipalKind;
  /** Temporary credentials: the end of their validity (epoch ms). */
  expires?: number;
  /** The source identity of a role session (aws:SourceIdentity), set when its role chain began. */
  sourceIdentity?: string;
  /** Claims of a federated session (jwt:*, ldap:* condition keys), lower-cased keys. */
  claims?: Readonly<Record<string, string | readonly string[]>>;
}

/** Cairn has one account; its id in ARNs is empty, as Ceph RGW writes them. */
export const ACCOUNT_ID = '';
export const ROOT_ARN = `arn:aws:iam::${ACCOUNT_ID}:root`;
export const userArn = (path: string, name: string): string => `arn:aws:iam::${ACCOUNT_ID}:user${path}${name}`;
export const roleArn = (path: string, name: string): string => `arn:aws:iam::${ACCOUNT_ID}:role${path}${name}`;
export const groupArn = (path: string, name: string): string => `arn:aws:iam::${ACCOUNT_ID}:group${path}${name}`;
export const policyArn = (path: string, name: string): string => `arn:aws:iam::${ACCOUNT_ID}:policy${path}${name}`;
export const sessionArn = (role: string, session: string): string =>
  `arn:aws:sts::${ACCOUNT_ID}:assumed-role/${role}/${session}`;

const tokens = (...t: string[]) => new Set(['*', ...t]);

export function rootCaller(accessKey: string, canonicalId: string): Caller {
  return {
    accessKey,
    root: true,
    account: accessKey,
    ownerRights: true,
    iam: {
      kind: 'root',
      restrictions: [],
      arn: ROOT_ARN,
      userId: accessKey,
      username: accessKey,
      tokens: tokens('account', `key:${accessKey}`, `canonical:${canonicalId}`),
      tags: {},
    },
  };
}

/** A user of CAIRN_USERS: an account of its own (it owns its buckets) that IAM policies may also be attached to. */
export function staticCaller(accessKey: string, canonicalId: string, tags: Record<string, string> = {}): Caller {
  return {
    accessKey,
    root: false,
    account: accessKey,
    ownerRights: true,
    iam: {
      kind: 'static',
      user: accessKey.toLowerCase(),
      restrictions: [],
      arn: userArn('/', accessKey),
      userId: accessKey,
      username: accessKey,
      tokens: tokens(`key:${accessKey}`, `user:${accessKey.toLowerCase()}`, `canonical:${canonicalId}`),
      tags,
    },
  };
}

/** An IAM user (created by the IAM or admin API): it has the rights its policies give, no others. */
export function userCaller(
  accessKey: string,
  rootKey: string,
  u: { name: string; path: string; id: string; tags: Record<string, string> },
): Caller {
  return {
    accessKey,
    root: false,
    account: rootKey,
    ownerRights: false,
    iam: {
      kind: 'user',
      user: u.name.toLowerCase(),
      restrictions: [],
      arn: userArn(u.path, u.name),
      userId: u.id,
      username: u.name,
      tokens: tokens(`key:${accessKey}`, `user:${u.name.toLowerCase()}`),
      tags: u.tags,
    },
  };
}

/** A credential acting for `parent` with its rights, narrowed by `restrictions` (service accounts, sessions). */
export function derivedCaller(
  parent: Caller,
  accessKey: string,
  kind: 'service-account' | 'session',
  restrictions: readonly CompiledPolicy[],
  expires?: number,
): Caller {
  const all = [...parent.iam.restrictions, ...restrictions];
  return {
    ...parent,
    accessKey,
    root: parent.root && all.length === 0,
    iam: {
      ...parent.iam,
      kind,
      derivedFrom: parent.iam.derivedFrom ?? parent.iam.kind,
      restrictions: all,
      tokens: new Set([...parent.iam.tokens, `key:${accessKey}`]),
      expires,
    },
  };
}

/**
 * A session of a role: the role's policies, narrowed by the session policy; in the root user's account. A web
 * identity login's session carries the token's condition keys (`claims`, oidc-providers.ts webIdentityKeys).
 * `session` holds its tags (over the role's: session-tags.ts principalTags) and source identity.
 */
export function roleSessionCaller(
  accessKey: string,
  rootKey: string,
  role: { name: string; id: string; tags: Record<string, string> },
  sessionName: string,
  restrictions: readonly CompiledPolicy[],
  expires: number,
  claims?: Record<string, string | string[]>,
  session: { tags?: Record<string, string>; sourceIdentity?: string } = {},
): Caller {
  return {
    accessKey,
    root: false,
    account: rootKey,
    ownerRights: false,
    iam: {
      kind: 'session',
      role: role.name.toLowerCase(),
      claims,
      restrictions,
      arn: sessionArn(role.name, sessionName),
      userId: `${role.id}:${sessionName}`,
      tokens: tokens(`role:${role.name.toLowerCase()}`, `session:${role.name.toLowerCase()}/${sessionName}`),
      tags: principalTags(role.tags, session.tags),
      sourceIdentity: session.sourceIdentity,
      expires,
    },
  };
}

/** A session of an LDAP user (AssumeRoleWithLDAPIdentity): the policies mapped to their DN and groups' DNs. */
export function ldapSessionCaller(
  accessKey: string,
  rootKey: string,
  ldap: { username: string; dn: string; groups: string[] },
  restrictions: readonly CompiledPolicy[],
  expires: number,
): Caller {
  return {
    accessKey,
    root: false,
    account: rootKey,
    ownerRights: false,
    iam: {
      kind: 'session',
      ldap: { user: ldap.dn, groups: ldap.groups },
      restrictions,
      arn: `arn:aws:sts::${ACCOUNT_ID}:assumed-role/ldap/${ldap.username}`,
      userId: ldap.dn,
      username: ldap.username,
      tokens: tokens(`key:${accessKey}`, `ldap:${ldap.dn}`),
      tags: {},
      expires,
      claims: { 'ldap:username': ldap.username, 'ldap:user': ldap.dn, 'ldap:groups': ldap.groups },
    },
  };
}

/** A session of an OpenID Connect login (AssumeRoleWithWebIdentity): the policies named at login. */
export function openIdSessionCaller(
  accessKey: string,
  rootKey: string,
  oidc: { sub: string; policies: string[]; role?: string; session: string; claims: Record<string, string | string[]> },
  restrictions: readonly CompiledPolicy[],
  expires: number,
): Caller {
  const claims: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(oidc.claims)) claims[`jwt:${k.toLowerCase()}`] = v;
  return {
    accessKey,
    root: false,
    account: rootKey,
    ownerRights: false,
    iam: {
      kind: 'session',
      openid: { policies: oidc.policies },
      restrictions,
      arn: openIdSessionArn(oidc.role, oidc.session),
      userId: `${oidc.role ?? 'openid'}:${oidc.session}`,
      tokens: tokens(`key:${accessKey}`),
      tags: {},
      expires,
      claims,
    },
  };
}

/** The assumed-role ARN of an OpenID session: MinIO's role id in role mode, `openid` in claim mode. */
export const openIdSessionArn = (role: string | undefined, session: string): string =>
  sessionArn(role ?? 'openid', session);
