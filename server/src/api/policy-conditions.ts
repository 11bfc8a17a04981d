// Policy conditions (`"Condition": {"StringLike": {"s3:prefix": ["home/*"]}}`), compiled once per policy:
// wildcard values become linear-time matchers, numbers are parsed, IP ranges become a BlockList. At request
// time a condition is a lookup of its key in the request's condition context and one test.
import { BlockList, isIP } from 'node:net';
import { compileWildcard, globParts, type WildcardMatcher } from '@cairn/select-engine';

/** Condition keys (lower-cased) -> values of the request; undefined where the request has none. */
export type ConditionContext = Record<string, string | undefined>;

export interface Condition {
  /** The condition key, lower-cased (`aws:sourceip`, `s3:existingobjecttag/team`). */
  key: string;
  holds(ctx: ConditionContext): boolean;
}

function ipBlockList(values: string[]): BlockList {
  const bl = new BlockList();
  for (const cidr of values) {
    const [addr, bits] = cidr.split('/');
    const type = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
    if (!isIP(addr)) continue;
    bl.addSubnet(addr, bits === undefined ? (type === 'ipv6' ? 128 : 32) : Number(bits), type);
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

/** The test an operator applies to a present value; undefined for an operator Cairn does not know. */
function valueTest(op: string, values: string[]): ((v: string) => boolean) | undefined {
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
      const set = new Set(values.map((x) => x.toLowerCase()));
      return (v) => set.has(v.toLowerCase());
    }
    case 'NumericEquals':
    case 'NumericNotEquals':
    case 'NumericLessThan':
    case 'NumericLessThanEquals':
    case 'NumericGreaterThan':
    case 'NumericGreaterThanEquals': {
      const nums = values.map(Number);
      const cmp: Record<string, (a: number, b: number) => boolean> = {
        NumericEquals: (a, b) => a === b, NumericLessThan: (a, b) => a < b, NumericLessThanEquals: (a, b) => a <= b,
        NumericGreaterThan: (a, b) => a > b, NumericGreaterThanEquals: (a, b) => a >= b,
      };
      if (op === 'NumericNotEquals') return (v) => nums.every((x) => Number(v) !== x);
      const f = cmp[op];
      return (v) => nums.some((x) => f(Number(v), x));
    }
    case 'IpAddress':
    case 'NotIpAddress': {
      const bl = ipBlockList(values);
      const inside = op === 'IpAddress';
      return (v) => inRange(bl, v) === inside;
    }
    default:
      return undefined;
  }
}

/** Operators that require the key not to match: true when the key is absent (IAM User Guide). */
const NEGATED = new Set([
  'StringNotEquals', 'StringNotEqualsIgnoreCase', 'StringNotLike', 'NumericNotEquals', 'NotIpAddress', 'ArnNotEquals',
  'ArnNotLike',
]);

/**
 * One condition of a statement. `ForAnyValue:` / `ForAllValues:` prefixes are read as the plain operator
 * (every key Cairn knows has a single value). An absent key satisfies `...IfExists`, a negated operator and
 * ForAllValues (no value fails it), as IAM evaluates them.
 */
export function compileCondition(operator: string, key: string, values: string[]): Condition {
  const forAll = operator.startsWith('ForAllValues:');
  let op = operator.replace(/^(ForAnyValue|ForAllValues):/, '');
  const ifExists = op.endsWith('IfExists');
  if (ifExists) op = op.slice(0, -'IfExists'.length);
  const k = key.toLowerCase();
  if (op === 'Null') {
    const wantAbsent = values[0] === 'true';
    return { key: k, holds: (ctx) => (ctx[k] === undefined) === wantAbsent };
  }
  const test = valueTest(op, values);
  // An operator we do not know never grants (and never denies) anything.
  if (!test) return { key: k, holds: () => false };
  const whenAbsent = ifExists || NEGATED.has(op) || forAll;
  return {
    key: k,
    holds: (ctx) => {
      const v = ctx[k];
      return v === undefined ? whenAbsent : test(v);
    },
  };
}
