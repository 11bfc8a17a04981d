// AWS Signature Version 4 from the signing side: the primitives the verifiers in http/auth share with Cairn's
// own outgoing requests (the S3 gateway's raw GET, `cairn admin`). One place, so a request Cairn signs and a
// request Cairn verifies are built by the same rules. Lives outside the layers: storage (the gateway) may not
// import the HTTP layer, and the HTTP layer may not import storage.
import { createHmac, hash } from 'node:crypto';

/** RFC 3986 encoding as AWS does it: unreserved characters stay, everything else is %XX (upper hex). */
export function uriEncode(s: string, keepSlash = false): string {
  const e = encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return keepSlash ? e.replace(/%2F/g, '/') : e;
}

// One-shot hash(): no Hash object per call (createHash's cost half the time, and garbage; every request hashes).
export const sha256Hex = (data: string | Buffer): string => hash('sha256', data, 'hex');
export const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();

/** The signing key of a secret for one day (`20130524`), region and service. */
export function deriveSigningKey(secret: string, day: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), service), 'aws4_request');
}

/** `x-amz-date` form of a moment: `20130524T000000Z`. */
export function amzDate(at: Date = new Date()): string {
  return at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

export interface V4Request {
  method: string;
  /** The path as sent, already in canonical form (each segment encoded once). */
  canonicalUri: string;
  /** The query in canonical form (sorted, encoded), or ''. */
  canonicalQuery: string;
  /** Every header to sign, names in lower case; must hold host and x-amz-date. Values are trimmed here. */
  headers: Record<string, string>;
  /** The x-amz-content-sha256 value: a hex SHA-256 of the body, or UNSIGNED-PAYLOAD. */
  payloadHash: string;
  accessKey: string;
  region: string;
  service: string;
  /** The signing key for the day of headers['x-amz-date'] (callers cache it: one derivation a day). */
  signingKey: Buffer;
}

/** The Authorization header value of a request signed with SigV4 (all of its headers signed). */
export function authorizationV4(r: V4Request): string {
  const date = r.headers['x-amz-date'];
  if (!date || !r.headers.host) throw new Error('authorizationV4: host and x-amz-date must be signed');
  const names = Object.keys(r.headers).sort();
  const canonical = [
    r.method,
    r.canonicalUri,
    r.canonicalQuery,
    names.map((n) => `${n}:${r.headers[n].trim().replace(/\s+/g, ' ')}\n`).join(''),
    names.join(';'),
    r.payloadHash,
  ].join('\n');
  const scope = `${date.slice(0, 8)}/${r.region}/${r.service}/aws4_request`;
  const toSign = `AWS4-HMAC-SHA256\n${date}\n${scope}\n${sha256Hex(canonical)}`;
  const signature = hmac(r.signingKey, toSign).toString('hex');
  return `AWS4-HMAC-SHA256 Credential=${r.accessKey}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
}
