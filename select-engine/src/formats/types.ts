// The contract between the planner/evaluator (src/plan, src/exec) and the format scanners (src/formats/*).
// A scanner turns bytes into records; the planner pushes down what it can; anything a scanner does not
// report as applied exactly is evaluated again above it.

import type { PiecePass } from '@cairn/native';
import type { Pacer } from '../pace.js';

/** Where a scanner reads from. Streams for CSV/JSON, ranged reads for Parquet's footer and column chunks. */
export interface ByteSource {
  /** Total object size in bytes. */
  readonly size: number;
  /** Bytes [start, end) of the object. */
  read(start: number, end: number): Promise<Uint8Array>;
  /**
   * The bytes [start, end) (default: the whole object) as a stream of chunks. With `pass` (the CSV line filter,
   * armed by the scanner once it knows its test), a source may run it where it reads and checks the bytes (the
   * server's storage, in the same pool task) and give its output for some chunks instead (`passedBytes`).
   */
  stream(start?: number, end?: number, pass?: PiecePass): AsyncIterable<Uint8Array>;
  /**
   * Optional: for a chunk of `stream()` that is bytes through its pass, how many bytes of the object it stands for;
   * undefined for a chunk that is the object's bytes as they are.
   */
  passedBytes?(chunk: Uint8Array): number | undefined;
  /**
   * Optional: a consumer done with a chunk of `stream()` (it keeps no view of it) gives it back, and the
   * source may reuse its memory (storage's pooled read buffers). Chunks never given back are left to the GC.
   */
  recycle?(chunk: Uint8Array): void;
}

/**
 * A record as scanners deliver it:
 * - CSV: `string[]` of fields (header names are resolved by the planner to indices via `ScanResult.header`).
 *   With `columns` given, only those fields are decoded: the array ends after the last needed field (or
 *   earlier when the record is shorter: the field is MISSING) and fields not needed hold ''.
 * - JSON and Parquet: a plain JS value (object for rows); Parquet INT64 as bigint only when beyond 2^53,
 *   timestamps as Timestamp (exec/timestamp.ts), decimals as Decimal, lists as arrays, structs and maps as objects.
 * Batches may be empty (a stretch of input where nothing passed the filter): a cue for keep-alives.
 */
export type ScanRecord = string[] | unknown;

/** A comparison the scanner may use to skip data (Parquet min/max statistics) or to filter exactly. */
export interface SimplePredicate {
  /** Column: header name / Parquet column path (dot-joined), or 1-based position for `_N`. */
  column: string | number;
  op: '=' | '<>' | '<' | '<=' | '>' | '>=' | 'IS NULL' | 'IS NOT NULL';
  /** Literal compared against (number, string, boolean, Date for timestamps); absent for IS [NOT] NULL. */
  value?: number | string | boolean | Date | bigint;
}

/** A literal of a pushed conjunct, typed as the SQL evaluator types it (exact digits for INT and DECIMAL). */
export interface ScanLiteral {
  kind: 'int' | 'decimal' | 'float' | 'string' | 'bool' | 'timestamp';
  /** int: digits; decimal: unscaled digits (with `scale`); string: the text; timestamp: epoch nanoseconds. */
  text?: string;
  scale?: number;
  /** float: the double. */
  number?: number;
  /** bool: the value. */
  flag?: boolean;
}

/** A conjunct of WHERE a scanner may evaluate itself (plan/conjuncts.ts). */
export interface ScanConjunct {
  /** Field names from the row; unquoted names match case-insensitively. */
  column: { steps: string[]; quoted: boolean[] };
  op: '=' | '<>' | '<' | '<=' | '>' | '>=' | 'IS NULL' | 'IS NOT NULL' | 'IN' | 'BETWEEN' | 'LIKE PREFIX';
  values: ScanLiteral[];
}

/**
 * The leading conjuncts of WHERE's AND chain, in order. A scanner may drop a row where one of them is false
 * (the evaluator would stop there); when `whole` and the scanner evaluated them all, rows it keeps satisfy WHERE.
 */
export interface ScanWhere {
  conjuncts: ScanConjunct[];
  whole: boolean;
  /** Expressible conjuncts after the first that is not: for pruning by statistics only. */
  later?: ScanConjunct[];
}

/** An aggregate of the SELECT list a scanner may compute itself; no column for COUNT(*). */
export interface ScanAggregate {
  func: 'COUNT' | 'SUM' | 'AVG' | 'MIN' | 'MAX';
  column?: { steps: string[]; quoted: boolean[] };
}

/** A comparison the CSV line filter knows. */
export type CsvLineOp = '=' | '<>' | '<' | '<=' | '>' | '>=';

/** CSV: WHERE's first conjunct as the native line filter judges it (plan/conjuncts.ts csvLineTest). */
export interface CsvLineTest {
  /** The column as written (resolved against the header as the evaluator resolves it). */
  column: { name: string; quoted: boolean };
  /**
   * `CAST(column AS INT) op bound` (`int`, a safe integer), `CAST(column AS FLOAT|DECIMAL) op bound` (`number`),
   * `column = text` (`equal`) or `column LIKE 'text%'` (`prefix`), text ASCII.
   */
  judge: { kind: 'int' | 'number'; op: CsvLineOp; bound: number } | { kind: 'equal' | 'prefix'; text: string };
}

/** JSON LINES: WHERE's first conjunct as the native line filter judges it (plan/conjuncts.ts jsonLineTest). */
export interface JsonLineTest {
  /** The top-level field's name, as the evaluator looks it up first (exactly). */
  name: string;
  /** `field op bound` (`number`), `field = text` (`equal`) or `field LIKE 'text%'` (`prefix`). */
  judge: { kind: 'number'; op: CsvLineOp; bound: number } | { kind: 'equal' | 'prefix'; text: string };
}

export interface ScanOptions {
  /** Columns the query needs (names or 1-based positions); undefined = all (SELECT * or whole-row refs). */
  columns?: Array<string | number>;
  /** Conjuncts of the WHERE clause that are simple comparisons; usable for pruning. */
  conjuncts?: SimplePredicate[];
  /** The leading conjuncts of WHERE in evaluation order (Parquet evaluates them in the scan). */
  where?: ScanWhere;
  /** CSV: WHERE's first conjunct when the native line filter can judge it (set only with `filter`). */
  csvLineTest?: CsvLineTest;
  /** JSON LINES: the same for the native JSON line filter (set only with `filter`). */
  jsonLineTest?: JsonLineTest;
  /**
   * The SELECT list when it is only aggregates over columns and WHERE is absent or all in `where`: a scanner
   * that computes them all says so with ScanResult.aggregates and yields no records.
   */
  aggregates?: ScanAggregate[];
  /** The whole WHERE clause compiled; a scanner may apply it early (and then says so). */
  filter?: (record: ScanRecord) => boolean;
  /**
   * What one call of `filter` costs, in expression nodes. A scanner that applies the filter cuts its batches
   * to recordsPerBatch(filterCost) records (../pace.ts), so that its caller can give the event loop a turn
   * between them however costly the filter.
   */
  filterCost?: number;
  /** The query's time slices (../pace.ts), for work a scanner does between batches (BZIP2 blocks). */
  pacer?: Pacer;
  /**
   * Optional: the only columns `filter` reads. When given, the CSV scanner decodes just these fields to run
   * the filter and decodes the `columns` of a record only when it passes (late materialisation).
   */
  filterColumns?: Array<string | number>;
  /** Stop after this many records have passed the filter (only meaningful when the filter is exact). */
  limit?: number;
  /** S3 ScanRange: a record is processed when its first byte lies in [start, end] (end inclusive). */
  scanRange?: { start?: number; end?: number };
  /** Counters the scanner keeps current: bytes read from the source, bytes after decompression. */
  stats: { bytesScanned: number; bytesProcessed: number };
  signal?: AbortSignal;
}

export interface ScanResult {
  /** CSV with FileHeaderInfo USE: the header names, in file order. Filled before the first batch is yielded. */
  header?: string[];
  /**
   * Parquet: every top-level column of the records with its type from the schema ('int' for integers, 'float' for
   * floating point, 'any' for the rest), in record order: INT64 * INT64 past 64 bits is then IntegerOverflow and a
   * DOUBLE holding 7.0 divides as a FLOAT.
   */
  columns?: [string, 'int' | 'float' | 'any'][];
  /** True when `filter` was applied to every record yielded (the caller then need not apply it again). */
  filterApplied: boolean;
  /** Batches of records, in object order. Batching keeps per-record async overhead off the hot path. */
  batches: AsyncIterable<ScanRecord[]>;
  /** Set when the scanner computes `aggregates`: their results, filled once `batches` has ended. */
  aggregates?: { values?: unknown[] };
}
