// Cairn's own entries of an object's metadata (`cairn:NAME`: the object's ACL) changed on their own, as
// PutObjectAcl changes them, kept in the S3 gateway's state folder rather than written to the backend: the
// backend can change an object's metadata only by copying the object onto itself, which gives it a new
// modification time (S3 keeps it: test_object_put_acl_mtime) and, in a bucket with versions, makes a new version
// (PutObjectAcl on a version must not). One small JSON file per version, `gateway-meta/BUCKET/HASH.json` (HASH: of
// key and version id), naming the version's ETag and modification time as the backend answered them: a version
// replaced or rewritten since (through the gateway or on the backend directly) no longer matches, and its record
// is dropped on the next read, so nothing stale is answered. Written through the gateway, a new object takes its
// entries with it to the backend (x-amz-meta-cairn-gw-*, convert.ts), and a record of the version it replaces
// goes. One process writes the folder (`--workers 1`): the names of each bucket's records are read once and kept
// in memory, so a read of an object without a record costs no file system call.
import { createHash } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { KeyedMutex } from '../coordination.js';
import type { ObjectInfo } from '../object-layer.js';
import { readJson, type SideStore } from '../nas/side-store.js';

/** Cairn's own user metadata entries (api/acl.ts's OBJECT_ACL_META is one). */
export const INTERNAL = 'cairn:';

interface MetaDoc {
  v: 1;
  key: string;
  versionId: string;
  etag: string;
  /** The version's modification time as the backend answers it (ms since the epoch). */
  mtime: number;
  /** The version's `cairn:*` entries (none: it has none, whatever the backend's copy says). */
  internal: Record<string, string>;
}

/** The `cairn:*` entries of user metadata. */
export function internalEntries(meta: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(meta)) if (k.startsWith(INTERNAL)) out[k] = v;
  return out;
}

/** Whether `next` differs from `current` only in `cairn:*` entries. */
export function onlyInternalChanged(current: Record<string, string>, next: Record<string, string>): boolean {
  const plain = (m: Record<string, string>) => Object.entries(m).filter(([k]) => !k.startsWith(INTERNAL));
  const a = plain(current);
  const b = new Map(plain(next));
  return a.length === b.size && a.every(([k, v]) => b.get(k) === v);
}

export class InternalMeta {
  /** Per bucket, the hashes (file names without .json) of its records. */
  private readonly names = new Map<string, Promise<Set<string>>>();
  private readonly locks = new KeyedMutex();

  constructor(
    private readonly dir: string,
    private readonly side: SideStore,
  ) {}

  private static hash(key: string, versionId: string): string {
    return createHash('sha256').update(key).update('\0').update(versionId).digest('hex');
  }

  private bucketDir(bucket: string): string {
    return join(this.dir, bucket);
  }

  private known(bucket: string): Promise<Set<string>> {
    let p = this.names.get(bucket);
    if (!p) {
      p = readdir(this.bucketDir(bucket)).then(
        (files) => new Set(files.filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5))),
        () => new Set<string>(),
      );
      this.names.set(bucket, p);
    }
    return p;
  }

  /** Puts the version's kept `cairn:*` entries in `info.userMetadata` (in place of the backend's), when it has a record. */
  async apply(info: ObjectInfo): Promise<ObjectInfo> {
    if (info.deleteMarker) return info;
    const h = InternalMeta.hash(info.key, info.versionId);
    if (!(await this.known(info.bucket)).has(h)) return info;
    const doc = await readJson<MetaDoc>(join(this.bucketDir(info.bucket), `${h}.json`));
    if (doc?.v !== 1 || doc.key !== info.key || doc.versionId !== info.versionId) return info;
    if (doc.etag !== info.etag || doc.mtime !== info.lastModified.getTime()) {
      await this.remove(info.bucket, info.key, info.versionId); // the version was replaced or rewritten since
      return info;
    }
    const meta: Record<string, string> = {};
    for (const [k, v] of Object.entries(info.userMetadata)) if (!k.startsWith(INTERNAL)) meta[k] = v;
    for (const [k, v] of Object.entries(doc.internal ?? {}))
      if (k.startsWith(INTERNAL) && typeof v === 'string') meta[k] = v;
    info.userMetadata = meta;
    return info;
  }

  /** Keeps `internal` as the `cairn:*` entries of the version `info` describes (as the backend has it now). */
  async set(info: ObjectInfo, internal: Record<string, string>): Promise<void> {
    const doc: MetaDoc = {
      v: 1,
      key: info.key,
      versionId: info.versionId,
      etag: info.etag,
      mtime: info.lastModified.getTime(),
      internal,
    };
    const h = InternalMeta.hash(info.key, info.versionId);
    await this.locks.run(`${info.bucket}/${h}`, async () => {
      await this.side.writeAtomic(join(this.bucketDir(info.bucket), `${h}.json`), JSON.stringify(doc));
      (await this.known(info.bucket)).add(h);
    });
  }

  /** Drops a version's record (it was deleted or replaced through the gateway). */
  async remove(bucket: string, key: string, versionId: string): Promise<void> {
    const h = InternalMeta.hash(key, versionId);
    const names = await this.known(bucket);
    if (!names.has(h)) return;
    await this.locks.run(`${bucket}/${h}`, async () => {
      await rm(join(this.bucketDir(bucket), `${h}.json`), { force: true });
      names.delete(h);
    });
  }

  /** Drops a bucket's records (the bucket was deleted). */
  async removeBucket(bucket: string): Promise<void> {
    await rm(this.bucketDir(bucket), { recursive: true, force: true });
    this.names.set(bucket, Promise.resolve(new Set()));
  }
}
