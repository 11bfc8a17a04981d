// Keys -> files under the served folder, and the rules that keep every request inside it. A key is a path
// of `/`-separated segments below its bucket's folder; a key that cannot be such a path (`..`, `.`, empty
// segments, a leading or trailing `/`, NUL, a segment longer than a file name may be) is refused before any
// file is touched. Symlinks are followed only while they stay inside the bucket's own folder (a link to
// another bucket, to the hidden area or out of the folder is AccessDenied): a bucket policy cannot be
// walked around through a link.
import { lstat, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { S3Error } from '../../errors.js';
import { SYS_DIR } from '../drive/drive.js';
import { validateKey } from '../meta/key-path.js';
import { SYSTEM_BUCKET } from '../object-layer.js';

/** Longest file name most file systems take (NAME_MAX), in bytes. */
const NAME_MAX = 255;

/** Where a key's file is (or would be), as found on disk now. */
export interface ResolvedKey {
  /** The file's path with every symlink resolved (inside the bucket's real folder). */
  path: string;
  /** It exists now (as anything: file, folder, other). */
  exists: boolean;
}

/** Lookups of one key when its folders appear while it is being looked up (concurrent PUTs making them). */
const RESOLVE_ATTEMPTS = 4;

export class NasPaths {
  /** The hidden area at the top of the served folder: Cairn's side store, temp files, uploads, IAM. */
  readonly hidden: string;

  /** `root` is the served folder with its symlinks resolved (realpath). */
  constructor(readonly root: string) {
    this.hidden = join(root, SYS_DIR);
  }

  /** The bucket's folder as named (not resolved). Bucket names are validated by the caller. */
  bucketDir(bucket: string): string {
    return join(this.root, bucket);
  }

  /** The key's path segments, or the S3 error for a key no file can have. */
  segments(key: string): string[] {
    validateKey(key);
    if (key.startsWith('/')) throw invalidKey(key, 'an absolute path');
    if (key.endsWith('/')) throw invalidKey(key, 'a folder (a key ending in /)');
    const segs = key.split('/');
    for (const s of segs) {
      if (s === '') throw invalidKey(key, 'an empty path segment (//)');
      if (s === '.' || s === '..') throw invalidKey(key, `a '${s}' path segment`);
      if (s.includes('\0')) throw new S3Error('XMinioInvalidObjectName', 'A file name cannot hold a NUL character.');
      if (Buffer.byteLength(s) > NAME_MAX)
        throw new S3Error('KeyTooLongError', `A path segment of the key is longer than ${NAME_MAX} bytes.`);
    }
    return segs;
  }

  /** The bucket's folder with its symlinks resolved; NoSuchBucket when it is not a folder inside the root. */
  async bucketReal(bucket: string): Promise<string> {
    const dir = this.bucketDir(bucket);
    const real = await realpath(dir).catch(() => null);
    const st = real ? await stat(real).catch(() => null) : null;
    if (!real || !st?.isDirectory() || !this.inside(bucket, real, this.root))
      throw new S3Error('NoSuchBucket', undefined, { BucketName: bucket });
    return real;
  }

  /**
   * Where the key's file is: the deepest part of its path that exists, resolved, then the rest as named.
   * AccessDenied when a symlink on the way leads out of the bucket's folder; XMinioParentIsObject when a
   * segment before the last is a file.
   */
  async resolve(bucket: string, key: string, attempt = 0): Promise<ResolvedKey> {
    const segs = this.segments(key);
    const base = await this.bucketReal(bucket);
    for (let n = segs.length; n >= 0; n--) {
      const named = join(base, ...segs.slice(0, n));
      let real: string;
      try {
        real = await realpath(named);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') continue; // a part further up exists (the bucket's folder at least)
        if (code === 'ENOTDIR') throw new S3Error('XMinioParentIsObject');
        if (code === 'ELOOP') throw new S3Error('AccessDenied', 'The key leads through a symlink loop.');
        throw e;
      }
      if (!this.inside(bucket, real, base)) throw new S3Error('AccessDenied', 'The key leads out of its bucket.');
      if (n < segs.length) {
        const st = await stat(real).catch(() => null);
        if (st && !st.isDirectory()) throw new S3Error('XMinioParentIsObject');
        // realpath said the next one is missing, yet it is there: a dangling symlink, which a write would follow,
        // or a folder or link made meanwhile (another PUT making the same folders): then the key is looked up again.
        const next = await lstat(join(real, segs[n])).catch(() => null);
        if (next) {
          const dangling = next.isSymbolicLink() && !(await realpath(join(real, segs[n])).catch(() => null));
          if (dangling || attempt >= RESOLVE_ATTEMPTS)
            throw new S3Error('AccessDenied', 'The key leads through a dangling symlink.');
          return this.resolve(bucket, key, attempt + 1);
        }
      }
      return { path: join(real, ...segs.slice(n)), exists: n === segs.length };
    }
    throw new S3Error('NoSuchBucket', undefined, { BucketName: bucket });
  }

  /**
   * `real` (a resolved path) lies in `base`, and outside the hidden area unless the bucket is Cairn's own
   * (SYSTEM_BUCKET, a folder of the hidden area).
   */
  inside(bucket: string, real: string, base: string): boolean {
    if (real !== base && !real.startsWith(base + sep)) return false;
    if (bucket === SYSTEM_BUCKET) return true;
    return real !== this.hidden && !real.startsWith(this.hidden + sep);
  }

  /** The key of a file found by a listing (a path inside the bucket's real folder). */
  keyOf(bucketReal: string, path: string): string {
    return relative(bucketReal, path).split(sep).join('/');
  }
}

function invalidKey(key: string, what: string): S3Error {
  const shown = key.length > 64 ? `${key.slice(0, 64)}...` : key;
  return new S3Error('InvalidArgument', `The key '${shown}' names ${what}: no file in the folder can have it.`, {
    ArgumentName: 'key',
  });
}
