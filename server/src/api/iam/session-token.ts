// STS session tokens: the temporary credentials' facts (access key, secret, expiry, who asked, which role,
// the session policy) sealed with a key derived from the root credentials (seal.ts). Nothing is stored: the
// server opens the token that comes with each request, so a token cannot be forged or altered (the seal
// fails), one from another deployment does not open, and the secret inside is never readable in a log.
// Whether the parent still exists and is enabled is checked on every request (store.ts), which is what cuts
// a disabled or deleted user's sessions at once.
import type { Sealer } from './seal.js';

export interface SessionClaims {
  v: 1;
  /** The temporary access key id and secret. */
  ak: string;
  sk: string;
  /** Issued at and expires at, in epoch seconds. */
  iat: number;
  exp: number;
  /** Who asked for it: the access key they signed with, its kind, and the user (name and id) behind it. */
  parent: {
    kind: 'root' | 'static' | 'user' | 'service-account' | 'ldap' | 'openid';
    key: string;
    user?: string;
    userId?: string;
    /** A role chain begun by a web identity login: the role it logged into (lower-cased name, id). */
    webRole?: { name: string; id: string };
  };
  /** The role assumed (name lower-cased, id), with the session name. */
  role?: { name: string; id: string; session: string };
  /** An LDAP login (AssumeRoleWithLDAPIdentity): the username, the user's DN and group DNs (normalized). */
  ldap?: { username: string; dn: string; groups: string[] };
  /**
   * An OpenID Connect login (AssumeRoleWithWebIdentity): the token's subject and issuer, the policies it was
   * given (from its claim or the role policy, by name), the role id and session name in role mode, and the
   * token's simple claims for the jwt:* condition keys.
   */
  openid?: {
    sub: string;
    iss: string;
    policies: string[];
    role?: string;
    session: string;
    claims: Record<string, string | string[]>;
  };
  /**
   * A web identity login into an IAM role (AssumeRoleWithWebIdentity with the ARN of a role whose trust policy
   * names an IAM OIDC provider; `role` holds the role): the provider's URL as IAM keeps it (`host/path`) and
   * the token's simple claims, for the `<url>:sub`-style and jwt:* condition keys.
   */
  web?: { provider: string; claims: Record<string, string | string[]> };
  /** The session policy document (narrows the rights). */
  policy?: string;
  /** Managed policies named as session policies (PolicyArns), by name: with `policy`, one set that narrows. */
  policyArns?: string[];
  /** Session tags (session-tags.ts), keys as given, inherited transitive ones included: aws:PrincipalTag/<k>. */
  tags?: Record<string, string>;
  /** The keys of `tags` passed on to sessions made from this one (role chaining). */
  transitive?: string[];
  /** The source identity set when the chain began (aws:SourceIdentity); it cannot change. */
  sourceIdentity?: string;
}

const PREFIX = 'CAIRNv1.';
const LABEL = 'sts-session-token';

export function mintToken(sealer: Sealer, claims: SessionClaims): string {
  const box = sealer.seal('sts-tokens', Buffer.from(JSON.stringify(claims), 'utf8'), LABEL);
  return PREFIX + box.toString('base64url');
}

/** The claims of a token this deployment sealed, or undefined for anything else (altered, foreign, garbage). */
export function openToken(sealer: Sealer, token: string): SessionClaims | undefined {
  if (!token.startsWith(PREFIX) || token.length > 16_384) return undefined;
  const plain = sealer.open('sts-tokens', Buffer.from(token.slice(PREFIX.length), 'base64url'), LABEL);
  if (!plain) return undefined;
  try {
    const c = JSON.parse(plain.toString('utf8')) as SessionClaims;
    return c.v === 1 && typeof c.ak === 'string' && typeof c.exp === 'number' ? c : undefined;
  } catch {
    return undefined;
  }
}
