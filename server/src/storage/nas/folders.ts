// Folder markers in the NAS gateway. Clients that think in folders (pyarrow's create_dir and write_dataset,
// Hadoop s3a's mkdirs, the AWS console) PUT an empty object whose key ends in `/`; here such a key is the folder
// itself. An empty PUT of `x/` makes the folder (mkdir -p), a non-empty one is refused (no file can be named
// `x/`); HEAD and GET of `x/` answer an empty object while the folder exists (with content or not); DELETE
// removes it when it is empty, and leaves a folder with content as it is (204, as MinIO's fs mode did: its
// content still makes the prefix); an empty folder is listed as its `x/` key (listing.ts), one with content
// through its content. Folders carry no metadata or tags: asked for, they are refused, never dropped.
import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import type { Readable } from 'node:stream';
import { S3Error } from '../../errors.js';
import { checksumHasher } from '../engine/checksum.js';
import type { ChecksumAlgorithm, ObjectInfo, PutOptions } from '../object-layer.js';

/** A folder's ETag: the MD5 of no bytes (what MinIO's fs mode answered for folders). */
export const FOLDER_ETAG = 'd41d8cd98f00b204e9800998ecf8427e';
/** The Content-Type pyarrow and Hadoop s3a give their folder markers. */
export const FOLDER_CONTENT_TYPE = 'application/x-directory';

export const isFolderKey = (key: string): boolean => key.endsWith('/');

/** The folder's path in the bucket (`a/b/` -> `a/b`); NasPaths refuses what no folder can be (`/`, `a//`). */
export const folderPath = (key: string): string => key.slice(0, -1);

/** What an empty PUT of `x/` may ask beside the folder: anything a folder cannot keep is refused. */
export function checkFolderPut(key: string, opts: PutOptions): void {
  if (opts.size > 0) throw notEmpty(key);
  const keep = (name: string) =>
    new S3Error('NotImplemented', `A folder (${key}) cannot keep ${name} in the NAS gateway.`);
  if (Object.keys(opts.userMetadata ?? {}).length > 0) throw keep('user metadata or an ACL');
  if (opts.tagging) throw keep('tags');
  // The Content-Type is the folder's own (application/x-directory); other content headers would be lost.
  const other = Object.keys(opts.contentHeaders ?? {}).filter((h) => h !== 'content-type');
  if (other.length > 0) throw keep(other.join(', '));
}

function notEmpty(key: string): S3Error {
  return new S3Error('InvalidArgument', `The key '${key}' names a folder: only an empty body can create it.`, {
    ArgumentName: 'key',
  });
}

/** Reads a folder PUT's body (a declared size of -1 is allowed), refusing any byte; its MD5 and checksum. */
export async function emptyBody(
  key: string,
  body: Readable,
  algorithm: ChecksumAlgorithm | undefined,
): Promise<{ md5: Buffer; checksum?: Buffer; size: number }> {
  for await (const chunk of body as AsyncIterable<Buffer>) if (chunk.length > 0) throw notEmpty(key);
  return { md5: createHash('md5').digest(), checksum: algorithm && checksumHasher(algorithm).digest(), size: 0 };
}

/** The empty object a folder answers as. */
export function folderInfo(bucket: string, key: string, st: BigIntStats): ObjectInfo {
  return {
    bucket,
    key,
    versionId: 'null',
    isLatest: true,
    deleteMarker: false,
    size: 0,
    etag: FOLDER_ETAG,
    lastModified: new Date(Number(st.mtimeMs)),
    storageClass: 'STANDARD',
    contentHeaders: { 'content-type': FOLDER_CONTENT_TYPE },
    userMetadata: {},
  };
}
