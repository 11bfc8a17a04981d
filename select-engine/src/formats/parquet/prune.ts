// Row-group pruning from min/max statistics. Conservative: a group is skipped only when no row of it can
// satisfy a conjunct; anything unsure (missing or inexact stats, mixed types, non-ASCII strings whose
// byte order differs from JS order, repeated columns) keeps the group.

import type { FileMetaData, RowGroup, Statistics } from 'hyparquet';
import type { SimplePredicate } from '../types.js';

type Scalar = number | string | boolean | bigint | Date;

const ASCII = /^[\x00-\x7f]*$/;

/** Leaf columns that are not inside a repeated field, by dot-joined path (and lower-cased path). */
export function prunableColumns(md: FileMetaData): Map<string, number> {
  const byPath = new Map<string, number>();
  // Walk the flat schema depth-first, tracking whether an ancestor is repeated.
  const walk = (index: number, path: string[], repeated: boolean): number => {
    const el = md.schema[index];
    let next = index + 1;
    const rep = repeated || el.repetition_type === 'REPEATED';
    const p = index === 0 ? [] : [...path, el.name];
    if (!el.num_children) {
      if (!rep) {
        const key = p.join('.');
        const leaf = leafIndex.value++;
        byPath.set(key, leaf);
        if (!byPath.has(key.toLowerCase())) byPath.set(key.toLowerCase(), leaf);
      } else leafIndex.value++;
      return next;
    }
    for (let c = 0; c < el.num_children && next < md.schema.length; c++) next = walk(next, p, rep);
    return next;
  };
  const leafIndex = { value: 0 };
  try {
    walk(0, [], false);
  } catch {
    byPath.clear(); // a schema too deep to walk: no pruning (reading it fails with a typed error later)
  }
  return byPath;
}

/** Numbers and bigints compared safely; null when the two cannot be ordered reliably. */
function compare(a: Scalar, b: Scalar): number | null {
  if (a instanceof Date || b instanceof Date) {
    if (!(a instanceof Date && b instanceof Date)) return null;
    return Math.sign(a.getTime() - b.getTime());
  }
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) {
    if (typeof a === 'number' && Number.isNaN(a)) return null;
    if (typeof b === 'number' && Number.isNaN(b)) return null;
    if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
    if (typeof a === 'number' && typeof b === 'number') return Math.sign(a - b);
    // Mixed: exact when the number is an integer; otherwise compare as numbers (bigints in range are exact).
    const an = Number(a);
    const bn = Number(b);
    if (!Number.isSafeInteger(an) && typeof a === 'bigint') return null;
    if (!Number.isSafeInteger(bn) && typeof b === 'bigint') return null;
    return Math.sign(an - bn);
  }
  if (typeof a === 'string' && typeof b === 'string') {
    if (!ASCII.test(a) || !ASCII.test(b)) return null;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return null;
}

/** False when the statistics prove no row of the group satisfies the predicate. */
function canMatch(p: SimplePredicate, stats: Statistics | undefined, rows: number): boolean {
  if (!stats) return true;
  const nulls = stats.null_count === undefined ? undefined : Number(stats.null_count);
  if (p.op === 'IS NULL') return nulls === undefined || nulls > 0;
  if (p.op === 'IS NOT NULL') return nulls === undefined || nulls < rows;
  // Every value null: no comparison is true.
  if (nulls !== undefined && nulls === rows && rows > 0) return false;
  const min = stats.min_value as Scalar | undefined;
  const max = stats.max_value as Scalar | undefined;
  if (min === undefined || max === undefined || min === null || max === null || p.value === undefined) return true;
  const v = p.value as Scalar;
  const cMin = compare(v, min);
  const cMax = compare(v, max);
  if (cMin === null || cMax === null) return true;
  switch (p.op) {
    case '=':
      return cMin >= 0 && cMax <= 0;
    case '<>':
      return !(cMin === 0 && cMax === 0 && stats.is_min_value_exact !== false && stats.is_max_value_exact !== false);
    case '<':
      return cMin > 0; // some value below v exists only if min < v
    case '<=':
      return cMin >= 0;
    case '>':
      return cMax < 0;
    case '>=':
      return cMax <= 0;
  }
  return true;
}

/** True when the row group may hold a row satisfying every conjunct. */
export function rowGroupMayMatch(
  rg: RowGroup,
  conjuncts: SimplePredicate[],
  leaves: Map<string, number>,
  topLevel: string[],
): boolean {
  const rows = Number(rg.num_rows);
  for (const p of conjuncts) {
    let key = typeof p.column === 'number' ? topLevel[p.column - 1] : p.column;
    if (key === undefined) continue;
    let leaf = leaves.get(key);
    if (leaf === undefined) leaf = leaves.get((key = key.toLowerCase()));
    if (leaf === undefined) continue;
    if (!canMatch(p, rg.columns[leaf]?.meta_data?.statistics, rows)) return false;
  }
  return true;
}
