// The drive interface: every operation the storage engine performs on a drive, on paths relative to the drive
// (from key-path.ts, already escaped). LocalDrive (local-drive.ts) implements it on a folder of this machine;
// RemoteDrive (../rpc/remote-drive.ts) on a drive another node serves over the storage RPC. Nothing outside
// drive/ and rpc/ learns where a drive's files are.
import type { SharedBytes } from '@cairn/native';

export const SYS_DIR = '.cairn.sys';
export const TMP_DIR = `${SYS_DIR}/tmp`;
export const MULTIPART_DIR = `${SYS_DIR}/multipart`;

/** Error codes that mean "this drive is broken or full", as opposed to "file not there". */
export function isDriveFault(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException)?.code;
  return code !== undefined && code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'EEXIST' && code !== 'ENOTEMPTY';
}

export function errCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException)?.code;
}

/**
 * Reads `out.length` bytes of the shard file at an absolute path from `position` and checks the HighwayHash
 * of every `stride`-byte frame, opening and closing the file in the same pool task (Codec.readFrames): how
 * many frames failed.
 */
export type FrameVerifier = (path: string, position: number, stride: number, out: Buffer) => Promise<number>;

/** Reads of one shard file (or of a shard held in memory), opened on first read. */
export interface ShardSource {
  /** The shard is already in memory (inline in the metadata): reads are views, `into` is not used. */
  readonly inMemory: boolean;
  /** `len` bytes at `pos`, read into `into` (at least `len` long) when given and not in memory. */
  read(pos: number, len: number, into?: Buffer): Promise<Buffer>;
  /**
   * `read`, with the hash of every frame (`stride` bytes each, the last possibly shorter) checked as it
   * comes in, in one pool call (Codec.readFrames): the bytes and how many frames failed. Absent: read
   * and verify separately.
   */
  readFrames?(pos: number, len: number, stride: number, into?: Buffer): Promise<{ buf: Buffer; bad: number }>;
  /**
   * The file's path, when it is a local file whose `readFrames` is Codec.readFrames on that path: the data
   * shards of one batch can then be read in one pool task (Codec.readManyFrames).
   */
  readonly localPath?: string;
  close(): Promise<void>;
}

/** A shard file being written: frames in order, then closed (or aborted, leaving a partial file to clean up). */
export interface ShardSink {
  /**
   * Appends the buffers; resolves once they are written (or accepted by a bounded send buffer). `group`: the
   * writes of one block to the drives of a set, asked for in one turn; a local drive's share one pool task.
   */
  write(bufs: Buffer[], group?: string): Promise<void>;
  /** Ends the file; a failure here means the bytes may be lost. */
  close(): Promise<void>;
  abort(): Promise<void>;
}

export interface FileStat {
  size: number;
  mtimeMs: number;
}

export interface DiskInfo {
  totalBytes: number;
  /** Bytes in use (total less free, reserved blocks included). */
  usedBytes: number;
  /** Bytes free for unprivileged users. */
  freeBytes: number;
}

/** How a read or write may be carried out (a hint: a drive may ignore it; a remote drive does). */
export interface Grouping {
  /**
   * Shares a pool task with the operations asked of the set's other drives in the same turn of the event loop
   * (`readGroup`): a metadata change reads and writes every drive of the set and waits for all of them, so one
   * task wakes one pool thread where one per drive woke four.
   */
  grouped?: boolean;
}

/** How a whole file is written (hints, as Grouping). */
export interface WriteOpts extends Grouping {
  /**
   * The target's folder is most likely missing (a new object's metadata): made before the rename (mkdir +
   * rename), not after the rename failed (rename + mkdir + rename).
   */
  fresh?: boolean;
}

export interface Drive {
  /** Where the drive is (a folder, or `http://node:port/folder` for a remote one): its name in logs and keys. */
  readonly endpoint: string;
  /** Slot in the deployment (set index, index in set) and id; assigned by format.ts. */
  setIndex: number;
  diskIndex: number;
  driveId: string;
  /** Last fault seen (ENOSPC, EROFS, EIO, ETIMEDOUT, ...); cleared by a successful probe. */
  lastError: string | undefined;
  /** This process's temp area on the drive (writeAtomic's staging): TMP_DIR, or a worker's own part of it. */
  tmpDir: string;
  /** At most this many bytes kept by readCached. */
  cachedMaxBytes: number;
  /**
   * The drives of one set share this name (ErasureSet sets it): readCached's identity checks of a set's drives
   * asked for in one turn of the event loop may then go to the pool as one task (a GET's metadata read checks
   * every drive of the set and waits for all of them, so a hung drive holds it up either way).
   */
  readGroup?: string;
  /**
   * readCached leaves the files it keeps in `space` for the other worker threads of the process, and takes theirs
   * (checked by identity) where it has none: `taken` counts those (storage/shared-reads.ts). Local drives only.
   */
  shareReads?(space: SharedBytes, taken: () => void): void;

  /** Whole file, or null when absent. */
  read(rel: string): Promise<Buffer | null>;
  /** read(), answered from bytes kept per path while the file is unchanged. Callers must not modify them. */
  readCached(rel: string, opts?: Grouping): Promise<Buffer | null>;
  /** Writes a whole file and moves it into place (parent created): readers see the old file or the new one. */
  writeAtomic(rel: string, data: Buffer | string, opts?: WriteOpts): Promise<void>;
  /**
   * Appends to a file (created when missing) in one write(2). With `checkLinked`: resolves false when another
   * process replaced or removed the file meanwhile (a listing journal being compacted); otherwise true.
   */
  append(rel: string, data: Buffer | string, checkLinked?: boolean, opts?: Grouping): Promise<boolean>;
  /**
   * Replaces an append-only log with `data` (atomically) after its first `readLen` bytes were read and
   * rewritten by the caller: returns the bytes appended after those (to carry over), null when it is gone.
   */
  replaceLog(rel: string, data: Buffer | string, readLen: number): Promise<Buffer | null>;
  /** rename(2), the target's parent created on demand; `fresh`: first (most likely missing). */
  renameInto(fromRel: string, toRel: string, fresh?: boolean): Promise<void>;
  exists(rel: string): Promise<boolean>;
  /** Size and mtime, or null when absent. */
  stat(rel: string): Promise<FileStat | null>;
  /** mkdir -p. */
  mkdirs(rel: string): Promise<void>;
  /** Names in a folder, or null when it does not exist. */
  list(rel: string): Promise<string[] | null>;
  /** rm -rf. */
  remove(rel: string): Promise<void>;
  unlinkIfExists(rel: string): Promise<void>;
  /** Remove empty directories from `rel` upwards, stopping at `stopAt` (exclusive) or a non-empty one. */
  pruneEmpty(rel: string, stopAt: string): Promise<void>;
  /** A new shard file (truncated; parent created), written as a stream. */
  createShard(rel: string): Promise<ShardSink>;
  /** Ranged reads of a shard file, opened on first read; with `verify`, frames are checked as read. */
  openShard(rel: string, verify?: FrameVerifier): ShardSource;
  /** Space of the file system holding the drive. */
  diskInfo(): Promise<DiskInfo>;
  /**
   * Liveness: a file created and removed in the temp area within `timeoutMs`. A drive that was a mount point
   * and is one no more (its file system unmounted) fails, with lastError `unmounted`.
   */
  probe(timeoutMs?: number): Promise<'ok' | 'readonly' | 'failed'>;
  /**
   * The drive's folder was a mount point when the drive was opened and is not any more: what is there now is the
   * empty folder under it, on the parent's file system, never to be formatted or written.
   */
  unmounted(): Promise<boolean>;
  /**
   * Lets go of the files the drive keeps open between calls (a local drive's journals kept for appends): its
   * storage is closing. A later call opens what it needs again.
   */
  release?(): Promise<void>;
}
