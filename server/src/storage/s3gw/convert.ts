// Between Cairn's storage types and the SDK's shapes: content headers, object infos from HEAD and listings,
// tag sets, copy sources, the listing order, and the streaming transform that hashes a PUT's body on its way
// to the backend.
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { S3Error } from '../../errors.js';
import { checksumHasher, type Hasher } from '../engine/checksum.js';
import type * as L from '../object-layer.js';
import { INTERNAL } from './internal-meta.js';

export const unquote = (etag: string | undefined) => (etag ?? '').replace(/^"|"$/g, '');
export const quote = (etag: string) => `"${etag}"`;

/** The SDK's fields for a new object's content headers (Cairn keeps them by lower-case header name). */
export function contentFields(h: Record<string, string> = {}) {
  const expires = h.expires !== undefined ? new Date(h.expires) : undefined;
  return {
    ContentType: h['content-type'],
    ContentEncoding: h['content-encoding'],
    CacheControl: h['cache-control'],
    ContentDisposition: h['content-disposition'],
    ContentLanguage: h['content-language'],
    Expires: expires && !Number.isNaN(expires.getTime()) ? expires : undefined,
  };
}

/**
 * Cairn's own entries in user metadata (`cairn:NAME`: an object's ACL) cannot be header names. They travel to
 * the backend as `x-amz-meta-cairn-gw-NAME` with the value URI-encoded (JSON, any characters), and come back
 * as they were. A client's own key of that form would pass as Cairn's on the way back: refused.
 */
const ON_BACKEND = 'cairn-gw-';

export function toBackendMetadata(meta: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!meta) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(meta)) {
    if (k.toLowerCase().startsWith(ON_BACKEND))
      throw new S3Error('InvalidArgument', `User metadata named ${ON_BACKEND}* is reserved by the S3 gateway.`, {
        ArgumentName: `x-amz-meta-${k}`,
      });
    if (k.startsWith(INTERNAL)) out[ON_BACKEND + k.slice(INTERNAL.length)] = encodeURIComponent(v);
    else out[k] = v;
  }
  return out;
}

export function fromBackendMetadata(meta: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(meta)) {
    if (!k.startsWith(ON_BACKEND)) out[k] = v;
    else {
      try {
        out[INTERNAL + k.slice(ON_BACKEND.length)] = decodeURIComponent(v);
      } catch {
        // not written by a gateway (a bad escape): left out, as an entry Cairn cannot read
      }
    }
  }
  return out;
}

interface HeadLike {
  ContentLength?: number;
  ETag?: string;
  LastModified?: Date;
  StorageClass?: string;
  VersionId?: string;
  ContentType?: string;
  ContentEncoding?: string;
  CacheControl?: string;
  ContentDisposition?: string;
  ContentLanguage?: string;
  Expires?: Date;
  ExpiresString?: string;
  Metadata?: Record<string, string>;
  ChecksumCRC32?: string;
  ChecksumCRC32C?: string;
  ChecksumCRC64NVME?: string;
  ChecksumSHA1?: string;
  ChecksumSHA256?: string;
  ChecksumType?: string;
  ObjectLockMode?: string;
  ObjectLockRetainUntilDate?: Date;
  ObjectLockLegalHoldStatus?: string;
}

/** The checksum algorithms S3 names (ChecksumCRC32, x-amz-checksum-crc32, ...). */
export const CHECKSUM_ALGORITHMS = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const;

export function infoFromHead(bucket: string, key: string, h: HeadLike, tags?: string): L.ObjectInfo {
  const contentHeaders: Record<string, string> = {};
  const put = (k: string, v: string | undefined) => v !== undefined && (contentHeaders[k] = v);
  put('content-type', h.ContentType);
  put('content-encoding', h.ContentEncoding);
  put('cache-control', h.CacheControl);
  put('content-disposition', h.ContentDisposition);
  put('content-language', h.ContentLanguage);
  put('expires', h.ExpiresString ?? h.Expires?.toUTCString());
  const info: L.ObjectInfo = {
    bucket,
    key,
    versionId: h.VersionId ?? 'null',
    isLatest: true,
    deleteMarker: false,
    size: h.ContentLength ?? 0,
    etag: unquote(h.ETag),
    lastModified: h.LastModified ?? new Date(0),
    storageClass: h.StorageClass ?? 'STANDARD',
    contentHeaders,
    userMetadata: fromBackendMetadata(h.Metadata ?? {}),
  };
  if (tags) info.tagging = tags;
  const lock = lockFromHead(h);
  if (lock) info.lock = lock;
  for (const alg of CHECKSUM_ALGORITHMS) {
    const value = h[`Checksum${alg}`];
    if (value)
      info.checksum = { algorithm: alg, type: h.ChecksumType === 'COMPOSITE' ? 'COMPOSITE' : 'FULL_OBJECT', value };
  }
  return info;
}

/** A version's object lock as the backend's HEAD or GET answer shows it (undefined: none shown). */
function lockFromHead(h: HeadLike): L.ObjectLock | undefined {
  const lock: L.ObjectLock = {};
  const until = h.ObjectLockRetainUntilDate;
  if (
    (h.ObjectLockMode === 'GOVERNANCE' || h.ObjectLockMode === 'COMPLIANCE') &&
    until &&
    !Number.isNaN(until.getTime())
  ) {
    lock.mode = h.ObjectLockMode;
    lock.retainUntil = until;
  }
  if (h.ObjectLockLegalHoldStatus === 'ON' || h.ObjectLockLegalHoldStatus === 'OFF')
    lock.legalHold = h.ObjectLockLegalHoldStatus === 'ON';
  return lock.mode || lock.legalHold !== undefined ? lock : undefined;
}

/** An object's info from the headers of the backend's GET answer (lower-case names), as from a HEAD. */
export function infoFromHeaders(bucket: string, key: string, h: Record<string, string>, tags?: string): L.ObjectInfo {
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(h))
    if (name.startsWith('x-amz-meta-')) metadata[name.slice('x-amz-meta-'.length)] = value;
  const lastModified = h['last-modified'] ? new Date(h['last-modified']) : undefined;
  const head: HeadLike = {
    ContentLength: Number(h['content-length'] ?? 0),
    ETag: h.etag,
    LastModified: lastModified && !Number.isNaN(lastModified.getTime()) ? lastModified : undefined,
    StorageClass: h['x-amz-storage-class'],
    VersionId: h['x-amz-version-id'],
    ContentType: h['content-type'],
    ContentEncoding: h['content-encoding'],
    CacheControl: h['cache-control'],
    ContentDisposition: h['content-disposition'],
    ContentLanguage: h['content-language'],
    ExpiresString: h.expires,
    Metadata: metadata,
    ChecksumType: h['x-amz-checksum-type'],
    ObjectLockMode: h['x-amz-object-lock-mode'],
    ObjectLockRetainUntilDate: h['x-amz-object-lock-retain-until-date']
      ? new Date(h['x-amz-object-lock-retain-until-date'])
      : undefined,
    ObjectLockLegalHoldStatus: h['x-amz-object-lock-legal-hold'],
  };
  for (const alg of CHECKSUM_ALGORITHMS) head[`Checksum${alg}`] = h[`x-amz-checksum-${alg.toLowerCase()}`];
  return infoFromHead(bucket, key, head, tags);
}

export interface ListedLike {
  Key?: string;
  Size?: number;
  ETag?: string;
  LastModified?: Date;
  StorageClass?: string;
  VersionId?: string;
  IsLatest?: boolean;
}

export function infoFromListing(bucket: string, o: ListedLike, deleteMarker = false): L.ObjectInfo {
  return {
    bucket,
    key: o.Key ?? '',
    versionId: o.VersionId ?? 'null',
    isLatest: o.IsLatest ?? true,
    deleteMarker,
    size: o.Size ?? 0,
    etag: unquote(o.ETag),
    lastModified: o.LastModified ?? new Date(0),
    storageClass: o.StorageClass ?? 'STANDARD',
    contentHeaders: {},
    userMetadata: {},
  };
}

/** `a=1&b=2` (x-amz-tagging's form, as Cairn keeps tags) <-> the SDK's TagSet. */
export function tagSet(tagging: string): { Key: string; Value: string }[] {
  return [...new URLSearchParams(tagging)].map(([Key, Value]) => ({ Key, Value }));
}

export function tagString(set: { Key?: string; Value?: string }[] | undefined): string | undefined {
  if (!set?.length) return undefined;
  return new URLSearchParams(set.map((t): [string, string] => [t.Key ?? '', t.Value ?? ''])).toString();
}

/**
 * Passes a body through while computing its MD5 (the ETag Cairn checks Content-MD5 against) and the asked
 * checksum, and holds back its last chunk until `verify` accepted what was computed: the backend gets its
 * last byte (and commits) only then, so a bad digest or a short body stores nothing.
 */
export class VerifyingBody extends Transform {
  private readonly md5 = createHash('md5');
  private readonly hasher?: Hasher;
  private held?: Buffer;
  /** Bytes seen so far (not `size`: lib-storage would read that as the body's declared length). */
  seen = 0;
  checksum?: Buffer;
  digest?: Buffer;

  constructor(private readonly opts: Pick<L.PutOptions, 'size' | 'checksumAlgorithm' | 'verify'>) {
    super();
    if (opts.checksumAlgorithm) this.hasher = checksumHasher(opts.checksumAlgorithm);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.md5.update(chunk);
    this.hasher?.update(chunk);
    this.seen += chunk.length;
    if (this.opts.size >= 0 && this.seen > this.opts.size) return done(new S3Error('IncompleteBody'));
    const prev = this.held;
    this.held = chunk;
    done(null, prev);
  }

  override _flush(done: TransformCallback): void {
    if (this.opts.size >= 0 && this.seen !== this.opts.size) return done(new S3Error('IncompleteBody'));
    this.digest = this.md5.digest();
    this.checksum = this.hasher?.digest();
    const computed = { md5: this.digest, checksum: this.checksum, size: this.seen };
    Promise.resolve()
      .then(() => this.opts.verify?.(computed))
      .then(
        () => done(null, this.held),
        (e: unknown) => done(e as Error),
      );
  }

  storedChecksum(): L.StoredChecksum | undefined {
    if (!this.checksum || !this.opts.checksumAlgorithm) return undefined;
    return { algorithm: this.opts.checksumAlgorithm, type: 'FULL_OBJECT', value: this.checksum.toString('base64') };
  }
}

/** x-amz-copy-source of a version: bucket/key URL-encoded, with its version id when there is one. */
export function copySource(bucket: string, key: string, versionId: string | undefined): string {
  const path = `${encodeURIComponent(bucket)}/${encodeURIComponent(key)}`;
  return versionId ? `${path}?versionId=${encodeURIComponent(versionId)}` : path;
}

/** S3 orders keys by their UTF-8 bytes. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

type Entry = { name: string; prefix?: undefined; object: ListedLike } | { name: string; prefix: string };

/** The backend's objects and common prefixes of one page, in S3's one order. */
export function mergeListing(objects: ListedLike[], prefixes: { Prefix?: string }[]): Entry[] {
  const all: Entry[] = [
    ...objects.map((o) => ({ name: o.Key ?? '', object: o })),
    ...prefixes.map((p) => ({ name: p.Prefix ?? '', prefix: p.Prefix ?? '' })),
  ];
  return all.sort((a, b) => compareKeys(a.name, b.name));
}
