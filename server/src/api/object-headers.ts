// Headers S3 sends about an object (GET, HEAD, PUT answers), conditional-read rules and Range parsing.
import { OBJECT_ACL_META } from './acl.js';
import { S3Error } from '../errors.js';
import type { ByteRange, ObjectInfo, StoredChecksum } from '../storage/object-layer.js';

export const quoteEtag = (etag: string): string => `"${etag}"`;
export const unquoteEtag = (etag: string): string =>
  etag
    .trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1');
export const httpDate = (d: Date): string => d.toUTCString();

/**
 * Text as header bytes: the latin1 string of its UTF-8 encoding, the form stored headers keep (the bytes a
 * client sent) and app.ts writes unchanged. For values that come from elsewhere (form fields, query strings).
 */
export const asHeaderBytes = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');

export function checksumHeaderName(c: StoredChecksum): string {
  return `x-amz-checksum-${c.algorithm.toLowerCase()}`;
}

export function tagCount(tagging: string | undefined): number {
  if (!tagging) return 0;
  return new URLSearchParams(tagging).size;
}

export function objectHeaders(
  info: ObjectInfo,
  opts: { checksumMode?: boolean } = {},
): Record<string, string | number> {
  const h: Record<string, string | number> = {
    etag: quoteEtag(info.etag),
    'last-modified': httpDate(info.lastModified),
    'accept-ranges': 'bytes',
    'content-type': 'binary/octet-stream',
  };
  for (const [k, v] of Object.entries(info.contentHeaders)) h[k.toLowerCase()] = v;
  for (const [k, v] of Object.entries(info.userMetadata)) if (k !== OBJECT_ACL_META) h[`x-amz-meta-${k}`] = v;
  if (info.versionId && info.versionId !== 'null') h['x-amz-version-id'] = info.versionId;
  if (info.storageClass !== 'STANDARD') h['x-amz-storage-class'] = info.storageClass;
  const tags = tagCount(info.tagging);
  if (tags > 0) h['x-amz-tagging-count'] = tags;
  if (info.parts && info.parts.length > 0) h['x-amz-mp-parts-count'] = info.parts.length;
  if (opts.checksumMode && info.checksum) {
    h[checksumHeaderName(info.checksum)] = info.checksum.value;
    h['x-amz-checksum-type'] = info.checksum.type;
  }
  return h;
}

function headerOf(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function etagMatches(list: string, etag: string): boolean {
  return list.split(',').some((e) => {
    const t = e.trim();
    return t === '*' || unquoteEtag(t) === etag;
  });
}

/** Seconds resolution, as HTTP dates have. */
const seconds = (d: Date): number => Math.floor(d.getTime() / 1000);

/**
 * RFC 7232 order, as S3 applies it: If-Match (412) before If-Unmodified-Since; If-None-Match (304 for
 * GET/HEAD) before If-Modified-Since. Returns 304 or undefined; throws PreconditionFailed.
 */
export function checkConditions(
  headers: Record<string, string | string[] | undefined>,
  info: ObjectInfo,
  prefix = '',
): 304 | undefined {
  const ifMatch = headerOf(headers, `${prefix}if-match`);
  const ifNoneMatch = headerOf(headers, `${prefix}if-none-match`);
  const ifModSince = headerOf(headers, `${prefix}if-modified-since`);
  const ifUnmodSince = headerOf(headers, `${prefix}if-unmodified-since`);
  const modified = seconds(info.lastModified);
  if (ifMatch !== undefined) {
    if (!etagMatches(ifMatch, info.etag)) throw new S3Error('PreconditionFailed', undefined, { Condition: 'If-Match' });
  } else if (ifUnmodSince !== undefined) {
    const t = Date.parse(ifUnmodSince);
    if (!Number.isNaN(t) && modified > Math.floor(t / 1000))
      throw new S3Error('PreconditionFailed', undefined, { Condition: 'If-Unmodified-Since' });
  }
  if (ifNoneMatch !== undefined) {
    if (etagMatches(ifNoneMatch, info.etag)) {
      if (prefix) throw new S3Error('PreconditionFailed', undefined, { Condition: 'x-amz-copy-source-If-None-Match' });
      return 304;
    }
  } else if (ifModSince !== undefined) {
    const t = Date.parse(ifModSince);
    if (!Number.isNaN(t) && modified <= Math.floor(t / 1000)) {
      if (prefix)
        throw new S3Error('PreconditionFailed', undefined, { Condition: 'x-amz-copy-source-If-Modified-Since' });
      return 304;
    }
  }
  return undefined;
}

/**
 * `bytes=a-b`, `bytes=a-`, `bytes=-n`. Syntax S3 does not understand (several ranges, other units) is
 * ignored and the whole object is sent; a start past the end is 416; an end past the end is clamped.
 */
export function parseRange(value: string | undefined, size: number): ByteRange | undefined {
  if (value === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0)
      throw new S3Error('InvalidRange', undefined, { RangeRequested: value, ActualObjectSize: String(size) });
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Number(m[2]);
  if (m[2] !== '' && end < start) return undefined;
  if (start >= size)
    throw new S3Error('InvalidRange', undefined, { RangeRequested: value, ActualObjectSize: String(size) });
  return { start, end: Math.min(end, size - 1) };
}
