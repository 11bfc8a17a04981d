// `cairn admin decommission start|status|cancel [POOL]`: draining a server pool through MinIO's admin calls
// (pools/decommission, pools/status, pools/list, pools/cancel; api/admin/pools.ts), as `mc admin decommission`.
import { adminCall, type AdminTarget } from './admin-client.js';

export const DECOMMISSION_USAGE = `  decommission start POOL        drain a server pool (POOL as on the server's command line): its objects
                                move to the other pools; then it can leave the command line
  decommission status [POOL]     progress (every pool without POOL) | decommission cancel POOL
`;

type Result = { rows?: Record<string, string>[]; columns?: string[]; value?: unknown; done?: string };

interface PoolStatus {
  id: number;
  cmdline: string;
  decommissionInfo?: {
    startTime: string;
    startSize: number;
    totalSize: number;
    currentSize: number;
    complete: boolean;
    failed: boolean;
    canceled: boolean;
    objectsDecommissioned: number;
    objectsDecommissionedFailed: number;
    bytesDecommissioned: number;
  };
}

export async function decommissionCommand(t: AdminTarget, verb: string | undefined, args: string[]): Promise<Result> {
  const pool = args[0];
  switch (verb) {
    case 'start':
    case 'cancel': {
      if (!pool) throw new Error('missing POOL');
      const path = verb === 'start' ? 'pools/decommission' : 'pools/cancel';
      await adminCall(t, { method: 'POST', path, query: { pool } });
      return { done: verb === 'start' ? `decommission of ${pool} started` : `decommission of ${pool} canceled` };
    }
    case 'status': {
      const list = pool
        ? [(await adminCall(t, { method: 'GET', path: 'pools/status', query: { pool } })) as PoolStatus]
        : ((await adminCall(t, { method: 'GET', path: 'pools/list' })) as PoolStatus[]);
      const rows = list.map((p) => ({ id: String(p.id + 1), pool: p.cmdline, ...progress(p) }));
      return { rows, columns: ['id', 'pool', 'status', 'moved', 'failed', 'bytes'], value: pool ? list[0] : list };
    }
    default:
      throw new Error('expected: decommission start|status|cancel POOL');
  }
}

function progress(p: PoolStatus): Record<string, string> {
  const d = p.decommissionInfo;
  if (!d) return { status: 'active', moved: '', failed: '', bytes: '' };
  const status = d.complete ? 'complete' : d.failed ? 'failed' : d.canceled ? 'canceled' : 'draining';
  return {
    status,
    moved: String(d.objectsDecommissioned),
    failed: String(d.objectsDecommissionedFailed),
    bytes: String(d.bytesDecommissioned),
  };
}
