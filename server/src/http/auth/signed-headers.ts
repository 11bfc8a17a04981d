// What a SigV4 signature must cover, as AWS requires: `host`, and every x-amz-* header the request carries.
// Otherwise whoever holds a presigned URL (or can touch a header-signed request on its way) could add
// `x-amz-copy-source`, `x-amz-acl: public-read`, `x-amz-grant-*`, `x-amz-meta-*` or `x-amz-tagging` and have
// them honoured. S3 refuses such a request with 403 AccessDenied naming the headers (HeadersNotSigned).
// SigV2 needs no such check: its string to sign includes every x-amz-* header the request carries.
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../../errors.js';

/**
 * Headers whose value the signature covers even when SignedHeaders leaves them out: x-amz-content-sha256 is
 * the last line of the canonical request (S3 accepts it unsigned too).
 */
const COVERED_ANYWAY = new Set(['x-amz-content-sha256']);

/** Throws AccessDenied naming `host` if it is not signed, and every x-amz-* header present but not signed. */
export function requireSignedHeaders(headers: IncomingHttpHeaders, signed: readonly string[]): void {
  const listed = new Set(signed);
  const unsigned = Object.keys(headers)
    .filter((h) => h.startsWith('x-amz-') && !listed.has(h) && !COVERED_ANYWAY.has(h))
    .sort();
  if (!listed.has('host')) unsigned.unshift('host');
  if (unsigned.length === 0) return;
  throw new S3Error('AccessDenied', 'There were headers present in the request which were not signed', {
    HeadersNotSigned: unsigned.join(', '),
  });
}
