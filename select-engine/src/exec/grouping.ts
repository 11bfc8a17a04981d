// Beyond AWS (the `cairn` dialect): GROUP BY with the AWS aggregates. Each group keeps its key values and one
// accumulator per aggregate call; the SELECT list (and ORDER BY) is compiled against the group, not a row: an
// expression the query is grouped by reads the group's key, an aggregate reads the group's result, and any
// other column reference is refused when the query compiles (before anything streams). Groups are bounded in
// number and key text (ordering.ts); they are written in the order they first appeared.
import { SelectError } from '../errors.js';
import { rowSteps } from '../plan/bind.js';
import type * as A from '../sql/ast.js';
import { type Accumulator, makeAccumulator } from './aggregates.js';
import { type CompileContext, type Compiled, compileExpr, type Fn, type Row } from './compile.js';
import { groupKey, HeldBudget, heldKey } from './ordering.js';
import type { Value } from './values.js';

/** The shape of an expression, positions left out and paths written as steps from the row (s.a is a). */
export function exprShape(e: A.Expr, alias: A.Name): string {
  return JSON.stringify(e, function (this: unknown, key, v) {
    // Positions are left out; a path is replaced whole (with its `reserved` token) before its keys are read.
    if (key === 'pos') return undefined;
    // An integer literal past 2^53 is a bigint, which JSON.stringify refuses.
    if (typeof v === 'bigint') return `${v}n`;
    if (v && (v as A.Expr).kind === 'path') {
      return rowSteps(v as Extract<A.Expr, { kind: 'path' }>, alias).map((s) =>
        s.kind === 'field' ? (s.name.quoted ? `"${s.name.name}` : s.name.name.toLowerCase()) : s,
      );
    }
    return v;
  });
}

export interface Groups {
  /** Puts a row (that passed WHERE) into its group. */
  add(row: Row): void;
  /** Makes group i the current one (its keys and aggregate results are what the compiled items read). */
  select(i: number): void;
  count(): number;
}

/**
 * A context for the SELECT list and ORDER BY of a grouped query, and the groups it reads. `byExprs`: the GROUP
 * BY expressions (the parser gives at least one). `ctx` is the row context (GROUP BY expressions and aggregate
 * arguments are compiled against rows).
 */
export function groupedContext(
  stmt: A.SelectStatement,
  byExprs: A.Expr[],
  ctx: CompileContext,
): { groupCtx: CompileContext; groups: Groups } {
  const alias = stmt.from.alias;
  const keyFns: Fn[] = byExprs.map((e) => compileExpr(e, ctx).fn);
  const keyShapes = byExprs.map((e) => exprShape(e, alias));
  const factories: Array<() => Accumulator> = [];
  const current: { keys: Value[]; results: Value[] } = { keys: [], results: [] };

  const groupCtx: CompileContext = {
    nowMs: ctx.nowMs,
    binding: {
      path(e) {
        throw new SelectError(
          'UnsupportedSqlOperation',
          `${(e.steps.length ? e.steps.map((s) => (s.kind === 'field' ? s.name.name : '*')).join('.') : e.root.name).slice(0, 100)} must be an expression of GROUP BY or inside an aggregate function`,
          e.pos,
        );
      },
    },
    substitute(e): Compiled | undefined {
      // A literal stays a constant (LIKE, IN and TO_STRING precompile constants), even one GROUP BY lists.
      if (e.kind === 'literal') return undefined;
      const i = keyShapes.indexOf(exprShape(e, alias));
      return i < 0 ? undefined : { fn: () => current.keys[i], type: 'any' };
    },
    aggregate(e) {
      const k = factories.length;
      if (e.arg === '*') factories.push(() => makeAccumulator(e.name, '*'));
      else {
        const arg = compileExpr(e.arg, ctx);
        factories.push(() => makeAccumulator(e.name, arg.fn, arg.type));
      }
      return () => current.results[k];
    },
  };

  const index = new Map<string, number>();
  const keys: Value[][] = [];
  const accs: Accumulator[][] = [];
  const budget = new HeldBudget('GROUP BY');
  const groups: Groups = {
    add(row) {
      const values = keyFns.map((f) => f(row));
      const text = groupKey(values);
      const key = heldKey(text);
      let g = index.get(key);
      if (g === undefined) {
        budget.take(text.length);
        g = keys.length;
        index.set(key, g);
        keys.push(values);
        accs.push(factories.map((f) => f()));
      }
      const a = accs[g];
      for (let k = 0; k < a.length; k++) a[k].add(row);
    },
    select(i) {
      current.keys = keys[i];
      current.results = accs[i].map((a) => a.result());
    },
    count: () => keys.length,
  };
  return { groupCtx, groups };
}
