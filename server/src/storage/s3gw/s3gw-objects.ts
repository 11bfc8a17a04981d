// The S3 gateway's ObjectLayer: another S3 endpoint (AWS, MinIO, Ceph, Garage, another Cairn) behind Cairn's
// S3 API. Buckets, objects, tags, user metadata and multipart uploads are the backend's: each call becomes
// one or two backend requests, signed with the gateway's own backend credentials, bodies streamed both ways
// (GET: the backend's response stream itself; PUT: hashed on the way, its last chunk held until the API
// layer's checks passed, so a bad digest commits nothing). Cairn's own state (IAM, the bucket
// configurations it applies: policy, CORS, tags, notifications) lives in a local state folder (index.ts).
// Versioning and object lock are the backend's (versioning.ts, object-lock.ts). What the gateway cannot do
// honestly is refused (NotImplemented): replication, lifecycle and tiers, Cairn's server-side encryption, healing.
import type { Readable } from 'node:stream';
import { S3Error } from '../../errors.js';
import { type HeldLock, KeyedMutex } from '../coordination.js';
import { validateBucketName } from '../engine/buckets.js';
import type { NasObjects } from '../nas/nas-objects.js';
import type * as L from '../object-layer.js';
import { SYSTEM_BUCKET } from '../object-layer.js';
import { backendError, type Client, loadSdk, type Sdk } from './backend.js';
import { type BucketConfigs, refuseConfig } from './bucket-configs.js';
import type { RawGetter } from './raw-get.js';
import {
  CHECKSUM_ALGORITHMS,
  compareKeys,
  contentFields,
  copySource,
  infoFromListing,
  type ListedLike,
  mergeListing,
  quote,
  tagSet,
  toBackendMetadata,
  unquote,
  VerifyingBody,
} from './convert.js';
import { checksumFields, completionChecksums } from './checksums.js';
import { type InternalMeta, internalEntries, onlyInternalChanged } from './internal-meta.js';
import { asksLock, BackendLocks, governed, lockFields } from './object-lock.js';
import { GatewayReads } from './object-reads.js';
import { TailCache } from './tail-cache.js';
import type { UploadRecords } from './upload-records.js';
import { BackendVersioning, unknownVersioning } from './versioning.js';

const notAvailable = (what: string) => new S3Error('NotImplemented', `${what} is not available in the S3 gateway.`);

/** Parts of an upload of unknown length (lib-storage's Upload): memory held per such PUT is about twice this. */
const UNKNOWN_LENGTH_PART = 8 * 1024 * 1024;

export interface S3GatewayParts {
  client: Client;
  /** Object bytes are read with this (raw-get.ts: node's http, measured faster than the SDK for bodies). */
  getter: RawGetter;
  /** The backend's endpoint (shown as the one "drive" of storageState). */
  url: string;
  /** Cairn's own state: the system bucket (IAM) is served from this local folder's NAS store. */
  state: NasObjects;
  configs: BucketConfigs;
  /** Uploads started through the gateway: what the backend does not keep for Cairn (initiator, checksum). */
  uploads: UploadRecords;
  /** Cairn's own metadata entries (object ACLs) changed alone: kept in the state folder (internal-meta.ts). */
  meta: InternalMeta;
  tails?: TailCache;
}

export class S3GatewayObjects implements L.ObjectLayer {
  private readonly client: Client;
  private readonly state: NasObjects;
  private readonly configs: BucketConfigs;
  readonly tails: TailCache;
  private readonly uploads: UploadRecords;
  private readonly meta: InternalMeta;
  /** The buckets' versioning, as the backend has it (and whether they exist). */
  private readonly versioning: BackendVersioning;
  /** Object lock, passed to the backend once Cairn's rules allowed it. */
  private readonly locks: BackendLocks;
  private sdk!: Sdk;
  /** HEAD and GET (object-reads.ts). */
  private reads!: GatewayReads;

  constructor(private readonly parts: S3GatewayParts) {
    this.client = parts.client;
    this.state = parts.state;
    this.configs = parts.configs;
    this.uploads = parts.uploads;
    this.meta = parts.meta;
    this.tails = parts.tails ?? new TailCache();
    this.versioning = new BackendVersioning(async (bucket) => {
      const out = await this.call<{ Status?: string }>(
        new this.sdk.GetBucketVersioningCommand({ Bucket: bucket }),
        'NoSuchBucket',
      ).catch((e: S3Error) =>
        // Credentials that may not read it, or a backend without versioning: the bucket has no versions.
        e.code === 'AccessDenied' || e.code === 'NotImplemented' ? { Status: undefined } : Promise.reject(e),
      );
      return out.Status === 'Enabled' || out.Status === 'Suspended' ? out.Status : 'Unversioned';
    });
    this.locks = new BackendLocks(this.call.bind(this), () => this.sdk, new KeyedMutex());
  }

  async start(): Promise<void> {
    [this.sdk] = await loadSdk();
    this.reads = new GatewayReads(this.call.bind(this), this.sdk, this.parts.getter, this.tails, this.versioning);
  }

  get deploymentId(): string {
    return this.state.deploymentId;
  }

  /**
   * A request whose body is `hashed`: a failure of the body (a bad digest found at its end, the client gone)
   * aborts the request, so the backend never gets the whole body, and is the error answered.
   */
  private async callWithBody<T>(cmd: object, hashed: VerifyingBody, notFound?: Parameters<typeof backendError>[1]) {
    const abort = new AbortController();
    let failure: unknown;
    hashed.once('error', (e) => {
      failure ??= e;
      abort.abort();
    });
    try {
      return (await this.client.send(cmd as never, { abortSignal: abort.signal })) as T;
    } catch (e) {
      throw failure ? backendError(failure) : backendError(e, notFound);
    }
  }

  /** One backend request; its failure as Cairn's S3 error. */
  private async call<T>(cmd: object, notFound?: Parameters<typeof backendError>[1]): Promise<T> {
    try {
      return (await this.client.send(cmd as never)) as T;
    } catch (e) {
      throw backendError(e, notFound);
    }
  }

  async storageState(): Promise<L.SetState[]> {
    const online = await this.call(new this.sdk.ListBucketsCommand({})).then(
      () => true,
      () => false,
    );
    // The backend is another service, not a drive of this process.
    const drive = { path: this.parts.url, id: this.deploymentId, online, local: false, healing: false };
    return [
      {
        data: 1,
        parity: 0,
        rrsParity: 0,
        writeQuorum: 1,
        drives: [{ ...drive, totalBytes: 0, usedBytes: 0, freeBytes: 0 }],
      },
    ];
  }

  async healObject(): Promise<L.HealResult> {
    throw notAvailable('Healing (the backend keeps the data)');
  }

  async heldLocks(): Promise<HeldLock[]> {
    return [];
  }

  // Buckets

  async makeBucket(bucket: string, config: L.BucketConfig = {}): Promise<void> {
    if (bucket === SYSTEM_BUCKET) return this.state.makeBucket(bucket, config);
    validateBucketName(bucket);
    refuseConfig(config);
    const { versioning, ...kept } = config;
    const locked = config.objectLockEnabled === true;
    // Some backends (AWS in us-east-1, Cairn) answer 200 to making a bucket one owns again; S3 says 409.
    const exists = await this.call(new this.sdk.HeadBucketCommand({ Bucket: bucket }), 'NoSuchBucket').then(
      () => true,
      (e: S3Error) => (e.code === 'NoSuchBucket' ? false : Promise.reject(e)),
    );
    if (exists) throw new S3Error('BucketAlreadyOwnedByYou', undefined, { BucketName: bucket });
    await this.call(
      new this.sdk.CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: locked || undefined }),
      'NoSuchBucket',
    );
    if (locked) {
      await this.locks.checkCreated(bucket);
      if (config.objectLock) await this.locks.putConfiguration(bucket, config.objectLock);
    }
    await this.configs.create(bucket, kept);
    this.versioning.remember(bucket, locked ? 'Enabled' : 'Unversioned', true); // a new bucket (locked: versioned)
    if (versioning && versioning !== 'Unversioned') await this.putVersioning(bucket, versioning);
  }

  /** The backend's versioning set (a backend that cannot version answers NotImplemented, and nothing changes). */
  private async putVersioning(bucket: string, state: 'Enabled' | 'Suspended'): Promise<void> {
    await this.call(
      new this.sdk.PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: state } }),
      'NoSuchBucket',
    );
    this.versioning.remember(bucket, state, (await this.configs.doc(bucket)) !== null);
  }

  async headBucket(bucket: string): Promise<L.BucketInfo> {
    if (bucket === SYSTEM_BUCKET) return this.state.headBucket(bucket);
    await this.call(new this.sdk.HeadBucketCommand({ Bucket: bucket }), 'NoSuchBucket');
    return { name: bucket, created: new Date(await this.created(bucket)) };
  }

  /** When the bucket was made: as Cairn recorded it, else as the backend's bucket list says. */
  private async created(bucket: string): Promise<number> {
    const doc = await this.configs.doc(bucket);
    if (doc) return doc.created;
    const b = (await this.listBuckets()).find((x) => x.name === bucket);
    return b?.created.getTime() ?? 0;
  }

  async deleteBucket(bucket: string): Promise<void> {
    if (bucket === SYSTEM_BUCKET) return this.state.deleteBucket(bucket);
    await this.call(new this.sdk.DeleteBucketCommand({ Bucket: bucket }), 'NoSuchBucket');
    this.versioning.forget(bucket);
    await this.configs.remove(bucket);
    await this.uploads.removeBucket(bucket);
    await this.meta.removeBucket(bucket);
  }

  async listBuckets(): Promise<L.BucketInfo[]> {
    const out = await this.call<{ Buckets?: { Name?: string; CreationDate?: Date }[] }>(
      new this.sdk.ListBucketsCommand({}),
    );
    return (out.Buckets ?? []).map((b) => ({ name: b.Name ?? '', created: b.CreationDate ?? new Date(0) }));
  }

  /**
   * Kept locally, read from memory, with the bucket's versioning as the backend has it (versioning.ts: asked for
   * once per process for a bucket whose configuration is kept here, else trusted for a few seconds). That request
   * also finds a bucket missing on the backend: NoSuchBucket for everyone, as S3 answers it, and not AccessDenied
   * to those its policy would refuse. The backend unreachable (503): a bucket whose configuration is kept here is
   * answered from it, with a versioning that cannot be read (versioning.ts unknownVersioning): requests that need
   * only the kept configuration (policy, tags, CORS, ...) are answered, those that need the versioning or the
   * backend get 503 ServiceUnavailable.
   */
  async getBucketConfig(bucket: string): Promise<L.BucketConfig> {
    if (bucket === SYSTEM_BUCKET) return this.state.getBucketConfig(bucket);
    const doc = await this.configs.doc(bucket);
    const config = doc?.config ?? (await this.configs.config(bucket));
    let unreachable: S3Error | undefined;
    const state = await this.versioning.state(bucket, doc !== null).catch((e: unknown) => {
      if (e instanceof S3Error && e.code === 'NoSuchBucket')
        throw new S3Error('NoSuchBucket', undefined, { BucketName: bucket });
      if (!(doc && e instanceof S3Error && e.code === 'ServiceUnavailable')) throw e;
      unreachable = e;
      return 'Unversioned' as const;
    });
    if (unreachable) return unknownVersioning(config, unreachable);
    return this.versioning.withState(config, state);
  }

  async updateBucketConfig(bucket: string, patch: Parameters<L.ObjectLayer['updateBucketConfig']>[1]): Promise<void> {
    if (bucket === SYSTEM_BUCKET) return this.state.updateBucketConfig(bucket, patch);
    refuseConfig(patch);
    const { versioning, ...kept } = patch;
    if (versioning === 'Enabled' || versioning === 'Suspended') await this.putVersioning(bucket, versioning);
    if (kept.objectLockEnabled || kept.objectLock)
      await this.locks.putConfiguration(bucket, kept.objectLock ?? undefined);
    if (Object.values(kept).every((v) => v === undefined)) return;
    const created = (await this.headBucket(bucket)).created.getTime();
    await this.configs.update(bucket, kept, async () => created);
  }

  // Objects

  async putObject(bucket: string, key: string, body: Readable, opts: L.PutOptions): Promise<L.ObjectInfo> {
    if (bucket === SYSTEM_BUCKET) return this.state.putObject(bucket, key, body, opts);
    refusePut(opts);
    const Metadata = toBackendMetadata(opts.userMetadata); // a refused key refuses before anything is sent
    const conditions = await this.conditions(bucket, key, opts.precondition);
    const hashed = new VerifyingBody(opts);
    body.on('error', (e) => hashed.destroy(e));
    const params = {
      Bucket: bucket,
      Key: key,
      Body: body.pipe(hashed),
      ...contentFields(opts.contentHeaders),
      Metadata,
      Tagging: opts.tagging || undefined,
      StorageClass: opts.storageClass,
      ...lockFields(opts.lock),
      ...conditions,
    };
    // A backend wants a digest of a PUT that sets a lock (as Cairn does): a CRC32 trailer when the client sent none.
    const digest =
      opts.checksumAlgorithm || !asksLock(opts.lock) ? checksumFields(opts) : { ChecksumAlgorithm: 'CRC32' as const };
    let out: { ETag?: string; VersionId?: string };
    if (opts.size >= 0) {
      out = await this.callWithBody(
        new this.sdk.PutObjectCommand({ ...params, ...digest, ContentLength: opts.size }),
        hashed,
      );
    } else {
      // Unknown length (a chunked body without a declared size): parts of bounded size, never the whole body.
      const [, { Upload }] = await loadSdk();
      const upload = new Upload({
        client: this.client,
        params,
        partSize: UNKNOWN_LENGTH_PART,
        queueSize: 1,
        leavePartsOnError: false,
      });
      let failure: unknown;
      hashed.once('error', (e) => {
        failure ??= e;
        void upload.abort();
      });
      try {
        out = await upload.done();
      } catch (e) {
        throw backendError(failure ?? e);
      }
    }
    const info: L.ObjectInfo = {
      bucket,
      key,
      versionId: out.VersionId ?? 'null',
      isLatest: true,
      deleteMarker: false,
      size: hashed.seen,
      etag: unquote(out.ETag) || (hashed.digest?.toString('hex') ?? ''),
      lastModified: new Date(),
      storageClass: opts.storageClass ?? 'STANDARD',
      contentHeaders: opts.contentHeaders ?? {},
      userMetadata: opts.userMetadata ?? {},
    };
    if (opts.tagging) info.tagging = opts.tagging;
    if (asksLock(opts.lock)) info.lock = opts.lock;
    const checksum = hashed.storedChecksum();
    if (checksum) info.checksum = checksum;
    await this.meta.remove(bucket, key, info.versionId); // a record of the version this one replaced
    return info;
  }

  /**
   * A conditional write: the API layer's rule is checked against the object as the backend has it now, and
   * the backend is asked to write only if that is still so (If-Match on its ETag, If-None-Match: * when there
   * was none), so a write racing in between is refused by the backend (412) rather than overwritten.
   */
  private async conditions(
    bucket: string,
    key: string,
    precondition: ((current: L.ObjectInfo | null) => void) | undefined,
  ): Promise<{ IfMatch?: string; IfNoneMatch?: string }> {
    if (!precondition) return {};
    const current = await this.headOrNull(bucket, key);
    precondition(current);
    return current ? { IfMatch: quote(current.etag) } : { IfNoneMatch: '*' };
  }

  /** The version, or null when there is none (or, the latest asked for, it is a delete marker). */
  private async headOrNull(bucket: string, key: string, versionId?: string): Promise<L.ObjectInfo | null> {
    const found = this.headObject(bucket, key, { versionId });
    return found
      .then((info) => (versionId === undefined && info.deleteMarker ? null : info))
      .catch((e: unknown) => {
        if (e instanceof S3Error && (e.code === 'NoSuchKey' || e.code === 'NoSuchVersion')) return null;
        throw e;
      });
  }

  async openObject(bucket: string, key: string, opts: L.OpenOptions = {}): Promise<L.OpenedObject> {
    if (bucket === SYSTEM_BUCKET) return this.state.openObject(bucket, key, opts);
    const opened = await this.reads.openObject(bucket, key, opts);
    await this.meta.apply(opened.info);
    return opened;
  }

  async headObject(bucket: string, key: string, opts: { versionId?: string } = {}): Promise<L.ObjectInfo> {
    if (bucket === SYSTEM_BUCKET) return this.state.headObject(bucket, key, opts);
    return this.meta.apply(await this.reads.headObject(bucket, key, opts));
  }

  async deleteObject(bucket: string, key: string, opts: L.DeleteOptions = {}): Promise<L.DeleteResult> {
    if (bucket === SYSTEM_BUCKET) return this.state.deleteObject(bucket, key, opts);
    if (opts.replicaMarker) throw notAvailable('Bucket replication');
    if (opts.versionGuard && opts.versionId !== undefined) {
      // A locked version: its removal checked (and a GOVERNANCE bypass granted) by Cairn, then asked of the backend.
      const { versionGuard, versionId } = opts;
      return this.locks.guarded(bucket, key, async () => {
        const version = await this.headOrNull(bucket, key, versionId);
        if (version) versionGuard(version);
        return this.deleteBackend(bucket, key, { versionId }, undefined, governed(version?.lock, Date.now()));
      });
    }
    let IfMatch: string | undefined;
    if (opts.precondition && opts.versionId === undefined) {
      const current = await this.headOrNull(bucket, key);
      opts.precondition(current);
      IfMatch = current ? quote(current.etag) : undefined;
    }
    return this.deleteBackend(bucket, key, opts, IfMatch, false);
  }

  private async deleteBackend(
    bucket: string,
    key: string,
    opts: { versionId?: string },
    IfMatch: string | undefined,
    bypass: boolean,
  ): Promise<L.DeleteResult> {
    const VersionId = await this.versioning.param(bucket, opts.versionId);
    const out = await this.call<{ VersionId?: string; DeleteMarker?: boolean }>(
      new this.sdk.DeleteObjectCommand({
        Bucket: bucket,
        Key: key,
        VersionId,
        IfMatch,
        BypassGovernanceRetention: bypass || undefined,
      }),
      'NoSuchBucket',
    );
    const res: L.DeleteResult = { deleteMarker: out.DeleteMarker === true };
    const versionId = out.VersionId ?? opts.versionId;
    if (versionId !== undefined) res.versionId = versionId;
    // The version removed (a named one; else the null version, unless a marker was added above it).
    const removed = opts.versionId ?? (!res.deleteMarker || (versionId ?? 'null') === 'null' ? 'null' : undefined);
    if (removed !== undefined) await this.meta.remove(bucket, key, removed);
    return res;
  }

  async updateObjectMetadata(
    bucket: string,
    key: string,
    opts: Parameters<L.ObjectLayer['updateObjectMetadata']>[2],
  ): Promise<L.ObjectInfo> {
    if (bucket === SYSTEM_BUCKET) return this.state.updateObjectMetadata(bucket, key, opts);
    if (opts.updateLock)
      return this.locks.update(
        bucket,
        key,
        () => this.headObject(bucket, key, { versionId: opts.versionId }),
        (id) => this.versioning.param(bucket, id),
        opts.versionId !== undefined,
        opts.updateLock,
      );
    const current = await this.headObject(bucket, key, { versionId: opts.versionId });
    if (current.deleteMarker) throw new S3Error(opts.versionId === undefined ? 'NoSuchKey' : 'MethodNotAllowed');
    if (
      opts.userMetadata &&
      !opts.contentHeaders &&
      opts.tagging === undefined &&
      onlyInternalChanged(current.userMetadata, opts.userMetadata)
    ) {
      // PutObjectAcl: kept in the state folder, the backend's object (its time, its versions) left as it is.
      await this.meta.set(current, internalEntries(opts.userMetadata));
      return { ...current, userMetadata: { ...opts.userMetadata } };
    }
    const VersionId = await this.versioning.param(bucket, current.versionId);
    let made: string | undefined;
    const copied = Boolean(opts.contentHeaders || opts.userMetadata);
    if (copied) {
      // The backend rewrites the object onto itself with the new metadata (and tags, when asked): in a bucket
      // with versions, that is a new version (as a copy onto itself is in S3), whose info is answered.
      const tagging = opts.tagging === undefined ? undefined : (opts.tagging ?? '');
      const out = await this.call<{ VersionId?: string }>(
        new this.sdk.CopyObjectCommand({
          Bucket: bucket,
          Key: key,
          CopySource: copySource(bucket, key, VersionId),
          CopySourceIfMatch: quote(current.etag),
          MetadataDirective: 'REPLACE',
          ...contentFields(opts.contentHeaders ?? current.contentHeaders),
          Metadata: toBackendMetadata(opts.userMetadata ?? current.userMetadata),
          TaggingDirective: tagging === undefined ? 'COPY' : 'REPLACE',
          Tagging: tagging,
          StorageClass: current.storageClass as 'STANDARD',
        }),
      );
      made = out.VersionId;
    } else if (opts.tagging === null) {
      await this.call(new this.sdk.DeleteObjectTaggingCommand({ Bucket: bucket, Key: key, VersionId }));
    } else if (opts.tagging !== undefined) {
      await this.call(
        new this.sdk.PutObjectTaggingCommand({
          Bucket: bucket,
          Key: key,
          VersionId,
          Tagging: { TagSet: tagSet(opts.tagging) },
        }),
      );
    }
    const updated = await this.headObject(bucket, key, { versionId: made ?? opts.versionId });
    if (copied && made === undefined) await this.meta.remove(bucket, key, updated.versionId); // rewritten in place
    return updated;
  }

  /** The gateway seals nothing (Cairn's SSE is refused): no version is ever sealed by `from`. */
  async replaceSealedKey(bucket: string, key: string, versionId: string): Promise<boolean> {
    await this.headObject(bucket, key, { versionId }).catch((e: unknown) => {
      throw e instanceof S3Error && e.code === 'NoSuchKey' ? new S3Error('NoSuchVersion') : e;
    });
    return false;
  }

  async updateReplication(): Promise<boolean> {
    throw notAvailable('Bucket replication');
  }

  /**
   * One page, as the backend lists it (ListObjectsV2 from `after`). When `after` is a common prefix the last
   * page ended on, the backend lists that prefix again first: one more entry is asked for and it is dropped.
   */
  async listObjects(bucket: string, o: L.ListOptions): Promise<L.ListResult> {
    if (bucket === SYSTEM_BUCKET) return this.state.listObjects(bucket, o);
    const res: L.ListResult = { objects: [], commonPrefixes: [], isTruncated: false };
    const repeated = o.delimiter && o.after?.endsWith(o.delimiter) ? o.after : undefined;
    const out = await this.call<{
      Contents?: ListedLike[];
      CommonPrefixes?: { Prefix?: string }[];
      IsTruncated?: boolean;
    }>(
      new this.sdk.ListObjectsV2Command({
        Bucket: bucket,
        Prefix: o.prefix || undefined,
        Delimiter: o.delimiter || undefined,
        StartAfter: o.after || undefined,
        MaxKeys: o.maxKeys + (repeated ? 1 : 0),
      }),
      'NoSuchBucket',
    );
    if (o.maxKeys <= 0) return res;
    const entries = mergeListing(out.Contents ?? [], out.CommonPrefixes ?? []).filter(
      (e) => e.prefix === undefined || e.prefix !== repeated,
    );
    for (const e of entries.slice(0, o.maxKeys)) {
      if (e.prefix !== undefined) res.commonPrefixes.push(e.prefix);
      else res.objects.push(infoFromListing(bucket, e.object));
      res.nextAfter = e.name;
    }
    res.isTruncated = entries.length > o.maxKeys || out.IsTruncated === true;
    if (!res.isTruncated) delete res.nextAfter;
    return res;
  }

  async listObjectVersions(bucket: string, o: L.ListVersionsOptions): Promise<L.ListVersionsResult> {
    if (bucket === SYSTEM_BUCKET) return this.state.listObjectVersions(bucket, o);
    const out = await this.call<{
      Versions?: ListedLike[];
      DeleteMarkers?: ListedLike[];
      CommonPrefixes?: { Prefix?: string }[];
      IsTruncated?: boolean;
      NextKeyMarker?: string;
      NextVersionIdMarker?: string;
    }>(
      new this.sdk.ListObjectVersionsCommand({
        Bucket: bucket,
        Prefix: o.prefix || undefined,
        Delimiter: o.delimiter || undefined,
        KeyMarker: o.keyMarker || undefined,
        VersionIdMarker: o.versionIdMarker || undefined,
        MaxKeys: o.maxKeys,
      }),
      'NoSuchBucket',
    );
    const versions = [
      ...(out.Versions ?? []).map((v) => infoFromListing(bucket, v)),
      ...(out.DeleteMarkers ?? []).map((v) => infoFromListing(bucket, v, true)),
    ].sort(
      (a, b) =>
        compareKeys(a.key, b.key) ||
        Number(b.isLatest) - Number(a.isLatest) ||
        b.lastModified.getTime() - a.lastModified.getTime(),
    );
    const res: L.ListVersionsResult = {
      versions,
      commonPrefixes: (out.CommonPrefixes ?? []).map((p) => p.Prefix ?? ''),
      isTruncated: out.IsTruncated === true,
    };
    if (out.NextKeyMarker) res.nextKeyMarker = out.NextKeyMarker;
    if (out.NextVersionIdMarker) res.nextVersionIdMarker = out.NextVersionIdMarker;
    return res;
  }

  // Multipart uploads: the backend's (its upload ids), passed through.

  async newMultipartUpload(
    ...[bucket, key, opts]: Parameters<L.ObjectLayer['newMultipartUpload']>
  ): Promise<L.MultipartUploadInfo> {
    if (opts.encryption) throw notAvailable('Server-side encryption');
    if (opts.replicaVersionId) throw notAvailable('Bucket replication');
    const out = await this.call<{ UploadId?: string }>(
      new this.sdk.CreateMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        ...contentFields(opts.contentHeaders),
        Metadata: toBackendMetadata(opts.userMetadata),
        Tagging: opts.tagging || undefined,
        StorageClass: opts.storageClass,
        // The backend keeps the parts' checksums and computes the object's (GET/HEAD answer it).
        ChecksumAlgorithm: opts.checksumAlgorithm,
        ChecksumType: opts.checksumAlgorithm ? opts.checksumType : undefined,
        ...lockFields(opts.lock),
      }),
      'NoSuchBucket',
    );
    const info: L.MultipartUploadInfo = {
      bucket,
      key,
      uploadId: out.UploadId ?? '',
      initiated: new Date(),
      storageClass: opts.storageClass ?? 'STANDARD',
    };
    if (opts.checksumAlgorithm) info.checksumAlgorithm = opts.checksumAlgorithm;
    if (opts.checksumType) info.checksumType = opts.checksumType;
    if (opts.initiator) info.initiator = opts.initiator;
    await this.uploads.add(info);
    return info;
  }

  /** As started through this gateway, else as the backend knows it (NoSuchUpload when it does not). */
  async getMultipartUpload(bucket: string, key: string, uploadId: string): Promise<L.MultipartUploadInfo> {
    const known = await this.uploads.get(bucket, key, uploadId);
    if (known) return known;
    const out = await this.uploadCall<{
      StorageClass?: string;
      Initiated?: Date;
      ChecksumAlgorithm?: string;
      ChecksumType?: string;
    }>(
      bucket,
      key,
      uploadId,
      new this.sdk.ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MaxParts: 1 }),
    );
    const info: L.MultipartUploadInfo = {
      bucket,
      key,
      uploadId,
      initiated: out.Initiated ?? new Date(0),
      storageClass: out.StorageClass === 'REDUCED_REDUNDANCY' ? 'REDUCED_REDUNDANCY' : 'STANDARD',
    };
    // The upload's checksum as the backend's ListParts names it (AWS, MinIO and Cairn do): Complete verifies by it.
    const algorithm = CHECKSUM_ALGORITHMS.find((a) => a === out.ChecksumAlgorithm);
    if (algorithm) {
      info.checksumAlgorithm = algorithm;
      info.checksumType = out.ChecksumType === 'FULL_OBJECT' ? 'FULL_OBJECT' : 'COMPOSITE';
    }
    return info;
  }

  async putObjectPart(...[bucket, key, uploadId, partNumber, body, opts]: Parameters<L.ObjectLayer['putObjectPart']>) {
    if (opts.sealed) throw notAvailable('Server-side encryption');
    if (opts.size < 0) throw new S3Error('MissingContentLength', 'A part needs its length declared in the S3 gateway.');
    const hashed = new VerifyingBody(opts);
    body.on('error', (e) => hashed.destroy(e));
    const out = await this.callWithBody<{ ETag?: string }>(
      new this.sdk.UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        PartNumber: partNumber,
        Body: body.pipe(hashed),
        ...checksumFields(opts),
        ContentLength: opts.size,
      }),
      hashed,
      'NoSuchUpload',
    );
    const part: L.PartInfo = {
      number: partNumber,
      size: hashed.seen,
      etag: unquote(out.ETag),
      lastModified: new Date(),
    };
    const checksum = hashed.storedChecksum();
    if (checksum) part.checksum = checksum;
    return part;
  }

  /**
   * A backend request about one upload: NoSuchUpload (completed or aborted elsewhere) also drops its record,
   * when the record is of this bucket and key (another key's NoSuchUpload says nothing about the upload).
   */
  private async uploadCall<T>(bucket: string, key: string, uploadId: string, cmd: object): Promise<T> {
    try {
      return await this.call<T>(cmd, 'NoSuchUpload');
    } catch (e) {
      if (e instanceof S3Error && e.code === 'NoSuchUpload' && (await this.uploads.get(bucket, key, uploadId)))
        await this.uploads.remove(uploadId);
      throw e;
    }
  }

  async listParts(...[bucket, key, uploadId, opts]: Parameters<L.ObjectLayer['listParts']>) {
    const out = await this.uploadCall<{
      Parts?: { PartNumber?: number; Size?: number; ETag?: string; LastModified?: Date }[];
      IsTruncated?: boolean;
      NextPartNumberMarker?: string;
    }>(
      bucket,
      key,
      uploadId,
      new this.sdk.ListPartsCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MaxParts: opts.maxParts,
        PartNumberMarker: opts.partNumberMarker ? String(opts.partNumberMarker) : undefined,
      }),
    );
    const upload = await this.getMultipartUpload(bucket, key, uploadId);
    const parts: L.PartInfo[] = (out.Parts ?? []).map((p) => ({
      number: p.PartNumber ?? 0,
      size: p.Size ?? 0,
      etag: unquote(p.ETag),
      lastModified: p.LastModified ?? new Date(0),
    }));
    const res: Awaited<ReturnType<L.ObjectLayer['listParts']>> = {
      upload,
      parts,
      isTruncated: out.IsTruncated === true,
    };
    if (out.IsTruncated && out.NextPartNumberMarker) res.nextPartNumberMarker = Number(out.NextPartNumberMarker);
    return res;
  }

  async completeMultipartUpload(
    ...[bucket, key, uploadId, parts, opts = {}]: Parameters<L.ObjectLayer['completeMultipartUpload']>
  ): Promise<L.ObjectInfo> {
    if (opts.replicaMtime) throw notAvailable('Bucket replication');
    if (opts.expectedSize !== undefined) {
      const size = await this.partsSize(bucket, key, uploadId, parts);
      if (size !== opts.expectedSize)
        throw new S3Error(
          'InvalidRequest',
          `The parts hold ${size} bytes, not x-amz-mp-object-size's ${opts.expectedSize}.`,
        );
    }
    const conditions = await this.conditions(bucket, key, opts.precondition);
    // An upload this process did not start, or one completed already (a client's retry: NoSuchUpload here, which
    // the API layer answers with the object it made), is asked of the backend.
    const upload = await this.getMultipartUpload(bucket, key, uploadId);
    const sums = await completionChecksums(this.call.bind(this), this.sdk, upload, parts, opts.verifyChecksum);
    await this.uploadCall(
      bucket,
      key,
      uploadId,
      new this.sdk.CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: {
          Parts: parts.map((p) => ({
            PartNumber: p.number,
            ETag: quote(p.etag),
            ...sums?.(p),
          })),
        },
        ...conditions,
      }),
    );
    await this.uploads.remove(uploadId);
    const made = await this.headObject(bucket, key);
    await this.meta.remove(bucket, key, made.versionId); // a record of the version this one replaced
    return made;
  }

  /** The total size of the named parts, as the backend lists them. */
  private async partsSize(bucket: string, key: string, uploadId: string, wanted: L.CompletePart[]): Promise<number> {
    const sizes = new Map<number, number>();
    let marker: number | undefined;
    for (;;) {
      const page = await this.listParts(bucket, key, uploadId, { partNumberMarker: marker, maxParts: 1000 });
      for (const p of page.parts) sizes.set(p.number, p.size);
      if (!page.isTruncated || page.nextPartNumberMarker === undefined) break;
      marker = page.nextPartNumberMarker;
    }
    return wanted.reduce((n, p) => n + (sizes.get(p.number) ?? 0), 0);
  }

  async abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    await this.uploadCall(
      bucket,
      key,
      uploadId,
      new this.sdk.AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }),
    );
    await this.uploads.remove(uploadId);
  }

  async listMultipartUploads(...[bucket, o]: Parameters<L.ObjectLayer['listMultipartUploads']>) {
    const out = await this.call<{
      Uploads?: { Key?: string; UploadId?: string; Initiated?: Date; StorageClass?: string }[];
      CommonPrefixes?: { Prefix?: string }[];
      IsTruncated?: boolean;
      NextKeyMarker?: string;
      NextUploadIdMarker?: string;
    }>(
      new this.sdk.ListMultipartUploadsCommand({
        Bucket: bucket,
        Prefix: o.prefix || undefined,
        Delimiter: o.delimiter || undefined,
        KeyMarker: o.keyMarker || undefined,
        UploadIdMarker: o.uploadIdMarker || undefined,
        MaxUploads: o.maxUploads,
      }),
      'NoSuchBucket',
    );
    const uploads = await Promise.all(
      (out.Uploads ?? []).map(
        async (u): Promise<L.MultipartUploadInfo> =>
          (await this.uploads.get(bucket, u.Key ?? '', u.UploadId ?? '')) ?? {
            bucket,
            key: u.Key ?? '',
            uploadId: u.UploadId ?? '',
            initiated: u.Initiated ?? new Date(0),
            storageClass: u.StorageClass === 'REDUCED_REDUNDANCY' ? 'REDUCED_REDUNDANCY' : 'STANDARD',
          },
      ),
    );
    const res: Awaited<ReturnType<L.ObjectLayer['listMultipartUploads']>> = {
      uploads,
      commonPrefixes: (out.CommonPrefixes ?? []).map((p) => p.Prefix ?? ''),
      isTruncated: out.IsTruncated === true,
    };
    if (out.IsTruncated && out.NextKeyMarker) res.nextKeyMarker = out.NextKeyMarker;
    if (out.IsTruncated && out.NextUploadIdMarker) res.nextUploadIdMarker = out.NextUploadIdMarker;
    return res;
  }

  // Background work and tiers: the gateway applies no lifecycle rules (refused) and has no tiers.

  addBackgroundTask(): void {}

  attachTiers(): void {}

  async transitionObject(): Promise<L.ObjectInfo> {
    throw notAvailable('Transition to a remote tier');
  }

  async close(): Promise<void> {
    this.client.destroy();
    this.parts.getter.close();
    await this.state.close();
  }
}

/** What a PUT may ask that the gateway does not do. */
function refusePut(opts: L.PutOptions): void {
  if (opts.sealed) throw notAvailable('Server-side encryption');
  if (opts.replica) throw notAvailable('Bucket replication');
}
