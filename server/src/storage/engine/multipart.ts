// Multipart uploads. Each upload has a staging directory on every drive of its key's set, keyed by a hash
// of bucket/key and the upload id: `upload.json` and, per part, its erasure-coded shard file `part.N`
// and `part.N.json`. Completing renames the chosen part files into the object's new data directory (no
// data is copied) and commits the version like a PUT. The uploads in progress are listed in key order from an
// index beside the folders (upload-index.ts).
import { createHash, randomUUID } from 'node:crypto';
import * as native from '@cairn/native';
import type { Readable } from 'node:stream';
import { S3Error } from '../../errors.js';
import { type Drive, MULTIPART_DIR } from '../drive/drive.js';
import type { ErasureInfo, LockRecord, PartRecord, VersionRecord } from '../meta/meta-file.js';
import { validateKey } from '../meta/key-path.js';
import { distinctMtime, lockRecord, newerFirst, toObjectInfo } from '../meta/versions.js';
import type * as L from '../object-layer.js';
import {
  checkChecksumChoice,
  checkExpectedSize,
  checkPartNumber,
  chooseParts,
  multipartChecksum,
  multipartEtag,
} from '../multipart-rules.js';
import type { ErasureSet } from './erasure-set.js';
import { withLock, type Locks } from '../coordination.js';
import { stagePart } from './put.js';
import type { ErasureObjects } from './erasure-objects.js';
import {
  compareEntries,
  type IndexEntry,
  readUploadDoc,
  seek,
  skipPrefix,
  UPLOAD_INDEX,
  UploadIndex,
} from './upload-index.js';

interface UploadDoc {
  info: Omit<L.MultipartUploadInfo, 'initiated'> & { initiated: number };
  contentHeaders: Record<string, string>;
  userMetadata: Record<string, string>;
  tagging?: string;
  ec: ErasureInfo;
  /** Object lock the completed object gets (absent in uploads started before object lock existed). */
  lock?: LockRecord;
  /** The object's encryption, Buffers as base64 (JSON). */
  encryption?: Record<string, string>;
}

interface PartDoc {
  number: number;
  size: number;
  etag: string;
  mtime: number;
  checksum?: string;
  /** Encrypted uploads: base64 salt of the part's stream key. */
  salt?: string;
}

/** StoredEncryption <-> JSON (upload.json): Buffers as base64. */
function encryptionToJson(e: L.StoredEncryption): Record<string, string> {
  return Object.fromEntries(
    Object.entries(e).map(([k, v]) => [k, Buffer.isBuffer(v) ? `b64:${v.toString('base64')}` : String(v)]),
  );
}

function encryptionFromJson(j: Record<string, string>): L.StoredEncryption {
  return Object.fromEntries(
    Object.entries(j).map(([k, v]) => [k, v.startsWith('b64:') ? Buffer.from(v.slice(4), 'base64') : v]),
  ) as unknown as L.StoredEncryption;
}

/** An upload's folder under its bucket's multipart folder: `<sha256(bucket/key)>/<uploadId>`. */
function uploadName(bucket: string, key: string, uploadId: string): string {
  return `${createHash('sha256').update(`${bucket}/${key}`).digest('hex')}/${uploadId}`;
}

function uploadDir(bucket: string, key: string, uploadId: string): string {
  return `${MULTIPART_DIR}/${bucket}/${uploadName(bucket, key, uploadId)}`;
}

export class Multipart {
  private readonly index: UploadIndex;

  constructor(
    private readonly objects: ErasureObjects,
    /**
     * Creating, completing, aborting, re-sealing and removing an upload hold its lock, and so does putting a part in
     * place: a finished upload's folder never comes back.
     */
    private readonly locks: Locks,
  ) {
    this.index = new UploadIndex(locks);
  }

  private locked<T>(uploadId: string, fn: () => Promise<T>): Promise<T> {
    return withLock(this.locks, `upload\0${uploadId}`, fn);
  }

  private async readUpload(set: ErasureSet, bucket: string, key: string, uploadId: string): Promise<UploadDoc> {
    if (!/^[0-9a-f-]{36}$/.test(uploadId)) throw new S3Error('NoSuchUpload');
    const dir = uploadDir(bucket, key, uploadId);
    for (const d of set.liveDrives()) {
      const raw = await d?.read(`${dir}/upload.json`).catch(() => null);
      if (!raw) continue;
      try {
        return JSON.parse(raw.toString('utf8')) as UploadDoc;
      } catch {
        // corrupt copy: try the next drive
      }
    }
    throw new S3Error('NoSuchUpload');
  }

  async create(
    bucket: string,
    key: string,
    opts: Parameters<L.ObjectLayer['newMultipartUpload']>[2],
  ): Promise<L.MultipartUploadInfo> {
    await this.objects.buckets.get(bucket);
    validateKey(key);
    if (opts.storageClass && opts.storageClass !== 'STANDARD' && opts.storageClass !== 'REDUCED_REDUNDANCY')
      throw new S3Error('InvalidStorageClass');
    checkChecksumChoice(opts.checksumAlgorithm, opts.checksumType);
    const set = this.objects.setOf(key);
    const storageClass = opts.storageClass ?? 'STANDARD';
    const info: L.MultipartUploadInfo = { bucket, key, uploadId: randomUUID(), initiated: new Date(), storageClass };
    if (opts.initiator) info.initiator = opts.initiator;
    if (opts.replicaVersionId) info.replicaVersionId = opts.replicaVersionId;
    if (opts.replicationStatus) info.replicationStatus = opts.replicationStatus;
    if (opts.checksumAlgorithm) {
      info.checksumAlgorithm = opts.checksumAlgorithm;
      info.checksumType = opts.checksumType ?? 'COMPOSITE';
    }
    const doc: UploadDoc = {
      info: { ...info, initiated: info.initiated.getTime() },
      contentHeaders: opts.contentHeaders ?? {},
      userMetadata: opts.userMetadata ?? {},
      ec: set.newErasure(key, storageClass),
    };
    if (opts.tagging) doc.tagging = opts.tagging;
    const lock = lockRecord(opts.lock);
    if (lock) doc.lock = lock;
    if (opts.encryption) {
      doc.encryption = encryptionToJson(opts.encryption);
      info.encryption = opts.encryption;
    }
    const name = uploadName(bucket, key, info.uploadId);
    const dir = `${MULTIPART_DIR}/${bucket}/${name}`;
    // Under the upload's lock, as its removal (removeStale) is: a removal that saw the folder on one drive waits
    // until every drive's copy is written, so none is written after it and outlives the index's removal line.
    const res = await this.locked(info.uploadId, () =>
      Promise.allSettled(
        set.writeDrives().map(async (d) => {
          if (!d) throw new Error('offline');
          await d.mkdirs(dir);
          // The index line first: a folder the index does not name never exists (a crash leaves a line at most).
          await this.index.created(d, bucket, name, key, doc.info.initiated);
          await d.writeAtomic(`${dir}/upload.json`, JSON.stringify(doc));
        }),
      ),
    );
    const { data, parity } = doc.ec;
    if (res.filter((r) => r.status === 'fulfilled').length < set.writeQuorum(data, parity))
      throw new S3Error('InsufficientWriteQuorum');
    return info;
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
    const set = this.objects.setOf(key);
    const up = await this.readUpload(set, bucket, key, uploadId);
    // Parts of an encrypted upload come sealed, and only they (the API seals them with the upload's key).
    if (!up.encryption !== !opts.sealed) throw new S3Error('InvalidRequest', 'The part does not match the upload.');
    const dir = uploadDir(bucket, key, uploadId);
    const tmp = set.newTemp();
    const algo = opts.checksumAlgorithm ?? up.info.checksumAlgorithm;
    try {
      const staged = await stagePart(set, up.ec, body, `${tmp}/part`, { ...opts, checksumAlgorithm: algo }, -1);
      const part: PartDoc = { number: n, size: staged.size, etag: staged.md5.toString('hex'), mtime: Date.now() };
      if (staged.checksum) part.checksum = staged.checksum.toString('base64');
      if (opts.sealed?.partSalt) part.salt = opts.sealed.partSalt.toString('base64');
      // Put in place under the upload's lock, and only while the upload is still there: completion, abort and
      // stale removal hold the same lock, and a part landing after them would bring the upload's folder back
      // with nothing left to remove it (the body may take long to arrive: the lock is not held meanwhile).
      const res = await this.locked(uploadId, async () => {
        await this.readUpload(set, bucket, key, uploadId);
        return Promise.allSettled(
          set.writeDrives().map(async (d, slot) => {
            if (!d || !staged.ok[slot]) throw new Error('missed');
            if (staged.size > 0) await d.renameInto(`${tmp}/part`, `${dir}/part.${n}`);
            else await d.unlinkIfExists(`${dir}/part.${n}`);
            await d.writeAtomic(`${dir}/part.${n}.json`, JSON.stringify(part));
          }),
        );
      });
      if (res.filter((r) => r.status === 'fulfilled').length < set.writeQuorum(up.ec.data, up.ec.parity))
        throw new S3Error('InsufficientWriteQuorum');
      return toPartInfo(part, algo, 'COMPOSITE', up);
    } finally {
      await Promise.all(set.writeDrives().map((d) => d?.remove(tmp).catch(() => {})));
    }
  }

  /** Parts as a quorum of drives reports them (the most common record per part number). */
  private async parts(set: ErasureSet, bucket: string, key: string, uploadId: string): Promise<PartDoc[]> {
    const dir = uploadDir(bucket, key, uploadId);
    const votes = new Map<string, { n: number; doc: PartDoc }>();
    await Promise.all(
      set.liveDrives().map(async (d) => {
        const names = (await d?.list(dir).catch(() => null)) ?? [];
        await Promise.all(
          names
            .filter((x) => x.endsWith('.json') && x.startsWith('part.'))
            .map(async (x) => {
              const raw = await d!.read(`${dir}/${x}`).catch(() => null);
              if (!raw) return;
              try {
                const doc = JSON.parse(raw.toString('utf8')) as PartDoc;
                const id = `${doc.number}\0${doc.etag}\0${doc.mtime}`;
                const v = votes.get(id) ?? { n: 0, doc };
                v.n++;
                votes.set(id, v);
              } catch {
                // corrupt copy
              }
            }),
        );
      }),
    );
    const best = new Map<number, { n: number; doc: PartDoc }>();
    for (const v of votes.values()) {
      const cur = best.get(v.doc.number);
      if (!cur || v.n > cur.n || (v.n === cur.n && v.doc.mtime > cur.doc.mtime)) best.set(v.doc.number, v);
    }
    return [...best.values()].map((v) => v.doc).sort((a, b) => a.number - b.number);
  }

  async listParts(
    bucket: string,
    key: string,
    uploadId: string,
    opts: { partNumberMarker?: number; maxParts: number },
  ) {
    const set = this.objects.setOf(key);
    const up = await this.readUpload(set, bucket, key, uploadId);
    const all = (await this.parts(set, bucket, key, uploadId)).filter((p) => p.number > (opts.partNumberMarker ?? 0));
    const page = all.slice(0, opts.maxParts);
    const isTruncated = all.length > page.length;
    return {
      upload: uploadInfo(up),
      parts: page.map((p) => toPartInfo(p, up.info.checksumAlgorithm, up.info.checksumType, up)),
      isTruncated,
      ...(isTruncated ? { nextPartNumberMarker: page[page.length - 1].number } : {}),
    };
  }

  complete(
    bucket: string,
    key: string,
    uploadId: string,
    chosen: L.CompletePart[],
    opts?: L.CompleteOptions,
  ): Promise<L.ObjectInfo> {
    return this.locked(uploadId, () => this.completeLocked(bucket, key, uploadId, chosen, opts));
  }

  private async completeLocked(
    bucket: string,
    key: string,
    uploadId: string,
    chosen: L.CompletePart[],
    opts?: L.CompleteOptions,
  ): Promise<L.ObjectInfo> {
    const set = this.objects.setOf(key);
    const versioning = await this.objects.versioning(bucket);
    const up = await this.readUpload(set, bucket, key, uploadId);
    // Sizes as the client sent them (sealed parts are stored a little larger).
    const plain = (p: PartDoc) => (up.encryption ? Math.max(native.aeadPlainLength(p.size), 0) : p.size);
    const parts = chooseParts(chosen, await this.parts(set, bucket, key, uploadId), plain);
    const replicaId = up.info.replicaVersionId;
    const now = (replicaId !== undefined ? opts?.replicaMtime?.getTime() : undefined) ?? Date.now();
    const dir = uploadDir(bucket, key, uploadId);
    const dataDir = randomUUID();
    const version: VersionRecord = {
      id: replicaId ?? (versioning === 'Enabled' ? randomUUID() : 'null'),
      type: 'object',
      uid: randomUUID(),
      mtime: now,
      size: parts.reduce((s, p) => s + p.size, 0),
      etag: multipartEtag(parts),
      storageClass: up.info.storageClass,
      contentHeaders: up.contentHeaders,
      userMetadata: up.userMetadata,
      ec: up.ec,
      dataDir,
      parts: parts.map((p): PartRecord => {
        const r: PartRecord = { number: p.number, size: p.size, etag: p.etag, mtime: p.mtime };
        if (p.salt) r.sealSalt = Buffer.from(p.salt, 'base64');
        if (p.checksum && up.info.checksumAlgorithm)
          r.checksum = { algorithm: up.info.checksumAlgorithm, type: 'COMPOSITE', value: p.checksum };
        return r;
      }),
    };
    if (up.tagging) version.tagging = up.tagging;
    if (up.lock) version.lock = up.lock;
    if (up.info.replicationStatus) version.replication = up.info.replicationStatus;
    else if (opts?.replicationStatus) {
      version.replication = opts.replicationStatus;
      if (opts.replicationTargets) version.replicationTargets = opts.replicationTargets;
    }
    if (up.encryption) version.encryption = encryptionFromJson(up.encryption);
    const checksum = multipartChecksum(up.info.checksumAlgorithm, up.info.checksumType, parts, plain);
    if (checksum) version.checksum = checksum;
    opts?.verifyChecksum?.(version.checksum);
    checkExpectedSize(
      parts.reduce((n, p) => n + plain(p), 0),
      opts?.expectedSize,
    );
    const withData = parts.filter((p) => p.size > 0);
    await set.mutate(bucket, key, {
      check: (resolved) => {
        if (replicaId === undefined) version.mtime = distinctMtime(version.mtime, resolved.versions, version.id);
        const latest = resolved.versions[0];
        opts?.precondition?.(latest && latest.type === 'object' ? toObjectInfo(bucket, key, latest, true) : null);
      },
      apply: (cur) => [version, ...cur.filter((v) => v.id !== version.id)].sort(newerFirst),
      stage: async (d, _slot, objRel) => {
        await d.mkdirs(`${objRel}/${dataDir}`);
        for (const p of withData)
          await d.renameInto(`${dir}/part.${p.number}`, `${objRel}/${dataDir}/part.${p.number}`);
      },
      unstage: async (d, _slot, objRel) => {
        for (const p of withData)
          await d.renameInto(`${objRel}/${dataDir}/part.${p.number}`, `${dir}/part.${p.number}`).catch(() => {});
        await d.remove(`${objRel}/${dataDir}`);
      },
    });
    await Promise.all(set.writeDrives().map((d) => d?.remove(dir).catch(() => {})));
    await this.index.removed(set, bucket, uploadName(bucket, key, uploadId));
    return toObjectInfo(bucket, key, version, true);
  }

  async get(bucket: string, key: string, uploadId: string): Promise<L.MultipartUploadInfo> {
    return uploadInfo(await this.readUpload(this.objects.setOf(key), bucket, key, uploadId));
  }

  abort(bucket: string, key: string, uploadId: string): Promise<void> {
    return this.locked(uploadId, async () => {
      const set = this.objects.setOf(key);
      await this.readUpload(set, bucket, key, uploadId);
      const dir = uploadDir(bucket, key, uploadId);
      await Promise.all(set.writeDrives().map((d) => d?.remove(dir).catch(() => {})));
      await this.index.removed(set, bucket, uploadName(bucket, key, uploadId));
    });
  }

  /**
   * Key rotation: every copy of the upload's document whose sealed key is still `from` gets `to` (the same data
   * key sealed anew), each written atomically on the drive that holds it; drives without the upload are left
   * alone. Under the upload's lock, so an upload completed or aborted meanwhile is not brought back.
   */
  replaceSealedKey(bucket: string, key: string, uploadId: string, from: Buffer, to: Buffer): Promise<boolean> {
    return this.locked(uploadId, async () => {
      const set = this.objects.setOf(key);
      await this.readUpload(set, bucket, key, uploadId); // NoSuchUpload when it is gone
      const dir = uploadDir(bucket, key, uploadId);
      let replaced = 0;
      await Promise.all(
        set.writeDrives().map(async (d) => {
          const raw = await d?.read(`${dir}/upload.json`).catch(() => null);
          if (!d || !raw) return;
          let doc: UploadDoc;
          try {
            doc = JSON.parse(raw.toString('utf8')) as UploadDoc;
          } catch {
            return; // a corrupt copy: the others decide
          }
          const enc = doc.encryption && encryptionFromJson(doc.encryption);
          if (!enc?.sealedKey?.equals(from)) return;
          const next: UploadDoc = { ...doc, encryption: encryptionToJson({ ...enc, sealedKey: to }) };
          await d.writeAtomic(`${dir}/upload.json`, JSON.stringify(next));
          replaced++;
        }),
      );
      return replaced > 0;
    });
  }

  /**
   * A page of the uploads in progress, by key then initiation time (AWS's order), from the index of each set
   * (upload-index.ts): a binary search to the marker, then the page's uploads merged over the sets, each read
   * from its folder (an index line without its folder is not listed). Common prefixes are skipped whole.
   */
  async list(
    bucket: string,
    opts: { prefix?: string; delimiter?: string; keyMarker?: string; uploadIdMarker?: string; maxUploads: number },
  ): ReturnType<L.ObjectLayer['listMultipartUploads']> {
    await this.objects.buckets.get(bucket);
    const prefix = opts.prefix ?? '';
    const sets = await Promise.all(
      this.objects.sets.map(async (set) => {
        const s = await this.index.current(set, bucket);
        return { set, s, arr: s.snapshot(), pos: 0 };
      }),
    );
    // Where the page starts: after the marker's upload, or after every upload of the key marker (an upload id
    // marker of another key, or of an upload that is gone, as if none was given).
    let start = { key: prefix, t: -Infinity, id: '' };
    let after = false;
    const km = opts.keyMarker;
    if (km !== undefined && km >= prefix) {
      const m = opts.uploadIdMarker
        ? sets.map((x) => x.s.byId.get(opts.uploadIdMarker!)).find((e) => e?.key === km)
        : undefined;
      start = m ?? { key: km, t: Infinity, id: '' };
      after = m !== undefined;
    }
    for (const x of sets) x.pos = seek(x.arr, start, after);
    /** The next entry over every set (sets whose next key is past the prefix are done). */
    const head = () => {
      let best: (typeof sets)[number] | undefined;
      for (const x of sets) {
        const e = x.arr[x.pos];
        if (!e) continue;
        if (!e.key.startsWith(prefix)) x.pos = x.arr.length;
        else if (!best || compareEntries(e, best.arr[best.pos]) < 0) best = x;
      }
      return best;
    };
    const out = {
      uploads: [] as L.MultipartUploadInfo[],
      commonPrefixes: [] as string[],
      isTruncated: false,
    } as Awaited<ReturnType<L.ObjectLayer['listMultipartUploads']>>;
    const delim = opts.delimiter || undefined;
    for (;;) {
      // One more than the page still needs (to know whether it is truncated), read from their folders at once.
      const need = opts.maxUploads - out.uploads.length - out.commonPrefixes.length + 1;
      const batch: ({ cp: string } | { e: IndexEntry; set: ErasureSet })[] = [];
      while (batch.length < need) {
        const h = head();
        if (!h) break;
        const e = h.arr[h.pos];
        const i = delim ? e.key.indexOf(delim, prefix.length) : -1;
        if (i < 0) {
          h.pos++;
          batch.push({ e, set: h.set });
          continue;
        }
        const cp = e.key.slice(0, i + delim!.length);
        for (const x of sets) if (x.arr[x.pos]?.key.startsWith(cp)) x.pos = skipPrefix(x.arr, x.pos, cp);
        // The page before ended on this prefix (its NextKeyMarker): its uploads were rolled up there.
        if (cp !== km) batch.push({ cp });
      }
      if (batch.length === 0) return out;
      const docs = await Promise.all(
        batch.map((b) =>
          'e' in b ? readUploadDoc<UploadDoc>(b.set.liveDrives(), `${MULTIPART_DIR}/${bucket}/${b.e.n}`) : null,
        ),
      );
      for (const [k, b] of batch.entries()) {
        const doc = docs[k];
        if ('e' in b && !doc) {
          void this.index.phantom(b.set, bucket, b.e).catch(() => {}); // changes a copy, not this page's
          continue;
        }
        if (out.uploads.length + out.commonPrefixes.length >= opts.maxUploads) {
          out.isTruncated = true;
          return out;
        }
        if ('cp' in b) {
          out.commonPrefixes.push(b.cp);
          out.nextKeyMarker = b.cp;
          out.nextUploadIdMarker = undefined;
        } else {
          out.uploads.push(uploadInfo(doc!));
          out.nextKeyMarker = b.e.key;
          out.nextUploadIdMarker = b.e.id;
        }
      }
    }
  }

  /**
   * Removes every upload started before `cutoff` (ms since epoch), parts and all, in every bucket. S3 keeps an
   * unfinished upload until a lifecycle rule aborts it; Cairn, as MinIO, also drops it after a while
   * (CAIRN_API_STALE_UPLOADS_EXPIRY), so forgotten uploads do not hold space for ever. Returns how many went.
   */
  async removeStale(cutoff: number): Promise<number> {
    const gone = new Set<string>();
    const list = async (d: Drive, dir: string) => (await d.list(dir).catch(() => null)) ?? [];
    for (const d of this.objects.allDrives()) {
      for (const bucket of await list(d, MULTIPART_DIR)) {
        for (const h of await list(d, `${MULTIPART_DIR}/${bucket}`)) {
          if (h === UPLOAD_INDEX) continue;
          for (const id of await list(d, `${MULTIPART_DIR}/${bucket}/${h}`)) {
            const dir = `${MULTIPART_DIR}/${bucket}/${h}/${id}`;
            if (gone.has(dir)) continue;
            const raw = await d.read(`${dir}/upload.json`).catch(() => null);
            let initiated: number | undefined;
            try {
              initiated = raw ? (JSON.parse(raw.toString('utf8')) as UploadDoc).info.initiated : undefined;
            } catch {
              // a corrupt copy: another drive's decides
            }
            if (initiated === undefined || initiated >= cutoff) continue;
            gone.add(dir);
            // Under the upload's lock: not while it is being created (create) or completed or aborted.
            await this.locked(id, async () => {
              await Promise.all(this.objects.allDrives().map((x) => x.remove(dir).catch(() => {})));
              await this.index.removed(this.objects.sets[d.setIndex], bucket, `${h}/${id}`);
            });
          }
        }
      }
    }
    return gone.size;
  }

  /** A bucket was made: its empty upload index. */
  newBucket(bucket: string): Promise<void> {
    return this.index.init(this.objects.allDrives(), bucket);
  }

  /**
   * Drops every upload in progress in the bucket. DeleteBucket does this as AWS does: uploads that were never
   * completed do not keep a bucket from being deleted (only objects, versions and delete markers do).
   */
  async removeAll(bucket: string): Promise<void> {
    this.index.forget(bucket);
    await Promise.all(this.objects.allDrives().map((d) => d?.remove(`${MULTIPART_DIR}/${bucket}`).catch(() => {})));
  }
}

function uploadInfo(up: UploadDoc): L.MultipartUploadInfo {
  const info: L.MultipartUploadInfo = { ...up.info, initiated: new Date(up.info.initiated) };
  if (up.encryption) info.encryption = encryptionFromJson(up.encryption);
  if (up.tagging) info.tagging = up.tagging;
  return info;
}

function toPartInfo(
  p: PartDoc,
  algo: L.ChecksumAlgorithm | undefined,
  type: L.ChecksumType | undefined,
  up: UploadDoc,
): L.PartInfo {
  const size = up.encryption ? Math.max(native.aeadPlainLength(p.size), 0) : p.size;
  const out: L.PartInfo = { number: p.number, size, etag: p.etag, lastModified: new Date(p.mtime) };
  if (p.checksum && algo) out.checksum = { algorithm: algo, type: type ?? 'COMPOSITE', value: p.checksum };
  if (p.salt) out.sealSalt = Buffer.from(p.salt, 'base64');
  return out;
}
