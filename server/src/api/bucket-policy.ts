// Bucket policies: parsing with validation into a compiled form, and evaluation (explicit Deny wins, then
// Allow, else no opinion). Principals are "*" or access keys (AWS form {"AWS": [...]}, plain ARNs reduced to
// their last segment); actions and resources match with * and ? wildcards through the linear-time matcher,
// compiled here once per policy (a policy is parsed when it is stored or first read, see bucket-settings.ts).
// The document is client input: its depth is bounded before anything walks it, and every field must have the
// type the grammar gives it (a string or a list of strings), so nothing recursive ever runs over it.
import { compileWildcard, globParts, type WildcardMatcher } from '@cairn/select-engine';
import { S3Error } from '../errors.js';
import { jsonDepthWithin } from './json-depth.js';
import { compileCondition, type Condition, type ConditionContext } from './policy-conditions.js';

export interface PolicyStatement {
  effect: 'Allow' | 'Deny';
  principals?: Set<string>;
  notPrincipals?: Set<string>;
  /** Matchers of lower-cased action patterns (actions compare case-insensitively). */
  actions?: WildcardMatcher[];
  notActions?: WildcardMatcher[];
  resources?: WildcardMatcher[];
  notResources?: WildcardMatcher[];
  conditions: Condition[];
}

export interface BucketPolicy {
  statements: PolicyStatement[];
  /** PolicyStatus.IsPublic: some Allow statement grants to everyone without conditions. */
  isPublic: boolean;
  /** Some condition reads the object's own tags (s3:ExistingObjectTag/...): evaluation must look them up. */
  readsObjectTags: boolean;
}

/** What a request looks like to a policy. `principal` is "*" for anonymous callers. */
export interface PolicyRequest {
  principal: string;
  action: string;
  bucket: string;
  key?: string;
  conditions: ConditionContext;
}

/** Deepest nesting a policy can legitimately have (document > Statement > statement > Condition > op > values). */
const MAX_POLICY_DEPTH = 8;

const malformed = (message: string) => new S3Error('MalformedPolicy', message);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const NOT_JSON = "Policies must be valid JSON and the first byte must be '{'";

/** A string or a list of strings (the grammar's only list shape); anything else is MalformedPolicy. */
function strings(v: unknown, field: string): string[] | undefined {
  if (v === undefined) return undefined;
  const items = Array.isArray(v) ? v : [v];
  if (!items.every((x) => typeof x === 'string')) throw malformed(`${field} must be a string or a list of strings`);
  return items as string[];
}

/** Condition values may also be numbers and booleans (`"aws:SecureTransport": false`). */
function conditionValues(v: unknown, field: string): string[] {
  const items = Array.isArray(v) ? v : [v];
  if (!items.every((x) => typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean')) {
    throw malformed(`Invalid Condition value for ${field}`);
  }
  return items.map(String);
}

function principalSet(v: unknown): Set<string> | undefined {
  if (v === undefined) return undefined;
  if (v === '*') return new Set(['*']);
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const aws = strings((v as Record<string, unknown>).AWS, 'Principal');
    if (aws === undefined) throw malformed('Invalid principal in policy');
    return new Set(aws.map((p) => (p === '*' ? '*' : (p.split(/[:/]/).pop() ?? p))));
  }
  throw malformed('Invalid principal in policy');
}

const globs = (patterns: string[] | undefined, lower = false): WildcardMatcher[] | undefined =>
  patterns?.map((p) => compileWildcard(globParts(lower ? p.toLowerCase() : p)));

/**
 * Policy variables (`${aws:username}`, ...) are read in Version 2012-10-17 documents only (earlier ones take
 * `${` literally). Cairn does not substitute them yet, and a statement matched literally would silently never
 * apply: refused.
 */
function refuseVariables(values: string[], version: unknown): void {
  if (version === '2012-10-17' && values.some((v) => v.includes('${'))) {
    throw new S3Error('NotImplemented', 'Policy variables (${...}) are not supported yet');
  }
}

function compileStatement(s: unknown, bucket: string, version: unknown): PolicyStatement {
  if (typeof s !== 'object' || s === null || Array.isArray(s)) throw malformed('Invalid effect');
  const st = s as Record<string, unknown>;
  if (st.Effect !== 'Allow' && st.Effect !== 'Deny') throw malformed('Invalid effect');
  const principals = principalSet(st.Principal);
  const notPrincipals = principalSet(st.NotPrincipal);
  if (!principals && !notPrincipals) throw malformed('Missing required field Principal');
  // AWS forbids NotPrincipal with Allow (it would grant to nearly everyone).
  if (notPrincipals && st.Effect === 'Allow') throw malformed('NotPrincipal is not allowed with Effect Allow');
  const actions = strings(st.Action, 'Action');
  const notActions = strings(st.NotAction, 'NotAction');
  if (!actions && !notActions) throw malformed('Missing required field Action');
  for (const a of [...(actions ?? []), ...(notActions ?? [])]) {
    if (a !== '*' && !a.startsWith('s3:')) throw malformed('Policy has invalid action');
  }
  const resources = strings(st.Resource, 'Resource');
  const notResources = strings(st.NotResource, 'NotResource');
  if (!resources && !notResources) throw malformed('Missing required field Resource');
  refuseVariables([...(resources ?? []), ...(notResources ?? [])], version);
  for (const r of [...(resources ?? []), ...(notResources ?? [])]) {
    const m = /^arn:aws:s3:::([^/]+)(\/.*)?$/.exec(r);
    if (!m || !compileWildcard(globParts(m[1]))(bucket)) throw malformed('Policy has invalid resource');
  }
  const conditions: Condition[] = [];
  if (st.Condition !== undefined) {
    if (!isObject(st.Condition)) throw malformed('Invalid Condition');
    for (const [op, block] of Object.entries(st.Condition)) {
      if (!isObject(block)) throw malformed(`Invalid Condition ${op}`);
      for (const [key, values] of Object.entries(block)) {
        const texts = conditionValues(values, key);
        refuseVariables(texts, version);
        conditions.push(compileCondition(op, key, texts));
      }
    }
  }
  return {
    effect: st.Effect,
    principals,
    notPrincipals,
    conditions,
    actions: globs(actions, true),
    notActions: globs(notActions, true),
    resources: globs(resources),
    notResources: globs(notResources),
  };
}

export function parsePolicy(text: string, bucket: string): BucketPolicy {
  let doc: unknown;
  try {
    doc = JSON.parse(text); // V8's JSON.parse is iterative: any depth parses without a stack overflow
  } catch {
    throw malformed(NOT_JSON);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw malformed(NOT_JSON);
  if (!jsonDepthWithin(doc, MAX_POLICY_DEPTH)) throw malformed('Policy is nested too deeply');
  const d = doc as Record<string, unknown>;
  const versionOk = d.Version === undefined || d.Version === '2012-10-17' || d.Version === '2008-10-17';
  if (!versionOk) throw malformed('Invalid policy version');
  const raw = d.Statement === undefined ? [] : Array.isArray(d.Statement) ? d.Statement : [d.Statement];
  if (raw.length === 0) throw malformed('Missing required field Statement');
  const statements = raw.map((s) => compileStatement(s, bucket, d.Version));
  return {
    statements,
    isPublic: statements.some((s) => s.effect === 'Allow' && s.principals?.has('*') && s.conditions.length === 0),
    readsObjectTags: statements.some((s) => s.conditions.some((c) => c.key.startsWith('s3:existingobjecttag/'))),
  };
}

const anyMatch = (matchers: WildcardMatcher[], value: string): boolean => matchers.some((m) => m(value));

function applies(st: PolicyStatement, req: PolicyRequest, action: string, arn: string): boolean {
  const principalOk = st.principals
    ? st.principals.has('*') || st.principals.has(req.principal)
    : !st.notPrincipals!.has(req.principal);
  if (!principalOk) return false;
  const actionOk = st.actions ? anyMatch(st.actions, action) : !anyMatch(st.notActions!, action);
  if (!actionOk) return false;
  const resourceOk = st.resources ? anyMatch(st.resources, arn) : !anyMatch(st.notResources!, arn);
  if (!resourceOk) return false;
  return st.conditions.every((c) => c.holds(req.conditions));
}

export function evaluatePolicy(policy: BucketPolicy, req: PolicyRequest): 'Allow' | 'Deny' | 'None' {
  const action = req.action.toLowerCase();
  const arn = req.key === undefined ? `arn:aws:s3:::${req.bucket}` : `arn:aws:s3:::${req.bucket}/${req.key}`;
  let allowed = false;
  for (const st of policy.statements) {
    if (!applies(st, req, action, arn)) continue;
    if (st.effect === 'Deny') return 'Deny';
    allowed = true;
  }
  return allowed ? 'Allow' : 'None';
}

/** PolicyStatus.IsPublic (kept as a function for callers holding a policy). */
export function isPublic(policy: BucketPolicy): boolean {
  return policy.isPublic;
}
