// What every STS action shares: reading DurationSeconds, RoleSessionName and the session Policy, refusing the
// parameters Cairn does not implement, and minting the temporary credentials (a sealed session token,
// session-token.ts) with the answer's <Credentials> element.
import { randomBytes } from 'node:crypto';
import { S3Error } from '../../errors.js';
import type { ApiContext } from '../types.js';
import { checkDocument } from './manage.js';
import { newSecret } from './records.js';
import { mintToken, type SessionClaims } from './session-token.js';

export const denied = (why: string) => new S3Error('AccessDenied', why);

/** DurationSeconds: an integer within the bounds, or the default. */
export function duration(params: URLSearchParams, min: number, max: number, dflt: number): number {
  const v = params.get('DurationSeconds');
  if (v === null) return dflt;
  const n = /^\d{1,9}$/.test(v) ? Number(v) : Number.NaN;
  if (!(n >= min && n <= max)) {
    throw new S3Error('ValidationError', `DurationSeconds must be between ${min} and ${max} seconds`);
  }
  return n;
}

/** RoleSessionName as STS takes it: 2 to 64 of letters, digits and +=,.@_- (undefined when absent). */
export function sessionName(params: URLSearchParams): string | undefined {
  const name = params.get('RoleSessionName') ?? undefined;
  if (name !== undefined && !/^[\w+=,.@-]{2,64}$/.test(name)) {
    throw new S3Error('ValidationError', 'RoleSessionName must be 2 to 64 characters of letters, digits and +=,.@_-');
  }
  return name;
}

const NOT_IMPLEMENTED = ['SerialNumber', 'TokenCode', 'ProvidedContexts'];

/** Parameters of AssumeRole into a role that other actions (and AssumeRole without RoleArn) do not take. */
export const ROLE_SESSION_PARAMS = ['Tags', 'TransitiveTagKeys', 'SourceIdentity'];

/** Parameters Cairn does not implement (and `alsoRefused`, which this action does not take) are refused. */
export function refuseUnsupported(params: URLSearchParams, alsoRefused: readonly string[] = []): void {
  for (const k of params.keys()) {
    const base = k.split('.')[0];
    if (NOT_IMPLEMENTED.includes(base) || alsoRefused.includes(base)) {
      throw new S3Error('NotImplemented', `The parameter ${base} is not implemented`);
    }
  }
}

export function credentialsAnswer(ctx: ApiContext, claims: SessionClaims): { [k: string]: string } {
  return {
    AccessKeyId: claims.ak,
    SecretAccessKey: claims.sk,
    SessionToken: mintToken(ctx.iam!.sealer, claims),
    Expiration: new Date(claims.exp * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
}

export function newClaims(ctx: ApiContext, parent: SessionClaims['parent'], seconds: number): SessionClaims {
  const now = Math.floor(ctx.now() / 1000);
  const ak = `ASIA${randomBytes(12)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '')
    .toUpperCase()}`.slice(0, 20);
  return { v: 1, ak: ak.padEnd(20, 'X'), sk: newSecret(), iat: now, exp: now + seconds, parent };
}

/** Most managed policies a session may name (AWS's limit). */
const MAX_POLICY_ARNS = 10;

/**
 * The session policies of an AssumeRole* request: the inline `Policy` (checked) and the managed policies
 * `PolicyArns.member.N.arn` names (each must exist; kept by name and read at every request, so a policy
 * changed or deleted later narrows the session at once), as the session's claims keep them.
 */
export type SessionPolicies = Pick<SessionClaims, 'policy' | 'policyArns'>;

export function sessionPolicies(ctx: ApiContext, params: URLSearchParams): SessionPolicies {
  const policy = params.get('Policy') ?? undefined;
  if (policy !== undefined) checkDocument(ctx.iam!, policy, 'session');
  const arns: string[] = [];
  for (const [k, v] of params) {
    if (!k.startsWith('PolicyArns.')) continue;
    if (!/^PolicyArns\.member\.\d{1,2}\.arn$/.test(k)) {
      throw new S3Error('ValidationError', `Unknown parameter ${k.slice(0, 64)}`);
    }
    if (arns.length >= MAX_POLICY_ARNS) {
      throw new S3Error('ValidationError', `PolicyArns names at most ${MAX_POLICY_ARNS} policies`);
    }
    const p = /^arn:aws:iam::[^:]*:policy\/(?:.*\/)?[\w+=,.@-]+$/.test(v) ? ctx.iam!.managedPolicy(v) : undefined;
    if (!p) throw new S3Error('MalformedPolicyDocument', `The policy ${v.slice(0, 300)} does not exist`);
    arns.push(p.name);
  }
  return arns.length > 0 ? { policy, policyArns: arns } : { policy };
}

/** Claims kept in the session for the jwt:* condition keys: simple values, bounded in number and size. */
const MAX_CLAIMS = 64;
const MAX_CLAIM_BYTES = 6 * 1024;

export function simpleClaims(payload: Record<string, unknown>): Record<string, string | string[]> {
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
