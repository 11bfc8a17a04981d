// The public API of @cairn/native, on purpose: what the server and the benchmarks use, each kernel in its
// sync and async forms (the async one for the request path, the sync one for small inputs), plus the
// self-test. Adding or dropping an export is a decision: change this list with it.
import { describe, expect, it } from 'vitest';
import * as native from '../index.js';

describe('@cairn/native exports', () => {
  it('are exactly the deliberate API', () => {
    expect(Object.keys(native).sort()).toEqual(
      [
        // Reed-Solomon on whole blocks (erasure.ts): the plain coder, measured by bench/kernels and self-tested
        'decodeBlock',
        'decodeBlockAsync',
        'encodeBlock',
        'encodeBlockAsync',
        'encodeShards',
        'encodeShardsAsync',
        'reconstructShards',
        'reconstructShardsAsync',
        'shardSize',
        'splitShards',
        // S3 checksums and HighwayHash (hash.ts)
        'Hasher',
        'checksum',
        'checksumAsync',
        'checksumCombine',
        'crc32',
        'crc32c',
        'crc64nvme',
        'highwayHash',
        'highwayHashAsync',
        // storage's framed shards (blocks.ts)
        'FRAME_HASH_LENGTH',
        'UploadHasher',
        'frameSize',
        'healBlock',
        'healBlockAsync',
        'readBlock',
        'readBlockAsync',
        'readShardFramesAsync',
        'readShardsFramesAsync',
        'verifyFrames',
        'verifyFramesAsync',
        // the ETag's MD5, many uploads in one call (md5.ts)
        'Md5Lanes',
        'Md5Stream',
        'md5State',
        'md5StateDigest',
        'md5StreamStats',
        'md5Update',
        'md5UpdateAsync',
        // signed aws-chunked bodies (signatures.ts)
        'verifyChunkSignatures',
        'verifyChunkSignaturesAsync',
        // storage's whole-file reads, writes and removals, one pool task each (files.ts)
        'appendFd',
        'appendFileLinked',
        'readFile',
        'readFileIfChanged',
        'readShardsFramesQueued',
        'unlinkFile',
        'writeFd',
        'writeFile',
        'writeFileAtomic',
        // sealed packages of encrypted data (aead.ts)
        'AEAD_PACKAGE_SIZE',
        'AEAD_SEALED_PACKAGE',
        'AEAD_TAG_SIZE',
        'aeadOpen',
        'aeadOpenAsync',
        'aeadOpenInPlace',
        'aeadOpenInPlaceAsync',
        'aeadOpenMessage',
        'aeadPlainLength',
        'aeadSeal',
        'aeadSealAsync',
        'aeadSealMessage',
        'aeadSealedLength',
        'preferredCipher',
        // S3 Select's Parquet scan (parquet.ts)
        'PARQUET_COLUMN',
        'ParquetScan',
        // S3 Select's CSV line filter (csv.ts)
        'CSV_LINE_OPS',
        'csvLineFilterAsync',
        // and the same test in a GET batch's read task (csv.ts, read-pass.ts)
        'PiecePass',
        'readShardsFramesPassAsync',
        // and its JSON LINES line filter (json-lines.ts), also in a GET batch's read task (a PiecePass armed so)
        'armJsonLines',
        'jsonLineFilterAsync',
        'jsonLongNumberRun',
        // a body moved from one socket to another in the kernel (splice.ts): the S3 gateway's GETs
        'canSplice',
        'spliceSockets',
        // HTTPS connections whose TLS rustls does, sans-I/O (tls.ts): the S3 listener's CAIRN_TLS_ENGINE=rustls
        'TlsConnection',
        'TlsServerConfig',
        // bytes every worker thread of the process can find (shared-bytes.ts): storage's shared reads
        'SharedBytes',
        // start-up (selftest.ts, index.ts)
        'nativeVersion',
        'runSelfTest',
        'trimHeap',
      ].sort(),
    );
  });

  it("trimHeap hands the C heap's free pages back (glibc's malloc_trim) and says whether any were", () => {
    expect(typeof native.trimHeap()).toBe('boolean');
  });
});
