// The metadata file of one object on one drive: every version of the object, newest first.
// Layout: "CRNM" | u16 format version | u32 body length | msgpack body | u32 CRC32 of everything before.
// Format versions: 1 = the first; 2 adds `encryption` to versions (sealed data, plaintext sizes derived);
// 3 adds `lock` (object lock) and `updated` (last in-place metadata change); 4 adds `tier` (the data of a
// transitioned version lives in a remote tier: no shards, no `ec`); 5 adds `replication` (bucket replication
// status); 6 adds `replicationTargets` (that status at each target). Files of earlier versions are read as they
// are (no field of theirs changed meaning); a Cairn that knows only 1-5 refuses a 6 rather than misread it.
// A file that fails the CRC (torn write, bitrot) is reported as corrupt and the other drives are used.
import { crc32 } from 'node:zlib';
import { Packr } from 'msgpackr';
import type {
  RemoteObject,
  ReplicationStatus,
  RetentionMode,
  StorageClass,
  StoredChecksum,
  StoredEncryption,
  TargetReplication,
} from '../object-layer.js';

export const META_NAME = 'meta';
const MAGIC = 0x43524e4d; // "CRNM"
export const META_VERSION = 6;
const READABLE_VERSIONS = new Set([1, 2, 3, 4, 5, 6]);
const packr = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: true });

export type BitrotAlgo = 'highwayhash256';

export interface ErasureInfo {
  data: number;
  parity: number;
  blockSize: number;
  /** dist[i] = shard number (1-based) held by drive i of the set; rotated by a hash of the key. */
  dist: number[];
  bitrot: BitrotAlgo;
}

export interface PartRecord {
  number: number;
  size: number;
  etag: string;
  mtime: number;
  checksum?: StoredChecksum;
  /** Format 2, parts of encrypted objects: the salt of the part's stream key. */
  sealSalt?: Buffer;
}

/** Object lock state of one version (S3 Object Lock): retention (mode and date) and legal hold. */
export interface LockRecord {
  mode?: RetentionMode;
  /** Retain-until, ms since epoch (set together with mode). */
  until?: number;
  legalHold?: boolean;
}

export interface VersionRecord {
  id: string; // 'null' or a generated id
  /** Unique per write: two writes of the null version in the same millisecond stay apart. */
  uid: string;
  type: 'object' | 'delete';
  mtime: number; // ms since epoch
  size: number;
  etag: string;
  storageClass: StorageClass;
  contentHeaders: Record<string, string>;
  userMetadata: Record<string, string>;
  tagging?: string;
  checksum?: StoredChecksum;
  ec?: ErasureInfo;
  /** Format 2: the data is sealed packages; `size` and part sizes are the sealed sizes. */
  encryption?: StoredEncryption;
  /** Directory (inside the object dir) with part.N shard files; absent when the data is inline. */
  dataDir?: string;
  /** This drive's shard of each part, when small enough to live here (verified by the file CRC). */
  inline?: Buffer[];
  parts: PartRecord[];
  lock?: LockRecord;
  /**
   * When the metadata of this version last changed in place (ms; absent: never). Copies of one version on
   * several drives are told apart by it, so a drive that missed an update is not taken as the truth.
   */
  updated?: number;
  /**
   * Format 4: the version was transitioned: its stored bytes (`size`, `parts` as they were) are this remote
   * object; the version has no shards (`ec`, `dataDir`, `inline` absent).
   */
  tier?: RemoteObject;
  /**
   * Format 5: bucket replication. PENDING / COMPLETED / FAILED on a version this deployment replicates,
   * REPLICA on a version another one replicated here (api/replication).
   */
  replication?: ReplicationStatus;
  /**
   * Format 6: the replication status at each target, by ARN; `replication` is derived from them (absent on a
   * version queued before format 6: then it has `replication` only).
   */
  replicationTargets?: Record<string, TargetReplication>;
}

export interface MetaFile {
  versions: VersionRecord[];
}

export function encodeMeta(m: MetaFile): Buffer {
  const body = packr.pack(m);
  const out = Buffer.allocUnsafe(10 + body.length + 4);
  out.writeUInt32BE(MAGIC, 0);
  out.writeUInt16BE(META_VERSION, 4);
  out.writeUInt32BE(body.length, 6);
  body.copy(out, 10);
  out.writeUInt32BE(crc32(out.subarray(0, 10 + body.length)), 10 + body.length);
  return out;
}

export class CorruptMetaError extends Error {
  constructor(why: string) {
    super(`corrupt metadata file: ${why}`);
  }
}

export function decodeMeta(buf: Buffer): MetaFile {
  if (buf.length < 14 || buf.readUInt32BE(0) !== MAGIC) throw new CorruptMetaError('bad magic');
  const version = buf.readUInt16BE(4);
  const len = buf.readUInt32BE(6);
  if (10 + len + 4 !== buf.length) throw new CorruptMetaError('bad length');
  if (crc32(buf.subarray(0, 10 + len)) !== buf.readUInt32BE(10 + len)) throw new CorruptMetaError('checksum mismatch');
  if (!READABLE_VERSIONS.has(version)) throw new CorruptMetaError(`unknown format version ${version}`);
  const m = packr.unpack(buf.subarray(10, 10 + len)) as MetaFile;
  if (!m || !Array.isArray(m.versions)) throw new CorruptMetaError('no versions');
  return m;
}
