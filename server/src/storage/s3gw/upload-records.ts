// What the S3 gateway keeps about the multipart uploads started through it that the backend does not keep for
// Cairn: the initiator (ListParts' and ListMultipartUploads' Initiator and Owner) and the checksum the upload was
// started with. One small JSON file per upload in the state folder, written atomically before the upload id is
// answered, so a gateway restarted meanwhile still shows who started it. Removed when the upload completes or
// is aborted through the gateway, when its bucket is deleted through the gateway, and when the backend answers
// NoSuchUpload for it (completed or aborted by a client of the backend directly). One process writes the folder
// (`--workers 1`), so what was read, found or not, is kept in memory (the newest CACHED records).
import { createHash } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChecksumAlgorithm, ChecksumType, MultipartUploadInfo, StorageClass } from '../object-layer.js';
import { readJson, type SideStore } from '../nas/side-store.js';
import { CHECKSUM_ALGORITHMS } from './convert.js';

/** Records (and misses) kept in memory. */
const CACHED = 10_000;

interface UploadDoc {
  v: 1;
  bucket: string;
  key: string;
  uploadId: string;
  /** ms since the epoch */
  initiated: number;
  storageClass: StorageClass;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: ChecksumType;
  initiator?: string;
}

export class UploadRecords {
  private readonly cache = new Map<string, MultipartUploadInfo | null>();

  constructor(
    private readonly dir: string,
    private readonly side: SideStore,
  ) {}

  private path(uploadId: string): string {
    // Upload ids are the backend's (any characters): the file is named by a hash of the id.
    return join(this.dir, `${createHash('sha256').update(uploadId).digest('hex')}.json`);
  }

  /** Stores the record of a new upload (before its id is answered to the client). */
  async add(info: MultipartUploadInfo): Promise<void> {
    const doc: UploadDoc = {
      v: 1,
      bucket: info.bucket,
      key: info.key,
      uploadId: info.uploadId,
      initiated: info.initiated.getTime(),
      storageClass: info.storageClass,
    };
    if (info.checksumAlgorithm) doc.checksumAlgorithm = info.checksumAlgorithm;
    if (info.checksumType) doc.checksumType = info.checksumType;
    if (info.initiator) doc.initiator = info.initiator;
    await this.side.writeAtomic(this.path(info.uploadId), JSON.stringify(doc));
    this.remember(info.uploadId, info);
  }

  /** The upload as started through this gateway, if it was (and is for this bucket and key). */
  async get(bucket: string, key: string, uploadId: string): Promise<MultipartUploadInfo | undefined> {
    let info = this.cache.get(uploadId);
    if (info === undefined) {
      info = fromDoc(await readJson<UploadDoc>(this.path(uploadId)), uploadId);
      this.remember(uploadId, info);
    }
    return info && info.bucket === bucket && info.key === key ? info : undefined;
  }

  async remove(uploadId: string): Promise<void> {
    await rm(this.path(uploadId), { force: true });
    this.remember(uploadId, null);
  }

  /** Removes the records of a bucket's uploads (the bucket was deleted). */
  async removeBucket(bucket: string): Promise<void> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    for (const name of names) {
      if (!name.endsWith('.json')) continue;
      const doc = await readJson<UploadDoc>(join(this.dir, name));
      if (doc?.bucket === bucket) await this.remove(doc.uploadId);
    }
  }

  private remember(uploadId: string, info: MultipartUploadInfo | null): void {
    this.cache.delete(uploadId);
    this.cache.set(uploadId, info);
    if (this.cache.size > CACHED) this.cache.delete(this.cache.keys().next().value as string);
  }
}

/** A stored document as the upload's info; null when missing or not one this code wrote for `uploadId`. */
function fromDoc(doc: UploadDoc | null, uploadId: string): MultipartUploadInfo | null {
  if (doc?.v !== 1 || doc.uploadId !== uploadId || typeof doc.bucket !== 'string' || typeof doc.key !== 'string')
    return null;
  const info: MultipartUploadInfo = {
    bucket: doc.bucket,
    key: doc.key,
    uploadId,
    initiated: new Date(Number(doc.initiated) || 0),
    storageClass: doc.storageClass === 'REDUCED_REDUNDANCY' ? 'REDUCED_REDUNDANCY' : 'STANDARD',
  };
  const algorithm = CHECKSUM_ALGORITHMS.find((a) => a === doc.checksumAlgorithm);
  if (algorithm) info.checksumAlgorithm = algorithm;
  if (doc.checksumType === 'FULL_OBJECT' || doc.checksumType === 'COMPOSITE') info.checksumType = doc.checksumType;
  if (typeof doc.initiator === 'string') info.initiator = doc.initiator;
  return info;
}
