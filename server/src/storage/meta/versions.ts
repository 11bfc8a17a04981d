// Versions of one object as the drives report them: read every drive's metadata file, drop corrupt copies,
// and keep the versions that enough drives agree on (read quorum), newest first.
import { randomUUID } from 'node:crypto';
import { aeadPlainLength } from '@cairn/native';
import type { ObjectInfo, ObjectLock } from '../object-layer.js';
import type { Drive, Grouping } from '../drive/drive.js';
import { decodeMeta, META_NAME, type LockRecord, type MetaFile, type VersionRecord } from './meta-file.js';

export type MetaState = 'ok' | 'missing' | 'corrupt' | 'offline';

export interface DriveMeta {
  state: MetaState;
  meta: MetaFile | null;
}

export async function readDriveMeta(drive: Drive | null, objRel: string, opts?: Grouping): Promise<DriveMeta> {
  if (!drive) return { state: 'offline', meta: null };
  let raw: Buffer | null;
  try {
    raw = await drive.readCached(`${objRel}/${META_NAME}`, opts); // one stat when unchanged since the last read
  } catch {
    return { state: 'offline', meta: null };
  }
  if (!raw) return { state: 'missing', meta: null };
  let meta = decoded.get(raw);
  if (!meta) {
    try {
      meta = deepFreeze(decodeMeta(raw));
    } catch {
      return { state: 'corrupt', meta: null };
    }
    decoded.set(raw, meta);
  }
  return { state: 'ok', meta };
}

/**
 * Metadata decoded from the bytes readCached keeps: while a file is unchanged readCached returns the same
 * Buffer, and its decoded form (CRC check and msgpack, ~10 us per drive per request) is reused. Frozen:
 * every reader shares it.
 */
const decoded = new WeakMap<Buffer, MetaFile>();

function deepFreeze<T>(o: T): T {
  if (o === null || typeof o !== 'object' || ArrayBuffer.isView(o) || Object.isFrozen(o)) return o;
  for (const v of Object.values(o)) deepFreeze(v);
  return Object.freeze(o);
}

/** Identity of a version across drives (metadata updates keep it). */
export function versionKey(v: VersionRecord): string {
  return `${v.id}\u0000${v.mtime}\u0000${v.type}\u0000${v.uid}`;
}

export function newerFirst(a: VersionRecord, b: VersionRecord): number {
  return b.mtime - a.mtime || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/**
 * The mtime of a version written now over `existing` (the key's versions, read under its lock), replacing the one
 * with id `replaces` if any: its own, moved on by a millisecond while another version has it. Versions of equal
 * mtime are ordered by their random ids, so of two writes in one millisecond (a PUT, then a DELETE) the later would
 * be the newer only half the time. Replicas keep their source's mtime and do not use this.
 */
export function distinctMtime(mtime: number, existing: VersionRecord[], replaces: string): number {
  const taken = new Set(existing.filter((v) => v.id !== replaces).map((v) => v.mtime));
  while (taken.has(mtime)) mtime++;
  return mtime;
}

export interface Resolved {
  /** Versions on a read quorum of drives, newest first (the copy of the first drive holding each). */
  versions: VersionRecord[];
  /** versionKey -> set slots whose metadata holds that version. */
  holders: Map<string, number[]>;
  /** Drives that answered (ok or missing), i.e. could be read. */
  answered: number;
}

export function resolveVersions(metas: DriveMeta[], defaultData: number): Resolved {
  const holders = new Map<string, number[]>();
  const first = new Map<string, VersionRecord>();
  let answered = 0;
  metas.forEach((m, slot) => {
    if (m.state === 'ok' || m.state === 'missing') answered++;
    for (const v of m.meta?.versions ?? []) {
      const k = versionKey(v);
      const list = holders.get(k);
      if (list) {
        list.push(slot);
        // The most recently updated copy wins (a drive that missed a metadata update holds an older one).
        if ((v.updated ?? 0) > (first.get(k)!.updated ?? 0)) first.set(k, v);
      } else {
        holders.set(k, [slot]);
        first.set(k, v);
      }
    }
  });
  const versions: VersionRecord[] = [];
  for (const [k, v] of first) {
    const need = v.ec ? v.ec.data : defaultData;
    if (holders.get(k)!.length >= need) versions.push(v);
  }
  versions.sort(newerFirst);
  return { versions, holders, answered };
}

export function newVersionId(): string {
  return randomUUID();
}

/** What a client sees as the size of `stored` bytes of one part of `v`: the plaintext size when they are sealed. */
export function plainSize(v: Pick<VersionRecord, 'encryption'>, stored: number): number {
  return v.encryption ? Math.max(aeadPlainLength(stored), 0) : stored;
}

/** The size of version `v` as clients see it (the sum of its parts' plaintext sizes when sealed part by part). */
export function objectSize(v: Pick<VersionRecord, 'encryption' | 'size' | 'parts'>): number {
  return v.encryption ? v.parts.reduce((n, p) => n + plainSize(v, p.size), 0) : v.size;
}

export function toObjectInfo(bucket: string, key: string, v: VersionRecord, isLatest: boolean): ObjectInfo {
  const info: ObjectInfo = {
    bucket,
    key,
    versionId: v.id,
    isLatest,
    deleteMarker: v.type === 'delete',
    size: objectSize(v),
    etag: v.etag,
    lastModified: new Date(v.mtime),
    storageClass: v.tier?.tier ?? v.storageClass,
    contentHeaders: { ...v.contentHeaders },
    userMetadata: { ...v.userMetadata },
  };
  if (v.tagging !== undefined) info.tagging = v.tagging;
  if (v.encryption) info.encryption = v.encryption;
  if (v.checksum) info.checksum = v.checksum;
  if (v.lock) info.lock = lockInfo(v.lock);
  if (v.tier) info.transition = { ...v.tier };
  if (v.replication) info.replicationStatus = v.replication;
  if (v.replicationTargets) info.replicationTargets = { ...v.replicationTargets };
  if (v.parts.length > 1 || /-\d+$/.test(v.etag)) {
    info.parts = v.parts.map((p) => ({
      number: p.number,
      size: plainSize(v, p.size),
      etag: p.etag,
      lastModified: new Date(p.mtime),
      ...(p.checksum ? { checksum: p.checksum } : {}),
      ...(p.sealSalt ? { sealSalt: p.sealSalt } : {}),
    }));
  }
  return info;
}

export function lockInfo(l: LockRecord): ObjectLock {
  const out: ObjectLock = {};
  if (l.mode && l.until !== undefined) {
    out.mode = l.mode;
    out.retainUntil = new Date(l.until);
  }
  // false is kept: a hold set OFF is answered OFF; one never set is NoSuchObjectLockConfiguration.
  if (l.legalHold !== undefined) out.legalHold = l.legalHold;
  return out;
}

/** The stored form of a lock; undefined when it holds nothing. */
export function lockRecord(l: ObjectLock | undefined): LockRecord | undefined {
  if (!l) return undefined;
  const out: LockRecord = {};
  if (l.mode && l.retainUntil) {
    out.mode = l.mode;
    out.until = l.retainUntil.getTime();
  }
  if (l.legalHold !== undefined) out.legalHold = l.legalHold;
  return out.mode || out.legalHold !== undefined ? out : undefined;
}
