// May this caller run this operation? S3's model without IAM: root may do anything; a bucket belongs to
// the user who created it (root for buckets without a recorded owner) and its owner may do anything
// with it; everyone else (other users, anonymous callers) needs a bucket policy Allow. An explicit Deny
// in the policy refuses anyone but root, except the owner's policy management (so it cannot lock itself out).
import type { IncomingHttpHeaders } from 'node:http';
import { evaluatePolicy, parsePolicy, type Operation } from '../api/index.js';
import { S3Error } from '../errors.js';
import type { ObjectLayer } from '../storage/object-layer.js';
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
  };
}

const POLICY_OPS = new Set(['PutBucketPolicy', 'DeleteBucketPolicy', 'GetBucketPolicy', 'GetBucketPolicyStatus']);

/** Allow, Deny or None for `principal` doing `action` on bucket/key, and whether the caller owns the bucket. */
async function decide(storage: ObjectLayer, a: AuthorizeInput, now: number, bucket: string, action: string, key: string | undefined): Promise<{ owner: boolean; verdict: 'Allow' | 'Deny' | 'None' }> {
  const cfg = await storage.getBucketConfig(bucket);
  const owner = a.identity !== undefined && (cfg.owner === undefined ? a.identity.root : cfg.owner === a.identity.accessKey);
  if (!cfg.policy) return { owner, verdict: 'None' };
  const conditions = conditionContext(a, now);
  // Tag conditions: the request's tags (x-amz-tagging) and, only when the policy asks, the object's own.
  const requestTags = typeof a.headers['x-amz-tagging'] === 'string' ? a.headers['x-amz-tagging'] : undefined;
  for (const [k, v] of new URLSearchParams(requestTags ?? '')) conditions[`s3:requestobjecttag/${k.toLowerCase()}`] = v;
  if (key !== undefined && !owner && /existingobjecttag/i.test(cfg.policy)) {
    const info = await storage.headObject(bucket, key).catch(() => undefined);
    for (const [k, v] of new URLSearchParams(info?.tagging ?? '')) conditions[`s3:existingobjecttag/${k.toLowerCase()}`] = v;
  }
  const verdict = evaluatePolicy(parsePolicy(cfg.policy, bucket), {
    principal: a.identity?.accessKey ?? '*', action, bucket, key, conditions,
  });
  return { owner, verdict };
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
  // A missing bucket is NoSuchBucket for everyone, as S3 answers it.
  const { owner, verdict } = await decide(storage, a, now, op.bucket, op.action, key);
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
    const read = await decide(storage, a, now, src.bucket, src.versionId ? 's3:GetObjectVersion' : 's3:GetObject', src.key).catch((e: unknown) => {
      if (e instanceof S3Error && e.code === 'NoSuchBucket') throw e;
      throw new S3Error('AccessDenied');
    });
    if (read.verdict === 'Deny' || (!read.owner && read.verdict !== 'Allow')) throw new S3Error('AccessDenied');
  }
}
