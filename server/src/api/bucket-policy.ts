// Bucket policies: parsing with validation, and evaluation (explicit Deny wins, then Allow, else no
// opinion). Principals are "*" or access keys (AWS form {"AWS": [...]}, plain ARNs reduced to their last
// segment), actions and resources match with * and ? wildcards, and the common condition operators work.
import { BlockList, isIP } from 'node:net';
import { S3Error } from '../errors.js';

export interface PolicyStatement {
  effect: 'Allow' | 'Deny';
  principals?: string[];
  notPrincipals?: string[];
  actions?: string[];
  notActions?: string[];
  resources?: string[];
  notResources?: string[];
  conditions: { op: string; key: string; values: string[] }[];
}

export interface BucketPolicy {
  statements: PolicyStatement[];
}

/** What a request looks like to a policy. `principal` is "*" for anonymous callers. */
export interface PolicyRequest {
  principal: string;
  action: string;
  bucket: string;
  key?: string;
  conditions: Record<string, string | undefined>;
}

const list = (v: unknown): string[] | undefined => (v === undefined ? undefined : (Array.isArray(v) ? v : [v]).map(String));

function principalList(v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  if (v === '*') return ['*'];
  if (typeof v === 'object' && v !== null) {
    const aws = (v as Record<string, unknown>).AWS;
    if (aws === undefined) throw new S3Error('MalformedPolicy', 'Invalid principal in policy');
    return list(aws)!.map((p) => (p === '*' ? '*' : p.split(/[:/]/).pop() ?? p));
  }
  throw new S3Error('MalformedPolicy', 'Invalid principal in policy');
}

function regexOf(pattern: string, ignoreCase = false): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, ignoreCase ? 'is' : 's');
}
const matches = (patterns: string[], value: string, ignoreCase = false): boolean => patterns.some((p) => regexOf(p, ignoreCase).test(value));

export function parsePolicy(text: string, bucket: string): BucketPolicy {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new S3Error('MalformedPolicy', 'Policies must be valid JSON and the first byte must be \'{\'');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new S3Error('MalformedPolicy', 'Policies must be valid JSON and the first byte must be \'{\'');
  if (doc.Version !== undefined && doc.Version !== '2012-10-17' && doc.Version !== '2008-10-17') throw new S3Error('MalformedPolicy', 'Invalid policy version');
  const raw = list(doc.Statement) === undefined ? [] : Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  if (raw.length === 0) throw new S3Error('MalformedPolicy', 'Missing required field Statement');
  const statements = raw.map((s): PolicyStatement => {
    const st = s as Record<string, unknown>;
    if (st.Effect !== 'Allow' && st.Effect !== 'Deny') throw new S3Error('MalformedPolicy', 'Invalid effect');
    const principals = principalList(st.Principal);
    const notPrincipals = principalList(st.NotPrincipal);
    if (!principals && !notPrincipals) throw new S3Error('MalformedPolicy', 'Missing required field Principal');
    // AWS forbids NotPrincipal with Allow (it would grant to nearly everyone).
    if (notPrincipals && st.Effect === 'Allow') throw new S3Error('MalformedPolicy', 'NotPrincipal is not allowed with Effect Allow');
    const actions = list(st.Action);
    const notActions = list(st.NotAction);
    if (!actions && !notActions) throw new S3Error('MalformedPolicy', 'Missing required field Action');
    for (const a of [...(actions ?? []), ...(notActions ?? [])]) if (a !== '*' && !a.startsWith('s3:')) throw new S3Error('MalformedPolicy', 'Policy has invalid action');
    const resources = list(st.Resource);
    const notResources = list(st.NotResource);
    if (!resources && !notResources) throw new S3Error('MalformedPolicy', 'Missing required field Resource');
    for (const r of [...(resources ?? []), ...(notResources ?? [])]) {
      const m = /^arn:aws:s3:::([^/]+)(\/.*)?$/.exec(r);
      if (!m || !regexOf(m[1]).test(bucket)) throw new S3Error('MalformedPolicy', 'Policy has invalid resource');
    }
    const conditions: PolicyStatement['conditions'] = [];
    if (st.Condition !== undefined) {
      if (typeof st.Condition !== 'object' || st.Condition === null) throw new S3Error('MalformedPolicy', 'Invalid Condition');
      for (const [op, block] of Object.entries(st.Condition as Record<string, unknown>)) {
        if (typeof block !== 'object' || block === null) throw new S3Error('MalformedPolicy', `Invalid Condition ${op}`);
        for (const [key, values] of Object.entries(block as Record<string, unknown>)) conditions.push({ op, key: key.toLowerCase(), values: list(values)! });
      }
    }
    return { effect: st.Effect, principals, notPrincipals, actions, notActions, resources, notResources, conditions };
  });
  return { statements };
}

/** Operators that require the key not to match: true when the key is absent (IAM User Guide). */
const NEGATED = new Set([
  'StringNotEquals', 'StringNotEqualsIgnoreCase', 'StringNotLike', 'NumericNotEquals', 'NotIpAddress',
]);

function conditionHolds(c: PolicyStatement['conditions'][number], ctx: Record<string, string | undefined>): boolean {
  const forAll = c.op.startsWith('ForAllValues:');
  let op = c.op.replace(/^(ForAnyValue|ForAllValues):/, '');
  const ifExists = op.endsWith('IfExists');
  if (ifExists) op = op.slice(0, -'IfExists'.length);
  const v = ctx[c.key];
  if (op === 'Null') return (v === undefined) === (c.values[0] === 'true');
  // An absent key: true for ...IfExists, for a negated operator and for ForAllValues (no value fails it).
  if (v === undefined) return ifExists || NEGATED.has(op) || forAll;
  switch (op) {
    case 'StringEquals': return c.values.includes(v);
    case 'StringNotEquals': return !c.values.includes(v);
    case 'StringEqualsIgnoreCase': return c.values.some((x) => x.toLowerCase() === v.toLowerCase());
    case 'StringNotEqualsIgnoreCase': return !c.values.some((x) => x.toLowerCase() === v.toLowerCase());
    case 'StringLike': return matches(c.values, v);
    case 'StringNotLike': return !matches(c.values, v);
    case 'Bool': return c.values.some((x) => x.toLowerCase() === v.toLowerCase());
    case 'NumericEquals': return c.values.some((x) => Number(v) === Number(x));
    case 'NumericNotEquals': return c.values.every((x) => Number(v) !== Number(x));
    case 'NumericLessThan': return c.values.some((x) => Number(v) < Number(x));
    case 'NumericLessThanEquals': return c.values.some((x) => Number(v) <= Number(x));
    case 'NumericGreaterThan': return c.values.some((x) => Number(v) > Number(x));
    case 'NumericGreaterThanEquals': return c.values.some((x) => Number(v) >= Number(x));
    case 'IpAddress':
    case 'NotIpAddress': {
      const bl = new BlockList();
      for (const cidr of c.values) {
        const [addr, bits] = cidr.split('/');
        const type = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
        if (!isIP(addr)) continue;
        bl.addSubnet(addr, bits === undefined ? (type === 'ipv6' ? 128 : 32) : Number(bits), type);
      }
      const addr = v.replace(/^::ffff:/, '');
      const inside = isIP(addr) !== 0 && bl.check(addr, isIP(addr) === 6 ? 'ipv6' : 'ipv4');
      return op === 'IpAddress' ? inside : !inside;
    }
    default:
      return false; // an operator we do not know never grants (and never denies) anything
  }
}

function applies(st: PolicyStatement, req: PolicyRequest): boolean {
  const principalOk = st.principals ? st.principals.includes('*') || st.principals.includes(req.principal) : !st.notPrincipals!.includes(req.principal);
  if (!principalOk) return false;
  const actionOk = st.actions ? matches(st.actions, req.action, true) : !matches(st.notActions!, req.action, true);
  if (!actionOk) return false;
  const arn = req.key === undefined ? `arn:aws:s3:::${req.bucket}` : `arn:aws:s3:::${req.bucket}/${req.key}`;
  const resourceOk = st.resources ? matches(st.resources, arn) : !matches(st.notResources!, arn);
  if (!resourceOk) return false;
  return st.conditions.every((c) => conditionHolds(c, req.conditions));
}

export function evaluatePolicy(policy: BucketPolicy, req: PolicyRequest): 'Allow' | 'Deny' | 'None' {
  let allowed = false;
  for (const st of policy.statements) {
    if (!applies(st, req)) continue;
    if (st.effect === 'Deny') return 'Deny';
    allowed = true;
  }
  return allowed ? 'Allow' : 'None';
}

/** PolicyStatus.IsPublic: some Allow statement grants to everyone without conditions. */
export function isPublic(policy: BucketPolicy): boolean {
  return policy.statements.some((s) => s.effect === 'Allow' && s.principals?.includes('*') && s.conditions.length === 0);
}
