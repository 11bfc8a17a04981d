// A version's replication status at each of its targets, kept in its metadata beside the status clients see
// (MinIO's x-minio-internal-replication-status, `arn=STATUS;` per target), so that it survives a restart: the
// version is COMPLETED once every target has it, whatever order and run they got it in. The overall status is
// derived as MinIO's getCompositeReplicationStatus does: FAILED when a target failed, COMPLETED when all have
// it, else PENDING.
//
// Each queued change gets an id (ReplicationEntry.change), written as the target's `change`: when one version
// has several changes queued for one target (written, then tagged), only the last one's copy makes it COMPLETED.
import { randomBytes } from 'node:crypto';
import type { ReplicationState, TargetReplication } from '../../storage/object-layer.js';

/** A new change's id: unique enough among the changes of one version (48 random bits). */
export function newChangeId(): string {
  return randomBytes(6).toString('base64url');
}

/** The status clients see of a version with these targets' statuses (none: undefined). */
export function overallStatus(targets: Record<string, TargetReplication>): TargetReplication['status'] | undefined {
  let all = 0;
  let completed = 0;
  for (const t of Object.values(targets)) {
    all++;
    if (t.status === 'FAILED') return 'FAILED';
    if (t.status === 'COMPLETED') completed++;
  }
  if (all === 0) return undefined;
  return completed === all ? 'COMPLETED' : 'PENDING';
}

/** The targets' statuses of a version queued by `change` to `arns`, or undefined to leave it (a replica). */
export function queuedTo(arns: string[], change: string, current: ReplicationState = {}): ReplicationState | undefined {
  if (current.status === 'REPLICA' || arns.length === 0) return undefined;
  const targets = { ...current.targets };
  for (const arn of arns) targets[arn] = { status: 'PENDING', change };
  return { status: overallStatus(targets), targets };
}

/**
 * The state after an attempt to copy `change` to `arn`, or undefined to leave it: FAILED while the target does
 * not have it; COMPLETED once it does, unless a later change of the version waits for that target. A target
 * that is not PENDING or FAILED (COMPLETED already, or never queued), and a replica, are left alone. A version
 * queued before targets were kept (format 5: its status only) gets this target's entry.
 */
export function attempted(
  current: ReplicationState,
  arn: string,
  change: string | undefined,
  status: 'COMPLETED' | 'FAILED',
): ReplicationState | undefined {
  const have = current.targets?.[arn];
  const now = current.targets ? have?.status : current.status;
  if (now !== 'PENDING' && now !== 'FAILED') return undefined;
  let next: TargetReplication;
  if (status === 'COMPLETED') {
    if (have?.change !== undefined && have.change !== change) return undefined; // a later change waits
    next = { status };
  } else {
    if (have?.status === 'FAILED') return undefined;
    next = have?.change !== undefined ? { status, change: have.change } : { status };
  }
  const targets = { ...current.targets, [arn]: next };
  return { status: overallStatus(targets), targets };
}
