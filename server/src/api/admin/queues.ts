// The notification and replication queues, as `cairn admin queues` and `cairn admin replicate status` list them
// (Cairn's own call: MinIO's mc has no listing of its targets' queues):
//   GET /minio/admin/v3/queues[?kind=notify|replication]   every target's queue (admin:ServerInfo)
// One row per target: events (changes) waiting, the age of the oldest (its lag), delivered, failed attempts
// (each retried), given up (replication), the last error and its time. With several workers each keeps its own
// queue of every target: the rows are the sums over them (the oldest: the largest age; the last error: the newest),
// gathered with the metrics (http/metrics.ts).
import { S3Error } from '../../errors.js';
import type { TargetStatus } from '../notify/notifier.js';
import type { ReplicationTargetStatus } from '../replication/replicator.js';
import type { S3Response } from '../types.js';
import type { ServerAdminCall } from './index.js';

/** One target's queue in one process (the units the listing sums). */
export interface QueueRow {
  kind: 'notify' | 'replication';
  /** notify: `<ID>:<type>`; replication: the target's ARN. */
  target: string;
  /** replication: the source bucket ('' before its first change); notify: absent. */
  bucket?: string;
  pending: number;
  /** When the oldest waiting was queued (ms since 1970); absent when none waits. */
  oldestAt?: number;
  /** Taken by the target (notify: delivered; replication: replicated). */
  delivered: number;
  /** Attempts that failed, each tried again later. */
  failedAttempts: number;
  /** Never to be sent: notify, not queued (queue full or write failed); replication, refused for good. */
  failed: number;
  lastError?: string;
  lastErrorAt?: number;
}

export const notifyRows = (all: TargetStatus[]): QueueRow[] =>
  all.map((s) => ({
    kind: 'notify',
    target: s.target,
    pending: s.queued,
    delivered: s.delivered,
    failedAttempts: s.failedAttempts,
    failed: s.notQueued,
    ...(s.oldestAt !== undefined ? { oldestAt: s.oldestAt } : {}),
    ...(s.lastError !== undefined ? { lastError: s.lastError, lastErrorAt: s.lastErrorAt } : {}),
  }));

export const replicationRows = (all: ReplicationTargetStatus[]): QueueRow[] =>
  all.map((s) => ({
    kind: 'replication',
    target: s.arn,
    bucket: s.bucket,
    pending: s.queued,
    delivered: s.replicated,
    failedAttempts: s.failedAttempts,
    failed: s.failed,
    ...(s.oldestAt !== undefined ? { oldestAt: s.oldestAt } : {}),
    ...(s.lastError !== undefined ? { lastError: s.lastError, lastErrorAt: s.lastErrorAt } : {}),
  }));

/** The rows of several processes, one per target: counts summed, the oldest time and the newest error kept. */
export function mergeRows(rows: QueueRow[]): QueueRow[] {
  const out = new Map<string, QueueRow>();
  for (const r of rows) {
    const id = `${r.kind} ${r.target}`;
    const have = out.get(id);
    if (!have) {
      out.set(id, { ...r });
      continue;
    }
    have.pending += r.pending;
    have.delivered += r.delivered;
    have.failedAttempts += r.failedAttempts;
    have.failed += r.failed;
    if (!have.bucket && r.bucket) have.bucket = r.bucket;
    if (r.oldestAt !== undefined && (have.oldestAt === undefined || r.oldestAt < have.oldestAt))
      have.oldestAt = r.oldestAt;
    if (r.lastErrorAt !== undefined && (have.lastErrorAt === undefined || r.lastErrorAt > have.lastErrorAt)) {
      have.lastError = r.lastError;
      have.lastErrorAt = r.lastErrorAt;
    }
  }
  return [...out.values()].sort((a, b) =>
    a.kind === b.kind ? (a.target < b.target ? -1 : 1) : a.kind < b.kind ? -1 : 1,
  );
}

/** One target's queue as the admin call answers it. */
export interface QueueInfo {
  kind: 'notify' | 'replication';
  target: string;
  bucket?: string;
  pending: number;
  /** Seconds since the oldest waiting was queued (0 when none waits). */
  oldestAgeSeconds: number;
  delivered: number;
  failedAttempts: number;
  failed: number;
  lastError?: string;
  /** ISO 8601. */
  lastErrorTime?: string;
}

export async function queuesAdmin(c: ServerAdminCall): Promise<S3Response> {
  if (c.method !== 'GET') throw new S3Error('MethodNotAllowed');
  c.authorize('admin:ServerInfo');
  const kind = c.q.get('kind') ?? '';
  if (kind !== '' && kind !== 'notify' && kind !== 'replication')
    throw new S3Error('XMinioAdminInvalidArgument', 'kind must be notify or replication');
  for (const name of c.q.keys())
    if (name !== 'kind') throw new S3Error('XMinioAdminInvalidArgument', `unknown parameter ${name.slice(0, 64)}`);
  const source = c.admin.queues;
  if (!source) throw new S3Error('NotImplemented', 'This server keeps no queue listing');
  const now = Date.now();
  const rows = (await source()).filter((r) => kind === '' || r.kind === kind);
  const answer: QueueInfo[] = rows.map((r) => ({
    kind: r.kind,
    target: r.target,
    ...(r.bucket !== undefined ? { bucket: r.bucket } : {}),
    pending: r.pending,
    oldestAgeSeconds: r.oldestAt === undefined ? 0 : Math.max(0, (now - r.oldestAt) / 1000),
    delivered: r.delivered,
    failedAttempts: r.failedAttempts,
    failed: r.failed,
    ...(r.lastError !== undefined
      ? { lastError: r.lastError, lastErrorTime: new Date(r.lastErrorAt ?? now).toISOString() }
      : {}),
  }));
  return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ queues: answer }) };
}
