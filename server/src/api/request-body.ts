// Small request documents (XML configurations, DeleteObjects, CompleteMultipartUpload) are read whole, up to
// a limit; object data never goes through here.
import { createHash } from 'node:crypto';
import { S3Error } from '../errors.js';
import type { S3Request } from './types.js';

export const MAX_DOC_BYTES = 2 * 1024 * 1024;

export async function readDocument(req: S3Request, limit = MAX_DOC_BYTES): Promise<string> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of req.body as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > limit) throw new S3Error('MalformedXML', 'The XML you provided was larger than the maximum allowed size.');
    parts.push(chunk);
  }
  const buf = Buffer.concat(parts);
  const md5 = req.headers['content-md5'];
  if (typeof md5 === 'string' && md5 !== '') {
    if (createHash('md5').update(buf).digest('base64') !== md5) throw new S3Error('BadDigest');
  }
  return buf.toString('utf8');
}

/** Reads and discards a body (operations that take none but were sent one). */
export async function drain(req: S3Request): Promise<void> {
  for await (const _ of req.body) {
    // discard
  }
}
