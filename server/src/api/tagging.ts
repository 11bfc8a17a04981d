// Bucket and object tagging (Tagging XML documents). Bucket tag sets are stored as the validated XML
// document; object tag sets as the URL-encoded form that x-amz-tagging uses.
import { S3Error } from '../errors.js';
import { refuseTaggingUnderAbac } from './bucket-abac.js';
import { readableVersion } from './object-read.js';
import { readDocument } from './request-body.js';
import { parseTaggingXml, queryToTags, tagsToQuery, type Tag } from './tags.js';
import type { ObjectInfo } from '../storage/object-layer.js';
import {
  emptyResponse,
  xmlResponse,
  type ApiContext,
  type MetadataChange,
  type S3Request,
  type S3Response,
} from './types.js';
import { toXml } from './xml.js';

export const taggingXml = (tags: Tag[]): string => toXml('Tagging', { TagSet: { Tag: tags } });

export async function getBucketTagging(ctx: ApiContext, bucket: string): Promise<S3Response> {
  const cfg = await ctx.storage.getBucketConfig(bucket);
  if (!cfg.tagging) throw new S3Error('NoSuchTagSet');
  return xmlResponse(cfg.tagging);
}

export async function putBucketTagging(ctx: ApiContext, req: S3Request, bucket: string): Promise<S3Response> {
  await refuseTaggingUnderAbac(ctx, bucket);
  const tags = parseTaggingXml(await readDocument(req), 'bucket');
  await ctx.storage.updateBucketConfig(bucket, { tagging: taggingXml(tags) });
  // AWS documents 204, but minio-js accepts only 200 (its users could not tag buckets); AWS SDKs take both.
  return emptyResponse(200);
}

export async function deleteBucketTagging(ctx: ApiContext, bucket: string): Promise<S3Response> {
  await refuseTaggingUnderAbac(ctx, bucket);
  await ctx.storage.updateBucketConfig(bucket, { tagging: null });
  return emptyResponse(204);
}

const tagsChanged = (info: ObjectInfo): MetadataChange => ({
  key: info.key,
  versionId: info.versionId,
  what: 'tagging',
});

function versionHeader(v: string): Record<string, string> {
  return v && v !== 'null' ? { 'x-amz-version-id': v } : {};
}

export async function getObjectTagging(
  ctx: ApiContext,
  bucket: string,
  key: string,
  versionId?: string,
): Promise<S3Response> {
  const info = await readableVersion(ctx, bucket, key, versionId);
  return xmlResponse(taggingXml(queryToTags(info.tagging)), 200, versionHeader(info.versionId));
}

export async function putObjectTagging(
  ctx: ApiContext,
  req: S3Request,
  bucket: string,
  key: string,
  versionId?: string,
): Promise<S3Response> {
  const tags = parseTaggingXml(await readDocument(req), 'object');
  const info = await ctx.storage.updateObjectMetadata(bucket, key, { versionId, tagging: tagsToQuery(tags) });
  return { ...emptyResponse(200, versionHeader(info.versionId)), metadataChange: tagsChanged(info) };
}

export async function deleteObjectTagging(
  ctx: ApiContext,
  bucket: string,
  key: string,
  versionId?: string,
): Promise<S3Response> {
  const info = await ctx.storage.updateObjectMetadata(bucket, key, { versionId, tagging: null });
  return { ...emptyResponse(204, versionHeader(info.versionId)), metadataChange: tagsChanged(info) };
}
