// Storage's whole-file reads and writes, each one task on the libuv pool (files.rs): through node:fs, a
// metadata file costs up to four pool round trips (open, write, close, rename or stat, open, read, close),
// each a request on the event loop and a wake-up of a pool thread. There are no sync forms: file I/O never
// runs on the event loop. Failures are Node-style errors (`code` 'ENOENT', 'ENOSPC', ..., `syscall`, `path`),
// so callers handle them as they handled node:fs's.
import { constants } from 'node:os';
import { native } from './binding.js';

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/** The kernel's `errno <n> <syscall>` as the error node:fs would have thrown. */
function fsError(err: unknown, path: string): Error {
  const m = /^errno (\d+) (\w+)$/.exec((err as Error).message);
  if (!m) return err as Error;
  const errno = Number(m[1]);
  const code = ERRNO_NAMES.get(errno) ?? 'EIO';
  return Object.assign(new Error(`${code}: ${m[2]} '${path}'`), { code, errno: -errno, syscall: m[2], path });
}

/** Writes `data` as the whole file (created or truncated; `append`: appended) and closes it. */
export async function writeFile(path: string, data: Buffer, append = false): Promise<void> {
  try {
    await native.writeFileAsync(path, data, append);
  } catch (e) {
    throw fsError(e, path);
  }
}

/**
 * Appends `data` to the file (created when missing) and closes it; true when the file still had its name
 * after the write, false when another process replaced or removed it meanwhile (the bytes may be lost).
 */
export async function appendFileLinked(path: string, data: Buffer): Promise<boolean> {
  try {
    return await native.appendFileLinkedAsync(path, data);
  } catch (e) {
    throw fsError(e, path);
  }
}

/**
 * Writes `data` to `tmp` and renames it to `path` (its parent created when missing): readers see the old
 * file or the new one. On failure `tmp` is gone.
 */
export async function writeFileAtomic(tmp: string, data: Buffer, path: string): Promise<void> {
  try {
    await native.writeFileAtomicAsync(tmp, data, path);
  } catch (e) {
    throw fsError(e, path);
  }
}

/** The whole file, or null when it (or a parent directory) does not exist. */
export async function readFile(path: string): Promise<Buffer | null> {
  try {
    return (await native.readFileAsync(path, null))?.bytes ?? null;
  } catch (e) {
    throw fsError(e, path);
  }
}

/**
 * The file's identity (inode, size, mtime, ctime), its ctime in ms and its bytes, or null when it does not
 * exist. When the identity is still `known` (what an earlier call returned), the bytes are left out: one
 * stat, no read.
 */
export async function readFileIfChanged(
  path: string,
  known: string,
): Promise<{ id: string; ctimeMs: number; bytes?: Buffer } | null> {
  try {
    const r = await native.readFileAsync(path, known);
    return r && (r.bytes ? { id: r.id, ctimeMs: r.ctimeMs, bytes: r.bytes } : { id: r.id, ctimeMs: r.ctimeMs });
  } catch (e) {
    throw fsError(e, path);
  }
}
