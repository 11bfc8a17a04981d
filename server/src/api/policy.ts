// Bucket policy documents: Get/Put/Delete and policy status.
import { S3Error } from '../errors.js';
import { hasPublicGrant } from './acl.js';
import { parsePolicy } from './bucket-policy.js';
import { bucketSettings } from './bucket-settings.js';
import { readDocument } from './request-body.js';
import { emptyResponse, xmlResponse, type ApiContext, type S3Request, type S3Response } from './types.js';
import { toXml } from './xml.js';

export async function getBucketPolicy(ctx: ApiContext, bucket: string): Promise<S3Response> {
  const { config } = await bucketSettings(ctx, bucket);
  if (!config.policy) throw new S3Error('NoSuchBucketPolicy');
  return { status: 200, headers: { 'content-type': 'application/json' }, body: config.policy };
}

export async function putBucketPolicy(ctx: ApiContext, req: S3Request, bucket: string): Promise<S3Response> {
  const text = await readDocument(req, 20 * 1024, { maxElements: Infinity }); // JSON: any number of '<'
  const parsed = parsePolicy(text, bucket);
  const blocked = (await bucketSettings(ctx, bucket)).publicAccessBlock.BlockPublicPolicy;
  if (parsed.isPublic && blocked) throw new S3Error('AccessDenied');
  await ctx.storage.updateBucketConfig(bucket, { policy: text });
  return emptyResponse(204);
}

export async function deleteBucketPolicy(ctx: ApiContext, bucket: string): Promise<S3Response> {
  await ctx.storage.headBucket(bucket);
  await ctx.storage.updateBucketConfig(bucket, { policy: null });
  return emptyResponse(204);
}

export async function getBucketPolicyStatus(ctx: ApiContext, bucket: string): Promise<S3Response> {
  const s = await bucketSettings(ctx, bucket);
  // A bucket is public through its policy or through an ACL that grants to AllUsers/AuthenticatedUsers.
  return xmlResponse(toXml('PolicyStatus', { IsPublic: (s.policy?.isPublic ?? false) || hasPublicGrant(s.acl) }));
}
