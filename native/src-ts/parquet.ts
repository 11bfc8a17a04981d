// S3 Select's Parquet scan (src/select_parquet in Rust): arrow-rs decodes, prunes row groups by their
// statistics and runs the pushed WHERE conjuncts on Arrow arrays; the caller does the reading. Open the
// scan with the footer, then call `next` with the ranges the previous step asked for until it is done;
// batches arrive as one Buffer of columns (layout in src/select_parquet/encode.rs), read with typed
// arrays by the caller. Both calls run on the libuv pool. Errors carry the AWS code: `Code: message`.
import { native } from './binding.js';

/** A column named by field names; unquoted names match case-insensitively (as the SQL evaluator binds). */
export interface ParquetColumnRef {
  steps: string[];
  quoted: boolean[];
}

/** A literal: int (text: digits), decimal (text: unscaled digits, scale), float (number), string, bool, timestamp (text: epoch ns). */
export interface ParquetLiteral {
  kind: 'int' | 'decimal' | 'float' | 'string' | 'bool' | 'timestamp';
  text?: string;
  scale?: number;
  number?: number;
  flag?: boolean;
}

export interface ParquetConjunct {
  column: ParquetColumnRef;
  op: '=' | '<>' | '<' | '<=' | '>' | '>=' | 'IS NULL' | 'IS NOT NULL' | 'IN' | 'BETWEEN' | 'LIKE PREFIX';
  values: ParquetLiteral[];
}

/** An aggregate of the SELECT list; no column for COUNT(*). */
export interface ParquetAggregate {
  func: 'COUNT' | 'SUM' | 'AVG' | 'MIN' | 'MAX';
  column?: ParquetColumnRef;
}

export interface ParquetQuery {
  /** Top-level columns to return; undefined for all. */
  columns?: string[];
  /** The leading conjuncts of WHERE's AND chain, in order. */
  conjuncts: ParquetConjunct[];
  /** True when `conjuncts` are all of WHERE. */
  wholeWhere: boolean;
  /** Conjuncts further down the chain: they prune row groups by statistics, they filter no row. */
  pruneOnly?: ParquetConjunct[];
  /** ScanRange resolved against the object (end inclusive): row groups starting in it are read. */
  rangeStart?: number;
  rangeEnd?: number;
  /** Rows per batch (default 8192). */
  batchRows?: number;
  /** The SELECT list when it is only aggregates and WHERE is absent or all in `conjuncts`. */
  aggregates?: ParquetAggregate[];
}

export interface ParquetOpened {
  /** Names of the returned columns, in batch order. */
  fields: string[];
  /**
   * Each returned column's type as the evaluator may count on it: 'int' (integers), 'float' (floating point), ''
   * (anything else). Absent from an addon that predates it.
   */
  kinds?: string[];
  /** Leading conjuncts evaluated inside the scan. */
  pushed: number;
  /** Every returned row satisfies the whole WHERE clause. */
  exact: boolean;
  rowGroups: number;
  rowGroupsRead: number;
  /** The scan computes the aggregates: the last step brings their results instead of batches. */
  aggregated: boolean;
}

export interface ParquetStep {
  /** Byte ranges to read next: start, end pairs (end exclusive). */
  needs?: number[];
  batch?: Buffer;
  /** With `done`, when the scan aggregated: the results as JSON (src/select_parquet/aggregate.rs). */
  aggregates?: string;
  done: boolean;
}

interface NativeParquetScan {
  open(footer: Buffer): Promise<ParquetOpened>;
  next(ranges: number[], buffers: Buffer[]): Promise<ParquetStep>;
}

const NativeParquetScan: new (fileSize: number, query: ParquetQuery) => NativeParquetScan = native.ParquetScan;

/** One scan of one Parquet object for one query. Await each call before the next. */
export class ParquetScan {
  readonly #inner: NativeParquetScan;

  constructor(fileSize: number, query: ParquetQuery) {
    this.#inner = new NativeParquetScan(fileSize, query);
  }

  /** Parses and checks the footer (the `length` bytes before the last 8), prunes and plans. */
  open(footer: Buffer): Promise<ParquetOpened> {
    return this.#inner.open(footer);
  }

  /** Hands over the ranges the previous step asked for and decodes on. */
  next(ranges: number[] = [], buffers: Buffer[] = []): Promise<ParquetStep> {
    return this.#inner.next(ranges, buffers);
  }
}

/** Batch column kinds (encode.rs). */
export const PARQUET_COLUMN = {
  NULL: 0,
  F64: 1,
  I64: 2,
  BOOL: 3,
  TEXT: 4,
  DEC64: 5,
  DECTEXT: 6,
  TIME: 7,
  JSON: 8,
  BIGTEXT: 9,
} as const;
