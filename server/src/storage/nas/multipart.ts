// Multipart uploads of the NAS gateway: each upload is a folder of the hidden area,
// `.cairn.sys/multipart/<upload id>/` with `upload.json` and per part `part.N` (its bytes) and `part.N.json`.
// Completing concatenates the chosen parts into a temp file, which then replaces the object's file in one
// rename, like a PUT (nas-objects.ts commit).
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { S3Error } from '../../errors.js';
import { KeyedMutex } from '../coordination.js';
import {
  checkChecksumChoice,
  checkExpectedSize,
  checkPartNumber,
  chooseParts,
  multipartChecksum,
  multipartEtag,
} from '../multipart-rules.js';
import type * as L from '../object-layer.js';
import { writeBody } from './files.js';
import { type ObjectRecord, readJson, type SideStore } from './side-store.js';

const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface UploadDoc {
  info: Omit<L.MultipartUploadInfo, 'initiated'> & { initiated: number };
  contentHeaders: Record<string, string>;
  userMetadata: Record<string, string>;
  tagging?: string;
}

interface PartDoc {
  number: number;
  size: number;
  etag: string;
  mtime: number;
  checksum?: string;
}

/** What completing an upload hands back to be committed: the assembled temp file and the object's record. */
export interface Assembled {
  record: Omit<ObjectRecord, 'ino' | 'size' | 'mtimeNs'>;
}

export class NasMultipart {
  private readonly dir: string;
  /**
   * Per upload: putting a part in place, completing, aborting and removing it take turns, so a part whose body
   * was still arriving when its upload went is refused (NoSuchUpload) instead of failing on a missing folder.
   */
  private readonly uploadLocks = new KeyedMutex();

  constructor(
    hidden: string,
    private readonly side: SideStore,
  ) {
    this.dir = join(hidden, 'multipart');
  }

  private uploadDir(uploadId: string): string {
    return join(this.dir, uploadId);
  }

  async create(bucket: string, key: string, opts: Parameters<L.ObjectLayer['newMultipartUpload']>[2]) {
    if (opts.encryption)
      throw new S3Error(
        'NotImplemented',
        'The NAS gateway stores plain files: server-side encryption is not available.',
      );
    if (opts.lock?.mode || opts.lock?.legalHold)
      throw new S3Error('NotImplemented', 'Object lock is not available in the NAS gateway.');
    if (opts.replicaVersionId !== undefined)
      throw new S3Error('NotImplemented', 'Bucket replication is not available in the NAS gateway.');
    if (opts.storageClass && opts.storageClass !== 'STANDARD') throw new S3Error('InvalidStorageClass');
    checkChecksumChoice(opts.checksumAlgorithm, opts.checksumType);
    const info: L.MultipartUploadInfo = {
      bucket,
      key,
      uploadId: randomUUID(),
      initiated: new Date(),
      storageClass: 'STANDARD',
    };
    if (opts.initiator) info.initiator = opts.initiator;
    if (opts.checksumAlgorithm) {
      info.checksumAlgorithm = opts.checksumAlgorithm;
      info.checksumType = opts.checksumType ?? 'COMPOSITE';
    }
    const doc: UploadDoc = {
      info: { ...info, initiated: info.initiated.getTime() },
      contentHeaders: opts.contentHeaders ?? {},
      userMetadata: opts.userMetadata ?? {},
    };
    if (opts.tagging) doc.tagging = opts.tagging;
    const dir = this.uploadDir(info.uploadId);
    await mkdir(dir, { recursive: true });
    await this.side.writeAtomic(join(dir, 'upload.json'), JSON.stringify(doc));
    return info;
  }

  private async read(bucket: string, key: string, uploadId: string): Promise<UploadDoc> {
    if (!UPLOAD_ID.test(uploadId)) throw new S3Error('NoSuchUpload');
    const doc = await readJson<UploadDoc>(join(this.uploadDir(uploadId), 'upload.json'));
    if (!doc || doc.info.bucket !== bucket || doc.info.key !== key) throw new S3Error('NoSuchUpload');
    return doc;
  }

  async get(bucket: string, key: string, uploadId: string): Promise<L.MultipartUploadInfo> {
    return uploadInfo(await this.read(bucket, key, uploadId));
  }

  async putPart(
    bucket: string,
    key: string,
    uploadId: string,
    n: number,
    body: Readable,
    opts: Pick<L.PutOptions, 'size' | 'checksumAlgorithm' | 'verify' | 'sealed'>,
  ): Promise<L.PartInfo> {
    checkPartNumber(n);
    if (opts.sealed) throw new S3Error('InvalidRequest', 'The part does not match the upload.');
    const up = await this.read(bucket, key, uploadId);
    const dir = this.uploadDir(uploadId);
    const algo = opts.checksumAlgorithm ?? up.info.checksumAlgorithm;
    const tmp = join(dir, `part.${n}.${randomUUID()}.tmp`);
    try {
      const w = await writeBody(body, tmp, { size: opts.size, checksumAlgorithm: algo });
      await opts.verify?.({ md5: w.md5, checksum: w.checksum, size: w.size });
      const part: PartDoc = { number: n, size: w.size, etag: w.md5.toString('hex'), mtime: Date.now() };
      if (w.checksum) part.checksum = w.checksum.toString('base64');
      // The part's bytes and its document change together (two uploads of one part number: the last wins whole),
      // and only while the upload is still there.
      await this.uploadLocks.run(uploadId, async () => {
        await this.read(bucket, key, uploadId);
        await rename(tmp, join(dir, `part.${n}`));
        await this.side.writeAtomic(join(dir, `part.${n}.json`), JSON.stringify(part));
      });
      return toPartInfo(part, algo, 'COMPOSITE');
    } finally {
      await rm(tmp, { force: true });
    }
  }

  private async parts(uploadId: string): Promise<PartDoc[]> {
    const dir = this.uploadDir(uploadId);
    const names = (await readdir(dir).catch(() => [] as string[])).filter((x) => /^part\.\d+\.json$/.test(x));
    const docs = await Promise.all(names.map((x) => readJson<PartDoc>(join(dir, x))));
    return docs.filter((d): d is PartDoc => d !== null).sort((a, b) => a.number - b.number);
  }

  async listParts(
    bucket: string,
    key: string,
    uploadId: string,
    opts: { partNumberMarker?: number; maxParts: number },
  ) {
    const up = await this.read(bucket, key, uploadId);
    const all = (await this.parts(uploadId)).filter((p) => p.number > (opts.partNumberMarker ?? 0));
    const page = all.slice(0, opts.maxParts);
    const isTruncated = all.length > page.length;
    return {
      upload: uploadInfo(up),
      parts: page.map((p) => toPartInfo(p, up.info.checksumAlgorithm, up.info.checksumType)),
      isTruncated,
      ...(isTruncated ? { nextPartNumberMarker: page[page.length - 1].number } : {}),
    };
  }

  /**
   * Checks the chosen parts as S3 does and works out the object's ETag and checksum; `assemble` then gets
   * the part files in order to concatenate. The upload goes once `commit` (the caller's) succeeded.
   */
  async complete(
    bucket: string,
    key: string,
    uploadId: string,
    chosen: L.CompletePart[],
    opts: L.CompleteOptions | undefined,
    commit: (partFiles: string[], record: Assembled['record']) => Promise<L.ObjectInfo>,
  ): Promise<L.ObjectInfo> {
    return this.uploadLocks.run(uploadId, () => this.completeLocked(bucket, key, uploadId, chosen, opts, commit));
  }

  private async completeLocked(
    bucket: string,
    key: string,
    uploadId: string,
    chosen: L.CompletePart[],
    opts: L.CompleteOptions | undefined,
    commit: (partFiles: string[], record: Assembled['record']) => Promise<L.ObjectInfo>,
  ): Promise<L.ObjectInfo> {
    const up = await this.read(bucket, key, uploadId);
    const size = (p: PartDoc) => p.size;
    const parts = chooseParts(chosen, await this.parts(uploadId), size);
    const algo = up.info.checksumAlgorithm;
    const record: Assembled['record'] = {
      v: 1,
      bucket,
      key,
      etag: multipartEtag(parts),
      contentHeaders: up.contentHeaders,
      userMetadata: up.userMetadata,
      parts: parts.map((p) => {
        const r: NonNullable<ObjectRecord['parts']>[number] = {
          number: p.number,
          size: p.size,
          etag: p.etag,
          mtime: p.mtime,
        };
        if (p.checksum && algo) r.checksum = { algorithm: algo, type: 'COMPOSITE', value: p.checksum };
        return r;
      }),
    };
    if (up.tagging) record.tagging = up.tagging;
    const checksum = multipartChecksum(algo, up.info.checksumType, parts, size);
    if (checksum) record.checksum = checksum;
    opts?.verifyChecksum?.(record.checksum);
    checkExpectedSize(
      parts.reduce((n, p) => n + p.size, 0),
      opts?.expectedSize,
    );
    const dir = this.uploadDir(uploadId);
    const info = await commit(
      parts.map((p) => join(dir, `part.${p.number}`)),
      record,
    );
    await rm(dir, { recursive: true, force: true });
    return info;
  }

  abort(bucket: string, key: string, uploadId: string): Promise<void> {
    return this.uploadLocks.run(uploadId, async () => {
      await this.read(bucket, key, uploadId);
      await this.drop(uploadId);
    });
  }

  private drop(uploadId: string): Promise<void> {
    return rm(this.uploadDir(uploadId), { recursive: true, force: true });
  }

  /** Every upload in progress (one document read each). */
  private async all(): Promise<UploadDoc[]> {
    const ids = (await readdir(this.dir).catch(() => [] as string[])).filter((x) => UPLOAD_ID.test(x));
    const docs = await Promise.all(ids.map((id) => readJson<UploadDoc>(join(this.uploadDir(id), 'upload.json'))));
    return docs.filter((d): d is UploadDoc => d !== null);
  }

  async list(
    bucket: string,
    opts: Parameters<L.ObjectLayer['listMultipartUploads']>[1],
  ): ReturnType<L.ObjectLayer['listMultipartUploads']> {
    const prefix = opts.prefix ?? '';
    const ups = (await this.all())
      .filter((d) => d.info.bucket === bucket && d.info.key.startsWith(prefix))
      .map(uploadInfo)
      .sort(
        (a, b) => cmp(a.key, b.key) || a.initiated.getTime() - b.initiated.getTime() || cmp(a.uploadId, b.uploadId),
      );
    const res = { uploads: [] as L.MultipartUploadInfo[], commonPrefixes: [] as string[], isTruncated: false };
    const out = res as Awaited<ReturnType<L.ObjectLayer['listMultipartUploads']>>;
    let count = 0;
    let pastMarker = opts.uploadIdMarker === undefined;
    for (const u of ups) {
      if (opts.keyMarker !== undefined) {
        if (cmp(u.key, opts.keyMarker) < 0) continue;
        if (u.key === opts.keyMarker) {
          if (opts.uploadIdMarker === undefined) continue;
          if (!pastMarker) {
            if (u.uploadId === opts.uploadIdMarker) pastMarker = true;
            continue;
          }
        }
      }
      const d = opts.delimiter ? u.key.indexOf(opts.delimiter, prefix.length) : -1;
      const cp = d >= 0 ? u.key.slice(0, d + opts.delimiter!.length) : undefined;
      if (cp !== undefined && res.commonPrefixes.at(-1) === cp) continue;
      if (count === opts.maxUploads) {
        out.isTruncated = true;
        break;
      }
      count++;
      if (cp !== undefined) {
        res.commonPrefixes.push(cp);
        out.nextKeyMarker = cp;
        out.nextUploadIdMarker = undefined;
      } else {
        res.uploads.push(u);
        out.nextKeyMarker = u.key;
        out.nextUploadIdMarker = u.uploadId;
      }
    }
    if (!out.isTruncated) {
      delete out.nextKeyMarker;
      delete out.nextUploadIdMarker;
    }
    return out;
  }

  /** Removes uploads started before `cutoff` (epoch ms); how many went. */
  async removeStale(cutoff: number): Promise<number> {
    let n = 0;
    for (const d of await this.all()) {
      if (d.info.initiated >= cutoff) continue;
      await this.uploadLocks.run(d.info.uploadId, () => this.drop(d.info.uploadId));
      n++;
    }
    return n;
  }

  /** Drops a removed bucket's uploads. */
  async removeAll(bucket: string): Promise<void> {
    for (const d of await this.all())
      if (d.info.bucket === bucket) await this.uploadLocks.run(d.info.uploadId, () => this.drop(d.info.uploadId));
  }

  /** The upload folder exists (for tests of what refused requests leave). */
  async exists(uploadId: string): Promise<boolean> {
    return (await stat(this.uploadDir(uploadId)).catch(() => null)) !== null;
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function uploadInfo(d: UploadDoc): L.MultipartUploadInfo {
  return { ...d.info, initiated: new Date(d.info.initiated) };
}

function toPartInfo(p: PartDoc, algo: L.ChecksumAlgorithm | undefined, type: L.ChecksumType | undefined): L.PartInfo {
  const out: L.PartInfo = { number: p.number, size: p.size, etag: p.etag, lastModified: new Date(p.mtime) };
  if (p.checksum && algo) out.checksum = { algorithm: algo, type: type ?? 'COMPOSITE', value: p.checksum };
  return out;
}
