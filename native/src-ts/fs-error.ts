// The native file kernels (files.rs, frames.rs) fail with `errno <n> <syscall>`; their TS faces turn that
// into the error node:fs would have thrown (`code` 'ENOENT', 'ENOSPC', ..., `syscall`, `path`), so callers
// handle them as they handled node:fs's.
import { constants } from 'node:os';

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/** The kernel's `errno <n> <syscall>` as the error node:fs would have thrown. */
export function fsError(err: unknown, path: string): Error {
  const m = /^errno (\d+) (\w+)$/.exec((err as Error).message);
  if (!m) return err as Error;
  const errno = Number(m[1]);
  const code = ERRNO_NAMES.get(errno) ?? 'EIO';
  return Object.assign(new Error(`${code}: ${m[2]} '${path}'`), { code, errno: -errno, syscall: m[2], path });
}
