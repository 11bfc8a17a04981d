// Checksums computed independently of the code under test (node:crypto, node:zlib and a table-driven
// CRC-32C and CRC-64/NVME written from their published parameters), for the values S3 returns: base64 of the
// big-endian digest, and the multipart COMPOSITE form (the checksum of the parts' checksums, "-N").
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';

// CRC-64/NVME: polynomial 0xad93d23594c93659 (reflected: 0x9a6c9329ac4bc9b5), init and xorout all ones,
// check value of "123456789": 0xae8b14860a799888. The table is kept as 32-bit halves for speed.
const POLY = 0x9a6c9329ac4bc9b5n;
const TABLE_HI = new Uint32Array(256);
const TABLE_LO = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let c = BigInt(i);
  for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ POLY : c >> 1n;
  TABLE_HI[i] = Number(c >> 32n);
  TABLE_LO[i] = Number(c & 0xffffffffn);
}

export function crc64nvme(data: Uint8Array): Buffer {
  let hi = 0xffffffff;
  let lo = 0xffffffff;
  for (let i = 0; i < data.length; i++) {
    const t = (lo ^ data[i]) & 0xff;
    lo = ((lo >>> 8) | (hi << 24)) ^ TABLE_LO[t];
    hi = (hi >>> 8) ^ TABLE_HI[t];
  }
  const out = Buffer.alloc(8);
  out.writeUInt32BE((hi ^ 0xffffffff) >>> 0, 0);
  out.writeUInt32BE((lo ^ 0xffffffff) >>> 0, 4);
  return out;
}

// CRC-32C (Castagnoli): reflected polynomial 0x82f63b78, init and xorout all ones, check value 0xe3069283.
const CRC32C_TABLE = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  CRC32C_TABLE[i] = c >>> 0;
}

export function crc32c(data: Uint8Array): Buffer {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC32C_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((c ^ 0xffffffff) >>> 0);
  return out;
}

export type Algorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA256' | 'SHA1';

/** The raw digest of `data` for an S3 checksum algorithm. */
export function digest(alg: Algorithm, data: Uint8Array): Buffer {
  switch (alg) {
    case 'CRC32': {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(crc32(data) >>> 0);
      return b;
    }
    case 'CRC32C':
      return crc32c(data);
    case 'CRC64NVME':
      return crc64nvme(data);
    case 'SHA256':
      return createHash('sha256').update(data).digest();
    case 'SHA1':
      return createHash('sha1').update(data).digest();
  }
}

/** The x-amz-checksum-* value of `data`: base64 of its digest. */
export const checksumOf = (alg: Algorithm, data: Uint8Array): string => digest(alg, data).toString('base64');

/**
 * A multipart object's COMPOSITE checksum as S3 documents it ("Checking object integrity", multipart
 * uploads): the checksum of the concatenated binary part checksums, then `-` and the part count.
 */
export function compositeOf(alg: Algorithm, parts: Uint8Array[]): string {
  return `${digest(alg, Buffer.concat(parts.map((p) => digest(alg, p)))).toString('base64')}-${parts.length}`;
}
