// The leading conjuncts of WHERE that a scanner may evaluate itself (the Parquet scan runs them on Arrow
// arrays), in the order the evaluator meets them. The AND chain is cut at the first conjunct not of a form
// below: the evaluator runs a chain left to right and stops at the first false, so a scanner dropping a row
// where one of these leading conjuncts is false drops only rows the evaluator would reject without reaching
// anything after it (no error of a later conjunct is lost). Only the scanner knows the column types: it
// cuts the chain again at the first conjunct whose types differ (those raise errors, as in AWS). Expressible
// conjuncts after the cut still prune whole row groups by statistics, as the scanner always did: a row group
// where one of them is false for every row holds no match (an error an earlier conjunct would raise on a row
// of such a group is not raised).
// Forms: column op literal (either side), BETWEEN literals, IN (literals), IS [NOT] NULL, LIKE 'prefix%'.
import type * as A from '../sql/ast.js';
import type {
  CsvLineOp,
  CsvLineTest,
  JsonLineTest,
  ScanAggregate,
  ScanConjunct,
  ScanLiteral,
  ScanWhere,
} from '../formats/types.js';
import { Decimal } from '../exec/decimal.js';
import { parseTimestamp } from '../exec/timestamp.js';
import { rowSteps } from './bind.js';

const FLIP: Record<string, ScanConjunct['op']> = { '=': '=', '<>': '<>', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

/** The operands of an AND chain, left to right (the parser balances long chains into trees). */
function andChain(e: A.Expr, out: A.Expr[]): A.Expr[] {
  if (e.kind === 'binary' && e.op === 'AND') {
    andChain(e.left, out);
    andChain(e.right, out);
  } else out.push(e);
  return out;
}

function literalOf(e: A.Expr): ScanLiteral | undefined {
  if (e.kind !== 'literal') return undefined;
  const l = e.literal;
  switch (l.type) {
    case 'int':
      return { kind: 'int', text: String(l.value) };
    case 'decimal': {
      if (/[eE]/.test(l.text)) return { kind: 'float', number: l.value };
      const d = Decimal.parse(l.text);
      return d && { kind: 'decimal', text: String(d.unscaled), scale: d.scale };
    }
    case 'string':
      return { kind: 'string', text: l.value };
    case 'bool':
      return { kind: 'bool', flag: l.value };
    case 'timestamp': {
      const t = parseTimestamp(l.text);
      return t && { kind: 'timestamp', text: String(BigInt(t.ms) * 1_000_000n + BigInt(t.nanos % 1_000_000)) };
    }
    default:
      return undefined; // NULL and MISSING make a comparison unknown, not false
  }
}

/** `'abc%'` without other wildcards: the prefix. */
function likePrefix(pattern: string): string | undefined {
  if (!pattern.endsWith('%')) return undefined;
  const prefix = pattern.slice(0, -1);
  return /[%_]/.test(prefix) ? undefined : prefix;
}

function conjunctOf(e: A.Expr, alias: A.Name): ScanConjunct | undefined {
  const column = (x: A.Expr): ScanConjunct['column'] | undefined => {
    if (x.kind !== 'path') return undefined;
    const steps = rowSteps(x, alias);
    if (steps.length === 0 || steps.some((s) => s.kind !== 'field')) return undefined;
    const names = steps.map((s) => (s as { name: A.Name }).name);
    return { steps: names.map((n) => n.name), quoted: names.map((n) => n.quoted) };
  };
  switch (e.kind) {
    case 'binary': {
      if (!(e.op in FLIP)) return undefined;
      const [lc, rv] = [column(e.left), literalOf(e.right)];
      if (lc && rv) return { column: lc, op: e.op as ScanConjunct['op'], values: [rv] };
      const [rc, lv] = [column(e.right), literalOf(e.left)];
      if (rc && lv) return { column: rc, op: FLIP[e.op], values: [lv] };
      return undefined;
    }
    case 'between': {
      const [c, lo, hi] = [column(e.value), literalOf(e.low), literalOf(e.high)];
      return !e.not && c && lo && hi ? { column: c, op: 'BETWEEN', values: [lo, hi] } : undefined;
    }
    case 'in': {
      const c = column(e.value);
      const values = e.list.map(literalOf);
      if (e.not || !c || values.some((v) => v === undefined)) return undefined;
      return { column: c, op: 'IN', values: values as ScanLiteral[] };
    }
    case 'is': {
      const c = column(e.value);
      if (!c || e.test !== 'NULL') return undefined;
      return { column: c, op: e.not ? 'IS NOT NULL' : 'IS NULL', values: [] };
    }
    case 'like': {
      const c = column(e.value);
      const p =
        e.pattern.kind === 'literal' && e.pattern.literal.type === 'string' ? e.pattern.literal.value : undefined;
      const prefix = p === undefined ? undefined : likePrefix(p);
      if (e.not || e.escape || !c || prefix === undefined) return undefined;
      return { column: c, op: 'LIKE PREFIX', values: [{ kind: 'string', text: prefix }] };
    }
    default:
      return undefined;
  }
}

/** The leading expressible conjuncts of WHERE, and whether they are all of it. */
export function scanWhere(where: A.Expr | undefined, alias: A.Name): ScanWhere | undefined {
  if (!where) return undefined;
  const chain = andChain(where, []);
  const conjuncts: ScanConjunct[] = [];
  const later: ScanConjunct[] = [];
  let cut = false;
  for (const e of chain) {
    const c = conjunctOf(e, alias);
    if (!c) cut = true;
    else (cut ? later : conjuncts).push(c);
  }
  return { conjuncts, whole: conjuncts.length === chain.length, later };
}

/**
 * CSV: WHERE's first conjunct when the native line filter can judge it on the bytes (native/src/select_csv.rs):
 * `CAST(column AS INT) op integer`, `CAST(column AS FLOAT|DECIMAL) op number`, `column = 'text'` or
 * `column LIKE 'text%'` (text ASCII), the column and literal on either side. A line where it is certainly false
 * is one the evaluator rejects there, before anything after it.
 */
export function csvLineTest(where: A.Expr | undefined, alias: A.Name): CsvLineTest | undefined {
  if (!where) return undefined;
  const e = andChain(where, [])[0];
  const field = (x: A.Expr): A.Name | undefined => {
    if (x.kind !== 'path') return undefined;
    const steps = rowSteps(x, alias);
    return steps.length === 1 && steps[0].kind === 'field' ? steps[0].name : undefined;
  };
  const ascii = (s: string) => /^[\x00-\x7f]*$/.test(s);
  const text = (x: A.Expr) => (x.kind === 'literal' && x.literal.type === 'string' ? x.literal.value : undefined);
  if (e.kind === 'like') {
    const p = text(e.pattern);
    const prefix = p === undefined ? undefined : likePrefix(p);
    const column = field(e.value);
    if (e.not || e.escape || e.brackets || !column || prefix === undefined || !ascii(prefix)) return undefined;
    return { column, judge: { kind: 'prefix', text: prefix } };
  }
  if (e.kind !== 'binary' || !(e.op in FLIP)) return undefined;
  const side = (c: A.Expr, v: A.Expr, op: CsvLineOp): CsvLineTest | undefined => {
    const s = text(v);
    const name = field(c);
    if (name && s !== undefined)
      return op === '=' && ascii(s) ? { column: name, judge: { kind: 'equal', text: s } } : undefined;
    if (c.kind !== 'cast' || v.kind !== 'literal') return undefined;
    const column = field(c.value);
    const l = v.literal;
    const bound =
      l.type === 'int' && typeof l.value === 'number' ? l.value : l.type === 'decimal' ? l.value : undefined;
    if (!column || bound === undefined || !Number.isFinite(bound)) return undefined;
    if (c.to === 'INT')
      return l.type === 'int' && Number.isSafeInteger(bound)
        ? { column, judge: { kind: 'int', op, bound } }
        : undefined;
    if (c.to === 'FLOAT' || c.to === 'DECIMAL') return { column, judge: { kind: 'number', op, bound } };
    return undefined;
  };
  return side(e.left, e.right, e.op as CsvLineOp) ?? side(e.right, e.left, FLIP[e.op] as CsvLineOp);
}

/**
 * JSON LINES: WHERE's first conjunct when the native line filter can judge it on the bytes
 * (native/src/select_json.rs): a top-level field compared with a number, `= 'text'` or `LIKE 'text%'`, the field
 * and literal on either side. A line where it is certainly false is one the evaluator rejects there, before
 * anything after it.
 */
export function jsonLineTest(where: A.Expr | undefined, alias: A.Name): JsonLineTest | undefined {
  if (!where) return undefined;
  const e = andChain(where, [])[0];
  const field = (x: A.Expr): string | undefined => {
    if (x.kind !== 'path') return undefined;
    const steps = rowSteps(x, alias);
    return steps.length === 1 && steps[0].kind === 'field' ? steps[0].name.name : undefined;
  };
  if (e.kind === 'like') {
    const p = e.pattern.kind === 'literal' && e.pattern.literal.type === 'string' ? e.pattern.literal.value : undefined;
    const prefix = p === undefined ? undefined : likePrefix(p);
    const name = field(e.value);
    if (e.not || e.escape || e.brackets || name === undefined || prefix === undefined) return undefined;
    return { name, judge: { kind: 'prefix', text: prefix } };
  }
  if (e.kind !== 'binary' || !(e.op in FLIP)) return undefined;
  const side = (c: A.Expr, v: A.Expr, op: CsvLineOp): JsonLineTest | undefined => {
    const name = field(c);
    if (name === undefined || v.kind !== 'literal') return undefined;
    const l = v.literal;
    if (l.type === 'string') return op === '=' ? { name, judge: { kind: 'equal', text: l.value } } : undefined;
    const bound =
      l.type === 'int' && typeof l.value === 'number' ? l.value : l.type === 'decimal' ? l.value : undefined;
    return bound !== undefined && Number.isFinite(bound) ? { name, judge: { kind: 'number', op, bound } } : undefined;
  };
  return side(e.left, e.right, e.op as CsvLineOp) ?? side(e.right, e.left, FLIP[e.op] as CsvLineOp);
}

/**
 * The SELECT list as aggregates a scanner may compute (Parquet computes them on Arrow arrays), when every item
 * is one aggregate over a column (or COUNT(*)) and WHERE is absent or all expressible; else undefined.
 */
export function scanAggregates(stmt: A.SelectStatement, where: ScanWhere | undefined): ScanAggregate[] | undefined {
  if (stmt.select === '*' || (where && !where.whole)) return undefined;
  const out: ScanAggregate[] = [];
  for (const item of stmt.select) {
    const e = item.expr;
    if (e.kind !== 'aggregate') return undefined;
    if (e.arg === '*') {
      out.push({ func: 'COUNT' });
      continue;
    }
    if (e.arg.kind !== 'path') return undefined;
    const steps = rowSteps(e.arg, stmt.from.alias);
    if (steps.length === 0 || steps.some((s) => s.kind !== 'field')) return undefined;
    const names = steps.map((s) => (s as { name: A.Name }).name);
    out.push({ func: e.name, column: { steps: names.map((n) => n.name), quoted: names.map((n) => n.quoted) } });
  }
  return out;
}
