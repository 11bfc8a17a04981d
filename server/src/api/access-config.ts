// Public access block and object ownership controls: two small bucket documents that narrow what ACLs and
// policies may do. Stored as normalised XML in BucketConfig, read once into BucketSettings
// (bucket-settings.ts); enforced by acl.ts, policy.ts and authorize.ts.
import { S3Error } from '../errors.js';
import { bucketSettings, type BucketSettings } from './bucket-settings.js';
import { readDocument } from './request-body.js';
import { emptyResponse, xmlResponse, type ApiContext, type S3Request, type S3Response } from './types.js';
import { parseXml, str, toXml } from './xml.js';

export interface PublicAccessBlock {
  BlockPublicAcls: boolean;
  IgnorePublicAcls: boolean;
  BlockPublicPolicy: boolean;
  RestrictPublicBuckets: boolean;
}
const BLOCK_FIELDS = ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'] as const;

export type ObjectOwnership = 'BucketOwnerEnforced' | 'BucketOwnerPreferred' | 'ObjectWriter';
const OWNERSHIPS: readonly string[] = ['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter'];

/** A stored public access block document (all false when none is set). */
export function readPublicAccessBlock(xml: string | undefined): PublicAccessBlock {
  const out: PublicAccessBlock = {
    BlockPublicAcls: false,
    IgnorePublicAcls: false,
    BlockPublicPolicy: false,
    RestrictPublicBuckets: false,
  };
  if (!xml) return out;
  const doc = parseXml(xml, 'PublicAccessBlockConfiguration');
  for (const f of BLOCK_FIELDS) out[f] = str(doc[f])?.trim().toLowerCase() === 'true';
  return out;
}

/** A stored ownership controls document's rule, or undefined when none is set. */
export function readOwnership(xml: string | undefined): ObjectOwnership | undefined {
  if (!xml) return undefined;
  const rule = (parseXml(xml, 'OwnershipControls').Rule ?? {}) as Record<string, unknown>;
  return str(rule.ObjectOwnership) as ObjectOwnership | undefined;
}

export function checkOwnership(v: string | undefined): ObjectOwnership {
  if (v === undefined || !OWNERSHIPS.includes(v))
    throw new S3Error('InvalidArgument', 'Invalid ObjectOwnership', {
      ArgumentName: 'ObjectOwnership',
      ArgumentValue: v ?? '',
    });
  return v as ObjectOwnership;
}

export function ownershipXml(o: ObjectOwnership): string {
  return toXml('OwnershipControls', { Rule: { ObjectOwnership: o } });
}

export async function publicAccessBlockOp(
  ctx: ApiContext,
  req: S3Request,
  bucket: string,
  method: string,
): Promise<S3Response> {
  const s = await bucketSettings(ctx, bucket);
  if (method === 'GET') {
    if (!s.config.publicAccessBlock) throw new S3Error('NoSuchPublicAccessBlockConfiguration');
    return xmlResponse(toXml('PublicAccessBlockConfiguration', { ...s.publicAccessBlock }));
  }
  if (method === 'DELETE') {
    await ctx.storage.updateBucketConfig(bucket, { publicAccessBlock: null });
    return emptyResponse(204);
  }
  if (method !== 'PUT') throw new S3Error('MethodNotAllowed');
  const doc = parseXml(await readDocument(req), 'PublicAccessBlockConfiguration');
  const conf: Record<string, boolean> = {};
  for (const f of BLOCK_FIELDS) {
    const v = str(doc[f])?.trim().toLowerCase();
    if (v !== undefined && v !== 'true' && v !== 'false') throw new S3Error('MalformedXML');
    conf[f] = v === 'true';
  }
  await ctx.storage.updateBucketConfig(bucket, { publicAccessBlock: toXml('PublicAccessBlockConfiguration', conf) });
  return emptyResponse(200);
}

export async function ownershipControlsOp(
  ctx: ApiContext,
  req: S3Request,
  bucket: string,
  method: string,
  hasForeignGrants: (s: BucketSettings) => boolean,
): Promise<S3Response> {
  const s = await bucketSettings(ctx, bucket);
  if (method === 'GET') {
    const o = s.ownership;
    if (!o) throw new S3Error('OwnershipControlsNotFoundError');
    return xmlResponse(ownershipXml(o));
  }
  if (method === 'DELETE') {
    await ctx.storage.updateBucketConfig(bucket, { ownershipControls: null });
    return emptyResponse(204);
  }
  if (method !== 'PUT') throw new S3Error('MethodNotAllowed');
  const rules = parseXml(await readDocument(req), 'OwnershipControls').Rule as Record<string, unknown> | undefined;
  const o = checkOwnership(str(rules?.ObjectOwnership));
  // Turning ACLs off while the bucket ACL grants to others would silently drop those grants: S3 refuses.
  if (o === 'BucketOwnerEnforced' && hasForeignGrants(s)) throw new S3Error('InvalidBucketAclWithObjectOwnership');
  await ctx.storage.updateBucketConfig(bucket, { ownershipControls: ownershipXml(o) });
  return emptyResponse(200);
}
