// PutObject: the body streams straight into storage; checksums, Content-MD5 and conditional-write headers
// are checked by storage callbacks before the commit, so a failed check stores nothing.
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../errors.js';
import type { ObjectInfo, PutOptions } from '../storage/object-layer.js';
import { newObjectAcl, withObjectAcl } from './acl.js';
import { expirationHeader } from './lifecycle/index.js';
import { objectEvent } from './notify/event.js';
import { newObjectLock } from './object-lock.js';
import { checksumHeaderName, quoteEtag, unquoteEtag } from './object-headers.js';
import {
  MAX_SINGLE_PUT,
  checkKey,
  contentHeaders,
  integrity,
  storageClass,
  taggingHeader,
  userMetadata,
} from './put-input.js';
import { bucketSettings } from './bucket-settings.js';
import { withinQuota } from './quota.js';
import { planReplication, replicationOptions } from './replication/index.js';
import { replicaPut } from './replication/receive.js';
import {
  encryptionContextHeader,
  encryptionHeaders,
  newEncryption,
  sealForPut,
  wipeKey,
  writeEncryption,
} from './sse/index.js';
import { emptyResponse, type ApiContext, type S3Request, type S3Response } from './types.js';

/**
 * If-Match against the current version (null: none, or a delete marker), as S3 checks it on writes and
 * deletes: no current object is NoSuchKey, another ETag is PreconditionFailed, `*` takes any object.
 */
export function checkIfMatch(ifMatch: string, current: ObjectInfo | null): void {
  if (!current) throw new S3Error('NoSuchKey');
  if (ifMatch.trim() !== '*' && unquoteEtag(ifMatch) !== current.etag) {
    throw new S3Error('PreconditionFailed', undefined, { Condition: 'If-Match' });
  }
}

/** If-None-Match: * and If-Match on writes, checked atomically by storage at commit. */
export function writePrecondition(h: IncomingHttpHeaders): PutOptions['precondition'] {
  const ifNoneMatch = typeof h['if-none-match'] === 'string' ? h['if-none-match'] : undefined;
  const ifMatch = typeof h['if-match'] === 'string' ? h['if-match'] : undefined;
  if (ifNoneMatch === undefined && ifMatch === undefined) return undefined;
  return (current: ObjectInfo | null) => {
    if (
      ifNoneMatch !== undefined &&
      current &&
      (ifNoneMatch.trim() === '*' || unquoteEtag(ifNoneMatch) === current.etag)
    ) {
      throw new S3Error('PreconditionFailed', undefined, { Condition: 'If-None-Match' });
    }
    if (ifMatch !== undefined) checkIfMatch(ifMatch, current);
  };
}

export function writeResultHeaders(info: ObjectInfo): Record<string, string> {
  const h: Record<string, string> = { etag: quoteEtag(info.etag) };
  if (info.versionId && info.versionId !== 'null') h['x-amz-version-id'] = info.versionId;
  if (info.checksum) {
    h[checksumHeaderName(info.checksum)] = info.checksum.value;
    h['x-amz-checksum-type'] = info.checksum.type;
  }
  return h;
}

/** `form`: the upload came as a POST form (its event is ObjectCreated:Post). */
export async function putObject(
  ctx: ApiContext,
  req: S3Request,
  bucket: string,
  key: string,
  form = false,
): Promise<S3Response> {
  checkKey(key);
  if (req.size > MAX_SINGLE_PUT)
    throw new S3Error('EntityTooLarge', undefined, {
      ProposedSize: String(req.size),
      MaxSizeAllowed: String(MAX_SINGLE_PUT),
    });
  const settings0 = await bucketSettings(ctx, bucket);
  const replica = replicaPut(req.headers, req.op, settings0.config.versioning);
  const checks = integrity(req.headers, req.trailers);
  let sealed = false;
  // The bucket's quota, for a body whose size is known only at its end (withinQuota).
  let quotaFits: (size: number) => Promise<void> = async () => {};
  const tagging = taggingHeader(req.headers);
  // Written PENDING at its replication targets with the version itself: one metadata write, not two.
  const replication = await planReplication(ctx, req, bucket, key, tagging);
  const plain: PutOptions = {
    size: req.size,
    contentHeaders: contentHeaders(req.headers),
    userMetadata: withObjectAcl(userMetadata(req.headers), await newObjectAcl(ctx, req, bucket)),
    tagging,
    storageClass: storageClass(req.headers),
    precondition: writePrecondition(req.headers),
    checksumAlgorithm: checks.checksumAlgorithm,
    checksumDeclared: checks.checksumDeclared,
    verify: async (computed) => {
      await checks.verify?.(computed);
      await quotaFits(computed.size);
      // A replica has its source's bytes: the ETag of a single PUT is their MD5.
      if (replica?.etag !== undefined && !sealed && computed.md5.toString('hex') !== replica.etag)
        throw new S3Error('BadDigest', "The replica's bytes do not have its source's ETag");
    },
    // A replica's object lock comes with its ETag checked (x-minio-source-etag) instead of a Content-MD5.
    lock: await newObjectLock(
      ctx,
      req,
      bucket,
      key,
      replica ? {} : { digestFor: 'Put Object requests with Object Lock parameters' },
    ),
    ...(replica
      ? { replica: replica.replica, replicationStatus: replica.replicationStatus }
      : replicationOptions(replication)),
  };
  const settings = ctx.sse ?? {};
  const we = writeEncryption(req, settings, settings0.defaultEncryption);
  const created = we && (await newEncryption(settings, we));
  sealed = !!created;
  const { body, opts } = created ? sealForPut(req.body, plain, created, ctx.sse) : { body: req.body, opts: plain };
  const info = await withinQuota(ctx, bucket, req.size, (fits) => {
    quotaFits = fits;
    return ctx.storage.putObject(bucket, key, body, opts);
  }).finally(() => wipeKey(created?.dataKey));
  const encryption = { ...encryptionHeaders(info.encryption), ...encryptionContextHeader(info.encryption) };
  const event = objectEvent(form ? 's3:ObjectCreated:Post' : 's3:ObjectCreated:Put', info);
  if (replication) event.replication = replication;
  return {
    ...emptyResponse(200, { ...writeResultHeaders(info), ...encryption, ...(await expirationHeader(ctx, info)) }),
    events: [event],
  };
}
