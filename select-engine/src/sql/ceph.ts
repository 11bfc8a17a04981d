// The ceph dialect's syntax (Ceph RGW s3select, docs.ceph.com/en/latest/radosgw/s3select): what it adds to the
// AWS grammar is applied around the shared parser rather than inside it, so the AWS dialect stays as it is.
//  - "text" is a string literal (AWS reads it as a quoted name), `==` is `=`;
//  - a SELECT item's alias may be used in later (or earlier) items and in WHERE: `select int(_1) as a1,
//    a1 + 1 as a2 from s3object where a2 > 10`. Each use is replaced by the item's expression; a cycle is
//    refused with the message Ceph gives, and the expanded size is bounded (aliases of aliases can double it).
import type { IToken } from 'chevrotain';
import { SelectError } from '../errors.js';
import type * as A from './ast.js';
import * as T from './tokens.js';

/** Re-types the tokens the ceph dialect reads differently; drops the second `=` of `==`. */
export function cephTokens(tokens: IToken[]): IToken[] {
  const out: IToken[] = [];
  for (const tok of tokens) {
    if (tok.tokenType === T.QuotedIdentifier) {
      tok.tokenType = T.StringLiteral;
      tok.tokenTypeIdx = T.StringLiteral.tokenTypeIdx!;
    }
    const prev = out[out.length - 1];
    if (tok.tokenType === T.Equal && prev?.tokenType === T.Equal && prev.endOffset === tok.startOffset - 1) continue;
    out.push(tok);
  }
  return out;
}

/** Expanded SELECT and WHERE together may hold at most this many nodes (as many as a query's tokens). */
export const MAX_EXPANDED_NODES = T.MAX_SQL_TOKENS;

/** Rebuilds an expression with `f` applied to each direct sub-expression. */
function mapChildren(e: A.Expr, f: (x: A.Expr) => A.Expr): A.Expr {
  switch (e.kind) {
    case 'unary':
      return { ...e, operand: f(e.operand) };
    case 'binary':
      return { ...e, left: f(e.left), right: f(e.right) };
    case 'like':
      return { ...e, value: f(e.value), pattern: f(e.pattern), escape: e.escape && f(e.escape) };
    case 'between':
      return { ...e, value: f(e.value), low: f(e.low), high: f(e.high) };
    case 'in':
      return { ...e, value: f(e.value), list: e.list.map(f) };
    case 'is':
    case 'cast':
    case 'extract':
      return { ...e, value: f(e.value) };
    case 'case':
      return {
        ...e,
        operand: e.operand && f(e.operand),
        // biome-ignore lint/suspicious/noThenProperty: CASE's WHEN ... THEN, not a thenable
        whens: e.whens.map((w) => ({ when: f(w.when), then: f(w.then) })),
        else: e.else && f(e.else),
      };
    case 'aggregate':
      return e.arg === '*' ? e : { ...e, arg: f(e.arg) };
    case 'call':
      return { ...e, args: e.args.map(f) };
    case 'substring':
      return { ...e, value: f(e.value), start: f(e.start), length: e.length && f(e.length) };
    case 'trim':
      return { ...e, value: f(e.value), chars: e.chars && f(e.chars) };
    default:
      return e;
  }
}

/**
 * Replaces alias uses in the SELECT items (in place) and in WHERE (returned). A use is a bare unquoted name
 * equal to an item's alias; the FROM alias keeps its meaning.
 */
export function expandCephAliases(
  items: A.SelectItem[],
  where: A.Expr | undefined,
  rowAlias: A.Name,
  used: Set<string>,
) {
  const byName = new Map<string, number>();
  items.forEach((item, i) => {
    if (item.alias && !item.alias.quoted) byName.set(item.alias.name.toLowerCase(), i);
  });
  if (byName.size === 0) return where;
  const rowName = rowAlias.name.toLowerCase();
  const expanded: Array<{ expr: A.Expr; size: number } | undefined> = [];
  const active = new Set<number>();
  let budget = MAX_EXPANDED_NODES;
  const spend = (n: number, pos: A.Pos) => {
    budget -= n;
    if (budget < 0) {
      const message = `Expanding the SELECT aliases gives more than ${MAX_EXPANDED_NODES} operations`;
      throw new SelectError('MaxOperatorsExceeded', message, pos);
    }
  };
  // Returns the expanded expression and its node count. Recursion follows the parse tree (its depth is
  // bounded by the parser) and alias chains (at most one level per SELECT item: cycles are refused).
  const walk = (e: A.Expr): { expr: A.Expr; size: number } => {
    if (e.kind === 'path' && e.steps.length === 0 && !e.root.quoted && e.root.name.toLowerCase() !== rowName) {
      const i = byName.get(e.root.name.toLowerCase());
      if (i !== undefined) {
        used.add(e.root.name.toLowerCase());
        const x = item(i, e.pos);
        spend(x.size, e.pos);
        return x;
      }
    }
    spend(1, e.pos);
    let size = 1;
    const expr = mapChildren(e, (c) => {
      const x = walk(c);
      size += x.size;
      return x.expr;
    });
    return { expr, size };
  };
  const item = (i: number, pos: A.Pos) => {
    const done = expanded[i];
    if (done) return done;
    if (active.has(i)) {
      const message = 'number of calls exceed maximum size, probably a cyclic reference to alias';
      throw new SelectError('UnsupportedSyntax', `${message} ${items[i].alias!.name}`, pos);
    }
    active.add(i);
    const x = walk(items[i].expr);
    active.delete(i);
    expanded[i] = x;
    return x;
  };
  items.forEach((it, i) => {
    it.expr = item(i, it.pos).expr;
  });
  return where && walk(where).expr;
}

/** Ceph refuses an alias that is used and is also a column of the CSV header (s3-tests test_schema_definition). */
export function checkAliasesAgainstHeader(stmt: A.SelectStatement, header: string[]): void {
  for (const name of stmt.aliasesUsed ?? []) {
    if (!header.some((h) => h.toLowerCase() === name)) continue;
    const item = (stmt.select as A.SelectItem[]).find((i) => i.alias?.name.toLowerCase() === name)!;
    const message = `multiple definition of column {${item.alias!.name}} as schema-column and alias`;
    throw new SelectError('AmbiguousFieldName', message, item.pos);
  }
}
