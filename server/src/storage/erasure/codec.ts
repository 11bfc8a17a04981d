// The engine's narrow view of the native kernels (@cairn/native), in terms of "frames": a frame is what
// a shard file holds for one block, [32-byte HighwayHash-256 of the shard][shard]. Calls over big blocks
// run on the libuv pool, off the event loop; calls over small ones on the event loop (INLINE_KERNEL_BYTES).
// Tests or a future kernel can supply another Codec.
import * as native from '@cairn/native';
import type { ChecksumAlgorithm } from '../object-layer.js';

export interface UploadPass {
  /**
   * Frames (data + parity) of the next block, given as the pieces that make it up (the body's chunks, not
   * copied together first), as subarrays of `out` when given (at least `(data + parity) * frameSize` bytes);
   * updates the MD5 and checksum with it. In order; the pieces must not change until it settles (never, when
   * the upload was made with `kept`).
   */
  encode(pieces: Buffer[], data: number, parity: number, out?: Buffer): Promise<Buffer[]>;
  /** The digests, once every block's MD5 is hashed. */
  finish(): Promise<{ md5: Buffer; checksum: Buffer | null; size: number }>;
  /** Gives the upload up (after its last `encode` settled): what it holds is released now. */
  abort?(): void;
}

export interface Codec {
  /** Bytes per shard for a block of `blockLen` bytes cut in `data` shards. */
  shardSize(blockLen: number, data: number): number;
  /** Bytes of one frame (FRAME_HASH_LENGTH + shardSize) for a block of `blockLen` bytes cut in `data` shards. */
  frameSize(blockLen: number, data: number): number;
  /**
   * One upload (object or part): fused MD5 + checksum + Reed-Solomon + HighwayHash per block; without `md5`
   * (sealed data whose ETag is the plaintext's) `finish` gives no meaningful MD5. `kept`: the caller never
   * changes the pieces it gives, so their MD5 may lag a few MiB to be hashed in lanes with other uploads'.
   */
  upload(checksum: ChecksumAlgorithm | null, md5?: boolean, kept?: boolean): UploadPass;
  /** Verify the frames read for a block (null = not read) and decode it when `data` of them are good. */
  readBlock(
    frames: (Buffer | null)[],
    data: number,
    parity: number,
    blockLen: number,
  ): Promise<{ block: Buffer | null; bad: number[] }>;
  /** Verify all frames of a block and rebuild (framed) each missing or bad one. */
  healBlock(
    frames: (Buffer | null)[],
    data: number,
    parity: number,
    blockLen: number,
  ): Promise<{ rebuilt: Map<number, Buffer> | null; bad: number[] }>;
  /** Indexes of frames whose hash does not match. */
  verifyFrames(frames: (Buffer | null)[]): Promise<number[]>;
  /**
   * `out.length` bytes of the shard file at `path` from `position`, read frame by frame (`stride` bytes
   * each, the last possibly shorter) with each frame's hash checked right after its read, the file opened
   * and closed in the same pool task; resolves to the number of bad frames. Absent when the addon predates
   * the kernel (read, then verifyFrames).
   */
  readFrames?(path: string, position: number, stride: number, out: Buffer): Promise<number>;
  /**
   * `readFrames` of several files in one pool task, one after the other: the bad frames of each. With
   * `verify` false no hash is checked (all 0): sealed data whose reader authenticates it.
   */
  readManyFrames?(
    paths: string[],
    positions: number[],
    stride: number,
    outs: Buffer[],
    verify?: boolean,
  ): Promise<number[]>;
  /**
   * `readManyFrames` (checking) with `pass` run in the same pool task over `pieces` (triples: index into `outs`,
   * offset, length, in object order): `passed` is the pieces' bytes through the pass, or null when it was not
   * armed or a frame failed (native read-pass.ts). Absent when the addon predates it.
   */
  readManyFramesPass?(
    paths: string[],
    positions: number[],
    stride: number,
    outs: Buffer[],
    pass: native.PiecePass,
    pieces: number[],
  ): Promise<{ bad: number[]; passed: Buffer | null }>;
  /**
   * `readManyFrames` in the pool task of `queue` (a set's `Drive.readGroup`): with the operations asked of that
   * queue in this turn of the event loop, e.g. the metadata checks of the same GET (one pool trip, not two).
   */
  readManyFramesQueued?(
    queue: string,
    paths: string[],
    positions: number[],
    stride: number,
    outs: Buffer[],
    verify?: boolean,
  ): Promise<number[]>;
}

/** Fixed HighwayHash key of bitrot hashes (part of the on-disk format: never change it). */
export const BITROT_KEY = Buffer.from('4361697226e2ba4270d12bc9f01e9c5b8aa4f317a6c0c17d1d2bd5eab3c901f2', 'hex');
/** Bytes of the HighwayHash-256 in front of the shard in every frame (defined by the kernels). */
export const FRAME_HASH_LENGTH = native.FRAME_HASH_LENGTH;

/**
 * Below this many bytes a kernel call runs on the event loop: a thread-pool round trip costs ~7 us of
 * main-thread CPU, the call itself on 4 KiB ~1 us (measured: verifyFrames of a 4 KiB object's frames).
 * Kept small so that no hashing worth the name (a few microseconds at most) holds up the event loop.
 */
export const INLINE_KERNEL_BYTES = 16 * 1024;

const bytesOf = (frames: (Buffer | null)[]) => frames.reduce((n, f) => n + (f?.length ?? 0), 0);

export function nativeCodec(): Codec {
  return {
    shardSize: (blockLen, data) => native.shardSize(blockLen, data),
    frameSize: (blockLen, data) => native.frameSize(blockLen, data),
    upload(checksum, md5 = true, kept = false) {
      // The uploads of all worker threads hash their ETag MD5s together, in SIMD lanes (Md5Stream).
      const h = new native.UploadHasher(checksum, { md5, kept });
      return {
        encode: async (pieces, data, parity, out) =>
          bytesOf(pieces) < INLINE_KERNEL_BYTES
            ? h.encodeBlock(pieces, data, parity, BITROT_KEY, out)
            : h.encodeBlockAsync(pieces, data, parity, BITROT_KEY, out),
        finish: () => h.finishAsync(),
        abort: () => h.abort(),
      };
    },
    readBlock: async (frames, data, parity, blockLen) =>
      blockLen < INLINE_KERNEL_BYTES
        ? native.readBlock(frames, data, parity, blockLen, BITROT_KEY)
        : native.readBlockAsync(frames, data, parity, blockLen, BITROT_KEY),
    healBlock: (frames, data, parity, blockLen) => native.healBlockAsync(frames, data, parity, blockLen, BITROT_KEY),
    verifyFrames: async (frames) =>
      bytesOf(frames) < INLINE_KERNEL_BYTES
        ? native.verifyFrames(frames, BITROT_KEY)
        : native.verifyFramesAsync(frames, BITROT_KEY),
    readFrames:
      native.readShardFramesAsync &&
      ((path, position, stride, out) => native.readShardFramesAsync!(path, position, stride, out, BITROT_KEY)),
    readManyFrames:
      native.readShardsFramesAsync &&
      ((paths, positions, stride, outs, verify = true) =>
        native.readShardsFramesAsync!(paths, positions, stride, outs, BITROT_KEY, verify)),
    readManyFramesPass:
      native.readShardsFramesPassAsync &&
      ((paths, positions, stride, outs, pass, pieces) =>
        native.readShardsFramesPassAsync!(paths, positions, stride, outs, BITROT_KEY, pass, pieces)),
    readManyFramesQueued: (queue, paths, positions, stride, outs, verify = true) =>
      native.readShardsFramesQueued(paths, positions, stride, outs, verify ? BITROT_KEY : undefined, queue),
  };
}
