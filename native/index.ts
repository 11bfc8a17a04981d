// @cairn/native: Cairn's Rust kernels (napi-rs) with their TypeScript names.
//
// - Reed-Solomon on whole blocks (erasure.ts): shardSize, encodeShards (zero-copy), encodeBlock (packed),
//   decodeBlock, reconstructShards.
// - Checksums and HighwayHash (hash.ts): checksum, crc32/crc32c/crc64nvme, checksumCombine, Hasher,
//   highwayHash.
// - Fused block passes for storage's framed shard files (blocks.ts): FRAME_HASH_LENGTH, frameSize,
//   UploadHasher, readBlock, verifyFrames, readShardFramesAsync (open + read + verify + close a shard file),
//   readShardsFramesAsync (several shard files in one pool task), healBlock.
// - MD5 of many uploads at once (md5.ts): md5State, md5Update, md5StateDigest, Md5Lanes; Md5Stream (one
//   batcher for the whole process), md5StreamStats.
// - SigV4 streaming chunk signatures (signatures.ts): verifyChunkSignatures.
// - Storage's whole-file reads and writes, one pool task each (files.ts): readFile, readFileIfChanged, writeFile,
//   appendFileLinked, writeFileAtomic; readShardsFramesQueued (shard spans in the task of a queue's other operations).
// - The sealed package format of encrypted data (aead.ts): aeadSeal, aeadOpen, aeadOpenInPlace, aeadSealedLength,
//   aeadPlainLength, preferredCipher; one small message (a data key under its key-encryption key):
//   aeadSealMessage, aeadOpenMessage.
// - S3 Select's Parquet scan (parquet.ts): ParquetScan, PARQUET_COLUMN; its CSV line filter (csv.ts):
//   csvLineFilterAsync, CSV_LINE_OPS; its JSON LINES line filter (json-lines.ts): jsonLineFilterAsync; JSON
//   numbers a double cannot hold (json-lines.ts): jsonLongNumberRun. The CSV line filter in a GET batch's read
//   task (read-pass.ts): PiecePass, readShardsFramesPassAsync.
// - A body moved from one TCP socket to another inside the kernel (splice.ts): spliceSockets, canSplice.
// - HTTPS server connections done by rustls, sans-I/O (tls.ts): TlsServerConfig, TlsConnection.
// - Bytes every worker thread of the process can find (shared-bytes.ts): SharedBytes.
// - Known-answer self-test (selftest.ts): runSelfTest. The C heap's free pages back to the system: trimHeap.
//
// These are what the server, the benchmarks and the self-test use; test/api.test.ts pins the list.
// Every CPU-heavy call has an async form (`...Async`) that runs on the libuv thread pool and takes and
// returns Buffers without copying; the sync forms are for small inputs. Large outputs can be written
// into a caller's reused `out` Buffer: fresh memory costs page faults on every call.
import { native } from './src-ts/binding.js';

export * from './src-ts/erasure.js';
export * from './src-ts/hash.js';
export * from './src-ts/blocks.js';
export * from './src-ts/md5.js';
export * from './src-ts/signatures.js';
export * from './src-ts/files.js';
export * from './src-ts/aead.js';
export * from './src-ts/selftest.js';
export * from './src-ts/parquet.js';
export * from './src-ts/csv.js';
export * from './src-ts/json-lines.js';
export * from './src-ts/read-pass.js';
export * from './src-ts/splice.js';
export * from './src-ts/tls.js';
export * from './src-ts/shared-bytes.js';

/**
 * Gives the C heap's free memory back to the system (glibc's malloc_trim(0), every arena); true when some was
 * released. Called once after start-up, whose freed memory (module sources, compiler zones) glibc keeps.
 */
export function trimHeap(): boolean {
  return native.trimHeap();
}

/** Version of the native crate (for `cairn --version`). */
export function nativeVersion(): string {
  return native.nativeVersion();
}
