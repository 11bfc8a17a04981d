// A version's replication status at each target and the status clients see (api/replication/status.ts), as
// functions: the storage and replication tests prove the same through servers (test/s3/replication-three).
import { describe, expect, it } from 'vitest';
import { attempted, newChangeId, overallStatus, queuedTo } from '../../src/api/replication/status.js';

const B = 'arn:minio:replication::b:bucket';
const C = 'arn:minio:replication::c:bucket';

describe('replication status per target', () => {
  it('overall: FAILED when one failed, COMPLETED when all have it, else PENDING; none: no status', () => {
    expect(overallStatus({})).toBeUndefined();
    expect(overallStatus({ [B]: { status: 'COMPLETED' }, [C]: { status: 'PENDING' } })).toBe('PENDING');
    expect(overallStatus({ [B]: { status: 'COMPLETED' }, [C]: { status: 'FAILED' } })).toBe('FAILED');
    expect(overallStatus({ [B]: { status: 'PENDING' }, [C]: { status: 'FAILED' } })).toBe('FAILED');
    expect(overallStatus({ [B]: { status: 'COMPLETED' }, [C]: { status: 'COMPLETED' } })).toBe('COMPLETED');
  });

  it('queued to two targets: COMPLETED only once both have it, in either order, FAILED meanwhile if one fails', () => {
    const q = queuedTo([B, C], 'c1')!;
    expect(q).toEqual({
      status: 'PENDING',
      targets: { [B]: { status: 'PENDING', change: 'c1' }, [C]: { status: 'PENDING', change: 'c1' } },
    });
    const bDone = attempted(q, B, 'c1', 'COMPLETED')!;
    expect(bDone.status).toBe('PENDING');
    const cFailed = attempted(bDone, C, 'c1', 'FAILED')!;
    expect(cFailed).toEqual({
      status: 'FAILED',
      targets: { [B]: { status: 'COMPLETED' }, [C]: { status: 'FAILED', change: 'c1' } },
    });
    // Failing again writes nothing.
    expect(attempted(cFailed, C, 'c1', 'FAILED')).toBeUndefined();
    expect(attempted(cFailed, C, 'c1', 'COMPLETED')!.status).toBe('COMPLETED');
    expect(attempted(attempted(q, C, 'c1', 'COMPLETED')!, B, 'c1', 'COMPLETED')!.status).toBe('COMPLETED');
  });

  it('a later change of the version for that target keeps it waiting; the earlier copy changes nothing', () => {
    const first = attempted(queuedTo([B], 'c1')!, B, 'c1', 'FAILED')!;
    const second = queuedTo([B], 'c2', first)!;
    expect(second.targets![B]).toEqual({ status: 'PENDING', change: 'c2' });
    expect(attempted(second, B, 'c1', 'COMPLETED')).toBeUndefined();
    // A failure keeps the later change's id, so its copy still completes it.
    const failed = attempted(second, B, 'c1', 'FAILED')!;
    expect(failed.targets![B]).toEqual({ status: 'FAILED', change: 'c2' });
    expect(attempted(failed, B, 'c2', 'COMPLETED')).toEqual({
      status: 'COMPLETED',
      targets: { [B]: { status: 'COMPLETED' } },
    });
    // A change queued with no id (before ids were kept) does not complete a target waiting for a known change.
    expect(attempted(second, B, undefined, 'COMPLETED')).toBeUndefined();
  });

  it('replicas, targets never queued and versions done are left alone; a format-5 version gets its target', () => {
    expect(queuedTo([B], 'c1', { status: 'REPLICA' })).toBeUndefined();
    expect(queuedTo([], 'c1')).toBeUndefined();
    expect(attempted({ status: 'REPLICA' }, B, 'c1', 'COMPLETED')).toBeUndefined();
    expect(attempted({}, B, 'c1', 'COMPLETED')).toBeUndefined();
    const onlyB = queuedTo([B], 'c1')!;
    expect(attempted(onlyB, C, 'c1', 'COMPLETED')).toBeUndefined();
    const done = attempted(onlyB, B, 'c1', 'COMPLETED')!;
    expect(attempted(done, B, 'c1', 'COMPLETED')).toBeUndefined();
    expect(attempted(done, B, 'c1', 'FAILED')).toBeUndefined();
    // Queued by format 5 (its status only): the target done makes it COMPLETED, as then.
    expect(attempted({ status: 'PENDING' }, B, undefined, 'COMPLETED')).toEqual({
      status: 'COMPLETED',
      targets: { [B]: { status: 'COMPLETED' } },
    });
    expect(attempted({ status: 'COMPLETED' }, B, undefined, 'FAILED')).toBeUndefined();
    // Queued again: the new change's targets join the ones there.
    expect(queuedTo([C], 'c2', done)).toEqual({
      status: 'PENDING',
      targets: { [B]: { status: 'COMPLETED' }, [C]: { status: 'PENDING', change: 'c2' } },
    });
  });

  it('change ids differ and are short', () => {
    const ids = new Set(Array.from({ length: 1000 }, newChangeId));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{8}$/);
  });
});
