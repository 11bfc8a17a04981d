// DeleteObject and DeleteObjects (batch, quiet mode, conditional on the ETag). Deleting a key that does not
// exist succeeds, as in S3. DeleteObjects authorizes every key (s3:DeleteObject) and every version
// (s3:DeleteObjectVersion) on its own: a refused one is an AccessDenied entry of the result, and the others
// are deleted.
import { S3Error, isS3Error, wireCode } from '../errors.js';
import type { DeleteOptions, DeleteResult, ReplicaVersion } from '../storage/object-layer.js';
import { replicaMarker } from './replication/receive.js';
import type { ObjectEvent, PlannedReplication } from './notify/event.js';
import { planReplication, replicationOptions } from './replication/index.js';
import { isAllowed } from './authorize.js';
import { checkDeletable, governanceBypass } from './object-lock.js';
import { checkIfMatch } from './object-put.js';
import { MAX_DOC_BYTES, readDocument } from './request-body.js';
import { emptyResponse, xmlResponse, type ApiContext, type S3Request, type S3Response } from './types.js';
import { many, parseXml, str, toXml, type XmlValue } from './xml.js';

/** A conditional delete (If-Match, or an ETag in DeleteObjects): only the current version, as in S3. */
function deletePrecondition(ifMatch: string | undefined, versionId: string | undefined): DeleteOptions['precondition'] {
  if (ifMatch === undefined) return undefined;
  if (versionId !== undefined) {
    throw new S3Error('NotImplemented', 'A conditional delete of a named version is not implemented');
  }
  return (current) => checkIfMatch(ifMatch, current);
}

export async function deleteObject(
  ctx: ApiContext,
  req: S3Request,
  bucket: string,
  key: string,
  versionId: string | undefined,
): Promise<S3Response> {
  const ifMatch = typeof req.headers['if-match'] === 'string' ? req.headers['if-match'] : undefined;
  const precondition = deletePrecondition(ifMatch, versionId);
  // A replication request adding a delete marker names the marker's id (api/replication/receive.ts).
  const marker = replicaMarker(req.headers, versionId);
  if (marker) return replicaDeleteMarker(ctx, bucket, key, marker);
  const versionGuard = await lockGuard(ctx, req, { bucket, key, versionId });
  const replication = await markerReplication(ctx, req, bucket, key, versionId);
  try {
    const r = await ctx.storage.deleteObject(bucket, key, {
      versionId,
      precondition,
      versionGuard,
      ...replicationOptions(replication),
    });
    const h: Record<string, string> = {};
    if (r.deleteMarker) h['x-amz-delete-marker'] = 'true';
    if (r.versionId && (r.versionId !== 'null' || versionId)) h['x-amz-version-id'] = r.versionId;
    return { ...emptyResponse(204, h), events: [deleteEvent(key, versionId, r, replication)] };
  } catch (e) {
    // Deleting what is not there succeeds, unless the delete was conditional on it being there.
    const absent = isS3Error(e) && (e.code === 'NoSuchKey' || (e.code === 'NoSuchVersion' && versionId === 'null'));
    if (absent && !precondition) return emptyResponse(204);
    throw e;
  }
}

/** Adds another site's delete marker, with its version id and time, to a versioned bucket. */
async function replicaDeleteMarker(
  ctx: ApiContext,
  bucket: string,
  key: string,
  marker: ReplicaVersion,
): Promise<S3Response> {
  if ((await ctx.storage.getBucketConfig(bucket)).versioning !== 'Enabled')
    throw new S3Error('InvalidRequest', "Versioning must be 'Enabled' on a bucket that takes replicas");
  const r = await ctx.storage.deleteObject(bucket, key, { replicaMarker: marker, replicationStatus: 'REPLICA' });
  const h = { 'x-amz-delete-marker': 'true', 'x-amz-version-id': r.versionId ?? marker.versionId };
  return {
    ...emptyResponse(204, h),
    events: [{ name: 's3:ObjectRemoved:DeleteMarkerCreated', key, versionId: r.versionId }],
  };
}

/**
 * The replication of the delete marker a delete without a version id adds (planReplication): the marker is
 * written PENDING at its targets, not rewritten after.
 */
function markerReplication(
  ctx: ApiContext,
  req: S3Request,
  bucket: string,
  key: string,
  named: string | undefined,
): Promise<PlannedReplication | undefined> {
  if (named !== undefined) return Promise.resolve(undefined);
  return planReplication(ctx, req, bucket, key, undefined, 'delete-marker');
}

/** A delete that added a marker (no version named, versioned bucket) or removed a version or the object. */
function deleteEvent(
  key: string,
  named: string | undefined,
  r: DeleteResult,
  replication: PlannedReplication | undefined,
): ObjectEvent {
  if (r.deleteMarker && named === undefined) {
    const e: ObjectEvent = { name: 's3:ObjectRemoved:DeleteMarkerCreated', key, versionId: r.versionId };
    if (replication) e.replication = replication;
    return e;
  }
  return { name: 's3:ObjectRemoved:Delete', key, versionId: named ?? r.versionId };
}

/** Object lock: a delete naming a version must not remove a locked one (checked under the object's lock). */
async function lockGuard(
  ctx: ApiContext,
  req: S3Request,
  r: { bucket: string; key: string; versionId?: string },
): Promise<DeleteOptions['versionGuard']> {
  if (r.versionId === undefined) return undefined; // a delete marker is added; no version goes away
  const bypass = await governanceBypass(ctx, req, r);
  return (version) => checkDeletable(version, bypass, ctx.now());
}

/** S3 deletes at most 1,000 keys a request: each an Object with Key, VersionId, ETag, LastModifiedTime, Size. */
const MAX_KEYS = 1000;
const MAX_DELETE_ELEMENTS = 1 + MAX_KEYS * 6 + 1;

export async function deleteObjects(ctx: ApiContext, req: S3Request, bucket: string): Promise<S3Response> {
  const doc = parseXml(await readDocument(req, MAX_DOC_BYTES, { maxElements: MAX_DELETE_ELEMENTS }), 'Delete');
  const quiet = str(doc.Quiet) === 'true';
  const objects = many(doc.Object).map((o) => {
    const r = o as Record<string, unknown>;
    const key = str(r.Key);
    if (key === undefined) throw new S3Error('MalformedXML');
    // Conditions on size and time are S3 directory-bucket features Cairn does not have.
    if (r.LastModifiedTime !== undefined || r.Size !== undefined) {
      throw new S3Error('NotImplemented', 'DeleteObjects conditions on LastModifiedTime and Size are not implemented');
    }
    const versionId = str(r.VersionId);
    return { key, versionId, precondition: deletePrecondition(str(r.ETag), versionId) };
  });
  if (objects.length === 0 || objects.length > MAX_KEYS) throw new S3Error('MalformedXML');
  await ctx.storage.headBucket(bucket);
  const deleted: XmlValue[] = [];
  const errors: XmlValue[] = [];
  const events: ObjectEvent[] = [];
  for (const o of objects) {
    try {
      const action = o.versionId !== undefined ? 's3:DeleteObjectVersion' : 's3:DeleteObject';
      const allowed = await isAllowed(ctx, req, action, { bucket, key: o.key, versionId: o.versionId });
      if (!allowed) throw new S3Error('AccessDenied');
      const versionGuard = await lockGuard(ctx, req, { bucket, key: o.key, versionId: o.versionId });
      const replication = await markerReplication(ctx, req, bucket, o.key, o.versionId);
      const r = await ctx.storage.deleteObject(bucket, o.key, {
        versionId: o.versionId,
        precondition: o.precondition,
        versionGuard,
        ...replicationOptions(replication),
      });
      events.push(deleteEvent(o.key, o.versionId, r, replication));
      if (!quiet) {
        deleted.push({
          Key: o.key,
          VersionId: o.versionId,
          DeleteMarker: r.deleteMarker ? true : undefined,
          DeleteMarkerVersionId: r.deleteMarker ? r.versionId : undefined,
        });
      }
    } catch (e) {
      if (isS3Error(e) && (e.code === 'NoSuchKey' || e.code === 'NoSuchVersion') && !o.precondition) {
        if (!quiet) deleted.push({ Key: o.key, VersionId: o.versionId });
        continue;
      }
      const err = isS3Error(e) ? e : new S3Error('InternalError');
      if (!isS3Error(e)) req.log.error({ err: e, key: o.key }, 'DeleteObjects: delete failed');
      errors.push({ Key: o.key, VersionId: o.versionId, Code: wireCode(err.code), Message: err.message });
    }
  }
  return xmlResponse(toXml('DeleteResult', { Deleted: deleted, Error: errors }), 200, {}, events);
}
