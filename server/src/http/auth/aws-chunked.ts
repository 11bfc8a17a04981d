// Streaming decoder of `Content-Encoding: aws-chunked` bodies: `hex-size[;chunk-signature=sig]\r\n data \r\n`
// ... `0[;chunk-signature=sig]\r\n` then optional trailer lines (`x-amz-checksum-crc32:...`, and for
// signed trailers `x-amz-trailer-signature:...`) and an empty line. Data is passed on as subarrays of the
// incoming buffers (never copied, never buffered whole).
//
// Chunk signatures are verified by the native kernel a run of chunks at a time (about a MiB, the chunks'
// SHA-256s computed together), on the libuv pool so that hashing never holds the event loop; a small body
// (one 4 KiB object) is verified in one call on the loop, where a pool round trip would cost more than the
// hashing. A chunk's data goes downstream before its run is verified, but the stream ends only after every
// run verified (and errors as soon as one does not), and storage commits only a body that ended: a forged
// chunk anywhere fails the upload and stores nothing. At most MAX_RUNS_IN_FLIGHT runs are held unverified
// (their socket buffers referenced); past that the decoder stops taking input until one settles.
//
// Trailer lines as the SDKs write them: the AWS SDKs (JS, Go v2, botocore, Java) end each line with \r\n;
// minio-go writes its trailer block as `name:value\n` lines (the very bytes it signs) closed by `\r\n`,
// then `x-amz-trailer-signature:sig\r\n\r\n` when signed, `\r\n` when not. So trailer lines may end with
// a bare \n, and the empty line right after such a line closes that block instead of the section.
import { type ChunkChainKey, type ChunkRun, verifyChunkSignatures, verifyChunkSignaturesAsync } from '@cairn/native';
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { S3Error } from '../../errors.js';
import { hmac, sameSignature, sha256Hex } from './canonical.js';
import type { ChunkChain } from './sigv4.js';

const MAX_LINE = 4096;
/** Data bytes of chunks verified in one kernel call. */
const RUN_BYTES = 1024 * 1024;
/** Below this many data bytes a run is verified on the event loop (a pool round trip costs ~7 µs of it). */
const INLINE_RUN_BYTES = 16 * 1024;
const MAX_RUNS_IN_FLIGHT = 2;
const SIGNATURE = /^[0-9a-f]{64}$/;
/** Bound on the whole trailer section (a few checksum headers and a signature in practice). */
const MAX_TRAILER_SECTION = 16 * 1024;
const TRAILER_SIGNATURE = 'x-amz-trailer-signature';

type State = 'size' | 'data' | 'data-end' | 'trailer' | 'done';

export interface AwsChunkedOptions {
  /** Present for signed streaming payloads: each chunk's signature chains from the seed signature. */
  chain?: ChunkChain;
  /** x-amz-decoded-content-length, when the client sent it. */
  decodedLength?: number;
}

export class AwsChunkedDecoder extends Transform {
  /** Trailing headers (names lower-cased), complete once the stream has ended. */
  readonly trailers = new Map<string, string>();
  private state: State = 'size';
  private line: Buffer[] = [];
  private lineLength = 0;
  private remaining = 0;
  private decoded = 0;
  private chunkSignature = '';
  /** The last chunk signature received (what the next chunk, the next run and the trailer chain from). */
  private previousSignature: string;
  private readonly chainKey?: ChunkChainKey;
  /** The chunks received and not yet sent for verification; `pieces` of the chunk being received included. */
  private run: ChunkRun & { bytes: number };
  private chunkPieces = 0;
  private runsInFlight = 0;
  private readonly settled: Promise<void>[] = [];
  private failure: Error | undefined;
  /** The callback of a `_transform` held back while MAX_RUNS_IN_FLIGHT runs are being verified. */
  private heldBack: TransformCallback | undefined;
  /** Set once the input ended: from then on a failed run is reported by `_flush`, not by destroying. */
  private flushing = false;
  private trailerBytes = 0;
  private trailerSignature: string | undefined;
  private previousLineBare = false;
  private readonly chain?: ChunkChain;
  private readonly decodedLength?: number;

  constructor(opts: AwsChunkedOptions = {}) {
    // Each piece goes to the reader as it was pushed: a byte-mode readable would concatenate (copy) the pieces
    // buffered while the reader was busy into one new Buffer (measured: 0.3 s of the event loop per GiB).
    super({ readableObjectMode: true });
    this.chain = opts.chain;
    this.decodedLength = opts.decodedLength;
    this.previousSignature = opts.chain?.seedSignature ?? '';
    if (opts.chain) {
      const c = opts.chain;
      this.chainKey = { signingKey: c.signingKey, prefix: `AWS4-HMAC-SHA256-PAYLOAD\n${c.amzDate}\n${c.scope}\n` };
    }
    this.run = this.newRun();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      if (this.failure) throw this.failure;
      this.consume(chunk);
      if (this.runsInFlight >= MAX_RUNS_IN_FLIGHT) this.heldBack = cb;
      else cb();
    } catch (e) {
      cb(e as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    this.flushing = true;
    try {
      // A trailer section may end without its final empty line; anything else unfinished is a truncated body.
      if (this.state === 'trailer' && this.lineLength === 0) this.finishTrailers();
      if (this.state !== 'done') throw new S3Error('IncompleteBody');
      if (this.decodedLength !== undefined && this.decoded !== this.decodedLength) throw new S3Error('IncompleteBody');
    } catch (e) {
      return cb(e as Error);
    }
    // The body ends only once every chunk is known to be genuine.
    Promise.all(this.settled).then(() => cb(this.failure), cb);
  }

  private consume(buf: Buffer): void {
    let pos = 0;
    while (pos < buf.length) {
      switch (this.state) {
        case 'data': {
          const n = Math.min(this.remaining, buf.length - pos);
          const piece = buf.subarray(pos, pos + n);
          if (this.chain) {
            this.run.pieces.push(piece);
            this.chunkPieces++;
            this.run.bytes += n;
          }
          this.push(piece);
          this.remaining -= n;
          this.decoded += n;
          pos += n;
          if (this.remaining === 0) this.state = 'data-end';
          break;
        }
        case 'data-end':
        case 'size':
        case 'trailer': {
          const nl = buf.indexOf(0x0a, pos);
          const end = nl < 0 ? buf.length : nl + 1;
          const taken = end - pos;
          this.line.push(buf.subarray(pos, end));
          this.lineLength += taken;
          pos = end;
          if (this.lineLength > MAX_LINE) throw new S3Error('IncompleteBody', 'aws-chunked framing line too long');
          if (this.state === 'trailer') {
            this.trailerBytes += taken;
            if (this.trailerBytes > MAX_TRAILER_SECTION) {
              throw new S3Error('MalformedTrailerError', 'aws-chunked trailer section too long');
            }
          }
          if (nl >= 0) {
            const text = Buffer.concat(this.line).toString('latin1');
            this.line = [];
            this.lineLength = 0;
            if (text.endsWith('\r\n')) this.onLine(text.slice(0, -2));
            else if (this.state === 'trailer') this.onTrailerLine(text.slice(0, -1), true);
            else throw new S3Error('IncompleteBody', 'aws-chunked framing is malformed');
          }
          break;
        }
        case 'done':
          // Bytes after the final empty line are not part of the object.
          throw new S3Error('IncompleteBody', 'unexpected data after the aws-chunked body');
      }
    }
  }

  private onLine(line: string): void {
    if (this.state === 'data-end') {
      if (line !== '') throw new S3Error('IncompleteBody', 'aws-chunked chunk is longer than its declared size');
      this.verifyChunk();
      this.state = 'size';
      return;
    }
    if (this.state === 'size') {
      const [sizeText, ...ext] = line.split(';');
      if (!/^[0-9a-fA-F]{1,16}$/.test(sizeText))
        throw new S3Error('IncompleteBody', 'aws-chunked chunk size is malformed');
      this.remaining = parseInt(sizeText, 16);
      const sig = ext.find((e) => e.startsWith('chunk-signature='));
      this.chunkSignature = sig ? sig.slice('chunk-signature='.length) : '';
      if (this.chain && !this.chunkSignature) throw new S3Error('SignatureDoesNotMatch', 'chunk signature missing');
      if (this.remaining === 0) {
        this.verifyChunk();
        this.state = 'trailer';
      } else {
        this.state = 'data';
      }
      return;
    }
    this.onTrailerLine(line, false);
  }

  /** `bare`: the line ended with \n alone (minio-go's trailer block). */
  private onTrailerLine(line: string, bare: boolean): void {
    const afterBare = this.previousLineBare;
    this.previousLineBare = bare;
    if (line === '') {
      if (!afterBare) this.finishTrailers();
      return;
    }
    if (this.trailerSignature !== undefined) {
      throw new S3Error('MalformedTrailerError', 'nothing may follow the trailer signature');
    }
    const i = line.indexOf(':');
    if (i <= 0) throw new S3Error('MalformedTrailerError', 'aws-chunked trailer is malformed');
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    if (name === TRAILER_SIGNATURE) {
      this.trailerSignature = value;
      return;
    }
    if (this.trailers.has(name)) throw new S3Error('MalformedTrailerError', `trailer ${name} sent twice`);
    this.trailers.set(name, value);
  }

  /** A chunk ended: its signature joins the run, which goes to verification when large enough or last. */
  private verifyChunk(): void {
    if (!this.chain) return;
    if (!SIGNATURE.test(this.chunkSignature))
      throw new S3Error('SignatureDoesNotMatch', 'The chunk signature does not match.');
    const run = this.run;
    run.counts.push(this.chunkPieces);
    run.signatures += this.chunkSignature;
    this.chunkPieces = 0;
    this.previousSignature = this.chunkSignature;
    const last = this.state === 'size' && this.remaining === 0;
    if (run.bytes >= RUN_BYTES || last) {
      this.run = this.newRun();
      this.verifyRun(run);
    }
  }

  private newRun(): ChunkRun & { bytes: number } {
    return { pieces: [], counts: [], signatures: '', previous: this.previousSignature, bytes: 0 };
  }

  private verifyRun(run: ChunkRun & { bytes: number }): void {
    const key = this.chainKey!;
    if (run.bytes < INLINE_RUN_BYTES) return this.checkRun(verifyChunkSignatures(run, key));
    this.runsInFlight++;
    const done = verifyChunkSignaturesAsync(run, key).then(
      (bad) => this.checkRun(bad),
      (e: Error) => void (this.failure ??= e),
    );
    this.settled.push(
      done
        .catch((e: Error) => void (this.failure ??= e))
        .finally(() => {
          this.runsInFlight--;
          const cb = this.heldBack;
          this.heldBack = undefined;
          if (this.destroyed || this.flushing) return;
          if (this.failure) this.destroy(this.failure);
          else cb?.();
        }),
    );
  }

  private checkRun(bad: number): void {
    if (bad >= 0) {
      this.failure ??= new S3Error('SignatureDoesNotMatch', 'The chunk signature does not match.');
      throw this.failure;
    }
  }

  private finishTrailers(): void {
    const signature = this.trailerSignature;
    if (this.chain && this.trailers.size > 0) {
      if (!signature) throw new S3Error('SignatureDoesNotMatch', 'trailer signature missing');
      const canonical = [...this.trailers].map(([k, v]) => `${k}:${v}\n`).join('');
      const c = this.chain;
      const sts = `AWS4-HMAC-SHA256-TRAILER\n${c.amzDate}\n${c.scope}\n${this.previousSignature}\n${sha256Hex(canonical)}`;
      if (!sameSignature(hmac(c.signingKey, sts).toString('hex'), signature))
        throw new S3Error('SignatureDoesNotMatch', 'The trailer signature does not match.');
    }
    this.state = 'done';
  }
}

/** Passes bytes on and fails at the end when their SHA-256 is not the one the client signed. */
export class Sha256Verifier extends Transform {
  private readonly hash = createHash('sha256');
  constructor(private readonly expected: string) {
    super({ readableObjectMode: true }); // chunks passed on as they came (see AwsChunkedDecoder)
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    const got = this.hash.digest('hex');
    if (got !== this.expected)
      return cb(
        new S3Error('XAmzContentSHA256Mismatch', undefined, {
          ClientComputedContentSHA256: this.expected,
          S3ComputedContentSHA256: got,
        }),
      );
    cb();
  }
}
