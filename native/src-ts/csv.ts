// S3 Select's CSV line filter (src/select_csv.rs in Rust): the lines of a chunk where WHERE's first conjunct,
// `CAST(field AS INT) op bound`, may hold; a line is dropped only when that is certain. Runs on the libuv pool.
import { native } from './binding.js';

/** The comparison's code in the kernel. */
export const CSV_INT_OPS = { '=': 0, '<>': 1, '<': 2, '<=': 3, '>': 4, '>=': 5 } as const;

export interface CsvIntLineTest {
  /** 0-based field index. */
  field: number;
  /** One-byte ASCII field and record delimiters, and quote (-1 for none). */
  fieldDelimiter: number;
  recordDelimiter: number;
  quote: number;
  op: keyof typeof CSV_INT_OPS;
  /** A safe integer. */
  bound: number;
}

/**
 * The kernel, typed here rather than from binding.d.cts: `npm install` compiles the TypeScript (the root
 * `prepare`) before it rebuilds the addon, so a checkout whose binding predates this kernel must still compile.
 */
type CsvIntFilter = (
  chunk: Buffer,
  field: number,
  fieldDelimiter: number,
  recordDelimiter: number,
  quote: number,
  op: number,
  bound: number,
) => Promise<Buffer>;
const kernel = (native as unknown as { csvIntFilterAsync: CsvIntFilter }).csvIntFilterAsync;

/**
 * The lines of `chunk` (complete lines; bytes after the last delimiter count as one) that `test` may pass, with
 * their delimiters, in a new Buffer. `chunk` must not change until the promise settles.
 */
export function csvIntFilterAsync(chunk: Buffer, test: CsvIntLineTest): Promise<Buffer> {
  const { field, fieldDelimiter, recordDelimiter, quote, op, bound } = test;
  return kernel(chunk, field, fieldDelimiter, recordDelimiter, quote, CSV_INT_OPS[op], bound);
}
