// scanParquet: the native scan (arrow-rs in @cairn/native) fed by ranged reads of the source. This side
// reads the footer and whatever byte ranges the scan asks for (only the needed column chunks of the row
// groups that ScanRange and min/max statistics leave, counted in stats.bytesScanned) and turns each batch
// of columns into row objects. The leading WHERE conjuncts run inside the scan on Arrow arrays; when they
// are the whole WHERE clause the rows returned satisfy it (filterApplied), else the evaluator applies
// WHERE to the rows that remain, in order, up to LIMIT.
import { ParquetScan, type ParquetStep } from '@cairn/native';
import type { ByteSource, ScanOptions, ScanResult } from '../types.js';
import { scanError, type SelectError } from '../errors.js';
import type { SelectErrorCode } from '../../errors.js';
import { countedChunks, countedRead, throwIfAborted } from '../source.js';
import { resolveScanRange } from '../range.js';
import { aggregateValues, batchRows } from './columns.js';

/** Parquet InputSerialization has no options today; kept for symmetry with CSV and JSON. */
export type ParquetInputOptions = Record<string, never>;

/** Footers beyond this are refused (a real one with thousands of row groups stays far below). */
const MAX_FOOTER_BYTES = 64 * 1024 * 1024;
/** Rows per batch: one batch of row objects is built between two awaits. */
const BATCH_ROWS = 8192;
/** Ranges closer than this are read as one (fewer reads for a few bytes more). */
const MERGE_GAP = 64 * 1024;

export function parquetError(message: string, cause?: unknown): SelectError {
  return scanError('ParquetParsingError', message, cause);
}

/** The native scan's errors carry the AWS code: `Code: message`. */
function nativeError(e: unknown): unknown {
  const m = /^(ParquetParsingError|OverMaxParquetBlockSize|ParquetUnsupportedCompressionCodec): ([\s\S]*)$/.exec(
    (e as Error)?.message ?? '',
  );
  return m ? scanError(m[1] as SelectErrorCode, m[2], e) : e;
}

async function readFooter(source: ByteSource, opts: ScanOptions): Promise<Buffer> {
  const size = source.size;
  if (size < 12) throw parquetError('The object is too small to be a Parquet file.');
  const tail = Buffer.from(await countedRead(source, opts, size - 8, size));
  if (tail.length !== 8 || tail.toString('latin1', 4) !== 'PAR1') {
    throw parquetError('The object does not end with the Parquet magic number.');
  }
  const length = tail.readUInt32LE(0);
  if (length > size - 12 || length > MAX_FOOTER_BYTES) {
    throw parquetError(`The Parquet footer length ${length} does not fit the object.`);
  }
  const footer = await countedRead(source, opts, size - 8 - length, size - 8);
  if (footer.byteLength !== length) throw parquetError('Short read of the Parquet footer.');
  return Buffer.from(footer.buffer, footer.byteOffset, footer.byteLength);
}

/** Bytes of the object in pieces: start, end pairs, one Buffer each. */
interface Pieces {
  ranges: number[];
  buffers: Buffer[];
}

/**
 * Reads the asked ranges, merging close ones, as the source's own chunks: no copy here (a row group's chunks
 * are several storage batches), the native scan joins them in the one copy it takes and cuts out what it
 * asked for. Once it has (`next` settled), `giveBack` returns them to the source, which reuses its read
 * buffers instead of allocating, and collecting, a row group's worth per read.
 */
async function readRanges(source: ByteSource, opts: ScanOptions, needs: number[]): Promise<Pieces> {
  const out: Pieces = { ranges: [], buffers: [] };
  const order = Array.from({ length: needs.length / 2 }, (_, i) => i).sort((x, y) => needs[2 * x] - needs[2 * y]);
  for (let k = 0; k < order.length; ) {
    const start = needs[2 * order[k]];
    let end = needs[2 * order[k] + 1];
    let j = k + 1;
    while (j < order.length && needs[2 * order[j]] <= end + MERGE_GAP) end = Math.max(end, needs[2 * order[j++] + 1]);
    k = j;
    if (end <= start) continue; // nothing to read: the scan needs no bytes for an empty range
    let at = start;
    for await (const chunk of countedChunks(source, opts, start, end)) {
      out.ranges.push(at, at + chunk.length);
      out.buffers.push(chunk);
      at += chunk.length;
    }
    if (at !== end) throw parquetError('Short read of the object.');
  }
  return out;
}

function giveBack(source: ByteSource, pieces: Pieces): void {
  if (source.recycle) for (const b of pieces.buffers) source.recycle(b);
}

export async function scanParquet(
  source: ByteSource,
  _parquet: ParquetInputOptions | undefined,
  opts: ScanOptions,
): Promise<ScanResult> {
  const footer = await readFooter(source, opts);
  const range = opts.scanRange ? resolveScanRange(opts.scanRange, source.size) : undefined;
  const columns = opts.columns?.map((c) => (typeof c === 'number' ? `_${c}` : String(c)));
  const scan = new ParquetScan(source.size, {
    columns,
    conjuncts: opts.where?.conjuncts ?? [],
    wholeWhere: opts.where?.whole ?? false,
    pruneOnly: opts.where?.later ?? [],
    rangeStart: range?.start,
    rangeEnd: range?.end,
    batchRows: BATCH_ROWS,
    aggregates: opts.aggregates,
  });
  const opened = await scan.open(footer).catch((e) => {
    throw nativeError(e);
  });
  // The scan's rows satisfy WHERE only when it evaluated all of it; otherwise the evaluator filters and
  // counts LIMIT over what remains.
  const exact = opened.exact;
  const limit = exact ? (opts.limit ?? Infinity) : Infinity;
  // The scan computes the aggregates: no rows come, their results arrive with the last step.
  const aggregates: ScanResult['aggregates'] = opened.aggregated ? {} : undefined;

  async function* batches(): AsyncGenerator<unknown[]> {
    if (limit <= 0) return;
    let passed = 0;
    let pieces: Pieces = { ranges: [], buffers: [] };
    for (;;) {
      throwIfAborted(opts.signal);
      let step: ParquetStep;
      try {
        step = await scan.next(pieces.ranges, pieces.buffers);
      } catch (e) {
        throw nativeError(e);
      } finally {
        giveBack(source, pieces); // the scan copied them (or failed): no view of them is left
      }
      pieces = { ranges: [], buffers: [] };
      if (step.done) {
        if (aggregates) aggregates.values = aggregateValues(step.aggregates ?? '[]');
        return;
      }
      if (step.needs) {
        pieces = await readRanges(source, opts, step.needs);
        if (aggregates) yield []; // a cue for keep-alives while the scan aggregates
        continue;
      }
      const rows = batchRows(step.batch!, opened.fields);
      if (passed + rows.length >= limit) {
        yield rows.slice(0, limit - passed);
        return;
      }
      passed += rows.length;
      yield rows;
    }
  }

  const kinds = opened.kinds;
  const typed = kinds
    ? opened.fields.map((f, i): [string, 'int' | 'float' | 'any'] => {
        const k = kinds[i];
        return [f, k === 'int' || k === 'float' ? k : 'any'];
      })
    : undefined;
  return { filterApplied: exact && opts.filter !== undefined, batches: batches(), aggregates, columns: typed };
}
