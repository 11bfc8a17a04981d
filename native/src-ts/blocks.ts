// The fused passes over one object block, shaped for storage's shard files. A shard file holds, for
// each object block, a "frame": [32-byte HighwayHash-256 of the shard][shard]. On upload one call per
// block updates the requested checksum, erasure-codes the block and hashes every shard (the block given
// as the pieces the socket delivered, copied once into the frames); the ETag's MD5 is updated beside it, in
// lanes with the other uploads of the process (Md5Stream). On read one call verifies the frames and rebuilds
// the block.
import { native } from './binding.js';
import { shardSize, splitShards } from './erasure.js';
import { fsError } from './fs-error.js';
import type { ChecksumAlgorithm } from './hash.js';
import { Md5Stream, md5State, md5StateDigest, md5Update } from './md5.js';

/** Bytes of the HighwayHash-256 in front of each shard of a frame. */
export const FRAME_HASH_LENGTH = 32;

/** Bytes of one frame for a block of `blockLength` bytes cut in `data` shards. */
export function frameSize(blockLength: number, data: number): number {
  return FRAME_HASH_LENGTH + shardSize(blockLength, data);
}

/** Digests of an upload so far. */
export interface UploadDigest {
  /** MD5 of all bytes: the ETag of a single-part upload, or of one part. */
  md5: Buffer;
  /** The requested checksum (digest bytes), or null when none was requested. */
  checksum: Buffer | null;
  /** Bytes seen. */
  size: number;
}

interface NativeUploadHasher {
  update(data: Uint8Array): void;
  encodeBlock(pieces: Uint8Array[], data: number, parity: number, key: Uint8Array, out: Buffer): number;
  encodeBlockAsync(pieces: Buffer[], data: number, parity: number, key: Uint8Array, out: Buffer): Promise<number>;
  finish(): { checksum?: Buffer; size: number };
}

const NativeUploadHasher: new (checksum?: ChecksumAlgorithm | null) => NativeUploadHasher = native.UploadHasher;

const piecesOf = <T extends Uint8Array>(block: T | T[]): T[] => (Array.isArray(block) ? block : [block]);
const buffersOf = (pieces: Uint8Array[]): Buffer[] =>
  pieces.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p.buffer, p.byteOffset, p.byteLength)));

/** MD5 of no bytes (the digest an UploadHasher without MD5 gives). */
const EMPTY_MD5 = 'd41d8cd98f00b204e9800998ecf8427e';

/** Options of an `UploadHasher`. */
export interface UploadHasherOptions {
  /** Compute the ETag MD5 (default true); without it (data whose ETag comes from elsewhere) `finish` gives the empty input's. */
  md5?: boolean;
  /**
   * The caller never changes the pieces it gives (default false): their MD5 may then be hashed a few MiB
   * later, in lanes with other uploads' (Md5Stream), so `finishAsync` gives the digests. Otherwise each call's
   * pieces are hashed before it returns or settles.
   */
  kept?: boolean;
}
const lengthOf = (pieces: Uint8Array[]): number => pieces.reduce((n, p) => n + p.length, 0);

/**
 * The running state of one upload (an object or a part): the ETag MD5, an optional S3 checksum,
 * and the fused per-block pass. Calls apply in order; await an async call before the next.
 */
export class UploadHasher {
  readonly #inner: NativeUploadHasher;
  readonly #md5: boolean;
  readonly #kept: boolean;
  /**
   * The MD5 of the bytes added by sync calls, hashed in them, until the first async block: a small upload never
   * needs the batcher (its stream, its lock and a pool pass for the digest). Then `#stream` goes on from it.
   */
  #state: Buffer | undefined;
  #stream: Md5Stream | undefined;
  #busy = false;

  /** `checksum`: the S3 checksum to compute besides the MD5 (none when null). */
  constructor(checksum: ChecksumAlgorithm | null = null, options: UploadHasherOptions = {}) {
    this.#inner = new NativeUploadHasher(checksum);
    this.#md5 = options.md5 !== false;
    this.#kept = options.kept ?? false;
  }

  /** Adds bytes to the digests without erasure-coding them (for small inputs). */
  update(data: Uint8Array): void {
    this.#idle();
    this.#inner.update(data);
    this.#md5Now([data]);
  }

  /** Hashes `pieces` into the MD5 here, or hands them to the stream once there is one. */
  #md5Now(pieces: Uint8Array[]): void {
    if (!this.#md5) return;
    if (this.#stream) this.#stream.addNow(buffersOf(pieces));
    else md5Update([(this.#state ??= md5State())], pieces, [pieces.length]);
  }

  /**
   * Adds `block` (a Buffer, or the pieces that make it up, in order) to the digests and returns its
   * `data + parity` frames (HighwayHash-256 with `key`, then the shard), as subarrays of one buffer (`out`
   * when given, at least `(data + parity) * frameSize(blockLength, data)` bytes). Sync form, for small blocks.
   */
  encodeBlock(block: Uint8Array | Uint8Array[], data: number, parity: number, key: Uint8Array, out?: Buffer): Buffer[] {
    this.#idle();
    const pieces = piecesOf(block);
    const size = frameSize(lengthOf(pieces), data);
    const dst = out ?? Buffer.allocUnsafe(size * (data + parity));
    this.#inner.encodeBlock(pieces, data, parity, key, dst);
    this.#md5Now(pieces);
    return splitShards(dst, data + parity, size);
  }

  /**
   * `encodeBlock` on the libuv thread pool; `block` and `out` must not change until it settles (`block`
   * never, with the `kept` option).
   */
  async encodeBlockAsync(
    block: Buffer | Buffer[],
    data: number,
    parity: number,
    key: Uint8Array,
    out?: Buffer,
  ): Promise<Buffer[]> {
    this.#idle();
    const pieces = piecesOf(block);
    const size = frameSize(lengthOf(pieces), data);
    const dst = out ?? Buffer.allocUnsafe(size * (data + parity));
    const encoded = this.#inner.encodeBlockAsync(pieces, data, parity, key, dst); // throws when misused
    this.#busy = true;
    try {
      let md5: Promise<void> | undefined;
      if (this.#md5) {
        this.#stream ??= new Md5Stream(this.#state);
        this.#state = undefined;
        md5 = this.#stream.add(pieces, this.#kept);
      }
      // Both settle before the state is free again, even when one fails.
      for (const r of await Promise.allSettled([encoded, md5])) if (r.status === 'rejected') throw r.reason;
    } finally {
      this.#busy = false;
    }
    return splitShards(dst, data + parity, size);
  }

  /** The digests of everything added so far (the upload may go on); throws while MD5 bytes wait (`kept`). */
  finish(): UploadDigest {
    this.#idle();
    const d = this.#inner.finish();
    const md5 =
      this.#stream?.digestNow() ?? (this.#state ? md5StateDigest(this.#state) : Buffer.from(EMPTY_MD5, 'hex'));
    return { md5, checksum: d.checksum ?? null, size: d.size };
  }

  /** `finish` once the MD5's waiting bytes are hashed. */
  async finishAsync(): Promise<UploadDigest> {
    this.#idle();
    this.#busy = true;
    try {
      await this.#stream?.digest();
    } finally {
      this.#busy = false;
    }
    return this.finish();
  }

  /** Gives the upload up: the MD5's waiting pieces are released now (later calls fail). */
  abort(): void {
    this.#stream?.close();
  }

  #idle(): void {
    if (this.#busy) throw new Error('UploadHasher: an async call is still running; await it before the next call');
  }
}

/** Result of `readBlock`. */
export interface ReadBlockResult {
  /** The block, or null when too few good frames were given (read more of them, call again). */
  block: Buffer | null;
  /** Indexes of the given frames that are corrupt (hash mismatch or wrong length): heal them. */
  bad: number[];
}

/**
 * Verifies the frames read for one block (`null` for shards not read) and, when at least `data`
 * are good, decodes the block of `blockLength` bytes from them (into `out` when given).
 */
export function readBlock(
  frames: (Uint8Array | null)[],
  data: number,
  parity: number,
  blockLength: number,
  key: Uint8Array,
  out?: Buffer,
): ReadBlockResult {
  const dst = out ?? Buffer.allocUnsafe(blockLength);
  const r = native.readBlock(frames, data, parity, blockLength, key, dst);
  return { block: r.decoded ? dst.subarray(0, blockLength) : null, bad: r.bad };
}

/** `readBlock` on the libuv thread pool. */
export async function readBlockAsync(
  frames: (Buffer | null)[],
  data: number,
  parity: number,
  blockLength: number,
  key: Uint8Array,
  out?: Buffer,
): Promise<ReadBlockResult> {
  const dst = out ?? Buffer.allocUnsafe(blockLength);
  const r = await native.readBlockAsync(frames, data, parity, blockLength, key, dst);
  return { block: r.decoded ? dst.subarray(0, blockLength) : null, bad: r.bad };
}

/** Indexes of the given frames (`null` entries skipped) whose hash does not match their shard. */
export function verifyFrames(frames: (Uint8Array | null)[], key: Uint8Array): number[] {
  return native.verifyFrames(frames, key);
}

/** `verifyFrames` on the libuv thread pool. */
export function verifyFramesAsync(frames: (Buffer | null)[], key: Uint8Array): Promise<number[]> {
  return native.verifyFramesAsync(frames, key);
}

/** See `readShardFramesAsync`. */
export type ReadShardFrames = (
  path: string,
  position: number,
  stride: number,
  out: Buffer,
  key: Uint8Array,
) => Promise<number>;

/**
 * `out.length` bytes of the shard file at `path` from `position` on, read on the libuv thread pool frame by
 * frame (`stride` bytes each, the last one possibly shorter), each frame's hash checked right after its
 * read: open, read, verify and close in one pool task (through node:fs, open and close were a pool round
 * trip each and the read and the check one more; each costs the event loop a queued request and a thread
 * wake-up, the fixed cost of a ranged GET). Resolves to the number of frames that failed; an open or read
 * error (Node-style `code`, e.g. ENOENT) or a file too short rejects. `out` must stay unchanged until it
 * settles. Undefined when the loaded addon was built before this kernel (a prebuilt binary copied from an
 * older checkout: `npm run build:native -w native` rebuilds it); the storage engine then reads and verifies
 * in two calls.
 */
export const readShardFramesAsync: ReadShardFrames | undefined = (() => {
  const f = (native as unknown as { readShardFramesAsync?: ReadShardFrames }).readShardFramesAsync;
  return (
    f &&
    ((path, position, stride, out, key) =>
      f(path, position, stride, out, key).catch((e: unknown) => {
        throw fsError(e, path);
      }))
  );
})();

/** See `readShardsFramesAsync`. */
export type ReadShardsFrames = (
  paths: string[],
  positions: number[],
  stride: number,
  outs: Buffer[],
  key: Uint8Array,
  verify?: boolean,
) => Promise<number[]>;

/**
 * `readShardFramesAsync` of several shard files in one pool task, one file after the other: `outs[i].length`
 * bytes of `paths[i]` from `positions[i]` on (a GET's data shards of one batch: one queued request and one
 * wake-up of the event loop per batch, not one per shard). Resolves to the number of bad frames of each file;
 * an open or read error (Node-style `code`, on the first file that failed) or a short file rejects. With
 * `verify` false (default true) each span is read whole and no hash is checked (all 0): sealed SSE data, whose
 * AEAD tags authenticate it (an addon built before this argument ignores it and checks). Undefined when the
 * loaded addon predates this kernel (storage reads the shards one task each).
 */
export const readShardsFramesAsync: ReadShardsFrames | undefined = (() => {
  const f = (native as unknown as { readShardsFramesAsync?: ReadShardsFrames }).readShardsFramesAsync;
  return (
    f &&
    ((paths, positions, stride, outs, key, verify = true) =>
      f(paths, positions, stride, outs, key, verify).catch((e: unknown) => {
        throw fsError(e, paths.join(', '));
      }))
  );
})();

/** Result of `healBlock`. */
export interface HealBlockResult {
  /** Rebuilt frame for each index that was missing or bad (ready to write), or null if too few good. */
  rebuilt: Map<number, Buffer> | null;
  /** Indexes of the given frames that are corrupt. */
  bad: number[];
}

function healResult(r: { rebuilt?: Buffer; indexes: number[]; bad: number[] }, size: number): HealBlockResult {
  if (!r.rebuilt) return { rebuilt: null, bad: r.bad };
  const frames = splitShards(r.rebuilt, r.indexes.length, size);
  return { rebuilt: new Map(r.indexes.map((index, k) => [index, frames[k]])), bad: r.bad };
}

/**
 * Verifies all frames of one block (`null` where a drive lacks it) and rebuilds, framed, each that
 * is missing or bad, from at least `data` good ones.
 */
export function healBlock(
  frames: (Uint8Array | null)[],
  data: number,
  parity: number,
  blockLength: number,
  key: Uint8Array,
): HealBlockResult {
  return healResult(native.healBlock(frames, data, parity, blockLength, key), frameSize(blockLength, data));
}

/** `healBlock` on the libuv thread pool. */
export async function healBlockAsync(
  frames: (Buffer | null)[],
  data: number,
  parity: number,
  blockLength: number,
  key: Uint8Array,
): Promise<HealBlockResult> {
  return healResult(await native.healBlockAsync(frames, data, parity, blockLength, key), frameSize(blockLength, data));
}
