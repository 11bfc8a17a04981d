// The value model. Values are plain JS values so that rows need no wrapping:
//   undefined = MISSING, null = NULL, boolean, number (INT when integral, else FLOAT), Decimal (exact DECIMAL),
//   bigint (ints beyond 2^53), string, Timestamp, and objects / arrays from JSON and Parquet.
// CSV fields arrive as strings and stay strings until CAST, as in AWS: text is never read as a number.
import { SelectError } from '../errors.js';
import type { CastType } from '../sql/ast.js';
import { Decimal } from './decimal.js';
import { int64 } from './int64.js';
import { parseTimestamp, Timestamp } from './timestamp.js';

export type Value = undefined | null | boolean | number | bigint | string | Decimal | Timestamp | object;

export { Decimal, Timestamp };

/** A value as an exact decimal when it is one (Decimal, integer, bigint); else undefined. */
export function asDecimal(v: Value): Decimal | undefined {
  if (v instanceof Decimal) return v;
  if (typeof v === 'number') return Number.isSafeInteger(v) ? Decimal.fromInt(v) : undefined;
  if (typeof v === 'bigint') return Decimal.fromInt(v);
  return undefined;
}

/** A string read as a number, or NaN. The empty (or blank) string is not a number. */
export function numberFromString(s: string): number {
  const n = +s;
  if (n === 0 && s.trim() === '') return NaN;
  return n;
}

/**
 * Number view of a numeric value (INT, FLOAT, DECIMAL) for arithmetic; NaN for any other value, text included:
 * AWS converts nothing implicitly ("If CAST is not defined, then all input data is treated as a string",
 * S3 Select SQL reference, Data types), so a CSV field takes part in arithmetic only through CAST.
 */
export function toNumber(v: Value): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Decimal) return v.toNumber();
  return NaN;
}

/** The kinds of value that compare with each other: text, numbers (INT, FLOAT, DECIMAL), timestamps, booleans. */
function kindOf(v: Value): 'text' | 'number' | 'timestamp' | 'bool' | 'other' {
  switch (typeof v) {
    case 'string':
      return 'text';
    case 'number':
    case 'bigint':
      return 'number';
    case 'boolean':
      return 'bool';
    default:
      if (v instanceof Decimal) return 'number';
      if (v instanceof Timestamp) return 'timestamp';
      return 'other';
  }
}

/**
 * Compares two non-null values of the same kind: <0, 0, >0, or NaN when a FLOAT is NaN; undefined when their
 * kinds differ (text with a number, a timestamp with text, ...), which AWS does not convert: a CSV field compared
 * with a number fails the query (ExternalEvalException) and is never equal to it (see compile.ts).
 */
export function compare(a: Value, b: Value): number | undefined {
  const ta = typeof a;
  const tb = typeof b;
  if (ta === 'string' && tb === 'string') return a === b ? 0 : (a as string) < (b as string) ? -1 : 1;
  if (ta === 'number' && tb === 'number') return (a as number) - (b as number);
  const kind = kindOf(a);
  if (kind !== kindOf(b) || kind === 'other') return undefined;
  switch (kind) {
    case 'number': {
      if (a instanceof Decimal || b instanceof Decimal) {
        const x = asDecimal(a);
        const y = asDecimal(b);
        return x && y ? x.compare(y) : toNumber(a) - toNumber(b);
      }
      if (ta === 'bigint' || tb === 'bigint') {
        // INT64 beyond 2^53 arrives as bigint: against an integer it compares exactly, not as doubles.
        const int = (v: Value) => (typeof v === 'bigint' ? v : Number.isInteger(v) ? BigInt(v as number) : undefined);
        const [x, y] = [int(a), int(b)];
        if (x !== undefined && y !== undefined) return x < y ? -1 : x > y ? 1 : 0;
      }
      return toNumber(a) - toNumber(b);
    }
    case 'timestamp':
      return (a as Timestamp).compare(b as Timestamp);
    default:
      return Number(a) - Number(b); // booleans: false < true
  }
}

/** SQL equality of two non-null values: false when their kinds differ ('1' = 1 is false). */
export function equals(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (typeof a === 'object' && typeof b === 'object' && isPlainData(a) && isPlainData(b)) {
    return JSON.stringify(a, jsonReplacer) === JSON.stringify(b, jsonReplacer);
  }
  return compare(a, b) === 0;
}

function isPlainData(v: object | null): boolean {
  return !(v instanceof Timestamp || v instanceof Decimal);
}

function castFailed(v: Value, to: string): never {
  throw new SelectError('CastFailed', `Cannot cast ${describe(v)} to ${to}`);
}

function describe(v: Value): string {
  const s = typeof v === 'string' ? `'${v}'` : String(v);
  return s.length > 40 ? `${s.slice(0, 40)}...` : s;
}

function castToInt(v: Value): Value {
  if (v instanceof Decimal) return int64(v.toBigInt());
  switch (typeof v) {
    case 'number': {
      if (!Number.isFinite(v)) castFailed(v, 'INT');
      // A double past 2^53 becomes the INT it holds exactly (a bigint), or IntegerOverflow past 64 bits.
      const t = Math.trunc(v);
      return Number.isSafeInteger(t) ? t : int64(BigInt(t));
    }
    case 'string': {
      const n = +v;
      if (Number.isSafeInteger(n) && (n !== 0 || v.trim() !== '')) return n; // the common case: digits
      if (!Number.isFinite(n) || v.trim() === '') castFailed(v, 'INT');
      const t = Math.trunc(n);
      if (!Number.isSafeInteger(t) && /^\s*[+-]?\d+\s*$/.test(v)) {
        return int64(BigInt(v)); // BigInt() takes the spaces around the digits, as \s has them
      }
      return Number.isSafeInteger(t) ? t : int64(BigInt(t));
    }
    case 'boolean':
      return v ? 1 : 0;
    case 'bigint':
      return v;
    default:
      return castFailed(v, 'INT');
  }
}

function castToDecimal(v: Value): Value {
  switch (typeof v) {
    case 'number':
      if (!Number.isFinite(v)) castFailed(v, 'DECIMAL');
      return Decimal.fromNumber(v);
    case 'string':
      return Decimal.parse(v) ?? castFailed(v, 'DECIMAL');
    case 'bigint':
      return Decimal.fromInt(v);
    case 'boolean':
      return Decimal.fromInt(v ? 1 : 0);
    default:
      return v instanceof Decimal ? v : castFailed(v, 'DECIMAL');
  }
}

function castToFloat(v: Value, to: string): Value {
  if (v instanceof Decimal) return v.toNumber();
  switch (typeof v) {
    case 'number':
      return v;
    case 'string': {
      const n = numberFromString(v);
      if (Number.isNaN(n) && v.trim().toLowerCase() !== 'nan') castFailed(v, to);
      return n;
    }
    case 'boolean':
    case 'bigint':
      return Number(v);
    default:
      return castFailed(v, to);
  }
}

function castToBool(v: Value): Value {
  if (v instanceof Decimal) return !v.isZero();
  switch (typeof v) {
    case 'boolean':
      return v;
    case 'string': {
      const s = v.trim().toLowerCase();
      if (s === 'true') return true;
      if (s === 'false') return false;
      return castFailed(v, 'BOOL');
    }
    case 'number':
      return v !== 0;
    case 'bigint':
      return v !== 0n;
    default:
      return castFailed(v, 'BOOL');
  }
}

function castToTimestamp(v: Value): Value {
  if (v instanceof Timestamp) return v;
  if (typeof v === 'string') return parseTimestamp(v) ?? castFailed(v, 'TIMESTAMP');
  return castFailed(v, 'TIMESTAMP');
}

/** The CAST of a value that is neither NULL nor MISSING to one target type, chosen once. */
export function caster(to: CastType): (v: Value) => Value {
  let f: (v: Value) => Value;
  switch (to) {
    case 'INT':
      f = castToInt;
      break;
    case 'FLOAT':
      f = (v) => castToFloat(v, to);
      break;
    case 'DECIMAL':
      f = castToDecimal;
      break;
    case 'STRING':
      f = (v) => (typeof v === 'string' ? v : valueToText(v));
      break;
    case 'BOOL':
      f = castToBool;
      break;
    case 'TIMESTAMP':
      f = castToTimestamp;
      break;
  }
  return f;
}

/** Text of a scalar value as CSV output and CAST AS STRING write it. */
export function valueToText(v: Value): string {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
      return Number.isFinite(v) ? String(v) : Number.isNaN(v) ? 'nan' : v > 0 ? '+inf' : '-inf';
    case 'boolean':
    case 'bigint':
      return String(v);
    case 'undefined':
      return '';
    default:
      if (v === null) return '';
      if (v instanceof Decimal || v instanceof Timestamp) return v.toString();
      return stringifyObject(v);
  }
}

const rawJson = (JSON as unknown as { rawJSON?: (text: string) => unknown }).rawJSON;

/**
 * JSON.stringify replacer for values the engine may hold inside objects: a bigint keeps its digits (JSON.rawJSON,
 * Node 22+; else the nearest double). Decimal has its toJSON.
 */
export function jsonReplacer(this: unknown, _key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return rawJson ? rawJson(String(v)) : Number(v);
  return v;
}

/** JSON text of a value for JSON output (MISSING is the caller's business). */
export function valueToJson(v: Value): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null';
    case 'boolean':
    case 'bigint':
      return String(v);
    default:
      if (v === null || v === undefined) return 'null';
      if (v instanceof Decimal) return v.toString();
      if (v instanceof Timestamp) return JSON.stringify(v.toString());
      return stringifyObject(v);
  }
}

/** JSON.stringify without a replacer keeps V8's fast path; only values holding a bigint need the replacer. */
function stringifyObject(v: object): string {
  try {
    return JSON.stringify(v);
  } catch (e) {
    if (e instanceof TypeError) return JSON.stringify(v, jsonReplacer);
    throw e;
  }
}
