// Small request documents (XML configurations, DeleteObjects, CompleteMultipartUpload) are read whole, up to
// a limit; object data never goes through here.
import { createHash } from 'node:crypto';
import { S3Error } from '../errors.js';
import { checksumHasher } from '../storage/index.js';
import { integrity } from './put-input.js';
import type { S3Request } from './types.js';

export const MAX_DOC_BYTES = 2 * 1024 * 1024;

/**
 * Elements an XML request document may hold unless its operation allows more (DeleteObjects, multipart
 * completion). S3's own documents stay far below it (100 ACL grants, 50 tags, 100 CORS rules); parsing costs
 * about 3 us an element, so a 2 MiB document of 70,000 elements held the event loop for half a second.
 */
export const MAX_XML_ELEMENTS = 10_000;

/** Number of '<' bytes in a chunk: each element has one or two tags. */
function tagsIn(chunk: Buffer): number {
  let n = 0;
  for (let i = chunk.indexOf(0x3c); i >= 0; i = chunk.indexOf(0x3c, i + 1)) n++;
  return n;
}

export interface DocumentOptions {
  /**
   * false for CompleteMultipartUpload, whose x-amz-checksum-* headers are the checksum of the object being
   * completed, not of the request's document.
   */
  checksumHeaders?: boolean;
  /**
   * An XML document with more elements (default MAX_XML_ELEMENTS) is MalformedXML as soon as the bytes read
   * show it, before anything parses it; Infinity for a document that is not XML (a JSON policy may hold any
   * number of '<').
   */
  maxElements?: number;
}

/** Reads a request document whole, up to `limit` bytes, and checks the digests sent with it. */
export async function readDocument(req: S3Request, limit = MAX_DOC_BYTES, opts: DocumentOptions = {}): Promise<string> {
  const parts: Buffer[] = [];
  let n = 0;
  // Two tags per element, and a few more for the declaration and comments.
  const maxElements = opts.maxElements ?? MAX_XML_ELEMENTS;
  const maxTags = 2 * maxElements + 16;
  let tags = 0;
  for await (const chunk of req.body as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > limit) throw new S3Error('MalformedXML', 'The XML you provided was larger than the maximum allowed size.');
    if (maxTags !== Infinity && (tags += tagsIn(chunk)) > maxTags) {
      const message = `The XML you provided holds more than the ${maxElements} elements this request may have.`;
      throw new S3Error('MalformedXML', message);
    }
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
