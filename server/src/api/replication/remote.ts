// The S3 client of one replication target (AWS's SDK for JavaScript, loaded on first use as the tiers' is; a
// replica's bytes, single-part or multipart, go as raw signed requests, raw-put.ts, which give the read's pooled
// chunks back),
// speaking MinIO's replication requests: a replica keeps its source's version id (`?versionId=`) and
// modification time (`x-minio-source-mtime`), is marked `x-amz-replication-status: REPLICA` and flagged
// `x-minio-source-replication-request: true`, which the target authorizes as s3:ReplicateObject /
// s3:ReplicateDelete (Cairn: api/replication/receive.ts; MinIO alike). No message carries a credential.
import { S3Error } from '../../errors.js';
import type { ObjectBody, ObjectInfo } from '../../storage/object-layer.js';
import { isTierDown } from '../tier/remote.js';
import { escapeXml } from '../xml.js';
import { RawPutter, xmlField } from './raw-put.js';
import { REPLICATION_REQUEST } from './receive.js';
import type { RemoteTarget } from './targets.js';

type Sdk = typeof import('@aws-sdk/client-s3');
let sdk: Promise<Sdk> | undefined;
const loadSdk = () => {
  sdk ??= import('@aws-sdk/client-s3');
  return sdk;
};

type Client = InstanceType<Sdk['S3Client']>;
interface Middlewared {
  middlewareStack: {
    add(
      m: (next: (a: { request: unknown }) => Promise<unknown>) => (a: { request: unknown }) => Promise<unknown>,
      o: { step: 'build' },
    ): void;
  };
}

interface SdkError {
  name?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** A failed call: `down` when the target did not answer (network, timeout, 5xx) and a retry may succeed. */
export class TargetError extends Error {
  constructor(
    message: string,
    readonly down: boolean,
    readonly code: string,
  ) {
    super(message);
  }
}

const codeOf = (e: unknown) => (e as SdkError)?.Code ?? (e as SdkError)?.name ?? 'Error';
const statusOf = (e: unknown) => (e as SdkError)?.$metadata?.httpStatusCode;

/** Adds query parameters and headers to a command's request before it is signed (the SDK has no field for them). */
function withExtras<T>(cmd: T, query: Record<string, string>, headers: Record<string, string>): T {
  (cmd as Middlewared).middlewareStack.add(
    (next) => async (args) => {
      const r = args.request as { query: Record<string, string>; headers: Record<string, string> };
      Object.assign(r.query, query);
      Object.assign(r.headers, headers);
      return next(args);
    },
    { step: 'build' },
  );
  return cmd;
}

/** The headers every replica write carries. */
function replicaHeaders(mtime: Date): Record<string, string> {
  return {
    'x-amz-replication-status': 'REPLICA',
    'x-minio-source-replication-request': 'true',
    'x-minio-source-mtime': mtime.toISOString(),
  };
}

/**
 * What a replica is written with, besides its bytes (the source version's metadata, tags and lock), as the
 * headers of a raw PUT or CreateMultipartUpload (raw-put.ts), in the forms the SDK sent.
 */
function putHeaders(info: ObjectInfo, storageClass?: string): Record<string, string> {
  const h = info.contentHeaders;
  const lock = info.lock;
  const out: Record<string, string> = {};
  for (const name of ['content-type', 'content-encoding', 'content-disposition', 'content-language', 'cache-control'])
    if (h[name] !== undefined) out[name] = h[name];
  if (h.expires) {
    const at = new Date(h.expires);
    out.expires = Number.isNaN(at.getTime()) ? h.expires : at.toUTCString();
  }
  for (const [k, v] of Object.entries(info.userMetadata)) out[`x-amz-meta-${k.toLowerCase()}`] = v;
  if (info.tagging) out['x-amz-tagging'] = info.tagging;
  if (storageClass) out['x-amz-storage-class'] = storageClass;
  if (lock?.mode) out['x-amz-object-lock-mode'] = lock.mode;
  if (lock?.retainUntil) out['x-amz-object-lock-retain-until-date'] = lock.retainUntil.toISOString();
  if (lock?.legalHold !== undefined) out['x-amz-object-lock-legal-hold'] = lock.legalHold ? 'ON' : 'OFF';
  return out;
}

const CONNECT_TIMEOUT_MS = 5000;
const REQUEST_TIMEOUT_MS = 120_000;

export class ReplicationRemote {
  private client?: Promise<Client>;
  private putter?: RawPutter;

  constructor(readonly target: RemoteTarget) {}

  private s3(): Promise<Client> {
    this.client ??= loadSdk().then(
      ({ S3Client }) =>
        new S3Client({
          endpoint: `${this.target.secure ? 'https' : 'http'}://${this.target.endpoint}`,
          region: this.target.region || 'us-east-1',
          forcePathStyle: true,
          credentials: { accessKeyId: this.target.accessKey, secretAccessKey: this.target.secretKey },
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
          // The sender retries with its own backoff; one attempt per call here.
          maxAttempts: 1,
          requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS },
        }),
    );
    return this.client;
  }

  private fail(e: unknown, doing: string): TargetError {
    if (e instanceof TargetError) return e;
    const status = statusOf(e);
    const why = ((e as SdkError)?.message ?? String(e)).slice(0, 200);
    return new TargetError(
      `replication target ${this.target.endpoint}/${this.target.targetBucket} could not ${doing}: ${codeOf(e)} ` +
        `(${status ?? 'no answer'}): ${why}`,
      // 501: the target does not do it, and will not on a retry.
      isTierDown(e) && status !== 501,
      codeOf(e),
    );
  }

  /** MinIO's checks of a new target: its bucket exists, the credentials reach it, versioning is Enabled. */
  async probe(): Promise<void> {
    const { HeadBucketCommand, GetBucketVersioningCommand } = await loadSdk();
    const s3 = await this.s3();
    const Bucket = this.target.targetBucket;
    try {
      await s3.send(new HeadBucketCommand({ Bucket }));
    } catch (e) {
      const status = statusOf(e);
      if (status === 404)
        throw new S3Error('XMinioAdminRemoteTargetNotFoundError', `No bucket ${Bucket} on the target`);
      throw new S3Error('XMinioAdminReplicationRemoteConnectionError', this.fail(e, 'find its bucket').message);
    }
    let status: string | undefined;
    try {
      status = (await s3.send(new GetBucketVersioningCommand({ Bucket }))).Status;
    } catch (e) {
      throw new S3Error('XMinioAdminReplicationRemoteConnectionError', this.fail(e, 'read its versioning').message);
    }
    if (status !== 'Enabled') throw new S3Error('RemoteTargetNotVersionedError');
  }

  /** The raw client of the target's data requests (raw-put.ts). */
  private raw(): RawPutter {
    this.putter ??= new RawPutter({
      endpoint: this.target.endpoint,
      secure: this.target.secure,
      region: this.target.region || 'us-east-1',
      accessKey: this.target.accessKey,
      secretKey: this.target.secretKey,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      idleTimeoutMs: REQUEST_TIMEOUT_MS,
    });
    return this.putter;
  }

  /**
   * Writes a replica of a single-part version: one PUT streaming `body` (`info.size` bytes), sent raw (raw-put.ts:
   * the body's pooled chunks go back to the pool). `storageClass`: the one the rule asks of replicas (else the
   * target's, else the default).
   */
  async putObject(key: string, info: ObjectInfo, storageClass: string | undefined, body: ObjectBody): Promise<void> {
    try {
      await this.raw().put(
        this.target.targetBucket,
        key,
        { versionId: info.versionId },
        {
          ...putHeaders(info, storageClass ?? this.target.storageClass),
          ...replicaHeaders(info.lastModified),
          ...(info.encryption ? {} : { 'x-minio-source-etag': info.etag }),
        },
        body,
        info.size,
      );
    } catch (e) {
      throw this.fail(e, 'take a replica');
    }
  }

  /**
   * Writes a replica of a multipart version part by part, with the source's part sizes, so its ETag is the
   * source's: CreateMultipartUpload, UploadPart, CompleteMultipartUpload as raw requests (raw-put.ts; each part's
   * pooled chunks go back to the pool). `part(n)` opens the bytes of part n. An upload that fails is aborted.
   */
  async putMultipart(
    key: string,
    info: ObjectInfo,
    storageClass: string | undefined,
    part: (n: number) => Promise<ObjectBody>,
  ): Promise<void> {
    const raw = this.raw();
    const bucket = this.target.targetBucket;
    let uploadId: string | undefined;
    try {
      const created = await raw.request(
        'POST',
        bucket,
        key,
        { uploads: '', versionId: info.versionId },
        { ...putHeaders(info, storageClass ?? this.target.storageClass), ...replicaHeaders(info.lastModified) },
      );
      uploadId = xmlField(created.text, 'UploadId');
      if (!uploadId)
        throw { name: 'InvalidResponse', message: 'no UploadId in its answer', $metadata: { httpStatusCode: 500 } };
      const parts: string[] = [];
      for (const p of info.parts ?? []) {
        const body = await part(p.number);
        const out = await raw.request('PUT', bucket, key, { partNumber: String(p.number), uploadId }, {}, body, p.size);
        const etag = out.headers.etag ?? '';
        parts.push(`<Part><ETag>${escapeXml(etag, false)}</ETag><PartNumber>${p.number}</PartNumber></Part>`);
      }
      await raw.request(
        'POST',
        bucket,
        key,
        { uploadId },
        {
          'content-type': 'application/xml',
          ...replicaHeaders(info.lastModified),
          ...(info.encryption ? {} : { 'x-minio-source-etag': info.etag }),
        },
        `<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${parts.join('')}</CompleteMultipartUpload>`,
      );
    } catch (e) {
      if (uploadId) await raw.request('DELETE', bucket, key, { uploadId }, {}).catch(() => {});
      throw this.fail(e, 'take a multipart replica');
    }
  }

  /**
   * Sets one of a replica's metadata to the source version's (`info`): its tags, its retention, or its legal
   * hold, by the S3 call that sets it, on the version of the same id, flagged as a replication request (so the
   * target does not replicate it back). Removing or shortening a GOVERNANCE retention asks for the bypass, which
   * the target's credentials must allow (s3:BypassGovernanceRetention) as they did on the source.
   */
  async putMetadata(key: string, info: ObjectInfo, what: 'tagging' | 'retention' | 'legal-hold'): Promise<void> {
    const sdkMod = await loadSdk();
    const Bucket = this.target.targetBucket;
    const VersionId = info.versionId;
    const flag = { [REPLICATION_REQUEST]: 'true' };
    const lock = info.lock;
    const s3 = await this.s3();
    try {
      if (what === 'tagging') {
        const TagSet = [...new URLSearchParams(info.tagging ?? '')].map(([Key, Value]) => ({ Key, Value }));
        if (TagSet.length === 0)
          await s3.send(withExtras(new sdkMod.DeleteObjectTaggingCommand({ Bucket, Key: key, VersionId }), {}, flag));
        else
          await s3.send(
            withExtras(
              new sdkMod.PutObjectTaggingCommand({ Bucket, Key: key, VersionId, Tagging: { TagSet } }),
              {},
              flag,
            ),
          );
      } else if (what === 'retention') {
        const retained = lock?.mode !== undefined && lock.retainUntil !== undefined;
        const Retention = retained ? { Mode: lock!.mode, RetainUntilDate: lock!.retainUntil } : {};
        const BypassGovernanceRetention = lock?.mode === 'COMPLIANCE' ? undefined : true;
        await s3.send(
          withExtras(
            new sdkMod.PutObjectRetentionCommand({ Bucket, Key: key, VersionId, Retention, BypassGovernanceRetention }),
            {},
            flag,
          ),
        );
      } else {
        const LegalHold = { Status: lock?.legalHold ? 'ON' : 'OFF' } as const;
        await s3.send(
          withExtras(new sdkMod.PutObjectLegalHoldCommand({ Bucket, Key: key, VersionId, LegalHold }), {}, flag),
        );
      }
    } catch (e) {
      throw this.fail(e, `take the ${what} of a replica`);
    }
  }

  /** Adds a delete marker with the source marker's version id and time. */
  async putDeleteMarker(key: string, versionId: string, mtime: Date): Promise<void> {
    const { DeleteObjectCommand } = await loadSdk();
    const cmd = new DeleteObjectCommand({ Bucket: this.target.targetBucket, Key: key, VersionId: versionId });
    try {
      await (await this.s3()).send(
        withExtras(cmd, {}, { ...replicaHeaders(mtime), 'x-minio-source-deletemarker': 'true' }),
      );
    } catch (e) {
      throw this.fail(e, 'take a delete marker');
    }
  }

  /** Removes the replica of a version (a versioned delete on the source, rule with DeleteReplication). */
  async deleteVersion(key: string, versionId: string): Promise<void> {
    const { DeleteObjectCommand } = await loadSdk();
    const cmd = new DeleteObjectCommand({ Bucket: this.target.targetBucket, Key: key, VersionId: versionId });
    try {
      await (await this.s3()).send(withExtras(cmd, {}, { 'x-minio-source-replication-request': 'true' }));
    } catch (e) {
      throw this.fail(e, 'remove a version');
    }
  }

  close(): void {
    void this.client?.then((c) => c.destroy()).catch(() => {});
    this.putter?.close();
  }
}
