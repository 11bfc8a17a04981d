// Reed-Solomon erasure coding of whole blocks: every layout from 1+0 to 16+16 data+parity shards.
// A block of n bytes becomes data+parity shards of shardSize(n, data) bytes: the block cut in `data`
// pieces, the last zero-padded, then the parity. Any `data` shards and the block length give it back.
import { native } from './binding.js';

/**
 * Bytes per shard for a block of `blockLength` bytes cut in `data` shards: ceil(blockLength / data)
 * rounded up to even (the codec works on 2-byte symbols); 0 for an empty block. Storage must size
 * shard files with this same rule.
 */
export function shardSize(blockLength: number, data: number): number {
  // The rule of erasure.rs's shard_len, here: a GET asks it several times per block, and a call into the
  // addon costs more than the arithmetic. Anything outside the plain case goes to the addon (its refusals).
  if (!(Number.isInteger(data) && data >= 1 && data <= 16 && Number.isInteger(blockLength) && blockLength >= 0))
    return native.shardSize(blockLength, data);
  if (blockLength >= 2 ** 31) return native.shardSize(blockLength, data); // past any block; the addon's u32 answer
  const s = Math.ceil(blockLength / data);
  return s + (s & 1);
}

/** `count` shards (or frames) of `size` bytes packed back to back in `packed`, as subarrays (no copies). */
export function splitShards(packed: Buffer, count: number, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) out.push(packed.subarray(i * size, (i + 1) * size));
  return out;
}

function output(out: Buffer | undefined, length: number): Buffer {
  // Fresh memory costs page faults on every call; hot paths should pass a reused `out`.
  return out ?? Buffer.allocUnsafe(length);
}

function encodedLength(blockLength: number, data: number, parity: number): number {
  return shardSize(blockLength, data) * (data + parity);
}

/**
 * Erasure-codes `block` into `data + parity` shards, returned packed back to back (data shards
 * first, each `shardSize(block.length, data)` bytes; see `splitShards`). When `out` is given
 * (at least that long) the shards are written into it and a subarray of it is returned.
 * Sync form: for small blocks; use `encodeBlockAsync` on the request path.
 */
export function encodeBlock(block: Uint8Array, data: number, parity: number, out?: Buffer): Buffer {
  const dst = output(out, encodedLength(block.length, data, parity));
  return dst.subarray(0, native.encodeBlock(block, data, parity, dst));
}

/** `encodeBlock` on the libuv thread pool. `block` and `out` must not change until it settles. */
export async function encodeBlockAsync(block: Buffer, data: number, parity: number, out?: Buffer): Promise<Buffer> {
  const dst = output(out, encodedLength(block.length, data, parity));
  return dst.subarray(0, await native.encodeBlockAsync(block, data, parity, dst));
}

/** How many data shards of a `blockLength`-byte block lie whole inside it (the rest hold padding). */
function wholeDataShards(blockLength: number, data: number): number {
  const size = shardSize(blockLength, data);
  return size === 0 ? data : Math.min(data, Math.floor(blockLength / size));
}

function shardsOf(block: Buffer, tailAndParity: Buffer, data: number, parity: number): Buffer[] {
  const size = shardSize(block.length, data);
  const whole = wholeDataShards(block.length, data);
  return [...splitShards(block, whole, size), ...splitShards(tailAndParity, data - whole + parity, size)];
}

function tailAndParityLength(blockLength: number, data: number, parity: number): number {
  return (data - wholeDataShards(blockLength, data) + parity) * shardSize(blockLength, data);
}

/**
 * The zero-copy encode: all `data + parity` shards, where the data shards that lie whole inside
 * `block` are subarrays of it (not copied) and the others (zero-padded) and the parity shards are
 * written into `out` (allocated when not given). Faster than `encodeBlock` by one copy of the block;
 * `block` must not change while the shards are in use. Sync form.
 */
export function encodeShards(block: Buffer, data: number, parity: number, out?: Buffer): Buffer[] {
  const dst = output(out, tailAndParityLength(block.length, data, parity));
  native.encodeShards(block, data, parity, dst);
  return shardsOf(block, dst, data, parity);
}

/** `encodeShards` on the libuv thread pool. */
export async function encodeShardsAsync(block: Buffer, data: number, parity: number, out?: Buffer): Promise<Buffer[]> {
  const dst = output(out, tailAndParityLength(block.length, data, parity));
  await native.encodeShardsAsync(block, data, parity, dst);
  return shardsOf(block, dst, data, parity);
}

/**
 * The block of `blockLength` bytes from its `data + parity` shards (`null` for a missing shard; at
 * least `data` must be present). Written into `out` when given. Sync form.
 */
export function decodeBlock(
  shards: (Uint8Array | null)[],
  data: number,
  parity: number,
  blockLength: number,
  out?: Buffer,
): Buffer {
  const dst = output(out, blockLength);
  return dst.subarray(0, native.decodeBlock(shards, data, parity, blockLength, dst));
}

/** `decodeBlock` on the libuv thread pool. */
export async function decodeBlockAsync(
  shards: (Buffer | null)[],
  data: number,
  parity: number,
  blockLength: number,
  out?: Buffer,
): Promise<Buffer> {
  const dst = output(out, blockLength);
  return dst.subarray(0, await native.decodeBlockAsync(shards, data, parity, blockLength, dst));
}

/**
 * Rebuilds the missing (`null`) shards, data or parity, from at least `data` present ones (what
 * healing writes back). Returns them packed back to back in index order (see `splitShards`).
 */
export function reconstructShards(shards: (Uint8Array | null)[], data: number, parity: number): Buffer {
  return native.reconstructShards(shards, data, parity);
}

/** `reconstructShards` on the libuv thread pool. */
export function reconstructShardsAsync(shards: (Buffer | null)[], data: number, parity: number): Promise<Buffer> {
  return native.reconstructShardsAsync(shards, data, parity);
}
