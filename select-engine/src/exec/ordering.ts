// Beyond AWS (the `cairn` dialect): the state GROUP BY, ORDER BY and DISTINCT keep between rows, each bounded.
// A query may hold at most MAX_HELD_ROWS groups, sorted rows or distinct rows, and MAX_HELD_BYTES of their
// text; past either it fails (UnsupportedSqlOperation, saying which bound) instead of growing without end.
import { createHash } from 'node:crypto';
import { SelectError } from '../errors.js';
import { compare, Decimal, jsonReplacer, Timestamp, type Value } from './values.js';

export const MAX_HELD_ROWS = 100_000;
export const MAX_HELD_BYTES = 64 * 1024 * 1024;

export function tooMuchHeld(what: string): SelectError {
  return new SelectError(
    'UnsupportedSqlOperation',
    `${what} holds at most ${MAX_HELD_ROWS} rows and ${MAX_HELD_BYTES / 1024 / 1024} MiB of their text; ` +
      'narrow the query (WHERE, a smaller LIMIT).',
  );
}

/** Counts what a clause holds and refuses to hold more than the bounds. */
export class HeldBudget {
  private rows = 0;
  private bytes = 0;
  constructor(private readonly what: string) {}
  take(chars: number): void {
    // Two bytes a UTF-16 code unit: the string as V8 may hold it.
    this.rows++;
    this.bytes += 2 * chars + 64;
    if (this.rows > MAX_HELD_ROWS || this.bytes > MAX_HELD_BYTES) throw tooMuchHeld(this.what);
  }
  give(chars: number): void {
    this.rows--;
    this.bytes -= 2 * chars + 64;
  }
}

/**
 * V8 hashes a string of more than 16383 characters by its length alone: in a Set or Map, many such strings of one
 * length all collide, and each new one is compared with every one held (2000 distinct lines of 16,400 characters
 * took 11 s to add to a Set at load 18, 0.3 s at 16,000). Such a text is keyed by its SHA-256 instead; the first
 * character keeps the two kinds of key apart.
 */
const LONGEST_HASHED = 16383;
export function heldKey(text: string): string {
  return text.length > LONGEST_HASHED ? `#${createHash('sha256').update(text).digest('base64')}` : `=${text}`;
}

function rank(v: Value): number {
  if (v === null || v === undefined) return 5;
  switch (typeof v) {
    case 'boolean':
      return 0;
    case 'number':
    case 'bigint':
      return 1;
    case 'string':
      return 3;
    default:
      if (v instanceof Decimal) return 1;
      if (v instanceof Timestamp) return 2;
      return 4;
  }
}

/**
 * ORDER BY's total order: booleans, then numbers, timestamps, text, other values (by their JSON text), and
 * NULL / MISSING last (first under DESC), as PostgreSQL orders NULLs by default.
 */
export function orderCompare(a: Value, b: Value): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 5) return 0;
  if (ra === 4) {
    const x = JSON.stringify(a, jsonReplacer);
    const y = JSON.stringify(b, jsonReplacer);
    return x === y ? 0 : x < y ? -1 : 1;
  }
  const c = compare(a, b) ?? 0;
  return Number.isNaN(c) ? 0 : Math.sign(c);
}

/** Numbers as GROUP BY and DISTINCT see them: 1, 1.0 and 1.00 are one value. */
function numberText(v: number | bigint | Decimal): string {
  const s = String(v);
  if (!(v instanceof Decimal) || !s.includes('.')) return s;
  return s.replace(/0+$/, '').replace(/\.$/, '');
}

/**
 * A text equal for two tuples of values exactly when GROUP BY puts them in one group (NULL and MISSING: one;
 * numbers by value, timestamps by instant: `=` holds between the members of a group).
 */
export function groupKey(values: Value[]): string {
  const parts = values.map((v): string => {
    if (v === null || v === undefined) return 'z';
    switch (typeof v) {
      case 'boolean':
        return v ? 'b1' : 'b0';
      case 'number':
      case 'bigint':
        return `n${numberText(v)}`;
      case 'string':
        return `s${v}`;
      default:
        if (v instanceof Decimal) return `n${numberText(v)}`;
        // By instant, as `=` compares them (and numbers group by value): offset and precision are the text's.
        if (v instanceof Timestamp) return `t${v.ms}:${v.nanos}`;
        return `o${JSON.stringify(v, jsonReplacer)}`;
    }
  });
  return JSON.stringify(parts);
}

interface Held {
  keys: Value[];
  seq: number;
  line: string;
  /** With DISTINCT: the row's key (heldKey'd). */
  key: string;
}

/**
 * ORDER BY [LIMIT k]: the k first rows in order (all rows, within the bounds, without LIMIT), as a binary heap
 * whose root is the last of them, so a row that sorts after it is dropped in O(1) and any other costs O(log k).
 * Rows equal in every key keep their input order.
 */
export class TopK {
  private readonly heap: Held[] = [];
  private seq = 0;
  private readonly budget = new HeldBudget('ORDER BY');
  /**
   * With DISTINCT: the keys of the rows in the heap. A row dropped from it never comes back: its duplicates (equal
   * by value, so equal in every ORDER BY key, which names output columns) sort after it.
   */
  private readonly held: Set<string> | undefined;

  constructor(
    private readonly k: number,
    private readonly desc: boolean[],
    distinct: boolean,
  ) {
    this.held = distinct ? new Set() : undefined;
  }

  /** Positive when a sorts after b. */
  private cmp(a: Held, b: Held): number {
    for (let i = 0; i < this.desc.length; i++) {
      const c = orderCompare(a.keys[i], b.keys[i]);
      if (c !== 0) return this.desc[i] ? -c : c;
    }
    return a.seq - b.seq;
  }

  /** Whether a row with these keys would be kept (the caller then writes its line and calls add). */
  wants(keys: Value[]): boolean {
    if (this.k <= 0) return false;
    if (this.heap.length < this.k) return true;
    return this.cmp({ keys, seq: this.seq, line: '', key: '' }, this.heap[0]) < 0;
  }

  /** With DISTINCT: whether a row with this key (distinctKey's) is held already. */
  holds(key: string): boolean {
    return this.held?.has(heldKey(key)) === true;
  }

  /** A row; with DISTINCT, `key` is its distinctKey (the line itself when undefined: SELECT *). */
  add(keys: Value[], line: string, key = line): void {
    const held = this.held ? heldKey(key) : '';
    if (this.held) {
      if (this.held.has(held)) return;
      this.held.add(held);
    }
    const item: Held = { keys, seq: this.seq++, line, key: held };
    const h = this.heap;
    const cost = Math.max(line.length, key.length);
    if (h.length < this.k) {
      this.budget.take(cost);
      h.push(item);
      this.up(h.length - 1);
      return;
    }
    if (this.held) this.held.delete(h[0].key);
    this.budget.give(Math.max(h[0].line.length, h[0].key.length));
    this.budget.take(cost);
    h[0] = item;
    this.down(0);
  }

  /** The rows in order (empties the heap). */
  drain(): string[] {
    return this.heap.sort((a, b) => this.cmp(a, b)).map((x) => x.line);
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.cmp(h[i], h[p]) <= 0) return;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.cmp(h[l], h[m]) > 0) m = l;
      if (r < h.length && this.cmp(h[r], h[m]) > 0) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
}

/**
 * DISTINCT: output rows are compared by their values as GROUP BY compares groups (groupKey: numbers by value,
 * timestamps by instant, NULL and MISSING as one); `SELECT *` rows by their output text (the input's own values).
 */
export class Distinct {
  private readonly seen = new Set<string>();
  private readonly budget = new HeldBudget('DISTINCT');
  /**
   * The row's output line (`line()`, written only then) the first time its key is seen, else undefined. The bound
   * counts the line, or the key when that is longer.
   */
  first(key: string, line: () => string): string | undefined {
    const held = heldKey(key);
    if (this.seen.has(held)) return undefined;
    const text = line();
    this.budget.take(Math.max(text.length, key.length));
    this.seen.add(held);
    return text;
  }
}
