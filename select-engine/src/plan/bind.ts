// Name resolution: turns a path in the SQL (alias._3, name, "Name", s.a.b[0]) into a closure over the row,
// resolved once: an array index for CSV records, a chain of key lookups for JSON / Parquet records.
// Unquoted names match case-insensitively, "quoted" names exactly.
import { SelectError } from '../errors.js';
import type { Binding, Fn, StaticType } from '../exec/compile.js';
import type { Value } from '../exec/values.js';
import type * as A from '../sql/ast.js';

/**
 * CSV rows (with the header when FileHeaderInfo is USE; `emptyFile` when USE found no header line at all), or
 * objects; `columns`: every top-level field of every record with its type where the input declares one (Parquet's
 * schema: 'int', 'float', else 'any'), in record order.
 */
export type RecordShape =
  /** `ceph`: the ceph dialect reads an empty field as NULL and names a missing column as Ceph does. */
  | { kind: 'csv'; header?: string[]; emptyFile?: boolean; ceph?: boolean }
  | { kind: 'object'; columns?: readonly (readonly [string, StaticType])[] };

export function sameName(a: A.Name, b: A.Name): boolean {
  if (!a.quoted && !b.quoted) return a.name.toLowerCase() === b.name.toLowerCase();
  return a.name === b.name;
}

/** True when a name is the row's alias (or its other name, see Name.other). */
export function isAlias(n: A.Name, alias: A.Name): boolean {
  return sameName(n, alias) || (alias.other !== undefined && sameName(n, alias.other));
}

/** The path's steps from the row, dropping a leading table alias (and a trailing `.*`, handled by projection). */
export function rowSteps(e: Extract<A.Expr, { kind: 'path' }>, alias: A.Name): A.PathStep[] {
  const steps = isAlias(e.root, alias) ? e.steps : [{ kind: 'field', name: e.root } as A.PathStep, ...e.steps];
  return steps.length > 0 && steps[steps.length - 1].kind === 'fieldWildcard' ? steps.slice(0, -1) : steps;
}

const POSITIONAL = /^_(\d+)$/;

/** CSV: the 0-based field index a column name refers to. */
export function csvColumnIndex(name: A.Name, header: string[] | undefined, pos?: A.Pos): number {
  if (header) {
    let found = -1;
    for (let i = 0; i < header.length; i++) {
      const h = header[i];
      if (name.quoted ? h === name.name : h.toLowerCase() === name.name.toLowerCase()) {
        if (found >= 0 && h !== header[found])
          throw new SelectError('AmbiguousFieldName', `Field name ${name.name} matches more than one column`, pos);
        if (found < 0) found = i;
      }
    }
    if (found >= 0) return found;
  }
  const m = POSITIONAL.exec(name.name);
  if (m) {
    const n = Number(m[1]);
    if (n < 1) throw new SelectError('InvalidColumnIndex', `Column index ${name.name} is invalid`, pos);
    return n - 1;
  }
  throw new SelectError('MissingHeaders', `Column ${name.name} is not in the file header`, pos);
}

/** csvColumnIndex, with Ceph's words for a name that is neither a column nor an alias (s3-tests). */
function cephColumnIndex(name: A.Name, header: string[] | undefined, pos?: A.Pos): number {
  try {
    return csvColumnIndex(name, header, pos);
  } catch (e) {
    if (!(e instanceof SelectError) || e.code !== 'MissingHeaders') throw e;
    const message = `alias {${name.name}} or column not exist in schema (Ceph: ProcessingTimeError)`;
    throw new SelectError('MissingHeaders', message, pos);
  }
}

/** Own-property lookup on a JSON object; unquoted names fall back to a case-insensitive match. */
function fieldGetter(name: A.Name): (o: Value) => Value {
  const key = name.name;
  const lower = name.quoted ? undefined : key.toLowerCase();
  // Names like "constructor" exist on every object's prototype: only they need the own-property check.
  const inherited = key in Object.prototype;
  return (o) => {
    if (o === null || typeof o !== 'object' || Array.isArray(o)) return undefined;
    const rec = o as Record<string, Value>;
    const v = rec[key];
    if (v !== undefined && (!inherited || Object.hasOwn(rec, key))) return v;
    if (lower === undefined) return undefined;
    for (const k in rec) if (k.toLowerCase() === lower) return rec[k];
    return undefined;
  };
}

function stepGetter(step: A.PathStep): (o: Value) => Value {
  switch (step.kind) {
    case 'field':
      return fieldGetter(step.name);
    case 'index': {
      const i = step.index;
      return (o) => (Array.isArray(o) ? (o[i] as Value) : undefined);
    }
    default:
      throw new SelectError('ParseInvalidPathComponent', 'Wildcards are only allowed in the FROM clause');
  }
}

/** Chains step getters into one closure over the row. */
export function objectPath(steps: A.PathStep[]): Fn {
  const getters = steps.map(stepGetter);
  if (getters.length === 0) return (row) => row as Value;
  if (getters.length === 1) return getters[0] as Fn;
  if (getters.length === 2) {
    const [g0, g1] = getters;
    return (row) => g1(g0(row as Value));
  }
  return (row) => {
    let v = row as Value;
    for (const g of getters) {
      v = g(v);
      if (v === undefined) return undefined;
    }
    return v;
  };
}

/** A CSV row seen as an object (for `SELECT s` of a whole row): header names or _1, _2, ... */
export function csvRowObject(row: string[], header: string[] | undefined): Record<string, string> {
  const o: Record<string, string> = {};
  for (let i = 0; i < row.length; i++) o[header?.[i] ?? `_${i + 1}`] = row[i];
  return o;
}

/**
 * The declared type of a top-level field, found as fieldGetter finds it: the key spelt as the name, else (unquoted)
 * the first key equal to it ignoring case.
 */
function columnType(columns: readonly (readonly [string, StaticType])[], name: A.Name): StaticType {
  const exact = columns.find(([k]) => k === name.name);
  if (exact || name.quoted) return exact?.[1] ?? 'any';
  const lower = name.name.toLowerCase();
  return columns.find(([k]) => k.toLowerCase() === lower)?.[1] ?? 'any';
}

export function makeBinding(shape: RecordShape, alias: A.Name): Binding {
  return {
    pathType(e) {
      if (shape.kind !== 'object' || !shape.columns) return 'any';
      const steps = rowSteps(e, alias);
      return steps.length === 1 && steps[0].kind === 'field' ? columnType(shape.columns, steps[0].name) : 'any';
    },
    path(e) {
      const steps = rowSteps(e, alias);
      if (shape.kind === 'object') return objectPath(steps);
      const header = shape.header;
      if (steps.length === 0) return (row) => csvRowObject(row as string[], header);
      const first = steps[0];
      if (first.kind !== 'field' || steps.length > 1)
        throw new SelectError('InvalidKeyPath', 'CSV columns have no nested fields', e.pos);
      // An empty file has no header and no rows: names resolve to nothing rather than failing.
      if (shape.emptyFile && !/^_\d+$/.test(first.name.name)) return () => undefined;
      const i = shape.ceph ? cephColumnIndex(first.name, header, e.pos) : csvColumnIndex(first.name, header, e.pos);
      if (shape.ceph) {
        return (row) => {
          const v = (row as string[])[i];
          return v === '' ? null : v;
        };
      }
      return (row) => (row as string[])[i];
    },
  };
}
