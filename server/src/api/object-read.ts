// Reading a version as S3 answers it: the one place for S3's rules on delete markers and parts. Storage
// resolves a version (delete markers included) and reads byte ranges; every API read of an object's data or
// metadata goes through here (GET/HEAD, SELECT, attributes, tagging, ACLs).
import { S3Error } from '../errors.js';
import type { ByteRange, ObjectInfo, OpenedObject } from '../storage/object-layer.js';
import { httpDate } from './object-headers.js';
import type { ApiContext } from './types.js';

/**
 * A delete marker has no data: named by version id it is 405 MethodNotAllowed, as the latest version the key
 * is NoSuchKey. Both answers say x-amz-delete-marker (clients look for it) and the marker's version.
 */
export function refuseDeleteMarker(info: ObjectInfo, versionId: string | undefined): void {
  if (!info.deleteMarker) return;
  const headers = {
    'x-amz-delete-marker': 'true',
    'x-amz-version-id': info.versionId,
    'last-modified': httpDate(info.lastModified),
  };
  throw new S3Error(versionId ? 'MethodNotAllowed' : 'NoSuchKey').withHeaders(headers);
}

/** The metadata of the version a request names (or the latest), refused when it is a delete marker. */
export async function readableVersion(
  ctx: ApiContext,
  bucket: string,
  key: string,
  versionId: string | undefined,
  readingParts?: boolean,
): Promise<ObjectInfo> {
  const info = await ctx.storage.headObject(bucket, key, { versionId, readingParts });
  refuseDeleteMarker(info, versionId);
  return info;
}

/** The version a request names (or the latest), opened for reading; refused when it is a delete marker. */
export async function openReadable(
  ctx: ApiContext,
  bucket: string,
  key: string,
  versionId: string | undefined,
): Promise<OpenedObject> {
  const opened = await ctx.storage.openObject(bucket, key, { versionId });
  refuseDeleteMarker(opened.info, versionId);
  return opened;
}

/**
 * Byte range of part `n` (1-based, counted in the object's part order, as MinIO and S3 number them for
 * partNumber reads). An object not made by multipart upload is its own part 1.
 */
export function partRange(info: ObjectInfo, n: number): ByteRange {
  const sizes = info.parts?.map((p) => p.size) ?? [info.size];
  if (!Number.isInteger(n) || n < 1 || n > sizes.length) {
    throw new S3Error('InvalidPart', 'The requested partnumber is not satisfiable');
  }
  let start = 0;
  for (let i = 0; i < n - 1; i++) start += sizes[i];
  return { start, end: start + sizes[n - 1] - 1 };
}
