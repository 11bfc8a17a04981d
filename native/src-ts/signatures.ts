// The chunk signatures of signed aws-chunked bodies (SigV4 streaming uploads, `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`):
// a run of chunks verified in one call, their data hashed (several chunks at once) and each signature's HMAC
// chained from the one before. The server checks a run of about a MiB at a time on the libuv pool.
import { native } from './binding.js';

/** A run of chunks to verify, in order. */
export interface ChunkRun {
  /** The chunks' data back to back as the socket delivered it: chunk `i` is the next `counts[i]` pieces. */
  pieces: Buffer[];
  counts: number[];
  /** The signatures the client sent, 64 hex characters per chunk, concatenated. */
  signatures: string;
  /** The signature the first chunk chains from: the request's (seed) or the previous run's last chunk's. */
  previous: string;
}

/** What every chunk of one request shares: its signing key and the string to sign's first three lines. */
export interface ChunkChainKey {
  signingKey: Buffer;
  /** `AWS4-HMAC-SHA256-PAYLOAD\n<x-amz-date>\n<scope>\n`. */
  prefix: string;
}

/** Index of the first chunk of `run` whose signature does not match, or -1 when all do. Sync form. */
export function verifyChunkSignatures(run: ChunkRun, key: ChunkChainKey): number {
  return native.verifyChunkSignatures(run.pieces, run.counts, run.signatures, run.previous, key.signingKey, key.prefix);
}

/** `verifyChunkSignatures` on the libuv thread pool; the pieces must not change until it settles. */
export function verifyChunkSignaturesAsync(run: ChunkRun, key: ChunkChainKey): Promise<number> {
  return native.verifyChunkSignaturesAsync(
    run.pieces,
    run.counts,
    run.signatures,
    run.previous,
    key.signingKey,
    key.prefix,
  );
}
