// Turns the raw request stream into the body handlers see: aws-chunked framing decoded (with chunk
// signatures checked), signed payload hashes verified, and the object size worked out.
import type { IncomingMessage } from 'node:http';
import { PassThrough, pipeline, type Readable } from 'node:stream';
import { S3Error } from '../errors.js';
import { AwsChunkedDecoder, Sha256Verifier } from './auth/aws-chunked.js';
import { EMPTY_SHA256 } from './auth/canonical.js';
import type { PayloadMode } from './auth/sigv4.js';

export interface DecodedBody {
  body: Readable;
  size: number;
  trailers: ReadonlyMap<string, string>;
}

const NO_TRAILERS: ReadonlyMap<string, string> = new Map();

function intHeader(v: string | string[] | undefined): number | undefined {
  if (typeof v !== 'string' || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

/** Connects source -> transform; errors of either end up on the returned stream (and destroy the other). */
function through(src: Readable, t: NodeJS.ReadWriteStream & Readable): Readable {
  pipeline(src, t, () => {});
  return t;
}

export function decodeBody(raw: IncomingMessage, payload: PayloadMode, needsLength: boolean): DecodedBody {
  const h = raw.headers;
  const contentLength = intHeader(h['content-length']);
  const chunkedTransfer = typeof h['transfer-encoding'] === 'string';
  if (h['content-length'] !== undefined && contentLength === undefined) throw new S3Error('InvalidArgument', 'Content-Length is not a number', { ArgumentName: 'Content-Length' });

  if (payload.kind === 'streaming') {
    const decodedLength = intHeader(h['x-amz-decoded-content-length']);
    if (needsLength && decodedLength === undefined && !chunkedTransfer) throw new S3Error('MissingContentLength', 'You must provide the x-amz-decoded-content-length header.');
    const decoder = new AwsChunkedDecoder({ chain: payload.signed ? payload.chain : undefined, decodedLength });
    return { body: through(raw, decoder), size: decodedLength ?? -1, trailers: decoder.trailers };
  }
  if (needsLength && contentLength === undefined && !chunkedTransfer) throw new S3Error('MissingContentLength');
  const size = contentLength ?? (chunkedTransfer ? -1 : 0);
  if (payload.kind === 'sha256') {
    // An empty body signed as empty needs no hashing pass.
    if (size === 0 && payload.expected === EMPTY_SHA256) return { body: raw, size, trailers: NO_TRAILERS };
    return { body: through(raw, new Sha256Verifier(payload.expected)), size, trailers: NO_TRAILERS };
  }
  return { body: raw, size, trailers: NO_TRAILERS };
}

export const emptyBody = (): Readable => {
  const p = new PassThrough();
  p.end();
  return p;
};
