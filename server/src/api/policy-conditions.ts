// Policy conditions (`"Condition": {"StringLike": {"s3:prefix": ["home/*"]}}`), compiled once per policy:
// wildcard values become linear-time matchers, numbers and dates are parsed, IP ranges become a BlockList.
// At request time a condition is a lookup of its key in the request's condition context and one test.
// Every operator of the IAM reference ("IAM JSON policy elements: Condition operators") is implemented;
// anything else is refused when the policy is stored, as are values an operator cannot read: a condition
// Cairn could not evaluate must never be accepted, since a Deny holding it would silently never apply.
import { BlockList, isIP } from 'node:net';
import { compileWildcard, globParts, type WildcardMatcher } from '@cairn/select-engine/wildcard';
import { S3Error } from '../errors.js';
import { checkConditionKey } from './policy-keys.js';
import { mentionsVariable, parseTemplate, substituteText } from './policy-variables.js';

/**
 * Condition keys (lower-cased) -> values of the request; undefined where the request has none. Multi-valued
 * keys (aws:TagKeys, a federated user's groups) hold a list.
 */
export type ConditionContext = Record<string, string | readonly string[] | undefined>;

export interface Condition {
  /** The condition key, lower-cased (`aws:sourceip`, `s3:existingobjecttag/team`). */
  key: string;
  holds(ctx: ConditionContext): boolean;
}

type ValueTest = (v: string) => boolean;

const malformed = (message: string) => new S3Error('MalformedPolicy', message);
const badValue = (op: string, value: string) =>
  malformed(`Invalid value ${JSON.stringify(value.slice(0, 64))} for the condition operator ${op}`);

/** IpAddress / NotIpAddress values: an IPv4 or IPv6 address with an optional prefix length. */
function ipBlockList(values: string[]): BlockList {
  const bl = new BlockList();
  for (const cidr of values) {
    const slash = cidr.indexOf('/');
    const addr = slash < 0 ? cidr : cidr.slice(0, slash);
    const family = isIP(addr);
    const max = family === 6 ? 128 : 32;
    const bits = slash < 0 ? max : /^\d{1,3}$/.test(cidr.slice(slash + 1)) ? Number(cidr.slice(slash + 1)) : NaN;
    if (family === 0 || !(bits >= 0 && bits <= max)) throw malformed('Invalid IP address in Conditions');
    bl.addSubnet(addr, bits, family === 6 ? 'ipv6' : 'ipv4');
  }
  return bl;
}

function inRange(bl: BlockList, value: string): boolean {
  const addr = value.replace(/^::ffff:/, '');
  const family = isIP(addr);
  return family !== 0 && bl.check(addr, family === 6 ? 'ipv6' : 'ipv4');
}

/** An ARN's six colon-separated components (the last may hold colons), or undefined. */
function arnParts(s: string): string[] | undefined {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < 5; i++) {
    const j = s.indexOf(':', start);
    if (j < 0) return undefined;
    out.push(s.slice(start, j));
    start = j + 1;
  }
  out.push(s.slice(start));
  return out;
}

/** ArnLike / ArnEquals: each of the six components matched on its own, * and ? never crossing a colon. */
function arnMatcher(pattern: string): (arn: string) => boolean {
  const parts = arnParts(pattern);
  if (!parts) return () => false;
  const matchers = parts.map((p) => compileWildcard(globParts(p)));
  return (arn) => {
    const got = arnParts(arn);
    return got !== undefined && matchers.every((m, i) => m(got[i]));
  };
}

/** A decimal number as policies write them (`10`, `-2.5`); NaN for anything else (`0x10`, `1e3`, ``). */
function numberOf(s: string): number {
  return /^-?\d{1,20}(\.\d{1,20})?$/.test(s) ? Number(s) : NaN;
}

// W3C profile of ISO 8601: YYYY, YYYY-MM, YYYY-MM-DD, then a time with minutes, seconds and a fraction,
// which needs a zone (Z or +hh:mm).
const ISO_DATE =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2}))?)?)?$/;

/**
 * Milliseconds since the epoch of a date as the Date operators read it: ISO 8601 (W3C profile) or epoch
 * seconds (what aws:EpochTime holds). Four digits are a year (the profile's YYYY), more are epoch seconds.
 * NaN for anything else.
 */
export function dateOf(s: string): number {
  if (s.length !== 4 && /^\d{1,12}$/.test(s)) return Number(s) * 1000;
  const m = ISO_DATE.exec(s);
  if (!m) return NaN;
  const [, y, mo = '01', d = '01', h = '00', mi = '00', sec = '00', frac = '', zone = 'Z'] = m;
  const ms = Number(frac.padEnd(3, '0').slice(0, 3));
  const utc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec), ms);
  // Date.UTC rolls fields over (month 13, day 31 of April): a date that does not exist is refused.
  const t = new Date(utc);
  const exists =
    t.getUTCFullYear() === Number(y) &&
    t.getUTCMonth() === Number(mo) - 1 &&
    t.getUTCDate() === Number(d) &&
    t.getUTCHours() === Number(h) &&
    t.getUTCMinutes() === Number(mi) &&
    t.getUTCSeconds() === Number(sec);
  if (!exists) return NaN;
  if (zone === 'Z') return utc;
  const offset = (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
  if (Number(zone.slice(1, 3)) > 23 || Number(zone.slice(4, 6)) > 59) return NaN;
  return zone[0] === '+' ? utc - offset : utc + offset;
}

type Compare = (a: number, b: number) => boolean;
const ORDER: Record<string, Compare> = {
  Equals: (a, b) => a === b,
  LessThan: (a, b) => a < b,
  LessThanEquals: (a, b) => a <= b,
  GreaterThan: (a, b) => a > b,
  GreaterThanEquals: (a, b) => a >= b,
};

/** Numeric* and Date*: the request's value against each policy value (NotEquals: against none of them). */
function orderedTest(op: string, family: 'Numeric' | 'Date', values: string[]): ValueTest | undefined {
  const relation = op.slice(family.length);
  const read = family === 'Numeric' ? numberOf : dateOf;
  if (relation !== 'NotEquals' && !Object.hasOwn(ORDER, relation)) return undefined;
  const wanted = values.map((x) => {
    const n = read(x);
    if (Number.isNaN(n)) throw badValue(op, x);
    return n;
  });
  if (relation === 'NotEquals') return (v) => !Number.isNaN(read(v)) && wanted.every((x) => read(v) !== x);
  const f = ORDER[relation];
  return (v) => {
    const n = read(v);
    return wanted.some((x) => f(n, x));
  };
}

function booleanValues(op: string, values: string[]): Set<string> {
  const set = new Set(values.map((x) => x.toLowerCase()));
  for (const x of set) if (x !== 'true' && x !== 'false') throw badValue(op, x);
  return set;
}

/** The test an operator applies to a present value; undefined for an operator Cairn does not know. */
function valueTest(op: string, values: string[]): ValueTest | undefined {
  switch (op) {
    case 'StringEquals': {
      const set = new Set(values);
      return (v) => set.has(v);
    }
    case 'StringNotEquals': {
      const set = new Set(values);
      return (v) => !set.has(v);
    }
    case 'StringEqualsIgnoreCase':
    case 'StringNotEqualsIgnoreCase': {
      const set = new Set(values.map((x) => x.toLowerCase()));
      const equal = op === 'StringEqualsIgnoreCase';
      return (v) => set.has(v.toLowerCase()) === equal;
    }
    case 'StringLike':
    case 'StringNotLike': {
      const matchers: WildcardMatcher[] = values.map((x) => compileWildcard(globParts(x)));
      const like = op === 'StringLike';
      return (v) => matchers.some((m) => m(v)) === like;
    }
    case 'ArnEquals':
    case 'ArnLike':
    case 'ArnNotEquals':
    case 'ArnNotLike': {
      const matchers = values.map(arnMatcher);
      const positive = op === 'ArnEquals' || op === 'ArnLike';
      return (v) => matchers.some((m) => m(v)) === positive;
    }
    case 'Bool': {
      const set = booleanValues(op, values);
      return (v) => set.has(v.toLowerCase());
    }
    case 'BinaryEquals': {
      // The policy holds base64; the request's value is compared as its UTF-8 bytes.
      const wanted = values.map((x) => {
        if (x.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(x)) throw badValue(op, x);
        return Buffer.from(x, 'base64');
      });
      return (v) => {
        const bytes = Buffer.from(v, 'utf8');
        return wanted.some((w) => w.equals(bytes));
      };
    }
    case 'IpAddress':
    case 'NotIpAddress': {
      const bl = ipBlockList(values);
      const inside = op === 'IpAddress';
      return (v) => inRange(bl, v) === inside;
    }
    default:
      if (op.startsWith('Numeric')) return orderedTest(op, 'Numeric', values);
      if (op.startsWith('Date')) return orderedTest(op, 'Date', values);
      return undefined;
  }
}

/** Operators that require the key not to match: true when the key is absent (IAM User Guide). */
const NEGATED = new Set([
  'StringNotEquals',
  'StringNotEqualsIgnoreCase',
  'StringNotLike',
  'NumericNotEquals',
  'DateNotEquals',
  'NotIpAddress',
  'ArnNotEquals',
  'ArnNotLike',
]);

/** `ForAllValues:StringLikeIfExists` -> its set operator, base operator and IfExists. */
function parseOperator(operator: string): { set?: 'any' | 'all'; base: string; ifExists: boolean } {
  let base = operator;
  let set: 'any' | 'all' | undefined;
  if (base.startsWith('ForAnyValue:')) set = 'any';
  else if (base.startsWith('ForAllValues:')) set = 'all';
  if (set) base = base.slice(base.indexOf(':') + 1);
  const ifExists = base.endsWith('IfExists');
  if (ifExists) base = base.slice(0, -'IfExists'.length);
  return { set, base, ifExists };
}

/** Operators whose values may hold policy variables (string and ARN operators, as IAM allows). */
const TAKES_VARIABLES = /^(String|Arn)/;

/**
 * The test of a present value when the policy values hold variables: the values are filled in from the
 * request first, then compiled (a few recent fillings are kept). A value whose key is absent matches nothing.
 */
function variableTest(base: string, values: string[]): (v: string, ctx: ConditionContext) => boolean {
  const templates = values.map((x) => parseTemplate(x, false));
  const cache = new Map<string, ValueTest>();
  return (v, ctx) => {
    const filled = templates.map((t) => substituteText(t, ctx)).filter((x): x is string => x !== undefined);
    const id = JSON.stringify(filled);
    let test = cache.get(id);
    if (!test) {
      if (cache.size >= 64) cache.clear();
      test = valueTest(base, filled)!;
      cache.set(id, test);
    }
    return test(v);
  };
}

/**
 * One condition of a statement, or MalformedPolicy ("Invalid Condition type") for an operator Cairn does not
 * implement: `Null` takes neither IfExists nor a set operator. A single-valued key passes a set operator as a
 * list of one: `ForAnyValue:` holds when some value passes and fails without any, `ForAllValues:` holds when
 * every value passes or there is none. Without a set operator a multi-valued key holds when some value passes.
 * An absent key satisfies `...IfExists` and the negated operators, as IAM evaluates them. `variables`: the
 * document is Version 2012-10-17, so `${...}` in string and ARN values are policy variables.
 */
export function compileCondition(operator: string, key: string, values: string[], variables = false): Condition {
  const { set, base, ifExists } = parseOperator(operator);
  const invalid = () => malformed(`Invalid Condition type : ${operator}`);
  const k = key.toLowerCase();
  if (base === 'Null') {
    if (set || ifExists) throw invalid();
    checkConditionKey(k, key);
    const wants = booleanValues(operator, values);
    return { key: k, holds: (ctx) => wants.has(String(ctx[k] === undefined)) };
  }
  const plain = valueTest(base, values);
  if (!plain) throw invalid();
  checkConditionKey(k, key);
  const withVariables = variables && TAKES_VARIABLES.test(base) && values.some(mentionsVariable);
  const filled = withVariables ? variableTest(base, values) : undefined;
  const test = filled ?? ((v: string) => plain(v));
  const whenAbsent = ifExists || set === 'all' || (set === undefined && NEGATED.has(base));
  return {
    key: k,
    holds: (ctx) => {
      const v = ctx[k];
      if (v === undefined) return whenAbsent;
      if (typeof v === 'string') return test(v, ctx);
      if (v.length === 0) return set === 'all' || (set === undefined && whenAbsent);
      return set === 'all' ? v.every((x) => test(x, ctx)) : v.some((x) => test(x, ctx));
    },
  };
}
