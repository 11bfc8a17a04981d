// The native line filter in front of the CSV reader (native/src/select_csv.rs, run by ../line-filter.ts): when
// WHERE's first conjunct is one it knows (plan/conjuncts.ts csvLineTest: an INT, FLOAT or DECIMAL cast compared
// with a number, a column equal to a text or LIKE a prefix), the lines where it is certainly false never reach
// the reader. The kernel keeps every line it cannot judge (quotes, short lines, fields that are not plain numbers
// or ASCII text, long lines).
import { csvLineFilterAsync, type CsvLineTest as NativeTest, type PiecePass } from '@cairn/native';
import { csvColumnIndex } from '../../plan/bind.js';
import type { CsvLineTest } from '../types.js';
import type { CsvDialect } from './dialect.js';
import { filteredLines, type LineKernel } from '../line-filter.js';

/** One-byte ASCII delimiters and quote, record delimiters never quoted, AWS's reading of quotes. */
export function lineFilterUsable(d: CsvDialect): boolean {
  const ascii = (s: string) => s.length === 1 && s.charCodeAt(0) < 128;
  return ascii(d.fd) && ascii(d.rd) && (d.q === '' || ascii(d.q)) && !d.allowQuotedRd && !d.ceph;
}

/** What `filteredChunks` is told of the header: not read yet, or read (its names under USE). */
export const HEADER_PENDING = Symbol('header pending');

/**
 * `chunks` with the lines `test` certainly rejects left out (../line-filter.ts). Until `header()` says the header
 * was read (its names, undefined without names) chunks go through whole, cut at their last line end: the header
 * line is never filtered, and the column resolves as the evaluator binds it. `pass`, given to the source's
 * stream that `chunks` reads (countedChunks), is armed with the test then: the chunks `passed` names went
 * through it where the source read them.
 */
export function filteredChunks(
  chunks: AsyncGenerator<Buffer>,
  d: CsvDialect,
  test: CsvLineTest,
  header: () => string[] | undefined | typeof HEADER_PENDING,
  pass?: { pass: PiecePass; passed: (chunk: Buffer) => boolean },
): AsyncGenerator<Buffer> {
  // undefined: not resolved yet; null: the filter is off (a name the evaluator will refuse).
  let kernel: LineKernel | null | undefined;
  const resolved = () => {
    if (kernel === undefined) {
      const h = header();
      if (h !== HEADER_PENDING) {
        const line = resolve(d, test, h);
        kernel = line && ((lines) => csvLineFilterAsync(lines, line));
        if (line) pass?.pass.armCsvLines(line);
      }
    }
    return kernel;
  };
  return filteredLines(chunks, d.rd.charCodeAt(0), resolved, pass?.passed);
}

function resolve(d: CsvDialect, test: CsvLineTest, header: string[] | undefined): NativeTest | null {
  let field: number;
  try {
    field = csvColumnIndex(test.column, header);
  } catch {
    return null; // the evaluator raises it when the query compiles
  }
  return {
    field,
    fieldDelimiter: d.fd.charCodeAt(0),
    recordDelimiter: d.rd.charCodeAt(0),
    quote: d.q === '' ? -1 : d.q.charCodeAt(0),
    judge: test.judge,
  };
}
