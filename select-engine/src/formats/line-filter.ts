// The native line filters in front of the text readers (CSV: csv/line-filter.ts, JSON LINES: json/index.ts):
// each source chunk loses, on the libuv pool, the lines where WHERE's first conjunct is certainly false, before
// any UTF-8 decoding or splitting here. The evaluator still runs the whole WHERE on every line that is left, so
// answers and errors are those of the reader alone; the kernels keep every line they cannot judge. Byte counts
// (Stats, Progress) are taken from the source before this.

/** An unfinished line longer than this turns the filter off for the rest of the input (as the kernels keep them). */
const MAX_CARRY = 256 * 1024;

/** The kernel over complete lines (a new Buffer of the kept ones, with their delimiters). */
export type LineKernel = (lines: Buffer) => Promise<Buffer>;

/**
 * `chunks` with the lines `kernel()` certainly rejects left out; a chunk (possibly empty) per source chunk, so
 * that the reader still hands out (empty) batches while nothing matches. `kernel()` is asked before each chunk:
 * undefined while it cannot judge yet (chunks then go through whole, cut at their last line end: CSV's header
 * line), null to turn the filter off for good. A source chunk is done with (carries are copies) when the next is
 * asked for, so `chunks` may be lent (countedChunks).
 */
export async function* filteredLines(
  chunks: AsyncGenerator<Buffer>,
  rd: number,
  kernel: () => LineKernel | null | undefined,
): AsyncGenerator<Buffer> {
  let off = false;
  let carry: Buffer | undefined;
  for await (const piece of chunks) {
    const judge = off ? null : kernel();
    if (judge === null) {
      off = true;
      if (carry) yield carry;
      carry = undefined;
      yield piece;
      continue;
    }
    // The line the carry began ends at the chunk's first delimiter: joined (a short copy) and left to the reader.
    const eol = piece.indexOf(rd);
    if (eol < 0) {
      carry = carry ? Buffer.concat([carry, piece]) : Buffer.from(piece);
      if (carry.length > MAX_CARRY) off = true;
      yield Buffer.alloc(0);
      continue;
    }
    if (carry) yield Buffer.concat([carry, piece.subarray(0, eol + 1)]);
    else yield piece.subarray(0, eol + 1);
    // The bytes after the last delimiter begin a line the next chunk ends: copied, as a source may reuse its chunk.
    const last = piece.lastIndexOf(rd);
    carry = last + 1 < piece.length ? Buffer.from(piece.subarray(last + 1)) : undefined;
    const lines = piece.subarray(eol + 1, last + 1);
    yield judge === undefined || lines.length === 0 ? lines : await judge(lines);
  }
  // The last line, without its delimiter: the reader judges it.
  if (carry) yield carry;
}
