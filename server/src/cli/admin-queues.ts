// `cairn admin queues [notify|replication]` and `cairn admin replicate status [SRC_BUCKET]`: every notification
// and replication target's queue (api/admin/queues.ts): what waits, the lag (the oldest's age), what went
// through, the failed attempts and the last error. MinIO's mc has no call to retry or empty a target's queue now,
// so neither does this: a target's queue is retried with backoff until it answers.
import type { QueueInfo } from '../api/admin/queues.js';
import { adminCall, type AdminTarget } from './admin-client.js';
import type { Result } from './admin-server.js';

export const QUEUES_USAGE = `  queues [notify|replication]   each notification and replication target's queue: events waiting, the age
                                of the oldest (the lag), delivered, failed attempts, the last error
`;

/** `1.5s`, `2m05s`, `3h10m`: an age as an operator reads it. */
export function age(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  const s = Math.floor(seconds);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export async function queuesCommand(t: AdminTarget, kind: string | undefined, bucket?: string): Promise<Result> {
  if (kind !== undefined && kind !== 'notify' && kind !== 'replication')
    throw new Error('expected: queues [notify|replication]');
  const out = (await adminCall(t, { method: 'GET', path: 'queues', query: kind ? { kind } : {} })) as {
    queues: QueueInfo[];
  };
  const queues = out.queues.filter((q) => bucket === undefined || q.bucket === bucket);
  const rows = queues.map((q) => ({
    kind: q.kind,
    target: q.target,
    bucket: q.bucket ?? '',
    pending: String(q.pending),
    lag: age(q.oldestAgeSeconds),
    delivered: String(q.delivered),
    retries: String(q.failedAttempts),
    failed: String(q.failed),
    lastError: q.lastError ? `${q.lastErrorTime} ${q.lastError}` : '',
  }));
  const columns = ['kind', 'target', 'bucket', 'pending', 'lag', 'delivered', 'retries', 'failed', 'lastError'];
  return {
    rows,
    columns: kind === 'notify' ? columns.filter((c) => c !== 'bucket') : columns,
    value: { queues },
  };
}
