// LIKE, IN and CASE: compiled once, with constant patterns and lists prepared ahead of the rows. IN and CASE
// have their own rule for NULL and MISSING (a NULL in the list, a NULL operand); LIKE follows nulls.ts.
import { SelectError } from '../errors.js';
import type * as A from '../sql/ast.js';
import type { Compiled } from './compile.js';
import { compileLike } from './like.js';
import { strict1, strict2 } from './nulls.js';
import { equals, valueToText, type Value } from './values.js';

type Sub = (e: A.Expr) => Compiled;

export function likeExpr(e: Extract<A.Expr, { kind: 'like' }>, sub: Sub): Compiled {
  const v = sub(e.value).fn;
  const p = sub(e.pattern);
  const esc = e.escape ? sub(e.escape) : undefined;
  const not = e.not;
  const brackets = e.brackets === true;
  const escText = (x: Value): string | undefined => {
    if (x === undefined || x === null) return undefined;
    if (typeof x !== 'string') throw new SelectError('LikeInvalidInputs', 'ESCAPE must be a string');
    return x;
  };
  if (p.constant && (!esc || esc.constant)) {
    const pat = p.constant.value;
    // A NULL pattern is NULL for every value but a MISSING one (MISSING before NULL, as strict2 below).
    if (pat === null) return { type: 'bool', fn: (row) => (v(row) === undefined ? undefined : null) };
    if (pat === undefined) return { fn: () => undefined, type: 'bool', constant: { value: undefined } };
    if (typeof pat !== 'string') throw new SelectError('LikeInvalidInputs', 'LIKE pattern must be a string');
    const test = compileLike(pat, esc ? escText(esc.constant!.value) : undefined, brackets);
    return { type: 'bool', fn: strict1(v, (s) => test(valueToText(s)) !== not) };
  }
  // Pattern computed per row: cache the last compiled one. The escape is read first (a NULL or MISSING
  // escape is no escape); value and pattern follow the rule of nulls.
  let lastPat: string | undefined;
  let lastEsc: string | undefined;
  let lastTest = (_s: string) => false;
  let es: string | undefined;
  const matches = strict2(v, p.fn, (s, pat) => {
    if (typeof pat !== 'string') throw new SelectError('LikeInvalidInputs', 'LIKE pattern must be a string');
    if (pat !== lastPat || es !== lastEsc) {
      lastTest = compileLike(pat, es, brackets);
      lastPat = pat;
      lastEsc = es;
    }
    return lastTest(valueToText(s)) !== not;
  });
  return {
    type: 'bool',
    fn: (row) => {
      es = esc ? escText(esc.fn(row)) : undefined;
      return matches(row);
    },
  };
}

export function inExpr(e: Extract<A.Expr, { kind: 'in' }>, sub: Sub): Compiled {
  const v = sub(e.value).fn;
  const items = e.list.map((x) => sub(x));
  const not = e.not;
  // All-string constant list: a Set lookup (a value that is not text equals no text: values.ts compare).
  if (items.every((i) => i.constant && typeof i.constant.value === 'string')) {
    const set = new Set(items.map((i) => i.constant!.value as string));
    return {
      type: 'bool',
      fn: (row) => {
        const a = v(row);
        if (a === undefined || a === null) return a;
        return set.has(a as string) !== not;
      },
    };
  }
  const fns = items.map((i) => i.fn);
  return {
    type: 'bool',
    fn: (row) => {
      const a = v(row);
      if (a === undefined || a === null) return a;
      let sawNull = false;
      for (const f of fns) {
        const b = f(row);
        if (b === null || b === undefined) sawNull = true;
        else if (equals(a, b)) return !not;
      }
      return sawNull ? null : not;
    },
  };
}

export function caseExpr(e: Extract<A.Expr, { kind: 'case' }>, sub: Sub): Compiled {
  const operand = e.operand ? sub(e.operand).fn : undefined;
  const whens = e.whens.map((w) => sub(w.when).fn);
  const thens = e.whens.map((w) => sub(w.then).fn);
  const otherwise = e.else ? sub(e.else).fn : () => null;
  const n = whens.length;
  if (operand) {
    return {
      type: 'any',
      fn: (row) => {
        const x = operand(row);
        // A NULL or MISSING operand matches no WHEN; a value never equals a NULL or MISSING one (values.ts).
        if (x !== null && x !== undefined) {
          for (let i = 0; i < n; i++) if (equals(x, whens[i](row))) return thens[i](row);
        }
        return otherwise(row);
      },
    };
  }
  return {
    type: 'any',
    fn: (row) => {
      for (let i = 0; i < n; i++) if (whens[i](row) === true) return thens[i](row);
      return otherwise(row);
    },
  };
}
