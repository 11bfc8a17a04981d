// The native line filters in front of the text readers (CSV: csv/line-filter.ts, JSON LINES: json/index.ts):
// each source chunk loses, on the libuv pool, the lines where WHERE's first conjunct is certainly false, before
// any UTF-8 decoding or splitting here. The evaluator still runs the whole WHERE on every line that is left, so
// answers and errors are those of the reader alone; the kernels keep every line they cannot judge. Byte counts
// (Stats, Progress) are taken from the source before this.

/** An unfinished line longer than this turns the filter off for the rest of the input (as the kernels keep them). */
const MAX_CARRY = 256 * 1024;

/**
 * Source chunks whose lines go to the kernel in one pool task. Storage hands a block as its data shards' pieces
 * (512 KiB with 4 drives), so a call per chunk was twice the tasks and the reader's turns of 1 MiB chunks; four
 * make one task of 2 MiB. The source must lend its chunks for this many (countedChunks' `lend`).
 */
export const LINE_GROUP = 4;

/** The kernel over pieces of complete lines, in order (a new Buffer of the kept ones, with their delimiters). */
export type LineKernel = (lines: Buffer[]) => Promise<Buffer>;

/**
 * `chunks` with the lines `kernel()` certainly rejects left out: the complete lines of `LINE_GROUP` source chunks
 * (the line a chunk ends in joined to its end in the next one: a short copy) go to the kernel in one call, whose
 * output (possibly empty) is yielded; a chunk without a line end yields an empty chunk, so that the reader still
 * hands out (empty) batches while nothing matches. `kernel()` is asked before each chunk: undefined while it
 * cannot judge yet (chunks then go through whole, cut at their last line end: CSV's header line), null to turn
 * the filter off for good. A source chunk is done with (carries are copies) when the `LINE_GROUP`-th chunk after
 * it is asked for, so `chunks` may be lent for that many (countedChunks). A chunk `passed` names went through the
 * kernel's test where the source read it (countedChunks' `pass`): its complete lines go on without a kernel call.
 */
export async function* filteredLines(
  chunks: AsyncGenerator<Buffer>,
  rd: number,
  kernel: () => LineKernel | null | undefined,
  passed?: (chunk: Buffer) => boolean,
): AsyncGenerator<Buffer> {
  let off = false;
  let carry: Buffer | undefined;
  // Complete lines for the kernel, in order (views of the chunks taken since the last call, or copies).
  let pending: Buffer[] = [];
  let judge: LineKernel | undefined;
  let taken = 0;
  const flush = () => {
    const lines = pending;
    pending = [];
    taken = 0;
    return judge!(lines);
  };
  for await (const piece of chunks) {
    const now = off ? null : kernel();
    if (now === null) {
      off = true;
      if (pending.length > 0) yield await flush();
      if (carry) yield carry;
      carry = undefined;
      yield piece;
      continue;
    }
    if (passed?.(piece)) {
      // The source's pass judged the complete lines inside the bytes it stands for (../types.ts passedBytes); its
      // first line and the bytes after its last line end are as read, and they join the lines of the chunks
      // around it as any chunk's do. Lines waiting for the kernel go first.
      if (pending.length > 0) yield await flush();
      taken = 0;
      const eol = piece.indexOf(rd);
      if (eol < 0) {
        carry = carry ? Buffer.concat([carry, piece]) : Buffer.from(piece);
        if (carry.length > MAX_CARRY) off = true;
        yield Buffer.alloc(0);
        continue;
      }
      // The line the carry began, whole: the reader judges it.
      yield carry ? Buffer.concat([carry, piece.subarray(0, eol + 1)]) : piece.subarray(0, eol + 1);
      const last = piece.lastIndexOf(rd);
      carry = last + 1 < piece.length ? Buffer.from(piece.subarray(last + 1)) : undefined;
      if (last > eol) yield piece.subarray(eol + 1, last + 1);
      continue;
    }
    taken++;
    const eol = piece.indexOf(rd);
    if (eol < 0) {
      // The line the carry began goes on: joined (a copy).
      carry = carry ? Buffer.concat([carry, piece]) : Buffer.from(piece);
      if (carry.length > MAX_CARRY) off = true;
      if (taken >= LINE_GROUP && pending.length > 0) yield await flush();
      else yield Buffer.alloc(0);
      if (taken >= LINE_GROUP) taken = 0;
      continue;
    }
    // The line the carry began ends at the chunk's first delimiter.
    const first = carry ? Buffer.concat([carry, piece.subarray(0, eol + 1)]) : piece.subarray(0, eol + 1);
    // The bytes after the last delimiter begin a line the next chunk ends: copied, as a source may reuse its chunk.
    const last = piece.lastIndexOf(rd);
    carry = last + 1 < piece.length ? Buffer.from(piece.subarray(last + 1)) : undefined;
    const lines = piece.subarray(eol + 1, last + 1);
    if (now === undefined) {
      taken = 0;
      yield first;
      yield lines;
      continue;
    }
    judge = now;
    pending.push(first);
    if (lines.length > 0) pending.push(lines);
    if (taken >= LINE_GROUP) yield await flush();
  }
  if (pending.length > 0) yield await flush();
  // The last line, without its delimiter: the reader judges it.
  if (carry) yield carry;
}
