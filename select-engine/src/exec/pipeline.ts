// The query compiled for one scan: unnest (FROM paths), filter (WHERE, unless the scanner applied it),
// projection or aggregation, and LIMIT; then run over the scanner's batches, yielding output text per batch.
import { SelectError } from '../errors.js';
import type { ScanRecord } from '../formats/types.js';
import type { RecordShape } from '../plan/bind.js';
import { makeBinding, rowSteps } from '../plan/bind.js';
import { checkAliasesAgainstHeader } from '../sql/ceph.js';
import { outputAlias, type Plan } from '../plan/plan.js';
import type * as A from '../sql/ast.js';
import type { OutputColumn, Projection, RowWriter } from '../output/projection.js';
import { makeAccumulator, type Accumulator } from './aggregates.js';
import { exprShape, groupedContext, type Groups } from './grouping.js';
import { Distinct, groupKey, TopK } from './ordering.js';
import { compileExpr, type CompileContext, type Fn, type Row } from './compile.js';
import type { Value } from './values.js';
import { type Pacer, rowsPerCheck } from '../pace.js';

export interface CompiledQuery {
  /** WHERE as a predicate over rows (undefined when there is none). */
  filter?: (row: Row) => boolean;
  /** Expands a scanned record into the rows the FROM path names (undefined: the record is the row). */
  unnest?: (rec: ScanRecord, out: Row[]) => void;
  write: RowWriter;
  /** Aggregate queries: the accumulators fed by every row, and the single output row. */
  aggregate?: { accumulators: Accumulator[]; finish(): string };
  /** GROUP BY: the groups fed by every row; then one output row per group (ORDER BY keys read the group too). */
  groups?: Groups;
  /** ORDER BY: the sort keys of an output row (read from the row, or the current group) and their directions. */
  order?: { keys: Fn[]; desc: boolean[] };
  distinct: boolean;
  /**
   * DISTINCT over output columns: the row's key (groupKey of its output values). It computes the values the writer
   * then reads: called for a row before `write`. Undefined for SELECT *: its rows are keyed by their line.
   */
  distinctKey?: (row: Row) => string;
  limit: number;
}

/** AWS limit on one output record (bytes). */
const MAX_OUTPUT_RECORD = 1024 * 1024;

export type WriterFactory = (p: Projection) => RowWriter;

function outputName(item: A.SelectItem, index: number, alias: A.Name): string {
  if (item.alias) return item.alias.name;
  if (item.expr.kind === 'path') {
    const steps = rowSteps(item.expr, alias);
    const last = steps[steps.length - 1];
    if (last?.kind === 'field') return last.name.name;
    // The row itself, named after its FROM path (SELECT id FROM S3Object[*].Rules[*].id writes {"id":...}).
    if (steps.length === 0 && alias.other && alias.name !== '_1') return alias.name;
  }
  return `_${index + 1}`;
}

/**
 * DISTINCT keys an output row by its values as GROUP BY keys a group (`2021T` and `2021-01-01T` are one row, as
 * they are one group), not by its text. The columns' values are computed once a row: by the key, and the
 * writer's columns read what it computed.
 */
function distinctColumns(columns: OutputColumn[]): { columns: OutputColumn[]; distinctKey: (row: Row) => string } {
  const values: Value[] = new Array(columns.length);
  const distinctKey = (row: Row): string => {
    for (let i = 0; i < columns.length; i++) values[i] = columns[i].fn(row);
    return groupKey(values);
  };
  return { columns: columns.map((c, i) => ({ ...c, fn: () => values[i] })), distinctKey };
}

/** Rows of a FROM path: field and index steps descend, [*] and .* fan out; a dead end yields MISSING. */
function compileUnnest(steps: A.PathStep[]): (rec: ScanRecord, out: Row[]) => void {
  const step = (v: Value, i: number, out: Row[]): void => {
    if (i === steps.length) {
      out.push(v);
      return;
    }
    const s = steps[i];
    if (s.kind === 'wildcard') {
      if (Array.isArray(v) && v.length > 0) for (const x of v) step(x as Value, i + 1, out);
      else out.push(undefined);
    } else if (s.kind === 'fieldWildcard') {
      if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0)
        for (const x of Object.values(v)) step(x as Value, i + 1, out);
      else out.push(undefined);
    } else if (s.kind === 'index') {
      step(Array.isArray(v) ? (v[s.index] as Value) : undefined, i + 1, out);
    } else {
      // null is an object too: o is then null, which `?.` and `&& o` treat as undefined.
      const o = typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, Value> | null) : undefined;
      let x: Value = o?.[s.name.name];
      if (x === undefined && o && !s.name.quoted) {
        const lower = s.name.name.toLowerCase();
        for (const k in o) if (k.toLowerCase() === lower) x = o[k];
      }
      step(x, i + 1, out);
    }
  };
  return (rec, out) => step(rec as Value, 0, out);
}

export function compileQuery(plan: Plan, shape: RecordShape, writer: WriterFactory, nowMs: number): CompiledQuery {
  const stmt = plan.stmt;
  const alias = stmt.from.alias;
  // The ceph dialect reads an empty CSV field as NULL (Ceph's s3select; s3-tests test_csv_parser).
  const bound = stmt.dialect === 'ceph' && shape.kind === 'csv' ? { ...shape, ceph: true } : shape;
  if (stmt.dialect === 'ceph' && shape.kind === 'csv' && shape.header) checkAliasesAgainstHeader(stmt, shape.header);
  const ctx: CompileContext = { binding: makeBinding(bound, alias), nowMs };
  let filter: CompiledQuery['filter'];
  if (stmt.where) {
    const w = compileExpr(stmt.where, ctx);
    // A boolean-typed WHERE yields only true/false/NULL/MISSING, so its truthiness is the filter.
    const f = w.fn;
    filter = w.type === 'bool' ? (f as (row: Row) => boolean) : (row) => f(row) === true;
  }
  const unnest = plan.unnest.length > 0 ? compileUnnest(plan.unnest) : undefined;
  const limit = plan.limit ?? Infinity;
  const distinct = stmt.distinct === true;
  const items = plan.selectStar ? [] : (stmt.select as A.SelectItem[]);
  // ORDER BY keys: an output column named by its alias, or an expression compiled in the items' context.
  const orderOf = (c: CompileContext, columns: OutputColumn[]): CompiledQuery['order'] => {
    if (!stmt.orderBy) return undefined;
    const keys = stmt.orderBy.map((o) => {
      const named = outputAlias(o.expr, items);
      const output = plan.selectStar || items.some((i) => exprShape(i.expr, alias) === exprShape(o.expr, alias));
      if (distinct && !named && !output) {
        throw new SelectError('UnsupportedSqlOperation', 'With DISTINCT, ORDER BY names output columns', o.expr.pos);
      }
      return named ? columns[items.indexOf(named)].fn : compileExpr(o.expr, c).fn;
    });
    return { keys, desc: stmt.orderBy.map((o) => o.desc) };
  };

  // The writer of output columns, and with DISTINCT the key that computes their values first.
  const projected = (columns: OutputColumn[]): Pick<CompiledQuery, 'write' | 'distinctKey'> => {
    if (!distinct) return { write: writer({ star: false, columns }) };
    const d = distinctColumns(columns);
    return { write: writer({ star: false, columns: d.columns }), distinctKey: d.distinctKey };
  };

  if (plan.selectStar) {
    return { filter, unnest, write: writer({ star: true, shape }), limit, distinct, order: orderOf(ctx, []) };
  }

  if (stmt.groupBy) {
    const { groupCtx, groups } = groupedContext(stmt, stmt.groupBy, ctx);
    const columns: OutputColumn[] = items.map((item, i) => ({
      name: outputName(item, i, alias),
      fn: compileExpr(item.expr, groupCtx).fn,
    }));
    const order = orderOf(groupCtx, columns);
    return { filter, unnest, ...projected(columns), limit, distinct, order, groups };
  }

  if (plan.aggregate) {
    const accumulators: Accumulator[] = [];
    // The aggregates' results, set by finish() before the single row is written (nothing reads them before).
    let results: Value[];
    const aggCtx: CompileContext = {
      ...ctx,
      aggregate: (e) => {
        const k = accumulators.length;
        const arg = e.arg === '*' ? undefined : compileExpr(e.arg, ctx);
        accumulators.push(makeAccumulator(e.name, arg ? arg.fn : '*', arg?.type));
        return () => results[k];
      },
    };
    const columns: OutputColumn[] = items.map((item, i) => ({
      name: outputName(item, i, alias),
      fn: compileExpr(item.expr, aggCtx).fn,
    }));
    const write = writer({ star: false, columns });
    return {
      filter,
      unnest,
      write,
      limit,
      distinct,
      aggregate: {
        accumulators,
        finish() {
          results = accumulators.map((a) => a.result());
          return write(undefined);
        },
      },
    };
  }

  const columns: OutputColumn[] = items.map((item, i) => {
    const e = item.expr;
    // alias.* or alias.path.* next to other items: the fields of the row (or nested object) spread out. The
    // path reads the object (rowSteps leaves out its trailing `.*`); a value that is no object keeps its place.
    if (e.kind === 'path' && e.steps.at(-1)?.kind === 'fieldWildcard') {
      return { name: `_${i + 1}`, fn: compileExpr(e, ctx).fn, spread: true };
    }
    return { name: outputName(item, i, alias), fn: compileExpr(e, ctx).fn };
  });
  return { filter, unnest, ...projected(columns), limit, distinct, order: orderOf(ctx, columns) };
}

/** One output line, refused over the AWS record limit. */
function checked(line: string): string {
  if (line.length > MAX_OUTPUT_RECORD / 4 && Buffer.byteLength(line) > MAX_OUTPUT_RECORD)
    throw new SelectError('OverMaxRecordSize');
  return line;
}

/** Output lines held by ORDER BY, given out this many at a time once the input is done. */
const DRAIN_LINES = 4096;

/**
 * Runs the query over the scanner's batches; yields the output text of each batch ('' when nothing in it
 * matched, so the caller can send keep-alives). Returning early (LIMIT) closes the scanner's iterator,
 * which stops reading the object. The event loop gets a turn whenever the pacer's slice is used up: it is
 * looked at before each batch and every few rows (`cost` is the query's work per row in expression nodes).
 */
export async function* executeQuery(
  q: CompiledQuery,
  batches: AsyncIterable<ScanRecord[]>,
  filterApplied: boolean,
  pacing: { pacer: Pacer; rowCost: number; filterCost: number },
): AsyncGenerator<string> {
  const filter = filterApplied ? undefined : q.filter;
  const { write, unnest, limit } = q;
  const { pacer } = pacing;
  const every = rowsPerCheck(pacing.rowCost + (filter ? pacing.filterCost : 0));
  const accs = q.aggregate?.accumulators;
  const groups = q.groups;
  const order = q.order;
  const topK = order ? new TopK(limit, order.desc, q.distinct) : undefined;
  const seen = q.distinct && !topK ? new Distinct() : undefined;
  const orderKeys = (row: Row) => order!.keys.map((f) => f(row));
  const { distinctKey } = q;
  // The row's line; with DISTINCT, undefined for a row seen before (its key first: it computes what write reads).
  const output = (row: Row): string | undefined => {
    if (!seen) return checked(write(row));
    if (!distinctKey) {
      const line = checked(write(row));
      return seen.first(line, () => line);
    }
    return seen.first(distinctKey(row), () => checked(write(row)));
  };
  // ORDER BY: the row into the heap (with DISTINCT, unless a row equal to it is held).
  const held = (keys: Value[], row: Row): void => {
    if (!distinctKey) return topK!.add(keys, checked(write(row)));
    const key = distinctKey(row);
    if (!topK!.holds(key)) topK!.add(keys, checked(write(row)), key);
  };
  let emitted = 0;
  // LIMIT 0 writes nothing and reads nothing, an aggregate's single row included.
  if (limit <= 0) return;
  const rows: Row[] = [];
  // Output lines of a batch, joined once (one flat string per batch).
  const lines: string[] = [];
  const flush = (): string => {
    const s = lines.join('');
    lines.length = 0;
    return s;
  };
  for await (const batch of batches) {
    if (pacer.due()) await pacer.pause();
    let recs: ArrayLike<Row> = batch;
    if (unnest) {
      rows.length = 0;
      for (let i = 0; i < batch.length; i++) unnest(batch[i], rows);
      recs = rows;
    }
    const n = recs.length;
    if (groups) {
      for (let i = 0; i < n; i++) {
        if (i % every === every - 1 && pacer.due()) await pacer.pause();
        const row = recs[i];
        if (filter && !filter(row)) continue;
        groups.add(row);
      }
      yield '';
      continue;
    }
    if (accs) {
      for (let i = 0; i < n; i++) {
        if (i % every === every - 1 && pacer.due()) await pacer.pause();
        const row = recs[i];
        if (filter && !filter(row)) continue;
        for (let k = 0; k < accs.length; k++) accs[k].add(row);
      }
      yield '';
      continue;
    }
    for (let i = 0; i < n; i++) {
      if (i % every === every - 1 && pacer.due()) await pacer.pause();
      const row = recs[i];
      if (filter && !filter(row)) continue;
      if (topK) {
        const keys = orderKeys(row);
        if (topK.wants(keys)) held(keys, row);
        continue;
      }
      const line = output(row);
      if (line === undefined) continue;
      lines.push(line);
      if (++emitted >= limit) {
        yield flush();
        return;
      }
    }
    yield flush();
  }
  if (q.aggregate) yield q.aggregate.finish();
  if (groups) {
    // One output row per group, in order of first appearance, through DISTINCT, ORDER BY and LIMIT.
    for (let g = 0; g < groups.count() && emitted < limit; g++) {
      if (g % every === every - 1 && pacer.due()) {
        yield flush();
        await pacer.pause();
      }
      groups.select(g);
      if (topK) {
        const keys = orderKeys(undefined);
        if (topK.wants(keys)) held(keys, undefined);
        continue;
      }
      const line = output(undefined);
      if (line === undefined) continue;
      lines.push(line);
      emitted++;
    }
    yield flush();
  }
  if (topK) {
    const sorted = topK.drain();
    for (let i = 0; i < sorted.length; i += DRAIN_LINES) {
      if (pacer.due()) await pacer.pause();
      yield sorted.slice(i, i + DRAIN_LINES).join('');
    }
  }
}
