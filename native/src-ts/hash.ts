// The S3 checksum family (CRC32, CRC32C, CRC64NVME, SHA-1, SHA-256), the ETag digest (MD5) and
// HighwayHash-64/-128/-256 (byte-identical to github.com/minio/highwayhash); checksums one-shot and streaming.
import { native } from './binding.js';

/** A checksum algorithm, named as in S3's `x-amz-checksum-algorithm`, plus MD5 (the ETag digest). */
export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256' | 'MD5';

/** The CRCs, which can be combined (`checksumCombine`). */
export type CrcAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME';

/**
 * Digest of `data`: the bytes S3 base64-encodes in `x-amz-checksum-*` (CRCs big-endian, 4 or 8
 * bytes). Sync form, for small inputs.
 */
export function checksum(algorithm: ChecksumAlgorithm, data: Uint8Array): Buffer {
  return native.checksum(algorithm, data);
}

/** `checksum` on the libuv thread pool. */
export function checksumAsync(algorithm: ChecksumAlgorithm, data: Buffer): Promise<Buffer> {
  return native.checksumAsync(algorithm, data);
}

/** CRC32 (IEEE 802.3, as zlib) of `data`, as an unsigned number. */
export function crc32(data: Uint8Array): number {
  return native.crc32(data);
}

/** CRC32C (Castagnoli) of `data`, as an unsigned number. */
export function crc32c(data: Uint8Array): number {
  return native.crc32c(data);
}

/** CRC64NVME of `data`, as a bigint. */
export function crc64nvme(data: Uint8Array): bigint {
  return native.crc64nvme(data);
}

/**
 * The CRC digest of `A || B` from the digests of A and B and B's length in bytes: an object's
 * FULL_OBJECT multipart checksum from its parts' checksums, without reading the data again.
 */
export function checksumCombine(
  algorithm: CrcAlgorithm,
  first: Uint8Array,
  second: Uint8Array,
  secondLength: number,
): Buffer {
  return native.checksumCombine(algorithm, first, second, secondLength);
}

/**
 * A streaming checksum: `update` (or `await updateAsync`) in order, `digest()` at any point; the
 * digest does not end the stream. One call at a time: an async update must settle first.
 */
export interface Hasher {
  readonly algorithm: ChecksumAlgorithm;
  update(data: Uint8Array): void;
  updateAsync(data: Buffer): Promise<void>;
  digest(): Buffer;
  reset(): void;
}

/** Constructor of `Hasher` (the native class). */
export const Hasher: new (algorithm: ChecksumAlgorithm) => Hasher = native.Hasher;

/** Digest sizes of HighwayHash. */
export type HighwayBits = 64 | 128 | 256;

/**
 * HighwayHash of `data` with a 32-byte `key`: 8, 16 or 32 bytes, laid out as minio/highwayhash
 * returns them (`Sum`, `Sum128`; `Sum64` as little-endian bytes). Sync form.
 */
export function highwayHash(data: Uint8Array, key: Uint8Array, bits: HighwayBits = 256): Buffer {
  return native.highwayHash(data, key, bits);
}

/** `highwayHash` on the libuv thread pool. */
export function highwayHashAsync(data: Buffer, key: Uint8Array, bits: HighwayBits = 256): Promise<Buffer> {
  return native.highwayHashAsync(data, key, bits);
}
