// The contract between the S3 API (server/src/api) and storage: the ObjectLayer interface and its types.
// storage knows nothing of HTTP: bodies are byte streams, errors are S3Error codes (../errors.ts), and
// everything S3 needs to answer is in ObjectInfo.
import type { Readable } from 'node:stream';
import type { PiecePass } from '@cairn/native';
import type { HeldLock } from './coordination.js';
import type { Decommissions } from './decommission.js';

/**
 * Cairn's own state (IAM: users, groups, policies, service accounts) lives in this bucket, written through
 * the ObjectLayer like any object (erasure-coded, quorum-written, checksummed), in `.cairn.sys/config/` on
 * every drive. Its name is not a valid bucket name, storage does not list it, and the API refuses every
 * request that names it (api/authorize.ts).
 */
export const SYSTEM_BUCKET = '.cairn.sys/config';

export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256';
export type ChecksumType = 'FULL_OBJECT' | 'COMPOSITE';
export type StorageClass = 'STANDARD' | 'REDUCED_REDUNDANCY';
export type VersioningState = 'Unversioned' | 'Enabled' | 'Suspended';
export type RetentionMode = 'GOVERNANCE' | 'COMPLIANCE';

/**
 * Object lock state of a version. Storage keeps it and hands it back; what it forbids (deletes, shorter
 * retention) is the API layer's rule (api/object-lock.ts), checked through the guards below under the
 * object's write lock.
 */
export interface ObjectLock {
  /** Set together with retainUntil. */
  mode?: RetentionMode;
  retainUntil?: Date;
  legalHold?: boolean;
}

export interface StoredChecksum {
  algorithm: ChecksumAlgorithm;
  type: ChecksumType;
  /** base64 of the big-endian digest, as S3 puts it in x-amz-checksum-*; COMPOSITE values end in `-N`. */
  value: string;
}

/**
 * How an object's data is encrypted, as the API layer recorded it at PUT: storage keeps it with the version
 * and returns it in ObjectInfo, and reads nothing in it. Storage holds the sealed bytes (native aead
 * packages), so a version's stored size is the sealed size; ObjectInfo reports plaintext sizes.
 */
export interface StoredEncryption {
  scheme: 'SSE-C' | 'SSE-S3' | 'SSE-KMS';
  cipher: 'AES-256-GCM' | 'CHACHA20-POLY1305';
  /** Random per object, bound into every package (with the part number). */
  objectId: Buffer;
  /** The object's data key sealed by the customer key or the KMS key (iv || ciphertext || tag). */
  sealedKey: Buffer;
  /** SSE-C: base64 MD5 of the customer key (the x-amz-server-side-encryption-customer-key-MD5 answer). */
  keyMd5?: string;
  /** SSE-S3 / SSE-KMS: the KMS key that sealed the data key. */
  kmsKeyId?: string;
  /** SSE-KMS: the request's encryption context as canonical JSON (bound to the data key by the KMS). */
  kmsContext?: string;
}

/** What a PUT of sealed bytes tells storage besides the body (see PutOptions.sealed). */
export interface SealedPut {
  encryption: StoredEncryption;
  /** A part of an encrypted multipart upload: the random salt its stream key was derived with. */
  partSalt?: Buffer;
  /**
   * After the last body byte: the plaintext's checksum, and the ETag (32 hex digits, made from the plaintext:
   * storage computes no MD5 of the sealed bytes).
   */
  digests(): { etag: string; checksum?: Buffer };
}

/**
 * Where a transitioned version's data lives: one object in a remote tier (api/tier), holding the version's
 * stored bytes as they were on the drives (the sealed packages of an encrypted object), all parts in order.
 */
export interface RemoteObject {
  /** The tier's name (its storage class, as x-amz-storage-class shows it). */
  tier: string;
  /** The remote object's key in the tier's bucket. */
  key: string;
  /** The remote object's version id, when the tier's bucket is versioned. */
  versionId?: string;
}

/**
 * The remote tiers, as storage uses them (api/tier implements this and attaches it at start-up): reading a
 * transitioned version's bytes, and learning that a committed change dropped one (its remote object is then
 * unreferenced and goes, now or later).
 */
export interface RemoteTiers {
  /** Bytes `range` (stored coordinates) of the remote object; ServiceUnavailable when the tier cannot answer. */
  read(remote: RemoteObject, range: ByteRange | undefined, storedSize: number): Promise<Readable>;
  /** Versions holding these remote objects were removed (committed): their remote objects are garbage. */
  released(remotes: RemoteObject[]): Promise<void>;
}

export interface PartInfo {
  number: number;
  size: number;
  etag: string; // hex MD5, no quotes
  lastModified: Date;
  checksum?: StoredChecksum;
  /** A part of an encrypted object: the salt its stream key is derived with (api/sse). */
  sealSalt?: Buffer;
}

export interface ObjectInfo {
  bucket: string;
  key: string;
  /** 'null' for the null version (unversioned or suspended bucket), otherwise a generated id. */
  versionId: string;
  isLatest: boolean;
  deleteMarker: boolean;
  size: number;
  /** hex MD5 for single PUT, `hex-N` for multipart; no quotes. */
  etag: string;
  lastModified: Date;
  /** STANDARD or REDUCED_REDUNDANCY; a transitioned version's is the name of its tier. */
  storageClass: string;
  /** Content-Type, Content-Encoding, Cache-Control, Content-Disposition, Content-Language, Expires. */
  contentHeaders: Record<string, string>;
  /** x-amz-meta-* without the prefix, names lower-cased. */
  userMetadata: Record<string, string>;
  /** URL-encoded tag set (`a=1&b=2`), as in x-amz-tagging. */
  tagging?: string;
  checksum?: StoredChecksum;
  /** Parts of a multipart object (for partNumber reads and GetObjectAttributes). */
  parts?: PartInfo[];
  /** Present when the data is encrypted; `size` and part sizes are then the plaintext sizes. */
  encryption?: StoredEncryption;
  lock?: ObjectLock;
  /** The version's data was moved to a remote tier (lifecycle transition): where it is. */
  transition?: RemoteObject;
  /** Bucket replication: where this version stands (absent: not replicated, not a replica). */
  replicationStatus?: ReplicationStatus;
  /** Bucket replication: where it stands at each target, by ARN (replicationStatus is derived from these). */
  replicationTargets?: Record<string, TargetReplication>;
}

/** x-amz-replication-status: of a version being replicated (the first three), or of a replica. */
export type ReplicationStatus = 'PENDING' | 'COMPLETED' | 'FAILED' | 'REPLICA';

/**
 * A version's replication to one target (MinIO's x-minio-internal-replication-status, one `arn=STATUS` each):
 * `change` names the change last queued for it, so only that change's copy makes it COMPLETED.
 */
export interface TargetReplication {
  status: 'PENDING' | 'COMPLETED' | 'FAILED';
  change?: string;
}

/** A version's replication state as stored: its status and each target's. */
export interface ReplicationState {
  status?: ReplicationStatus;
  targets?: Record<string, TargetReplication>;
}

/**
 * A version written as another deployment's copy (bucket replication): it keeps the source's version id and
 * modification time, so both sides order the key's versions alike.
 */
export interface ReplicaVersion {
  versionId: string;
  mtime: Date;
}

export interface BucketInfo {
  name: string;
  created: Date;
}

/** Per-bucket configuration kept with the bucket (all optional; absent = not set). */
export interface BucketConfig {
  versioning?: VersioningState;
  /** Raw documents as the client sent them (XML or JSON text); the API layer parses and validates. */
  tagging?: string;
  cors?: string;
  policy?: string;
  objectLockEnabled?: boolean;
  /** ObjectLockConfiguration document (XML) with the default retention rule, as validated by the API layer. */
  objectLock?: string;
  /** Access key of the user who created the bucket (absent: the root user). Set by the API layer. */
  owner?: string;
  location?: string;
  /** The bucket's ACL (JSON, see api/acl.ts); absent: the owner alone. */
  acl?: string;
  /** PublicAccessBlockConfiguration and OwnershipControls documents as sent (XML). */
  publicAccessBlock?: string;
  ownershipControls?: string;
  /** Default encryption of new objects (JSON, see api/bucket-encryption.ts). */
  encryption?: string;
  /** NotificationConfiguration document (XML) as validated by the API layer (api/notify/config.ts). */
  notification?: string;
  /** LifecycleConfiguration document (XML) as validated by the API layer (api/lifecycle). */
  lifecycle?: string;
  /** ReplicationConfiguration document (XML) as validated by the API layer (api/replication). */
  replication?: string;
  /** The bucket's replication targets (JSON, secrets sealed; api/replication/targets.ts). */
  replicationTargets?: string;
  /** Progress of the bucket's replication resyncs, per target (JSON; api/replication/resync.ts). */
  replicationResync?: string;
  /** Attribute-based access control on (PutBucketAbac): the bucket's tags are aws:ResourceTag (api/bucket-abac.ts). */
  abac?: boolean;
  /** The bucket's hard quota (JSON, MinIO's madmin.BucketQuota; api/quota.ts). */
  quota?: string;
}

export interface ByteRange {
  start: number; // inclusive
  end: number; // inclusive, already clamped to size - 1
}

export interface PutOptions {
  /** Declared size, or -1 when unknown (chunked bodies). A body of another length fails with IncompleteBody. */
  size: number;
  contentHeaders?: Record<string, string>;
  userMetadata?: Record<string, string>;
  tagging?: string;
  storageClass?: StorageClass;
  /** Checksum to compute while writing (one native pass with MD5, encode and bitrot hashes). */
  checksumAlgorithm?: ChecksumAlgorithm;
  /** Its value as the client declared it in a header (base64), known before the body; `verify` checks it. */
  checksumDeclared?: string;
  /** Object lock of the new version (retention and legal hold). */
  lock?: ObjectLock;
  /** The new version is a replica of another deployment's version (bucket replication): its id and time. */
  replica?: ReplicaVersion;
  /** The new version's replication status (REPLICA for a replica; PENDING for one to replicate). */
  replicationStatus?: ReplicationStatus;
  /** The new version's replication state at each target (with replicationStatus PENDING: queued to them). */
  replicationTargets?: Record<string, TargetReplication>;
  /**
   * Called after the last body byte and before the commit, with what was computed. Throwing (BadDigest, ...)
   * aborts the write and nothing is stored. Lets the API layer check Content-MD5 and header/trailer checksums
   * whose expected values arrive only at the end of an aws-chunked body.
   */
  verify?: (computed: { md5: Buffer; checksum?: Buffer; size: number }) => void | Promise<void>;
  /**
   * Checked atomically at commit against the current latest version (null when none or a delete marker):
   * conditional writes (If-None-Match: *, If-Match). Throw S3Error to refuse.
   */
  precondition?: (current: ObjectInfo | null) => void;
  /**
   * The body is sealed packages (api/sse): `size` is the sealed size, the checksum named by
   * `checksumAlgorithm` and the ETag come from `digests()` (the plaintext's), and `encryption` is stored.
   */
  sealed?: SealedPut;
}

/**
 * A GET body may carry `recycle`: a consumer that calls it with a chunk once nothing refers to that chunk
 * any more (the socket has written it) lets the engine reuse the memory for the next reads. Optional for
 * consumers: chunks never given back are simply left to the GC.
 */
export interface RecyclingBody {
  recycle(chunk: Buffer): void;
}

/**
 * A GET body whose rest can move from a socket to the client's socket inside the kernel (the S3 gateway's
 * backend answers over plain HTTP: @cairn/native spliceSockets). `spliceInto` stops the body's own reading and
 * answers what it had read already and how to move the rest, or undefined when it cannot (TLS, little left) or
 * should not (`to.local`: the client is on this host, see SpliceMode), in which case the body reads on as
 * before. Optional for consumers.
 */
export interface SplicingBody {
  spliceInto(to: { local: boolean }): SpliceHandOver | undefined;
}

/**
 * A GET body that can hand each chunk to its consumer as it arrives (the S3 gateway's: a read of the backend's
 * socket goes on to the client's socket without a Readable's buffer, events and read() calls in between).
 * `pushTo` is called at most once, instead of reading the stream; it answers how to resume after a write that
 * asked to wait, or undefined when the body cannot (read already, spliced, destroyed), and the consumer reads
 * the stream then. The consumer still destroys the body when it gives up before the end. Optional for consumers.
 */
export interface PushingBody {
  pushTo(sink: ChunkSink): { resume(): void } | undefined;
}

export interface ChunkSink {
  /** One chunk, the consumer's until it gives it back (`recycle`); false: no more until `resume()`. */
  write(chunk: Buffer): boolean;
  /** Every chunk was written. */
  end(): void;
  /** The body failed before its end (called at most once, not after `end`). */
  fail(err: Error): void;
}

/**
 * When a body splices (CAIRN_GATEWAY_SPLICE): `auto` only to a client on another host, `on` always, `off` never.
 * To a client on this host (loopback) a splice costs the machine more than copying through node: the kernel runs
 * the client's receive work in the splice's sends, and the client's ACKs run the sends that waited on its
 * window, so the client pays back more CPU than the gateway saves, and the GET is slower (bench/s3gw).
 */
export type SpliceMode = 'auto' | 'on' | 'off';

export interface SpliceHandOver {
  /** Read before the hand-over: written to the client first. */
  buffered: Buffer[];
  /** Left after `buffered`. */
  bytes: number;
  /** Moves `bytes` into the socket `toFd` once `buffered` and the answer's head are written (nothing else may
   * write to it meanwhile); rejects (the body destroyed) when either side fails. */
  run(toFd: number): Promise<void>;
  /** The rest will not be sent (the client went away first): the body and its connection are let go. */
  cancel(): void;
}

/**
 * A GET body read with ReadOptions.mutable may carry `mutable`: true for a chunk only its reader sees, which
 * the reader may write into (before giving it back). Absent, or false: the chunk is read-only.
 */
export interface MutableChunks {
  mutable(chunk: Buffer): boolean;
}

/**
 * A GET body read with ReadOptions.pass may carry `passed`: for a chunk that is read bytes through the pass, how
 * many bytes of the object it stands for; undefined for a chunk that is the object's bytes as they are.
 */
export interface PassedChunks {
  passed(chunk: Buffer): number | undefined;
}

/**
 * A body whose chunks an in-process reader (S3 Select) may take straight from storage's generator, without the
 * stream around it (its buffering and events per chunk). `chunks()` is called at most once; undefined when the
 * stream has been read (the reader reads the stream then). The reader still destroys the body when done with it
 * (that releases the files). Optional for consumers.
 */
export interface DirectChunks {
  chunks(): AsyncIterable<Buffer> | undefined;
}

/** The bytes of an object (or a range of it), verified as they are read. */
export type ObjectBody = Readable &
  Partial<RecyclingBody> &
  Partial<MutableChunks> &
  Partial<SplicingBody> &
  Partial<PushingBody> &
  Partial<DirectChunks>;

/**
 * One version, resolved by one metadata read, ready to be read. Storage knows no S3 rules beyond that: a
 * delete marker is returned like any version (`info.deleteMarker`, no bytes), and what to answer for it,
 * for conditions, ranges and parts is the API layer's (api/object-read.ts). Every `read` reads this same
 * version, so the metadata a caller checked is the metadata of the bytes it gets.
 */
export interface OpenedObject {
  info: ObjectInfo;
  /**
   * The bytes of `range` (the whole object when absent). The first block is read before this resolves,
   * so an unreadable object fails here. InvalidRange when the range starts past the end or is empty.
   */
  read(range?: ByteRange, opts?: ReadOptions): Promise<ObjectBody>;
  /**
   * The whole object in one buffer, verified as read() verifies it, when the store holds this version in
   * memory-sized form (the erasure engine: inline in its metadata, small objects); absent otherwise. A
   * small GET is answered from it without a stream.
   */
  readInline?(): Promise<Buffer>;
  /**
   * Lets go of what openObject began reading for `readingWhole` or `readingRange` and nobody read (a condition refused the
   * GET, an error came first). A no-op once read() took it, or when nothing was begun.
   */
  release?(): void;
}

export interface ReadOptions {
  /**
   * The caller authenticates the bytes itself (sealed SSE packages carry AEAD tags): a store may skip its own
   * bitrot check. The caller must read a range again without this when its check fails, so that the store
   * finds the bad shard, reads around it and heals it. Stores without such a check ignore it.
   */
  unverified?: boolean;
  /**
   * The caller would write into the chunks it is given (opening sealed packages where they lie). A store may
   * give it chunks nobody else sees (not shared with other readers through its read-ahead cache) and say
   * which (ObjectBody `mutable`); every other chunk stays read-only. Stores ignore it otherwise.
   */
  mutable?: boolean;
  /**
   * A native pass over the bytes (@cairn/native PiecePass: S3 Select's CSV line filter), which a store may run
   * in the pool task that reads and checks them (one wake-up, the bytes still in the cache), giving its output
   * instead of the bytes and saying so (ObjectBody `passed`). Stores ignore it otherwise.
   */
  pass?: PiecePass;
}

export interface OpenOptions {
  versionId?: string;
  /**
   * The caller means to read the whole object next (a GET without Range or partNumber). A store whose
   * metadata comes with the bytes (the S3 gateway: one backend GET instead of HEAD + GET) may begin the
   * read now; the caller then calls `release()` if it does not read after all.
   */
  readingWhole?: boolean;
  /**
   * The caller means to read the range this Range header names next (a GET with Range). A store may pass it
   * on with its metadata read (the S3 gateway: one ranged backend GET); `read` takes that begun answer when
   * its range is the one asked, and `release()` lets go of it otherwise.
   */
  readingRange?: string;
  /**
   * The GET may be answered without its body (If-None-Match or If-Modified-Since: a 304): a store should not
   * begin reading the data before its metadata says it is wanted.
   */
  conditional?: boolean;
  /**
   * The caller needs `info.parts` (a partNumber read). A store whose metadata read does not bring the parts of a
   * multipart object (the S3 gateway: one more backend request) asks for them only then; the others ignore it.
   */
  readingParts?: boolean;
}

/** What a HEAD of an object may say besides the version (OpenOptions.readingParts: GetObjectAttributes). */
export type HeadOptions = Pick<OpenOptions, 'versionId' | 'readingParts'>;

export interface ListOptions {
  prefix?: string;
  delimiter?: string;
  /** Return keys strictly after this one (marker / start-after / decoded continuation token). */
  after?: string;
  maxKeys: number;
}

export interface ListResult {
  objects: ObjectInfo[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** Last key or prefix returned, for the next marker/continuation token. */
  nextAfter?: string;
}

export interface ListVersionsOptions {
  prefix?: string;
  delimiter?: string;
  keyMarker?: string;
  versionIdMarker?: string;
  maxKeys: number;
}

export interface ListVersionsResult {
  versions: ObjectInfo[]; // delete markers included (deleteMarker = true)
  commonPrefixes: string[];
  isTruncated: boolean;
  nextKeyMarker?: string;
  nextVersionIdMarker?: string;
}

export interface DeleteOptions {
  versionId?: string;
  /**
   * Checked atomically against the current version (null when none or a delete marker) before a delete
   * without versionId: conditional deletes (If-Match). Throw S3Error to refuse.
   */
  precondition?: (current: ObjectInfo | null) => void;
  /**
   * Checked atomically against the version a delete with versionId removes (when it exists): object lock
   * rules. Throw S3Error to refuse.
   */
  versionGuard?: (version: ObjectInfo) => void;
  /**
   * A delete without versionId adds a delete marker with this id and time (a replica of another
   * deployment's marker, in a versioned bucket), replacing one of the same id.
   */
  replicaMarker?: ReplicaVersion;
  /** The new delete marker's replication status. */
  replicationStatus?: ReplicationStatus;
  /** The new delete marker's replication state at each target (with replicationStatus PENDING: queued to them). */
  replicationTargets?: Record<string, TargetReplication>;
}

export interface DeleteResult {
  versionId?: string;
  deleteMarker: boolean;
}

export interface MultipartUploadInfo {
  bucket: string;
  key: string;
  uploadId: string;
  initiated: Date;
  storageClass: StorageClass;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: ChecksumType;
  /** Access key of the user who started the upload (set by the API layer; absent: the root user). */
  initiator?: string;
  /** The object the upload makes is encrypted so (parts are sent sealed, see PutOptions.sealed). */
  encryption?: StoredEncryption;
  /** The object the upload makes is a replica with this version id (bucket replication). */
  replicaVersionId?: string;
  replicationStatus?: ReplicationStatus;
  /** The tags the object the upload makes gets (x-amz-tagging of CreateMultipartUpload, URL-encoded). */
  tagging?: string;
}

export interface CompletePart {
  number: number;
  etag: string; // as sent by the client, quotes removed
  checksum?: string;
}

/**
 * replicationStatus and replicationTargets: the object's replication (PENDING at its targets), unless its upload
 * is a replica's (which keeps REPLICA).
 */
export interface CompleteOptions extends Pick<PutOptions, 'precondition' | 'replicationStatus' | 'replicationTargets'> {
  /** Sees the object's computed checksum before the commit; throwing refuses the completion. */
  verifyChecksum?: (c: StoredChecksum | undefined) => void;
  /** The size the client expects of the whole object (x-amz-mp-object-size): another size refuses it. */
  expectedSize?: number;
  /** The object is a replica (its upload was started with `replica`): the source's modification time. */
  replicaMtime?: Date;
}

/** A drive as the metrics and health endpoints see it. */
export interface DriveState {
  path: string;
  /** The drive's id in the deployment's format. */
  id: string;
  /** Answered its last probe and its folder is there now. */
  online: boolean;
  /** This process's own drive (a folder here), not another node's reached over the storage RPC. */
  local: boolean;
  /** Being rebuilt in full (it came back empty or was replaced); known to the process that heals. */
  healing: boolean;
  /** Size, used and free (for unprivileged users) space of its file system (0 when offline). */
  totalBytes: number;
  usedBytes: number;
  freeBytes: number;
}

/** What healing one object did. */
export interface HealResult {
  bucket: string;
  key: string;
  /** Drives whose copy was repaired. */
  drivesHealed: number;
  /** removed: a dangling version (no quorum can read it) was taken away. */
  state: 'ok' | 'healed' | 'failed' | 'removed';
  error?: string;
}

/** The drives of one erasure set and how new objects are spread over them (STANDARD class). */
export interface SetState {
  data: number;
  parity: number;
  /** Parity of REDUCED_REDUNDANCY objects. */
  rrsParity: number;
  /** Drives that must take a write for it to succeed. */
  writeQuorum: number;
  drives: DriveState[];
  /** The server pool the set belongs to (server pools give it; a single pool: absent, pool 0). */
  pool?: number;
}

/** What background healing has done since the leading process started. */
export interface BackgroundHealState {
  /** Objects the scanner looked at (all its cycles). */
  scannedObjects: number;
  /** Objects repaired (from the queue and by the scanner), and those that could not be. */
  healedObjects: number;
  failedObjects: number;
  /** Of the objects repaired, those the queue repaired (the scanner's not counted). */
  queueHealed: number;
  /** Objects waiting in the queue (reads that met a bad shard, writes that missed a drive). */
  queued: number;
  /** Full scanner cycles, and when the last one ended (ISO time). */
  scanCycles: number;
  lastScanEnd?: string;
  /** Drives being rebuilt in full (replaced or fresh). */
  healingDrives: string[];
  /** The process that answered, the one running background healing (`node2`, `w1`, `main`). */
  leader?: string;
}

/**
 * The storage facade: everything the S3 API asks of storage, and all it may ask. Today's implementation is
 * engine/erasure-objects.ts (erasure sets on local drives); a gateway (a NAS folder, another S3) or the
 * distributed mode implements this same interface. Errors are S3Error codes; no method knows HTTP.
 */
export interface ObjectLayer {
  /** The deployment this storage belongs to (its drives' format): what tells one Cairn from another. */
  readonly deploymentId: string;

  /** Each erasure set's drives, probed now (a statfs per drive). */
  storageState(): Promise<SetState[]>;

  /**
   * Checks one object (every version) on every drive of its set and repairs what is missing or, with `deep`,
   * corrupt, under the object's lock: the admin API's heal sequences.
   */
  healObject(bucket: string, key: string, opts?: { deep?: boolean }): Promise<HealResult>;

  /**
   * The background healing's state (the scanner and the queue of objects to heal, run by one process: the
   * leader answers). Absent in storage without background healing (a gateway).
   */
  backgroundHealState?(): Promise<BackgroundHealState>;

  /**
   * A request failed for want of drives (InsufficientReadQuorum / InsufficientWriteQuorum): drives taken offline
   * are probed again now, at most once a second, so one back since serves the retry. Resolves when they have
   * answered. Absent in storage without drives of its own (a gateway).
   */
  recheckDrives?(): Promise<void>;

  /** Server pools and their decommission (storage/decommission.ts); absent: storage of one pool. */
  readonly decommissions?: Decommissions;

  /** The locks held now by every process sharing the drives (object locks: `<set>\0<bucket>/<object dir>`). */
  heldLocks(): Promise<HeldLock[]>;

  // Buckets
  makeBucket(bucket: string, config?: BucketConfig): Promise<void>;
  headBucket(bucket: string): Promise<BucketInfo>; // NoSuchBucket
  /** BucketNotEmpty when it holds objects, versions or delete markers; uploads in progress are dropped. */
  deleteBucket(bucket: string): Promise<void>;
  listBuckets(): Promise<BucketInfo[]>;
  /**
   * The bucket's configuration: a frozen object that stays the same until the configuration changes, so a
   * caller may keep what it derives from it (parsed documents) in a WeakMap keyed by it.
   */
  getBucketConfig(bucket: string): Promise<BucketConfig>;
  /** Merges the given fields (undefined leaves a field, null removes it). */
  updateBucketConfig(bucket: string, patch: { [K in keyof BucketConfig]?: BucketConfig[K] | null }): Promise<void>;

  // Objects. The bucket's versioning state decides version ids and delete markers.
  putObject(bucket: string, key: string, body: Readable, opts: PutOptions): Promise<ObjectInfo>;
  /**
   * The version named by versionId, or the latest: NoSuchKey when the key has no version, NoSuchVersion when
   * the named one does not exist. A delete marker is returned (deleteMarker = true), not thrown.
   */
  openObject(bucket: string, key: string, opts?: OpenOptions): Promise<OpenedObject>;
  /** The metadata openObject would give, without reading. */
  headObject(bucket: string, key: string, opts?: HeadOptions): Promise<ObjectInfo>;
  deleteObject(bucket: string, key: string, opts?: DeleteOptions): Promise<DeleteResult>;
  /** Replace metadata and/or tagging of an existing version in place (copy-onto-self, tagging APIs). */
  updateObjectMetadata(
    bucket: string,
    key: string,
    opts: {
      versionId?: string;
      contentHeaders?: Record<string, string>;
      userMetadata?: Record<string, string>;
      tagging?: string | null;
      /**
       * The version's new object lock (retention and legal hold, replaced as a whole), computed from the
       * version as it is under the object's write lock; throw S3Error to refuse the change.
       */
      updateLock?: (current: ObjectInfo) => ObjectLock;
    },
  ): Promise<ObjectInfo>;

  /**
   * Changes a version's (or delete marker's) replication state in place, under the object's lock: `next` gets
   * the state as it is and returns the new one, or undefined to leave it (then false is returned and nothing
   * is written). NoSuchVersion when the version is gone.
   */
  updateReplication(
    bucket: string,
    key: string,
    versionId: string,
    next: (current: ReplicationState) => ReplicationState | undefined,
  ): Promise<boolean>;

  /**
   * Replaces an encrypted version's sealed data key in place, under the object's lock, when it is still `from`
   * (else false and nothing written): the same data key sealed anew by the KMS (key rotation). Only the
   * version's metadata is rewritten; its data is not touched. NoSuchVersion when the version is gone.
   */
  replaceSealedKey(bucket: string, key: string, versionId: string, from: Buffer, to: Buffer): Promise<boolean>;

  /**
   * The same for an encrypted multipart upload in progress (its parts are sealed with keys derived from the
   * upload's data key, so the upload needs the KMS key version that sealed it until it completes): false when
   * no copy of the upload's document still holds `from`; NoSuchUpload when the upload is gone. Absent in
   * storage that cannot hold encrypted uploads.
   */
  replaceUploadSealedKey?(bucket: string, key: string, uploadId: string, from: Buffer, to: Buffer): Promise<boolean>;

  listObjects(bucket: string, opts: ListOptions): Promise<ListResult>;
  listObjectVersions(bucket: string, opts: ListVersionsOptions): Promise<ListVersionsResult>;

  // Multipart
  newMultipartUpload(
    bucket: string,
    key: string,
    opts: Omit<PutOptions, 'size' | 'verify' | 'precondition' | 'sealed' | 'replica'> & {
      replicaVersionId?: string;
      checksumType?: ChecksumType;
      initiator?: string;
      encryption?: StoredEncryption;
    },
  ): Promise<MultipartUploadInfo>;
  /** An upload in progress (NoSuchUpload when there is none). */
  getMultipartUpload(bucket: string, key: string, uploadId: string): Promise<MultipartUploadInfo>;
  putObjectPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    body: Readable,
    opts: Pick<PutOptions, 'size' | 'checksumAlgorithm' | 'verify' | 'sealed'>,
  ): Promise<PartInfo>;
  listParts(
    bucket: string,
    key: string,
    uploadId: string,
    opts: { partNumberMarker?: number; maxParts: number },
  ): Promise<{ upload: MultipartUploadInfo; parts: PartInfo[]; isTruncated: boolean; nextPartNumberMarker?: number }>;
  completeMultipartUpload(
    bucket: string,
    key: string,
    uploadId: string,
    parts: CompletePart[],
    opts?: CompleteOptions,
  ): Promise<ObjectInfo>;
  abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void>;
  listMultipartUploads(
    bucket: string,
    opts: { prefix?: string; delimiter?: string; keyMarker?: string; uploadIdMarker?: string; maxUploads: number },
  ): Promise<{
    uploads: MultipartUploadInfo[];
    commonPrefixes: string[];
    isTruncated: boolean;
    nextKeyMarker?: string;
    nextUploadIdMarker?: string;
  }>;

  /**
   * Work the API layer wants done with storage's own background work (lifecycle rules): run in the process
   * that does background work (the leader, once several share the drives; none when background work is off),
   * every stale-upload cleanup interval, after the stale uploads are removed. A run ends before the next is
   * scheduled and before close() returns (`stopping()` turns true when close() starts: stop soon); a failure is
   * logged and the next run tries again.
   */
  addBackgroundTask(name: string, run: (stopping: () => boolean) => Promise<unknown>): void;
  /**
   * Work the API layer wants done after each full cycle of the scanner (the data usage count), in the process
   * that scans (the leader); storages without a scanner lack it.
   */
  afterScanCycle?(run: () => Promise<unknown>): void;
  /**
   * Changes the stale multipart upload expiry and the background round's interval (the stored server
   * configuration, read once storage is open); storages without timed background work lack it.
   */
  setStaleUploads?(o: { expiryMs?: number; cleanupIntervalMs?: number }): void;

  // Remote tiers (lifecycle transitions)
  /** The remote tiers transitioned versions are read from (set once, at start-up, by the API layer). */
  attachTiers(tiers: RemoteTiers): void;
  /**
   * Moves a version's data to a remote tier: reads its stored bytes (from the drives, or from the tier it is
   * in) and hands them to `upload` (which sends them and says where they went), then, under the object's lock,
   * replaces the version's data with that remote location, keeping all its metadata, and frees the local
   * shards (or releases the copy in the former tier). Nothing changes locally when the
   * upload fails or the version changed meanwhile (`guard` throws, or it is no longer the version that was
   * read): the caller then owns the remote object it made. NoSuchVersion / InvalidObjectState (a delete
   * marker) when there is nothing to move.
   */
  transitionObject(
    bucket: string,
    key: string,
    versionId: string,
    opts: {
      upload(body: Readable, storedSize: number, info: ObjectInfo): Promise<RemoteObject>;
      guard?(now: ObjectInfo): void;
    },
  ): Promise<ObjectInfo>;

  /** Stop background work and release drives. */
  close(): Promise<void>;
}
