// Listings of the NAS gateway, straight from the folders: a depth-first walk that visits each folder's
// entries in S3's key order (a folder `d` sorts as `d/`, so `d-x` comes before everything in `d`, and
// `d0` after), which yields every key of a bucket in order without reading the whole tree. An empty folder is
// a key of its own, `d/` (a folder marker, folders.ts); one with content is seen through its content. A listing
// starts in the deepest folder its prefix names, skips what sorts before its marker folder by folder, and with
// the `/` delimiter stops at folders (a common prefix, shown only when some key lies below it).
import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Stats } from 'node:fs';
import { compareKeys } from '../meta/key-path.js';
import type { NasPaths } from './paths.js';

export type NasItem = { kind: 'file' | 'folder'; key: string; path: string } | { kind: 'prefix'; key: string };

export interface WalkOptions {
  prefix: string;
  delimiter?: string;
  /** Only keys (and prefixes) after this one. */
  after?: string;
  /** Empty folders are keys (`d/`); false for Cairn's own bucket, which holds only files. */
  folders: boolean;
}

/** Folders walked at most this deep below where a listing starts (deeper ones are not listed). */
const MAX_DEPTH = 64;

interface Entry {
  name: string;
  /** `name`, with `/` for a folder: what it sorts as. */
  sortName: string;
  dir: boolean;
  path: string;
}

/**
 * Every key of the bucket folder `base` (resolved) matching the options, in key order; with the `/`
 * delimiter, folders come as prefixes instead of their content.
 */
export async function* walkBucket(
  paths: NasPaths,
  bucket: string,
  base: string,
  o: WalkOptions,
): AsyncGenerator<NasItem> {
  const cut = o.prefix.lastIndexOf('/');
  const dirKey = cut < 0 ? '' : o.prefix.slice(0, cut + 1);
  const rest = o.prefix.slice(cut + 1);
  // A prefix whose folder part no key can have (`..`, `//`) matches nothing.
  const segs = dirKey === '' ? [] : dirKey.slice(0, -1).split('/');
  if (segs.some((s) => s === '' || s === '.' || s === '..' || s.includes('\0'))) return;
  const start = await realpath(join(base, ...segs)).catch(() => null);
  if (!start || !paths.inside(bucket, start, base)) return;
  yield* walkDir(paths, bucket, base, start, dirKey, rest, o, 0);
}

async function* walkDir(
  paths: NasPaths,
  bucket: string,
  base: string,
  dir: string,
  dirKey: string,
  startsWith: string,
  o: WalkOptions,
  depth: number,
): AsyncGenerator<NasItem> {
  if (depth > MAX_DEPTH) return;
  const list = await entries(paths, bucket, base, dir, startsWith);
  if (list === null) return; // gone, or not a folder
  // An empty folder below the bucket's is a key (`d/`), unless only some of its names were read (startsWith).
  if (o.folders && list.length === 0 && startsWith === '' && dirKey !== '') {
    if (o.after === undefined || compareKeys(dirKey, o.after) > 0) yield { kind: 'folder', key: dirKey, path: dir };
    return;
  }
  for (const e of list) {
    const key = dirKey + e.sortName;
    if (o.after !== undefined && compareKeys(key, o.after) <= 0 && !(e.dir && o.after.startsWith(key))) continue;
    if (!e.dir) {
      yield { kind: 'file', key, path: e.path };
      continue;
    }
    // The delimiter `/` right after the prefix: the folder is one common prefix.
    if (o.delimiter === '/' && key.length > o.prefix.length) {
      if (o.after === undefined || compareKeys(key, o.after) > 0) {
        if (await holdsKey(paths, bucket, base, e.path, o.folders, 0)) yield { kind: 'prefix', key };
      } else if (o.after !== key) {
        // The marker is a key inside the folder: the prefix counts if a file after the marker is in it.
        const inner = { prefix: key, after: o.after, folders: o.folders };
        for await (const _ of walkDir(paths, bucket, base, e.path, key, '', inner, depth + 1)) {
          yield { kind: 'prefix', key };
          break;
        }
      }
      continue;
    }
    yield* walkDir(paths, bucket, base, e.path, key, '', o, depth + 1);
  }
}

/**
 * A folder's entries that can be keys, in key order; symlinks only where they stay in the bucket. Null when
 * `dir` cannot be read (gone, or not a folder).
 */
async function entries(
  paths: NasPaths,
  bucket: string,
  base: string,
  dir: string,
  startsWith: string,
): Promise<Entry[] | null> {
  let found: Dirent[];
  try {
    found = await readdir(dir, { withFileTypes: true });
  } catch {
    return null;
  }
  const out: Entry[] = [];
  for (const d of found) {
    if (!d.name.startsWith(startsWith) || d.name.includes('\uFFFD')) continue; // not UTF-8: no key names it
    const path = join(dir, d.name);
    let isDir = d.isDirectory();
    if (d.isSymbolicLink()) {
      const real = await realpath(path).catch(() => null);
      if (!real || !paths.inside(bucket, real, base)) continue;
      const st: Stats | null = await stat(real).catch(() => null);
      if (!st || (!st.isFile() && !st.isDirectory())) continue;
      isDir = st.isDirectory();
      // A link to a folder is walked as that folder; one to a folder above it would loop (MAX_DEPTH bounds it).
      out.push({ name: d.name, sortName: isDir ? `${d.name}/` : d.name, dir: isDir, path: real });
      continue;
    }
    if (!isDir && !d.isFile()) continue; // sockets, fifos, devices
    out.push({ name: d.name, sortName: isDir ? `${d.name}/` : d.name, dir: isDir, path });
  }
  return out.sort((a, b) => compareKeys(a.sortName, b.sortName));
}

/** Some key lies in `dir` or below it: a file, or (with `folders`) an empty folder, `dir` itself included. */
async function holdsKey(
  paths: NasPaths,
  bucket: string,
  base: string,
  dir: string,
  folders: boolean,
  depth: number,
): Promise<boolean> {
  if (depth > MAX_DEPTH) return false;
  const list = await entries(paths, bucket, base, dir, '');
  if (list === null) return false;
  if (list.length === 0) return folders;
  if (list.some((e) => !e.dir)) return true;
  for (const e of list) if (await holdsKey(paths, bucket, base, e.path, folders, depth + 1)) return true;
  return false;
}
