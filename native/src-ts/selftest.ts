// Known-answer self-test of every kernel, run by `cairn selftest` and by the server at start-up (which
// refuses to start on a wrong answer: a miscompiled or mis-dispatched SIMD path would corrupt data).
// Vectors: CRC "check" values of "123456789" (the CRC catalogue), FIPS 180 / RFC 1321 digests of
// "abc", HighwayHash vectors published by minio/highwayhash, the chunk signatures of AWS's signed streaming
// upload example, and frozen digests of Cairn's own erasure-coded output (the on-disk format must never
// change silently).
import { blockTestPattern } from './pattern.js';
import { decodeBlock, encodeBlock, encodeShards, reconstructShards, shardSize, splitShards } from './erasure.js';
import { checksum, checksumCombine, crc32, crc32c, crc64nvme, highwayHash, Hasher } from './hash.js';
import { readBlock, UploadHasher } from './blocks.js';
import type { ChecksumAlgorithm } from './hash.js';
import { md5State, md5StateDigest, md5Update } from './md5.js';
import { verifyChunkSignatures } from './signatures.js';
import { aeadOpen, aeadSeal, aeadSealedLength, type Cipher } from './aead.js';

/** Outcome of one kernel's known-answer test. */
export interface SelfTestResult {
  kernel: string;
  ok: boolean;
  /** What was wrong, when not ok. */
  detail?: string;
  ms: number;
}

/** Outcome of the whole self-test: ok only when every kernel gave the known answer. */
export interface SelfTestReport {
  ok: boolean;
  results: SelfTestResult[];
}

const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Key 00 01 .. 1f and input 00 01 .. of minio/highwayhash's test vectors. */
const HH_KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
const HH_INPUT = Buffer.from(Array.from({ length: 64 }, (_, i) => i));

/** Frozen SHA-256 of encodeBlock(blockTestPattern(1000), 4, 2): pins the erasure code's output. */
const RS_4_2_SHA256 = 'a43e9fb1745e609dcb80d57008e3d3b6c30d94f5de21c94e0943fc762b099839';
/** Frozen SHA-256 of encodeBlock(blockTestPattern(100_001), 12, 4). */
const RS_12_4_SHA256 = '37283724e7d7c74240949cfcaac3d2b5ae3030a8e9926a5ff5c683f1ee5b0db3';

/** Frozen SHA-256 of the sealed packages of blockTestPattern(70_000) (key 00..1f, identity "cairn"). */
const SEALED_SHA256: Record<Cipher, string> = {
  'AES-256-GCM': '029c57229be4d78b16a82c2746f625388afedc51cc8d17d3e93718ee56bab148',
  'CHACHA20-POLY1305': 'b7b94e278de27c90a7a02b4fb9f357b0428f0d9f9a7fcd8ae84159c413711157',
};

function expectHex(what: string, got: Uint8Array | string, want: string): void {
  const g = typeof got === 'string' ? got : hex(got);
  if (g !== want) throw new Error(`${what}: got ${g}, want ${want}`);
}

const DIGESTS: [ChecksumAlgorithm, string, string][] = [
  ['CRC32', '123456789', 'cbf43926'],
  ['CRC32C', '123456789', 'e3069283'],
  ['CRC64NVME', '123456789', 'ae8b14860a799888'],
  ['MD5', 'abc', '900150983cd24fb0d6963f7d28e17f72'],
  ['SHA1', 'abc', 'a9993e364706816aba3e25717850c26c9cd0d89d'],
  ['SHA256', 'abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
];

function checkDigest(algorithm: ChecksumAlgorithm, input: string, want: string): void {
  expectHex(`${algorithm}("${input}")`, checksum(algorithm, ascii(input)), want);
  const h = new Hasher(algorithm);
  h.update(ascii(input.slice(0, 2)));
  h.update(ascii(input.slice(2)));
  expectHex(`streaming ${algorithm}("${input}")`, h.digest(), want);
}

/**
 * AWS's signed streaming upload example (S3 API reference, "Signature Calculations for the Authorization Header:
 * Transferring Payload in Multiple Chunks"): 65,536 then 1,024 bytes of 'a' and the final empty chunk, signed
 * from the seed signature with the example's signing key (secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY).
 */
const AWS_CHUNKED = {
  signingKey: Buffer.from('dbb893acc010964918f1fd433add87c70e8b0db6be30c1fbeafefa5ec6ba8378', 'hex'),
  prefix: 'AWS4-HMAC-SHA256-PAYLOAD\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n',
  seed: '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
  signatures:
    'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648' +
    '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497' +
    'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
};

function checkChunkSignatures(): void {
  const data = Buffer.alloc(65536 + 1024, 'a');
  const key = { signingKey: AWS_CHUNKED.signingKey, prefix: AWS_CHUNKED.prefix };
  const run = (pieces: Buffer[], counts: number[]) =>
    verifyChunkSignatures({ pieces, counts, signatures: AWS_CHUNKED.signatures, previous: AWS_CHUNKED.seed }, key);
  // Whole chunks, then the first chunk cut where no 64-byte block ends (its blocks gathered across pieces).
  const whole = run([data.subarray(0, 65536), data.subarray(65536)], [1, 1, 0]);
  const cut = run([data.subarray(0, 1000), data.subarray(1000, 65536), data.subarray(65536)], [2, 1, 0]);
  if (whole !== -1 || cut !== -1) throw new Error(`AWS example chunk signatures: got ${whole}, ${cut}, want -1, -1`);
  const forged = Buffer.from(data);
  forged[65536 + 9] = 0x62;
  const bad = run([forged.subarray(0, 65536), forged.subarray(65536)], [1, 1, 0]);
  if (bad !== 1) throw new Error(`AWS example with a changed second chunk: got ${bad}, want 1`);
}

/**
 * The MD5 lanes (SIMD, several states in one call): RFC 1321's 80-digit message and the well-known digest
 * of a million 'a's, in eight states cut differently (so that lanes run together, blocks straddle pieces
 * and lanes end at different calls).
 */
function checkMd5Lanes(): void {
  const digits = ascii('1234567890'.repeat(8));
  const million = Buffer.alloc(1_000_000, 'a');
  const states = Array.from({ length: 9 }, () => md5State());
  const cuts = [1, 63, 64, 65, 1000, 4096, 65_537, 500_000];
  md5Update(
    states,
    [...cuts.flatMap((c) => [million.subarray(0, c), million.subarray(c)]), digits.subarray(0, 7), digits.subarray(7)],
    [...cuts.map(() => 2), 2],
  );
  states.slice(0, 8).forEach((s, i) => expectHex(`MD5 lane ${i} (a million 'a's)`, md5StateDigest(s), MILLION_A_MD5));
  expectHex('MD5 lane 8 (RFC 1321 digits)', md5StateDigest(states[8]), '57edf4a22be3c955ac49da2e2107b67a');
}

const MILLION_A_MD5 = '7707d6ae4e027c70eea2a935c2296f21';

const TESTS: [string, () => void][] = [
  ...DIGESTS.map(([a, input, want]): [string, () => void] => [a, () => checkDigest(a, input, want)]),
  [
    'CRC numeric forms',
    () => {
      const s = ascii('123456789');
      expectHex('crc32', crc32(s).toString(16), 'cbf43926');
      expectHex('crc32c', crc32c(s).toString(16), 'e3069283');
      expectHex('crc64nvme', crc64nvme(s).toString(16), 'ae8b14860a799888');
    },
  ],
  [
    'CRC combine',
    () => {
      for (const [a, , want] of DIGESTS.slice(0, 3)) {
        const [x, y] = [ascii('1234'), ascii('56789')];
        expectHex(`combine ${a}`, checksumCombine(a as 'CRC32', checksum(a, x), checksum(a, y), y.length), want);
      }
    },
  ],
  [
    'HighwayHash',
    () => {
      expectHex(
        'HighwayHash-256(0 bytes)',
        highwayHash(HH_INPUT.subarray(0, 0), HH_KEY, 256),
        'f574c8c22a4844dd1f35c713730146d9ff1487b9ccbeaeb3f41d75453123da41',
      );
      expectHex(
        'HighwayHash-256(64 bytes)',
        highwayHash(HH_INPUT, HH_KEY, 256),
        '7524c16affe6d890f2c1da6e192a421a02b08e1ffe65379ebecf51c3c4d7bdc1',
      );
      expectHex(
        'HighwayHash-128(1 byte)',
        highwayHash(HH_INPUT.subarray(0, 1), HH_KEY, 128),
        'a8e7813689a8b0d6b4dc9cebf91d29dc',
      );
      expectHex('HighwayHash-64(64 bytes)', highwayHash(HH_INPUT, HH_KEY, 64), 'ffa6d24c5d2c5475');
    },
  ],
  [
    'Reed-Solomon',
    () => {
      for (const [len, data, parity, lose, want] of [
        [1000, 4, 2, [0, 3], RS_4_2_SHA256],
        [100_001, 12, 4, [0, 5, 11, 12], RS_12_4_SHA256],
      ] as const) {
        const block = blockTestPattern(len);
        const packed = encodeBlock(block, data, parity);
        expectHex(`SHA-256 of ${data}+${parity} shards`, checksum('SHA256', packed), want);
        if (!Buffer.concat(encodeShards(block, data, parity)).equals(packed))
          throw new Error(`${data}+${parity} encodeShards differs`);
        const size = shardSize(len, data);
        const shards: (Buffer | null)[] = splitShards(packed, data + parity, size);
        for (const i of lose) shards[i] = null;
        if (!decodeBlock(shards, data, parity, len).equals(block))
          throw new Error(`${data}+${parity} decode gave wrong bytes`);
        const rebuilt = splitShards(reconstructShards(shards, data, parity), lose.length, size);
        lose.forEach((index, k) => {
          if (!rebuilt[k].equals(packed.subarray(index * size, (index + 1) * size))) {
            throw new Error(`${data}+${parity} rebuilt shard ${index} differs`);
          }
        });
      }
    },
  ],
  ['MD5 lanes', checkMd5Lanes],
  ['SigV4 chunk signatures', checkChunkSignatures],
  [
    'fused upload and read',
    () => {
      const block = blockTestPattern(65_537);
      const up = new UploadHasher('CRC64NVME');
      const frames = up.encodeBlock(block, 6, 3, HH_KEY);
      const size = shardSize(block.length, 6);
      const shards = splitShards(encodeBlock(block, 6, 3), 9, size);
      frames.forEach((f, i) => {
        if (!f.subarray(32).equals(shards[i])) throw new Error(`frame ${i}: shard differs from encodeBlock`);
        if (!f.subarray(0, 32).equals(highwayHash(shards[i], HH_KEY, 256)))
          throw new Error(`frame ${i}: hash differs from highwayHash`);
      });
      const d = up.finish();
      expectHex('upload MD5', d.md5, hex(checksum('MD5', block)));
      expectHex('upload CRC64NVME', d.checksum ?? Buffer.alloc(0), hex(checksum('CRC64NVME', block)));
      const read: (Buffer | null)[] = frames.map((f) => Buffer.from(f));
      read[1]![40] ^= 1; // bitrot in shard 1
      read[4] = null;
      const r = readBlock(read, 6, 3, block.length, HH_KEY);
      if (r.bad.join() !== '1') throw new Error(`readBlock reported bad frames [${r.bad}], want [1]`);
      if (!r.block?.equals(block)) throw new Error('readBlock gave wrong bytes');
    },
  ],
  ...(['AES-256-GCM', 'CHACHA20-POLY1305'] as const).map((cipher): [string, () => void] => [
    `${cipher} packages`,
    () => {
      const plain = blockTestPattern(70_000);
      const identity = ascii('cairn');
      const sealed = Buffer.alloc(aeadSealedLength(plain.length));
      aeadSeal(cipher, HH_KEY, identity, 0, plain, true, sealed);
      expectHex(`SHA-256 of ${cipher} packages`, checksum('SHA256', sealed), SEALED_SHA256[cipher]);
      const out = Buffer.alloc(sealed.length);
      if (!out.subarray(0, aeadOpen(cipher, HH_KEY, identity, 0, sealed, true, out)).equals(plain))
        throw new Error(`${cipher}: opened packages differ`);
      sealed[100] ^= 1;
      let refused = false;
      try {
        aeadOpen(cipher, HH_KEY, identity, 0, sealed, true, out);
      } catch {
        refused = true;
      }
      if (!refused) throw new Error(`${cipher}: a tampered package opened`);
    },
  ]),
];

/** Runs every kernel's known-answer test; never throws. */
export function runSelfTest(): SelfTestReport {
  const results = TESTS.map(([kernel, test]): SelfTestResult => {
    const start = performance.now();
    try {
      test();
      return { kernel, ok: true, ms: performance.now() - start };
    } catch (err) {
      return { kernel, ok: false, detail: (err as Error).message, ms: performance.now() - start };
    }
  });
  return { ok: results.every((r) => r.ok), results };
}
