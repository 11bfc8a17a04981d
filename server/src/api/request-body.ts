// Small request documents (XML configurations, DeleteObjects, CompleteMultipartUpload) are read whole, up to
// a limit; object data never goes through here.
import { createHash } from 'node:crypto';
import { S3Error } from '../errors.js';
import { checksumHasher } from '../storage/index.js';
import { integrity } from './put-input.js';
import type { S3Request } from './types.js';

export const MAX_DOC_BYTES = 2 * 1024 * 1024;

/**
 * `checksumHeaders: false` for CompleteMultipartUpload, whose x-amz-checksum-* headers are the checksum of
 * the object being completed, not of the request's document.
 */
export async function readDocument(
  req: S3Request, limit = MAX_DOC_BYTES, opts: { checksumHeaders?: boolean } = {},
): Promise<string> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of req.body as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > limit) throw new S3Error('MalformedXML', 'The XML you provided was larger than the maximum allowed size.');
    parts.push(chunk);
  }
  const buf = Buffer.concat(parts);
  // Content-MD5 and x-amz-checksum-* (header or trailer) cover documents too: the SDKs send them for
  // DeleteObjects and configurations, and a mismatch must refuse the request, not pass unchecked.
  const md5 = createHash('md5').update(buf).digest();
  if (opts.checksumHeaders === false) {
    const sent = req.headers['content-md5'];
    if (typeof sent === 'string' && sent !== '' && md5.toString('base64') !== sent) throw new S3Error('BadDigest');
    return buf.toString('utf8');
  }
  const { checksumAlgorithm, verify } = integrity(req.headers, req.trailers);
  const checksum = checksumAlgorithm ? checksumHasher(checksumAlgorithm) : undefined;
  checksum?.update(buf);
  await verify?.({ md5, checksum: checksum?.digest(), size: buf.length });
  return buf.toString('utf8');
}

/** Reads and discards a body (operations that take none but were sent one). */
export async function drain(req: S3Request): Promise<void> {
  for await (const _ of req.body) {
    // discard
  }
}
