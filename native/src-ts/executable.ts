// The addon inside the `cairn` single executable (scripts/build-binary.mjs): it travels as a SEA asset, and a
// shared library can only be loaded from a file, so it is written once to a private cache folder (this user's,
// mode 0700) under a name made of its SHA-256 (computed at build time, an asset too), then loaded with
// process.dlopen. It is written through a temp file and a rename, so processes starting together (--workers)
// never load half a file; a file of another size under that name is written again.
import { randomUUID } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { getAsset, getRawAsset } from 'node:sea';

/** The assets' names, as scripts/build-binary.mjs stores them: the addon, and its SHA-256 in hex. */
export const ADDON_ASSET = 'cairn-native.node';
export const ADDON_HASH_ASSET = 'cairn-native.sha256';

export function loadFromExecutable<T>(): T {
  const bytes = new Uint8Array(getRawAsset(ADDON_ASSET));
  const hash = getAsset(ADDON_HASH_ASSET, 'utf8').trim();
  const file = join(privateDir(), `cairn-native-${hash.slice(0, 32)}.node`);
  if (statSync(file, { throwIfNoEntry: false })?.size !== bytes.length) {
    const tmp = `${file}.${randomUUID()}.tmp`;
    try {
      writeFileSync(tmp, bytes, { mode: 0o500 });
      renameSync(tmp, file);
    } finally {
      rmSync(tmp, { force: true });
    }
  }
  const module = { exports: {} as T };
  process.dlopen(module, file);
  return module.exports;
}

/** `$XDG_CACHE_HOME/cairn` or `~/.cache/cairn`; when that cannot be made, `$TMPDIR/cairn-UID`. Checked. */
function privateDir(): string {
  const uid = process.getuid?.() ?? -1;
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  for (const dir of [join(cache, 'cairn'), join(tmpdir(), `cairn-${uid}`)]) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch {
      continue;
    }
    // Another user could have made the folder first (a shared /tmp): only our own folder is used, closed.
    const st = lstatSync(dir);
    if (!st.isDirectory() || (uid >= 0 && st.uid !== uid)) continue;
    if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
    return dir;
  }
  throw new Error(
    "cairn: no private folder to unpack the native addon into (~/.cache/cairn or $TMPDIR/cairn-UID, this user's)",
  );
}
