// Bucket operations: create, head, delete, list buckets, location, versioning, ACL (owner-only).
import { S3Error, isS3Error } from '../errors.js';
import type { VersioningState } from '../storage/object-layer.js';
import type { ListBucketsParams } from './operation.js';
import { checkOwnership, ownershipXml } from './access-config.js';
import {
  accounts,
  aclXml,
  cannedAcl,
  checkAclAllowed,
  objectAcl,
  parseAclDocument,
  requestedAcl,
  withObjectAcl,
  type Acl,
} from './acl.js';
import { isAllowedOutsideBuckets } from './authorize.js';
import { s3Arn } from './bucket-policy.js';
import { bucketSettings, type BucketSettings } from './bucket-settings.js';
import type { ConditionContext } from './policy-conditions.js';
import { readableVersion } from './object-read.js';
import { checkBucketName } from './names.js';
import { readDocument } from './request-body.js';
import { taggingXml } from './tagging.js';
import { parseTagList, type Tag } from './tags.js';
import { emptyResponse, xmlResponse, type ApiContext, type Caller, type S3Request, type S3Response } from './types.js';
import { S3_NS, escapeXml, parseXml, str, toXml } from './xml.js';

/**
 * CreateBucket is authorized here, once its body is read: the tags it may give the bucket are aws:RequestTag/<k>
 * and aws:TagKeys for s3:CreateBucket, and tags need s3:TagResource too (as S3 asks for them).
 */
async function authorizeCreate(ctx: ApiContext, req: S3Request, bucket: string, tags: Tag[]): Promise<void> {
  const extra: ConditionContext = {};
  if (tags.length > 0) {
    for (const t of tags) extra[`aws:requesttag/${t.Key.toLowerCase()}`] = t.Value;
    extra['aws:tagkeys'] = tags.map((t) => t.Key);
  }
  const actions = tags.length > 0 ? ['s3:CreateBucket', 's3:TagResource'] : ['s3:CreateBucket'];
  for (const action of actions) {
    if (!isAllowedOutsideBuckets(ctx, req, action, s3Arn(bucket), extra)) throw new S3Error('AccessDenied');
  }
}

export async function createBucket(ctx: ApiContext, req: S3Request, bucket: string): Promise<S3Response> {
  const body = await readDocument(req);
  let location: string | undefined;
  let tags: Tag[] = [];
  if (body.trim() !== '') {
    const doc = parseXml(body, 'CreateBucketConfiguration');
    // Directory buckets (Location, Bucket) are an S3 feature Cairn does not have.
    const unknown = Object.keys(doc).find((k) => k !== 'LocationConstraint' && k !== 'Tags');
    if (unknown !== undefined) {
      throw new S3Error('NotImplemented', `CreateBucketConfiguration ${unknown} is not implemented`);
    }
    if (doc.Tags !== undefined) tags = parseTagList(doc.Tags, 'bucket');
    location = str(doc.LocationConstraint);
    if (location !== undefined && location !== '' && location !== ctx.region) {
      throw new S3Error(
        'IllegalLocationConstraintException',
        `The ${location} location constraint is incompatible for the region specific endpoint this request was sent to.`,
      );
    }
  }
  await authorizeCreate(ctx, req, bucket, tags);
  checkBucketName(bucket);
  // The bucket belongs to the caller's account: root's for IAM users and roles, a static user's own.
  const rootKey = accounts(ctx).rootKey;
  const creator = req.caller?.account ?? rootKey;
  const acl = requestedAcl(req.headers, creator, creator, accounts(ctx));
  const ownershipHeader = req.headers['x-amz-object-ownership'];
  const ownership = ownershipHeader === undefined ? undefined : checkOwnership(String(ownershipHeader));
  if (ownership === 'BucketOwnerEnforced' && acl && acl.grants.length > 1)
    throw new S3Error('InvalidBucketAclWithObjectOwnership');
  // Object lock (unimplemented.ts lets only "true" and "false" through to here): a locked bucket always versions.
  const lockHeader = req.headers['x-amz-bucket-object-lock-enabled'];
  const objectLock = typeof lockHeader === 'string' && lockHeader.trim().toLowerCase() === 'true';
  if (lockHeader !== undefined && !objectLock && typeof lockHeader === 'string' && !/^\s*false\s*$/i.test(lockHeader))
    throw new S3Error('InvalidArgument', 'x-amz-bucket-object-lock-enabled must be true or false', {
      ArgumentName: 'x-amz-bucket-object-lock-enabled',
    });
  try {
    await ctx.storage.makeBucket(bucket, {
      ...(objectLock ? { objectLockEnabled: true, versioning: 'Enabled' as const } : {}),
      ...(acl ? { acl: JSON.stringify(acl) } : {}),
      ...(ownership ? { ownershipControls: ownershipXml(ownership) } : {}),
      location: location || ctx.region,
      ...(creator !== rootKey ? { owner: creator } : {}),
      ...(tags.length > 0 ? { tagging: taggingXml(tags) } : {}),
    });
  } catch (e) {
    // In us-east-1 S3 answers the owner's re-create with 200 and changes nothing; anyone else learns the
    // name is taken.
    if (!isS3Error(e) || e.code !== 'BucketAlreadyOwnedByYou') throw e;
    const owner = (await ctx.storage.getBucketConfig(bucket)).owner;
    const mine = (owner ?? rootKey) === creator;
    if (!mine) throw new S3Error('BucketAlreadyExists', undefined, { BucketName: bucket });
    if (ctx.region !== 'us-east-1') throw e;
  }
  return emptyResponse(200, { location: `/${bucket}` });
}

export async function headBucket(ctx: ApiContext, bucket: string): Promise<S3Response> {
  await ctx.storage.headBucket(bucket);
  return emptyResponse(200, { 'x-amz-bucket-region': ctx.region });
}

export async function deleteBucket(ctx: ApiContext, bucket: string): Promise<S3Response> {
  try {
    await ctx.storage.deleteBucket(bucket);
  } catch (e) {
    if (!isS3Error(e) || e.code !== 'BucketNotEmpty') throw e;
    // S3 deletes a bucket whose only content is unfinished multipart uploads: abort them, then retry.
    const versions = await ctx.storage.listObjectVersions(bucket, { maxKeys: 1 });
    if (versions.versions.length > 0 || versions.commonPrefixes.length > 0) throw e;
    for (;;) {
      const ups = await ctx.storage.listMultipartUploads(bucket, { maxUploads: 1000 });
      for (const u of ups.uploads) await ctx.storage.abortMultipartUpload(bucket, u.key, u.uploadId).catch(() => {});
      if (!ups.isTruncated || ups.uploads.length === 0) break;
    }
    await ctx.storage.deleteBucket(bucket);
  }
  return emptyResponse(204);
}

/** Root sees every bucket; another caller sees its account's (IAM users and roles: root's account's). */
export async function listBuckets(ctx: ApiContext, p: ListBucketsParams, caller?: Caller): Promise<S3Response> {
  const after = p.continuationToken ? Buffer.from(p.continuationToken, 'base64url').toString('utf8') : '';
  // bucket-region: every bucket is in the server's region, so another region lists none.
  const inRegion = p.bucketRegion === undefined || p.bucketRegion === ctx.region;
  let all = (await ctx.storage.listBuckets())
    .filter((b) => inRegion && b.name.startsWith(p.prefix) && b.name > after)
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  if (caller && !caller.root) {
    const rootKey = accounts(ctx).rootKey;
    // A bucket deleted since the listing is simply left out; any other failure is the answer.
    const ownerOf = (name: string) =>
      ctx.storage.getBucketConfig(name).then(
        (c): string | null => c.owner ?? rootKey,
        (e: unknown) => {
          if (isS3Error(e) && e.code === 'NoSuchBucket') return null;
          throw e;
        },
      );
    const owners = await Promise.all(all.map((b) => ownerOf(b.name)));
    all = all.filter((_, i) => owners[i] === caller.account);
  }
  const page = all.slice(0, p.maxBuckets);
  const truncated = all.length > page.length;
  return xmlResponse(
    toXml('ListAllMyBucketsResult', {
      Owner: { ID: ctx.owner.id, DisplayName: ctx.owner.displayName },
      Buckets: { Bucket: page.map((b) => ({ Name: b.name, CreationDate: b.created, BucketRegion: ctx.region })) },
      ContinuationToken: truncated ? Buffer.from(page[page.length - 1].name, 'utf8').toString('base64url') : undefined,
      Prefix: p.prefix || undefined,
    }),
  );
}

export async function getBucketLocation(ctx: ApiContext, bucket: string): Promise<S3Response> {
  const cfg = await ctx.storage.getBucketConfig(bucket);
  // us-east-1 is reported as an empty LocationConstraint, as S3 does.
  const loc = cfg.location && cfg.location !== 'us-east-1' ? escapeXml(cfg.location) : '';
  return xmlResponse(
    `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="${S3_NS}">${loc}</LocationConstraint>`,
  );
}

export async function getBucketVersioning(ctx: ApiContext, bucket: string): Promise<S3Response> {
  const cfg = await ctx.storage.getBucketConfig(bucket);
  const status = cfg.versioning && cfg.versioning !== 'Unversioned' ? cfg.versioning : undefined;
  return xmlResponse(toXml('VersioningConfiguration', { Status: status }));
}

export async function putBucketVersioning(ctx: ApiContext, req: S3Request, bucket: string): Promise<S3Response> {
  const doc = parseXml(await readDocument(req), 'VersioningConfiguration');
  const status = str(doc.Status);
  // A Status outside the schema's enumeration does not validate (MalformedXML, as AWS answers); no Status at all
  // is a configuration that asks for nothing.
  if (status === undefined) throw new S3Error('IllegalVersioningConfigurationException');
  if (status !== 'Enabled' && status !== 'Suspended') throw new S3Error('MalformedXML');
  // MinIO's extension: versioning that leaves some prefixes unversioned. Ignoring it would version them.
  if (doc.ExcludedPrefixes !== undefined || (doc.ExcludeFolders !== undefined && str(doc.ExcludeFolders) !== 'false')) {
    throw new S3Error('NotImplemented', 'ExcludedPrefixes and ExcludeFolders (MinIO extensions) are not implemented');
  }
  const mfa = str(doc.MfaDelete);
  if (mfa !== undefined && mfa !== 'Disabled') throw new S3Error('NotImplemented', 'MFA delete is not supported');
  const cfg = await ctx.storage.getBucketConfig(bucket);
  if (status === 'Suspended' && cfg.objectLockEnabled)
    throw new S3Error(
      'InvalidBucketState',
      'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.',
    );
  // Replication copies versions by their ids: a bucket replicating, or taking replicas, stays versioned (MinIO).
  if (status === 'Suspended' && (cfg.replication || cfg.replicationTargets))
    throw new S3Error(
      'InvalidBucketState',
      'A replication configuration or target is present on this bucket, so versioning cannot be suspended.',
    );
  await ctx.storage.updateBucketConfig(bucket, { versioning: status as VersioningState });
  return emptyResponse(200);
}

/** Access key of the bucket's owner (buckets without a recorded owner belong to root). */
export function bucketOwnerKey(ctx: ApiContext, owner: string | undefined): string {
  return owner ?? accounts(ctx).rootKey;
}

/** The bucket's ACL, or its default (the owner alone). */
export function bucketAcl(ctx: ApiContext, s: BucketSettings): Acl {
  const owner = bucketOwnerKey(ctx, s.owner);
  return s.acl ?? cannedAcl('private', owner, owner);
}

export async function getAcl(ctx: ApiContext, bucket: string, key?: string, versionId?: string): Promise<S3Response> {
  const s = await bucketSettings(ctx, bucket);
  if (key === undefined) return xmlResponse(aclXml(bucketAcl(ctx, s), accounts(ctx)));
  const info = await readableVersion(ctx, bucket, key, versionId);
  const owner = bucketOwnerKey(ctx, s.owner);
  return xmlResponse(aclXml(objectAcl(info.userMetadata) ?? cannedAcl('private', owner, owner), accounts(ctx)));
}

/** PutBucketAcl / PutObjectAcl: a canned ACL, x-amz-grant-* headers or an AccessControlPolicy body. */
export async function putAcl(
  ctx: ApiContext,
  req: S3Request,
  bucket: string,
  key?: string,
  versionId?: string,
): Promise<S3Response> {
  const body = await readDocument(req);
  const s = await bucketSettings(ctx, bucket);
  const bucketOwner = bucketOwnerKey(ctx, s.owner);
  const info = key === undefined ? undefined : await readableVersion(ctx, bucket, key, versionId);
  const owner = info ? (objectAcl(info.userMetadata)?.owner ?? bucketOwner) : bucketOwner;
  let acl = requestedAcl(req.headers, owner, bucketOwner, accounts(ctx));
  if (body.trim() !== '') {
    if (acl) throw new S3Error('UnexpectedContent', 'This request does not support content');
    acl = parseAclDocument(body, owner, accounts(ctx));
  }
  if (!acl)
    throw new S3Error('MissingSecurityHeader', 'Your request was missing a required header', {
      MissingHeaderName: 'x-amz-acl',
    });
  checkAclAllowed(s, acl);
  if (info === undefined) await ctx.storage.updateBucketConfig(bucket, { acl: JSON.stringify(acl) });
  else
    await ctx.storage.updateObjectMetadata(bucket, key!, {
      versionId: info.versionId,
      userMetadata: withObjectAcl(info.userMetadata, acl),
    });
  return emptyResponse(200);
}

/** Subresources that exist in S3 but not in Cairn: NotImplemented, reads and writes alike. */
export async function unsupportedBucketOp(
  ctx: ApiContext,
  bucket: string,
  subresource: string,
  method: string,
): Promise<S3Response> {
  await ctx.storage.headBucket(bucket);
  throw new S3Error('NotImplemented', `The ${subresource} subresource is not implemented yet (${method})`);
}
