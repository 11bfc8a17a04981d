// The one rule of NULL and MISSING for strict operators and functions: if an argument is MISSING the
// result is MISSING, else if one is NULL the result is NULL; only non-null values reach the operation.
// Every operator and function that follows the rule is built with `strict`; the few that do not
// (AND/OR, IS, IN, CASE, COALESCE, NULLIF, LIKE's ESCAPE) say so where they are compiled.
import type { Value } from './values.js';

type Row = unknown;
type Fn = (row: Row) => Value;
/** A value that is neither NULL nor MISSING. */
export type Present = Exclude<Value, null | undefined>;

/** `f` over the value of `a`, with NULL and MISSING passing through. */
export function strict1(a: Fn, f: (x: Present) => Value): Fn {
  return (row) => {
    const x = a(row);
    return x === null || x === undefined ? x : f(x);
  };
}

/** `f` over the values of `a` and `b` (both evaluated), MISSING before NULL. */
export function strict2(a: Fn, b: Fn, f: (x: Present, y: Present) => Value): Fn {
  return (row) => {
    const x = a(row);
    const y = b(row);
    if (x === undefined || y === undefined) return undefined;
    if (x === null || y === null) return null;
    return f(x, y);
  };
}

/** `f` over the values of `a`, `b` and `c` (all evaluated), MISSING before NULL. */
export function strict3(a: Fn, b: Fn, c: Fn, f: (x: Present, y: Present, z: Present) => Value): Fn {
  return (row) => {
    const x = a(row);
    const y = b(row);
    const z = c(row);
    if (x === undefined || y === undefined || z === undefined) return undefined;
    if (x === null || y === null || z === null) return null;
    return f(x, y, z);
  };
}
