// The NAS gateway's ObjectLayer: an existing folder served as S3. Top-level folders are buckets, files are
// objects, `/` in keys are folders (paths.ts). Reads come straight from the files; a write goes to a temp
// file in the hidden area `.cairn.sys/tmp` (same file system) and replaces the object's file in one rename,
// so another reader of the folder sees the old file or the new one, never half of one. What S3 keeps beside
// the bytes is in the side store (side-store.ts); files changed behind Cairn's back are seen on the next
// request, as their identity (inode, size, mtime) no longer matches. One version per key: versioning, object
// lock, replication, tiers and server-side encryption are refused (NotImplemented), never half done. A key
// ending in `/` is a folder (folders.ts: folder markers).
// One process serves a folder (cli/gateway.ts enforces --workers 1): the side store's cache and the key
// locks are this process's.
import { randomUUID } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { mkdir, open, readdir, rename, rm, rmdir, stat, statfs } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { S3Error } from '../../errors.js';
import type { Logger } from '../context.js';
import { type HeldLock, KeyedMutex } from '../coordination.js';
import type * as L from '../object-layer.js';
import { SYSTEM_BUCKET } from '../object-layer.js';
import { NasBuckets } from './buckets.js';
import { appendFile, readStream, storageError, writeBody } from './files.js';
import { checkFolderPut, emptyBody, folderInfo, folderPath, isFolderKey } from './folders.js';
import { type NasItem, walkBucket } from './listing.js';
import { NasMultipart } from './multipart.js';
import type { NasPaths } from './paths.js';
import { type FileIdentity, foreignEtag, identityOf, type ObjectRecord, SideStore } from './side-store.js';

/** Side-store records a listing page reads at once. */
const RECORDS_AT_ONCE = 32;

const notAvailable = (what: string) => new S3Error('NotImplemented', `${what} is not available in the NAS gateway.`);

export interface NasOptions {
  deploymentId: string;
  log: Logger;
  /** Unfinished multipart uploads older than this are removed, looked for every `staleUploadsCleanupIntervalMs`. */
  staleUploadsExpiryMs: number;
  staleUploadsCleanupIntervalMs: number;
}

/** A file found for a key: where, and its stat (bigint: ns times, exact inode). */
interface Found {
  path: string;
  st: BigIntStats;
}

export class NasObjects implements L.ObjectLayer {
  readonly side: SideStore;
  readonly buckets: NasBuckets;
  private readonly multipart: NasMultipart;
  private readonly keyLocks = new KeyedMutex();
  private readonly tmpDir: string;
  private staleTimer?: NodeJS.Timeout;

  constructor(
    readonly paths: NasPaths,
    private readonly opts: NasOptions,
  ) {
    this.tmpDir = join(paths.hidden, 'tmp');
    this.side = new SideStore(paths.hidden, this.tmpDir);
    this.buckets = new NasBuckets(paths, this.side);
    this.multipart = new NasMultipart(paths.hidden, this.side);
  }

  get deploymentId(): string {
    return this.opts.deploymentId;
  }

  /** Empties the temp area (writes a stopped process left) and starts removing stale uploads. */
  async start(): Promise<void> {
    await rm(this.tmpDir, { recursive: true, force: true });
    await mkdir(this.tmpDir, { recursive: true });
    await mkdir(this.paths.bucketDir(SYSTEM_BUCKET), { recursive: true });
    const schedule = () => {
      this.staleTimer = setTimeout(() => {
        const cutoff = Date.now() - this.opts.staleUploadsExpiryMs;
        this.multipart
          .removeStale(cutoff)
          .then((n) => n > 0 && this.opts.log.info(`stale multipart uploads: ${n} removed`))
          .catch((e: unknown) => this.opts.log.warn(`removing stale multipart uploads failed: ${String(e)}`))
          .finally(() => this.staleTimer && schedule());
      }, this.opts.staleUploadsCleanupIntervalMs);
      this.staleTimer.unref();
    };
    schedule();
  }

  async close(): Promise<void> {
    clearTimeout(this.staleTimer);
    this.staleTimer = undefined;
  }

  async storageState(): Promise<L.SetState[]> {
    const s = await statfs(this.paths.root).catch(() => null);
    const space = s
      ? {
          online: true,
          totalBytes: s.blocks * s.bsize,
          usedBytes: (s.blocks - s.bfree) * s.bsize,
          freeBytes: s.bavail * s.bsize,
        }
      : { online: false, totalBytes: 0, usedBytes: 0, freeBytes: 0 };
    const drive = { path: this.paths.root, id: this.deploymentId, local: true, healing: false, ...space };
    return [{ data: 1, parity: 0, rrsParity: 0, writeQuorum: 1, drives: [drive] }];
  }

  async healObject(): Promise<L.HealResult> {
    throw notAvailable('Healing (the folder has no erasure-coded copies)');
  }

  heldLocks(): Promise<HeldLock[]> {
    return this.keyLocks.held();
  }

  // Buckets

  makeBucket(bucket: string, config?: L.BucketConfig): Promise<void> {
    return this.buckets.make(bucket, config);
  }

  headBucket(bucket: string): Promise<L.BucketInfo> {
    return this.buckets.info(bucket);
  }

  async deleteBucket(bucket: string): Promise<void> {
    await this.buckets.remove(bucket);
    await this.multipart.removeAll(bucket);
  }

  listBuckets(): Promise<L.BucketInfo[]> {
    return this.buckets.list();
  }

  async getBucketConfig(bucket: string): Promise<L.BucketConfig> {
    return (await this.buckets.get(bucket)).config;
  }

  updateBucketConfig(bucket: string, patch: Parameters<L.ObjectLayer['updateBucketConfig']>[1]): Promise<void> {
    return this.buckets.update(bucket, patch);
  }

  // Objects

  /** The key's file (its folder for a key ending in `/`) as it is now, or null (nothing there, or another kind). */
  private async find(bucket: string, key: string): Promise<Found | null> {
    await this.buckets.get(bucket);
    const folder = isFolderKey(key);
    const r = await this.paths.resolve(bucket, folder ? folderPath(key) : key).catch((e: unknown) => {
      // `a/b` where `a` is a file: no such key (a write there is refused by resolve in commit).
      if (e instanceof S3Error && e.code === 'XMinioParentIsObject') return null;
      throw e;
    });
    if (!r?.exists) return null;
    const st = await stat(r.path, { bigint: true }).catch(() => null);
    return (folder ? st?.isDirectory() : st?.isFile()) ? { path: r.path, st: st as BigIntStats } : null;
  }

  private async infoOf(bucket: string, key: string, st: BigIntStats): Promise<L.ObjectInfo> {
    if (st.isDirectory()) return folderInfo(bucket, key, st);
    const id = identityOf(st);
    return toInfo(bucket, key, st, id, await this.side.find(bucket, key, id));
  }

  private async current(bucket: string, key: string): Promise<L.ObjectInfo | null> {
    const f = await this.find(bucket, key);
    return f && this.infoOf(bucket, key, f.st);
  }

  async putObject(bucket: string, key: string, body: Readable, opts: L.PutOptions): Promise<L.ObjectInfo> {
    refusePut(opts);
    if (isFolderKey(key)) return this.putFolder(bucket, key, body, opts);
    await this.buckets.get(bucket);
    await this.paths.resolve(bucket, key); // a key no file can have fails before the body is read
    const tmp = join(this.tmpDir, randomUUID());
    try {
      const w = await writeBody(body, tmp, { size: opts.size, checksumAlgorithm: opts.checksumAlgorithm });
      await opts.verify?.({ md5: w.md5, checksum: w.checksum, size: w.size });
      const record: Omit<ObjectRecord, keyof FileIdentity> = {
        v: 1,
        bucket,
        key,
        etag: w.md5.toString('hex'),
        contentHeaders: opts.contentHeaders ?? {},
        userMetadata: opts.userMetadata ?? {},
      };
      if (opts.tagging) record.tagging = opts.tagging;
      if (w.checksum && opts.checksumAlgorithm)
        record.checksum = {
          algorithm: opts.checksumAlgorithm,
          type: 'FULL_OBJECT',
          value: w.checksum.toString('base64'),
        };
      return await this.commit(bucket, key, tmp, record, opts.precondition);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /** An empty PUT of `x/`: the folder x (and the folders above it), made under the key's lock. */
  private async putFolder(bucket: string, key: string, body: Readable, opts: L.PutOptions): Promise<L.ObjectInfo> {
    checkFolderPut(key, opts);
    await this.buckets.get(bucket);
    await this.paths.resolve(bucket, folderPath(key)); // a folder no key can name fails before the body is read
    await opts.verify?.(await emptyBody(key, body, opts.checksumAlgorithm));
    return this.keyLocks.run(`${bucket}\0${key}`, async () => {
      opts.precondition?.(await this.current(bucket, key));
      const target = await this.paths.resolve(bucket, folderPath(key));
      await mkdir(target.path, { recursive: true }).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'EEXIST' || e.code === 'ENOTDIR') throw new S3Error('XMinioParentIsObject');
        storageError(e);
      });
      const st = await stat(target.path, { bigint: true });
      if (!st.isDirectory()) throw new S3Error('XMinioParentIsObject');
      return folderInfo(bucket, key, st);
    });
  }

  /**
   * Puts the finished temp file in the key's place with one rename, under the key's lock (the precondition
   * sees the file it replaces), and records what S3 keeps beside it.
   */
  private commit(
    bucket: string,
    key: string,
    tmp: string,
    record: Omit<ObjectRecord, keyof FileIdentity>,
    precondition?: (current: L.ObjectInfo | null) => void,
  ): Promise<L.ObjectInfo> {
    return this.keyLocks.run(`${bucket}\0${key}`, async () => {
      precondition?.(await this.current(bucket, key));
      const target = await this.paths.resolve(bucket, key);
      await mkdir(dirname(target.path), { recursive: true }).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'EEXIST' || e.code === 'ENOTDIR') throw new S3Error('XMinioParentIsObject');
        storageError(e);
      });
      await rename(tmp, target.path).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'EISDIR' || e.code === 'ENOTEMPTY' || e.code === 'EEXIST')
          throw new S3Error('XMinioObjectExistsAsDirectory');
        if (e.code === 'ENOTDIR') throw new S3Error('XMinioParentIsObject');
        storageError(e);
      });
      const st = await stat(target.path, { bigint: true });
      const id = identityOf(st);
      const full: ObjectRecord = { ...record, ...id };
      await this.side.write(full);
      return toInfo(bucket, key, st, id, full);
    });
  }

  async openObject(bucket: string, key: string, opts: { versionId?: string } = {}): Promise<L.OpenedObject> {
    const f = await this.find(bucket, key);
    checkVersion(opts.versionId, f !== null);
    if (!f) throw new S3Error('NoSuchKey');
    const info = await this.infoOf(bucket, key, f.st);
    const known = identityOf(f.st);
    return {
      info,
      read: async (range) => {
        if (range && (range.start > range.end || range.start >= info.size)) throw new S3Error('InvalidRange');
        if (f.st.isDirectory()) return Readable.from([]);
        const fh = await open(f.path, 'r').catch(() => null);
        // The bytes must be those of the version the caller checked: a file replaced since is not read.
        const now = fh && identityOf(await fh.stat({ bigint: true }));
        if (!fh || !now || now.ino !== known.ino || now.size !== known.size || now.mtimeNs !== known.mtimeNs) {
          await fh?.close();
          throw new S3Error('ServiceUnavailable', 'The file changed while it was being read; please retry.');
        }
        return readStream(fh, range, info.size);
      },
    };
  }

  async headObject(bucket: string, key: string, opts: { versionId?: string } = {}): Promise<L.ObjectInfo> {
    const f = await this.find(bucket, key);
    checkVersion(opts.versionId, f !== null);
    if (!f) throw new S3Error('NoSuchKey');
    return this.infoOf(bucket, key, f.st);
  }

  async deleteObject(bucket: string, key: string, opts: L.DeleteOptions = {}): Promise<L.DeleteResult> {
    if (opts.replicaMarker) throw notAvailable('Bucket replication');
    await this.buckets.get(bucket);
    this.paths.segments(isFolderKey(key) ? folderPath(key) : key);
    // Only the null version exists; deleting another id deletes nothing, as in a bucket that never had it.
    if (opts.versionId !== undefined && opts.versionId !== 'null')
      return { versionId: opts.versionId, deleteMarker: false };
    await this.keyLocks.run(`${bucket}\0${key}`, async () => {
      const f = await this.find(bucket, key);
      const info = f && (await this.infoOf(bucket, key, f.st));
      if (opts.versionId === undefined) opts.precondition?.(info);
      else if (info) opts.versionGuard?.(info);
      if (!f) return;
      if (f.st.isDirectory()) {
        // A folder with content stays (its content still makes the prefix): nothing is removed.
        const removed = await rmdir(f.path).then(
          () => true,
          (e: NodeJS.ErrnoException) => (e.code === 'ENOTEMPTY' || e.code === 'EEXIST' ? false : storageError(e)),
        );
        if (removed) await this.pruneEmpty(bucket, dirname(f.path));
        return;
      }
      await rm(f.path, { force: true });
      await this.side.remove(bucket, key);
      await this.pruneEmpty(bucket, dirname(f.path));
    });
    return opts.versionId === undefined ? { deleteMarker: false } : { versionId: 'null', deleteMarker: false };
  }

  /** Removes folders left empty by a delete, up to (not including) the bucket's folder. */
  private async pruneEmpty(bucket: string, dir: string): Promise<void> {
    const base = await this.paths.bucketReal(bucket).catch(() => null);
    while (base && dir !== base && dir.startsWith(base)) {
      if ((await readdir(dir).catch(() => ['?'])).length > 0) return;
      await rmdir(dir).catch(() => {});
      dir = dirname(dir);
    }
  }

  async updateObjectMetadata(
    bucket: string,
    key: string,
    opts: Parameters<L.ObjectLayer['updateObjectMetadata']>[2],
  ): Promise<L.ObjectInfo> {
    if (opts.updateLock) throw notAvailable('Object lock');
    if (isFolderKey(key)) throw notAvailable('Metadata and tags on a folder');
    return this.keyLocks.run(`${bucket}\0${key}`, async () => {
      const f = await this.find(bucket, key);
      checkVersion(opts.versionId, f !== null);
      if (!f) throw new S3Error('NoSuchKey');
      const info = await this.infoOf(bucket, key, f.st);
      // A foreign file gets a record that keeps its ETag, so tags and metadata do not change what it is.
      const rec: ObjectRecord = {
        v: 1,
        bucket,
        key,
        ...identityOf(f.st),
        etag: info.etag,
        contentHeaders: opts.contentHeaders ?? info.contentHeaders,
        userMetadata: opts.userMetadata ?? info.userMetadata,
      };
      const tagging = opts.tagging === null ? undefined : (opts.tagging ?? info.tagging);
      if (tagging) rec.tagging = tagging;
      if (info.checksum) rec.checksum = info.checksum;
      if (info.parts) rec.parts = info.parts.map(({ lastModified, ...p }) => ({ ...p, mtime: lastModified.getTime() }));
      await this.side.write(rec);
      return toInfo(bucket, key, f.st, identityOf(f.st), rec);
    });
  }

  /** No file here holds a sealed key (SSE is refused): no version is ever sealed by `from`. */
  async replaceSealedKey(bucket: string, key: string): Promise<boolean> {
    if (!(await this.find(bucket, key))) throw new S3Error('NoSuchVersion');
    return false;
  }

  async updateReplication(): Promise<boolean> {
    throw notAvailable('Bucket replication');
  }

  async listObjects(bucket: string, o: L.ListOptions): Promise<L.ListResult> {
    const base = await this.listingBase(bucket);
    const res: L.ListResult = { objects: [], commonPrefixes: [], isTruncated: false };
    const files: { key: string; path: string }[] = [];
    await this.page(bucket, base, o.prefix ?? '', o.delimiter, o.after, o.maxKeys, res, (item) => files.push(item));
    res.objects = await this.infos(bucket, files);
    if (!res.isTruncated) delete res.nextAfter;
    return res;
  }

  async listObjectVersions(bucket: string, o: L.ListVersionsOptions): Promise<L.ListVersionsResult> {
    const base = await this.listingBase(bucket);
    const page: L.ListResult = { objects: [], commonPrefixes: [], isTruncated: false };
    const files: { key: string; path: string }[] = [];
    // One version per key: after a version-id marker, the marker's key has none left.
    const after = o.keyMarker || undefined;
    await this.page(bucket, base, o.prefix ?? '', o.delimiter, after, o.maxKeys, page, (item) => files.push(item));
    const res: L.ListVersionsResult = {
      versions: await this.infos(bucket, files),
      commonPrefixes: page.commonPrefixes,
      isTruncated: page.isTruncated,
    };
    if (page.isTruncated && page.nextAfter !== undefined) {
      res.nextKeyMarker = page.nextAfter;
      if (files.at(-1)?.key === page.nextAfter) res.nextVersionIdMarker = 'null';
    }
    return res;
  }

  private async listingBase(bucket: string): Promise<string> {
    await this.buckets.get(bucket);
    return this.paths.bucketReal(bucket);
  }

  /** One page of keys and common prefixes in S3's order; files are handed to `file` (their infos come after). */
  private async page(
    bucket: string,
    base: string,
    prefix: string,
    delimiter: string | undefined,
    after: string | undefined,
    maxKeys: number,
    res: L.ListResult,
    file: (f: { key: string; path: string }) => void,
  ): Promise<void> {
    if (maxKeys <= 0) return;
    const delim = delimiter || undefined;
    let count = 0;
    // Cairn's own bucket is read by key: its folders are never folder markers.
    const walk = { prefix, delimiter: delim, after, folders: bucket !== SYSTEM_BUCKET };
    for await (const item of walkBucket(this.paths, bucket, base, walk)) {
      const cp = commonPrefix(item, prefix, delim);
      // A prefix given as the marker (the last page ended on it) was listed already.
      if (cp !== undefined && (cp === res.commonPrefixes.at(-1) || cp === after)) continue;
      if (count === maxKeys) {
        res.isTruncated = true;
        return;
      }
      count++;
      if (cp !== undefined) res.commonPrefixes.push(cp);
      else if (item.kind !== 'prefix') file(item);
      res.nextAfter = cp ?? item.key;
    }
  }

  /**
   * Infos of listed files and folders (a stat and a side-store record each, a few at a time); those gone
   * meanwhile drop out.
   */
  private async infos(bucket: string, files: { key: string; path: string }[]): Promise<L.ObjectInfo[]> {
    const out: (L.ObjectInfo | null)[] = new Array(files.length).fill(null);
    let next = 0;
    const worker = async () => {
      while (next < files.length) {
        const i = next++;
        const st = await stat(files[i].path, { bigint: true }).catch(() => null);
        const isFolder = isFolderKey(files[i].key);
        if (isFolder ? st?.isDirectory() : st?.isFile()) out[i] = await this.infoOf(bucket, files[i].key, st!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(RECORDS_AT_ONCE, files.length) }, worker));
    return out.filter((x): x is L.ObjectInfo => x !== null);
  }

  // Multipart uploads (multipart.ts)

  async newMultipartUpload(
    ...[bucket, key, opts]: Parameters<L.ObjectLayer['newMultipartUpload']>
  ): Promise<L.MultipartUploadInfo> {
    await this.buckets.get(bucket);
    await this.paths.resolve(bucket, key);
    return this.multipart.create(bucket, key, opts);
  }

  async getMultipartUpload(bucket: string, key: string, uploadId: string): Promise<L.MultipartUploadInfo> {
    await this.buckets.get(bucket);
    return this.multipart.get(bucket, key, uploadId);
  }

  async putObjectPart(...a: Parameters<L.ObjectLayer['putObjectPart']>): Promise<L.PartInfo> {
    await this.buckets.get(a[0]);
    return this.multipart.putPart(...a);
  }

  async listParts(...a: Parameters<L.ObjectLayer['listParts']>): ReturnType<L.ObjectLayer['listParts']> {
    await this.buckets.get(a[0]);
    return this.multipart.listParts(...a);
  }

  async completeMultipartUpload(
    ...[bucket, key, uploadId, parts, opts]: Parameters<L.ObjectLayer['completeMultipartUpload']>
  ): Promise<L.ObjectInfo> {
    await this.buckets.get(bucket);
    await this.paths.resolve(bucket, key);
    return this.multipart.complete(bucket, key, uploadId, parts, opts, async (partFiles, record) => {
      const tmp = join(this.tmpDir, randomUUID());
      try {
        const fh = await open(tmp, 'wx', 0o644).catch(storageError);
        try {
          for (const p of partFiles) await appendFile(fh, p);
        } finally {
          await fh.close();
        }
        return await this.commit(bucket, key, tmp, record, opts?.precondition);
      } finally {
        await rm(tmp, { force: true });
      }
    });
  }

  async abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    await this.buckets.get(bucket);
    return this.multipart.abort(bucket, key, uploadId);
  }

  async listMultipartUploads(
    ...[bucket, opts]: Parameters<L.ObjectLayer['listMultipartUploads']>
  ): ReturnType<L.ObjectLayer['listMultipartUploads']> {
    await this.buckets.get(bucket);
    return this.multipart.list(bucket, opts);
  }

  // Background work and tiers: the gateway applies no lifecycle rules (refused, buckets.ts) and has no tiers.

  addBackgroundTask(): void {}

  attachTiers(): void {}

  async transitionObject(): Promise<L.ObjectInfo> {
    throw notAvailable('Transition to a remote tier');
  }
}

/** What a PUT may ask that a plain file cannot give. */
function refusePut(opts: L.PutOptions): void {
  if (opts.sealed) throw notAvailable('Server-side encryption (the folder holds plain files)');
  if (opts.lock?.mode || opts.lock?.retainUntil || opts.lock?.legalHold) throw notAvailable('Object lock');
  if (opts.replica) throw notAvailable('Bucket replication');
  if (opts.storageClass && opts.storageClass !== 'STANDARD') throw new S3Error('InvalidStorageClass');
}

/** Only the null version exists: another version id names nothing. */
function checkVersion(versionId: string | undefined, exists: boolean): void {
  if (versionId !== undefined && (versionId !== 'null' || !exists)) throw new S3Error('NoSuchVersion');
}

function commonPrefix(item: NasItem, prefix: string, delim: string | undefined): string | undefined {
  if (item.kind === 'prefix') return item.key;
  if (!delim) return undefined;
  const i = item.key.indexOf(delim, prefix.length);
  return i >= 0 ? item.key.slice(0, i + delim.length) : undefined;
}

function toInfo(
  bucket: string,
  key: string,
  st: BigIntStats,
  id: FileIdentity,
  rec: ObjectRecord | undefined,
): L.ObjectInfo {
  const info: L.ObjectInfo = {
    bucket,
    key,
    versionId: 'null',
    isLatest: true,
    deleteMarker: false,
    size: id.size,
    etag: rec?.etag ?? foreignEtag(id),
    lastModified: new Date(Number(st.mtimeMs)),
    storageClass: 'STANDARD',
    contentHeaders: rec?.contentHeaders ?? {},
    userMetadata: rec?.userMetadata ?? {},
  };
  if (rec?.tagging) info.tagging = rec.tagging;
  if (rec?.checksum) info.checksum = rec.checksum;
  if (rec?.parts) info.parts = rec.parts.map(({ mtime, ...p }) => ({ ...p, lastModified: new Date(mtime) }));
  return info;
}
