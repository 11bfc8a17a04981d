// May this caller do this action on this resource? The one place Cairn decides, asked once for the resource
// an operation names (authorizeOperation, before its body is read) and again by every handler for each other
// resource it touches (a copy's source, each key of DeleteObjects).
//
// The model (AWS's policy evaluation logic, within one account):
// - root may do anything, and nothing can lock it out;
// - an explicit Deny anywhere (the caller's identity policies, its session or service-account policy, the
//   bucket policy) refuses, except the bucket owner's policy management (so it cannot lock itself out);
// - otherwise an Allow from any of: the caller's identity policies (its own, its groups', its role's), the
//   bucket policy, an ACL grant, or the account's implicit rights over its own buckets (root and the static
//   users of CAIRN_USERS own the buckets they create; IAM users and roles own nothing and have only what
//   their policies give);
// - a credential narrowed by a policy (a service account's own policy, an STS session policy) must also be
//   allowed by that policy: an intersection.
//
// Authorization only reads; a read that fails for any reason other than "no such object" is the answer as
// storage gave it (503 InsufficientReadQuorum, ...), never turned into a 403 or 404.
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error, isS3Error } from '../errors.js';
import type { ObjectInfo } from '../storage/object-layer.js';
import { accounts, aclAllows, objectAcl, type Permission } from './acl.js';
import { evaluatePolicy, s3Arn } from './bucket-policy.js';
import { bucketSettings, ownsBucket, type BucketSettings } from './bucket-settings.js';
import type { Operation } from './operation.js';
import type { ConditionContext } from './policy-conditions.js';
import { evaluate, type PolicyQuery, type Verdict } from './policy-document.js';
import { SYSTEM_BUCKET } from '../storage/object-layer.js';
import type { ApiContext, Caller, RequestAuth } from './types.js';
import { conditionContext } from './condition-context.js';

// The request's condition context (condition-context.ts); exported here too for the tests that keep it in step.
export { conditionContext };

/** Who asks, and the facts of the request that policy conditions read. Every S3Request is one. */
export interface AccessRequest {
  /** undefined: anonymous. */
  caller?: Caller;
  headers: IncomingHttpHeaders;
  query: URLSearchParams;
  sourceIp: string;
  secure: boolean;
  /** How the request was signed and over which TLS version (s3:signatureversion, s3:authType, ...). */
  auth: RequestAuth;
  /**
   * The retention and legal hold asked in the body of PutObjectRetention / PutObjectLegalHold (their handlers
   * set it once they have read it); otherwise the x-amz-object-lock-* headers (PutObject, CopyObject, ...) say.
   */
  lock?: RequestedLock;
}

/** The object lock a request asks for: the s3:object-lock-* condition keys. */
export interface RequestedLock {
  mode?: string;
  retainUntil?: Date;
  legalHold?: string;
}

export interface Resource {
  bucket: string;
  key?: string;
  versionId?: string;
}

/** Actions the bucket owner may always do, whatever its policy says (it must be able to fix the policy). */
const OWNER_ALWAYS = new Set([
  's3:PutBucketPolicy',
  's3:DeleteBucketPolicy',
  's3:GetBucketPolicy',
  's3:GetBucketPolicyStatus',
]);

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

/**
 * The object's metadata for ACL and tag checks, read at most once per decision. A missing object or version
 * is undefined (it has no ACL and no tags); any other failure is thrown as storage reported it.
 */
function objectLookup(ctx: ApiContext, r: Resource): () => Promise<ObjectInfo | undefined> {
  let pending: Promise<ObjectInfo | undefined> | undefined;
  const read = async (): Promise<ObjectInfo | undefined> => {
    if (r.key === undefined) return undefined;
    try {
      return await ctx.storage.headObject(r.bucket, r.key, { versionId: r.versionId });
    } catch (e) {
      if (isS3Error(e) && (e.code === 'NoSuchKey' || e.code === 'NoSuchVersion')) return undefined;
      throw e;
    }
  };
  return () => (pending ??= read());
}

async function aclGrants(
  req: AccessRequest,
  s: BucketSettings,
  action: string,
  object: () => Promise<ObjectInfo | undefined>,
): Promise<boolean> {
  const need = ACL_NEEDS[action];
  if (!need) return false;
  // ACLs are off under BucketOwnerEnforced; IgnorePublicAcls drops the AllUsers/AuthenticatedUsers grants.
  if (s.ownership === 'BucketOwnerEnforced') return false;
  const ignorePublic = s.publicAccessBlock.IgnorePublicAcls;
  // Grants naming an account apply to the account's own principals; IAM users and roles get group grants
  // (AllUsers, and AuthenticatedUsers since their requests are signed).
  const who = req.caller?.ownerRights ? req.caller.account : undefined;
  const signed = req.caller !== undefined;
  if (need[0] === 'bucket') return aclAllows(s.acl, who, need[1], ignorePublic, signed);
  const info = await object();
  return info !== undefined && aclAllows(objectAcl(info.userMetadata), who, need[1], ignorePublic, signed);
}

/** The caller's identity-policy verdict and whether its restricting policies (session, service account) allow. */
export function identityVerdict(
  ctx: ApiContext,
  caller: Caller | undefined,
  q: PolicyQuery,
  eff: IdentityPolicies = caller && ctx.iam?.identityPolicies(caller.iam),
): { identity: Verdict; restricted: 'Allow' | 'Deny' | 'NotAllowed' } {
  if (!caller) return { identity: 'None', restricted: 'Allow' };
  const identity = eff ? eff.forAction(q.action).verdict(q) : 'None';
  let restricted: 'Allow' | 'Deny' | 'NotAllowed' = 'Allow';
  for (const p of caller.iam.restrictions) {
    const v = evaluate(p, q);
    if (v === 'Deny') return { identity, restricted: 'Deny' };
    if (v === 'None') restricted = 'NotAllowed';
  }
  return { identity, restricted };
}

/** A caller's identity policies, per action (IamStore.identityPolicies); undefined for root and without IAM. */
type IdentityPolicies = ReturnType<NonNullable<ApiContext['iam']>['identityPolicies']>;

/** Do the caller's identity policies (and restrictions) read the object's tags? */
function identityReadsTags(caller: Caller | undefined, eff: IdentityPolicies | undefined): boolean {
  if (!caller) return false;
  return (eff?.readsObjectTags ?? false) || caller.iam.restrictions.some((p) => p.readsObjectTags);
}

/** The verdict of every policy, ACL and ownership rule, and whether the caller owns the bucket. */
async function decide(
  ctx: ApiContext,
  req: AccessRequest,
  action: string,
  r: Resource,
): Promise<{ owner: boolean; verdict: Verdict }> {
  // A missing bucket is NoSuchBucket for everyone, as S3 answers it.
  const s = await bucketSettings(ctx, r.bucket);
  const caller = req.caller;
  const owner = ownsBucket(accounts(ctx).rootKey, caller, s);
  const object = objectLookup(ctx, r);
  let conditions: ConditionContext | undefined;
  // The bucket's tags, while ABAC is on, are the resource tags of the bucket and its objects (bucket-abac.ts).
  const requestContext = () => {
    const c = conditionContext(ctx, req, r);
    for (const [k, v] of Object.entries(s.resourceTags ?? {})) c[`aws:resourcetag/${k.toLowerCase()}`] = v;
    return c;
  };
  // The caller's identity policies, looked up once for the decision.
  const eff = caller && ctx.iam?.identityPolicies(caller.iam);
  const readsTags = r.key !== undefined && ((s.policy?.readsObjectTags ?? false) || identityReadsTags(caller, eff));
  if (readsTags) {
    conditions = requestContext();
    const info = await object();
    for (const [k, v] of new URLSearchParams(info?.tagging ?? '')) {
      conditions[`s3:existingobjecttag/${k.toLowerCase()}`] = v;
    }
  }
  const q: PolicyQuery = {
    action: action.toLowerCase(),
    resource: s3Arn(r.bucket, r.key),
    context: () => (conditions ??= requestContext()),
    principals: caller?.iam.tokens,
  };
  const { identity, restricted } = identityVerdict(ctx, caller, q, eff);
  if (identity === 'Deny' || restricted === 'Deny') return { owner, verdict: 'Deny' };
  let verdict: Verdict = identity;
  if (s.policy) {
    const bucket = evaluatePolicy(s.policy, {
      principal: caller?.accessKey ?? '*',
      principals: caller?.iam.tokens,
      action,
      bucket: r.bucket,
      key: r.key,
      conditions: q.context(),
    });
    // RestrictPublicBuckets: a public policy grants nothing to anyone but the owner.
    const restrictedPublic = s.policy.isPublic && s.publicAccessBlock.RestrictPublicBuckets;
    if (bucket === 'Deny') return { owner, verdict: 'Deny' };
    if (bucket === 'Allow' && !(restrictedPublic && !owner)) verdict = 'Allow';
  }
  if (verdict === 'None' && !owner && (await aclGrants(req, s, action, object))) verdict = 'Allow';
  if (verdict === 'None' && owner) verdict = 'Allow';
  // A narrowed credential gets only what its restricting policies also allow.
  if (verdict === 'Allow' && restricted === 'NotAllowed') verdict = 'None';
  return { owner, verdict };
}

/** May the caller do `action` on the resource? Throws only what storage throws (and NoSuchBucket). */
export async function isAllowed(ctx: ApiContext, req: AccessRequest, action: string, r: Resource): Promise<boolean> {
  // Cairn's own state is no bucket of anyone's, root included.
  if (r.bucket === SYSTEM_BUCKET) throw new S3Error('NoSuchBucket', undefined, { BucketName: r.bucket });
  if (req.caller?.root) return true;
  const { owner, verdict } = await decide(ctx, req, action, r);
  if (owner && OWNER_ALWAYS.has(action)) return true;
  return verdict === 'Allow';
}

/** As isAllowed, refusing with AccessDenied. */
export async function authorize(ctx: ApiContext, req: AccessRequest, action: string, r: Resource): Promise<void> {
  if (!(await isAllowed(ctx, req, action, r))) throw new S3Error('AccessDenied');
}

/**
 * Actions on no bucket (s3:ListAllMyBuckets, s3:CreateBucket before the bucket exists, IAM, STS and admin
 * actions): the caller's identity policies and restrictions decide; an account (root, a static user) may
 * list and create its buckets unless a policy denies it. `resource` is the ARN the action is on.
 */
export function isAllowedOutsideBuckets(
  ctx: ApiContext,
  req: AccessRequest,
  action: string,
  resource: string,
  extra: ConditionContext = {},
): boolean {
  const caller = req.caller;
  if (!caller) return false;
  if (caller.root) return true;
  let conditions: ConditionContext | undefined;
  const q: PolicyQuery = {
    action: action.toLowerCase(),
    resource,
    context: () => (conditions ??= Object.assign(conditionContext(ctx, req, { bucket: '' }), extra)),
    principals: caller.iam.tokens,
  };
  const { identity, restricted } = identityVerdict(ctx, caller, q);
  if (identity === 'Deny' || restricted !== 'Allow') return false;
  const implicit = caller.ownerRights && (q.action === 's3:listallmybuckets' || q.action === 's3:createbucket');
  return identity === 'Allow' || implicit;
}

/**
 * x-amz-expected-bucket-owner (x-amz-source-expected-bucket-owner for a copy's source): the bucket's owner
 * must have this canonical id, else AccessDenied as S3 answers.
 */
export async function checkExpectedOwner(
  ctx: ApiContext,
  bucket: string,
  expected: string | string[] | undefined,
): Promise<void> {
  if (expected === undefined) return;
  const s = await bucketSettings(ctx, bucket);
  const acc = accounts(ctx);
  if (expected !== acc.idOf(s.owner ?? acc.rootKey)) throw new S3Error('AccessDenied');
}

/**
 * A caller refused GetObject/HeadObject learns that a missing key is missing (404) if it may list the
 * bucket, as S3 answers; otherwise it gets 403.
 */
async function refusedRead(ctx: ApiContext, req: AccessRequest, bucket: string, key: string): Promise<never> {
  const listing = { ...req, query: new URLSearchParams({ prefix: key }) };
  if (await isAllowed(ctx, listing, 's3:ListBucket', { bucket })) {
    const info = await objectLookup(ctx, { bucket, key })();
    if (info === undefined || info.deleteMarker) throw new S3Error('NoSuchKey');
  }
  throw new S3Error('AccessDenied');
}

/** Authorizes the resource an operation names; handlers authorize any other resource they touch. */
export async function authorizeOperation(ctx: ApiContext, req: AccessRequest & { op: Operation }): Promise<void> {
  const op = req.op;
  switch (op.name) {
    case 'Preflight': // answered from the bucket's CORS rules, never authenticated
    case 'ServiceQuery': // IAM, STS and admin requests: authorized by api/iam/service.ts, per action
    case 'AdminApi':
      return;
    case 'UnsupportedServiceOp': // refused by its handler, to callers who may ask
    case 'ListenNotification': // every bucket's events: MinIO asks s3:ListenNotification on all resources
    case 'ListBuckets': // an account lists its own buckets, an IAM principal its account's, if allowed
      if (!isAllowedOutsideBuckets(ctx, req, op.action, 'arn:aws:s3:::*')) throw new S3Error('AccessDenied');
      return;
    case 'CreateBucket':
      if (op.bucket === SYSTEM_BUCKET) throw new S3Error('InvalidBucketName', undefined, { BucketName: op.bucket });
      // The tags asked for (aws:RequestTag, s3:TagResource) are in the body: the handler authorizes (bucket.ts).
      return;
    case 'DeleteObjects': // no permission on the bucket as a whole: each key is authorized by the handler
    // The retention or legal hold asked (the s3:object-lock-* keys) is in the body: the handler authorizes.
    case 'PutObjectRetention':
    case 'PutObjectLegalHold':
      await checkExpectedOwner(ctx, op.bucket, req.headers['x-amz-expected-bucket-owner']);
      return;
  }
  const key = 'key' in op ? op.key : undefined;
  const versionId = 'versionId' in op && typeof op.versionId === 'string' ? op.versionId : undefined;
  if (!(await isAllowed(ctx, req, op.action, { bucket: op.bucket, key, versionId }))) {
    const read = op.name === 'GetObject' || op.name === 'HeadObject';
    if (read && key !== undefined) await refusedRead(ctx, req, op.bucket, key);
    throw new S3Error('AccessDenied');
  }
  await checkExpectedOwner(ctx, op.bucket, req.headers['x-amz-expected-bucket-owner']);
}
