// CSV output: fields joined by FieldDelimiter, records ended by RecordDelimiter, quoted ALWAYS or only
// when a field holds a delimiter, the quote character or a line break (ASNEEDED). NULL and MISSING are
// empty fields; nested values are written as JSON text.
import { Timestamp, valueToText, type Value } from '../exec/values.js';
import type { Projection, RowWriter } from './projection.js';

export interface CsvOutputOptions {
  quoteFields?: 'ALWAYS' | 'ASNEEDED';
  quoteEscapeCharacter?: string;
  recordDelimiter?: string;
  fieldDelimiter?: string;
  quoteCharacter?: string;
  /** Not in the XML: the text of NULL and MISSING (the ceph dialect's `null`); an empty field otherwise. */
  nullText?: string;
  /** Not in the XML: false under the ceph dialect, whose ASNEEDED never quotes (only ALWAYS does). */
  quoteAsNeeded?: boolean;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Field text -> quoted/escaped field text, compiled for the options. */
function fieldQuoter(o: CsvOutputOptions): (s: string) => string {
  const q = o.quoteCharacter ?? '"';
  const esc = o.quoteEscapeCharacter ?? q;
  const fd = o.fieldDelimiter ?? ',';
  const rd = o.recordDelimiter ?? '\n';
  if (q === '') return (s) => s;
  const quoteRe = new RegExp(escapeRe(q), 'g');
  const specials = [fd, rd, q, '\n', '\r', ...(esc !== q ? [esc] : [])];
  // One character class when every special is one character (the usual case: the fastest test).
  const needs = specials.every((x) => x.length === 1)
    ? new RegExp(`[${specials.map((x) => x.replace(/[\\\]^-]/g, '\\$&')).join('')}]`)
    : new RegExp(specials.map(escapeRe).join('|'));
  const escapeText = esc + q;
  const escAll = (s: string) => (s.includes(q) ? s.replace(quoteRe, escapeText) : s);
  if (o.quoteFields === 'ALWAYS') return (s) => q + escAll(s) + q;
  if (o.quoteAsNeeded === false) return (s) => s;
  return (s) => (needs.test(s) ? q + escAll(s) + q : s);
}

// Rows are built with Array.join into flat strings (string `+` would leave a tree of small cons strings
// per field for the GC); the arrays are reused from row to row.
export function csvRowWriter(p: Projection, o: CsvOutputOptions): RowWriter {
  const fd = o.fieldDelimiter ?? ',';
  const rd = o.recordDelimiter ?? '\n';
  const quote = fieldQuoter(o);
  const nullText = o.nullText;
  const text =
    nullText === undefined
      ? (v: Value) => quote(typeof v === 'string' ? v : valueToText(v))
      : (v: Value) => (v == null ? nullText : quote(typeof v === 'string' ? v : valueToText(v)));
  const parts: string[] = [];
  if (p.star) {
    if (p.shape.kind === 'csv') {
      return (row) => {
        const r = row as string[];
        const n = r.length;
        parts.length = n;
        for (let i = 0; i < n; i++) parts[i] = quote(r[i] ?? '');
        return parts.join(fd) + rd;
      };
    }
    return (row) => {
      if (row === undefined) return rd;
      if (row === null || typeof row !== 'object' || Array.isArray(row)) return text(row as Value) + rd;
      parts.length = 0;
      for (const k in row as Record<string, Value>) parts.push(text((row as Record<string, Value>)[k]));
      return parts.join(fd) + rd;
    };
  }
  const fns = p.columns.map((c) => c.fn);
  const n = fns.length;
  if (p.columns.some((c) => c.spread)) {
    const spread = p.columns.map((c) => c.spread === true);
    return (row) => {
      parts.length = 0;
      for (let i = 0; i < n; i++) {
        const v = fns[i](row);
        if (spread[i] && v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Timestamp)) {
          for (const k in v as Record<string, Value>) parts.push(text((v as Record<string, Value>)[k]));
        } else parts.push(text(v));
      }
      return parts.join(fd) + rd;
    };
  }
  if (n === 1) {
    const f = fns[0];
    return (row) => text(f(row)) + rd;
  }
  parts.length = n;
  return (row) => {
    for (let i = 0; i < n; i++) parts[i] = text(fns[i](row));
    return parts.join(fd) + rd;
  };
}
