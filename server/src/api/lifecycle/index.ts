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
import { currentExpiry } from './rules.js';

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

/**
 * x-amz-expiration for a current version an Expiration rule will expire: `expiry-date="<HTTP date>",
 * rule-id="<id>"` (the earliest rule when several name it). Nothing for noncurrent versions and delete markers.
 */
export async function expirationHeader(ctx: ApiContext, info: ObjectInfo): Promise<Record<string, string>> {
  if (!info.isLatest || info.deleteMarker) return {};
  const { lifecycle } = await bucketSettings(ctx, info.bucket);
  const expiry = currentExpiry(lifecycle, info, ctx.lifecycleDayMs);
  if (!expiry) return {};
  // A rule ID is any text: quotes and backslashes escaped, and bytes outside ISO-8859-1 cannot be in a header.
  const id = expiry.ruleId.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[^\x20-\x7e]/g, '?');
  return { 'x-amz-expiration': `expiry-date="${httpDate(new Date(expiry.due))}", rule-id="${id}"` };
}
