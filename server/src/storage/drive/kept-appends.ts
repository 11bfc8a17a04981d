// Files a drive appends to again and again (a directory's listing journal, on every PUT of a key in it) kept
// open: an append is then write(2) + fstat(2) in a pool task shared with the drive's other operations of that
// turn, where opening the file each time cost open + write + fstat + close (or open + write + close).
//
// A file kept open may be replaced by rename (a journal compacted, by this process or another one sharing the
// drive) or removed (an empty journal dropped, a bucket removed): fstat's link count after the write says so, and
// the caller then writes the bytes again to the file at the path now (LocalDrive.append), as an append that
// opened the old file just before the replacement always had to. Nothing renames a kept file's folder away
// (renames move data folders, parts and healed shards; LocalDrive.renameInto drops kept files under its source
// all the same).
import { type FileHandle, open } from 'node:fs/promises';
import { appendFd } from '@cairn/native';

/**
 * Files kept open per drive (per worker): the journals of the folders written to most recently. warp's PUTs go
 * to 32 prefixes (one per client): 16 missed on every append.
 */
const KEPT_FILES = 64;

interface Kept {
  fh: FileHandle;
  /** Appends under way on it: it is closed once none is. */
  busy: number;
  dropped: boolean;
}

export class KeptAppends {
  /** By absolute path, least recently used first. */
  private readonly files = new Map<string, Kept>();

  /**
   * Appends `data` to the file at `abs` (created when missing) through its kept descriptor; true when that file
   * still had its name after the write, false when it had been replaced or removed (the bytes may be lost).
   */
  async append(abs: string, data: Buffer, queue: string): Promise<boolean> {
    let k = this.files.get(abs);
    if (k) {
      this.files.delete(abs);
      this.files.set(abs, k);
    } else {
      const fh = await open(abs, 'a');
      k = this.files.get(abs);
      // Another append opened it meanwhile: that one is kept.
      if (k) void fh.close().catch(() => {});
      else {
        k = { fh, busy: 0, dropped: false };
        this.files.set(abs, k);
        if (this.files.size > KEPT_FILES) {
          const [oldest, kept] = this.files.entries().next().value!;
          this.drop(oldest, kept);
        }
      }
    }
    k.busy++;
    try {
      const linked = await appendFd(k.fh.fd, data, abs, queue);
      if (!linked) this.drop(abs, k);
      return linked;
    } catch (e) {
      this.drop(abs, k);
      throw e;
    } finally {
      if (--k.busy === 0 && k.dropped) void k.fh.close().catch(() => {});
    }
  }

  /** Closes every kept file (the drive's storage is closing); an append after this opens its file again. */
  async closeAll(): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const [abs, k] of this.files) {
      this.files.delete(abs);
      if (k.dropped) continue;
      k.dropped = true;
      // One still being appended to is closed when that append ends (append's finally).
      if (k.busy === 0) closing.push(k.fh.close().catch(() => {}));
    }
    await Promise.all(closing);
  }

  /** Closes the files kept under `absDir` (or that file): removed or moved away. */
  dropUnder(absDir: string): void {
    for (const [abs, k] of this.files) if (abs === absDir || abs.startsWith(`${absDir}/`)) this.drop(abs, k);
  }

  private drop(abs: string, k: Kept): void {
    if (this.files.get(abs) === k) this.files.delete(abs);
    if (k.dropped) return;
    k.dropped = true;
    if (k.busy === 0) void k.fh.close().catch(() => {});
  }
}
