// The IAM policy language, compiled once per document: identity policies (users, groups, roles, service
// accounts), session policies (STS), trust policies (who may assume a role) and bucket policies share this
// grammar and this evaluation. Effect, Sid, Action/NotAction, Resource/NotResource, Principal/NotPrincipal
// (policy-principals.ts), Condition (policy-conditions.ts) and policy variables in resources and string
// conditions (policy-variables.ts). Actions are checked against the known lists (policy-actions.ts).
//
// The document is client input: its size is bounded before it is parsed, its depth before anything walks it,
// and every field must have the type the grammar gives it, so nothing recursive runs over it. A refusal is
// MalformedPolicy (the IAM API answers it as MalformedPolicyDocument) naming where: the line and column of a
// JSON syntax error, the statement and element of anything else.
//
// Evaluation: an explicit Deny wins, then an Allow, else no opinion. `forAction` keeps, per action, the
// statements whose Action/NotAction admit it, so a request looks only at those (computed on first use).
import type { WildcardMatcher } from '@cairn/select-engine/wildcard';
import { compileWildcard, globParts } from '@cairn/select-engine/wildcard';
import { S3Error, isS3Error } from '../errors.js';
import { jsonDepthWithin } from './json-depth.js';
import { jsonErrorOffset, lineAndColumn } from './json-position.js';
import { actionProblem } from './policy-actions.js';
import { compileCondition, type Condition, type ConditionContext } from './policy-conditions.js';
import { namesCaller, principalTokens } from './policy-principals.js';
import { compileTemplate, type TemplateMatcher } from './policy-variables.js';

/** What a document is for: it decides which elements are required or refused and which actions may appear. */
export type PolicyKind = 'identity' | 'session' | 'trust' | 'bucket';

export type Verdict = 'Allow' | 'Deny' | 'None';

/**
 * A compiled statement. Statements identical but for their Sid (in any policy of the same kind) are one object
 * (internStatement), so a caller whose policies repeat a statement evaluates it once.
 */
export interface PolicyStatement {
  effect: 'Allow' | 'Deny';
  principals?: Set<string>;
  notPrincipals?: Set<string>;
  /** Matchers of lower-cased action patterns (actions compare case-insensitively). */
  actions?: WildcardMatcher[];
  notActions?: WildcardMatcher[];
  /** Neither: the statement applies to any resource (trust policies; MinIO's admin-only statements). */
  resources?: TemplateMatcher[];
  notResources?: TemplateMatcher[];
  conditions: Condition[];
  /** The statement reads the request's condition context (conditions or policy variables). */
  contextual: boolean;
  /** Where StatementIndex files the statement (resourceKey of each Resource); undefined: look at it always. */
  resourceKeys?: string[];
}

export interface CompiledPolicy {
  kind: PolicyKind;
  statements: PolicyStatement[];
  /** PolicyStatus.IsPublic: some Allow statement grants to everyone without conditions. */
  isPublic: boolean;
  /** Some condition reads the object's own tags (s3:ExistingObjectTag/...): evaluation must look them up. */
  readsObjectTags: boolean;
  /** The statements whose Action/NotAction admit `action` (lower-cased), indexed by resource. */
  forAction(action: string): StatementIndex;
}

/** A request as a policy sees it. */
export interface PolicyQuery {
  /** Lower-cased action (`s3:getobject`). */
  action: string;
  /** The resource's ARN (`arn:aws:s3:::bucket/key`). */
  resource: string;
  /** The request's condition values, built on first use. */
  context: () => ConditionContext;
  /** The tokens the caller answers to (policy-principals.ts); needed by bucket and trust policies. */
  principals?: ReadonlySet<string>;
}

/** Longest document accepted, in characters other than white space (S3 bucket policies' limit, 20 KB). */
export const MAX_POLICY_CHARS = 20_480;
/** Deepest nesting a policy can legitimately have (document > Statement > statement > Condition > op > values). */
const MAX_POLICY_DEPTH = 8;

const malformed = (message: string) => new S3Error('MalformedPolicy', message);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const SERVICES: Record<PolicyKind, readonly string[]> = {
  identity: ['s3', 'iam', 'sts', 'admin'],
  session: ['s3', 'iam', 'sts', 'admin'],
  trust: ['sts'],
  bucket: ['s3'],
};
const STATEMENT_FIELDS = new Set([
  'Sid',
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
]);

/** A string or a list of strings (the grammar's only list shape); anything else is MalformedPolicy. */
function strings(v: unknown, field: string): string[] | undefined {
  if (v === undefined) return undefined;
  const items = Array.isArray(v) ? v : [v];
  if (items.length === 0 || !items.every((x) => typeof x === 'string')) {
    throw malformed(`${field} must be a string or a non-empty list of strings`);
  }
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

/** A Resource entry: `*` or an ARN of six colon-separated parts (`arn:aws:s3:::bucket/key`). */
function checkResource(r: string, kind: PolicyKind, bucket: string | undefined): void {
  if (kind === 'bucket') {
    // The bucket part, up to the first `/`; whatever key follows (a key may hold any character, line breaks too).
    const m = /^arn:aws:s3:::([^/]+)/.exec(r);
    if (!m || !compileWildcard(globParts(m[1]))(bucket ?? '')) throw malformed('Policy has invalid resource');
    return;
  }
  if (r === '*') return;
  if (!/^arn:[^:]*:[^:]*:[^:]*:[^:]*:./.test(r)) throw malformed(`Invalid resource ${JSON.stringify(r.slice(0, 128))}`);
}

interface CompileOptions {
  kind: PolicyKind;
  /** Bucket policies: the bucket they are for (every resource must be in it). */
  bucket?: string;
}

/**
 * Compiled statements by what they say (the statement's JSON without its Sid, the kind, the bucket and whether
 * variables are read): policies that repeat a statement (a group's and a user's, the same grant in several
 * managed policies, one template per user) share one object, which StatementIndex then evaluates once.
 * Bounded by the text it keeps; when full it starts again (later statements stop sharing with earlier ones,
 * nothing else changes).
 */
const interned = new Map<string, PolicyStatement>();
let internedChars = 0;
const INTERNED_CHARS = 2_000_000;

function internStatement(st: Record<string, unknown>, o: CompileOptions, variables: boolean): PolicyStatement {
  if (st.Sid !== undefined && (typeof st.Sid !== 'string' || !/^[A-Za-z0-9 _.:-]*$/.test(st.Sid))) {
    throw malformed('Invalid Sid');
  }
  const { Sid: _sid, ...said } = st;
  const key = `${o.kind}\n${o.bucket ?? ''}\n${variables}\n${JSON.stringify(said)}`;
  let compiled = interned.get(key);
  if (!compiled) {
    compiled = compileStatement(st, o, variables);
    if (internedChars + key.length > INTERNED_CHARS) {
      interned.clear();
      internedChars = 0;
    }
    interned.set(key, compiled);
    internedChars += key.length;
  }
  return compiled;
}

function compileStatement(st: Record<string, unknown>, o: CompileOptions, variables: boolean): PolicyStatement {
  for (const k of Object.keys(st)) if (!STATEMENT_FIELDS.has(k)) throw malformed(`Unknown field ${k}`);
  if (st.Effect !== 'Allow' && st.Effect !== 'Deny') throw malformed('Invalid effect');
  const principals = principalTokens(st.Principal);
  const notPrincipals = principalTokens(st.NotPrincipal);
  const takesPrincipal = o.kind === 'bucket' || o.kind === 'trust';
  if (!takesPrincipal && (principals || notPrincipals))
    throw malformed('Policy document should not specify a principal');
  if (takesPrincipal && !principals && !notPrincipals) throw malformed('Missing required field Principal');
  // AWS forbids NotPrincipal with Allow (it would grant to nearly everyone).
  if (notPrincipals && st.Effect === 'Allow') throw malformed('NotPrincipal is not allowed with Effect Allow');
  const actions = strings(st.Action, 'Action');
  const notActions = strings(st.NotAction, 'NotAction');
  if (!actions && !notActions) throw malformed('Missing required field Action');
  if (actions && notActions) throw malformed('Action and NotAction cannot be given together');
  for (const a of actions ?? notActions ?? []) {
    const problem = actionProblem(a, SERVICES[o.kind]);
    if (problem) throw malformed(o.kind === 'bucket' ? 'Policy has invalid action' : `Policy has ${problem}`);
  }
  const resources = strings(st.Resource, 'Resource');
  const notResources = strings(st.NotResource, 'NotResource');
  if (resources && notResources) throw malformed('Resource and NotResource cannot be given together');
  if (o.kind === 'trust' && (resources || notResources)) throw malformed('Has prohibited field Resource');
  // MinIO writes its admin-only statements (consoleAdmin) without a Resource: they are not about a resource.
  const adminOnly = !!actions && actions.every((a) => a.toLowerCase().startsWith('admin:'));
  if (o.kind !== 'trust' && !resources && !notResources && !adminOnly)
    throw malformed('Missing required field Resource');
  for (const r of resources ?? notResources ?? []) checkResource(r, o.kind, o.bucket);
  const conditions: Condition[] = [];
  if (st.Condition !== undefined) {
    if (!isObject(st.Condition)) throw malformed('Invalid Condition');
    for (const [op, block] of Object.entries(st.Condition)) {
      if (!isObject(block)) throw malformed(`Invalid Condition ${op}`);
      for (const [key, values] of Object.entries(block)) {
        conditions.push(compileCondition(op, key, conditionValues(values, key), variables));
      }
    }
  }
  const globs = (patterns: string[] | undefined) => patterns?.map((p) => compileWildcard(globParts(p.toLowerCase())));
  const templates = (patterns: string[] | undefined) => patterns?.map((p) => compileTemplate(p, variables));
  const usesVariables = variables && [...(resources ?? []), ...(notResources ?? [])].some((r) => r.includes('${'));
  return {
    effect: st.Effect,
    principals,
    notPrincipals,
    actions: globs(actions),
    notActions: globs(notActions),
    resources: templates(resources),
    notResources: templates(notResources),
    conditions,
    contextual: conditions.length > 0 || usesVariables,
    resourceKeys: resourceKeysOf(resources),
  };
}

/**
 * The key a Resource pattern is filed under: the pattern itself when it is all literal text, else its literal
 * start (before the first `*`, `?` or `${`) cut back to the last `/` (`arn:aws:s3:::b/team-1/*` is filed under
 * `arn:aws:s3:::b/team-1`). Any ARN the pattern matches starts with that key followed by `/` (or is the key).
 * undefined when there is no such start (`*`, `arn:aws:s3:::b*`).
 */
function resourceKey(pattern: string): string | undefined {
  let stem = pattern.length;
  for (const c of ['*', '?', '$']) {
    const i = pattern.indexOf(c);
    if (i >= 0 && i < stem) stem = i;
  }
  if (stem === pattern.length) return pattern;
  const slash = pattern.lastIndexOf('/', stem - 1);
  return slash > 0 ? pattern.slice(0, slash) : undefined;
}

function resourceKeysOf(resources: string[] | undefined): string[] | undefined {
  if (!resources) return undefined;
  const keys = new Set<string>();
  for (const r of resources) {
    const k = resourceKey(r);
    if (k === undefined) return undefined;
    keys.add(k);
  }
  return [...keys];
}

/**
 * Statements filed by the literal start of their resources, so that a request evaluates only those that can
 * match its ARN: a user with thousands of statements over many buckets and prefixes looks at a handful. The
 * verdict is evaluateStatements' over all of them (a statement filed twice is evaluated at most twice). A
 * statement given more than once (the same object: internStatement) is filed once.
 */
export class StatementIndex {
  /** NotResource, no Resource, or a pattern without a literal start: evaluated for every request. */
  private readonly always: PolicyStatement[] = [];
  private readonly byKey = new Map<string, PolicyStatement[]>();
  /** The most `/` in a key: the lookups of an ARN stop there (a key of many slashes cannot force more). */
  private depth = 0;
  /** The statements, each once. */
  readonly statements: readonly PolicyStatement[];

  constructor(statements: Iterable<PolicyStatement>) {
    this.statements = [...new Set(statements)];
    for (const st of this.statements) {
      if (!st.resourceKeys) {
        this.always.push(st);
        continue;
      }
      for (const k of st.resourceKeys) {
        const list = this.byKey.get(k);
        if (list) list.push(st);
        else this.byKey.set(k, [st]);
        let slashes = 0;
        for (let i = k.indexOf('/'); i >= 0; i = k.indexOf('/', i + 1)) slashes++;
        if (slashes > this.depth) this.depth = slashes;
      }
    }
  }

  get size(): number {
    return this.statements.length;
  }

  /** Deny if a statement that applies denies, else Allow if one allows, else None. */
  verdict(q: PolicyQuery): Verdict {
    let v = evaluateStatements(this.always, q);
    if (v === 'Deny' || this.byKey.size === 0) return v;
    // The ARN's starts that end before a `/`, then the whole ARN: the keys a matching pattern can have.
    const r = q.resource;
    for (let from = 0, slashes = 0; slashes <= this.depth; slashes++) {
      const i = r.indexOf('/', from);
      const hit = this.byKey.get(i < 0 ? r : r.slice(0, i));
      if (hit) {
        const w = evaluateStatements(hit, q);
        if (w === 'Deny') return w;
        if (w === 'Allow') v = w;
      }
      if (i < 0) break;
      from = i + 1;
    }
    return v;
  }
}

/** The text's characters other than white space, counted without building anything. */
function significantLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) n++;
  }
  return n;
}

/** Parses a document's JSON, refusing what is too large or not JSON with where it fails. */
function parseJson(text: string): Record<string, unknown> {
  if (significantLength(text) > MAX_POLICY_CHARS) {
    throw malformed(`Policy document is longer than ${MAX_POLICY_CHARS} characters (white space not counted)`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text); // V8's JSON.parse is iterative: any depth parses without a stack overflow
  } catch {
    const at = jsonErrorOffset(text);
    throw malformed(`Policy is not valid JSON: syntax error at ${lineAndColumn(text, Math.max(at, 0))}`);
  }
  if (!isObject(doc)) throw malformed("Policies must be valid JSON and the first byte must be '{'");
  if (!jsonDepthWithin(doc, MAX_POLICY_DEPTH)) throw malformed('Policy is nested too deeply');
  return doc;
}

function forActionIndex(statements: PolicyStatement[]): (action: string) => StatementIndex {
  const memo = new Map<string, StatementIndex>();
  return (action) => {
    let hit = memo.get(action);
    if (!hit) {
      hit = new StatementIndex(
        statements.filter((st) =>
          st.actions ? st.actions.some((m) => m(action)) : !st.notActions!.some((m) => m(action)),
        ),
      );
      memo.set(action, hit);
    }
    return hit;
  };
}

/** Compiles a policy document of the given kind, or throws MalformedPolicy saying where. */
export function compilePolicy(text: string, o: CompileOptions): CompiledPolicy {
  const doc = parseJson(text);
  for (const k of Object.keys(doc)) {
    if (k !== 'Version' && k !== 'Statement' && k !== 'Id') throw malformed(`Unknown field ${k}`);
  }
  if (doc.Version !== undefined && doc.Version !== '2012-10-17' && doc.Version !== '2008-10-17') {
    throw malformed('Invalid policy version');
  }
  // Policy variables are read in Version 2012-10-17 documents only; earlier ones take `${` literally.
  const variables = doc.Version === '2012-10-17';
  const raw = doc.Statement === undefined ? [] : Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  if (raw.length === 0) throw malformed('Missing required field Statement');
  const sids = new Set<string>();
  const statements = raw.map((s, i) => {
    const where = `Statement ${i + 1}${isObject(s) && typeof s.Sid === 'string' ? ` (Sid ${s.Sid.slice(0, 64)})` : ''}`;
    try {
      if (!isObject(s)) throw malformed('Invalid statement');
      const st = internStatement(s, o, variables);
      if (typeof s.Sid === 'string' && s.Sid !== '') {
        if (sids.has(s.Sid)) throw malformed(`Statement ids (Sid) must be unique: ${s.Sid}`);
        sids.add(s.Sid);
      }
      return st;
    } catch (e) {
      if (isS3Error(e) && e.code === 'MalformedPolicy') throw malformed(`${where}: ${e.message}`);
      throw e;
    }
  });
  return {
    kind: o.kind,
    statements,
    isPublic: statements.some((s) => s.effect === 'Allow' && s.principals?.has('*') && s.conditions.length === 0),
    readsObjectTags: statements.some((s) => s.conditions.some((c) => c.key.startsWith('s3:existingobjecttag/'))),
    forAction: forActionIndex(statements),
  };
}

function resourceMatches(st: PolicyStatement, q: PolicyQuery): boolean {
  if (st.resources) return st.resources.some((m) => m(q.resource, q.context));
  if (st.notResources) return !st.notResources.some((m) => m(q.resource, q.context));
  return true;
}

function applies(st: PolicyStatement, q: PolicyQuery): boolean {
  if (st.principals || st.notPrincipals) {
    const caller = q.principals ?? new Set(['*']);
    const ok = st.principals ? namesCaller(st.principals, caller) : !namesCaller(st.notPrincipals!, caller);
    if (!ok) return false;
  }
  if (!resourceMatches(st, q)) return false;
  if (st.conditions.length === 0) return true;
  const ctx = q.context();
  return st.conditions.every((c) => c.holds(ctx));
}

/** Deny if any statement for the action denies, else Allow if one allows, else None. */
export function evaluateStatements(statements: readonly PolicyStatement[], q: PolicyQuery): Verdict {
  let allowed = false;
  for (const st of statements) {
    if (st.effect === 'Allow' && allowed) continue; // one Allow is enough; only a Deny could change the answer
    if (!applies(st, q)) continue;
    if (st.effect === 'Deny') return 'Deny';
    allowed = true;
  }
  return allowed ? 'Allow' : 'None';
}

export function evaluate(policy: CompiledPolicy, q: PolicyQuery): Verdict {
  return policy.forAction(q.action).verdict(q);
}

/**
 * Several policies evaluated as one set: an explicit Deny in any wins, else an Allow in any (an STS session's
 * inline Policy and the managed policies of its PolicyArns, which AWS evaluates together as session policies).
 */
export function unionOf(kind: PolicyKind, policies: readonly CompiledPolicy[]): CompiledPolicy {
  if (policies.length === 1) return policies[0];
  const statements = policies.flatMap((p) => p.statements);
  return {
    kind,
    statements,
    isPublic: policies.some((p) => p.isPublic),
    readsObjectTags: policies.some((p) => p.readsObjectTags),
    forAction: forActionIndex(statements),
  };
}
