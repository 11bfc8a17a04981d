// Resync: replicating again what a bucket already holds, for one target (MinIO's bucket replication reset, as
// `mc replicate resync` and minio-go's ResetBucketReplication call it):
//   PUT /bucket?replication-reset&arn=ARN[&older-than=DURATION][&reset-id=ID]   starts; answers {target:[{arn,
//                                                                                resetid}]} (JSON)
//   GET /bucket?replication-reset-status[&arn=ARN]                              progress of each target's resync
// Both need s3:ResetBucketReplicationState. The rule replicating to the target must have
// ExistingObjectReplication Enabled. A first listing counts the versions the target's rules name (the total a
// progress bar measures against); the walk then lists every version of the bucket again (a page at a time, the
// event loop given a turn between pages), marks each one a rule names PENDING and queues it like a new change;
// the progress counts what the sender has copied since. Progress is kept by the process that runs the resync and
// written to the bucket's configuration when it starts, once counted and when it ends (what other processes answer).
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { S3Error } from '../../errors.js';
import type { BucketConfig, ObjectInfo } from '../../storage/object-layer.js';
import { bucketSettings } from '../bucket-settings.js';
import type { ApiContext, S3Request, S3Response } from '../types.js';
import { type ReplicationConfiguration, targetsFor } from './config.js';
import { replicationOf } from './index.js';
import type { ReplicationEntry } from './replicator.js';
import { newChangeId, queuedTo } from './status.js';

/** One target's resync, as MinIO's ResyncTarget JSON names its fields. */
export interface ResyncProgress {
  arn: string;
  resetid: string;
  startTime: string;
  endTime?: string;
  resyncStatus: 'Ongoing' | 'Completed' | 'Failed';
  completedReplicationSize: number;
  replicationCount: number;
  failedReplicationSize: number;
  failedReplicationCount: number;
  /** Cairn's: versions queued by the walk so far, and whether the walk has finished. */
  queued: number;
  walked: boolean;
  /**
   * Cairn's: the versions (and their bytes) the resync has to replicate, counted by a listing before the walk
   * begins (absent while it runs): what a progress bar measures against until the walk ends (then `queued`).
   */
  total?: number;
  totalSize?: number;
}

/** A queue this big makes the walk wait for the sender (the queue's own limit is far above it). */
const WALK_BACKLOG = 10_000;
const PAGE = 1000;
const GO_DURATION = /^(\d+(\.\d+)?(h|m|s|ms))+$/;
const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/** A Go duration as `older-than` carries it (`720h`, `1h30m`): milliseconds. */
function goDuration(s: string): number {
  if (!GO_DURATION.test(s))
    throw new S3Error('InvalidArgument', `invalid query parameter older-than ${s.slice(0, 64)}`, {
      ArgumentName: 'older-than',
    });
  let ms = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s)/g)) ms += Number(m[1]) * UNIT_MS[m[2]];
  return ms;
}

const json = (value: unknown): S3Response => ({
  status: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(value),
});

function stored(config: BucketConfig): Record<string, ResyncProgress> {
  if (!config.replicationResync) return {};
  try {
    return JSON.parse(config.replicationResync) as Record<string, ResyncProgress>;
  } catch {
    return {};
  }
}

/** The resyncs this process runs, by bucket and ARN. */
const running = new Map<string, ResyncProgress>();
const runKey = (bucket: string, arn: string) => `${bucket}\0${arn}`;

async function persist(ctx: ApiContext, bucket: string, p: ResyncProgress): Promise<void> {
  const { config } = await bucketSettings(ctx, bucket);
  const all = { ...stored(config), [p.arn]: p };
  await ctx.storage.updateBucketConfig(bucket, { replicationResync: JSON.stringify(all) });
}

/** The sender finished a change a resync queued: counts it, and ends the resync once all are done. */
export function resyncDone(ctx: ApiContext, e: ReplicationEntry, bytes: number, ok: boolean): void {
  const p = running.get(runKey(e.bucket, e.arn));
  if (!p || p.resetid !== e.resetId) return;
  if (ok) {
    p.replicationCount++;
    p.completedReplicationSize += bytes;
  } else {
    p.failedReplicationCount++;
    p.failedReplicationSize += bytes;
  }
  void finishIfDone(ctx, e.bucket, p);
}

async function finishIfDone(ctx: ApiContext, bucket: string, p: ResyncProgress): Promise<void> {
  if (!p.walked || p.resyncStatus !== 'Ongoing') return;
  if (p.replicationCount + p.failedReplicationCount < p.queued) return;
  p.resyncStatus = 'Completed';
  p.endTime = new Date(ctx.now()).toISOString();
  await persist(ctx, bucket, p).catch(() => {});
}

export async function startResync(ctx: ApiContext, req: S3Request, bucket: string): Promise<S3Response> {
  if (!ctx.replication) throw new S3Error('NotImplemented', 'Replication is not available on this server');
  const c = await replicationOf(ctx, bucket);
  if (!c) throw new S3Error('ReplicationConfigurationNotFoundError');
  const arn = req.query.get('arn') ?? '';
  if (arn === '') throw new S3Error('InvalidArgument', 'ARN should be specified for replication reset');
  const rules = c.rules.filter((r) => r.targetArn === arn && r.enabled);
  if (rules.length === 0) throw new S3Error('XMinioAdminRemoteTargetNotFoundError');
  if (!rules.some((r) => r.existingObjects)) throw new S3Error('XMinioReplicationNoExistingObjects');
  const olderThan = req.query.get('older-than');
  const before = olderThan ? ctx.now() - goDuration(olderThan) : undefined;
  const resetId = req.query.get('reset-id') || randomUUID();
  const prior = running.get(runKey(bucket, arn));
  if (prior?.resyncStatus === 'Ongoing')
    throw new S3Error('InvalidRequest', `A resync of ${arn.slice(0, 200)} is already running (${prior.resetid})`);
  const p: ResyncProgress = {
    arn,
    resetid: resetId,
    startTime: new Date(ctx.now()).toISOString(),
    resyncStatus: 'Ongoing',
    completedReplicationSize: 0,
    replicationCount: 0,
    failedReplicationSize: 0,
    failedReplicationCount: 0,
    queued: 0,
    walked: false,
  };
  running.set(runKey(bucket, arn), p);
  await persist(ctx, bucket, p);
  void (async () => {
    const size = await count(ctx, bucket, p.arn, before);
    p.total = size.versions;
    p.totalSize = size.bytes;
    await persist(ctx, bucket, p);
    await walk(ctx, bucket, p, before);
  })().catch(async (e: unknown) => {
    ctx.replication?.log.error({ bucket, target: arn, err: e }, 'replication resync failed');
    p.resyncStatus = 'Failed';
    p.endTime = new Date(ctx.now()).toISOString();
    await persist(ctx, bucket, p).catch(() => {});
  });
  return json({ target: [{ arn, resetid: resetId }] });
}

/** The target's rule that makes a resync replicate this version again, if one does. */
function ruleFor(c: ReplicationConfiguration, v: ObjectInfo, arn: string, before: number | undefined) {
  if (v.replicationStatus === 'REPLICA' || v.versionId === 'null') return undefined;
  if (before !== undefined && v.lastModified.getTime() >= before) return undefined;
  const kind = v.deleteMarker ? 'delete-marker' : 'object';
  return targetsFor(c, v.key, v.tagging, kind, true).find((t) => t.arn === arn);
}

/** The versions a resync will queue (and their bytes): one listing before the walk, for its progress. */
async function count(ctx: ApiContext, bucket: string, arn: string, before: number | undefined) {
  let versions = 0;
  let bytes = 0;
  await eachPage(ctx, bucket, (c, page) => {
    for (const v of page)
      if (ruleFor(c, v, arn, before)) {
        versions++;
        if (!v.deleteMarker) bytes += v.size;
      }
  });
  return { versions, bytes };
}

/** Calls `fn` with each page of the bucket's versions and its replication configuration as it is then. */
async function eachPage(
  ctx: ApiContext,
  bucket: string,
  fn: (c: ReplicationConfiguration, versions: ObjectInfo[]) => Promise<void> | void,
): Promise<void> {
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const c = await replicationOf(ctx, bucket);
    if (!c) throw new S3Error('ReplicationConfigurationNotFoundError');
    const page = await ctx.storage.listObjectVersions(bucket, { keyMarker, versionIdMarker, maxKeys: PAGE });
    await fn(c, page.versions);
    if (!page.isTruncated) return;
    keyMarker = page.nextKeyMarker;
    versionIdMarker = page.nextVersionIdMarker;
  }
}

/** Lists every version of the bucket and queues the ones the target's rules name. */
async function walk(ctx: ApiContext, bucket: string, p: ResyncProgress, before: number | undefined): Promise<void> {
  const replication = ctx.replication!;
  await eachPage(ctx, bucket, async (c, page) => {
    const entries: ReplicationEntry[] = [];
    for (const v of page) {
      const target = ruleFor(c, v, p.arn, before);
      if (!target) continue;
      const kind = v.deleteMarker ? 'delete-marker' : 'object';
      const change = newChangeId();
      await ctx.storage
        .updateReplication(bucket, v.key, v.versionId, (cur) => queuedTo([p.arn], change, cur))
        .catch(() => {});
      entries.push({
        bucket,
        key: v.key,
        versionId: v.versionId,
        kind,
        arn: p.arn,
        change,
        mtime: v.lastModified.getTime(),
        storageClass: target.rule.storageClass,
        resetId: p.resetid,
      });
    }
    p.queued += entries.length;
    await replication.enqueue(entries);
    while (replication.queued(p.arn) > WALK_BACKLOG) await sleep(200);
  });
  p.walked = true;
  await finishIfDone(ctx, bucket, p);
}

export async function resyncStatus(ctx: ApiContext, req: S3Request, bucket: string): Promise<S3Response> {
  const { config } = await bucketSettings(ctx, bucket);
  const arn = req.query.get('arn') ?? '';
  const all = { ...stored(config) };
  for (const [k, p] of running) if (k.startsWith(`${bucket}\0`)) all[p.arn] = p;
  const targets = Object.values(all).filter((p) => arn === '' || p.arn === arn);
  if (arn !== '' && targets.length === 0)
    throw new S3Error('InvalidArgument', `replication resync status not available for ${arn.slice(0, 200)}`);
  return json({ target: targets });
}
