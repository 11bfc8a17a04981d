// The S3 API: one entry point from an authenticated request to a response. Each family of operations has
// its own file; this switch is the table of contents.
import { ownershipControlsOp, publicAccessBlockOp } from './access-config.js';
import { bucketAbacOp } from './bucket-abac.js';
import { hasForeignGrants } from './acl.js';
import { authorizeOperation } from './authorize.js';
import { S3Error } from '../errors.js';
import { getObjectAttributes } from './attributes.js';
import * as bucket from './bucket.js';
import { copyObject } from './copy.js';
import * as cors from './cors.js';
import { deleteObject, deleteObjects } from './delete.js';
import { listObjectVersions, listObjectsV1, listObjectsV2 } from './list.js';
import * as lifecycle from './lifecycle/index.js';
import * as mp from './multipart.js';
import * as notify from './notify/index.js';
import * as replication from './replication/index.js';
import { checkReplicationHeaders } from './replication/receive.js';
import * as lock from './object-lock.js';
import { getOrHeadObject } from './object-get.js';
import { putObject } from './object-put.js';
import * as policy from './policy.js';
import { selectObjectContent } from './select.js';
import * as tagging from './tagging.js';
import * as bucketEncryption from './bucket-encryption.js';
import type { ApiContext, IncomingRequest, S3Request, S3Response } from './types.js';
import { refuseUnimplemented } from './unimplemented.js';

export type {
  ApiContext,
  ApiLogger,
  Caller,
  DecodedBody,
  Endpoint,
  IncomingRequest,
  S3Request,
  S3Response,
} from './types.js';
export type { Operation, OperationName } from './operation.js';
export type {
  ChunkSink,
  DriveState,
  ObjectLayer,
  PushingBody,
  RecyclingBody,
  SetState,
  SpliceHandOver,
  SplicingBody,
} from '../storage/object-layer.js';
export { actualRequestCors } from './cors.js';
export { evaluatePolicy, parsePolicy, type PolicyRequest } from './bucket-policy.js';
export { checkBucketName } from './names.js';
export { toXml, parseXml, escapeXml } from './xml.js';
export { objectUrl } from './types.js';
export { handleService, type ServiceRequest } from './iam/service.js';
export { IamStore } from './iam/store.js';
export { LifecycleScanner } from './lifecycle/index.js';
export { Tiers } from './tier/tiers.js';
export {
  Replicator,
  publishReplicationEvent,
  resyncDone,
  type ReplicationTargetStatus,
  type ReplicatorOptions,
} from './replication/index.js';
export { RewrapJobs, type RewrapSharing, rewrapOverBus } from './sse/rewrap.js';
export {
  HealSequences,
  type HealSharing,
  healOverBus,
  MetricsStreams,
  type ServerAdmin,
  ServerConfig,
  type ServerIdentity,
  type ServiceAction,
  type TraceInfo,
  type TraceSharing,
  TraceHub,
  traceEntry,
  UsageCounter,
} from './admin/index.js';
export { asHeaderBytes } from './object-headers.js';
export {
  Notifier,
  notifyTargetsFromEnv,
  type NotifierOptions,
  type TargetConfig,
  type TargetStatus,
} from './notify/index.js';

/**
 * Authorizes the request (authorize.ts), refuses what it asks that Cairn does not do (unimplemented.ts), then
 * opens its body and runs the operation's handler.
 */
export async function handle(ctx: ApiContext, incoming: IncomingRequest): Promise<S3Response> {
  checkReplicationHeaders(incoming.op, incoming.headers);
  await authorizeOperation(ctx, incoming);
  refuseUnimplemented(incoming.op, incoming.headers);
  const { openBody, ...request } = incoming;
  const req = { ...request, ...openBody() };
  const { events, metadataChange, ...res } = await run(ctx, req);
  // The one emission point: events (and metadata changes, for replication) are queued durably before the
  // answer goes out.
  if ((events?.length || metadataChange) && 'bucket' in req.op) {
    await replication.queueReplication(ctx, req, req.op.bucket, events ?? [], metadataChange);
    if (events?.length) await notify.publishEvents(ctx, req, req.op.bucket, events);
  }
  return res;
}

async function run(ctx: ApiContext, req: S3Request): Promise<S3Response> {
  const op = req.op;
  switch (op.name) {
    case 'ListBuckets':
      return bucket.listBuckets(ctx, op.params, req.caller);
    case 'CreateBucket':
      return bucket.createBucket(ctx, req, op.bucket);
    case 'HeadBucket':
      return bucket.headBucket(ctx, op.bucket);
    case 'DeleteBucket':
      return bucket.deleteBucket(ctx, op.bucket);
    case 'GetBucketLocation':
      return bucket.getBucketLocation(ctx, op.bucket);
    case 'GetBucketVersioning':
      return bucket.getBucketVersioning(ctx, op.bucket);
    case 'PutBucketVersioning':
      return bucket.putBucketVersioning(ctx, req, op.bucket);
    case 'GetBucketAcl':
      return bucket.getAcl(ctx, op.bucket);
    case 'PutBucketAcl':
      return bucket.putAcl(ctx, req, op.bucket);
    case 'PublicAccessBlock':
      return publicAccessBlockOp(ctx, req, op.bucket, op.method);
    case 'BucketAbac':
      return bucketAbacOp(ctx, req, op.bucket, op.method);
    case 'OwnershipControls':
      return ownershipControlsOp(ctx, req, op.bucket, op.method, (s) => hasForeignGrants(s.acl));
    case 'UnsupportedServiceOp':
      throw new S3Error(
        'NotImplemented',
        `${op.what} is not implemented: the ${op.parameter} parameter cannot be honoured.`,
      );
    case 'UnsupportedBucketOp':
      return bucket.unsupportedBucketOp(ctx, op.bucket, op.subresource, op.method);
    case 'GetBucketEncryption':
      return bucketEncryption.getBucketEncryption(ctx, op.bucket);
    case 'PutBucketEncryption':
      return bucketEncryption.putBucketEncryption(ctx, req, op.bucket);
    case 'DeleteBucketEncryption':
      return bucketEncryption.deleteBucketEncryption(ctx, op.bucket);
    case 'GetBucketTagging':
      return tagging.getBucketTagging(ctx, op.bucket);
    case 'PutBucketTagging':
      return tagging.putBucketTagging(ctx, req, op.bucket);
    case 'DeleteBucketTagging':
      return tagging.deleteBucketTagging(ctx, op.bucket);
    case 'GetBucketCors':
      return cors.getBucketCors(ctx, op.bucket);
    case 'PutBucketCors':
      return cors.putBucketCors(ctx, req, op.bucket);
    case 'DeleteBucketCors':
      return cors.deleteBucketCors(ctx, op.bucket);
    case 'Preflight':
      return cors.preflight(ctx, req, op.bucket);
    case 'GetBucketPolicy':
      return policy.getBucketPolicy(ctx, op.bucket);
    case 'PutBucketPolicy':
      return policy.putBucketPolicy(ctx, req, op.bucket);
    case 'DeleteBucketPolicy':
      return policy.deleteBucketPolicy(ctx, op.bucket);
    case 'GetBucketPolicyStatus':
      return policy.getBucketPolicyStatus(ctx, op.bucket);
    case 'GetBucketNotificationConfiguration':
      return notify.getBucketNotification(ctx, op.bucket);
    case 'PutBucketNotificationConfiguration':
      return notify.putBucketNotification(ctx, req, op.bucket);
    case 'ListenBucketNotification':
      return notify.listenBucketNotification(ctx, op.bucket, op.params);
    case 'ListenNotification':
      return notify.listenBucketNotification(ctx, undefined, op.params);
    case 'GetObjectLockConfiguration':
      return lock.getObjectLockConfiguration(ctx, op.bucket);
    case 'PutObjectLockConfiguration':
      return lock.putObjectLockConfiguration(ctx, req, op.bucket);
    case 'GetBucketLifecycleConfiguration':
      return lifecycle.getBucketLifecycle(ctx, op.bucket);
    case 'PutBucketLifecycleConfiguration':
      return lifecycle.putBucketLifecycle(ctx, req, op.bucket);
    case 'DeleteBucketLifecycle':
      return lifecycle.deleteBucketLifecycle(ctx, op.bucket);
    case 'GetBucketReplication':
      return replication.getBucketReplication(ctx, op.bucket);
    case 'PutBucketReplication':
      return replication.putBucketReplication(ctx, req, op.bucket);
    case 'DeleteBucketReplication':
      return replication.deleteBucketReplication(ctx, op.bucket);
    case 'ResetBucketReplication':
      return replication.startResync(ctx, req, op.bucket);
    case 'GetBucketReplicationResyncStatus':
      return replication.resyncStatus(ctx, req, op.bucket);
    case 'GetObjectRetention':
      return lock.getObjectRetention(ctx, op.bucket, op.key, op.versionId);
    case 'PutObjectRetention':
      return lock.putObjectRetention(ctx, req, op.bucket, op.key, op.versionId);
    case 'GetObjectLegalHold':
      return lock.getObjectLegalHold(ctx, op.bucket, op.key, op.versionId);
    case 'PutObjectLegalHold':
      return lock.putObjectLegalHold(ctx, req, op.bucket, op.key, op.versionId);
    case 'ListObjectsV1':
      return listObjectsV1(ctx, op.bucket, op.params);
    case 'ListObjectsV2':
      return listObjectsV2(ctx, op.bucket, op.params);
    case 'ListObjectVersions':
      return listObjectVersions(ctx, op.bucket, op.params);
    case 'ListMultipartUploads':
      return mp.listMultipartUploads(ctx, op.bucket, op.params);
    case 'DeleteObjects':
      return deleteObjects(ctx, req, op.bucket);
    case 'GetObject':
      return getOrHeadObject(ctx, req, op.bucket, op.key, op.versionId, op.partNumber, false);
    case 'HeadObject':
      return getOrHeadObject(ctx, req, op.bucket, op.key, op.versionId, op.partNumber, true);
    case 'PutObject':
      return putObject(ctx, req, op.bucket, op.key, op.form);
    case 'CopyObject':
      return copyObject(ctx, req, op.bucket, op.key, op.source);
    case 'DeleteObject':
      return deleteObject(ctx, req, op.bucket, op.key, op.versionId);
    case 'GetObjectTagging':
      return tagging.getObjectTagging(ctx, op.bucket, op.key, op.versionId);
    case 'PutObjectTagging':
      return tagging.putObjectTagging(ctx, req, op.bucket, op.key, op.versionId);
    case 'DeleteObjectTagging':
      return tagging.deleteObjectTagging(ctx, op.bucket, op.key, op.versionId);
    case 'GetObjectAttributes':
      return getObjectAttributes(ctx, req, op.bucket, op.key, op.versionId);
    case 'GetObjectAcl':
      return bucket.getAcl(ctx, op.bucket, op.key, op.versionId);
    case 'PutObjectAcl':
      return bucket.putAcl(ctx, req, op.bucket, op.key, op.versionId);
    case 'CreateMultipartUpload':
      return mp.createMultipartUpload(ctx, req, op.bucket, op.key);
    case 'UploadPart':
      return mp.uploadPart(ctx, req, op.bucket, op.key, op.uploadId, op.partNumber);
    case 'UploadPartCopy':
      return mp.uploadPartCopy(ctx, req, op.bucket, op.key, op.uploadId, op.partNumber, op.source);
    case 'CompleteMultipartUpload':
      return mp.completeMultipartUpload(ctx, req, op.bucket, op.key, op.uploadId);
    case 'AbortMultipartUpload':
      return mp.abortMultipartUpload(ctx, op.bucket, op.key, op.uploadId);
    case 'ListParts':
      return mp.listParts(ctx, op.bucket, op.key, op.uploadId, op.partNumberMarker, op.maxParts);
    case 'SelectObjectContent':
      return selectObjectContent(ctx, req, op.bucket, op.key);
    case 'UnsupportedObjectOp':
      // torrent, restore: the object must exist; the feature does not yet.
      await ctx.storage.headObject(op.bucket, op.key, { versionId: op.versionId });
      throw new S3Error('NotImplemented');
    case 'PostObject':
      // PostObject is answered by the HTTP layer (its authentication lives in the form).
      throw new S3Error('NotImplemented');
    case 'ServiceQuery':
    case 'AdminApi':
      // Answered by handleService (api/iam/service.ts), which reads the body before authentication.
      throw new S3Error('NotImplemented');
  }
}
