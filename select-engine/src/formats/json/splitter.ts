// Finds where each top-level JSON value ends in a stream of text, so that JSON.parse runs on one record
// at a time and memory stays bounded (one record, at most 1 MB, plus one chunk). The scan jumps between
// structural characters with a sticky regex and between quotes with indexOf; it only needs to count
// brackets and skip strings: JSON.parse validates the slice afterwards.

import { MAX_JSON_DEPTH, MAX_RECORD_BYTES, type SelectError, scanError, overMaxRecordSize } from '../errors.js';
import { parseJsonText } from './numbers.js';

const STRUCTURAL = /["{}[\]]/g;
const SCALAR_END = /[\s,\]}[{"]/g;

function parseError(message: string, cause?: unknown): SelectError {
  return scanError('JSONParsingError', message, cause);
}

/** A record's value (`long`: it may hold a number of 16 digits or more, see numbers.ts). */
export function parseRecord(text: string, long = false): unknown {
  try {
    return parseJsonText(text, long);
  } catch (e) {
    throw parseError(`Invalid JSON in the input: ${(e as Error).message}`, e);
  }
}

export function tooDeep(): SelectError {
  return parseError(`JSON nesting is too deep: more than ${MAX_JSON_DEPTH} levels of arrays and objects.`);
}

/**
 * Throws when the JSON text s[start, end) nests deeper than MAX_JSON_DEPTH. Only text long enough to hold
 * that many brackets is scanned (two characters a level), so short records cost nothing.
 */
export function checkNesting(s: string, start: number, end: number): void {
  if (end - start <= 2 * MAX_JSON_DEPTH) return;
  let depth = 0;
  for (let i = start; ; ) {
    STRUCTURAL.lastIndex = i;
    const m = STRUCTURAL.exec(s);
    if (!m || m.index >= end) return;
    const ch = s.charCodeAt(m.index);
    if (ch === 34) {
      const q = stringEnd(s, m.index);
      if (q < 0) return; // JSON.parse reports the unterminated string
      i = q + 1;
      continue;
    }
    i = m.index + 1;
    if (ch === 123 || ch === 91) {
      if (++depth > MAX_JSON_DEPTH) throw tooDeep();
    } else depth--;
  }
}

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

/** Index of the quote closing the string whose opening quote is at `open`, or -1 when not in s yet. */
function stringEnd(s: string, open: number): number {
  let j = s.indexOf('"', open + 1);
  while (j >= 0) {
    let b = 0;
    while (s.charCodeAt(j - 1 - b) === 92) b++; // backslashes before the quote
    if ((b & 1) === 0) return j;
    j = s.indexOf('"', j + 1);
  }
  return -1;
}

export class JsonDocumentSplitter {
  /** Inside a top-level array whose elements are delivered as records. */
  private inArray = false;
  /** Resume state for a composite value cut by the end of the text: scan offset from its start, depth. */
  private resumeAt = 0;
  private depth = 0;

  constructor(private readonly arrayElements: boolean) {}

  /**
   * Parses complete values from s into `out`; returns the position after the last one. `long`: s may hold a
   * number of 16 digits or more (numbers.ts).
   */
  split(s: string, final: boolean, out: unknown[], long = false): number {
    const n = s.length;
    let pos = 0;
    for (;;) {
      // Skip whitespace, and the commas between elements of an unwrapped top-level array.
      let c = s.charCodeAt(pos);
      while (pos < n && (isSpace(c) || (this.inArray && c === 44))) c = s.charCodeAt(++pos);
      if (pos >= n) break;
      if (this.inArray && c === 93 /* ] */) {
        this.inArray = false;
        pos++;
        continue;
      }
      if (this.arrayElements && !this.inArray && c === 91 /* [ */) {
        this.inArray = true;
        pos++;
        continue;
      }
      const end = this.valueEnd(s, pos, c, final);
      if (end < 0) {
        if (n - pos > MAX_RECORD_BYTES) throw overMaxRecordSize();
        if (final) throw parseError('The JSON input ends inside a value.');
        break;
      }
      if (end - pos > MAX_RECORD_BYTES / 4 && Buffer.byteLength(s.slice(pos, end)) > MAX_RECORD_BYTES)
        throw overMaxRecordSize();
      out.push(parseRecord(s.slice(pos, end), long));
      pos = end;
    }
    if (final && this.inArray) throw parseError('The JSON input ends inside a top-level array.');
    return pos;
  }

  /** End (exclusive) of the value starting at pos with char code c, or -1 if the text ends first. */
  private valueEnd(s: string, pos: number, c: number, final: boolean): number {
    if (c === 34 /* " */) {
      const q = stringEnd(s, pos);
      return q < 0 ? -1 : q + 1;
    }
    if (c !== 123 && c !== 91) {
      // A scalar: number, true, false, null (JSON.parse rejects anything else).
      SCALAR_END.lastIndex = pos + 1;
      const m = SCALAR_END.exec(s);
      if (!m) return final ? s.length : -1;
      return m.index;
    }
    let i = pos + this.resumeAt;
    let depth = this.depth;
    if (this.resumeAt === 0) depth = 0;
    for (;;) {
      STRUCTURAL.lastIndex = i;
      const m = STRUCTURAL.exec(s);
      if (!m) break;
      const k = m.index;
      const ch = s.charCodeAt(k);
      if (ch === 34) {
        const q = stringEnd(s, k);
        if (q < 0) {
          i = k;
          break;
        }
        i = q + 1;
        continue;
      }
      i = k + 1;
      if (ch === 123 || ch === 91) depth++;
      else if (--depth === 0) {
        this.resumeAt = 0;
        this.depth = 0;
        return i;
      }
      if (depth > MAX_JSON_DEPTH) throw tooDeep();
    }
    this.resumeAt = i - pos;
    this.depth = depth;
    return -1;
  }
}
