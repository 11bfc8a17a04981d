// INT arithmetic, exact: AWS's INT is an 8-byte signed integer (AWS s3-select-sql-reference-data-types.html), and
// a result outside it is the IntegerOverflow error ("An integer overflow or underflow occurred in the SQL
// expression", AWS's S3 Select error codes). Values keep the engine's model (values.ts): an INT is a JS number
// while it is a safe integer, a bigint beyond 2^53; only results that leave the safe range are computed here.
import { SelectError } from '../errors.js';
import type { Value } from './values.js';

export const INT64_MAX = 9223372036854775807n;
export const INT64_MIN = -9223372036854775808n;

/** Whether a bigint fits AWS's 64-bit INT. */
export function inInt64(b: bigint): boolean {
  return b <= INT64_MAX && b >= INT64_MIN;
}

/** An exact integer as the engine holds it (a number when safe, else a bigint); IntegerOverflow past 64 bits. */
export function int64(b: bigint): number | bigint {
  if (!inInt64(b)) throw new SelectError('IntegerOverflow');
  const n = Number(b);
  return Number.isSafeInteger(n) ? n : b;
}

/**
 * The exact value of an INT operand: a bigint, or a number that is a safe integer. A number past 2^53 is not
 * taken for an INT (INT64 values that large arrive as bigint: a double that large is a FLOAT).
 */
export function exactInt(v: Value): bigint | undefined {
  if (typeof v === 'bigint') return v;
  return typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : undefined;
}

/**
 * `x op y` on 64-bit INTs (op one of + - * / %): division truncates toward zero and % takes the dividend's sign,
 * as the number path does; a zero divisor is EvaluatorInvalidArguments as there. A result past 64 bits is
 * IntegerOverflow, or undefined when `soft` (the caller then keeps its double: an operand may be a FLOAT).
 */
export function intArithmetic(op: string, x: bigint, y: bigint, soft: boolean): number | bigint | undefined {
  let r: bigint;
  switch (op) {
    case '+':
      r = x + y;
      break;
    case '-':
      r = x - y;
      break;
    case '*':
      r = x * y;
      break;
    default:
      if (y === 0n) throw new SelectError('EvaluatorInvalidArguments', 'Division by zero');
      r = op === '/' ? x / y : x % y;
  }
  return soft && !inInt64(r) ? undefined : int64(r);
}
