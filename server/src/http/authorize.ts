// May this caller run this operation? S3's model without IAM: root may do anything; a bucket belongs to
// the user who created it (root for buckets without a recorded owner) and its owner may do anything
// with it; everyone else (other users, anonymous callers) needs a bucket policy Allow. An explicit Deny
// in the policy refuses anyone but root, except the owner's policy management (so it cannot lock itself out).
import type { IncomingHttpHeaders } from 'node:http';
import { evaluatePolicy, parsePolicy, type Operation } from '../api/index.js';
import { S3Error } from '../errors.js';
import { objectOwnership, publicAccessBlock } from '../api/access-config.js';
import { isPublic } from '../api/bucket-policy.js';
import { aclAllows, objectAcl, type Acl, type Permission } from '../api/acl.js';
import type { BucketConfig, ObjectLayer } from '../storage/object-layer.js';
import type { Identity } from './auth/credentials.js';

export interface AuthorizeInput {
  op: Operation;
  identity?: Identity;
  headers: IncomingHttpHeaders;
  query: URLSearchParams;
  sourceIp: string;
  secure: boolean;
}

function conditionContext(a: AuthorizeInput, now: number): Record<string, string | undefined> {
  const h = (n: string) => (typeof a.headers[n] === 'string' ? (a.headers[n] as string) : undefined);
  return {
    'aws:sourceip': a.sourceIp,
    'aws:securetransport': String(a.secure),
    'aws:referer': h('referer'),
    'aws:useragent': h('user-agent'),
    'aws:currenttime': new Date(now).toISOString(),
    'aws:epochtime': String(Math.floor(now / 1000)),
    'aws:username': a.identity?.accessKey,
    'aws:userid': a.identity?.accessKey,
    's3:prefix': a.query.get('prefix') ?? undefined,
    's3:delimiter': a.query.get('delimiter') ?? undefined,
    's3:max-keys': a.query.get('max-keys') ?? undefined,
    's3:versionid': a.query.get('versionId') ?? undefined,
    's3:x-amz-acl': h('x-amz-acl'),
    's3:x-amz-copy-source': h('x-amz-copy-source'),
    's3:x-amz-metadata-directive': h('x-amz-metadata-directive'),
    's3:x-amz-storage-class': h('x-amz-storage-class'),
    's3:x-amz-server-side-encryption': h('x-amz-server-side-encryption'),
    's3:x-amz-grant-full-control': h('x-amz-grant-full-control'),
    's3:x-amz-grant-read': h('x-amz-grant-read'),
    's3:x-amz-grant-write': h('x-amz-grant-write'),
    's3:x-amz-grant-read-acp': h('x-amz-grant-read-acp'),
    's3:x-amz-grant-write-acp': h('x-amz-grant-write-acp'),
  };
}

const POLICY_OPS = new Set(['PutBucketPolicy', 'DeleteBucketPolicy', 'GetBucketPolicy', 'GetBucketPolicyStatus']);

/** Allow, Deny or None for `principal` doing `action` on bucket/key, and whether the caller owns the bucket. */
async function decide(storage: ObjectLayer, a: AuthorizeInput, now: number, bucket: string, action: string, key: string | undefined, versionId?: string): Promise<{ owner: boolean; verdict: 'Allow' | 'Deny' | 'None' }> {
  const cfg = await storage.getBucketConfig(bucket);
  const owner = a.identity !== undefined && (cfg.owner === undefined ? a.identity.root : cfg.owner === a.identity.accessKey);
  if (!cfg.policy) return { owner, verdict: !owner && (await aclGrants(storage, a.identity, cfg, bucket, action, key, versionId)) ? 'Allow' : 'None' };
  const conditions = conditionContext(a, now);
  // Tag conditions: the request's tags (x-amz-tagging) and, only when the policy asks, the object's own.
  const requestTags = typeof a.headers['x-amz-tagging'] === 'string' ? a.headers['x-amz-tagging'] : undefined;
  for (const [k, v] of new URLSearchParams(requestTags ?? '')) conditions[`s3:requestobjecttag/${k.toLowerCase()}`] = v;
  if (key !== undefined && !owner && /existingobjecttag/i.test(cfg.policy)) {
    const info = await storage.headObject(bucket, key).catch(() => undefined);
    for (const [k, v] of new URLSearchParams(info?.tagging ?? '')) conditions[`s3:existingobjecttag/${k.toLowerCase()}`] = v;
  }
  const policy = parsePolicy(cfg.policy, bucket);
  let verdict = evaluatePolicy(policy, { principal: a.identity?.accessKey ?? '*', action, bucket, key, conditions });
  // RestrictPublicBuckets: a public policy grants nothing to anyone but the owner.
  if (verdict === 'Allow' && !owner && isPublic(policy) && publicAccessBlock(cfg).RestrictPublicBuckets) verdict = 'None';
  return { owner, verdict: verdict === 'None' && !owner && (await aclGrants(storage, a.identity, cfg, bucket, action, key, versionId)) ? 'Allow' : verdict };
}

/** What an ACL must grant for an action, and whether the bucket's or the object's ACL is asked. */
const ACL_NEEDS: Record<string, [on: 'bucket' | 'object', permission: Permission]> = {
  's3:ListBucket': ['bucket', 'READ'],
  's3:ListBucketVersions': ['bucket', 'READ'],
  's3:ListBucketMultipartUploads': ['bucket', 'READ'],
  's3:PutObject': ['bucket', 'WRITE'],
  's3:DeleteObject': ['bucket', 'WRITE'],
  's3:DeleteObjectVersion': ['bucket', 'WRITE'],
  's3:AbortMultipartUpload': ['bucket', 'WRITE'],
  's3:GetBucketAcl': ['bucket', 'READ_ACP'],
  's3:PutBucketAcl': ['bucket', 'WRITE_ACP'],
  's3:GetObject': ['object', 'READ'],
  's3:GetObjectVersion': ['object', 'READ'],
  's3:GetObjectAcl': ['object', 'READ_ACP'],
  's3:GetObjectVersionAcl': ['object', 'READ_ACP'],
  's3:PutObjectAcl': ['object', 'WRITE_ACP'],
  's3:PutObjectVersionAcl': ['object', 'WRITE_ACP'],
};

/** Does the bucket's or object's ACL let this caller do the action (no policy having decided)? */
async function aclGrants(storage: ObjectLayer, identity: Identity | undefined, cfg: BucketConfig, bucket: string, action: string, key: string | undefined, versionId: string | undefined): Promise<boolean> {
  const need = ACL_NEEDS[action];
  if (!need) return false;
  // ACLs are off under BucketOwnerEnforced; IgnorePublicAcls drops the AllUsers/AuthenticatedUsers grants.
  if (objectOwnership(cfg) === 'BucketOwnerEnforced') return false;
  const ignorePublic = publicAccessBlock(cfg).IgnorePublicAcls;
  if (need[0] === 'bucket') return cfg.acl !== undefined && aclAllows(parseStoredAcl(cfg.acl), identity?.accessKey, need[1], ignorePublic);
  if (key === undefined) return false;
  const info = await storage.headObject(bucket, key, { versionId }).catch(() => undefined);
  return info !== undefined && aclAllows(objectAcl(info.userMetadata), identity?.accessKey, need[1], ignorePublic);
}

function parseStoredAcl(raw: string): Acl | undefined {
  try {
    return JSON.parse(raw) as Acl;
  } catch {
    return undefined;
  }
}

export async function authorize(storage: ObjectLayer, a: AuthorizeInput, now: number): Promise<void> {
  if (a.identity?.root) return;
  const op = a.op;
  if (op.name === 'Preflight') return;
  if (op.name === 'ListBuckets' || op.name === 'CreateBucket') {
    if (a.identity) return;
    throw new S3Error('AccessDenied');
  }
  const key = 'key' in op ? op.key : undefined;
  const versionId = 'versionId' in op && typeof op.versionId === 'string' ? op.versionId : undefined;
  // A missing bucket is NoSuchBucket for everyone, as S3 answers it.
  const { owner, verdict } = await decide(storage, a, now, op.bucket, op.action, key, versionId);
  if (owner && POLICY_OPS.has(op.name)) return;
  if (verdict === 'Deny') throw new S3Error('AccessDenied');
  if (!owner && verdict !== 'Allow') {
    // As S3: a caller who may list the bucket learns that a missing object is missing (404), others get 403.
    if ((op.name === 'GetObject' || op.name === 'HeadObject') && key !== undefined) {
      const list = await decide(storage, { ...a, query: new URLSearchParams({ prefix: key }) }, now, op.bucket, 's3:ListBucket', undefined);
      if (list.verdict === 'Allow' && !(await storage.headObject(op.bucket, key).then(() => true, () => false))) throw new S3Error('NoSuchKey');
    }
    throw new S3Error('AccessDenied');
  }
  // A copy also reads its source, which needs read permission of its own.
  if (op.name === 'CopyObject' || op.name === 'UploadPartCopy') {
    const src = op.source;
    const read = await decide(storage, a, now, src.bucket, src.versionId ? 's3:GetObjectVersion' : 's3:GetObject', src.key, src.versionId).catch((e: unknown) => {
      if (e instanceof S3Error && e.code === 'NoSuchBucket') throw e;
      throw new S3Error('AccessDenied');
    });
    if (read.verdict === 'Deny' || (!read.owner && read.verdict !== 'Allow')) throw new S3Error('AccessDenied');
  }
}
