// Turns the raw request stream into the body handlers see: aws-chunked framing decoded (with chunk
// signatures checked), signed payload hashes verified, and the object size worked out.
import { IncomingMessage } from '../node-http.js';
import type { Socket } from 'node:net';
import { finished, PassThrough, type Readable } from 'node:stream';
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

/**
 * Connects source -> transform; errors of either end up on the returned stream (and destroy the other), as
 * pipeline(src, t) did. Not pipeline itself: it aborts an AbortController at the end of every run, and that
 * AbortError (a DOMException with a stack trace) cost ~20 µs of event loop per signed upload.
 */
export function through(src: Readable, t: NodeJS.ReadWriteStream & Readable): Readable {
  src.pipe(t);
  finished(src, { writable: false }, (err) => {
    if (err) t.destroy(err);
  });
  finished(t, { readable: false }, (err) => {
    if (!err || src.destroyed || src.readableEnded) return;
    // What pipeline does to a server request: the request is destroyed, its socket kept for the answer.
    if (src instanceof IncomingMessage) src.socket = null as unknown as Socket;
    src.destroy(err);
  });
  return t;
}

export function decodeBody(raw: IncomingMessage, payload: PayloadMode, needsLength: boolean): DecodedBody {
  const h = raw.headers;
  const contentLength = intHeader(h['content-length']);
  const chunkedTransfer = typeof h['transfer-encoding'] === 'string';
  if (h['content-length'] !== undefined && contentLength === undefined)
    throw new S3Error('InvalidArgument', 'Content-Length is not a number', { ArgumentName: 'Content-Length' });

  if (payload.kind === 'streaming') {
    const decodedLength = intHeader(h['x-amz-decoded-content-length']);
    if (needsLength && decodedLength === undefined && !chunkedTransfer)
      throw new S3Error('MissingContentLength', 'You must provide the x-amz-decoded-content-length header.');
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

/** What is left of a request body after an early answer that is read and thrown away (Go's net/http: 256 KiB). */
export const DISCARD_LIMIT = 256 * 1024;

/**
 * Reads and discards what nobody read of a request body, up to `limit` bytes and `ms` milliseconds; true when
 * the body ended. An answer given before the body was read (an early error) can then keep the connection, and
 * clients still sending the body (undici's fetch, browsers) get the answer instead of a broken pipe. A larger
 * or slower rest is not waited for: the caller closes the connection.
 */
export function discardUnread(raw: IncomingMessage, limit = DISCARD_LIMIT, ms = 5000): Promise<boolean> {
  if (raw.complete) return Promise.resolve(true);
  if (raw.destroyed || raw.readableEnded) return Promise.resolve(false);
  return new Promise((resolve) => {
    let seen = 0;
    const finish = (ended: boolean): void => {
      clearTimeout(timer);
      raw.off('data', onData).off('end', onEnd).off('error', onStop).off('close', onStop);
      if (!ended) raw.pause();
      resolve(ended);
    };
    const onData = (chunk: Buffer): void => {
      seen += chunk.length;
      if (seen > limit) finish(false);
    };
    const onEnd = (): void => finish(true);
    const onStop = (): void => finish(raw.complete);
    const timer = setTimeout(() => finish(false), ms);
    // Readers that gave up (a pipe into a body decoder nobody reads, an async iterator left mid-body) would
    // pause the stream or keep it out of flowing mode; the body is ours to throw away now.
    raw.unpipe();
    raw.removeAllListeners('readable');
    raw.removeAllListeners('data');
    raw.on('data', onData).once('end', onEnd).once('error', onStop).once('close', onStop);
    raw.resume();
  });
}

/** A small body read whole (IAM, STS and admin requests): EntityTooLarge past `limit` bytes. */
export async function readLimited(body: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of body) {
    n += (c as Buffer).length;
    if (n > limit) {
      body.destroy();
      throw new S3Error('EntityTooLarge', `The request body is larger than ${limit} bytes`);
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}
