// AWS Signature Version 2, for old clients: `Authorization: AWS AK:signature` and presigned URLs
// (AWSAccessKeyId, Expires, Signature). HMAC-SHA1 over verb, Content-MD5, Content-Type, date (or Expires),
// the x-amz-* headers and the resource with its sub-resources.
import { createHmac } from 'node:crypto';
import { S3Error } from '../../errors.js';
import { resolveSigner, type CredentialSource, type Identity } from './credentials.js';
import { canonicalUri, headerValue, queryPairs, sameSignature, signedHeaderValue } from './canonical.js';
import { refuseUnsignableHeaders } from './signed-headers.js';
import { MAX_SKEW_MS, type SignedRequest } from './sigv4.js';

const SUBRESOURCES = new Set([
  'acl',
  'cors',
  'delete',
  'encryption',
  'lifecycle',
  'location',
  'logging',
  'notification',
  'partNumber',
  'policy',
  'requestPayment',
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
  'response-content-language',
  'response-content-type',
  'response-expires',
  'tagging',
  'torrent',
  'uploadId',
  'uploads',
  'versionId',
  'versioning',
  'versions',
  'website',
  'select',
  'select-type',
  'restore',
  'object-lock',
  'retention',
  'legal-hold',
  'policyStatus',
  'attributes',
]);

export interface SigV2Context {
  credentials: CredentialSource;
  now(): number;
}

function stringToSign(req: SignedRequest, date: string, virtualBucket?: string, bucketSlash = false): string {
  const amz = Object.keys(req.headers)
    .filter((h) => h.startsWith('x-amz-'))
    .sort()
    .map((h) => `${h}:${(signedHeaderValue(req.headers, h, req.valuesOf) ?? '').trim()}\n`)
    .join('');
  const subs = queryPairs(req.rawQuery)
    .filter(([k]) => SUBRESOURCES.has(k))
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([k, v]) => (v === '' ? k : `${k}=${v}`));
  let path = (virtualBucket ? `/${virtualBucket}` : '') + canonicalUri(req.rawPath);
  // A bucket-level resource is signed as `/bucket/` by some clients (botocore) and `/bucket` by others.
  if (bucketSlash) path += '/';
  const resource = path + (subs.length ? `?${subs.join('&')}` : '');
  return [
    req.method,
    headerValue(req.headers, 'content-md5') ?? '',
    headerValue(req.headers, 'content-type') ?? '',
    date,
    amz + resource,
  ].join('\n');
}

function check(
  secret: string,
  req: SignedRequest,
  date: string,
  virtualBucket: string | undefined,
  signature: string,
): void {
  const sts = stringToSign(req, date, virtualBucket);
  if (sameSignature(createHmac('sha1', secret).update(sts).digest('base64'), signature)) return;
  const path = (virtualBucket ? `/${virtualBucket}` : '') + req.rawPath;
  if (/^\/[^/]+$/.test(path)) {
    const alt = stringToSign(req, date, virtualBucket, true);
    if (sameSignature(createHmac('sha1', secret).update(alt).digest('base64'), signature)) return;
  }
  throw new S3Error('SignatureDoesNotMatch', undefined, { StringToSign: sts });
}

export function verifyHeaderV2(
  ctx: SigV2Context,
  req: SignedRequest,
  authorization: string,
  virtualBucket?: string,
): Identity {
  const m = /^AWS ([^:]+):(.+)$/.exec(authorization.trim());
  if (!m) throw new S3Error('AccessDenied', "Authorization header is invalid -- one and only one ' ' (space) required");
  refuseUnsignableHeaders(req.headers);
  const identity = resolveSigner(ctx.credentials, m[1], headerValue(req.headers, 'x-amz-security-token'));
  const amzDate = headerValue(req.headers, 'x-amz-date');
  const when = Date.parse(amzDate ?? headerValue(req.headers, 'date') ?? '');
  if (Number.isNaN(when))
    throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  if (Math.abs(ctx.now() - when) > MAX_SKEW_MS) throw new S3Error('RequestTimeTooSkewed');
  check(
    identity.secretKey,
    req,
    amzDate !== undefined ? '' : (headerValue(req.headers, 'date') ?? ''),
    virtualBucket,
    m[2],
  );
  return identity;
}

export function verifyPresignedV2(ctx: SigV2Context, req: SignedRequest, virtualBucket?: string): Identity {
  const q = new Map(queryPairs(req.rawQuery));
  const ak = q.get('AWSAccessKeyId');
  const expires = q.get('Expires');
  const signature = q.get('Signature');
  if (!ak || !expires || !signature)
    throw new S3Error(
      'AccessDenied',
      'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters',
    );
  if (!/^\d+$/.test(expires)) throw new S3Error('AccessDenied', 'Expires must be a number of seconds since the epoch');
  refuseUnsignableHeaders(req.headers);
  const identity = resolveSigner(ctx.credentials, ak, q.get('x-amz-security-token') ?? undefined);
  if (ctx.now() > Number(expires) * 1000) throw new S3Error('AccessDenied', 'Request has expired');
  check(identity.secretKey, req, expires, virtualBucket, signature);
  return identity;
}
