// What a PUT-like request (PutObject, UploadPart, CreateMultipartUpload, CopyObject with REPLACE) says in
// its headers: content headers, user metadata, tagging, storage class, and the checksums to verify.
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../errors.js';
import type { ChecksumAlgorithm, PutOptions, StorageClass } from '../storage/object-layer.js';
import { parseTagQuery } from './tags.js';

const CONTENT_HEADERS = [
  'content-type',
  'content-encoding',
  'cache-control',
  'content-disposition',
  'content-language',
  'expires',
];
export const MAX_USER_METADATA = 2048;
export const MAX_KEY_BYTES = 1024;
export const MAX_SINGLE_PUT = 5 * 1024 ** 3;

const ALGORITHMS: Record<string, { alg: ChecksumAlgorithm; bytes: number }> = {
  crc32: { alg: 'CRC32', bytes: 4 },
  crc32c: { alg: 'CRC32C', bytes: 4 },
  crc64nvme: { alg: 'CRC64NVME', bytes: 8 },
  sha1: { alg: 'SHA1', bytes: 20 },
  sha256: { alg: 'SHA256', bytes: 32 },
};

/** Checksums S3 also takes that Cairn does not compute yet: asked for, they are refused, never ignored. */
const NOT_IMPLEMENTED_ALGORITHMS = new Set(['md5', 'sha512', 'xxhash64', 'xxhash3', 'xxhash128']);

function notImplementedAlgorithm(name: string): S3Error {
  return new S3Error('NotImplemented', `The ${name.toUpperCase()} checksum algorithm is not implemented`);
}

function one(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : v;
}

export function checkKey(key: string): void {
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw new S3Error('KeyTooLongError');
}

/** Values that will be sent back as response headers must be valid header text (POST form fields need not be). */
function headerText(name: string, v: string): string {
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(v))
    throw new S3Error('InvalidArgument', `${name} contains characters not allowed in a header`, { ArgumentName: name });
  return v;
}

export function contentHeaders(h: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of CONTENT_HEADERS) {
    let v = one(h, name);
    if (v === undefined) continue;
    // aws-chunked is transfer framing, not a property of the stored object.
    if (name === 'content-encoding' && v.includes('aws-chunked'))
      v = v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s && s !== 'aws-chunked')
        .join(', ');
    if (v !== '') out[name] = headerText(name, v);
  }
  return out;
}

export function userMetadata(h: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  let size = 0;
  for (const [name, value] of Object.entries(h)) {
    if (!name.startsWith('x-amz-meta-') || value === undefined) continue;
    const k = name.slice('x-amz-meta-'.length);
    const v = headerText(name, Array.isArray(value) ? value.join(',') : value);
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(k))
      throw new S3Error('InvalidArgument', 'Metadata names must be valid header names', { ArgumentName: name });
    // Values are the bytes as sent, one character per byte (dispatch.ts).
    size += k.length + Buffer.byteLength(v, /[^\x00-\xff]/.test(v) ? 'utf8' : 'latin1');
    out[k] = v;
  }
  if (size > MAX_USER_METADATA)
    throw new S3Error('MetadataTooLarge', undefined, { Size: String(size), MaxSizeAllowed: String(MAX_USER_METADATA) });
  return out;
}

export function storageClass(h: IncomingHttpHeaders): StorageClass | undefined {
  const v = one(h, 'x-amz-storage-class');
  if (v === undefined || v === '') return undefined;
  if (v === 'STANDARD' || v === 'REDUCED_REDUNDANCY') return v;
  throw new S3Error('InvalidStorageClass', undefined, { StorageClassRequested: v });
}

export function taggingHeader(h: IncomingHttpHeaders): string | undefined {
  const v = one(h, 'x-amz-tagging');
  if (v === undefined) return undefined;
  return parseTagQuery(v, 'object');
}

/**
 * The checksum algorithm a request asks for, from x-amz-checksum-algorithm, x-amz-sdk-checksum-algorithm, a
 * checksum header or x-amz-trailer.
 */
export function requestedAlgorithm(h: IncomingHttpHeaders): ChecksumAlgorithm | undefined {
  const named = one(h, 'x-amz-checksum-algorithm') ?? one(h, 'x-amz-sdk-checksum-algorithm');
  if (named) {
    const a = ALGORITHMS[named.toLowerCase()];
    if (NOT_IMPLEMENTED_ALGORITHMS.has(named.toLowerCase())) throw notImplementedAlgorithm(named);
    if (!a) throw new S3Error('InvalidRequest', `Checksum algorithm ${named} is not supported`);
    return a.alg;
  }
  for (const k of NOT_IMPLEMENTED_ALGORITHMS) {
    if (h[`x-amz-checksum-${k}`] !== undefined) throw notImplementedAlgorithm(k);
  }
  for (const k of Object.keys(ALGORITHMS)) if (h[`x-amz-checksum-${k}`] !== undefined) return ALGORITHMS[k].alg;
  const trailer = one(h, 'x-amz-trailer');
  if (trailer) {
    const m = /^x-amz-checksum-(\w+)$/.exec(trailer.trim().toLowerCase());
    if (m && NOT_IMPLEMENTED_ALGORITHMS.has(m[1])) throw notImplementedAlgorithm(m[1]);
    if (!m || !ALGORITHMS[m[1]])
      throw new S3Error('InvalidRequest', `The value specified in the x-amz-trailer header is not supported`);
    return ALGORITHMS[m[1]].alg;
  }
  return undefined;
}

function validChecksumValue(alg: ChecksumAlgorithm, value: string): boolean {
  const bytes = ALGORITHMS[alg.toLowerCase()].bytes;
  return /^[A-Za-z0-9+/]+=*$/.test(value) && Buffer.from(value, 'base64').length === bytes;
}

/**
 * Checks the request's Content-MD5 and x-amz-checksum-* (header now or trailer at the end of the body)
 * and returns the PutOptions fields that make storage compute and verify them before committing.
 */
export function integrity(
  h: IncomingHttpHeaders,
  trailers: ReadonlyMap<string, string>,
): Pick<PutOptions, 'checksumAlgorithm' | 'checksumDeclared' | 'verify'> {
  const md5 = one(h, 'content-md5');
  if (md5 !== undefined && (!/^[A-Za-z0-9+/]+=*$/.test(md5) || Buffer.from(md5, 'base64').length !== 16))
    throw new S3Error('InvalidDigest');
  const alg = requestedAlgorithm(h);
  const headerName = alg ? `x-amz-checksum-${alg.toLowerCase()}` : undefined;
  const headerValue = headerName ? one(h, headerName) : undefined;
  if (alg && headerValue !== undefined && !validChecksumValue(alg, headerValue))
    throw new S3Error('BadDigest', `Value for ${headerName} header is invalid.`);
  const trailerExpected = alg !== undefined && headerValue === undefined && one(h, 'x-amz-trailer') !== undefined;
  return {
    checksumAlgorithm: alg,
    checksumDeclared: headerValue,
    verify: (computed) => {
      if (md5 !== undefined && computed.md5.toString('base64') !== md5) throw new S3Error('BadDigest');
      if (!alg || !headerName) return;
      let expected = headerValue;
      if (trailerExpected) {
        expected = trailers.get(headerName);
        if (expected === undefined)
          throw new S3Error('InvalidRequest', `The trailing checksum ${headerName} was not sent`);
        if (!validChecksumValue(alg, expected))
          throw new S3Error('InvalidRequest', `Value for ${headerName} trailing header is invalid.`);
      }
      if (expected === undefined) return;
      if (!computed.checksum) throw new S3Error('InternalError', 'storage did not compute the requested checksum');
      if (computed.checksum.toString('base64') !== expected)
        throw new S3Error('BadDigest', `The ${alg} you specified did not match the calculated checksum.`);
    },
  };
}

export const md5Base64 = (b: Buffer): string => createHash('md5').update(b).digest('base64');
