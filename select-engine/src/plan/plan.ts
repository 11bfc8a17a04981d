// The logical plan of a query: scan (with the columns needed and the WHERE conjuncts usable for pruning),
// unnest (FROM paths into JSON), filter, project or aggregate, limit. Pushdown is explicit: the scanner is
// given the compiled filter only when it sees the same rows the WHERE clause sees, and reports whether it
// applied it; the executor re-applies anything not reported applied.
import { SelectError } from '../errors.js';
import type { SimplePredicate } from '../formats/types.js';
import { childrenOf } from '../sql/ast.js';
import type * as A from '../sql/ast.js';
import { parseTimestamp } from '../exec/timestamp.js';
import { isAlias, rowSteps } from './bind.js';

export type InputFormat = 'CSV' | 'JSON' | 'Parquet';

export interface Plan {
  stmt: A.SelectStatement;
  format: InputFormat;
  /** SELECT * (or a lone `alias.*`): rows are written as they are. */
  selectStar: boolean;
  aggregate: boolean;
  /** FROM steps applied to each scanned record (the leading [*] that iterates the object is dropped). */
  unnest: A.PathStep[];
  /** Columns the query reads (undefined = all). */
  columns?: Array<string | number>;
  /** Columns the WHERE clause reads (lets the CSV scanner decode only these before filtering). */
  filterColumns?: Array<string | number>;
  conjuncts: SimplePredicate[];
  /** True when the WHERE clause may be handed to the scanner (rows = scanned records). */
  pushFilter: boolean;
  limit?: number;
  /** Work of evaluating WHERE once, and the SELECT list once, in expression nodes (see ../pace.ts). */
  filterCost: number;
  rowCost: number;
}

function walk(e: A.Expr, visit: (e: A.Expr) => void): void {
  visit(e);
  for (const c of childrenOf(e)) walk(c, visit);
}

/** Nodes evaluated per row, at most (an upper bound: constant folding and set lookups only do less). */
export function exprCost(e: A.Expr): number {
  let n = 1;
  for (const c of childrenOf(e)) n += exprCost(c);
  return n;
}

export function isStarItem(item: A.SelectItem, alias: A.Name): boolean {
  const e = item.expr;
  return (
    e.kind === 'path' &&
    e.steps.length > 0 &&
    e.steps[e.steps.length - 1].kind === 'fieldWildcard' &&
    e.steps.length === 1 &&
    isAlias(e.root, alias)
  );
}

/** Columns needed: the first step of every path (undefined when a whole row is needed). */
function neededColumns(exprs: A.Expr[], alias: A.Name, format: InputFormat): Array<string | number> | undefined {
  const cols = new Set<string | number>();
  let whole = false;
  for (const e of exprs) {
    walk(e, (x) => {
      if (x.kind !== 'path') return;
      const steps = rowSteps(x, alias);
      const first = steps[0];
      if (first?.kind !== 'field') whole = true;
      else if (format === 'CSV' && /^_\d+$/.test(first.name.name)) cols.add(Number(first.name.name.slice(1)));
      else cols.add(first.name.name);
    });
  }
  return whole ? undefined : [...cols];
}

function literalValue(e: A.Expr): SimplePredicate['value'] | undefined {
  if (e.kind !== 'literal') return undefined;
  const l = e.literal;
  switch (l.type) {
    case 'int':
    case 'decimal':
    case 'string':
    case 'bool':
      return l.value;
    case 'timestamp': {
      const t = parseTimestamp(l.text);
      return t ? new Date(t.ms) : undefined;
    }
    default:
      return undefined;
  }
}

const FLIP: Record<string, SimplePredicate['op']> = {
  '=': '=',
  '<>': '<>',
  '<': '>',
  '<=': '>=',
  '>': '<',
  '>=': '<=',
};

/** The AND-ed leaves of WHERE of the form column op literal, BETWEEN literals or IS [NOT] NULL, for pruning. */
function conjunctsOf(where: A.Expr | undefined, alias: A.Name, format: InputFormat): SimplePredicate[] {
  const out: SimplePredicate[] = [];
  const column = (e: A.Expr): string | number | undefined => {
    if (e.kind !== 'path') return undefined;
    const steps = rowSteps(e, alias);
    if (steps.length === 0 || steps.some((s) => s.kind !== 'field')) return undefined;
    const names = steps.map((s) => (s as { name: A.Name }).name.name);
    if (format === 'CSV' && names.length === 1 && /^_\d+$/.test(names[0])) return Number(names[0].slice(1));
    return names.join('.');
  };
  const visit = (e: A.Expr): void => {
    if (e.kind === 'binary' && e.op === 'AND') {
      visit(e.left);
      visit(e.right);
      return;
    }
    if (e.kind === 'binary' && e.op in FLIP) {
      const lc = column(e.left);
      const rv = literalValue(e.right);
      if (lc !== undefined && rv !== undefined) out.push({ column: lc, op: e.op as SimplePredicate['op'], value: rv });
      const rc = column(e.right);
      const lv = literalValue(e.left);
      if (rc !== undefined && lv !== undefined) out.push({ column: rc, op: FLIP[e.op], value: lv });
      return;
    }
    // x BETWEEN a AND b holds only where x >= a and x <= b: both bounds can prune.
    if (e.kind === 'between' && !e.not) {
      const c = column(e.value);
      const low = literalValue(e.low);
      const high = literalValue(e.high);
      if (c !== undefined && low !== undefined) out.push({ column: c, op: '>=', value: low });
      if (c !== undefined && high !== undefined) out.push({ column: c, op: '<=', value: high });
      return;
    }
    if (e.kind === 'is' && e.test === 'NULL') {
      const c = column(e.value);
      if (c !== undefined) out.push({ column: c, op: e.not ? 'IS NOT NULL' : 'IS NULL' });
    }
  };
  if (where) visit(where);
  return out;
}

/**
 * A JSON FROM path without an alias names the row after its last step (AWS s3-select-sql-reference-select.html,
 * FROM clause: "SELECT price FROM S3Object[*].books[*].price"), or `_1` when it ends in a wildcard ("SELECT
 * _1.price FROM S3Object[*].books[*]"). `S3Object` still names the row too.
 */
function nameRowAfterPath(from: A.FromClause): void {
  const last = from.steps.at(-1);
  if (!from.implicitAlias || !last || last.kind === 'index') return;
  const name = last.kind === 'field' ? last.name : { name: '_1', quoted: false };
  from.alias = Object.assign({ ...name }, { other: { name: 'S3Object', quoted: false } });
}

/** The SELECT item an ORDER BY expression names by its alias (a bare name), if any. */
export function outputAlias(e: A.Expr, items: A.SelectItem[]): A.SelectItem | undefined {
  if (e.kind !== 'path' || e.steps.length > 0) return undefined;
  const n = e.root;
  return items.find(
    (i) =>
      i.alias &&
      (n.quoted || i.alias.quoted ? i.alias.name === n.name : i.alias.name.toLowerCase() === n.name.toLowerCase()),
  );
}

export function buildPlan(stmt: A.SelectStatement, format: InputFormat): Plan {
  if (format === 'JSON') nameRowAfterPath(stmt.from);
  const alias = stmt.from.alias;
  let unnest = stmt.from.steps;
  if (unnest[0]?.kind === 'wildcard') unnest = unnest.slice(1);
  if (unnest.length > 0 && format !== 'JSON')
    throw new SelectError('UnsupportedSqlStructure', 'FROM paths are supported for JSON input only', stmt.from.pos);

  const items = stmt.select === '*' ? [] : stmt.select;
  const selectStar = stmt.select === '*' || (items.length === 1 && isStarItem(items[0], alias));
  let aggregate = false;
  let plain = false;
  for (const item of items) {
    let hasAgg = false;
    walk(item.expr, (x) => {
      if (x.kind === 'aggregate') {
        if (x.arg !== '*')
          walk(x.arg, (y) => y.kind === 'aggregate' && fail('Aggregate functions cannot be nested', y.pos));
        hasAgg = true;
      }
    });
    if (hasAgg) aggregate = true;
    else if (!isStarItem(item, alias)) plain = true;
    else plain = true;
  }
  const grouped = stmt.groupBy !== undefined;
  // Under GROUP BY the compiler checks that what is not aggregated is grouped (exec/grouping.ts).
  if (aggregate && plain && !grouped)
    fail('Aggregate and non-aggregate expressions cannot be mixed in the SELECT list', items[0].pos);
  if (grouped && selectStar) fail('SELECT * cannot be grouped: name the grouped expressions', stmt.from.pos);
  if (grouped) aggregate = true;
  for (const o of stmt.orderBy ?? [])
    walk(o.expr, (x) => x.kind === 'aggregate' && !aggregate && fail('ORDER BY an aggregate needs GROUP BY', x.pos));

  // ORDER BY may name an output column by its alias: that reads no column of its own.
  const orderExprs = (stmt.orderBy ?? []).filter((o) => outputAlias(o.expr, items) === undefined).map((o) => o.expr);
  const extra = [...(stmt.groupBy ?? []), ...orderExprs];
  const exprs = items
    .map((i) => i.expr)
    .concat(stmt.where ? [stmt.where] : [])
    .concat(extra);
  const columns =
    selectStar || unnest.length > 0 || format === 'JSON' ? undefined : neededColumns(exprs, alias, format);
  const pushFilter = unnest.length === 0;
  const filterColumns =
    stmt.where && pushFilter && format !== 'JSON' ? neededColumns([stmt.where], alias, format) : undefined;
  return {
    stmt,
    format,
    selectStar,
    aggregate,
    unnest,
    columns,
    filterColumns,
    conjuncts: pushFilter ? conjunctsOf(stmt.where, alias, format) : [],
    pushFilter,
    limit: stmt.limit,
    filterCost: stmt.where ? exprCost(stmt.where) : 0,
    rowCost: items.reduce((sum, item) => sum + exprCost(item.expr), 1) + extra.reduce((n, e) => n + exprCost(e), 0),
  };
}

function fail(message: string, pos: A.Pos): never {
  throw new SelectError('UnsupportedSqlOperation', message, pos);
}
