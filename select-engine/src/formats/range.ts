// S3 ScanRange for delimiter-separated formats (CSV without quoted record delimiters, JSON LINES).
// A record belongs to the range its first byte falls in: we read from start - len(delimiter) to find the
// first record boundary, and past the end only as far as the delimiter that ends the last record.

import type { ByteSource, ScanOptions } from './types.js';
import { scanError } from './errors.js';
import { countedChunks } from './source.js';

/** Resolves Start/End (End inclusive; End alone = the last End bytes) to [start, endInclusive]. */
export function resolveScanRange(
  range: { start?: number; end?: number },
  size: number,
): { start: number; end: number } {
  let { start, end } = range;
  if (start === undefined && end === undefined) throw scanError('InvalidScanRange', 'ScanRange needs Start or End.');
  if (start === undefined) {
    start = Math.max(0, size - end!);
    end = size - 1;
  } else if (end === undefined) {
    end = size - 1;
  }
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw scanError('InvalidScanRange', `ScanRange Start ${range.start} End ${range.end} is invalid.`);
  }
  return { start, end: Math.min(end, size - 1) };
}

/**
 * The bytes of the records whose first byte lies in the range, as counted chunks. `delim` is the record
 * delimiter (one or two bytes). `lend`: as countedChunks' (the consumer is done with a chunk, or the view of
 * it given out, when it asks for the next).
 */
export async function* rangeChunks(
  source: ByteSource,
  opts: Pick<ScanOptions, 'stats' | 'signal'>,
  range: { start?: number; end?: number },
  delim: Buffer,
  lend: boolean | number = false,
): AsyncGenerator<Buffer> {
  const { start, end } = resolveScanRange(range, source.size);
  if (start >= source.size) return;
  const len = delim.length;
  const from = Math.max(0, start - len);
  let begun = start === 0; // true once we are inside the first record of the range
  const cutFrom = end - len + 1; // a delimiter starting here or later ends the last record
  let offset = from; // absolute offset of the current chunk
  let prevLast = -1; // last byte of the previous chunk (for a two-byte delimiter split across chunks)
  for await (const chunk of countedChunks(source, opts, from, undefined, lend)) {
    let piece = chunk;
    let pieceAt = offset;
    offset += chunk.length;
    if (!begun) {
      let at = -1;
      if (len === 2 && prevLast === delim[0] && chunk[0] === delim[1] && pieceAt - 1 >= start - len) at = 1;
      else {
        const d = chunk.indexOf(delim, Math.max(0, start - len - pieceAt));
        if (d >= 0) at = d + len;
      }
      prevLast = chunk.length ? chunk[chunk.length - 1] : prevLast;
      if (at < 0) continue;
      begun = true;
      if (pieceAt + at > end) return; // the range holds no record start
      piece = chunk.subarray(at);
      pieceAt += at;
    }
    if (pieceAt + piece.length <= cutFrom) {
      prevLast = piece.length ? piece[piece.length - 1] : prevLast;
      yield piece;
      continue;
    }
    if (len === 2 && prevLast === delim[0] && piece[0] === delim[1] && pieceAt - 1 >= cutFrom) {
      yield piece.subarray(0, 1);
      return;
    }
    const d = piece.indexOf(delim, Math.max(0, cutFrom - pieceAt));
    if (d >= 0) {
      yield piece.subarray(0, d + len);
      return;
    }
    prevLast = piece.length ? piece[piece.length - 1] : prevLast;
    yield piece;
  }
}
