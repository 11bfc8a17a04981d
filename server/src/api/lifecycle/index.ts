// Bucket lifecycle: Put/Get/DeleteBucketLifecycleConfiguration, and the x-amz-expiration answer of PUT, GET
// and HEAD. The document's rules are in config.ts, what they decide in rules.ts, the background work that
// applies them in scanner.ts.
import { S3Error } from '../../errors.js';
import type { ObjectInfo } from '../../storage/object-layer.js';
import { bucketSettings } from '../bucket-settings.js';
import { httpDate } from '../object-headers.js';
import { requireDigest } from '../object-lock.js';
import { MAX_DOC_BYTES, readDocument } from '../request-body.js';
import { emptyResponse, xmlResponse, type ApiContext, type S3Request, type S3Response } from '../types.js';
import {
  MAX_ELEMENTS_PER_RULE,
  MAX_RULES,
  lifecycleXml,
  parseLifecycleConfiguration,
  transitionClasses,
} from './config.js';
import { currentExpiry, noncurrentExpiry, ruleMatches } from './rules.js';

export { LifecycleScanner, type ScanReport } from './scanner.js';

export async function getBucketLifecycle(ctx: ApiContext, bucket: string): Promise<S3Response> {
  const { config } = await bucketSettings(ctx, bucket);
  if (!config.lifecycle) throw new S3Error('NoSuchLifecycleConfiguration');
  return xmlResponse(config.lifecycle);
}

/** Replaces the bucket's lifecycle configuration; a document that does not validate changes nothing. */
export async function putBucketLifecycle(ctx: ApiContext, req: S3Request, bucket: string): Promise<S3Response> {
  requireDigest(req.headers, 'PutBucketLifecycleConfiguration requests');
  await ctx.storage.headBucket(bucket);
  const doc = await readDocument(req, MAX_DOC_BYTES, { maxElements: MAX_RULES * MAX_ELEMENTS_PER_RULE + 16 });
  const config = parseLifecycleConfiguration(doc);
  // A transition names a configured remote tier (MinIO answers InvalidStorageClass otherwise).
  for (const storageClass of transitionClasses(config)) {
    if (!(await ctx.tiers?.get(storageClass)))
      throw new S3Error('InvalidStorageClass', `No remote tier is named ${storageClass}`);
  }
  await ctx.storage.updateBucketConfig(bucket, { lifecycle: lifecycleXml(config) });
  return emptyResponse(200);
}

export async function deleteBucketLifecycle(ctx: ApiContext, bucket: string): Promise<S3Response> {
  await ctx.storage.headBucket(bucket);
  await ctx.storage.updateBucketConfig(bucket, { lifecycle: null });
  return emptyResponse(204);
}

/** Versions of one key looked through to find a noncurrent version's successor; past this, no header. */
const MAX_NEWER_VERSIONS = 10_000;

/**
 * x-amz-expiration for a version an expiration rule will remove: `expiry-date="<HTTP date>", rule-id="<id>"`
 * (the earliest rule when several name it). The current version: Expiration (Days or Date). A noncurrent
 * version (GET/HEAD with its versionId): NoncurrentVersionExpiration, counted from when its successor was
 * written, as MinIO answers. Nothing for delete markers.
 */
export async function expirationHeader(ctx: ApiContext, info: ObjectInfo): Promise<Record<string, string>> {
  if (info.deleteMarker) return {};
  const { lifecycle } = await bucketSettings(ctx, info.bucket);
  if (!lifecycle) return {};
  const expiry = info.isLatest
    ? currentExpiry(lifecycle, info, ctx.lifecycleDayMs)
    : lifecycle.rules.some((r) => r.noncurrentExpiration && ruleMatches(r, info))
      ? noncurrentExpiry(lifecycle, info, await newerVersions(ctx, info), ctx.lifecycleDayMs)
      : undefined;
  if (!expiry) return {};
  // A rule ID is any text: quotes and backslashes escaped, and bytes outside ISO-8859-1 cannot be in a header.
  const id = expiry.ruleId.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[^\x20-\x7e]/g, '?');
  return { 'x-amz-expiration': `expiry-date="${httpDate(new Date(expiry.due))}", rule-id="${id}"` };
}

/** The key's versions newer than `info`, newest first ([] when there are more than MAX_NEWER_VERSIONS). */
async function newerVersions(ctx: ApiContext, info: ObjectInfo): Promise<ObjectInfo[]> {
  const newer: ObjectInfo[] = [];
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  while (newer.length <= MAX_NEWER_VERSIONS) {
    const page = await ctx.storage.listObjectVersions(info.bucket, {
      prefix: info.key,
      keyMarker,
      versionIdMarker,
      maxKeys: 1000,
    });
    for (const v of page.versions) {
      if (v.key !== info.key) return [];
      if (v.versionId === info.versionId) return newer;
      newer.push(v);
    }
    if (!page.isTruncated) return [];
    keyMarker = page.nextKeyMarker;
    versionIdMarker = page.nextVersionIdMarker;
  }
  return [];
}
