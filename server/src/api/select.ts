// SelectObjectContent: the request document is parsed by the select engine, the object is read through a
// ByteSource over storage (the verified GET stream for CSV and JSON, ranged reads for Parquet's footer and
// column chunks), and the engine's event-stream frames go to the socket with backpressure. Everything that
// fails before the first frame is an ordinary XML error; later failures travel inside the event stream.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ByteCounts, ByteSource, SelectError, SelectRequest } from '@cairn/select-engine';
import { S3Error } from '../errors.js';
import type { PiecePass } from '@cairn/native';
import type { ObjectBody, ObjectInfo, PassedChunks, RecyclingBody } from '../storage/object-layer.js';
import { openReadable, readableVersion } from './object-read.js';
import { keysForRead, readDecrypted, wipeKey } from './sse/index.js';
import type { DataKey } from './sse/index.js';
import type { ApiContext, S3Request, S3Response } from './types.js';
import { DIALECTS, type Dialect } from './select-dialect.js';
import { selectEngine } from './select-load.js';

/** The SQL may be 256 KB; XML escaping can grow it up to 6 bytes a character (`&quot;`), plus the envelope. */
export const MAX_SELECT_BODY = 6 * 256 * 1024 + 16 * 1024;

/**
 * The bytes this process's queries scanned (as stored: compressed when the object is), processed
 * (decompressed) and returned (records), as their Stats messages give them; a query cut off or failed counts
 * what it had read by then. Plain numbers: http/metrics.ts reads them at scrape time.
 */
export class SelectCounts {
  scanned = 0;
  processed = 0;
  returned = 0;

  add(c: ByteCounts): void {
    this.scanned += c.bytesScanned;
    this.processed += c.bytesProcessed;
    this.returned += c.bytesReturned;
  }
}

/** An engine error (SQL, request, plan, CSV header) as the S3 error the HTTP edge answers with. */
function toS3(e: unknown, isSelectError: (e: unknown) => e is SelectError) {
  return isSelectError(e) ? new S3Error(e.code, e.message, {}, e.status) : e;
}

/** Reads the request document, refusing one too large to hold a 256 KB expression. */
async function readRequestBody(req: S3Request): Promise<Buffer> {
  // The rest of the body is left unread: the connection closes after the answer instead of draining it.
  const tooLong = () =>
    new S3Error(
      'ExpressionTooLong',
      'The SQL expression is too long: The maximum byte-length for the SQL expression is 256 KB.',
      {},
      400,
    ).withHeaders({ connection: 'close' });
  if (req.size > MAX_SELECT_BODY) throw tooLong();
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of req.body as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > MAX_SELECT_BODY) throw tooLong();
    parts.push(chunk);
  }
  const buf = Buffer.concat(parts, n);
  const md5 = req.headers['content-md5'];
  if (typeof md5 === 'string' && md5 !== '' && createHash('md5').update(buf).digest('base64') !== md5)
    throw new S3Error('BadDigest');
  return buf;
}

/** The body's chunks: storage's generator itself when it offers it (DirectChunks), else the stream. */
function chunksOf(body: ObjectBody): AsyncIterable<Buffer> {
  return body.chunks?.() ?? (body as AsyncIterable<Buffer>);
}

async function collect(body: ObjectBody, length: number): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of chunksOf(body)) {
    parts.push(chunk);
    n += chunk.length;
  }
  if (n !== length) throw new S3Error('InternalError', 'Short read from storage.');
  return parts.length === 1 ? parts[0] : Buffer.concat(parts, n);
}

/**
 * The object as the engine reads it. Every read names the version the query started on and checks its ETag,
 * so an overwrite while the query runs fails the query instead of mixing two objects' bytes.
 */
export function objectSource(ctx: ApiContext, info: ObjectInfo, keys?: DataKey): ByteSource {
  const versionId = info.versionId && info.versionId !== 'null' ? info.versionId : undefined;
  const open = async (start: number, end: number, pass?: PiecePass) => {
    const whole = start === 0 && end === info.size;
    const opened = await openReadable(ctx, info.bucket, info.key, versionId);
    if (opened.info.etag !== info.etag)
      throw new S3Error('PreconditionFailed', 'The object changed while the query was running.');
    const range = whole ? undefined : { start, end: end - 1 };
    // SSE-C: the packages covering the range are read and opened (Parquet footers and column chunks alike).
    return keys ? readDecrypted(opened.read, opened.info, keys, range) : opened.read(range, pass && { pass });
  };
  const clamp = (start: number, end: number): [number, number] => [
    Math.max(0, start),
    Math.min(info.size, Math.max(start, end)),
  ];
  // Storage's pooled read buffers (RecyclingBody): a chunk the scanner gives back goes to the body it came from.
  const owners = new WeakMap<Uint8Array, (chunk: Buffer) => void>();
  // Chunks that are bytes through the scanner's pass (PassedChunks), with the object bytes each stands for.
  const passed = new WeakMap<Uint8Array, number>();
  return {
    size: info.size,
    async read(start, end) {
      const [s, e] = clamp(start, end);
      if (s >= e) return new Uint8Array(0);
      return collect(await open(s, e), e - s);
    },
    async *stream(start = 0, end = info.size, pass?: PiecePass) {
      const [s, e] = clamp(start, end);
      if (s >= e) return;
      const body = await open(s, e, pass);
      const recycle = (body as Partial<RecyclingBody>).recycle?.bind(body);
      const through = pass && (body as Partial<PassedChunks>).passed?.bind(body);
      try {
        for await (const chunk of chunksOf(body)) {
          if (recycle) owners.set(chunk, recycle);
          const n = through?.(chunk);
          if (n !== undefined) passed.set(chunk, n);
          yield chunk;
        }
      } finally {
        // Stopping early (LIMIT, client gone) releases the storage stream and its read-ahead.
        body.destroy();
      }
    },
    recycle(chunk) {
      const give = owners.get(chunk);
      owners.delete(chunk);
      give?.(chunk as Buffer);
    },
    passedBytes: (chunk) => passed.get(chunk),
  };
}

/**
 * Beyond AWS, asked for in the query string (signed with the request): `x-cairn-dialect=cairn` (DISTINCT,
 * GROUP BY, ORDER BY) or `ceph` (Ceph RGW's s3select), and `x-cairn-output=arrow` (records as an Arrow IPC
 * stream). Any other value is refused.
 */
export function selectSwitches(query: URLSearchParams): Pick<SelectRequest, 'dialect' | 'arrowOutput'> {
  const out: Pick<SelectRequest, 'dialect' | 'arrowOutput'> = {};
  const dialect = query.get('x-cairn-dialect');
  if (dialect !== null) {
    if (!DIALECTS.includes(dialect as Dialect)) {
      const message = `x-cairn-dialect is ${DIALECTS.join(', ')}.`;
      throw new S3Error('InvalidArgument', message, { ArgumentName: 'x-cairn-dialect' });
    }
    out.dialect = dialect as Dialect;
  }
  const output = query.get('x-cairn-output');
  if (output !== null) {
    if (output !== 'arrow')
      throw new S3Error('InvalidArgument', 'x-cairn-output is arrow.', { ArgumentName: 'x-cairn-output' });
    out.arrowOutput = true;
  }
  return out;
}

export async function selectObjectContent(
  ctx: ApiContext,
  req: S3Request,
  bucket: string,
  key: string,
): Promise<S3Response> {
  if (req.headers.range !== undefined)
    throw new S3Error('UnsupportedRangeHeader', 'Range header is not supported for this operation.', {}, 400);

  const body = await readRequestBody(req);
  const { isSelectError, parseSelectRequestXml, runSelect } = await selectEngine();
  let request: SelectRequest;
  try {
    const dialect = ctx.selectDialect;
    request = { ...parseSelectRequestXml(body), ...(dialect && { dialect }), ...selectSwitches(req.query) };
  } catch (e) {
    throw toS3(e, isSelectError);
  }

  // One line naming the operation and its SQL: what a query engine pushed down (Presto's filters, say) is
  // visible in the server log. The expression is cut short; a 256 KB one would flood the log.
  const format = request.input.csv ? 'CSV' : request.input.json ? 'JSON' : 'Parquet';
  req.log.info(
    {
      operation: 'SelectObjectContent',
      bucket,
      key,
      expression: request.expression.slice(0, 1024),
      input: format,
      compression: request.input.compressionType,
      scanRange: request.scanRange,
    },
    'select',
  );

  const info = await readableVersion(ctx, bucket, key, undefined);
  const keys = await keysForRead(req, ctx.sse ?? {}, info);

  // The engine stops its scan when the signal fires: the socket closed before the stream ended.
  const abort = new AbortController();
  let frames: AsyncIterable<Uint8Array>;
  try {
    const counts = ctx.selectCounts;
    frames = await runSelect(request, objectSource(ctx, info, keys), {
      signal: abort.signal,
      ...(counts && { onStats: (c: ByteCounts) => counts.add(c) }),
    });
  } catch (e) {
    wipeKey(keys);
    throw toS3(e, isSelectError);
  }
  const out = Readable.from(frames, { objectMode: false });
  // Readable.from returns the iterator when destroyed; the abort also wakes a scan waiting on storage. The
  // data key is wiped then: the scan is over (finished, failed or cut off), no package is opened after it.
  out.once('close', () => {
    abort.abort(new Error('select response closed'));
    wipeKey(keys);
  });
  return { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: out };
}
