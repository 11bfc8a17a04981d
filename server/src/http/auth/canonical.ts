// Pieces of AWS's canonical request shared by SigV4 (header and presigned) and SigV2.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { sha256Hex, uriEncode } from '../../sigv4-sign.js';

// The signing primitives live with the signing side (Cairn signs its own outgoing requests with them too).
export { hmac, sha256Hex, uriEncode } from '../../sigv4-sign.js';

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Raw query string -> decoded [name, value] pairs in sent order ('+' is a space, as clients mean it). */
export function queryPairs(rawQuery: string): [string, string][] {
  if (!rawQuery) return [];
  return rawQuery
    .split('&')
    .filter(Boolean)
    .map((p) => {
      const i = p.indexOf('=');
      const k = i < 0 ? p : p.slice(0, i);
      const v = i < 0 ? '' : p.slice(i + 1);
      return [safeDecode(k.replace(/\+/g, ' ')), safeDecode(v.replace(/\+/g, ' '))];
    });
}

export function canonicalQuery(pairs: [string, string][], skip?: string): string {
  return pairs
    .filter(([k]) => k !== skip)
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

const UNRESERVED_PATH = /^[A-Za-z0-9\-._~/]*$/;

/** S3 canonical URI: the decoded path, encoded once (no double encoding for S3). */
export function canonicalUri(rawPath: string): string {
  // A path of unreserved characters only (most keys) decodes and encodes to itself.
  if (UNRESERVED_PATH.test(rawPath)) return rawPath || '/';
  return (
    rawPath
      .split('/')
      .map((seg) => uriEncode(safeDecode(seg)))
      .join('/') || '/'
  );
}

export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(',') : v;
}

/** Every value of a header, one per time it was sent (Node's headersDistinct); undefined when not sent. */
export type HeaderValues = (name: string) => string[] | undefined;

/**
 * A header's value as signatures see it: a header sent several times is its values joined with ','
 * (each trimmed), as SigV4 and SigV2 define it; Node's own join (', ') would not match what clients sign.
 */
export function signedHeaderValue(
  headers: IncomingHttpHeaders,
  name: string,
  valuesOf?: HeaderValues,
): string | undefined {
  const values = valuesOf?.(name);
  if (values !== undefined && values.length > 1) return values.map((v) => v.trim()).join(',');
  return headerValue(headers, name);
}

export function canonicalHeaders(headers: IncomingHttpHeaders, signed: string[], valuesOf?: HeaderValues): string {
  const value = (h: string): string => (signedHeaderValue(headers, h, valuesOf) ?? '').trim().replace(/\s+/g, ' ');
  return signed.map((h) => `${h}:${value(h)}\n`).join('');
}

export const EMPTY_SHA256 = sha256Hex('');

/** Constant-time comparison of two signatures (hex or base64 text). */
export function sameSignature(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** `20130524T000000Z` -> epoch ms, or NaN. */
export function parseAmzDate(s: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return NaN;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
}
