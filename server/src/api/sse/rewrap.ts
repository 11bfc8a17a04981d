// Re-wrapping after a KMS key rotation (`cairn admin kms rewrap`, POST /minio/admin/v3/kms/rewrap/...): every
// SSE-S3/SSE-KMS version under a bucket and prefix, and every encrypted multipart upload in progress there, gets
// its data key sealed again by the newest version of its KMS key, so that older key versions can then be retired
// (transit's min_decryption_version). The data key stays the same: only the stored sealed key changes (storage's
// replaceSealedKey under the object's lock, replaceUploadSealedKey under the upload's; metadata only); no data is
// read or written.
//
// A job runs in the background, one version at a time, and is safe to stop or lose at any point: each version
// is replaced whole or not at all (a metadata write on a quorum), a version changed meanwhile is left alone
// (its sealed key is compared under the lock), and a run again re-wraps what is left (one already at the newest
// key version costs two KMS calls and no write). With several workers the job runs in the one that was asked
// and tells the others its status over the change bus, so a poll reaching any worker is answered.
import { randomUUID } from 'node:crypto';
import { S3Error } from '../../errors.js';
import type { ChangeBus } from '../../storage/coordination.js';
import type { MultipartUploadInfo, ObjectInfo, ObjectLayer, StoredEncryption } from '../../storage/object-layer.js';
import { kmsBinding } from './index.js';
import { cannotRotate, type Kms } from './kms.js';

/** A version the job could not re-wrap, and why (its sealed key is unchanged). */
export interface RewrapFailure {
  bucket: string;
  object: string;
  /** '' for an upload in progress. */
  versionId: string;
  /** An upload in progress (its data key is the upload's). */
  uploadId?: string;
  keyId: string;
  /** The S3 error code (KMS.NotFoundException: the KMS does not know the key). */
  code: string;
  message: string;
}

export interface RewrapStatus {
  id: string;
  /** `bucket/prefix` ('' for every bucket). */
  path: string;
  startTime: string;
  summary: 'running' | 'finished' | 'failed';
  detail: string;
  /** Versions looked at (delete markers not counted). */
  scanned: number;
  /** Multipart uploads in progress looked at. */
  uploadsScanned: number;
  /** Of those, sealed by a KMS (SSE-S3, SSE-KMS). */
  kmsSealed: number;
  rewrapped: number;
  /** Already sealed by the newest key version, or changed by someone else while the job ran. */
  current: number;
  failed: number;
  /** The first failures (at most FAILURES_KEPT). */
  failures: RewrapFailure[];
}

/** How a job's status reaches the other workers. */
export interface RewrapSharing {
  publish(status: RewrapStatus): Promise<void>;
  subscribe(apply: (status: RewrapStatus) => void): void;
}

const PAGE = 1000;
const FAILURES_KEPT = 1000;
const STATUS_EVERY_MS = 500;
const JOBS_KEPT = 100;

export class RewrapJobs {
  /** Every job this process knows: its own, and the others' as they last told. */
  private readonly known = new Map<string, RewrapStatus>();

  constructor(
    private readonly storage: ObjectLayer,
    private readonly kms: Kms | undefined,
    private readonly sharing?: RewrapSharing,
  ) {
    sharing?.subscribe((s) => this.remember(s));
  }

  private remember(s: RewrapStatus): void {
    this.known.set(s.id, s);
    for (const [id, old] of this.known) {
      if (this.known.size <= JOBS_KEPT) break;
      if (old.summary !== 'running') this.known.delete(id);
    }
  }

  /** Starts re-wrapping under `bucket` (every bucket when '') and `prefix`; answers the job's first status. */
  async start(bucket: string, prefix: string): Promise<RewrapStatus> {
    if (!this.kms) throw new S3Error('NotImplemented', 'Server side encryption specified but KMS is not configured');
    if (!this.kms.rotates) throw cannotRotate();
    if (bucket === '' && prefix !== '') throw new S3Error('InvalidArgument', 'A prefix needs a bucket');
    if (bucket !== '') await this.storage.headBucket(bucket);
    const status: RewrapStatus = {
      id: randomUUID(),
      path: `${bucket}/${prefix}`,
      startTime: new Date().toISOString(),
      summary: 'running',
      detail: '',
      scanned: 0,
      uploadsScanned: 0,
      kmsSealed: 0,
      rewrapped: 0,
      current: 0,
      failed: 0,
      failures: [],
    };
    this.remember(status);
    await this.sharing?.publish(status);
    void this.run(this.kms, bucket, prefix, status);
    return { ...status };
  }

  /** The job's latest status (XMinioAdminInvalidArgument for an id no worker told of). */
  status(id: string): RewrapStatus {
    const s = this.known.get(id);
    if (!s) throw new S3Error('XMinioAdminInvalidArgument', 'No re-wrap job has this id');
    return { ...s, failures: [...s.failures] };
  }

  /** Every version under the path, bucket by bucket (delete markers left out). */
  private async *versions(bucket: string, prefix: string): AsyncGenerator<ObjectInfo> {
    const buckets = bucket !== '' ? [bucket] : (await this.storage.listBuckets()).map((b) => b.name);
    for (const b of buckets) {
      let keyMarker: string | undefined;
      let versionIdMarker: string | undefined;
      for (;;) {
        const page = await this.storage.listObjectVersions(b, { prefix, keyMarker, versionIdMarker, maxKeys: PAGE });
        for (const v of page.versions) if (!v.deleteMarker) yield v;
        if (!page.isTruncated) break;
        keyMarker = page.nextKeyMarker;
        versionIdMarker = page.nextVersionIdMarker;
      }
    }
  }

  /** Every multipart upload in progress under the path (none when storage cannot hold encrypted uploads). */
  private async *uploads(bucket: string, prefix: string): AsyncGenerator<MultipartUploadInfo> {
    if (!this.storage.replaceUploadSealedKey) return;
    const buckets = bucket !== '' ? [bucket] : (await this.storage.listBuckets()).map((b) => b.name);
    for (const b of buckets) {
      let keyMarker: string | undefined;
      let uploadIdMarker: string | undefined;
      for (;;) {
        const page = await this.storage.listMultipartUploads(b, {
          prefix,
          keyMarker,
          uploadIdMarker,
          maxUploads: PAGE,
        });
        yield* page.uploads;
        if (!page.isTruncated) break;
        keyMarker = page.nextKeyMarker;
        uploadIdMarker = page.nextUploadIdMarker;
      }
    }
  }

  private async run(kms: Kms, bucket: string, prefix: string, s: RewrapStatus): Promise<void> {
    let told = Date.now();
    const tell = async (force = false) => {
      if (!force && Date.now() - told < STATUS_EVERY_MS) return;
      told = Date.now();
      await this.sharing?.publish({ ...s, failures: s.failures.slice() });
    };
    try {
      for await (const listed of this.versions(bucket, prefix)) {
        s.scanned++;
        await this.rewrapVersion(kms, listed, s);
        await tell();
      }
      for await (const up of this.uploads(bucket, prefix)) {
        s.uploadsScanned++;
        await this.rewrapUpload(kms, up, s);
        await tell();
      }
      s.summary = 'finished';
    } catch (e) {
      s.summary = 'failed';
      s.detail = (e as Error).message;
    }
    await tell(true).catch(() => {});
  }

  private async rewrapVersion(kms: Kms, listed: ObjectInfo, s: RewrapStatus): Promise<void> {
    const { bucket, key, versionId } = listed;
    // The version's own metadata (a listing may not carry the sealed key); gone meanwhile: nothing to do.
    const info = await this.storage.headObject(bucket, key, { versionId }).catch(() => undefined);
    await this.rewrap(kms, info?.encryption, s, { bucket, object: key, versionId }, 'NoSuchVersion', (enc, sealed) =>
      this.storage.replaceSealedKey(bucket, key, versionId, enc.sealedKey, sealed),
    );
  }

  private async rewrapUpload(kms: Kms, listed: MultipartUploadInfo, s: RewrapStatus): Promise<void> {
    const { bucket, key, uploadId } = listed;
    // The upload's own document, read again (a listing may have kept an older one); gone: nothing to do.
    const info = await this.storage.getMultipartUpload(bucket, key, uploadId).catch(() => undefined);
    const where = { bucket, object: key, versionId: '', uploadId };
    await this.rewrap(kms, info?.encryption, s, where, 'NoSuchUpload', (enc, sealed) =>
      this.storage.replaceUploadSealedKey!(bucket, key, uploadId, enc.sealedKey, sealed),
    );
  }

  /**
   * One sealed data key: sealed again by the newest version of its KMS key and stored with `replace` (false:
   * changed meanwhile). `goneCode` is storage's answer for a version or upload removed while the job ran.
   */
  private async rewrap(
    kms: Kms,
    enc: StoredEncryption | undefined,
    s: RewrapStatus,
    where: Pick<RewrapFailure, 'bucket' | 'object' | 'versionId' | 'uploadId'>,
    goneCode: string,
    replace: (enc: StoredEncryption, sealed: Buffer) => Promise<boolean>,
  ): Promise<void> {
    if (!enc || enc.scheme === 'SSE-C') return;
    s.kmsSealed++;
    const keyId = enc.kmsKeyId ?? '';
    try {
      const sealed = await kms.rewrapKey(keyId, enc.sealedKey, kmsBinding(enc));
      if (sealed && (await replace(enc, sealed))) s.rewrapped++;
      else s.current++;
    } catch (e) {
      if (e instanceof S3Error && e.code === goneCode) {
        s.current++; // deleted while the job ran
        return;
      }
      s.failed++;
      if (s.failures.length < FAILURES_KEPT) {
        const code = e instanceof S3Error ? e.code : 'InternalError';
        s.failures.push({ ...where, keyId, code, message: (e as Error).message });
      }
    }
  }
}

const TOPIC = 'kms-rewrap';

/** Sharing over storage's change bus (the workers' IPC form); a process alone shares nothing. */
export function rewrapOverBus(bus: ChangeBus): RewrapSharing {
  return {
    publish: (status) => bus.publish({ type: 'notice', topic: TOPIC, data: status }),
    subscribe: (apply) =>
      bus.subscribe((c) => {
        if (c.type === 'notice' && c.topic === TOPIC) apply(c.data as RewrapStatus);
      }),
  };
}
