// Scalar functions: string functions, COALESCE / NULLIF, and the timestamp functions. Each is compiled to
// a closure; constant arguments (TO_STRING patterns, TRIM characters) are prepared once.
import { SelectError } from '../errors.js';
import type * as A from '../sql/ast.js';
import type { Compiled, Fn } from './compile.js';
import { compileTimestampPattern } from './format-pattern.js';
import { dateAdd, dateDiff, extract, parseTimestamp, utcNow } from './timestamp.js';
import { equals, fromDate, toNumber, Timestamp, type Value } from './values.js';

type Sub = (e: A.Expr) => Compiled;

function badArg(name: string, v: Value): never {
  const t = v instanceof Timestamp ? 'TIMESTAMP' : typeof v;
  throw new SelectError('IncorrectSqlFunctionArgumentType', `${name.toUpperCase()} does not accept an argument of type ${t}`);
}

function str(name: string, v: Value): string {
  if (typeof v === 'string') return v;
  return badArg(name, v);
}

function ts(name: string, v: Value): Timestamp {
  if (v instanceof Timestamp) return v;
  if (v instanceof Date) return fromDate(v);
  if (typeof v === 'string') {
    const t = parseTimestamp(v);
    if (t) return t;
  }
  return badArg(name, v);
}

function int(name: string, v: Value): number {
  const n = toNumber(v);
  if (!Number.isFinite(n)) return badArg(name, v);
  return Math.trunc(n);
}

/** Unary string function with NULL/MISSING passing through. */
function unaryString(name: string, arg: Fn, f: (s: string) => Value): Fn {
  return (row) => {
    const v = arg(row);
    if (v === null || v === undefined) return v;
    return f(str(name, v));
  };
}

function codePointLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) n--;
  }
  return n;
}

function substring(s: string, start: number, length?: number): string {
  // Characters from position `start` (1-based) for `length` (AWS reference): positions before 1 hold no
  // characters, so SUBSTRING('abc', 0, 2) is 'a'; without a length, a start before 1 counts as 1.
  const cps = /[\ud800-\udfff]/.test(s) ? Array.from(s) : undefined;
  const len = cps ? cps.length : s.length;
  let from = start - 1;
  let to = length === undefined ? len : from + length;
  if (length !== undefined && length < 0) throw new SelectError('EvaluatorInvalidArguments', 'SUBSTRING length must not be negative');
  if (from < 0) from = 0;
  if (to > len) to = len;
  if (to <= from) return '';
  return cps ? cps.slice(from, to).join('') : s.slice(from, to);
}

function trimChars(s: string, chars: string, where: 'LEADING' | 'TRAILING' | 'BOTH'): string {
  const set = new Set(Array.from(chars));
  const cps = Array.from(s);
  let a = 0;
  let b = cps.length;
  if (where !== 'TRAILING') while (a < b && set.has(cps[a])) a++;
  if (where !== 'LEADING') while (b > a && set.has(cps[b - 1])) b--;
  return cps.slice(a, b).join('');
}

function trimSpaces(s: string, where: 'LEADING' | 'TRAILING' | 'BOTH'): string {
  let a = 0;
  let b = s.length;
  if (where !== 'TRAILING') while (a < b && s.charCodeAt(a) === 32) a++;
  if (where !== 'LEADING') while (b > a && s.charCodeAt(b - 1) === 32) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

export function compileCall(
  e: Extract<A.Expr, { kind: 'call' | 'extract' | 'substring' | 'trim' }>,
  sub: Sub,
  nowMs: number,
): Compiled {
  switch (e.kind) {
    case 'extract': {
      const v = sub(e.value).fn;
      const part = e.part;
      return {
        type: 'int',
        fn: (row) => {
          const x = v(row);
          if (x === null || x === undefined) return x;
          return extract(part, ts('extract', x));
        },
      };
    }
    case 'substring': {
      const v = sub(e.value).fn;
      const st = sub(e.start).fn;
      const ln = e.length ? sub(e.length).fn : undefined;
      return {
        type: 'string',
        fn: (row) => {
          const s = v(row);
          const a = st(row);
          const n = ln ? ln(row) : 0;
          if (s === undefined || a === undefined || n === undefined) return undefined;
          if (s === null || a === null || n === null) return null;
          return substring(str('substring', s), int('substring', a), ln ? int('substring', n) : undefined);
        },
      };
    }
    case 'trim': {
      const v = sub(e.value).fn;
      const where = e.where;
      if (!e.chars) return { type: 'string', fn: unaryString('trim', v, (s) => trimSpaces(s, where)) };
      const c = sub(e.chars).fn;
      return {
        type: 'string',
        fn: (row) => {
          const s = v(row);
          const chars = c(row);
          if (s === undefined || chars === undefined) return undefined;
          if (s === null || chars === null) return null;
          return trimChars(str('trim', s), str('trim', chars), where);
        },
      };
    }
    case 'call':
      return scalarCall(e, sub, nowMs);
  }
}

function scalarCall(e: Extract<A.Expr, { kind: 'call' }>, sub: Sub, nowMs: number): Compiled {
  const name = e.name;
  if (name === 'date_add' || name === 'date_diff') {
    const part = (e.args[0] as Extract<A.Expr, { kind: 'datePart' }>).part;
    const a = sub(e.args[1]).fn;
    const b = sub(e.args[2]).fn;
    if (part === 'timezone_hour' || part === 'timezone_minute') throw new SelectError('EvaluatorInvalidArguments', `${name.toUpperCase()} does not accept ${part}`, e.pos);
    if (name === 'date_add') {
      return {
        type: 'timestamp',
        fn: (row) => {
          const n = a(row);
          const t = b(row);
          if (n === undefined || t === undefined) return undefined;
          if (n === null || t === null) return null;
          return dateAdd(part, int(name, n), ts(name, t));
        },
      };
    }
    return {
      type: 'int',
      fn: (row) => {
        const x = a(row);
        const y = b(row);
        if (x === undefined || y === undefined) return undefined;
        if (x === null || y === null) return null;
        return dateDiff(part, ts(name, x), ts(name, y));
      },
    };
  }
  const args = e.args.map(sub);
  const f = args.map((x) => x.fn);
  switch (name) {
    case 'coalesce':
      return {
        type: 'any',
        fn: (row) => {
          for (const g of f) {
            const v = g(row);
            if (v !== null && v !== undefined) return v;
          }
          return null;
        },
      };
    case 'nullif':
      return {
        type: args[0].type,
        fn: (row) => {
          const a = f[0](row);
          const b = f[1](row);
          if (a == null) return null; // NULLIF(MISSING, x) is NULL (AWS reference)
          if (b != null && equals(a, b)) return null;
          return a;
        },
      };
    case 'char_length':
    case 'character_length':
      return { type: 'int', fn: unaryString(name, f[0], codePointLength) };
    case 'lower':
      return { type: 'string', fn: unaryString(name, f[0], (s) => s.toLowerCase()) };
    case 'upper':
      return { type: 'string', fn: unaryString(name, f[0], (s) => s.toUpperCase()) };
    case 'utcnow': {
      const now = utcNow(nowMs);
      return { type: 'timestamp', fn: () => now, constant: { value: now } };
    }
    case 'to_timestamp':
      return {
        type: 'timestamp',
        fn: (row) => {
          const v = f[0](row);
          if (v === null || v === undefined) return v;
          if (v instanceof Timestamp) return v;
          if (v instanceof Date) return fromDate(v);
          const t = parseTimestamp(str(name, v));
          if (!t) throw new SelectError('ValueParseFailure', `Cannot parse '${String(v).slice(0, 40)}' as a timestamp`);
          return t;
        },
      };
    case 'to_string': {
      const pat = args[1];
      let format: ((t: Timestamp) => string) | undefined;
      if (pat.constant) {
        const p = pat.constant.value;
        if (typeof p !== 'string') throw new SelectError('EvaluatorInvalidTimestampFormatPattern', undefined, e.pos);
        format = compileTimestampPattern(p);
      }
      return {
        type: 'string',
        fn: (row) => {
          const v = f[0](row);
          if (v === null || v === undefined) return v;
          const fmt = format ?? compileTimestampPattern(str(name, f[1](row)));
          return fmt(ts(name, v));
        },
      };
    }
    default:
      throw new SelectError('UnsupportedFunction', `Unsupported function: ${name}`, e.pos);
  }
}
