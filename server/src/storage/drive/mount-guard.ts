// Drives that should be mount points but are not. In production each drive is a file system of its own, mounted
// at its folder. When a disk does not mount (it died, fstab is wrong, the boot raced), its folder is an empty
// directory on the parent's file system, often the root disk. Taking that folder for a new, empty drive and
// rebuilding the drive's share of every object into it fills the parent's file system, and whatever is written there
// disappears under the real disk once it mounts. MinIO refuses drives on the root disk outside CI (errDriveIsRoot);
// Cairn's quick start keeps its drives in plain folders on one disk, and tests mix one mounted drive with plain
// folders, so the rule here is narrower: when at least half of the drives are mount points, a plain folder without
// a format is a disk that did not mount. It is neither prepared nor formatted, it starts offline, and it stays
// offline (LocalDrive.unmounted) until a file system is mounted at its folder. (A plain folder that holds a format
// was made a drive as such, and is used as one.)
import type { Drive } from './drive.js';
import { LocalDrive } from './local-drive.js';

/** The drives taken for disks that did not mount; each is marked unmounted (it starts offline). */
export async function guardUnmounted(drives: Drive[], hasFormat: (d: Drive) => Promise<boolean>): Promise<Drive[]> {
  const local = drives.filter((d): d is LocalDrive => d instanceof LocalDrive);
  const mountPoints = local.filter((d) => d.wasMountPoint).length;
  if (mountPoints === 0 || mountPoints * 2 < local.length) return [];
  const folders = local.filter((d) => !d.wasMountPoint);
  const formatted = await Promise.all(folders.map((d) => hasFormat(d).catch(() => true)));
  const guarded = folders.filter((_, i) => !formatted[i]);
  for (const d of guarded) {
    d.expectMountPoint();
    d.lastError = 'unmounted';
  }
  return guarded;
}
