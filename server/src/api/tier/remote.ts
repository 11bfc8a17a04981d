// The S3 client of one remote tier (AWS's SDK for JavaScript: signing, retries, multipart uploads), and the
// S3 errors its failures become: a tier that does not answer (refused, timed out, 5xx) is ServiceUnavailable
// naming the tier; what it refuses at configuration time gets MinIO's admin tier codes. No message carries a
// credential.
import type { Readable } from 'node:stream';
import { S3Error } from '../../errors.js';
import type { ByteRange } from '../../storage/object-layer.js';
import type { Tier } from './config.js';

type Sdk = typeof import('@aws-sdk/client-s3');
type Storage = typeof import('@aws-sdk/lib-storage');

/** The SDK is loaded when a tier is first used: a server without tiers does not pay for it at start-up. */
let sdk: Promise<[Sdk, Storage]> | undefined;
const loadSdk = () => {
  sdk ??= Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/lib-storage')]);
  return sdk;
};

/** Uploads go in parts of this size, this many at a time: what one transition holds in memory. */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE = 2;
/** The object MinIO writes, reads and removes to check a tier's credentials (and so does Cairn). */
const PROBE = 'probeobject';

interface SdkError {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** Did the tier fail to answer (network, timeout, its own 5xx), as opposed to refuse the request? */
export function isTierDown(e: unknown): boolean {
  const err = e as SdkError;
  const status = err?.$metadata?.httpStatusCode;
  return status === undefined || status >= 500;
}

function codeOf(e: unknown): string {
  const err = e as SdkError;
  return err?.Code ?? err?.name ?? err?.code ?? 'Error';
}

export class RemoteS3 {
  private client?: Promise<InstanceType<Sdk['S3Client']>>;

  constructor(readonly tier: Tier) {}

  private s3() {
    this.client ??= loadSdk().then(
      ([{ S3Client }]) =>
        new S3Client({
          endpoint: this.tier.endpoint,
          region: this.tier.region,
          forcePathStyle: true,
          credentials: { accessKeyId: this.tier.accessKey, secretAccessKey: this.tier.secretKey },
          // Plain PUTs and GETs, as every S3 service takes them (no aws-chunked checksum trailers).
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
          maxAttempts: 2,
          requestHandler: { connectionTimeout: 5000, requestTimeout: 60_000 },
        }),
    );
    return this.client;
  }

  /** The S3 error a failed call becomes: ServiceUnavailable when the tier is down, else `refused`'s. */
  unavailable(e: unknown, doing: string): S3Error {
    const why = (e as SdkError)?.message ?? String(e);
    return new S3Error(
      'ServiceUnavailable',
      `The remote tier ${this.tier.name} (${this.tier.endpoint}) could not ${doing}: ${codeOf(e)}: ${why.slice(0, 200)}`,
    );
  }

  private fail(e: unknown, doing: string): S3Error {
    if (isTierDown(e)) return this.unavailable(e, doing);
    return new S3Error(
      'InternalError',
      `The remote tier ${this.tier.name} refused to ${doing}: ${codeOf(e)} (${(e as SdkError)?.$metadata?.httpStatusCode})`,
    );
  }

  /** Streams `body` to `key`; the remote version id when the bucket is versioned. */
  async put(key: string, body: Readable): Promise<string | undefined> {
    const [, { Upload }] = await loadSdk();
    const upload = new Upload({
      client: await this.s3(),
      params: {
        Bucket: this.tier.bucket,
        Key: key,
        Body: body,
        ...(this.tier.storageClass ? { StorageClass: this.tier.storageClass as 'STANDARD' } : {}),
      },
      partSize: PART_SIZE,
      queueSize: QUEUE,
      leavePartsOnError: false,
    });
    try {
      // The body is storage's verified stream of exactly the version's stored bytes; a read error fails it.
      const out = await upload.done();
      return (out as { VersionId?: string }).VersionId;
    } catch (e) {
      body.destroy();
      if (e instanceof S3Error) throw e;
      throw this.fail(e, 'store an object');
    }
  }

  /** The bytes of `range` of `key` (all of it when absent), checked to be as many as asked. */
  async get(key: string, versionId: string | undefined, range: ByteRange | undefined, size: number): Promise<Readable> {
    const [{ GetObjectCommand }] = await loadSdk();
    const want = range ? range.end - range.start + 1 : size;
    try {
      const out = await (await this.s3()).send(
        new GetObjectCommand({
          Bucket: this.tier.bucket,
          Key: key,
          VersionId: versionId,
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        }),
      );
      const body = out.Body as Readable;
      if (out.ContentLength !== want) {
        body.destroy();
        throw new S3Error(
          'InternalError',
          `The remote tier ${this.tier.name} answered ${out.ContentLength} bytes where ${want} were asked`,
        );
      }
      return body;
    } catch (e) {
      if (e instanceof S3Error) throw e;
      throw this.fail(e, 'read an object');
    }
  }

  /** Removes `key` (a key already gone is removed). */
  async remove(key: string, versionId: string | undefined): Promise<void> {
    const [{ DeleteObjectCommand }] = await loadSdk();
    try {
      await (await this.s3()).send(
        new DeleteObjectCommand({ Bucket: this.tier.bucket, Key: key, VersionId: versionId }),
      );
    } catch (e) {
      if (codeOf(e) === 'NoSuchKey') return;
      throw this.fail(e, 'remove an object');
    }
  }

  /**
   * Removes whatever an upload to `key` that never finished left behind: its incomplete multipart uploads and
   * the object itself (with its version id, so a versioned tier bucket does not keep the data behind a delete
   * marker). The key was made for that one upload, so everything under it is Cairn's to remove.
   */
  async purge(key: string): Promise<void> {
    const [{ ListMultipartUploadsCommand, AbortMultipartUploadCommand, HeadObjectCommand }] = await loadSdk();
    const s3 = await this.s3();
    try {
      const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: this.tier.bucket, Prefix: key }));
      for (const u of uploads.Uploads ?? [])
        if (u.Key === key)
          await s3.send(new AbortMultipartUploadCommand({ Bucket: this.tier.bucket, Key: key, UploadId: u.UploadId }));
    } catch (e) {
      if (codeOf(e) !== 'NoSuchUpload') throw this.fail(e, 'abort an upload');
    }
    let versionId: string | undefined;
    try {
      versionId = (await s3.send(new HeadObjectCommand({ Bucket: this.tier.bucket, Key: key }))).VersionId;
    } catch (e) {
      if (codeOf(e) === 'NotFound' || codeOf(e) === 'NoSuchKey') return;
      throw this.fail(e, 'look up an object');
    }
    await this.remove(key, versionId);
  }

  /** Does the tier's bucket hold anything under the tier's prefix? */
  async inUse(): Promise<boolean> {
    const [{ ListObjectsV2Command }] = await loadSdk();
    try {
      const out = await (await this.s3()).send(
        new ListObjectsV2Command({ Bucket: this.tier.bucket, Prefix: this.tier.prefix, MaxKeys: 1 }),
      );
      return (out.KeyCount ?? 0) > 0;
    } catch (e) {
      throw this.configError(e, 'list');
    }
  }

  /** MinIO's check of a new tier: write, read and remove a small object under the prefix. */
  async probe(): Promise<void> {
    const [{ PutObjectCommand, GetObjectCommand, DeleteObjectCommand }] = await loadSdk();
    const s3 = await this.s3();
    const Key = `${this.tier.prefix}${PROBE}`;
    const step = async (what: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (e) {
        throw this.configError(e, what);
      }
    };
    await step('write', () => s3.send(new PutObjectCommand({ Bucket: this.tier.bucket, Key, Body: 'Cairn' })));
    await step('read', async () => {
      const out = await s3.send(new GetObjectCommand({ Bucket: this.tier.bucket, Key }));
      await out.Body?.transformToByteArray();
    });
    await step('remove', () => s3.send(new DeleteObjectCommand({ Bucket: this.tier.bucket, Key })));
  }

  /** What a failure while configuring the tier is: MinIO's admin tier codes. */
  private configError(e: unknown, op: string): S3Error {
    const code = codeOf(e);
    if (isTierDown(e)) return this.unavailable(e, `be reached to ${op}`);
    if (code === 'NoSuchBucket') return new S3Error('XMinioAdminTierBucketNotFound');
    if (code === 'InvalidAccessKeyId' || code === 'SignatureDoesNotMatch')
      return new S3Error('XMinioAdminTierInvalidCredentials');
    return new S3Error(
      'XMinioAdminTierInsufficientPermissions',
      `The remote tier refused to ${op} under its prefix: ${code}`,
    );
  }
}
