// ListObjects v1 and v2 and ListObjectVersions, with S3's exact shapes (IsTruncated always present: the
// AWS CRT parser is strict) and encoding-type=url.
import { S3Error } from '../errors.js';
import type { ObjectInfo } from '../storage/object-layer.js';
import type { ListV1Params, ListV2Params } from './operation.js';
import { quoteEtag } from './object-headers.js';
import { xmlResponse, type ApiContext, type S3Response } from './types.js';
import { escapeXml, XmlRaw, XmlSequence, toXml, type XmlValue } from './xml.js';

/** encoding-type=url: keys and prefixes percent-encoded the way S3 does it (`/` kept, space as %20). */
export function encoder(type: 'url' | undefined): (s: string | undefined) => string | undefined {
  if (type !== 'url') return (s) => s;
  return (s) =>
    s === undefined
      ? undefined
      : encodeURIComponent(s)
          .replace(/%2F/g, '/')
          .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function owner(ctx: ApiContext): XmlValue {
  return { ID: ctx.owner.id, DisplayName: ctx.owner.displayName };
}

/**
 * A `<Contents>` entry of ListObjects v1/v2, written directly (XmlRaw: the generic builder costs 2-3x more, and
 * a page has up to 1000 of them); the same bytes as toXml gives for {Key, LastModified, ETag, ChecksumAlgorithm,
 * ChecksumType, Size, Owner, StorageClass}.
 */
export function contents(
  o: ObjectInfo,
  enc: (s: string) => string | undefined,
  owner: { id: string; displayName: string } | undefined,
): XmlRaw {
  const key = enc(o.key);
  let x = key === undefined ? '<Contents>' : `<Contents><Key>${escapeXml(key)}</Key>`;
  x += `<LastModified>${o.lastModified.toISOString()}</LastModified><ETag>${escapeXml(quoteEtag(o.etag))}</ETag>`;
  const c = o.checksum;
  if (c?.algorithm !== undefined) x += `<ChecksumAlgorithm>${escapeXml(c.algorithm)}</ChecksumAlgorithm>`;
  if (c?.type !== undefined) x += `<ChecksumType>${escapeXml(c.type)}</ChecksumType>`;
  x += `<Size>${o.size}</Size>`;
  if (owner)
    x += `<Owner><ID>${escapeXml(owner.id)}</ID><DisplayName>${escapeXml(owner.displayName)}</DisplayName></Owner>`;
  if (o.storageClass !== undefined) x += `<StorageClass>${escapeXml(o.storageClass)}</StorageClass>`;
  return new XmlRaw(`${x}</Contents>`);
}

const tokenOf = (after: string): string => Buffer.from(after, 'utf8').toString('base64url');
function afterOf(token: string): string {
  const s = Buffer.from(token, 'base64url').toString('utf8');
  if (tokenOf(s) !== token.replace(/=+$/, ''))
    throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', {
      ArgumentName: 'continuation-token',
    });
  return s;
}

export async function listObjectsV2(ctx: ApiContext, bucket: string, p: ListV2Params): Promise<S3Response> {
  const enc = encoder(p.encodingType);
  let after = p.startAfter || undefined;
  // An empty token means "from the start" (and is echoed back), as S3 does.
  if (p.continuationToken) after = afterOf(p.continuationToken);
  const r =
    p.maxKeys === 0
      ? (await ctx.storage.headBucket(bucket),
        { objects: [], commonPrefixes: [], isTruncated: false, nextAfter: undefined })
      : await ctx.storage.listObjects(bucket, {
          prefix: p.prefix || undefined,
          delimiter: p.delimiter,
          after,
          maxKeys: p.maxKeys,
        });
  return xmlResponse(
    toXml('ListBucketResult', {
      Name: bucket,
      Prefix: enc(p.prefix) ?? '',
      Delimiter: enc(p.delimiter),
      MaxKeys: p.maxKeys,
      EncodingType: p.encodingType,
      KeyCount: r.objects.length + r.commonPrefixes.length,
      IsTruncated: r.isTruncated,
      ContinuationToken: p.continuationToken,
      NextContinuationToken: r.isTruncated && r.nextAfter !== undefined ? tokenOf(r.nextAfter) : undefined,
      StartAfter: p.startAfter ? enc(p.startAfter) : undefined,
      Contents: r.objects.map((o) => contents(o, enc as (s: string) => string, p.fetchOwner ? ctx.owner : undefined)),
      CommonPrefixes: r.commonPrefixes.map((cp) => ({ Prefix: enc(cp) })),
    }),
  );
}

export async function listObjectsV1(ctx: ApiContext, bucket: string, p: ListV1Params): Promise<S3Response> {
  const enc = encoder(p.encodingType);
  const r =
    p.maxKeys === 0
      ? (await ctx.storage.headBucket(bucket),
        { objects: [], commonPrefixes: [], isTruncated: false, nextAfter: undefined })
      : await ctx.storage.listObjects(bucket, {
          prefix: p.prefix || undefined,
          delimiter: p.delimiter,
          after: p.marker || undefined,
          maxKeys: p.maxKeys,
        });
  return xmlResponse(
    toXml('ListBucketResult', {
      Name: bucket,
      // ListObjects v1 echoes Prefix as sent even with encoding-type=url (botocore does not decode it).
      Prefix: p.prefix,
      Marker: enc(p.marker) ?? '',
      NextMarker: r.isTruncated && p.delimiter !== undefined ? enc(r.nextAfter) : undefined,
      MaxKeys: p.maxKeys,
      Delimiter: enc(p.delimiter),
      EncodingType: p.encodingType,
      IsTruncated: r.isTruncated,
      Contents: r.objects.map((o) => contents(o, enc as (s: string) => string, ctx.owner)),
      CommonPrefixes: r.commonPrefixes.map((cp) => ({ Prefix: enc(cp) })),
    }),
  );
}

export async function listObjectVersions(
  ctx: ApiContext,
  bucket: string,
  p: {
    prefix: string;
    delimiter?: string;
    keyMarker: string;
    versionIdMarker?: string;
    maxKeys: number;
    encodingType?: 'url';
  },
): Promise<S3Response> {
  const enc = encoder(p.encodingType);
  if (p.versionIdMarker !== undefined && p.keyMarker === '')
    throw new S3Error('InvalidArgument', 'A version-id marker cannot be specified without a key marker.', {
      ArgumentName: 'version-id-marker',
    });
  const r = await ctx.storage.listObjectVersions(bucket, {
    prefix: p.prefix || undefined,
    delimiter: p.delimiter,
    keyMarker: p.keyMarker || undefined,
    versionIdMarker: p.versionIdMarker,
    maxKeys: p.maxKeys,
  });
  // Versions and delete markers interleave in key/version order (newest first), as S3 sends them: SDKs
  // that read the document in order (minio-go, minio-js) take the first entry as the newest.
  const entries = new XmlSequence(
    r.versions.map((v): [string, XmlValue] =>
      v.deleteMarker
        ? [
            'DeleteMarker',
            {
              Key: enc(v.key),
              VersionId: v.versionId,
              IsLatest: v.isLatest,
              LastModified: v.lastModified,
              Owner: owner(ctx),
            },
          ]
        : [
            'Version',
            {
              Key: enc(v.key),
              VersionId: v.versionId,
              IsLatest: v.isLatest,
              LastModified: v.lastModified,
              ETag: quoteEtag(v.etag),
              ChecksumAlgorithm: v.checksum?.algorithm,
              ChecksumType: v.checksum?.type,
              Size: v.size,
              StorageClass: v.storageClass,
              Owner: owner(ctx),
            },
          ],
    ),
  );
  return xmlResponse(
    toXml('ListVersionsResult', {
      Name: bucket,
      Prefix: enc(p.prefix) ?? '',
      KeyMarker: enc(p.keyMarker) ?? '',
      VersionIdMarker: p.versionIdMarker ?? '',
      NextKeyMarker: r.isTruncated ? enc(r.nextKeyMarker) : undefined,
      NextVersionIdMarker: r.isTruncated ? r.nextVersionIdMarker : undefined,
      MaxKeys: p.maxKeys,
      Delimiter: enc(p.delimiter),
      EncodingType: p.encodingType,
      IsTruncated: r.isTruncated,
      Entries: entries,
      CommonPrefixes: r.commonPrefixes.map((cp) => ({ Prefix: enc(cp) })),
    }),
  );
}
