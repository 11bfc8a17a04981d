// The fused passes over one object block, shaped for storage's shard files. A shard file holds, for
// each object block, a "frame": [32-byte HighwayHash-256 of the shard][shard]. On upload one call per
// block updates the ETag MD5 and the requested checksum, erasure-codes the block and hashes every
// shard, so each byte is read once; on read one call verifies the frames and rebuilds the block.
import { native } from './binding.js';
import { shardSize, splitShards } from './erasure.js';
import type { ChecksumAlgorithm } from './hash.js';

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
  encodeBlock(block: Uint8Array, data: number, parity: number, key: Uint8Array, out: Buffer): number;
  encodeBlockAsync(block: Buffer, data: number, parity: number, key: Uint8Array, out: Buffer): Promise<number>;
  finish(): { md5: Buffer; checksum?: Buffer; size: number };
}

const NativeUploadHasher: new (checksum?: ChecksumAlgorithm | null) => NativeUploadHasher = native.UploadHasher;

/**
 * The running state of one upload (an object or a part): the ETag MD5, an optional S3 checksum,
 * and the fused per-block pass. Calls apply in order; await an async call before the next.
 */
export class UploadHasher {
  readonly #inner: NativeUploadHasher;

  /** `checksum`: the S3 checksum to compute besides the MD5 (none when null). */
  constructor(checksum: ChecksumAlgorithm | null = null) {
    this.#inner = new NativeUploadHasher(checksum);
  }

  /** Adds bytes to the digests without erasure-coding them (for small inputs). */
  update(data: Uint8Array): void {
    this.#inner.update(data);
  }

  /**
   * Adds `block` to the digests and returns its `data + parity` frames (HighwayHash-256 with `key`,
   * then the shard), as subarrays of one buffer (`out` when given, at least
   * `(data + parity) * frameSize(block.length, data)` bytes). Sync form, for small blocks.
   */
  encodeBlock(block: Uint8Array, data: number, parity: number, key: Uint8Array, out?: Buffer): Buffer[] {
    const size = frameSize(block.length, data);
    const dst = out ?? Buffer.allocUnsafe(size * (data + parity));
    this.#inner.encodeBlock(block, data, parity, key, dst);
    return splitShards(dst, data + parity, size);
  }

  /** `encodeBlock` on the libuv thread pool; `block` and `out` must not change until it settles. */
  async encodeBlockAsync(
    block: Buffer,
    data: number,
    parity: number,
    key: Uint8Array,
    out?: Buffer,
  ): Promise<Buffer[]> {
    const size = frameSize(block.length, data);
    const dst = out ?? Buffer.allocUnsafe(size * (data + parity));
    await this.#inner.encodeBlockAsync(block, data, parity, key, dst);
    return splitShards(dst, data + parity, size);
  }

  /** The digests of everything added so far (the upload may go on). */
  finish(): UploadDigest {
    const d = this.#inner.finish();
    return { md5: d.md5, checksum: d.checksum ?? null, size: d.size };
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
