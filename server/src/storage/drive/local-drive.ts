// One drive = one directory. Everything under it is ours; paths handed in are relative to the root and come
// from key-path.ts (already escaped), so nothing here can reach outside the drive directory.
import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, rmdir, stat, statfs, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  appendFileLinked,
  readFile,
  readFileIfChanged,
  type SharedBytes,
  writeFd,
  writeFile,
  writeFileAtomic,
} from '@cairn/native';
import {
  type DiskInfo,
  type Drive,
  errCode,
  type FileStat,
  type FrameVerifier,
  type ShardSink,
  type ShardSource,
  TMP_DIR,
  type Grouping,
  type WriteOpts,
} from './drive.js';
import { KeptAppends } from './kept-appends.js';
import { fileSource } from './local-shard.js';
import { type IfChanged, ReadCache } from './read-cache.js';

/**
 * Bytes of files kept per drive by readCached (the server's: workers split it, and each worker sees every
 * key): recently read metadata. 16 MiB: warp's 4 KiB GET (2,500 objects, a 2.5 KB metadata file each per
 * drive) fits a worker's half with 2 workers; with 8 MiB it did not, and each miss re-read and re-decoded
 * the files, and churned the old generation (major GCs): 19% more server CPU per GET (bench/warp/README.md).
 * bench/load's suite peaked at 602 MB RSS with 16 and 676 MB with 8 (back to back, load 28-34): other
 * phases set its peak.
 */
export const CACHED_MAX_BYTES = 16 * 1024 * 1024;
/**
 * readCached keeps a file only once its ctime is this much older than the stat that saw it: well over one
 * tick of the coarse clock that file times come from (1-10 ms) on kernels without multi-grain timestamps.
 */
const SETTLED_MS = 50;

/** A relative path path.join would change after the root: empty, or with a leading, trailing or doubled `/`, or a `.` or `..` segment. */
const NOT_PLAIN = /^$|^\/|\/$|\/\/|(?:^|\/)\.\.?(?:\/|$)/;

/** path.join(root, '/'), what joinUnder appends a plain path to; undefined for a root that joins to `.` or ``. */
export function rootPrefix(root: string): string | undefined {
  const prefix = join(root, '/');
  return join(root, 'x') === `${prefix}x` ? prefix : undefined;
}

/**
 * path.join(root, rel), given `prefix` = rootPrefix(root): a plain `rel` (every path key-path.ts makes) is
 * appended, without path.join's normalization of the whole string. That normalization was the largest
 * allocation of a replicating source (bench/replication/README.md: ~65 KiB of the ~650 KiB a 1 MiB PUT and its
 * copy allocate, from the writes' renames, shard files, journal appends and removals), and the GC's scavenges
 * follow the bytes allocated.
 */
export function joinUnder(root: string, prefix: string | undefined, rel: string): string {
  return prefix === undefined || NOT_PLAIN.test(rel) ? join(root, rel) : prefix + rel;
}

/**
 * A drive that is a folder of this machine. Whole-file reads and writes (metadata, journals, reap logs) are
 * steps of libuv pool tasks (@cairn/native's files: the operations asked for on one drive in one turn of the
 * event loop share a task, queued by the drive's root, or by its set's `readGroup` for identity checks and
 * `Grouping.grouped` writes): node:fs costs a pool round trip per call, and every PUT writes a metadata file
 * and appends a journal line on each drive. Shard files are written with writev and
 * read with positioned reads (verified in the same pool call: Codec.readFrames).
 */
export class LocalDrive implements Drive {
  /** Slot in the deployment (set index, index in set); assigned by format.ts. */
  setIndex = -1;
  diskIndex = -1;
  driveId = '';
  /** Last fault seen (ENOSPC, EROFS, EIO, ...); cleared by a successful write. */
  lastError: string | undefined;

  private readonly cache = new ReadCache(CACHED_MAX_BYTES);
  private readonly appends = new KeptAppends();
  /** At most this many bytes kept by readCached (a worker's share of CACHED_MAX_BYTES). */
  get cachedMaxBytes(): number {
    return this.cache.maxBytes;
  }
  set cachedMaxBytes(n: number) {
    this.cache.maxBytes = n;
  }

  shareReads(space: SharedBytes, taken: () => void): void {
    this.cache.share(space, `${this.root}\0`, taken);
  }

  /** This process's temp area on the drive (writeAtomic's staging): TMP_DIR, or a worker's own part of it. */
  tmpDir = TMP_DIR;

  readGroup?: string;

  /** The wall clock file times are compared with (tests move it). */
  now: () => number = Date.now;

  /** The device of the drive's file system when it was opened, if the folder was a mount point then. */
  private readonly mountedDevice: number | undefined;

  /** Set when the drive's peers are mount points and so must it be (mount-guard.ts). */
  private mountExpected = false;

  constructor(readonly root: string) {
    this.prefix = join(root, '/');
    this.plainPrefix = rootPrefix(root);
    this.mountedDevice = mountPointDevice(root);
  }

  /** Whether the folder was a mount point (a file system of its own) when the drive was opened. */
  get wasMountPoint(): boolean {
    return this.mountedDevice !== undefined;
  }

  /** From now on the folder counts as unmounted while it is on its parent's file system (mount-guard.ts). */
  expectMountPoint(): void {
    this.mountExpected = true;
  }

  release(): Promise<void> {
    return this.appends.closeAll();
  }

  async unmounted(): Promise<boolean> {
    if (this.mountedDevice === undefined && !this.mountExpected) return false;
    try {
      const [own, parent] = await Promise.all([stat(this.root), stat(dirname(this.root))]);
      return own.dev === parent.dev; // on its parent's file system: no longer (or not yet) mounted
    } catch {
      return false; // gone or failing: the probe and the format check say so
    }
  }

  get endpoint(): string {
    return this.root;
  }

  /** The absolute path of `rel`: for this class only (a remote drive has none). */
  private abs(rel: string): string {
    return joinUnder(this.root, this.plainPrefix, rel);
  }

  /** The root with one trailing separator (see `under`). */
  private readonly prefix: string;
  /** rootPrefix(root): abs()'s (undefined: every path is joined). */
  private readonly plainPrefix: string | undefined;

  /**
   * abs() for the paths of every GET (metadata files, shard files): key-path.ts's relative paths hold no `.`,
   * `..` or empty segment, so joining is appending, without path.join's normalization of the whole string
   * (~3 us per call on the loaded machine, a dozen calls per GET: ~4% of a 64 KiB range GET's loop CPU).
   */
  private under(rel: string): string {
    return this.prefix + rel;
  }

  /**
   * Like read(), with the bytes kept per path beside the file's identity (inode, size, mtime and ctime):
   * while a stat shows the same identity the kept bytes are returned, one stat instead of open + read +
   * close. Eviction is oldest-read first. Callers must not modify the returned bytes.
   *
   * Why any change, by this process or another one sharing the drive, is seen: every change of the bytes
   * at a path sets the ctime of the inode found there to the time of the change (a write, or the rename
   * that put a new file in place). A change after the stat that kept the bytes thus shows a ctime later
   * than the kept one, unless the clock the kernel stamps with is coarse (one tick, before Linux 6.13's
   * multi-grain timestamps) and the change falls in the same tick, with a freed inode number reused and
   * the same size. Bytes are therefore kept only once their ctime is SETTLED_MS older than the stat: any
   * later change is then stamped at least SETTLED_MS minus one tick after the kept ctime.
   */
  async readCached(rel: string, opts?: Grouping): Promise<Buffer | null> {
    return this.cache.read(rel, (r, known) => this.readIfChanged(r, known, opts?.grouped));
  }

  /**
   * One pool task: stat, and open + read + close only when the identity is not `known`. The bytes are under
   * the identity seen before the read: if the file changed in between, the next stat differs. The kernel's
   * Buffer is the file's exact size and its own memory. A check of kept bytes (`known`: most likely a stat
   * alone) shares its pool task with the same turn's checks on the other drives of the set (`readGroup`):
   * a GET's metadata read is then one task, not one per drive; a first read goes on the drive's own queue,
   * in parallel with the other drives', unless `grouped` (a metadata change's read, under the object's lock:
   * most often of a new key, a failed stat).
   */
  async readIfChanged(rel: string, known: string, grouped = false): Promise<IfChanged | null> {
    const now = this.now();
    const read = await readFileIfChanged(this.under(rel), known, ((known || grouped) && this.readGroup) || this.root);
    if (!read) return null;
    return { id: read.id, settled: now - read.ctimeMs >= SETTLED_MS, bytes: read.bytes };
  }

  /** Whole file, or null when absent: open + read + close as one task on the libuv pool. */
  async read(rel: string): Promise<Buffer | null> {
    return readFile(this.abs(rel), this.root);
  }

  async append(rel: string, data: Buffer | string, checkLinked = false, opts?: Grouping): Promise<boolean> {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const abs = this.abs(rel);
    const queue = this.queue(opts);
    // Through the file kept open; replaced or removed since it was opened: to the file at the path now.
    if (await this.appends.append(abs, buf, queue)) return true;
    if (checkLinked) return appendFileLinked(abs, buf, queue);
    // A failed close is an error too (written data may be lost).
    await writeFile(abs, buf, true, queue);
    return true;
  }

  /** The pool queue of a write: the drive's own, or the set's with `grouped` (Grouping). */
  private queue(opts: Grouping | undefined): string {
    return (opts?.grouped && this.readGroup) || this.root;
  }

  async replaceLog(rel: string, data: Buffer | string, readLen: number): Promise<Buffer | null> {
    // Kept open across the rename: lines other processes append to the old file meanwhile are read afterwards.
    const fh = await open(this.abs(rel), 'r').catch((e) => {
      if (errCode(e) === 'ENOENT') return null;
      throw e;
    });
    if (!fh) return null;
    try {
      await this.writeAtomic(rel, data);
      const { size } = await fh.stat();
      const tail = Buffer.alloc(Math.max(0, size - readLen));
      if (tail.length > 0) await fh.read(tail, 0, tail.length, readLen);
      return tail;
    } finally {
      await fh.close();
    }
  }

  async stat(rel: string): Promise<FileStat | null> {
    const st = await stat(this.abs(rel)).catch((e) => {
      if (errCode(e) === 'ENOENT' || errCode(e) === 'ENOTDIR') return null;
      throw e;
    });
    return st && { size: st.size, mtimeMs: st.mtimeMs };
  }

  async createShard(rel: string): Promise<ShardSink> {
    await this.mkdirs(dirname(rel));
    const path = this.abs(rel);
    const fh = await open(path, 'w');
    let closed = false;
    /** The write under way (native, on the fd): the file is closed only after it. */
    let writing: Promise<unknown> = Promise.resolve();
    return {
      // The writes of one `group` asked for in one turn (a block's shards on the set's drives) share a pool task.
      write: (bufs, group) => {
        const w = writeFd(fh.fd, bufs, path, group);
        writing = w.catch(() => {});
        return w;
      },
      close: async () => {
        closed = true;
        await writing;
        await fh.close();
      },
      abort: async () => {
        if (closed) return;
        closed = true;
        await writing;
        await fh.close().catch(() => {});
      },
    };
  }

  openShard(rel: string, verify?: FrameVerifier): ShardSource {
    return fileSource(this.under(rel), verify);
  }

  async diskInfo(): Promise<DiskInfo> {
    const fs = await statfs(this.root);
    return {
      totalBytes: fs.blocks * fs.bsize,
      usedBytes: (fs.blocks - fs.bfree) * fs.bsize,
      freeBytes: fs.bavail * fs.bsize,
    };
  }

  /** Write a whole file and move it into place: readers see the old file or the new one. */
  async writeAtomic(rel: string, data: Buffer | string, opts?: WriteOpts): Promise<void> {
    // One pool task: write the temp file, rename it into place (the target's parent created on demand, as
    // renameInto does), remove the temp file on failure.
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const queue = this.queue(opts);
    const write = () =>
      writeFileAtomic(this.abs(`${this.tmpDir}/${randomUUID()}`), buf, this.abs(rel), queue, opts?.fresh);
    try {
      await write();
    } catch (e) {
      // The temp area went away (the drive was emptied and reformatted under us): make it again, once.
      if (errCode(e) !== 'ENOENT' || (e as NodeJS.ErrnoException).syscall !== 'open') throw e;
      await this.mkdirs(this.tmpDir);
      await write();
    }
  }

  /**
   * rename(2) with the parent of the target created on demand (a concurrent cleanup may remove it); `fresh`: made
   * first, as it most likely is missing (two pool trips, mkdir + rename, where the failed rename made three).
   */
  async renameInto(fromRel: string, toRel: string, fresh = false): Promise<void> {
    if (fresh) await this.mkdirs(dirname(toRel));
    for (let attempt = 0; ; attempt++) {
      try {
        this.appends.dropUnder(this.abs(fromRel));
        await rename(this.abs(fromRel), this.abs(toRel));
        return;
      } catch (e) {
        if (errCode(e) !== 'ENOENT' || attempt >= 3) throw e;
        await this.mkdirs(dirname(toRel));
      }
    }
  }

  async exists(rel: string): Promise<boolean> {
    try {
      await stat(this.abs(rel));
      return true;
    } catch (e) {
      if (errCode(e) === 'ENOENT' || errCode(e) === 'ENOTDIR') return false;
      throw e;
    }
  }

  /**
   * mkdir -p. A concurrent cleanup (pruneEmpty after a delete of a neighbour) may remove a parent between
   * the recursive mkdir's steps, which then fails with ENOENT, or ENOTDIR when Node's check of the parent
   * it just saw finds it gone: try again, as renameInto does. (Key paths never put a file where a directory
   * belongs, so a lasting ENOTDIR still fails after the retries.)
   */
  async mkdirs(rel: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await mkdir(this.abs(rel), { recursive: true });
        return;
      } catch (e) {
        const code = errCode(e);
        if ((code !== 'ENOENT' && code !== 'ENOTDIR') || attempt >= 5) throw e;
      }
    }
  }

  async list(rel: string): Promise<string[] | null> {
    try {
      return await readdir(this.abs(rel));
    } catch (e) {
      if (errCode(e) === 'ENOENT' || errCode(e) === 'ENOTDIR') return null;
      throw e;
    }
  }

  async remove(rel: string): Promise<void> {
    this.appends.dropUnder(this.abs(rel));
    await rm(this.abs(rel), { recursive: true, force: true });
  }

  async unlinkIfExists(rel: string): Promise<void> {
    this.appends.dropUnder(this.abs(rel));
    try {
      await unlink(this.abs(rel));
    } catch (e) {
      if (errCode(e) !== 'ENOENT') throw e;
    }
  }

  /** Remove empty directories from `rel` upwards, stopping at `stopAt` (exclusive) or a non-empty one. */
  async pruneEmpty(rel: string, stopAt: string): Promise<void> {
    let dir = rel;
    while (dir.length > stopAt.length && dir.startsWith(`${stopAt}/`)) {
      try {
        await rmdir(this.abs(dir));
      } catch {
        return;
      }
      dir = dirname(dir);
    }
  }

  /** Cheap liveness probe: create and remove a file in the temp area; a drive that hangs fails it too. */
  async probe(timeoutMs = 5000): Promise<'ok' | 'readonly' | 'failed'> {
    if (await this.unmounted()) {
      this.lastError = 'unmounted';
      return 'failed';
    }
    const p = this.abs(`${TMP_DIR}/.probe-${randomUUID()}`);
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(Object.assign(new Error('drive does not answer'), { code: 'ETIMEDOUT' })),
        timeoutMs,
      );
    });
    try {
      await Promise.race([
        (async () => {
          const fh = await open(p, 'w');
          await fh.close();
          await unlink(p);
        })(),
        hung,
      ]);
      this.lastError = undefined;
      return 'ok';
    } catch (e) {
      this.lastError = errCode(e) ?? String(e);
      return this.lastError === 'EROFS' ? 'readonly' : 'failed';
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * The device of `root`'s file system when `root` is a mount point (its device differs from its parent folder's),
 * as a drive usually is in production; undefined for a plain folder (tests, one-disk setups) or a missing one.
 */
function mountPointDevice(root: string): number | undefined {
  try {
    const own = statSync(root).dev;
    return own !== statSync(dirname(root)).dev ? own : undefined;
  } catch {
    return undefined;
  }
}
