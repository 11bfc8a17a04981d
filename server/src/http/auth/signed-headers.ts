// What a SigV4 signature must cover, as AWS requires: `host`, and every x-amz-* header the request carries.
// Otherwise whoever holds a presigned URL (or can touch a header-signed request on its way) could add
// `x-amz-copy-source`, `x-amz-acl: public-read`, `x-amz-grant-*`, `x-amz-meta-*` or `x-amz-tagging` and have
// them honoured. S3 refuses such a request with 403 AccessDenied naming the headers (HeadersNotSigned).
// The same holds for MinIO's x-minio-* headers, which change what a request may do (a replication request
// names version ids and times); MinIO's clients and the AWS SDKs sign them. SigV2's string to sign includes
// every x-amz-* header but no x-minio-* one: a SigV2 request carrying one is refused.
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../../errors.js';

/**
 * Headers whose value the signature covers even when SignedHeaders leaves them out: x-amz-content-sha256 is
 * the last line of the canonical request (S3 accepts it unsigned too).
 */
const COVERED_ANYWAY = new Set(['x-amz-content-sha256']);

/** Headers a signature must cover when present. */
const mustBeSigned = (h: string): boolean => h.startsWith('x-amz-') || h.startsWith('x-minio-');

/** Throws AccessDenied naming `host` if it is not signed, and every x-amz-* / x-minio-* header present but not signed. */
export function requireSignedHeaders(headers: IncomingHttpHeaders, signed: readonly string[]): void {
  const listed = new Set(signed);
  const unsigned = Object.keys(headers)
    .filter((h) => mustBeSigned(h) && !listed.has(h) && !COVERED_ANYWAY.has(h))
    .sort();
  if (!listed.has('host')) unsigned.unshift('host');
  if (unsigned.length === 0) return;
  throw new S3Error('AccessDenied', 'There were headers present in the request which were not signed', {
    HeadersNotSigned: unsigned.join(', '),
  });
}

/** SigV2 cannot sign x-minio-* headers (its string to sign has x-amz-* ones only): such a request is refused. */
export function refuseUnsignableHeaders(headers: IncomingHttpHeaders): void {
  const unsignable = Object.keys(headers)
    .filter((h) => h.startsWith('x-minio-'))
    .sort();
  if (unsignable.length === 0) return;
  throw new S3Error('AccessDenied', 'There were headers present in the request which were not signed', {
    HeadersNotSigned: unsignable.join(', '),
  });
}
