// Bucket policies: the policy language of policy-document.ts with S3's rules for them (a Principal in every
// statement, S3 actions only, every resource inside the bucket), compiled once per policy (a policy is parsed
// when it is stored or first read, see bucket-settings.ts).
import { compilePolicy, evaluate, type CompiledPolicy } from './policy-document.js';
import type { ConditionContext } from './policy-conditions.js';

export type { PolicyStatement } from './policy-document.js';
export type BucketPolicy = CompiledPolicy;

/** What a request looks like to a bucket policy. */
export interface PolicyRequest {
  /** The caller's access key, "*" for anonymous callers (used when `principals` is not given). */
  principal: string;
  /** The tokens the caller answers to (policy-principals.ts); they include '*'. */
  principals?: ReadonlySet<string>;
  action: string;
  bucket: string;
  key?: string;
  conditions: ConditionContext;
}

export function parsePolicy(text: string, bucket: string): BucketPolicy {
  return compilePolicy(text, { kind: 'bucket', bucket });
}

/** The ARN of a bucket or of an object in it, as policies name them. */
export const s3Arn = (bucket: string, key?: string): string =>
  key === undefined ? `arn:aws:s3:::${bucket}` : `arn:aws:s3:::${bucket}/${key}`;

export function evaluatePolicy(policy: BucketPolicy, req: PolicyRequest): 'Allow' | 'Deny' | 'None' {
  const principals = req.principals ?? new Set(req.principal === '*' ? ['*'] : ['*', `key:${req.principal}`]);
  return evaluate(policy, {
    action: req.action.toLowerCase(),
    resource: s3Arn(req.bucket, req.key),
    context: () => req.conditions,
    principals,
  });
}

/** PolicyStatus.IsPublic (kept as a function for callers holding a policy). */
export function isPublic(policy: BucketPolicy): boolean {
  return policy.isPublic;
}
