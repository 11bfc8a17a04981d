// The native line filter in front of the CSV reader (native/src/select_csv.rs): when WHERE's first conjunct is
// one it knows (plan/conjuncts.ts csvLineTest: an INT, FLOAT or DECIMAL cast compared with a number, a column
// equal to a text or LIKE a prefix), each source chunk loses, on the libuv pool, the lines where it is certainly
// false, before any UTF-8 decoding or splitting here. The evaluator still runs the whole WHERE on every line
// that is left, so answers and errors are those of the reader alone; the kernel keeps every line it cannot judge
// (quotes, short lines, fields that are not plain numbers or ASCII text, long lines). Byte counts (Stats,
// Progress) are taken from the source before this.
import { csvLineFilterAsync, type CsvLineTest as NativeTest } from '@cairn/native';
import { csvColumnIndex } from '../../plan/bind.js';
import type { CsvLineTest } from '../types.js';
import type { CsvDialect } from './dialect.js';

/** An unfinished line longer than this turns the filter off for the rest of the input (as the kernel keeps them). */
const MAX_CARRY = 256 * 1024;

/** One-byte ASCII delimiters and quote, record delimiters never quoted, AWS's reading of quotes. */
export function lineFilterUsable(d: CsvDialect): boolean {
  const ascii = (s: string) => s.length === 1 && s.charCodeAt(0) < 128;
  return ascii(d.fd) && ascii(d.rd) && (d.q === '' || ascii(d.q)) && !d.allowQuotedRd && !d.ceph;
}

/** What `filteredChunks` is told of the header: not read yet, or read (its names under USE). */
export const HEADER_PENDING = Symbol('header pending');

/**
 * `chunks` with the lines `test` certainly rejects left out; a chunk (possibly empty) per source chunk, so that
 * the reader still hands out (empty) batches while nothing matches. Until `header()` says the header was read
 * (its names, undefined without names) chunks go through whole, cut at their last line end: the header line is
 * never filtered, and the column resolves as the evaluator binds it. A source chunk is done with (carries are
 * copies) when the next is asked for, so `chunks` may be lent (countedChunks).
 */
export async function* filteredChunks(
  chunks: AsyncGenerator<Buffer>,
  d: CsvDialect,
  test: CsvLineTest,
  header: () => string[] | undefined | typeof HEADER_PENDING,
): AsyncGenerator<Buffer> {
  const rd = d.rd.charCodeAt(0);
  // undefined: not resolved yet; null: the filter is off (a name the evaluator will refuse, or a long line).
  let line: NativeTest | null | undefined;
  let carry: Buffer | undefined;
  for await (const piece of chunks) {
    if (line === undefined) {
      const h = header();
      if (h !== HEADER_PENDING) line = resolve(d, test, h);
    }
    if (line === null) {
      if (carry) yield carry;
      carry = undefined;
      yield piece;
      continue;
    }
    // The line the carry began ends at the chunk's first delimiter: joined (a short copy) and left to the reader.
    const eol = piece.indexOf(rd);
    if (eol < 0) {
      carry = carry ? Buffer.concat([carry, piece]) : Buffer.from(piece);
      if (carry.length > MAX_CARRY) line = null;
      yield Buffer.alloc(0);
      continue;
    }
    if (carry) yield Buffer.concat([carry, piece.subarray(0, eol + 1)]);
    else yield piece.subarray(0, eol + 1);
    // The bytes after the last delimiter begin a line the next chunk ends: copied, as a source may reuse its chunk.
    const last = piece.lastIndexOf(rd);
    carry = last + 1 < piece.length ? Buffer.from(piece.subarray(last + 1)) : undefined;
    const lines = piece.subarray(eol + 1, last + 1);
    yield line === undefined || lines.length === 0 ? lines : await csvLineFilterAsync(lines, line);
  }
  // The last line, without its delimiter: the reader judges it.
  if (carry) yield carry;
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
