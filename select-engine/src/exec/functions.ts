// S3 Select's scalar functions, each declared once in FUNCTIONS: its parameters (how an argument's SQL
// value is read, hence the TS type the implementation takes), its result type and its implementation.
// `defineFunction` checks the implementation against the declaration at compile time (a parameter or a
// result of the wrong type does not build), the parser takes names and arities from here, and
// `compileFunction` compiles a call: NULL and MISSING propagate by the one rule of nulls.ts unless the
// function is declared `nonStrict` (COALESCE, NULLIF). EXTRACT, SUBSTRING and TRIM have their own syntax
// (parsed into their own AST nodes) and are compiled through here too.
// To add a function: declare it in FUNCTIONS (and, if it has its own syntax, map its node in compile.ts).
import { SelectError } from '../errors.js';
import type * as A from '../sql/ast.js';
import type { Compiled, Fn } from './compile.js';
import { compileTimestampPattern } from './format-pattern.js';
import { strict1, strict2, strict3, type Present } from './nulls.js';
import { type CountedPart, dateAdd, dateDiff, extract, parseTimestamp, utcNow } from './timestamp.js';
import { caster, equals, toNumber, Timestamp, type Value } from './values.js';

/** How a parameter reads its argument's (non-null) value, for the function `fn` (error messages). */
interface Param<T> {
  read(fn: string, v: Present): T;
  /** Read when the query is compiled, from a keyword or a literal (date parts, TRIM's side). */
  fixed?: boolean;
  /** A constant argument is read once, when the query is compiled, with this (its errors come first). */
  readConstant?(fn: string, v: Value, pos: A.Pos): T;
  /** May be left out (only at the end). */
  optional?: boolean;
}

function badArg(name: string, v: Value): never {
  throw new SelectError(
    'IncorrectSqlFunctionArgumentType',
    `${name.toUpperCase()} does not accept an argument of type ${v instanceof Timestamp ? 'TIMESTAMP' : typeof v}`,
  );
}

const STRING: Param<string> = { read: (fn, v) => (typeof v === 'string' ? v : badArg(fn, v)) };

const INT: Param<number> = {
  read(fn, v) {
    const n = toNumber(v);
    return Number.isFinite(n) ? Math.trunc(n) : badArg(fn, v);
  },
};

/** A timestamp, or text that parses as one. */
const TIMESTAMP: Param<Timestamp> = {
  read(fn, v) {
    if (v instanceof Timestamp) return v;
    if (typeof v === 'string') {
      const t = parseTimestamp(v);
      if (t) return t;
    }
    return badArg(fn, v);
  },
};

/** Any value, as it is (the implementation checks it). */
const ANY: Param<Present> = { read: (_fn, v) => v };

/** A date part keyword (EXTRACT, DATE_DIFF). */
const DATE_PART: Param<A.DatePart> = { fixed: true, read: (_fn, v) => v as A.DatePart };

/** A date part DATE_ADD and DATE_DIFF can count in (not the offset parts). */
const COUNTED_PART: Param<CountedPart> = {
  fixed: true,
  read: (_fn, v) => v as CountedPart,
  readConstant(fn, v, pos) {
    if (v === 'timezone_hour' || v === 'timezone_minute') {
      throw new SelectError('EvaluatorInvalidArguments', `${fn.toUpperCase()} does not accept ${v}`, pos);
    }
    return v as CountedPart;
  },
};

type TrimSide = 'LEADING' | 'TRAILING' | 'BOTH';
const TRIM_SIDE: Param<TrimSide> = { fixed: true, read: (_fn, v) => v as TrimSide };

/** A TO_STRING pattern, compiled; a constant one when the query is compiled. */
const PATTERN: Param<(t: Timestamp) => string> = {
  read: (fn, v) => compileTimestampPattern(STRING.read(fn, v)),
  readConstant(_fn, v, pos) {
    // A constant that is not text (NULL included) can never be a pattern.
    if (typeof v !== 'string') throw new SelectError('EvaluatorInvalidTimestampFormatPattern', undefined, pos);
    return compileTimestampPattern(v);
  },
};

/** The parameter kinds, for declarations outside this file (tests). */
export const PARAMS = { STRING, INT, TIMESTAMP, ANY } as const;

export function optional<T>(p: Param<T>): Param<T | undefined> {
  return { ...p, optional: true };
}

/** The TS type of each result type a function can declare. */
interface ResultTypes {
  int: number | bigint;
  float: number;
  string: string;
  timestamp: Timestamp;
  any: Value;
}
type ArgsOf<P extends readonly Param<unknown>[]> = { [K in keyof P]: P[K] extends Param<infer T> ? T : never };

/** What compiling a call needs besides its arguments. */
export interface FunctionContext {
  /** Query start time (UTCNOW). */
  nowMs: number;
  /** Position of the call (compile-time errors). */
  pos: A.Pos;
}

/** An argument as written: an expression, or a keyword fixed at compile time (date part, TRIM's side). */
export type ArgumentNode = A.Expr | { kind: 'keyword'; value: string };

export interface SqlFunction {
  /** Arity bounds (the parser checks them). */
  min: number;
  max: number;
  compile(name: string, args: ArgumentNode[], sub: (e: A.Expr) => Compiled, ctx: FunctionContext): Compiled;
}

/**
 * A strict function: `impl` gets each argument read by its parameter, and never sees NULL or MISSING.
 * Its parameters and result type are checked against `impl`'s signature.
 */
export function defineFunction<const P extends readonly Param<unknown>[], R extends keyof ResultTypes>(
  result: R,
  params: P,
  impl: (...args: ArgsOf<P>) => ResultTypes[R],
): SqlFunction {
  return {
    min: params.filter((p) => !p.optional).length,
    max: params.length,
    compile(name, args, sub, ctx) {
      // Keywords and constants a parameter reads at compile time are read now, the rest per row.
      const given: unknown[] = [];
      const perRow: { index: number; fn: Fn; param: Param<unknown> }[] = [];
      args.forEach((a, index) => {
        const param: Param<unknown> = params[index];
        if (a.kind === 'keyword') {
          given[index] = param.readConstant ? param.readConstant(name, a.value, ctx.pos) : param.read(name, a.value);
          return;
        }
        const c = sub(a);
        if (param.readConstant && c.constant) given[index] = param.readConstant(name, c.constant.value, ctx.pos);
        else perRow.push({ index, fn: c.fn, param });
      });
      given.length = args.length;
      const call = impl as (...args: unknown[]) => Value;
      if (perRow.length === 0) {
        const value = call(...given);
        return { type: result, fn: () => value, constant: { value } };
      }
      // One argument buffer per compiled call, filled per row (a call is never re-entered within a row).
      const buf = given.slice();
      const apply = (k: number, v: Present) => (buf[perRow[k].index] = perRow[k].param.read(name, v));
      const [a, b, c] = perRow;
      if (perRow.length === 1) {
        if (args.length === 1) return { type: result, fn: strict1(a.fn, (x) => call(a.param.read(name, x))) };
        return { type: result, fn: strict1(a.fn, (x) => (apply(0, x), call.apply(undefined, buf))) };
      }
      if (perRow.length === 2) {
        const both = (x: Present, y: Present) => (apply(0, x), apply(1, y), call.apply(undefined, buf));
        return { type: result, fn: strict2(a.fn, b.fn, both) };
      }
      return {
        type: result,
        fn: strict3(a.fn, b.fn, c.fn, (x, y, z) => (apply(0, x), apply(1, y), apply(2, z), call.apply(undefined, buf))),
      };
    },
  };
}

/** A function with its own rule for NULL and MISSING: it compiles its call itself. */
function nonStrict(
  min: number,
  max: number,
  compile: (args: Compiled[], ctx: FunctionContext) => Compiled,
): SqlFunction {
  return {
    min,
    max,
    compile: (_name, args, sub, ctx) =>
      compile(
        args.map((a) => sub(a as A.Expr)),
        ctx,
      ),
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
  const to = length === undefined ? len : from + length;
  if (length !== undefined && length < 0) {
    throw new SelectError('EvaluatorInvalidArguments', 'SUBSTRING length must not be negative');
  }
  if (from < 0) from = 0;
  if (to <= from) return ''; // slice() takes a `to` past the end as the end
  return cps ? cps.slice(from, to).join('') : s.slice(from, to);
}

function trim(where: TrimSide, s: string, chars?: string): string {
  if (chars === undefined) return trimSpaces(s, where);
  const set = new Set(Array.from(chars));
  const cps = Array.from(s);
  let a = 0;
  let b = cps.length;
  // Past either end cps[i] is undefined, never in the set, so the loops stop there; when the leading loop took
  // everything, the trailing one may pass `a`, and slice() of an end before its start is empty.
  if (where !== 'TRAILING') while (set.has(cps[a])) a++;
  if (where !== 'LEADING') while (set.has(cps[b - 1])) b--;
  return cps.slice(a, b).join('');
}

function trimSpaces(s: string, where: TrimSide): string {
  let a = 0;
  let b = s.length;
  // As in trim(): past either end charCodeAt() is NaN, not a space.
  if (where !== 'TRAILING') while (s.charCodeAt(a) === 32) a++;
  if (where !== 'LEADING') while (s.charCodeAt(b - 1) === 32) b--;
  return s.slice(a, b);
}

function toTimestamp(v: Present): Timestamp {
  if (v instanceof Timestamp) return v;
  const t = parseTimestamp(STRING.read('to_timestamp', v));
  if (!t) throw new SelectError('ValueParseFailure', `Cannot parse '${String(v).slice(0, 40)}' as a timestamp`);
  return t;
}

/** Every scalar function, by lower-case name. */
export const FUNCTIONS: Readonly<Record<string, SqlFunction>> = {
  char_length: defineFunction('int', [STRING], codePointLength),
  character_length: defineFunction('int', [STRING], codePointLength),
  lower: defineFunction('string', [STRING], (s) => s.toLowerCase()),
  upper: defineFunction('string', [STRING], (s) => s.toUpperCase()),
  substring: defineFunction('string', [STRING, INT, optional(INT)], substring),
  trim: defineFunction('string', [TRIM_SIDE, STRING, optional(STRING)], trim),
  extract: defineFunction('int', [DATE_PART, TIMESTAMP], extract),
  date_add: defineFunction('timestamp', [COUNTED_PART, INT, TIMESTAMP], dateAdd),
  date_diff: defineFunction('int', [COUNTED_PART, TIMESTAMP, TIMESTAMP], dateDiff),
  to_string: defineFunction('string', [TIMESTAMP, PATTERN], (t, format) => format(t)),
  to_timestamp: defineFunction('timestamp', [ANY], toTimestamp),
  utcnow: nonStrict(0, 0, (_args, ctx) => {
    const now = utcNow(ctx.nowMs);
    return { type: 'timestamp', fn: () => now, constant: { value: now } };
  }),
  coalesce: nonStrict(1, Infinity, (args) => {
    // The first argument that is neither NULL nor MISSING; the later ones are not evaluated.
    const f = args.map((a) => a.fn);
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
  }),
  nullif: nonStrict(2, 2, ([a, b]) => ({
    type: a.type,
    fn: (row) => {
      const x = a.fn(row);
      const y = b.fn(row);
      if (x == null) return null; // NULLIF(MISSING, x) is NULL (AWS reference)
      if (equals(x, y)) return null; // a value equals no NULL or MISSING: NULLIF(1, NULL) is 1
      return x;
    },
  })),
};

/** Ceph's compact ISO 8601 form (basic format), which its TO_TIMESTAMP reads besides the AWS forms. */
const CEPH_BASIC_TIMESTAMP = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(Z|[+-]\d{2}:?\d{2})?$/;

function cephToTimestamp(v: Present): Timestamp {
  const m = typeof v === 'string' ? CEPH_BASIC_TIMESTAMP.exec(v.trim()) : null;
  if (!m) return toTimestamp(v);
  const [, y, mo, d, h, mi, s, zone] = m;
  return toTimestamp(`${y}-${mo}-${d}T${h}:${mi}:${s}${zone ?? 'Z'}`);
}

/** Ceph s3select's `version()`. */
export const CEPH_S3SELECT_VERSION = '41.a';

/**
 * The ceph dialect's own functions, and those it reads differently (docs.ceph.com, radosgw/s3select):
 * INT(x) and FLOAT(x) are CAST(x AS INT) and CAST(x AS FLOAT); TO_TIMESTAMP also reads 20210101T103000Z.
 */
export const CEPH_FUNCTIONS: Readonly<Record<string, SqlFunction>> = {
  // Typed as CAST types them (compile.ts), so float(7) / 2 is 3.5; a cast to INT gives an INT, to FLOAT a FLOAT.
  int: defineFunction('int', [ANY], caster('INT') as (v: Value) => number | bigint),
  float: defineFunction('float', [ANY], caster('FLOAT') as (v: Value) => number),
  to_timestamp: defineFunction('timestamp', [ANY], cephToTimestamp),
  // The version of Ceph's s3select engine whose behaviour the dialect follows (s3select_functions.h
  // s3select_ver; s3-tests test_version expects it).
  version: defineFunction('string', [], () => CEPH_S3SELECT_VERSION),
};

function registry(dialect?: 'ceph'): Readonly<Record<string, SqlFunction>> {
  return dialect === 'ceph' ? CEPH_FUNCTIONS : FUNCTIONS;
}

/**
 * Names the parser knows as functions (EXTRACT, SUBSTRING and TRIM are parsed by their own syntax); with
 * `ceph`, only the ceph dialect's additions.
 */
export function functionArity(name: string, dialect?: 'ceph'): [number, number] | undefined {
  const table = registry(dialect);
  const f = Object.hasOwn(table, name) ? table[name] : undefined;
  return f ? [f.min, f.max] : undefined;
}

/** Compiles a call of a declared function (the parser has checked the name and the arity). */
export function compileFunction(
  name: string,
  args: ArgumentNode[],
  sub: (e: A.Expr) => Compiled,
  ctx: FunctionContext,
  dialect?: 'ceph',
): Compiled {
  const table = registry(dialect);
  const f = Object.hasOwn(table, name) ? table[name] : undefined;
  if (!f) throw new SelectError('UnsupportedFunction', `Unsupported function: ${name}`, ctx.pos);
  return f.compile(name, args, sub, ctx);
}
