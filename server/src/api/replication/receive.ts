// The receiving side of replication: MinIO's replication requests, as another Cairn or a MinIO sends them.
// A request flagged `x-minio-source-replication-request: true` is authorized as s3:ReplicateObject (writes)
// or s3:ReplicateDelete (deletes; the router gives the operation that action), and only such a request may
// name the new version's id (`?versionId=` on PutObject, CreateMultipartUpload, and on a DeleteObject adding
// a delete marker, `x-minio-source-deletemarker: true`) and its time (`x-minio-source-mtime`). What it
// writes is marked REPLICA, and is never replicated again (no loops between two sites replicating each way).
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../../errors.js';
import type { ReplicaVersion } from '../../storage/object-layer.js';
import type { Operation } from '../operation.js';

export const REPLICATION_REQUEST = 'x-minio-source-replication-request';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

const one = (h: IncomingHttpHeaders, name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

/** Does the request say it is a replication request (whatever it is then allowed)? */
export function isReplicationRequest(h: IncomingHttpHeaders): boolean {
  return one(h, REPLICATION_REQUEST) !== undefined;
}

/** The operations a replication request may be, and the action each is authorized as. */
export function replicationAction(opName: string): string | undefined {
  switch (opName) {
    case 'PutObject':
    case 'CreateMultipartUpload':
    case 'CompleteMultipartUpload':
      return 's3:ReplicateObject';
    case 'DeleteObject':
      return 's3:ReplicateDelete';
    // A version's metadata changed on the source (MinIO's metadata replication; AWS's s3:ReplicateTags).
    case 'PutObjectTagging':
    case 'DeleteObjectTagging':
      return 's3:ReplicateTags';
    case 'PutObjectRetention':
    case 'PutObjectLegalHold':
      return 's3:ReplicateObject';
    default:
      return undefined;
  }
}

function argument(name: string, message: string): S3Error {
  return new S3Error('InvalidArgument', message, { ArgumentName: name });
}

function sourceMtime(h: IncomingHttpHeaders): Date {
  const raw = one(h, 'x-minio-source-mtime') ?? '';
  const t = RFC3339.test(raw) ? new Date(raw) : undefined;
  if (!t || Number.isNaN(t.getTime()))
    throw argument('x-minio-source-mtime', 'A replica needs the source modification time (RFC 3339)');
  return t;
}

/**
 * Checks what a request says about replication before anything runs: a replication request must be one of the
 * operations above with its headers well formed; any other request may not name a new version's id nor claim
 * a replication status.
 */
export function checkReplicationHeaders(op: Operation, h: IncomingHttpHeaders): void {
  const versionId = 'versionId' in op && typeof op.versionId === 'string' ? op.versionId : undefined;
  if (!isReplicationRequest(h)) {
    if (one(h, 'x-amz-replication-status') !== undefined)
      throw argument('x-amz-replication-status', 'Only replication requests carry x-amz-replication-status');
    if (versionId !== undefined && (op.name === 'PutObject' || op.name === 'CreateMultipartUpload'))
      throw argument('versionId', 'Only replication requests may name the version id of a new version');
    return;
  }
  if (one(h, REPLICATION_REQUEST) !== 'true')
    throw argument(REPLICATION_REQUEST, `${REPLICATION_REQUEST} must be true when present`);
  if (!replicationAction(op.name))
    throw new S3Error('NotImplemented', `${op.name} is not implemented as a replication request`);
  const status = one(h, 'x-amz-replication-status');
  if (status !== undefined && status !== 'REPLICA')
    throw argument('x-amz-replication-status', 'A replica is written with x-amz-replication-status: REPLICA');
  const marker = one(h, 'x-minio-source-deletemarker');
  if (marker !== undefined && (op.name !== 'DeleteObject' || marker !== 'true'))
    throw argument('x-minio-source-deletemarker', 'x-minio-source-deletemarker: true goes with a DeleteObject');
  const named = op.name === 'PutObject' || op.name === 'CreateMultipartUpload' || marker === 'true';
  if (named) {
    if (versionId === undefined || !UUID.test(versionId))
      throw argument('versionId', 'A replica names its version id (a UUID)');
    sourceMtime(h);
  }
  if (op.name === 'CompleteMultipartUpload') sourceMtime(h);
}

/** A PutObject / CreateMultipartUpload replication request: the replica's version id and time. */
export function replicaVersion(h: IncomingHttpHeaders, versionId: string | undefined): ReplicaVersion | undefined {
  if (!isReplicationRequest(h) || versionId === undefined) return undefined;
  return { versionId, mtime: sourceMtime(h) };
}

/** A CompleteMultipartUpload replication request: the source's modification time. */
export function replicaCompleteTime(h: IncomingHttpHeaders): Date | undefined {
  return isReplicationRequest(h) ? sourceMtime(h) : undefined;
}

/** A DeleteObject replication request adding a delete marker: its version id and time. */
export function replicaMarker(h: IncomingHttpHeaders, versionId: string | undefined): ReplicaVersion | undefined {
  if (!isReplicationRequest(h) || one(h, 'x-minio-source-deletemarker') !== 'true' || versionId === undefined)
    return undefined;
  return { versionId, mtime: sourceMtime(h) };
}

/** The source's ETag a replica must have (single-part and multipart objects alike), when sent. */
export function sourceEtag(h: IncomingHttpHeaders): string | undefined {
  return isReplicationRequest(h) ? one(h, 'x-minio-source-etag')?.replace(/"/g, '') : undefined;
}

/**
 * What a PutObject / CreateMultipartUpload replication request adds to the write: the replica's id and time,
 * the REPLICA status, and a check that the bytes have the source's ETag (single PUTs). The bucket must be
 * versioned (a replica keeps its version id). Undefined for other requests.
 */
export function replicaPut(
  h: IncomingHttpHeaders,
  op: Operation,
  versioning: string | undefined,
): { replica: ReplicaVersion; replicationStatus: 'REPLICA'; etag?: string } | undefined {
  const versionId = 'versionId' in op && typeof op.versionId === 'string' ? op.versionId : undefined;
  const replica = replicaVersion(h, versionId);
  if (!replica) return undefined;
  if (versioning !== 'Enabled')
    throw new S3Error('InvalidRequest', "Versioning must be 'Enabled' on a bucket that takes replicas");
  return { replica, replicationStatus: 'REPLICA', etag: sourceEtag(h) };
}
