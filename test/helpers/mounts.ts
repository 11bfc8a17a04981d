// Drives that are mount points, as disks are in production, for the tests of disks that did not mount
// (storage/drive/mount-guard.ts): each drive is a tmpfs of its own ("the disk") bind-mounted at its folder; a disk
// "does not mount" when its bind mount is taken away (the tmpfs and what it holds stay, as a disk does), leaving
// an empty folder on the parent's file system. Mounting needs root: CI runs as root; elsewhere the tests skip
// (canMount).
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const sh = (cmd: string, ...args: string[]) => execFileSync(cmd, args, { stdio: 'pipe' });

/** Whether this process may mount file systems (root, and a kernel that lets it). */
export function canMount(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = join(tmpdir(), `cairn-mount-probe-${process.pid}`);
  try {
    execFileSync('mkdir', ['-p', probe]);
    sh('mount', '-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe);
    sh('umount', probe);
    return true;
  } catch {
    return false;
  } finally {
    execFileSync('rm', ['-rf', probe]);
  }
}

/** The mounts a test made, taken away in reverse order by `release`. */
export class Mounts {
  private readonly made: string[] = [];
  /** The disk (tmpfs) of each drive folder mounted by `drive`. */
  private readonly disks = new Map<string, string>();

  /** Drive folder `drive`, a tmpfs of its own kept at `disk` and bind-mounted at the drive's folder. */
  async drive(disk: string, drive: string, size = '64m'): Promise<void> {
    await mkdir(disk, { recursive: true });
    await mkdir(drive, { recursive: true });
    sh('mount', '-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', disk);
    this.made.push(disk);
    this.bind(drive, disk);
  }

  /** The disk of `drive` does not mount: its folder is an empty directory on the parent's file system again. */
  unmount(drive: string): void {
    sh('umount', drive);
    this.made.splice(this.made.lastIndexOf(drive), 1);
  }

  /** The disk of `drive` mounts again, with what it held. */
  remount(drive: string): void {
    this.bind(drive, this.disks.get(drive)!);
  }

  private bind(drive: string, disk: string): void {
    sh('mount', '--bind', disk, drive);
    this.made.push(drive);
    this.disks.set(drive, disk);
  }

  /** Takes away every mount made (the processes using them stopped first). */
  release(): void {
    for (const m of this.made.splice(0).reverse()) sh('umount', m);
  }
}
