// One erasure set: n drives, objects striped over all of them. Holds the write protocol (stage shards in
// the temp area, then per drive: rename data into place and replace the metadata file; success needs a
// write quorum, otherwise every drive that committed is rolled back) and the read path.
import { randomUUID } from 'node:crypto';
import { dirname, basename } from 'node:path';
import { crc32 } from 'node:zlib';
import { S3Error } from '../../errors.js';
import type { StorageContext } from '../context.js';
import { type Drive, errCode, type Grouping, type WriteOpts } from '../drive/drive.js';
import { FORMAT_FILE } from '../drive/format.js';
import { encodeMeta, META_NAME, type ErasureInfo, type VersionRecord } from '../meta/meta-file.js';
import { objectDir } from '../meta/key-path.js';
import { readDriveMeta, resolveVersions, versionKey, type DriveMeta, type Resolved } from '../meta/versions.js';
import type { RemoteObject, StorageClass } from '../object-layer.js';
import { type JournalRec, latestOf, type Journals, type Latest, sameLatest } from '../list/journal.js';
import type { Locks } from '../coordination.js';
import { dataDirId, type Reaper } from './reaper.js';
import type { ReapLog } from './reap-log.js';
import { OldestKeys } from '../oldest-keys.js';

export interface SetDeps {
  ctx: StorageContext;
  journals: Journals;
  /** Object locks: in-process, or across the workers sharing the drives (coordination.ts). */
  locks: Locks;
  parity: Record<StorageClass, number>;
  /** An object needs healing (missed write, bad shard seen by a read). */
  queueHeal(setIndex: number, bucket: string, key: string, deep?: boolean): void;
  /** Something in this directory changed: drop cached listings (here and in every process sharing the drives). */
  dirChanged(setIndex: number, bucket: string, dirRel: string): Promise<void>;
  /**
   * The latest version of a key changed (null: no versions left): update cached listings, here and in every
   * process sharing the drives; resolves once all have.
   */
  entryChanged(setIndex: number, bucket: string, dirRel: string, key: string, latest: Latest | null): Promise<void>;
  reaper: Reaper;
  /** A committed change dropped versions whose data is in a remote tier (their remote objects are garbage). */
  remotesReleased(remotes: RemoteObject[]): Promise<void>;
  /** Removals written down on the drives before the data they remove becomes unreachable (reap-log.ts). */
  reapLog: ReapLog;
}

/** Data dirs of versions in `old` that `next` no longer has: removed once the change is committed. */
function goneDataDirs(old: VersionRecord[], next: VersionRecord[]): string[] {
  const keep = new Set(next.map((v) => v.dataDir));
  return old.flatMap((v) => (v.dataDir && !keep.has(v.dataDir) ? [v.dataDir] : []));
}

/** The lock name of an object: one writer (or healer) at a time, whichever process it runs in. */
export function objectLockName(setIndex: number, objRel: string): string {
  return `${setIndex}\0${objRel}`;
}

export interface Mutation {
  /** New version list of one drive from its current one (null when its metadata is missing/corrupt). */
  apply(current: VersionRecord[], slot: number): VersionRecord[];
  /** Checked once under the lock with what the quorum says (preconditions). */
  check?(resolved: Resolved): void;
  /**
   * Per drive, before its metadata is written: move staged data into the object dir. `fresh`: the drive had no
   * metadata of the object (a new key), so the object dir is most likely missing (make it first).
   */
  stage?(drive: Drive, slot: number, objRel: string, fresh: boolean): Promise<void>;
  /** Undo `stage` on a drive (the write failed). */
  unstage?(drive: Drive, slot: number, objRel: string): Promise<void>;
  /** Only these slots take part (others missed the data). Default: all online. */
  slots?: boolean[];
  /** Versions the change drops keep their remote tier data (a move to another pool: its copies name it). */
  keepRemotes?: boolean;
}

type Answer = { metas: DriveMeta[]; resolved: Resolved };
interface KeptAnswer {
  /** When the metadata read began (Date.now()). */
  at: number;
  writes: number;
  online: boolean[];
  answer: Answer;
}

/** Objects whose metadata answers are kept at most, per set. */
const MAX_KEPT = 1024;
/**
 * Last metadata answers kept as hints (lastRead), per set, and for how long: long enough for a reader's next
 * request of the same file (DuckDB asks a Parquet file's footer, then its column chunks one by one).
 */
const MAX_HINTS = 256;
/** Keys whose folders objRel keeps, per set. */
const MAX_RELS = 256;
const HINT_MS = 5000;
/** Answers with more inline data than this (all drives' copies) are not kept: memory, for a small gain. */
const MAX_KEPT_INLINE_BYTES = 64 * 1024;
/**
 * A metadata change's reads and writes (the metadata read, the "pending" line, the metadata file, the result
 * line): every drive of the set is asked in the same turn and the change waits for all of them, so each step is
 * one pool task for the set, not one per drive (one pool thread woken instead of four; futex calls per PUT,
 * bench/warp/README.md).
 */
const GROUPED: Grouping = { grouped: true };
/** The metadata write of a key new on the drive: its folder made before the rename (Drive.writeAtomic). */
const FRESH: WriteOpts = { grouped: true, fresh: true };

function sameOnline(a: boolean[], b: boolean[]): boolean {
  for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function keepable(metas: DriveMeta[]): boolean {
  let inline = 0;
  for (const m of metas)
    for (const v of m.meta?.versions ?? []) for (const b of v.inline ?? []) if (b) inline += b.length;
  return inline <= MAX_KEPT_INLINE_BYTES;
}

export class ErasureSet {
  /** online[i] = drive i answered its last probe; writable[i] = and it can be written. */
  readonly online: boolean[];
  readonly writable: boolean[];
  /** Metadata writes so far, and the metadata reads in flight (resolveForRead). */
  private writes = 0;
  private readonly resolving = new Map<
    string,
    { writes: number; answer: Promise<{ metas: DriveMeta[]; resolved: Resolved }> }
  >();
  /** Answers of resolveForRead kept for ctx.metadataCacheMs (off at 0), oldest first (see resolveForRead). */
  private readonly kept = new Map<string, KeptAnswer>();
  /** The last metadata answer of each object lately read, oldest first: hints only (see lastRead). */
  private readonly hints = new Map<string, { at: number; answer: Answer }>();
  /** Folders of the keys asked for lately (objRel), oldest first. */
  private readonly rels = new Map<string, string>();
  private readonly oldestRel = new OldestKeys(this.rels);
  /** Per drive: whether its format file was there, and when that was asked (formatPresent). */
  private readonly formatSeen = new Map<Drive, { at: number; present: Promise<boolean> }>();

  constructor(
    readonly index: number,
    readonly drives: Drive[],
    readonly deps: SetDeps,
  ) {
    // A drive found unmounted when it was opened (drive/mount-guard.ts) starts offline: nothing is written to it.
    this.online = drives.map((d) => d.lastError !== 'unmounted');
    this.writable = [...this.online];
    const group = `set ${index} ${randomUUID()}`;
    for (const d of drives) d.readGroup = group;
  }

  get size(): number {
    return this.drives.length;
  }

  layout(storageClass: StorageClass): { data: number; parity: number } {
    // At most half the set: openStorage (storage/index.ts) caps it.
    const parity = this.deps.parity[storageClass];
    return { data: this.size - parity, parity };
  }

  writeQuorum(data: number, parity: number): number {
    return data === parity ? data + 1 : data;
  }

  get defaultData(): number {
    return this.layout('STANDARD').data;
  }

  /** Erasure layout of a new object: shard order rotated by a hash of the key, recorded in metadata. */
  newErasure(key: string, storageClass: StorageClass): ErasureInfo {
    const { data, parity } = this.layout(storageClass);
    const n = this.size;
    const start = crc32(key) % n;
    const dist = Array.from({ length: n }, (_, i) => 1 + ((i + n - start) % n));
    return { data, parity, blockSize: this.deps.ctx.blockSize, dist, bitrot: 'highwayhash256' };
  }

  /** Drives to read from (null where offline). */
  liveDrives(): (Drive | null)[] {
    return this.drives.map((d, i) => (this.online[i] ? d : null));
  }

  /** Drives to write to (null where offline or read-only, e.g. a file system remounted read-only). */
  writeDrives(): (Drive | null)[] {
    return this.drives.map((d, i) => (this.online[i] && this.writable[i] ? d : null));
  }

  /**
   * The object's folder relative to a drive. A GET asks for it some ten times (metadata read, early batch, shard
   * paths, cache identities), and objectDir escapes and splits every segment: the last keys' folders are kept.
   */
  objRel(bucket: string, key: string): string {
    const k = `${bucket}/${key}`; // a bucket name has no '/': one string per (bucket, key)
    let rel = this.rels.get(k);
    if (rel === undefined) {
      rel = `${bucket}/${objectDir(key)}`;
      if (this.rels.size >= MAX_RELS) this.rels.delete(this.oldestRel.next()!);
      this.rels.set(k, rel);
    }
    return rel;
  }

  async readMetas(bucket: string, key: string, opts?: Grouping): Promise<DriveMeta[]> {
    const rel = this.objRel(bucket, key);
    return Promise.all(this.liveDrives().map((d) => readDriveMeta(d, rel, opts)));
  }

  async resolve(bucket: string, key: string, opts?: Grouping): Promise<{ metas: DriveMeta[]; resolved: Resolved }> {
    let metas = await this.readMetas(bucket, key, opts);
    let resolved = resolveVersions(metas, this.defaultData);
    if (resolved.versions.length === 0 && metas.some((m) => m.state === 'missing')) {
      // "No such object" only from drives that are still themselves: a drive whose folder vanished (deleted,
      // or its file system unmounted before the next drive check) answers "missing" for everything, and
      // enough of them would turn an existing object into a 404. Counted offline, they make it a 503.
      metas = await this.confirmMissing(metas);
      resolved = resolveVersions(metas, this.defaultData);
    }
    if (resolved.answered < this.defaultData) throw new S3Error('InsufficientReadQuorum');
    return { metas, resolved };
  }

  /** `metas` with the "missing" answers of drives that have lost their format file turned into "offline". */
  private async confirmMissing(metas: DriveMeta[]): Promise<DriveMeta[]> {
    const present = await Promise.all(
      metas.map((m, i) => (m.state === 'missing' ? this.formatPresent(this.drives[i]) : true)),
    );
    return metas.map((m, i) => (present[i] ? m : { state: 'offline', meta: null }));
  }

  /** Whether the drive still holds its format file; asked at most once a second per drive (404s can be many). */
  private formatPresent(drive: Drive): Promise<boolean> {
    const now = Date.now();
    const seen = this.formatSeen.get(drive);
    if (seen && now - seen.at < 1000) return seen.present;
    const present = drive.stat(FORMAT_FILE).then(
      (st) => st !== null,
      () => false,
    );
    this.formatSeen.set(drive, { at: now, present });
    return present;
  }

  /**
   * resolve() for GET and HEAD: reads of one object that arrive while one is reading its metadata share
   * that read (concurrent ranges of one file), unless a write committed since it began (a read that
   * starts after a write returned must see it). The answer is shared: read it, never change it.
   */
  resolveForRead(bucket: string, key: string): Promise<{ metas: DriveMeta[]; resolved: Resolved }> {
    const rel = this.objRel(bucket, key);
    const current = this.resolving.get(rel);
    if (current && current.writes === this.writes) return current.answer;
    const ttl = this.deps.ctx.metadataCacheMs;
    const now = ttl > 0 ? Date.now() : 0;
    if (ttl > 0) {
      const k = this.kept.get(rel);
      if (k && k.writes === this.writes && now - k.at < ttl && sameOnline(k.online, this.online)) {
        this.deps.ctx.readStats.metadataCacheHits++;
        return Promise.resolve(k.answer);
      }
    }
    this.deps.ctx.readStats.metadataReads++;
    const entry = { writes: this.writes, answer: this.resolve(bucket, key) };
    this.resolving.set(rel, entry);
    const online = ttl > 0 ? [...this.online] : [];
    const done = () => {
      if (this.resolving.get(rel) === entry) this.resolving.delete(rel);
    };
    entry.answer.then((answer) => {
      done();
      if (ttl > 0 && entry.writes === this.writes && keepable(answer.metas))
        this.keep(rel, now, entry.writes, online, answer);
      if (keepable(answer.metas)) this.hint(rel, answer);
    }, done);
    return entry.answer;
  }

  /**
   * The metadata the last GET or HEAD of this object read, if within HINT_MS: a guess of what the next read
   * will find, never an answer (nothing is told to a client from it). A GET uses it to begin reading its first
   * batch while its own metadata read runs (engine/get.ts readEarly): the batch is of the version the hint
   * names, shared through the read-ahead cache under that version's identity, so only a GET whose own
   * metadata read finds that same version takes it.
   */
  lastRead(bucket: string, key: string): Answer | undefined {
    const h = this.hints.get(this.objRel(bucket, key));
    return h && Date.now() - h.at < HINT_MS ? h.answer : undefined;
  }

  private hint(rel: string, answer: Answer): void {
    const now = Date.now();
    this.hints.delete(rel);
    this.hints.set(rel, { at: now, answer });
    for (const [k, v] of this.hints) {
      if (this.hints.size <= MAX_HINTS && now - v.at < HINT_MS) break;
      this.hints.delete(k);
    }
  }

  /**
   * A metadata read's answer kept for the next GETs and HEADs of the object (ctx.metadataCacheMs after the read
   * began). It is good while `writes` is unchanged: every metadata change of this set, made by this process
   * or announced by another one on the change bus (applied before the writer answers its client), bumps it,
   * so S3's read-after-write holds; and while the drives that were online still are. What it cannot see is
   * a change made behind Cairn's back (a drive's files removed or damaged by hand): a GET notices that only
   * once the answer is older than the cache's time. Hence off by default (CAIRN_METADATA_CACHE_MS).
   */
  private keep(rel: string, at: number, writes: number, online: boolean[], answer: Answer): void {
    this.kept.delete(rel);
    this.kept.set(rel, { at, writes, online, answer });
    // Oldest first: drop what expired, and the oldest beyond the bound.
    const ttl = this.deps.ctx.metadataCacheMs;
    for (const [k, v] of this.kept) {
      if (this.kept.size <= MAX_KEPT && at - v.at < ttl) break;
      this.kept.delete(k);
    }
  }

  /** Some object's metadata changed on the drives (written, rolled back or healed). */
  metadataChanged(): void {
    this.writes++;
  }

  /**
   * Apply a change to the object's metadata on every (participating) drive under the object's lock.
   * Succeeds on a write quorum; otherwise restores the previous metadata where it was replaced. The lock
   * is held until the listing-journal lines of the change are written (after this resolves), so the next
   * writer's lines of this entry follow them in every journal, whichever process that writer runs in.
   */
  async mutate(bucket: string, key: string, m: Mutation): Promise<Resolved> {
    const objRel = this.objRel(bucket, key);
    const release = await this.deps.locks.acquire(objectLockName(this.index, objRel));
    const logged: Promise<void>[] = [];
    try {
      return await this.mutateLocked(bucket, key, objRel, m, logged);
    } finally {
      void Promise.all(logged).finally(release);
    }
  }

  private async mutateLocked(
    bucket: string,
    key: string,
    objRel: string,
    m: Mutation,
    logged: Promise<void>[],
  ): Promise<Resolved> {
    const { metas, resolved } = await this.resolve(bucket, key, GROUPED).catch((e) => {
      if (e instanceof S3Error && e.code === 'InsufficientReadQuorum') throw new S3Error('InsufficientWriteQuorum');
      throw e;
    });
    m.check?.(resolved);
    const sample = m.apply(resolved.versions, -1)[0] ?? resolved.versions[0];
    const quorum = sample?.ec
      ? this.writeQuorum(sample.ec.data, sample.ec.parity)
      : this.writeQuorum(this.defaultData, this.size - this.defaultData);
    const dirRel = dirname(objRel);
    const entry = basename(objRel);
    const drives = this.writeDrives();
    const results = await Promise.all(
      drives.map(async (d, slot) => {
        if (!d || (m.slots && !m.slots[slot])) return { ok: false as const, err: 'offline' };
        const before = metas[slot];
        const old = before.meta?.versions ?? [];
        const next = m.apply(old, slot);
        // Nothing here and nothing to write (deleting a key this drive never had): done.
        if (before.state === 'missing' && next.length === 0)
          return { ok: true as const, old, next, hadMeta: false, noop: true, gone: [], noted: -1, unlisted: false };
        const gone = goneDataDirs(old, next);
        // A change that leaves the entry's latest as the journal has it (a version's replication status, tags,
        // retention, ...) writes no line: the line already there is true before, during and after it. A
        // replicated object's COMPLETED status was two appends per drive (bench/replication/README.md).
        const unlisted =
          before.state === 'ok' && next.length > 0 && gone.length === 0 && sameLatest(latestOf(old), latestOf(next));
        let noted = -1;
        try {
          // Written down before the metadata stops referring to them: a stop before the removal leaves the
          // line for the next start to carry out.
          const paths = gone.map((dir) => `${objRel}/${dir}`);
          if (gone.length > 0) noted = await this.deps.reapLog.note(d, paths);
          // "pending" guards an existing entry's journal line; a new entry without a line is read
          // from its metadata anyway, so first writes skip it.
          if (before.state !== 'missing' && !unlisted)
            await this.deps.journals.append(d, dirRel, [{ n: entry, p: 1 }], GROUPED);
          // A new entry's folder is made by the first rename into it (writeAtomic, a stage's renameInto):
          // one failed rename(2) on the pool, cheaper than a mkdir -p of its own.
          const fresh = before.state === 'missing';
          await m.stage?.(d, slot, objRel, fresh);
          // The stage made the object's folder; without one a new key's metadata write makes it.
          const how = fresh && !m.stage ? FRESH : GROUPED;
          if (next.length > 0) await d.writeAtomic(`${objRel}/${META_NAME}`, encodeMeta({ versions: next }), how);
          else await d.unlinkIfExists(`${objRel}/${META_NAME}`);
          return { ok: true as const, old, next, hadMeta: before.state === 'ok', noop: false, gone, noted, unlisted };
        } catch (e) {
          await m.unstage?.(d, slot, objRel).catch(() => {});
          if (noted >= 0) await this.deps.reapLog.settle(d, noted, gone.length).catch(() => {});
          return { ok: false as const, err: errCode(e) ?? String(e) };
        }
      }),
    );
    this.metadataChanged();
    const oks = results.filter((r) => r.ok).length;
    if (oks < quorum) {
      await Promise.all(
        results.map(async (r, slot) => {
          const d = drives[slot];
          if (!r.ok || !d || r.noop) return;
          if (r.hadMeta) await d.writeAtomic(`${objRel}/${META_NAME}`, encodeMeta({ versions: r.old })).catch(() => {});
          else await d.unlinkIfExists(`${objRel}/${META_NAME}`).catch(() => {});
          await m.unstage?.(d, slot, objRel).catch(() => {});
          if (r.gone.length > 0) await this.deps.reapLog.settle(d, r.noted, r.gone.length).catch(() => {});
        }),
      );
      this.metadataChanged(); // rolled back: reads begun meanwhile may have seen the failed write
      const errs = results.flatMap((r) => (r.ok ? [] : [r.err]));
      if (errs.filter((e) => e === 'ENOSPC' || e === 'EDQUOT').length > this.size - quorum)
        throw new S3Error('XMinioStorageFull');
      throw new S3Error(
        'InsufficientWriteQuorum',
        `write reached ${oks} of ${this.size} drives, ${quorum} needed (${[...new Set(errs)].join(', ')})`,
      );
    }
    // Committed. Drop data of versions that went away, record the new latest in the journals.
    await Promise.all(
      results.map(async (r, slot) => {
        const d = drives[slot];
        if (!r.ok || !d || r.noop || r.unlisted) return;
        const gone = r.gone;
        const l = latestOf(r.next);
        // Not awaited by the caller: until the line lands, the entry has "pending" or no line, and listings
        // read its metadata instead. The object's lock is held until it lands (mutate).
        const rec: JournalRec = l ? { n: entry, l } : { n: entry, x: 1 };
        const line = this.deps.journals.append(d, dirRel, [rec], GROUPED).catch(() => {});
        logged.push(line);
        if (gone.length > 0 || r.next.length === 0) {
          this.deps.reaper.later(
            async () => {
              for (const dir of gone) await d.remove(`${objRel}/${dir}`);
              if (gone.length > 0) await this.deps.reapLog.settle(d, r.noted, gone.length);
              if (r.next.length === 0) await line.then(() => this.removeObjectDir(d, bucket, objRel));
            },
            gone.map((dir) => dataDirId(this.index, objRel, dir)),
          );
        }
      }),
    );
    if (oks < this.size || metas.some((mm) => mm.state === 'corrupt' || mm.state === 'offline'))
      this.deps.queueHeal(this.index, bucket, key);
    const committed = results.find((r) => r.ok);
    await this.deps.entryChanged(this.index, bucket, dirRel, key, committed?.ok ? latestOf(committed.next) : null);
    // Remote data of versions the quorum held and the change dropped (a transition keeps its version).
    if (!m.keepRemotes && resolved.versions.some((v) => v.tier)) {
      const after = new Set(m.apply(resolved.versions, -1).map((v) => (v.tier ? versionKey(v) : '')));
      const released = resolved.versions.flatMap((v) => (v.tier && !after.has(versionKey(v)) ? [v.tier] : []));
      if (released.length > 0) await this.deps.remotesReleased(released);
    }
    return resolved;
  }

  /** Remove an object dir left empty (no metadata, no data), and its directory if nothing else is there. */
  private async removeObjectDir(d: Drive, bucket: string, objRel: string): Promise<void> {
    const dirRel = dirname(objRel);
    await d.pruneEmpty(objRel, dirRel).catch(() => {}); // rmdir: keeps a dir a new write has filled
    await this.deps.journals.dropIfEmpty(d, dirRel).catch(() => {});
    await d.pruneEmpty(dirRel, bucket).catch(() => {});
  }

  /** Fresh temp directory name (same on every drive) for staging a write, in this process's temp area. */
  newTemp(): string {
    return `${this.deps.ctx.tmpDir}/${randomUUID()}`;
  }
}
