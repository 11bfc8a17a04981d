// GetObject and HeadObject: conditional reads, ranges (clamped like S3), partNumber, response-* overrides,
// checksum mode. Bodies stream from storage to the socket with backpressure.
import { objectEvent } from './notify/event.js';
import { S3Error, isS3Error } from '../errors.js';
import { asHeaderBytes, checkConditions, httpDate, objectHeaders, parseRange, quoteEtag } from './object-headers.js';
import type { ObjectInfo, OpenedObject } from '../storage/object-layer.js';
import { expirationHeader } from './lifecycle/index.js';
import { lockHeaders } from './object-lock.js';
import { replicationHeaders } from './replication/index.js';
import { partRange, refuseDeleteMarker } from './object-read.js';
import { encryptionHeaders, keysForRead, readDecrypted, wipeKey, type DataKey } from './sse/index.js';
import { emptyResponse, type ApiContext, type S3Request, type S3Response } from './types.js';

const OVERRIDES: Record<string, string> = {
  'response-content-type': 'content-type',
  'response-content-language': 'content-language',
  'response-expires': 'expires',
  'response-cache-control': 'cache-control',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
};

function applyOverrides(req: S3Request, h: Record<string, string | number>): void {
  for (const [param, header] of Object.entries(OVERRIDES)) {
    const v = req.query.get(param);
    if (v === null) continue;
    if (!req.caller)
      throw new S3Error(
        'InvalidRequest',
        'Request specific response headers cannot be used for anonymous GET requests.',
      );
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(v))
      throw new S3Error('InvalidArgument', `${param} contains characters not allowed in a header`, {
        ArgumentName: param,
      });
    h[header] = asHeaderBytes(v);
  }
}

/** What the answer to GET/HEAD of this version is, before any data: headers, range, or a 304/error. */
interface Plan {
  headers: Record<string, string | number>;
  range?: { start: number; end: number };
  /** A 304 answer (no body). */
  notModified?: S3Response;
}

function planAnswer(
  req: S3Request,
  info: ObjectInfo,
  versionId: string | undefined,
  partNumber: number | undefined,
): Plan {
  if (partNumber !== undefined && partNumber > Math.max(1, info.parts?.length ?? 1)) {
    throw new S3Error('InvalidPart', 'The requested partnumber is not satisfiable');
  }
  refuseDeleteMarker(info, versionId);
  // A whole-object checksum describes whole-object answers only (ranges and parts get none, as in S3).
  const checksumMode =
    String(req.headers['x-amz-checksum-mode'] ?? '').toUpperCase() === 'ENABLED' && req.headers.range === undefined;
  const headers = objectHeaders(info, { checksumMode: checksumMode && partNumber === undefined });
  if (checkConditions(req.headers, info) === 304) {
    const h: Record<string, string | number> = {
      etag: quoteEtag(info.etag),
      'last-modified': httpDate(info.lastModified),
    };
    if (headers['x-amz-version-id']) h['x-amz-version-id'] = headers['x-amz-version-id'];
    return { headers, notModified: emptyResponse(304, h) };
  }
  applyOverrides(req, headers);
  // A part read carries that part's checksum (multipart objects with checksums), as S3 does.
  const part = partNumber !== undefined ? info.parts?.[partNumber - 1] : undefined;
  if (part?.checksum && checksumMode) {
    headers[`x-amz-checksum-${part.checksum.algorithm.toLowerCase()}`] = part.checksum.value;
    headers['x-amz-checksum-type'] = info.checksum?.type ?? part.checksum.type;
  }
  const rangeHeader = typeof req.headers.range === 'string' ? req.headers.range : undefined;
  if (rangeHeader !== undefined && partNumber !== undefined)
    throw new S3Error('InvalidRequest', 'Cannot specify both Range header and partNumber query parameter');
  const range = partNumber === undefined ? parseRange(rangeHeader, info.size) : partRange(info, partNumber);
  return { headers, range };
}

/** A missing key says x-amz-delete-marker: false (as S3 does). */
function markNoSuchKey(e: unknown): never {
  if (isS3Error(e) && e.code === 'NoSuchKey' && e.headers['x-amz-delete-marker'] === undefined) {
    throw e.withHeaders({ 'x-amz-delete-marker': 'false' });
  }
  throw e;
}

export async function getOrHeadObject(
  ctx: ApiContext,
  req: S3Request,
  bucket: string,
  key: string,
  versionId: string | undefined,
  partNumber: number | undefined,
  head: boolean,
): Promise<S3Response> {
  // One metadata read decides headers, conditions and range, and the bytes read are that same version's.
  const rangeHeader = typeof req.headers.range === 'string' ? req.headers.range : undefined;
  const reading =
    partNumber !== undefined
      ? { readingParts: true }
      : head
        ? {}
        : {
            readingWhole: rangeHeader === undefined,
            readingRange: rangeHeader,
            conditional: req.headers['if-none-match'] !== undefined || req.headers['if-modified-since'] !== undefined,
          };
  const object = await ctx.storage.openObject(bucket, key, { versionId, ...reading }).catch(markNoSuchKey);
  try {
    const { info } = object;
    // SSE-C: the request's key must open this version's data key (before any condition is answered).
    const keys = info.deleteMarker ? undefined : await keysForRead(req, ctx.sse ?? {}, info);
    // The data key is wiped on every way out: a refusal (range, condition) or HEAD at once, a body on close.
    return await answerGetOrHead(ctx, req, object, keys, versionId, partNumber, head).catch((e) => {
      wipeKey(keys);
      throw e;
    });
  } finally {
    object.release?.(); // a read begun for the whole object (or the range) and not taken (304, 412, an error)
  }
}

async function answerGetOrHead(
  ctx: ApiContext,
  req: S3Request,
  object: OpenedObject,
  keys: DataKey | undefined,
  versionId: string | undefined,
  partNumber: number | undefined,
  head: boolean,
): Promise<S3Response> {
  const { info } = object;
  const { headers, range, notModified } = planAnswer(req, info, versionId, partNumber);
  Object.assign(headers, encryptionHeaders(info.encryption));
  if (notModified) {
    wipeKey(keys);
    return notModified;
  }
  Object.assign(
    headers,
    await lockHeaders(ctx, req, info),
    await expirationHeader(ctx, info),
    replicationHeaders(info),
  );
  // partNumber=1 of an object not made by multipart: GET answers 206 with a Content-Range, HEAD 200.
  const partial = range !== undefined && (!head || partNumber === undefined || (info.parts?.length ?? 0) > 0);
  if (range && partial) {
    headers['content-range'] = `bytes ${range.start}-${range.end}/${info.size}`;
    headers['content-length'] = range.end - range.start + 1;
  } else {
    headers['content-length'] = info.size;
  }
  const status = partial ? 206 : 200;
  if (head) {
    wipeKey(keys);
    return { ...emptyResponse(status, headers), events: [objectEvent('s3:ObjectAccessed:Head', info)] };
  }
  if (!keys) {
    // A small object kept in memory goes out as one buffer (no stream) when the whole of it is asked for.
    const body = range === undefined && object.readInline ? await object.readInline() : await object.read(range);
    return { status, headers, body, events: [objectEvent('s3:ObjectAccessed:Get', info)] };
  }
  const body = await readDecrypted(object.read, info, keys, range, ctx.sse);
  body.once('close', () => wipeKey(keys)); // read to the end or cut off: no package is opened after it
  return { status, headers, body, events: [objectEvent('s3:ObjectAccessed:Get', info)] };
}
