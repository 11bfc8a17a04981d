// S3 Select's CSV line filter (src/select_csv.rs in Rust): the lines of a chunk where WHERE's first conjunct
// may hold; a line is dropped only when it is certainly false. Runs on the libuv pool.
import { native } from './binding.js';

/** The comparison's code in the kernel. */
export const CSV_LINE_OPS = { '=': 0, '<>': 1, '<': 2, '<=': 3, '>': 4, '>=': 5 } as const;

/** The kinds of test the kernel knows, as it numbers them. */
const KINDS = { int: 0, number: 1, equal: 2, prefix: 3 } as const;

/**
 * The test of one field: `CAST(field AS INT) op bound` (`int`, a safe integer bound), `CAST(field AS FLOAT|
 * DECIMAL) op bound` (`number`), `field = text` (`equal`, op `=`) or `field LIKE 'text%'` (`prefix`; text
 * ASCII for both).
 */
export type CsvLineJudge =
  | { kind: 'int' | 'number'; op: keyof typeof CSV_LINE_OPS; bound: number }
  | { kind: 'equal' | 'prefix'; text: string };

export interface CsvLineTest {
  /** 0-based field index. */
  field: number;
  /** One-byte ASCII field and record delimiters, and quote (-1 for none). */
  fieldDelimiter: number;
  recordDelimiter: number;
  quote: number;
  judge: CsvLineJudge;
}

/**
 * The kernel, typed here rather than from binding.d.cts: `npm install` compiles the TypeScript (the root
 * `prepare`) before it rebuilds the addon, so a checkout whose binding predates this kernel must still compile.
 */
type CsvLineFilter = (
  chunk: Buffer,
  text: Buffer,
  field: number,
  fieldDelimiter: number,
  recordDelimiter: number,
  quote: number,
  kind: number,
  op: number,
  bound: number,
) => Promise<Buffer>;
const kernel = (native as unknown as { csvLineFilterAsync: CsvLineFilter }).csvLineFilterAsync;
const NO_TEXT = Buffer.alloc(0);

/**
 * The lines of `chunk` (complete lines; bytes after the last delimiter count as one) that `test` may pass, with
 * their delimiters, in a new Buffer. `chunk` must not change until the promise settles.
 */
export function csvLineFilterAsync(chunk: Buffer, test: CsvLineTest): Promise<Buffer> {
  const { field, fieldDelimiter, recordDelimiter, quote, judge } = test;
  const kind = KINDS[judge.kind];
  if ('text' in judge) {
    const text = Buffer.from(judge.text, 'latin1');
    return kernel(chunk, text, field, fieldDelimiter, recordDelimiter, quote, kind, 0, 0);
  }
  const op = CSV_LINE_OPS[judge.op];
  return kernel(chunk, NO_TEXT, field, fieldDelimiter, recordDelimiter, quote, kind, op, judge.bound);
}
