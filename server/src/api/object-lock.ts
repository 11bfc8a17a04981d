// S3 Object Lock (write once, read many): a bucket's lock configuration and default retention, a version's
// retention (GOVERNANCE or COMPLIANCE until a date) and legal hold, and the rules they impose. Storage keeps the
// lock of each version (ObjectLock in object-layer.ts); the rules are here and run inside storage's
// guards (updateLock, versionGuard), so they are checked under the object's write lock against the version
// as it is:
// - a version under legal hold, or retained until a date still to come, cannot be deleted; GOVERNANCE yields to
//   x-amz-bypass-governance-retention from a caller with s3:BypassGovernanceRetention, COMPLIANCE to no one;
// - COMPLIANCE retention can only be extended; GOVERNANCE can be shortened, removed or changed only with the
//   bypass;
// - a lock-enabled bucket always versions (a delete without version id adds a delete marker).
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../errors.js';
import type { ObjectInfo, ObjectLock, RetentionMode } from '../storage/object-layer.js';
import { authorize, isAllowed, type AccessRequest } from './authorize.js';
import { bucketSettings } from './bucket-settings.js';
import { readDocument } from './request-body.js';
import { emptyResponse, xmlResponse, type ApiContext, type S3Request, type S3Response } from './types.js';
import { parseXml, str, toXml } from './xml.js';
import {
  MODES,
  defaultRetainUntil,
  lockConfigurationXml,
  parseLockConfiguration,
  parseRetainUntil,
} from './lock-config.js';

const missingLockConfiguration = () => new S3Error('InvalidRequest', 'Bucket is missing Object Lock Configuration');

/** Is the version's retention still running? */
export function retentionActive(lock: ObjectLock | undefined, now: number): boolean {
  return lock?.retainUntil !== undefined && lock.retainUntil.getTime() > now;
}

/** May this version be removed (a delete naming its version id)? Throws AccessDenied when it is locked. */
export function checkDeletable(info: ObjectInfo, bypass: boolean, now: number): void {
  if (info.lock?.legalHold) throw new S3Error('AccessDenied', 'Object is under legal hold.');
  if (!retentionActive(info.lock, now)) return;
  if (info.lock!.mode === 'COMPLIANCE' || !bypass) throw new S3Error('AccessDenied', 'Object is WORM protected.');
}

/** May the version's retention become `next` (undefined: removed)? Throws AccessDenied when not. */
export function checkRetentionChange(current: ObjectLock | undefined, next: ObjectLock, bypass: boolean, now: number) {
  if (!retentionActive(current, now)) return;
  const until = current!.retainUntil!.getTime();
  const extends_ = next.retainUntil !== undefined && next.retainUntil.getTime() >= until;
  if (current!.mode === 'COMPLIANCE') {
    if (next.mode !== 'COMPLIANCE' || !extends_)
      throw new S3Error('AccessDenied', 'Compliance retention can only be extended.');
    return;
  }
  // GOVERNANCE: keeping the mode and extending needs nothing; anything else needs the bypass.
  if ((next.mode !== 'GOVERNANCE' || !extends_) && !bypass)
    throw new S3Error('AccessDenied', 'Governance retention can only be shortened or changed with a bypass.');
}

/**
 * x-amz-bypass-governance-retention: true from a caller allowed s3:BypassGovernanceRetention on the resource.
 * Without the permission the header gives nothing (the locked version then stays locked: AccessDenied).
 */
export async function governanceBypass(
  ctx: ApiContext,
  req: AccessRequest,
  r: { bucket: string; key?: string; versionId?: string },
): Promise<boolean> {
  const v = req.headers['x-amz-bypass-governance-retention'];
  if (typeof v !== 'string' || v.trim().toLowerCase() !== 'true') return false;
  return isAllowed(ctx, req, 's3:BypassGovernanceRetention', r);
}

/** AWS wants a digest of lock-bearing requests: Content-MD5 or an x-amz-checksum (header, trailer or SDK ask). */
export function requireDigest(h: IncomingHttpHeaders, what: string): void {
  const has =
    h['content-md5'] !== undefined ||
    h['x-amz-sdk-checksum-algorithm'] !== undefined ||
    h['x-amz-trailer'] !== undefined ||
    Object.keys(h).some((k) => k.startsWith('x-amz-checksum-') && k !== 'x-amz-checksum-type');
  if (!has)
    throw new S3Error('InvalidRequest', `Content-MD5 OR x-amz-checksum- HTTP header is required for ${what}`, {
      ArgumentName: 'Content-MD5',
    });
}

function one(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/**
 * The lock a new version gets (PutObject, CopyObject, CreateMultipartUpload): the x-amz-object-lock-* headers,
 * else the bucket's default retention. Headers need a lock-enabled bucket, a digest on PUT (`digestFor`), and
 * s3:PutObjectRetention / s3:PutObjectLegalHold.
 */
export async function newObjectLock(
  ctx: ApiContext,
  req: AccessRequest,
  bucket: string,
  key: string,
  opts: { digestFor?: string } = {},
): Promise<ObjectLock | undefined> {
  const h = req.headers;
  const modeHeader = one(h, 'x-amz-object-lock-mode');
  const untilHeader = one(h, 'x-amz-object-lock-retain-until-date');
  const holdHeader = one(h, 'x-amz-object-lock-legal-hold');
  const s = await bucketSettings(ctx, bucket);
  const asked = modeHeader !== undefined || untilHeader !== undefined || holdHeader !== undefined;
  if (!asked) {
    const rule = s.objectLock?.rule;
    return rule ? { mode: rule.mode, retainUntil: defaultRetainUntil(rule, ctx.now()) } : undefined;
  }
  if (!s.config.objectLockEnabled) throw missingLockConfiguration();
  const lock: ObjectLock = {};
  if (modeHeader !== undefined || untilHeader !== undefined) {
    if (modeHeader === undefined || untilHeader === undefined)
      throw new S3Error(
        'InvalidArgument',
        'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied',
      );
    if (!MODES.has(modeHeader))
      throw new S3Error('InvalidArgument', 'Unknown wormMode directive.', {
        ArgumentName: 'x-amz-object-lock-mode',
        ArgumentValue: modeHeader,
      });
    const until = parseRetainUntil(untilHeader);
    if (!until)
      throw new S3Error('InvalidArgument', 'The retain until date must be an ISO 8601 date and time.', {
        ArgumentName: 'x-amz-object-lock-retain-until-date',
      });
    if (until.getTime() <= ctx.now())
      throw new S3Error('InvalidArgument', 'The retain until date must be in the future!', {
        ArgumentName: 'x-amz-object-lock-retain-until-date',
      });
    await authorize(ctx, req, 's3:PutObjectRetention', { bucket, key });
    lock.mode = modeHeader as RetentionMode;
    lock.retainUntil = until;
  } else if (s.objectLock?.rule) {
    const rule = s.objectLock.rule;
    lock.mode = rule.mode;
    lock.retainUntil = defaultRetainUntil(rule, ctx.now());
  }
  if (holdHeader !== undefined) {
    const hold = holdHeader.trim();
    if (hold !== 'ON' && hold !== 'OFF')
      throw new S3Error('InvalidArgument', 'Legal Hold must be either of ON or OFF', {
        ArgumentName: 'x-amz-object-lock-legal-hold',
      });
    await authorize(ctx, req, 's3:PutObjectLegalHold', { bucket, key });
    lock.legalHold = hold === 'ON';
  }
  if (opts.digestFor) requireDigest(h, opts.digestFor);
  return lock;
}

/** x-amz-object-lock-* response headers of GET/HEAD, for a caller allowed to read them. */
export async function lockHeaders(
  ctx: ApiContext,
  req: AccessRequest,
  info: ObjectInfo,
): Promise<Record<string, string>> {
  const lock = info.lock;
  const h: Record<string, string> = {};
  if (!lock) return h;
  const r = { bucket: info.bucket, key: info.key, versionId: info.versionId };
  if (lock.mode && lock.retainUntil && (await isAllowed(ctx, req, 's3:GetObjectRetention', r))) {
    h['x-amz-object-lock-mode'] = lock.mode;
    h['x-amz-object-lock-retain-until-date'] = lock.retainUntil.toISOString();
  }
  if (lock.legalHold !== undefined && (await isAllowed(ctx, req, 's3:GetObjectLegalHold', r)))
    h['x-amz-object-lock-legal-hold'] = lock.legalHold ? 'ON' : 'OFF';
  return h;
}

// The lock APIs

async function lockEnabled(ctx: ApiContext, bucket: string): Promise<void> {
  if (!(await bucketSettings(ctx, bucket)).config.objectLockEnabled) throw missingLockConfiguration();
}

export async function getObjectLockConfiguration(ctx: ApiContext, bucket: string): Promise<S3Response> {
  const s = await bucketSettings(ctx, bucket);
  if (!s.config.objectLockEnabled) throw new S3Error('ObjectLockConfigurationNotFoundError');
  return xmlResponse(lockConfigurationXml(s.objectLock ?? {}));
}

/**
 * PutObjectLockConfiguration: sets the default retention. On a bucket created without object lock it turns
 * object lock on, as S3 allows, only when versioning is enabled (InvalidBucketState otherwise): from then on
 * versioning cannot be suspended.
 */
export async function putObjectLockConfiguration(ctx: ApiContext, req: S3Request, bucket: string): Promise<S3Response> {
  requireDigest(req.headers, 'PutObjectLockConfiguration requests');
  if (req.headers['x-amz-bucket-object-lock-token'] !== undefined)
    throw new S3Error('NotImplemented', 'Object lock tokens (x-amz-bucket-object-lock-token) are not implemented');
  const config = parseLockConfiguration(await readDocument(req));
  const s = await bucketSettings(ctx, bucket);
  if (!s.config.objectLockEnabled && s.config.versioning !== 'Enabled')
    throw new S3Error('InvalidBucketState', 'Versioning must be enabled on the bucket to turn on object lock.');
  await ctx.storage.updateBucketConfig(bucket, {
    objectLockEnabled: true,
    objectLock: lockConfigurationXml(config),
  });
  return emptyResponse(200);
}

export async function getObjectRetention(
  ctx: ApiContext,
  bucket: string,
  key: string,
  versionId?: string,
): Promise<S3Response> {
  await lockEnabled(ctx, bucket);
  const info = await lockedVersion(ctx, bucket, key, versionId);
  if (!info.lock?.mode || !info.lock.retainUntil) throw new S3Error('NoSuchObjectLockConfiguration');
  return xmlResponse(toXml('Retention', { Mode: info.lock.mode, RetainUntilDate: info.lock.retainUntil }));
}

export async function putObjectRetention(
  ctx: ApiContext,
  req: S3Request,
  bucket: string,
  key: string,
  versionId?: string,
): Promise<S3Response> {
  const doc = parseXml(await readDocument(req), 'Retention');
  const mode = str(doc.Mode);
  const untilText = str(doc.RetainUntilDate);
  if ((mode === undefined) !== (untilText === undefined)) throw new S3Error('MalformedXML');
  if (mode !== undefined && !MODES.has(mode)) throw new S3Error('MalformedXML');
  const until = untilText === undefined ? undefined : parseRetainUntil(untilText);
  if (untilText !== undefined && !until) throw new S3Error('MalformedXML');
  // Authorized once the body says what retention is asked (the s3:object-lock-* keys), not before.
  const access: AccessRequest = { ...req, lock: { mode, retainUntil: until } };
  // The operation's action: s3:PutObjectRetention, or s3:ReplicateObject for a replication request (router.ts).
  await authorize(ctx, access, req.op.action, { bucket, key, versionId });
  await lockEnabled(ctx, bucket);
  requireDigest(req.headers, 'PutObjectRetention requests');
  const now = ctx.now();
  if (until && until.getTime() <= now)
    throw new S3Error('InvalidArgument', 'The retain until date must be in the future!', {
      ArgumentName: 'RetainUntilDate',
    });
  const bypass = await governanceBypass(ctx, access, { bucket, key, versionId });
  const next: ObjectLock = mode ? { mode: mode as RetentionMode, retainUntil: until } : {};
  const info = await ctx.storage.updateObjectMetadata(bucket, key, {
    versionId,
    updateLock: (current) => {
      checkRetentionChange(current.lock, next, bypass, ctx.now());
      return { ...next, legalHold: current.lock?.legalHold };
    },
  });
  return { ...emptyResponse(200), metadataChange: { key, versionId: info.versionId, what: 'retention' } };
}

export async function getObjectLegalHold(
  ctx: ApiContext,
  bucket: string,
  key: string,
  versionId?: string,
): Promise<S3Response> {
  await lockEnabled(ctx, bucket);
  const info = await lockedVersion(ctx, bucket, key, versionId);
  // A version whose legal hold was never set has none to show (AWS and MinIO answer so); one set OFF says OFF.
  if (info.lock?.legalHold === undefined) throw new S3Error('NoSuchObjectLockConfiguration');
  return xmlResponse(toXml('LegalHold', { Status: info.lock.legalHold ? 'ON' : 'OFF' }));
}

export async function putObjectLegalHold(
  ctx: ApiContext,
  req: S3Request,
  bucket: string,
  key: string,
  versionId?: string,
): Promise<S3Response> {
  const status = str(parseXml(await readDocument(req), 'LegalHold').Status);
  if (status !== 'ON' && status !== 'OFF') throw new S3Error('MalformedXML');
  // Authorized once the body says which legal hold is asked (s3:object-lock-legal-hold), not before.
  // s3:PutObjectLegalHold, or s3:ReplicateObject for a replication request.
  await authorize(ctx, { ...req, lock: { legalHold: status } }, req.op.action, { bucket, key, versionId });
  await lockEnabled(ctx, bucket);
  requireDigest(req.headers, 'PutObjectLegalHold requests');
  const info = await ctx.storage.updateObjectMetadata(bucket, key, {
    versionId,
    updateLock: (current) => ({ ...current.lock, legalHold: status === 'ON' }),
  });
  return { ...emptyResponse(200), metadataChange: { key, versionId: info.versionId, what: 'legal-hold' } };
}

/** The version whose lock is asked about: a delete marker has none (MethodNotAllowed by id, else NoSuchKey). */
async function lockedVersion(ctx: ApiContext, bucket: string, key: string, versionId?: string): Promise<ObjectInfo> {
  const info = await ctx.storage.headObject(bucket, key, { versionId });
  if (info.deleteMarker) throw new S3Error(versionId !== undefined ? 'MethodNotAllowed' : 'NoSuchKey');
  return info;
}
