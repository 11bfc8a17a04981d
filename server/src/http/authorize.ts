// May this caller run this operation? Root may do anything. Other static users may do anything a bucket
// policy does not explicitly deny (IAM policies come later). Anonymous callers need a bucket policy Allow.
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
    's3:existingobjecttag': undefined,
  };
}

export async function authorize(storage: ObjectLayer, a: AuthorizeInput, now: number): Promise<void> {
  if (a.identity?.root) return;
  const op = a.op;
  if (op.name === 'Preflight') return;
  const bucket = 'bucket' in op ? op.bucket : undefined;
  if (bucket === undefined) {
    if (a.identity) return;
    throw new S3Error('AccessDenied');
  }
  let policyText: string | undefined;
  try {
    policyText = (await storage.getBucketConfig(bucket)).policy;
  } catch (e) {
    // A missing bucket is reported by the operation itself to signed callers; anonymous callers learn nothing.
    if (a.identity) return;
    throw e instanceof S3Error && e.code === 'NoSuchBucket' ? new S3Error('AccessDenied') : e;
  }
  // Policy management is never delegated by a policy.
  const policyOp = op.name === 'PutBucketPolicy' || op.name === 'DeleteBucketPolicy' || op.name === 'GetBucketPolicy';
  if (!policyText || policyOp) {
    if (a.identity) return;
    throw new S3Error('AccessDenied');
  }
  const policy = parsePolicy(policyText, bucket);
  const key = 'key' in op ? op.key : undefined;
  const verdict = evaluatePolicy(policy, {
    principal: a.identity?.accessKey ?? '*',
    action: op.action,
    bucket,
    key,
    conditions: conditionContext(a, now),
  });
  if (verdict === 'Deny') throw new S3Error('AccessDenied');
  if (verdict === 'Allow' || a.identity) {
    // CopyObject also reads its source.
    if (!a.identity && (op.name === 'CopyObject' || op.name === 'UploadPartCopy')) {
      const src = op.source;
      const srcPolicy = src.bucket === bucket ? policyText : (await storage.getBucketConfig(src.bucket).catch(() => ({ policy: undefined }))).policy;
      const ok = srcPolicy && evaluatePolicy(parsePolicy(srcPolicy, src.bucket), {
        principal: '*', action: 's3:GetObject', bucket: src.bucket, key: src.key, conditions: conditionContext(a, now),
      }) === 'Allow';
      if (!ok) throw new S3Error('AccessDenied');
    }
    return;
  }
  throw new S3Error('AccessDenied');
}
