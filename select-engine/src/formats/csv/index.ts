// scanCsv: CSV bytes -> batches of string[] records, with the projection (`columns`), the compiled WHERE
// (`filter`), LIMIT and ScanRange pushed in. Memory stays bounded: at most one source chunk plus one
// unfinished record (itself limited to 1 MB) is held.

import { recordsPerBatch } from '../../pace.js';
import { TEXT_PIECE, Utf8Text } from '../text.js';
import type { ByteSource, ScanOptions, ScanResult } from '../types.js';
import { MAX_RECORD_BYTES, scanError, overMaxRecordSize } from '../errors.js';
import { countedChunks, type DecompressingSource } from '../source.js';
import { rangeChunks, resolveScanRange } from '../range.js';
import { resolveDialect, type CsvInputOptions } from './dialect.js';
import { ALL_FIELDS, CsvSplitter, type FieldSelection } from './splitter.js';
import { filteredChunks, HEADER_PENDING, lineFilterUsable } from './line-filter.js';
import { LINE_GROUP } from '../line-filter.js';
import { PiecePass } from '@cairn/native';

export type { CsvInputOptions } from './dialect.js';

/**
 * Pulls text from a chunk iterator and splits it into records, keeping the unfinished tail. A chunk is decoded
 * (copied into strings) before the next is asked for: no view of it is kept (the chunks are lent).
 */
class CsvReader {
  /** Text not split yet, from `pendingPos` on. */
  private pending = '';
  private pendingPos = 0;
  private readonly decoder = new Utf8Text();
  /** The source has ended: `pending` is the last of the text. */
  private final = false;
  private ended = false;
  /** The last split stopped at its record limit: `pending` may hold complete records still. */
  private backlog = false;
  /** The source chunk being worked through, TEXT_PIECE bytes per fill(). */
  private chunk: Buffer | undefined;
  private off = 0;

  constructor(
    private readonly chunks: AsyncGenerator<Buffer>,
    private readonly splitter: CsvSplitter,
  ) {}

  /**
   * Splits up to `max` records into `out` (the filter, when given, runs on each of them): those left from
   * the last call first, else those of the next piece of input (small batches keep few records alive at once,
   * which is what young-generation GC pays for). False once the input is done.
   */
  async fill(
    out: string[][],
    sel: FieldSelection,
    max = Infinity,
    filter?: (rec: string[]) => boolean,
    filterSel?: FieldSelection,
    outMax = Infinity,
  ): Promise<boolean> {
    if (this.ended) return false;
    if (!this.backlog && !this.final) await this.readPiece();
    const s = this.pending;
    const pos = this.splitter.split(s, this.pendingPos, this.final, out, max, sel, filter, filterSel, outMax);
    this.pendingPos = pos;
    this.backlog = this.splitter.stoppedAtMax;
    if (this.final && !this.backlog) {
      this.ended = true;
      this.pending = '';
      return false;
    }
    // What is left is one unfinished record: it may not outgrow the record limit.
    const rest = s.length - pos;
    const unfinished = !this.backlog && out.length < max;
    if (unfinished && rest > MAX_RECORD_BYTES / 4 && Buffer.byteLength(s.slice(pos)) > MAX_RECORD_BYTES) {
      throw overMaxRecordSize();
    }
    return true;
  }

  /** Appends the next TEXT_PIECE bytes of input to `pending` (or notes the end of the input). */
  private async readPiece(): Promise<void> {
    if (this.chunk === undefined || this.off >= this.chunk.length) {
      const r = await this.chunks.next();
      if (r.done) {
        this.final = true;
        this.pending = this.pending.slice(this.pendingPos) + this.decoder.end();
        this.pendingPos = 0;
        return;
      }
      this.chunk = r.value;
      this.off = 0;
    }
    const piece = this.chunk.subarray(this.off, this.off + TEXT_PIECE);
    this.off += TEXT_PIECE;
    this.pending = this.pending.slice(this.pendingPos) + this.decoder.write(piece);
    this.pendingPos = 0;
  }

  async close(): Promise<void> {
    this.ended = true;
    await this.chunks.return(undefined);
  }

  /** The first record (the header line), or undefined for an empty input. */
  async first(): Promise<string[] | undefined> {
    const out: string[][] = [];
    while (out.length === 0 && (await this.fill(out, ALL_FIELDS, 1)));
    return out[0];
  }
}

/** Maps the needed columns (1-based positions or header names) to the fields to decode. */
function selectFields(columns: ScanOptions['columns'], header: string[] | undefined): FieldSelection {
  if (columns === undefined) return ALL_FIELDS;
  const idx: number[] = [];
  for (const c of columns) {
    if (typeof c === 'number') {
      if (!Number.isInteger(c) || c < 1) throw scanError('InvalidColumnIndex', `Column index ${c} is invalid.`);
      // A record under 1 MB cannot have more fields than this: a larger index is simply MISSING.
      if (c <= MAX_RECORD_BYTES) idx.push(c - 1);
      continue;
    }
    let found = header ? header.indexOf(c) : -1;
    if (found < 0 && header) {
      const lower = c.toLowerCase();
      const before = idx.length;
      header.forEach((h, i) => h.toLowerCase() === lower && idx.push(i));
      if (idx.length > before) continue;
    }
    const positional = /^_(\d+)$/.exec(c);
    if (found < 0 && positional) found = Number(positional[1]) - 1;
    if (found < 0) return ALL_FIELDS; // unknown name: the planner reports it; decode everything meanwhile
    if (found < MAX_RECORD_BYTES) idx.push(found);
  }
  const count = idx.reduce((m, i) => Math.max(m, i + 1), 0);
  const need = new Array<boolean>(count).fill(false);
  for (const i of idx) need[i] = true;
  return { count, need };
}

export async function scanCsv(
  source: ByteSource,
  csv: CsvInputOptions | undefined,
  opts: ScanOptions,
): Promise<ScanResult> {
  const dialect = resolveDialect(csv);
  const splitter = new CsvSplitter(dialect);
  let chunks: AsyncGenerator<Buffer>;
  // The header is the file's first record: read from the main stream when the range starts at 0, else
  // (USE only: IGNORE just means the first record is not data) from a separate read of the file start.
  let startsAtZero = true;
  const filter = opts.filter as ((rec: string[]) => boolean) | undefined;
  const lineFilter = filter && opts.csvLineTest && lineFilterUsable(dialect) ? opts.csvLineTest : undefined;
  // Lent: the reader is done with a chunk when it asks for the next one, the line filter when it asks for the
  // LINE_GROUP-th after it.
  const lent = lineFilter ? LINE_GROUP : 1;
  // The line filter's test also goes to the source, which may run it where it reads the bytes (storage's read
  // task: one pool task and one wake-up for both, the bytes still in the cache): armed once the header is read.
  const pass = lineFilter && !opts.scanRange && source.passedBytes ? PiecePass.create() : undefined;
  if (opts.scanRange) {
    if ((source as Partial<DecompressingSource>).compressedBytesRead !== undefined || dialect.allowQuotedRd) {
      throw scanError(
        'UnsupportedScanRangeInput',
        'ScanRange needs uncompressed CSV without quoted record delimiters.',
      );
    }
    startsAtZero = resolveScanRange(opts.scanRange, source.size).start === 0;
    chunks = rangeChunks(source, opts, opts.scanRange, Buffer.from(dialect.rd), lent);
  } else {
    chunks = countedChunks(source, opts, undefined, undefined, lent, pass);
  }
  let header: string[] | undefined;
  let headerRead = false;
  // WHERE's first conjunct judged on the bytes (line-filter.ts), once the header is read.
  if (lineFilter) {
    const names = () => (dialect.header === 'USE' ? header : undefined);
    const read = () => (headerRead ? names() : HEADER_PENDING);
    const passed = (chunk: Buffer) => source.passedBytes?.(chunk) !== undefined;
    chunks = filteredChunks(chunks, dialect, lineFilter, read, pass && { pass, passed });
  }
  const reader = new CsvReader(chunks, splitter);
  let sel: FieldSelection;
  let filterSel: FieldSelection;
  try {
    if (dialect.header !== 'NONE' && startsAtZero) {
      header = await reader.first();
    } else if (dialect.header === 'USE') {
      const headerReader = new CsvReader(countedChunks(source, opts, 0), splitter);
      try {
        header = await headerReader.first();
      } finally {
        await headerReader.close();
      }
    }
    headerRead = true;
    const namedHeader = dialect.header === 'USE' ? header : undefined;
    sel = selectFields(opts.columns, namedHeader);
    filterSel = opts.filterColumns && filter ? selectFields(opts.filterColumns, namedHeader) : sel;
  } catch (e) {
    await reader.close();
    throw e;
  }
  const limit = opts.limit ?? Infinity;
  // With a filter, a batch is cut short after as many records as its cost allows (the caller pauses between).
  const perBatch = filter ? recordsPerBatch(opts.filterCost) : Infinity;

  async function* batches(): AsyncGenerator<string[][]> {
    let passed = 0;
    try {
      if (limit <= 0) return;
      for (;;) {
        // The splitter applies the filter as it goes (on the filter's fields only when known).
        const batch: string[][] = [];
        const more = await reader.fill(batch, sel, perBatch, filter, filterSel, limit - passed);
        if (passed + batch.length >= limit) {
          yield batch.slice(0, limit - passed);
          return;
        }
        passed += batch.length;
        // Empty batches are yielded too: they let the caller send keep-alives while nothing matches.
        yield batch;
        if (!more) return;
      }
    } finally {
      await reader.close();
    }
  }

  return {
    header: dialect.header === 'USE' ? header : undefined,
    filterApplied: filter !== undefined,
    batches: batches(),
  };
}
