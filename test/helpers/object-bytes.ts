// Object contents that say where each byte belongs, and signed GETs streamed over plain node:http (for
// tests that need to pause, abort or count what a GET delivers without holding the body in memory).
import { createHash } from 'node:crypto';
import { request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { signRequest } from './signed-request.js';

const GOLDEN = 0x9e3779b1;

/**
 * `size` bytes whose 32-bit little-endian word j is j XOR a per-seed mask: every word differs from every
 * other word of the object and from the words of objects with another seed, so a byte served from the
 * wrong block, shard, part or version is caught and `mismatch` can say where it came from.
 */
export function pattern(size: number, seed: number): Buffer {
  const words = new Uint32Array(Math.ceil(size / 4));
  const mask = Math.imul(seed + 1, GOLDEN) >>> 0;
  for (let j = 0; j < words.length; j++) words[j] = (j ^ mask) >>> 0;
  return Buffer.from(words.buffer, 0, size);
}

/**
 * Null when `got` equals `want` (bytes `at`.. of a `pattern(_, seed)` object); otherwise what is wrong:
 * the lengths, or the first differing offset and the offset its word came from.
 */
export function mismatch(got: Buffer, want: Buffer, at = 0, seed?: number): string | null {
  if (got.equals(want)) return null;
  const n = Math.min(got.length, want.length);
  let i = 0;
  while (i < n && got[i] === want[i]) i++; // test diagnostics only, on a failure
  const what = `first difference at object offset ${at + i} (byte ${i} of the body)`;
  if (i === n) return `length ${got.length}, expected ${want.length} (${what})`;
  let from = '';
  const w = i - ((at + i) % 4);
  if (seed !== undefined && w >= 0 && w + 4 <= got.length) {
    const mask = Math.imul(seed + 1, GOLDEN) >>> 0;
    from = `; the word there belongs at offset ${((got.readUInt32LE(w) ^ mask) >>> 0) * 4} of that object`;
  }
  return `${what}${from}; length ${got.length}, expected ${want.length}`;
}

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

export interface StreamedGet {
  status: number;
  headers: IncomingHttpHeaders;
  /** Body bytes received. */
  bytes: number;
  /** SHA-256 of the body received (hex). */
  sha256: string;
  /** The body, when asked for with keep. */
  body?: Buffer;
  /** The client hung up on purpose (abortAfter). */
  aborted: boolean;
}

export interface GetOptions {
  query?: Record<string, string>;
  headers?: Record<string, string>;
  keep?: boolean;
  /** Hang up (destroy the socket) once this many body bytes arrived. */
  abortAfter?: number;
  /** Called with the response before its body is read: a test can pause and resume it. */
  onResponse?: (res: IncomingMessage) => void;
}

/** A SigV4-signed GET of `path` (`/bucket/key`, encoded) on its own connection, body hashed as it streams. */
export async function streamedGet(url: string, path: string, o: GetOptions = {}): Promise<StreamedGet> {
  const { headers, target } = await signRequest(url, { method: 'GET', path, query: o.query, headers: o.headers });
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: Number(u.port), path: target, method: 'GET', headers, agent: false },
      (res) => {
        const hash = createHash('sha256');
        const kept: Buffer[] = [];
        let bytes = 0;
        let aborted = false;
        const done = () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            bytes,
            sha256: hash.digest('hex'),
            body: o.keep ? Buffer.concat(kept) : undefined,
            aborted,
          });
        res.on('data', (c: Buffer) => {
          if (aborted) return;
          bytes += c.length;
          hash.update(c);
          if (o.keep) kept.push(c);
          if (o.abortAfter !== undefined && bytes >= o.abortAfter) {
            aborted = true;
            req.destroy();
            done();
          }
        });
        res.on('end', () => !aborted && done());
        res.on('error', (e) => !aborted && reject(e));
        // A body cut short by the server (socket closed before the end) is an error, never a short success.
        res.on(
          'close',
          () => !aborted && !res.complete && reject(new Error(`response cut short after ${bytes} bytes`)),
        );
        o.onResponse?.(res);
      },
    );
    req.on('error', (e) => reject(e));
    req.end();
  });
}

/**
 * A streamedGet whose client stops reading after the first body chunk: `paused` resolves with the
 * response once it has stopped (resume() or destroy() it), `result` as streamedGet's does.
 */
export function pausedGet(
  url: string,
  path: string,
  o: GetOptions = {},
): { paused: Promise<IncomingMessage>; result: Promise<StreamedGet> } {
  let pausedNow!: (res: IncomingMessage) => void;
  const paused = new Promise<IncomingMessage>((r) => (pausedNow = r));
  const result = streamedGet(url, path, {
    ...o,
    onResponse: (res) => res.once('data', () => (res.pause(), pausedNow(res))),
  });
  return { paused, result };
}
