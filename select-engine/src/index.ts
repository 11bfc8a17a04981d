// S3 Select engine: public entry point.
//
//   const frames = await runSelect(request, source);   // throws SelectError before streaming starts
//   for await (const frame of frames) socket.write(frame); // AWS event-stream messages
//
// Everything that can fail before the first byte is sent (request, SQL, plan, opening the scanner and its
// CSV header) fails in the awaited call, so the server can still answer with an XML error; later errors
// arrive as an event-stream error message.
import { compileQuery, executeQuery, type WriterFactory } from './exec/pipeline.js';
import { Pacer } from './pace.js';
import { scanCsv, scanJson, scanParquet, withDecompression } from './formats/index.js';
import type { ByteSource, ScanOptions, ScanResult } from './formats/types.js';
import { csvRowWriter } from './output/csv-writer.js';
import { jsonRowWriter } from './output/json-writer.js';
import { frameStream } from './output/stream.js';
import type { ByteCounts } from './output/event-stream.js';
import { arrowStream } from './output/arrow-stream.js';
import type { RecordShape } from './plan/bind.js';
import { buildPlan, type InputFormat, type Plan } from './plan/plan.js';
import { csvLineTest, jsonLineTest, scanAggregates, scanWhere } from './plan/conjuncts.js';
import { validateRequest, type SelectRequest } from './request.js';
import type { Value } from './exec/values.js';
import { parseSql } from './sql/to-ast.js';

export const SELECT_ENGINE_VERSION = '0.1.0';

export { SelectError, isSelectError, SELECT_ERRORS, type SelectErrorCode } from './errors.js';
export { parseSelectRequestXml, validateRequest, type SelectRequest } from './request.js';
export { parseSql } from './sql/to-ast.js';
export type { ByteSource, ScanOptions, ScanResult, ScanRecord, SimplePredicate } from './formats/types.js';
export { bufferSource, fileSource } from './formats/index.js';
export type { ByteCounts } from './output/event-stream.js';
// Linear-time wildcard matching (LIKE here; the server's bucket policies use the same matcher).
export { ANY, ONE, compileWildcard, globParts, type WildcardMatcher, type WildcardPart } from './wildcard.js';
export { Pacer, SLICE_MS } from './pace.js';

/** Opens a scan of the source in the request's input format (tests may pass their own). */
export type Scanner = (
  source: ByteSource,
  request: SelectRequest,
  opts: ScanOptions,
  format: InputFormat,
) => Promise<ScanResult>;

export interface RunOptions {
  scanner?: Scanner;
  /** Clock for UTCNOW (ms since the epoch); default Date.now() at the start of the query. */
  nowMs?: number;
  /** Keep-alive interval (default 1000 ms) and Progress interval (default 1000 ms). */
  keepAliveMs?: number;
  progressMs?: number;
  signal?: AbortSignal;
  /** Time slices of the query's work on the event loop (default: a new Pacer; tests pass their own to count pauses). */
  pacer?: Pacer;
  /**
   * Called once when the frame stream ends (finished, failed or cut off by the consumer) with the bytes the
   * query scanned, processed and returned so far (the Stats message's figures): the server's metrics.
   */
  onStats?: (counts: ByteCounts) => void;
}

export function inputFormat(r: SelectRequest): InputFormat {
  return r.input.csv ? 'CSV' : r.input.json ? 'JSON' : 'Parquet';
}

/** The scanners of src/formats, behind decompression for CSV and JSON. */
export const defaultScanner: Scanner = (source, request, opts, format) => {
  if (format === 'Parquet') return scanParquet(source, request.input.parquet, opts);
  const src = withDecompression(source, request.input.compressionType, opts.pacer);
  return format === 'CSV' ? scanCsv(src, request.input.csv, opts) : scanJson(src, request.input.json, opts);
};

function writerFor(r: SelectRequest): WriterFactory {
  // Arrow output is built from JSON lines (output/arrow-stream.ts).
  if (r.arrowOutput) return (p) => jsonRowWriter(p, { recordDelimiter: '\n' });
  if (r.output.csv) {
    // Ceph writes NULL (an empty CSV field included) as `null` and quotes fields only when asked to ALWAYS
    // (s3-tests test_csv_parser).
    const o = r.dialect === 'ceph' ? { ...r.output.csv, nullText: 'null', quoteAsNeeded: false } : r.output.csv;
    return (p) => csvRowWriter(p, o);
  }
  const o = r.output.json ?? {};
  // Ceph answers JSON input with the values of each record joined by commas, as its CSV output (what
  // s3-tests test_count_json_operation and test_json_column_sum_min_max read).
  if (r.dialect === 'ceph') {
    const csv = { recordDelimiter: o.recordDelimiter ?? '\n', nullText: 'null', quoteAsNeeded: false };
    return (p) => csvRowWriter(p, csv);
  }
  return (p) => jsonRowWriter(p, o);
}

/** FROM S3Object[*][*]...: the JSON scanner can deliver top-level array elements as records itself. */
function jsonArrayElements(plan: Plan, format: InputFormat, r: SelectRequest): boolean {
  return format === 'JSON' && r.input.json?.type === 'DOCUMENT' && plan.unnest[0]?.kind === 'wildcard';
}

export async function runSelect(
  request: SelectRequest,
  source: ByteSource,
  options: RunOptions = {},
): Promise<AsyncIterable<Uint8Array>> {
  const validated = validateRequest(request);
  // The ceph dialect reads CSV with Ceph's quoting (formats/csv/dialect.ts, cephQuoting).
  const req =
    validated.dialect === 'ceph' && validated.input.csv
      ? { ...validated, input: { ...validated.input, csv: { ...validated.input.csv, cephQuoting: true } } }
      : validated;
  const stmt = parseSql(req.expression, req.dialect);
  const format = inputFormat(req);
  const plan = buildPlan(stmt, format);
  const nowMs = options.nowMs ?? Date.now();
  const writer = writerFor(req);
  const arrayElements = jsonArrayElements(plan, format, req);
  if (arrayElements) plan.unnest = plan.unnest.slice(1);

  // Queries compile before the scan opens, except over CSV with a header: its names resolve only once the
  // scanner has read the header line, so the filter handed to the scanner is bound late (one indirection).
  const needsHeader = format === 'CSV' && req.input.csv?.fileHeaderInfo?.toUpperCase() === 'USE';
  let query = needsHeader
    ? undefined
    : compileQuery(plan, { kind: format === 'CSV' ? 'csv' : 'object' }, writer, nowMs);
  let lateFilter: ((row: unknown) => boolean) | undefined;
  const pushFilter = plan.pushFilter && plan.unnest.length === 0 && !!stmt.where;
  // One pacer for the whole query: scanners cut their batches by cost, the executor pauses between them.
  const pacer = options.pacer ?? new Pacer();
  const abort = new AbortController();
  options.signal?.addEventListener('abort', () => abort.abort(options.signal!.reason), { once: true });
  const where = pushFilter && format === 'Parquet' ? scanWhere(stmt.where, stmt.from.alias) : undefined;
  // Ceph reads CSV otherwise (an empty field is NULL, quotes anywhere): its rows stay with the evaluator.
  const csvTest =
    pushFilter && format === 'CSV' && stmt.dialect !== 'ceph' ? csvLineTest(stmt.where, stmt.from.alias) : undefined;
  const jsonTest =
    pushFilter && format === 'JSON' && stmt.dialect !== 'ceph' ? jsonLineTest(stmt.where, stmt.from.alias) : undefined;
  const shaped = stmt.groupBy !== undefined || stmt.orderBy !== undefined || stmt.distinct === true;
  const parquetAggregates = format === 'Parquet' && plan.aggregate && plan.unnest.length === 0 && !shaped;
  const opts: ScanOptions = {
    columns: plan.columns,
    conjuncts: plan.conjuncts,
    where,
    csvLineTest: csvTest,
    jsonLineTest: jsonTest,
    aggregates: parquetAggregates ? scanAggregates(stmt, where) : undefined,
    // Parquet's queries compile again once the scan has opened (its column types), so their filter is late too.
    filter: pushFilter ? (query && format !== 'Parquet' ? query.filter : (rec) => lateFilter!(rec)) : undefined,
    filterCost: plan.filterCost,
    pacer,
    filterColumns: pushFilter ? plan.filterColumns : undefined,
    limit:
      !plan.aggregate && !shaped && plan.unnest.length === 0 && (pushFilter || !stmt.where) ? plan.limit : undefined,
    scanRange: req.scanRange,
    stats: { bytesScanned: 0, bytesProcessed: 0 },
    signal: abort.signal,
  };
  const scanner = options.scanner ?? defaultScanner;
  const scanOpts =
    format === 'JSON' && arrayElements
      ? { ...req, input: { ...req.input, json: { ...req.input.json, arrayElements: true } } }
      : req;
  lateFilter = query?.filter;
  const result = await scanner(source, scanOpts, opts, format);
  // Parquet's schema types the columns (result.columns): the query compiles again with its paths typed.
  const typed = query !== undefined && result.columns !== undefined && plan.unnest.length === 0;
  if (!query || typed) {
    const shape: RecordShape = typed
      ? { kind: 'object', columns: result.columns }
      : { kind: 'csv', header: result.header, emptyFile: result.header === undefined };
    try {
      query = compileQuery(plan, shape, writer, nowMs);
    } catch (e) {
      // Close the scan we opened before reporting (e.g. a header name missing from the file).
      abort.abort(e);
      await (result.batches as AsyncGenerator<unknown>).return?.(undefined);
      throw e;
    }
    lateFilter = query.filter;
  }
  if (result.aggregates && query.aggregate) {
    // The scan computed the aggregates (one per SELECT item, in order): the accumulators read its results.
    const scanned = result.aggregates;
    const accs = query.aggregate.accumulators;
    accs.forEach((_, k) => (accs[k] = { add: () => undefined, result: () => scanned.values?.[k] as Value }));
  }
  const pacing = { pacer, rowCost: plan.rowCost, filterCost: plan.filterCost };
  const texts = executeQuery(query, result.batches, pushFilter && result.filterApplied, pacing);
  return {
    [Symbol.asyncIterator]: () =>
      frameStream(req.arrowOutput ? arrowStream(texts) : texts, {
        stats: opts.stats,
        progress: req.requestProgress === true,
        keepAliveMs: options.keepAliveMs ?? 1000,
        progressMs: options.progressMs ?? 1000,
        onClose: () => abort.abort(new Error('select stream closed')),
        onStats: options.onStats,
      }),
  };
}
