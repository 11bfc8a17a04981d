// A SigV4 signer written from AWS's "Signature Version 4" and "Signature calculations for Amazon S3"
// pages, independent of the AWS SDK's signer and of Cairn's verifier: tests use it to sign what the SDK
// never sends (a credential date that is not the request's, SignedHeaders without host, expiries past a
// week) and to sign aws-chunked bodies chunk by chunk (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]).
import { createHash, createHmac } from 'node:crypto';
import { ROOT } from './users.js';

const sha256 = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');
const hmac = (key: Buffer | string, s: string): Buffer => createHmac('sha256', key).update(s).digest();
export const EMPTY_SHA256 = sha256('');

/** RFC 3986 encoding as SigV4 wants it: A-Z a-z 0-9 - _ . ~ kept, everything else %XX upper case. */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `20250102T030405Z` for a Date (whole seconds, UTC). */
export const amzDate = (d: Date): string =>
  d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

export function signingKey(secret: string, date: string, region = 'us-east-1'): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), 's3'), 'aws4_request');
}

export interface V4Request {
  method: string;
  /** The path as sent (already URI-encoded once; S3 does not encode it twice). */
  path: string;
  query?: [string, string][];
  /** Header names lower case; `host` included. Signed: every header listed in `signed` (default: all). */
  headers: Record<string, string>;
  signed?: string[];
  payloadHash: string;
  /** The request time (x-amz-date / X-Amz-Date). */
  time: Date;
  /** The date in the credential scope; default the request time's date. */
  scopeDate?: string;
  region?: string;
  credentials?: { accessKey: string; secretKey: string };
}

export interface V4Signature {
  signature: string;
  scope: string;
  key: Buffer;
  credential: string;
  signedHeaders: string;
}

/** Encoded name=value pairs sorted by name, then value (code-unit order, as AWS sorts them). */
function canonicalQuery(q: [string, string][]): string {
  const pairs = q.map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`);
  return pairs
    .sort((a, b) => {
      const [ka, va] = a.split('=');
      const [kb, vb] = b.split('=');
      return ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0;
    })
    .join('&');
}

export function signV4(r: V4Request): V4Signature {
  const c = r.credentials ?? ROOT;
  const region = r.region ?? 'us-east-1';
  const when = amzDate(r.time);
  const scopeDate = r.scopeDate ?? when.slice(0, 8);
  const names = (r.signed ?? Object.keys(r.headers)).map((h) => h.toLowerCase()).sort();
  const canonicalHeaders = names.map((h) => `${h}:${(r.headers[h] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const signedHeaders = names.join(';');
  const query = canonicalQuery(r.query ?? []);
  const canonical = [r.method, r.path, query, canonicalHeaders, signedHeaders, r.payloadHash].join('\n');
  const scope = `${scopeDate}/${region}/s3/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', when, scope, sha256(canonical)].join('\n');
  const key = signingKey(c.secretKey, scopeDate, region);
  const signature = hmac(key, stringToSign).toString('hex');
  return { signature, scope, key, credential: `${c.accessKey}/${scope}`, signedHeaders };
}

/** The Authorization header of a signed request. */
export function authorization(s: V4Signature): string {
  return `AWS4-HMAC-SHA256 Credential=${s.credential}, SignedHeaders=${s.signedHeaders}, Signature=${s.signature}`;
}

/**
 * A presigned URL's query (the X-Amz-* parameters, X-Amz-Signature last) for `r` with `expires` seconds;
 * `r.query` holds any other parameters. Only `host` is signed unless `r.signed` says otherwise.
 */
export function presignV4(r: Omit<V4Request, 'payloadHash'>, expires: number): [string, string][] {
  const c = r.credentials ?? ROOT;
  const when = amzDate(r.time);
  const scopeDate = r.scopeDate ?? when.slice(0, 8);
  const names = (r.signed ?? ['host']).map((h) => h.toLowerCase()).sort();
  const params: [string, string][] = [
    ...(r.query ?? []),
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Credential', `${c.accessKey}/${scopeDate}/${r.region ?? 'us-east-1'}/s3/aws4_request`],
    ['X-Amz-Date', when],
    ['X-Amz-Expires', String(expires)],
    ['X-Amz-SignedHeaders', names.join(';')],
  ];
  const s = signV4({ ...r, query: params, signed: names, payloadHash: 'UNSIGNED-PAYLOAD' });
  return [...params, ['X-Amz-Signature', s.signature]];
}

export const queryString = (q: [string, string][]): string =>
  q.map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).join('&');

/** The signature of one aws-chunked chunk, chained from the previous one (the seed: the request's). */
export function chunkSignature(s: V4Signature, time: Date, previous: string, chunk: Buffer): string {
  const sts = ['AWS4-HMAC-SHA256-PAYLOAD', amzDate(time), s.scope, previous, EMPTY_SHA256, sha256(chunk)].join('\n');
  return hmac(s.key, sts).toString('hex');
}

/** The signature of the trailing headers (`name:value\n` each, in the order sent) after the last chunk. */
export function trailerSignature(s: V4Signature, time: Date, previous: string, trailers: [string, string][]): string {
  const canonical = trailers.map(([k, v]) => `${k}:${v}\n`).join('');
  const sts = ['AWS4-HMAC-SHA256-TRAILER', amzDate(time), s.scope, previous, sha256(canonical)].join('\n');
  return hmac(s.key, sts).toString('hex');
}

/**
 * A signed aws-chunked body of `chunks` (the last, empty chunk added), with signed trailers when given.
 * `tamper` lets a test change the bytes of one chunk after it was signed.
 */
export function signedChunkedBody(
  s: V4Signature,
  time: Date,
  chunks: Buffer[],
  trailers?: [string, string][],
  tamper?: (i: number, c: Buffer) => Buffer,
): Buffer {
  const out: Buffer[] = [];
  let previous = s.signature;
  for (const [i, c] of [...chunks, Buffer.alloc(0)].entries()) {
    previous = chunkSignature(s, time, previous, c);
    const sent = tamper ? tamper(i, c) : c;
    const head = `${c.length.toString(16)};chunk-signature=${previous}\r\n`;
    // The empty last chunk has no data line: the trailers (if any) and the closing empty line follow it.
    out.push(Buffer.from(head), sent, Buffer.from(c.length ? '\r\n' : ''));
  }
  if (trailers) {
    for (const [k, v] of trailers) out.push(Buffer.from(`${k}:${v}\r\n`));
    out.push(Buffer.from(`x-amz-trailer-signature:${trailerSignature(s, time, previous, trailers)}\r\n`));
  }
  out.push(Buffer.from('\r\n'));
  return Buffer.concat(out);
}
