// The NAS gateway's side store: what S3 keeps about an object that a plain file cannot hold (content
// headers, user metadata, tags, checksum, parts, the ETag of what Cairn wrote), in the hidden area
// `.cairn.sys/meta/` of the served folder, never in the tree itself. A record names the file it describes by
// identity (inode, size, modification time in ns): a file changed behind Cairn's back no longer matches and
// is served as a foreign file again (its ETag derived from its identity), so nothing stale is ever answered.
// Records are found by a hash of bucket and key, and by inode (`ino/`): a file renamed by someone else keeps
// its inode and times, so its record follows it to its new key on the next request.
import { createHash, randomUUID } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PartInfo, StoredChecksum } from '../object-layer.js';

/** Records kept in memory (positive and negative), oldest out first: a few hundred bytes each. */
const CACHED_RECORDS = 50_000;

/** What identifies the bytes of a file: the same inode, size and modification time. */
export interface FileIdentity {
  ino: string;
  size: number;
  mtimeNs: string;
}

export interface ObjectRecord extends FileIdentity {
  v: 1;
  bucket: string;
  key: string;
  etag: string;
  contentHeaders: Record<string, string>;
  userMetadata: Record<string, string>;
  tagging?: string;
  checksum?: StoredChecksum;
  /** A multipart object's parts (lastModified as epoch ms). */
  parts?: (Omit<PartInfo, 'lastModified'> & { mtime: number })[];
}

export function identityOf(st: BigIntStats): FileIdentity {
  return { ino: st.ino.toString(), size: Number(st.size), mtimeNs: st.mtimeNs.toString() };
}

export function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs;
}

/**
 * The ETag of a file Cairn did not write: stable while the file is unchanged, new when it changes (another
 * size, time or inode). Not an MD5 of the data (reading every file to answer a listing is out of question),
 * as S3's ETags of multipart objects are not, and shaped like theirs (`-1` after the hex) so that clients do
 * not take it for the data's MD5: rclone, for one, checks a plain 32-hex ETag against the bytes it read and
 * calls the file corrupt. MinIO's fs mode marked such files the same way (`00000000000000000000000000000000-1`).
 */
export function foreignEtag(id: FileIdentity): string {
  return `${createHash('md5').update(`cairn-nas:${id.ino}:${id.size}:${id.mtimeNs}`).digest('hex')}-1`;
}

export class SideStore {
  private readonly cache = new Map<string, ObjectRecord | null>();
  private readonly inodes = new Map<string, { bucket: string; key: string } | null>();
  private readonly dir: string;

  constructor(
    hidden: string,
    private readonly tmpDir: string,
  ) {
    this.dir = join(hidden, 'meta');
  }

  private pathOf(bucket: string, key: string): string {
    const h = createHash('sha256').update(`${bucket}\0${key}`).digest('hex');
    return join(this.dir, 'keys', h.slice(0, 2), `${h}.json`);
  }

  private inoPath(ino: string): string {
    return join(this.dir, 'ino', ino.slice(-2).padStart(2, '0'), `${ino}.json`);
  }

  /** The record of `bucket/key` if it describes the file `id` now there; a renamed file's record follows it. */
  async find(bucket: string, key: string, id: FileIdentity): Promise<ObjectRecord | undefined> {
    const own = await this.read(bucket, key);
    if (own && sameFile(own, id)) return own;
    // The file may be one Cairn wrote under another key and someone renamed (same inode, size and time).
    const moved = await this.byInode(id.ino);
    if (!moved || (moved.bucket === bucket && moved.key === key)) return undefined;
    const from = await this.read(moved.bucket, moved.key);
    if (!from || !sameFile(from, id)) return undefined;
    const adopted: ObjectRecord = { ...from, bucket, key };
    await this.write(adopted);
    return adopted;
  }

  /** Stores (replaces) the record of its bucket/key, and points its inode at it. */
  async write(rec: ObjectRecord): Promise<void> {
    await this.writeAtomic(this.pathOf(rec.bucket, rec.key), JSON.stringify(rec));
    await this.writeAtomic(this.inoPath(rec.ino), JSON.stringify({ bucket: rec.bucket, key: rec.key }));
    remember(this.inodes, rec.ino, { bucket: rec.bucket, key: rec.key });
    remember(this.cache, `${rec.bucket}\0${rec.key}`, rec);
  }

  /** Which key's record last named this inode (cached, misses too: a listing of foreign files reads nothing twice). */
  private async byInode(ino: string): Promise<{ bucket: string; key: string } | null> {
    const hit = this.inodes.get(ino);
    if (hit !== undefined) return hit;
    const found = await readJson<{ bucket: string; key: string }>(this.inoPath(ino));
    remember(this.inodes, ino, found);
    return found;
  }

  async remove(bucket: string, key: string): Promise<void> {
    await rm(this.pathOf(bucket, key), { force: true });
    remember(this.cache, `${bucket}\0${key}`, null);
  }

  private async read(bucket: string, key: string): Promise<ObjectRecord | null> {
    const k = `${bucket}\0${key}`;
    const hit = this.cache.get(k);
    if (hit !== undefined) return hit;
    const rec = await readJson<ObjectRecord>(this.pathOf(bucket, key));
    const ok = rec && rec.v === 1 && rec.bucket === bucket && rec.key === key ? rec : null;
    remember(this.cache, k, ok);
    return ok;
  }

  /** Writes a small file whole or not at all (temp file + rename). */
  async writeAtomic(path: string, text: string): Promise<void> {
    const tmp = join(this.tmpDir, `${randomUUID()}.json`);
    await writeFile(tmp, text);
    try {
      await rename(tmp, path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      await mkdir(join(path, '..'), { recursive: true });
      await rename(tmp, path);
    }
  }
}

/** Keeps `v` under `k` as the newest entry; the oldest goes past CACHED_RECORDS. */
function remember<V>(m: Map<string, V>, k: string, v: V): void {
  m.delete(k);
  m.set(k, v);
  if (m.size > CACHED_RECORDS) m.delete(m.keys().next().value as string);
}

/** A JSON file's content, or null when it is missing or not JSON. */
export async function readJson<T>(path: string): Promise<T | null> {
  const raw = await readFile(path, 'utf8').catch(() => null);
  if (raw === null) return null;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return null;
  }
}
