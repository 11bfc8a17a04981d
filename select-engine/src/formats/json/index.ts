// scanJson: JSON LINES (one value per line) and JSON DOCUMENT (a stream of concatenated top-level values)
// -> batches of parsed values. A top-level array is one record, as in AWS; with `arrayElements` its
// elements are delivered one by one instead, so a huge array streams in bounded memory (the planner sets
// it when the FROM path starts with `[*]` inside the document, e.g. `FROM S3Object[*][*]`).

import { recordsPerBatch } from '../../pace.js';
import { TEXT_PIECE, Utf8Text } from '../text.js';
import type { ByteSource, ScanOptions, ScanResult } from '../types.js';
import { MAX_RECORD_BYTES, scanError, overMaxRecordSize } from '../errors.js';
import { countedChunks, type DecompressingSource } from '../source.js';
import { rangeChunks } from '../range.js';
import { JsonDocumentSplitter, checkNesting } from './splitter.js';
import { parseJsonText } from './numbers.js';
import { filteredLines, LINE_GROUP } from '../line-filter.js';
import { armJsonLines, jsonLineFilterAsync, jsonLongNumberRun, PiecePass } from '@cairn/native';

export interface JsonInputOptions {
  type?: 'DOCUMENT' | 'LINES';
  /** DOCUMENT only: deliver the elements of top-level arrays as separate records. */
  arrayElements?: boolean;
}

const NEWLINE = Buffer.from('\n');

/**
 * Splits whole lines out of s into `out`; returns the position after the last complete line. `long`: s may hold a
 * number of 16 digits or more (numbers.ts).
 */
function splitLines(s: string, final: boolean, out: unknown[], long: boolean): number {
  const n = s.length;
  let pos = 0;
  while (pos < n) {
    let eol = s.indexOf('\n', pos);
    if (eol < 0) {
      if (!final) break;
      eol = n;
    }
    if (eol - pos > MAX_RECORD_BYTES / 4 && Buffer.byteLength(s.slice(pos, eol)) > MAX_RECORD_BYTES)
      throw overMaxRecordSize();
    checkNesting(s, pos, eol);
    const line = s.slice(pos, eol);
    pos = eol + 1;
    if (line.length === 0 || (line.length < 3 && line.trim() === '')) continue;
    try {
      out.push(parseJsonText(line, long));
    } catch (e) {
      if (line.trim() === '') continue;
      throw scanError('JSONParsingError', `Invalid JSON on a line of the input: ${(e as Error).message}`, e);
    }
  }
  return Math.min(pos, n);
}

export async function scanJson(
  source: ByteSource,
  json: JsonInputOptions | undefined,
  opts: ScanOptions,
): Promise<ScanResult> {
  const type = (json?.type ?? 'DOCUMENT').toUpperCase();
  if (type !== 'DOCUMENT' && type !== 'LINES') throw scanError('InvalidJsonType');
  let chunks: AsyncGenerator<Buffer>;
  const lineTest = type === 'LINES' && opts.filter ? opts.jsonLineTest : undefined;
  // Lent: pieces() below decodes a chunk to text before it asks for the next one; the line filter is done with
  // one when it asks for the LINE_GROUP-th after it.
  const lent = lineTest ? LINE_GROUP : 1;
  // The line test also goes to the source, which may run it where it reads the bytes (storage's read task, as
  // CSV's: csv/index.ts); armed at once (no header to wait for).
  const made = lineTest && !opts.scanRange && source.passedBytes ? PiecePass.create() : undefined;
  const pass = made && lineTest && armJsonLines(made, lineTest) ? made : undefined;
  if (opts.scanRange) {
    if (type !== 'LINES' || (source as Partial<DecompressingSource>).compressedBytesRead !== undefined) {
      throw scanError('UnsupportedScanRangeInput', 'ScanRange needs uncompressed JSON LINES.');
    }
    chunks = rangeChunks(source, opts, opts.scanRange, NEWLINE, lent);
  } else {
    chunks = countedChunks(source, opts, undefined, undefined, lent, pass);
  }
  // LINES: WHERE's first conjunct judged on the bytes (native/src/select_json.rs) before any decoding here.
  if (lineTest) {
    const kernel = (lines: Buffer[]) => jsonLineFilterAsync(lines, lineTest);
    const passed = pass && ((chunk: Buffer) => source.passedBytes?.(chunk) !== undefined);
    chunks = filteredLines(chunks, NEWLINE[0], () => kernel, passed);
  }
  const doc = type === 'DOCUMENT' ? new JsonDocumentSplitter(json?.arrayElements === true) : undefined;
  const split = (s: string, final: boolean, out: unknown[], long: boolean) =>
    doc ? doc.split(s, final, out, long) : splitLines(s, final, out, long);
  /** As split, with the error of a bad record returned beside the good records before it. */
  const splitUpTo = (s: string, final: boolean, out: unknown[], long: boolean): { pos: number; error?: unknown } => {
    try {
      return { pos: split(s, final, out, long) };
    } catch (error) {
      return { pos: 0, error };
    }
  };
  const filter = opts.filter;
  const limit = opts.limit ?? Infinity;
  const perBatch = filter ? recordsPerBatch(opts.filterCost) : Infinity;

  // Whether the chunk the text comes from holds a number of 16 digits or more (numbers.ts: JSON.parse would read it
  // inexactly), and the digits of the run that ended the chunk before it.
  let chunkLong = false;
  let carried = 0;
  /** The input as text, TEXT_PIECE bytes at a time (small batches keep few records alive at once). */
  async function* pieces(decoder: Utf8Text): AsyncGenerator<string> {
    for (;;) {
      const r = await chunks.next();
      if (r.done) return;
      const run = jsonLongNumberRun(r.value, carried);
      chunkLong = run < 0;
      carried = chunkLong ? 0 : run;
      // An empty chunk (the line filter dropped all its lines) still makes an (empty) batch: keep-alives go on.
      if (r.value.length === 0) yield '';
      for (let off = 0; off < r.value.length; off += TEXT_PIECE)
        yield decoder.write(r.value.subarray(off, off + TEXT_PIECE));
    }
  }

  async function* batches(): AsyncGenerator<unknown[]> {
    const decoder = new Utf8Text();
    let pending = '';
    // The pending text holds text of a chunk with a long number.
    let pendingLong = false;
    let passed = 0;
    // The records of one piece of text, filtered and cut to LIMIT, as batches of at most `perBatch` records
    // filtered (the caller may pause between them). Sets `done` once LIMIT is reached.
    let done = false;
    function* emit(recs: unknown[]): Generator<unknown[]> {
      for (let from = 0; from < recs.length || from === 0; from += perBatch) {
        let batch = recs.length <= perBatch ? recs : recs.slice(from, from + perBatch);
        if (filter) {
          // Records after the one that reaches LIMIT are never filtered (an error there must not fail the query).
          const all = batch;
          batch = [];
          for (let i = 0; i < all.length && passed + batch.length < limit; i++) if (filter(all[i])) batch.push(all[i]);
        }
        if (passed + batch.length >= limit) {
          done = true;
          yield batch.slice(0, limit - passed);
          return;
        }
        passed += batch.length;
        yield batch;
      }
    }
    try {
      if (limit <= 0) return;
      for await (const text of pieces(decoder)) {
        const s = pending + text;
        const long = chunkLong || pendingLong;
        const recs: unknown[] = [];
        const { pos, error } = splitUpTo(s, false, recs, long);
        // The records before a bad one are evaluated first (their errors, LIMIT, come before its error): the
        // error a query ends with does not depend on where chunks or batches were cut.
        if (error !== undefined) {
          yield* emit(recs);
          if (done) return;
          throw error;
        }
        // What stays pending is this text's, or still holds some of the pending text before it.
        pendingLong = chunkLong || (pendingLong && pos < pending.length);
        pending = pos === 0 ? s : s.slice(pos);
        if (pending.length > MAX_RECORD_BYTES && Buffer.byteLength(pending) > MAX_RECORD_BYTES)
          throw overMaxRecordSize();
        yield* emit(recs);
        if (done) return;
      }
      const recs: unknown[] = [];
      const { error } = splitUpTo(pending + decoder.end(), true, recs, chunkLong || pendingLong);
      yield* emit(recs);
      if (error !== undefined && !done) throw error;
    } finally {
      await chunks.return(undefined);
    }
  }

  return { filterApplied: filter !== undefined, batches: batches() };
}
