// The Principal element of bucket and trust policies, as sets of tokens compared with the tokens a caller
// answers to (iam/principal.ts gives those). Each form a policy may write becomes one typed token, so a name
// of one kind never matches another (a session a client names "alice" is not the user alice):
//   "*" or {"AWS": "*"}                          '*'        everyone, anonymous callers included
//   arn:aws:iam::<account>:root                  'account'  the root user
//   arn:aws:iam::<account>:user/<path>/<name>    'user:<name>'  (names compare case-insensitively)
//   arn:aws:iam::<account>:role/<path>/<name>    'role:<name>'  every session of the role
//   arn:aws:sts::<account>:assumed-role/<r>/<s>  'session:<r>/<s>'
//   a plain access key (MinIO's form)            'key:<access key>'
//   {"CanonicalUser": id}                        'canonical:<id>'
//   {"Federated": arn:aws:iam::<account>:oidc-provider/<url>}   'federated:oidc-provider/<url>'
//   {"Federated": provider}, {"Service": name}   'federated:<provider>', 'service:<name>'
// Cairn has one account: the account in an ARN is not compared.
import { S3Error } from '../errors.js';

const malformed = (message: string) => new S3Error('MalformedPolicy', message);
const KINDS = new Set(['AWS', 'CanonicalUser', 'Federated', 'Service']);

function awsToken(p: string): string {
  if (p === '*') return '*';
  if (!p.startsWith('arn:')) {
    if (p === '' || /[\s*?]/.test(p)) throw malformed(`Invalid principal in policy: ${JSON.stringify(p.slice(0, 64))}`);
    return `key:${p}`;
  }
  const m = /^arn:[\w-]+:(iam|sts)::([^:]*):(.+)$/.exec(p);
  const resource = m?.[3] ?? '';
  const last = (s: string) => s.slice(s.lastIndexOf('/') + 1);
  if (m && m[1] === 'iam' && resource === 'root') return 'account';
  if (m && m[1] === 'iam' && /^user\/(?:[^*?]*\/)?[^/*?]+$/.test(resource))
    return `user:${last(resource).toLowerCase()}`;
  if (m && m[1] === 'iam' && /^role\/(?:[^*?]*\/)?[^/*?]+$/.test(resource))
    return `role:${last(resource).toLowerCase()}`;
  const session = /^assumed-role\/([^/*?]+)\/([^/*?]+)$/.exec(resource);
  if (m && m[1] === 'sts' && session) return `session:${session[1].toLowerCase()}/${session[2]}`;
  throw malformed(`Invalid principal in policy: ${JSON.stringify(p.slice(0, 128))}`);
}

/** A Federated principal: an IAM OIDC provider's ARN names it whatever account it writes. */
export function federatedToken(p: string): string {
  const m = /^arn:[\w-]+:iam::[^:]*:(oidc-provider\/.+)$/.exec(p);
  return `federated:${m ? m[1] : p}`;
}

/** The tokens of a Principal / NotPrincipal element; undefined when absent. */
export function principalTokens(v: unknown): Set<string> | undefined {
  if (v === undefined) return undefined;
  if (v === '*') return new Set(['*']);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw malformed('Invalid principal in policy');
  const out = new Set<string>();
  for (const [kind, value] of Object.entries(v)) {
    if (!KINDS.has(kind)) throw malformed(`Invalid principal type in policy: ${JSON.stringify(kind.slice(0, 64))}`);
    const items = Array.isArray(value) ? value : [value];
    if (items.length === 0 || !items.every((x) => typeof x === 'string'))
      throw malformed('Invalid principal in policy');
    for (const p of items as string[]) {
      if (kind === 'AWS') out.add(awsToken(p));
      else if (kind === 'CanonicalUser') out.add(`canonical:${p}`);
      else if (kind === 'Federated') out.add(federatedToken(p));
      else out.add(`service:${p}`);
    }
  }
  if (out.size === 0) throw malformed('Invalid principal in policy');
  return out;
}

/** Does a principal set name the caller (whose tokens always include '*')? */
export function namesCaller(tokens: ReadonlySet<string>, caller: ReadonlySet<string>): boolean {
  if (tokens.has('*')) return true;
  for (const t of tokens) if (caller.has(t)) return true;
  return false;
}
