// Bucket replication as the API sees it: Put/Get/DeleteBucketReplication, the one place where the changes of a
// successful operation are queued for replication (api/index.ts handle, beside the events), and the
// x-amz-replication-status answer of GET and HEAD.
import { S3Error, isS3Error } from '../../errors.js';
import type { ObjectInfo, PutOptions } from '../../storage/object-layer.js';
import { bucketSettings } from '../bucket-settings.js';
import type { ObjectEvent, PlannedReplication } from '../notify/event.js';
import { publishServerEvents } from '../notify/index.js';
import { readDocument } from '../request-body.js';
import {
  emptyResponse,
  xmlResponse,
  type ApiContext,
  type MetadataChange,
  type S3Request,
  type S3Response,
} from '../types.js';
import {
  parseReplicationConfiguration,
  replicationXml,
  targetsFor,
  type ReplicationConfiguration,
  type ReplicationKind,
} from './config.js';
import { isReplicationRequest } from './receive.js';
import type { ReplicationEntry } from './replicator.js';
import { newChangeId, queuedTo } from './status.js';
import { storedTargets } from './targets.js';

export {
  Replicator,
  replicationWorkersFromEnv,
  type ReplicationTargetStatus,
  type ReplicatorOptions,
} from './replicator.js';
export { isReplicationTargetPath, replicationTargetAdmin } from './admin.js';
export { resyncDone, resyncStatus, startResync } from './resync.js';

const MAX_DOCUMENT = 2 * 1024 * 1024;

/**
 * Queues the s3:Replication:* event of a change's outcome for the bucket's notification targets, as the server's
 * own work (MinIO's agent `Internal: [Replication]`): COMPLETED once the target has it (an object's size is the
 * bytes copied), FAILED at its first failed attempt. Resolves once queued; nothing when no rule wants it.
 */
export async function publishReplicationEvent(
  ctx: ApiContext,
  e: ReplicationEntry,
  status: 'COMPLETED' | 'FAILED',
  bytes: number,
): Promise<void> {
  const event: ObjectEvent = {
    name:
      status === 'COMPLETED'
        ? 's3:Replication:OperationCompletedReplication'
        : 's3:Replication:OperationFailedReplication',
    key: e.key,
    versionId: e.versionId,
    size: e.kind === 'object' && status === 'COMPLETED' ? bytes : undefined,
  };
  await publishServerEvents(ctx, e.bucket, [event], 'Internal: [Replication]');
}
const parsed = new WeakMap<object, ReplicationConfiguration>();

/** The bucket's replication configuration, parsed once per change (undefined: none). */
export async function replicationOf(ctx: ApiContext, bucket: string): Promise<ReplicationConfiguration | undefined> {
  const { config } = await bucketSettings(ctx, bucket);
  if (!config.replication) return undefined;
  let c = parsed.get(config);
  if (!c) {
    c = parseReplicationConfiguration(config.replication);
    if (Object.isFrozen(config)) parsed.set(config, c);
  }
  return c;
}

export async function getBucketReplication(ctx: ApiContext, bucket: string): Promise<S3Response> {
  const { config } = await bucketSettings(ctx, bucket);
  if (!config.replication) throw new S3Error('ReplicationConfigurationNotFoundError');
  return xmlResponse(config.replication);
}

/** Replaces the bucket's replication configuration; one that does not validate changes nothing. */
export async function putBucketReplication(ctx: ApiContext, req: S3Request, bucket: string): Promise<S3Response> {
  const { config } = await bucketSettings(ctx, bucket);
  if (config.versioning !== 'Enabled')
    throw new S3Error(
      'InvalidRequest',
      "Versioning must be 'Enabled' on the bucket to apply a replication configuration",
    );
  const c = parseReplicationConfiguration(await readDocument(req, MAX_DOCUMENT));
  // Every target a rule names must be one of the bucket's replication targets (MinIO's check).
  const arns = new Set(storedTargets(config, bucket, ctx.iam!.sealer).map((t) => t.arn));
  for (const r of c.rules) {
    if (!arns.has(r.targetArn))
      throw new S3Error('XMinioAdminRemoteTargetNotFoundError', `No replication target ${r.targetArn.slice(0, 200)}`);
  }
  await ctx.storage.updateBucketConfig(bucket, { replication: replicationXml(c) });
  return emptyResponse(200);
}

export async function deleteBucketReplication(ctx: ApiContext, bucket: string): Promise<S3Response> {
  await ctx.storage.headBucket(bucket);
  await ctx.storage.updateBucketConfig(bucket, { replication: null });
  return emptyResponse(204);
}

/**
 * The replication of a version about to be written (not a replica): an object (PutObject, CopyObject,
 * CompleteMultipartUpload) with these tags, or a delete marker (kind 'delete-marker', no tags). Decided before
 * the write so that the version is written PENDING at its targets (`replicationOptions`) and queued without a
 * second metadata write; undefined when no rule wants it. Set it as the version's event's `replication`.
 */
export async function planReplication(
  ctx: ApiContext,
  req: S3Request,
  bucket: string,
  key: string,
  tagging: string | undefined,
  kind: 'object' | 'delete-marker' = 'object',
): Promise<PlannedReplication | undefined> {
  if (!ctx.replication || isReplicationRequest(req.headers)) return undefined;
  // A version written in a bucket whose versioning is not Enabled is the null version, never replicated.
  if ((await bucketSettings(ctx, bucket)).config.versioning !== 'Enabled') return undefined;
  const c = await replicationOf(ctx, bucket);
  if (!c) return undefined;
  const targets = targetsFor(c, key, tagging, kind);
  if (targets.length === 0) return undefined;
  return { change: newChangeId(), targets: targets.map(({ arn, rule }) => ({ arn, storageClass: rule.storageClass })) };
}

/** The PUT options that write a planned version PENDING at its targets. */
export function replicationOptions(
  p: PlannedReplication | undefined,
): Pick<PutOptions, 'replicationStatus' | 'replicationTargets'> {
  const s =
    p &&
    queuedTo(
      p.targets.map((t) => t.arn),
      p.change,
    );
  return s ? { replicationStatus: s.status, replicationTargets: s.targets } : {};
}

/** One change to replicate: a version written, a delete marker added, a version deleted, or metadata changed. */
interface Change {
  kind: ReplicationKind;
  key: string;
  versionId: string;
  metadata?: MetadataChange['what'];
  /** Written PENDING with the version (planReplication). */
  planned?: PlannedReplication;
}

/** What an event is to replication. */
function changeOf(e: ObjectEvent): Change | undefined {
  if (e.versionId === undefined || e.versionId === 'null') return undefined;
  const c = (kind: ReplicationKind): Change => ({ kind, key: e.key, versionId: e.versionId! });
  if (e.name.startsWith('s3:ObjectCreated:')) return { ...c('object'), planned: e.replication };
  if (e.name === 's3:ObjectRemoved:DeleteMarkerCreated') return { ...c('delete-marker'), planned: e.replication };
  if (e.name === 's3:ObjectRemoved:Delete') return c('delete-version');
  return undefined;
}

/**
 * Queues the changes an operation reports for the targets its bucket's rules name: the version is marked
 * PENDING for each of them (status.ts), then the change is written to the target's queue, before the request is answered. A replica
 * written by a replication request is not replicated again; a change of a replica's tags, retention or legal
 * hold made here goes back to its source where the rule keeps ReplicaModifications (MinIO's default), and the
 * replica keeps its REPLICA status.
 */
export async function queueReplication(
  ctx: ApiContext,
  req: S3Request,
  bucket: string,
  events: ObjectEvent[],
  metadata?: MetadataChange,
) {
  if (!ctx.replication || isReplicationRequest(req.headers)) return;
  const c = await replicationOf(ctx, bucket);
  // A version written PENDING at its targets is queued to them even if the rules changed since (else it would
  // stay PENDING): as a change queued before a rule is removed still goes out.
  if (!c && !events.some((e) => e.replication)) return;
  const changes = events.map(changeOf).filter((x) => x !== undefined);
  if (metadata && metadata.versionId !== 'null')
    changes.push({ kind: 'metadata', key: metadata.key, versionId: metadata.versionId, metadata: metadata.what });
  const entries: ReplicationEntry[] = [];
  for (const change of changes) {
    const { kind, key, versionId, planned } = change;
    if (planned) {
      for (const { arn, storageClass } of planned.targets)
        entries.push({ bucket, key, versionId, kind, arn, change: planned.change, storageClass });
      continue;
    }
    if (!c) continue;
    let tagging: string | undefined;
    let mtime: number | undefined;
    let replica = false;
    if (kind !== 'delete-version') {
      let info: ObjectInfo;
      try {
        info = await ctx.storage.headObject(bucket, key, { versionId });
      } catch (err) {
        if (isS3Error(err) && (err.code === 'NoSuchVersion' || err.code === 'NoSuchKey')) continue; // gone already
        throw err;
      }
      replica = info.replicationStatus === 'REPLICA';
      if (replica && kind !== 'metadata') continue;
      tagging = info.tagging;
      mtime = info.lastModified.getTime();
    }
    const targets = targetsFor(c, key, tagging, kind).filter(({ rule }) => !replica || rule.replicaModifications);
    if (targets.length === 0) continue;
    const id = newChangeId();
    if (kind !== 'delete-version' && !replica) {
      const arns = targets.map((t) => t.arn);
      await ctx.storage
        .updateReplication(bucket, key, versionId, (cur) => queuedTo(arns, id, cur))
        .catch((err: unknown) => {
          if (!isS3Error(err) || err.code !== 'NoSuchVersion') throw err;
        });
    }
    for (const { arn, rule } of targets)
      entries.push({
        bucket,
        key,
        versionId,
        kind,
        arn,
        change: id,
        mtime,
        storageClass: rule.storageClass,
        ...(change.metadata ? { metadata: change.metadata } : {}),
      });
  }
  if (entries.length) await ctx.replication.enqueue(entries);
}

/** x-amz-replication-status of GET and HEAD. */
export function replicationHeaders(info: ObjectInfo): Record<string, string> {
  return info.replicationStatus ? { 'x-amz-replication-status': info.replicationStatus } : {};
}
