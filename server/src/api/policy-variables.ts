// Policy variables (IAM User Guide, "IAM policy elements: Variables and tags"): in a Version 2012-10-17
// document, `${aws:username}` in a Resource or in a string/ARN condition value stands for the request's value
// of that key; `${key, 'default'}` gives a value for an absent key; `${*}`, `${?}` and `${$}` are the
// literal characters. A key absent from the request (and without a default) makes the element match nothing.
// The value put in is literal text (a `*` in a user name is not a wildcard), so matching stays linear-time:
// the template's head (up to its first wildcard) is compared piece by piece, and the rest becomes wildcard
// parts with the values as literal text, compiled by the linear matcher (see compileVariableTemplate).
import {
  ANY,
  ONE,
  compileWildcard,
  globParts,
  type WildcardMatcher,
  type WildcardPart,
} from '@cairn/select-engine/wildcard';
import { S3Error } from '../errors.js';
import type { ConditionContext } from './policy-conditions.js';
import { checkConditionKey } from './policy-keys.js';

type TemplatePart = string | typeof ANY | typeof ONE | { key: string; fallback?: string };

export interface Template {
  parts: TemplatePart[];
  /** The template has at least one variable (otherwise it is a plain pattern). */
  variable: boolean;
}

/** Does this text hold `${`, i.e. may it use variables? */
export const mentionsVariable = (s: string): boolean => s.includes('${');

const LITERAL: Record<string, string> = { '*': '*', '?': '?', $: '$' };

/**
 * Reads a pattern with `*`/`?` wildcards (when `wildcards`) and `${...}` variables. An unknown key in a
 * variable is refused as a condition key would be (checkConditionKey).
 */
export function parseTemplate(pattern: string, wildcards: boolean): Template {
  const parts: TemplatePart[] = [];
  let lit = '';
  let variable = false;
  const flush = () => {
    if (lit) parts.push(lit);
    lit = '';
  };
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '$' && pattern[i + 1] === '{') {
      const end = pattern.indexOf('}', i + 2);
      if (end > 0) {
        const inner = pattern.slice(i + 2, end).trim();
        i = end;
        if (Object.hasOwn(LITERAL, inner)) {
          lit += LITERAL[inner];
          continue;
        }
        const m = /^([^,\s]+)\s*(?:,\s*'([^']*)')?$/.exec(inner);
        if (!m) throw new S3Error('MalformedPolicy', `Invalid policy variable \${${inner.slice(0, 64)}}`);
        checkConditionKey(m[1].toLowerCase(), m[1]);
        flush();
        parts.push({ key: m[1].toLowerCase(), fallback: m[2] });
        variable = true;
        continue;
      }
    }
    if (wildcards && (c === '*' || c === '?')) {
      flush();
      parts.push(c === '*' ? ANY : ONE);
      continue;
    }
    lit += c;
  }
  flush();
  return { parts, variable };
}

const valueOf = (ctx: ConditionContext, part: { key: string; fallback?: string }): string | undefined => {
  const v = ctx[part.key];
  return (typeof v === 'string' ? v : undefined) ?? part.fallback;
};

/** The template with the request's values put in, as text (wildcards as their characters); undefined if a key is absent. */
export function substituteText(t: Template, ctx: ConditionContext): string | undefined {
  let out = '';
  for (const p of t.parts) {
    if (typeof p === 'string') out += p;
    else if (p === ANY) out += '*';
    else if (p === ONE) out += '?';
    else {
      const v = valueOf(ctx, p);
      if (v === undefined) return undefined;
      out += v;
    }
  }
  return out;
}

/** The template as wildcard parts, the values as literal text; undefined if a key is absent. */
function substituteParts(t: Template, ctx: ConditionContext): { parts: WildcardPart[]; id: string } | undefined {
  const parts: WildcardPart[] = [];
  let id = '';
  for (const p of t.parts) {
    if (typeof p === 'string' || p === ANY || p === ONE) parts.push(p);
    else {
      const v = valueOf(ctx, p);
      if (v === undefined) return undefined;
      parts.push(v);
      id += `${v.length}:${v}`;
    }
  }
  return { parts, id };
}

const CACHE_LIMIT = 256;

/** A matcher of a wildcard pattern that may hold variables: (text, request values) -> matches. */
export type TemplateMatcher = (text: string, ctx: () => ConditionContext) => boolean;

/** Templates with variables by their text: statements repeating a pattern share its matcher and its cache. */
const templates = new Map<string, TemplateMatcher>();
const TEMPLATES_LIMIT = 10_000;

/** Compiles a glob (`*`, `?`) that may hold variables (when `variables`: Version 2012-10-17). */
export function compileTemplate(pattern: string, variables: boolean): TemplateMatcher {
  if (!variables || !mentionsVariable(pattern)) {
    const m = compileWildcard(globParts(pattern));
    return (text) => m(text);
  }
  let shared = templates.get(pattern);
  if (!shared) {
    if (templates.size >= TEMPLATES_LIMIT) templates.clear();
    shared = compileVariableTemplate(pattern);
    templates.set(pattern, shared);
  }
  return shared;
}

/**
 * A template is matched in two steps. Its head, the parts before the first `*` or `?` (literal text and
 * variables), is compared in place: the text must start with each piece in turn, so a request whose text
 * differs there (nearly all the requests a statement does not apply to) is answered without building
 * anything. The rest is an anchored pattern on what follows: compiled once when it holds no variable, else
 * filled in and compiled per value (kept in a small cache: the same caller asks again and again).
 */
function compileVariableTemplate(pattern: string): TemplateMatcher {
  const t = parseTemplate(pattern, true);
  let cut = t.parts.findIndex((p) => p === ANY || p === ONE);
  if (cut < 0) cut = t.parts.length;
  const head = t.parts.slice(0, cut) as Exclude<TemplatePart, typeof ANY | typeof ONE>[];
  const tail: Template = { parts: t.parts.slice(cut), variable: t.parts.slice(cut).some((p) => typeof p === 'object') };
  const fixedTail = tail.variable ? undefined : compileWildcard(tail.parts as WildcardPart[]);
  const cache = new Map<string, WildcardMatcher>();
  return (text, ctx) => {
    let at = 0;
    let values: ConditionContext | undefined;
    for (const p of head) {
      const piece = typeof p === 'string' ? p : valueOf((values ??= ctx()), p);
      if (piece === undefined || !text.startsWith(piece, at)) return false;
      at += piece.length;
    }
    const rest = at === 0 ? text : text.slice(at);
    if (fixedTail) return fixedTail(rest);
    const sub = substituteParts(tail, (values ??= ctx()));
    if (!sub) return false;
    let m = cache.get(sub.id);
    if (!m) {
      if (cache.size >= CACHE_LIMIT) cache.clear();
      m = compileWildcard(sub.parts);
      cache.set(sub.id, m);
    }
    return m(rest);
  };
}
