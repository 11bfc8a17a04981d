// JSON output as AWS writes it: one object per record followed by RecordDelimiter. SELECT * writes a JSON
// record as it is (never wrapped in _1); a CSV record becomes {"header or _N": "field", ...}. Projected
// columns become keys; a MISSING value leaves its key out, so an all-MISSING record is {}.
import { Timestamp, valueToJson, type Value } from '../exec/values.js';
import type { Projection, RowWriter } from './projection.js';

export interface JsonOutputOptions {
  recordDelimiter?: string;
}

export function jsonRowWriter(p: Projection, o: JsonOutputOptions): RowWriter {
  const rd = o.recordDelimiter ?? '\n';
  if (p.star) {
    if (p.shape.kind === 'csv') {
      const header = p.shape.header;
      const keys: string[] = [];
      const key = (i: number) => (keys[i] ??= `${JSON.stringify(header?.[i] ?? `_${i + 1}`)}:`);
      return (row) => {
        const r = row as string[];
        let s = '{';
        for (let i = 0; i < r.length; i++) s += (i ? ',' : '') + key(i) + JSON.stringify(r[i] ?? '');
        return `${s}}${rd}`;
      };
    }
    return (row) => {
      if (row === undefined) return `{}${rd}`;
      if (row === null || typeof row !== 'object' || Array.isArray(row))
        return `{"_1":${valueToJson(row as Value)}}${rd}`;
      return valueToJson(row as Value) + rd;
    };
  }
  // Built with a reused array and join (flat strings, no per-field cons strings for the GC).
  const keys = p.columns.map((c) => `${JSON.stringify(c.name)}:`);
  const fns = p.columns.map((c) => c.fn);
  const spread = p.columns.map((c) => c.spread === true);
  const n = fns.length;
  const parts: string[] = [];
  return (row) => {
    parts.length = 0;
    for (let i = 0; i < n; i++) {
      const v = fns[i](row);
      if (v === undefined) continue;
      if (spread[i] && v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Timestamp)) {
        for (const k in v as Record<string, Value>)
          parts.push(`${JSON.stringify(k)}:${valueToJson((v as Record<string, Value>)[k])}`);
      } else parts.push(keys[i] + valueToJson(v));
    }
    return `{${parts.join(',')}}${rd}`;
  };
}
