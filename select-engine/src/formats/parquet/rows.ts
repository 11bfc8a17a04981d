// Column data of one row group -> row objects, one batch at a time. hyparquet hands over each top-level
// column (structs and lists assembled) as one or more runs of rows; building the objects here, a batch at
// a time, keeps only a batch of row objects alive instead of the whole row group's.

import type { ColumnData, SchemaTree } from 'hyparquet';

/** Converts bigints within 2^53 to numbers, recursing into lists and structs. */
export function normalize(v: unknown): unknown {
  if (typeof v === 'bigint') return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
  if (v === null || typeof v !== 'object' || v instanceof Date) return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = normalize(v[i]);
    return v;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) o[k] = normalize(o[k]);
  return o;
}

/** True when a column (or anything nested in it) is INT64, so its values may arrive as bigint. */
export function mayHoldBigint(node: SchemaTree): boolean {
  if (node.children.length === 0) return node.element.type === 'INT64';
  return node.children.some(mayHoldBigint);
}

interface Column {
  name: string;
  /** Values for rows [0, groupRows) of the group. */
  values: ArrayLike<unknown>;
  bigint: boolean;
  nested: boolean;
}

/** Gathers the runs hyparquet delivered for one column into one array covering the group's rows. */
function gather(runs: ColumnData[], groupStart: number, groupRows: number): ArrayLike<unknown> {
  if (runs.length === 1 && runs[0].rowStart === groupStart && runs[0].columnData.length === groupRows)
    return runs[0].columnData;
  const out = new Array<unknown>(groupRows);
  for (const run of runs) {
    const data = run.columnData;
    for (let i = 0; i < data.length; i++) {
      const row = run.rowStart - groupStart + i;
      if (row >= 0 && row < groupRows) out[row] = data[i];
    }
  }
  return out;
}

export function groupColumns(
  runs: Map<string, ColumnData[]>,
  names: string[],
  tree: Map<string, SchemaTree>,
  groupStart: number,
  groupRows: number,
): Column[] {
  const cols: Column[] = [];
  for (const name of names) {
    const r = runs.get(name);
    if (!r) continue;
    const node = tree.get(name)!;
    cols.push({
      name,
      values: gather(r, groupStart, groupRows),
      bigint: mayHoldBigint(node),
      nested: node.children.length > 0,
    });
  }
  return cols;
}

/** Row objects for rows [from, to) of the group. */
export function buildRows(cols: Column[], from: number, to: number): Record<string, unknown>[] {
  const rows = new Array<Record<string, unknown>>(to - from);
  for (let r = from; r < to; r++) {
    const o: Record<string, unknown> = {};
    for (let c = 0; c < cols.length; c++) {
      const col = cols[c];
      let v = col.values[r];
      if (v === undefined) v = null;
      else if (col.bigint) v = col.nested ? normalize(v) : typeof v === 'bigint' ? normalize(v) : v;
      o[col.name] = v;
    }
    rows[r - from] = o;
  }
  return rows;
}
