// Known answers for the checksum family, and the checks that the forms agree with each other and with
// Node's own implementations (node:crypto MD5/SHA, node:zlib CRC32 where Node has it).
import { createHash } from 'node:crypto';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  checksum,
  checksumAsync,
  checksumCombine,
  crc32,
  crc32c,
  crc64nvme,
  Hasher,
  type ChecksumAlgorithm,
  type CrcAlgorithm,
} from '../index.js';
import { seededRandom } from '../../test/helpers/random.js';

const random = seededRandom();
const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256', 'MD5'];

const ascii = (s: string) => Buffer.from(s, 'latin1');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

// CRC catalogue "check" values (input "123456789") and FIPS 180-2 / RFC 1321 test vectors.
const VECTORS: [ChecksumAlgorithm, string, string][] = [
  ['CRC32', '123456789', 'cbf43926'],
  ['CRC32C', '123456789', 'e3069283'],
  ['CRC64NVME', '123456789', 'ae8b14860a799888'],
  ['CRC32', '', '00000000'],
  ['CRC32C', '', '00000000'],
  ['CRC64NVME', '', '0000000000000000'],
  ['MD5', '', 'd41d8cd98f00b204e9800998ecf8427e'],
  ['MD5', 'abc', '900150983cd24fb0d6963f7d28e17f72'],
  ['MD5', 'message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
  ['SHA1', 'abc', 'a9993e364706816aba3e25717850c26c9cd0d89d'],
  ['SHA1', 'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq', '84983e441c3bd26ebaae4aa1f95129e5e54670f1'],
  ['SHA256', '', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
  ['SHA256', 'abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
  [
    'SHA256',
    'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq',
    '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
  ],
];

describe('checksum known answers', () => {
  it.each(VECTORS)('%s(%j) = %s', (algorithm, input, want) => {
    expect(hex(checksum(algorithm, ascii(input)))).toBe(want);
  });

  it('numeric forms match the digest bytes', () => {
    const s = ascii('123456789');
    expect(crc32(s)).toBe(0xcbf43926);
    expect(crc32c(s)).toBe(0xe3069283);
    expect(crc64nvme(s)).toBe(0xae8b14860a799888n);
  });

  it('digest bytes are the big-endian numeric value', () => {
    const data = random.bytes(1000);
    expect(checksum('CRC32', data).readUInt32BE()).toBe(crc32(data));
    expect(checksum('CRC32C', data).readUInt32BE()).toBe(crc32c(data));
    expect(checksum('CRC64NVME', data).readBigUInt64BE()).toBe(crc64nvme(data));
  });
});

describe('checksum agreement', () => {
  const sizes = [0, 1, 7, 55, 56, 57, 63, 64, 65, 119, 120, 121, 127, 128, 4095, 4096, 100_003, 1 << 20];

  it('MD5, SHA-1 and SHA-256 equal node:crypto', () => {
    for (const n of sizes) {
      const data = random.bytes(n);
      expect(hex(checksum('MD5', data))).toBe(createHash('md5').update(data).digest('hex'));
      expect(hex(checksum('SHA1', data))).toBe(createHash('sha1').update(data).digest('hex'));
      expect(hex(checksum('SHA256', data))).toBe(createHash('sha256').update(data).digest('hex'));
    }
  });

  it.runIf(typeof (zlib as { crc32?: unknown }).crc32 === 'function')('CRC32 equals node:zlib crc32', () => {
    const zcrc = (zlib as unknown as { crc32: (d: Uint8Array) => number }).crc32;
    for (const n of sizes) {
      const data = random.bytes(n);
      expect(crc32(data)).toBe(zcrc(data));
    }
  });

  it('streaming equals one-shot, whatever the chunking', async () => {
    const data = random.bytes(300_001);
    for (const algorithm of CHECKSUM_ALGORITHMS) {
      const h = new Hasher(algorithm);
      expect(h.algorithm).toBe(algorithm);
      let at = 0;
      for (const step of [0, 1, 2, 63, 64, 1000, 65_536]) {
        h.update(data.subarray(at, at + step));
        at += step;
      }
      expect(hex(h.digest())).toBe(hex(checksum(algorithm, data.subarray(0, at)))); // digest mid-stream
      await h.updateAsync(data.subarray(at));
      expect(hex(h.digest())).toBe(hex(checksum(algorithm, data)));
      h.reset();
      expect(hex(h.digest())).toBe(hex(checksum(algorithm, Buffer.alloc(0))));
    }
  });

  it('async equals sync', async () => {
    const data = random.bytes((1 << 20) + 3);
    for (const algorithm of CHECKSUM_ALGORITHMS) {
      expect(hex(await checksumAsync(algorithm, data))).toBe(hex(checksum(algorithm, data)));
    }
  });

  it('a hasher takes one call at a time', async () => {
    const h = new Hasher('SHA256');
    const data = random.bytes(1 << 20);
    const pending = h.updateAsync(data);
    expect(() => h.update(data)).toThrow(/still running/);
    await pending;
    h.update(data);
    expect(hex(h.digest())).toBe(hex(checksum('SHA256', Buffer.concat([data, data]))));
  });
});

describe('checksumCombine', () => {
  const crcs: CrcAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME'];

  it.each(crcs)('%s: combine of parts equals checksum of the concatenation', (algorithm) => {
    const parts = [0, 1, 5, 4096, 70_001, 0, 1 << 20].map((n) => random.bytes(n));
    let acc = checksum(algorithm, parts[0]);
    for (const p of parts.slice(1)) acc = checksumCombine(algorithm, acc, checksum(algorithm, p), p.length);
    expect(hex(acc)).toBe(hex(checksum(algorithm, Buffer.concat(parts))));
    expect(
      hex(checksumCombine(algorithm, checksum(algorithm, ascii('1234')), checksum(algorithm, ascii('56789')), 5)),
    ).toBe(hex(checksum(algorithm, ascii('123456789'))));
  });

  it('rejects non-CRC algorithms and wrong digest lengths', () => {
    expect(() => checksumCombine('SHA256' as CrcAlgorithm, Buffer.alloc(32), Buffer.alloc(32), 1)).toThrow(/not a CRC/);
    expect(() => checksumCombine('CRC32', Buffer.alloc(8), Buffer.alloc(4), 1)).toThrow(/expected 4 bytes/);
    expect(() => checksumCombine('CRC64NVME', Buffer.alloc(8), Buffer.alloc(8), -1)).toThrow(/negative/);
  });

  it('rejects unknown algorithm names', () => {
    expect(() => checksum('CRC16' as ChecksumAlgorithm, Buffer.alloc(1))).toThrow();
    expect(() => new Hasher('sha256' as ChecksumAlgorithm)).toThrow();
  });
});
