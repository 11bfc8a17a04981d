// `cairn admin decommission start|status|cancel [POOL]`: draining a server pool through MinIO's admin calls
// (pools/decommission, pools/status, pools/list, pools/cancel; api/admin/pools.ts), as `mc admin decommission`.
// Status shows a progress bar of the versions moved against those the pool held when the drain began (counted
// by the server then); `--watch` follows one pool's drain to its end, the bar redrawn on a terminal.
import type { PoolStatus } from '../storage/decommission.js';
import { adminCall, type AdminTarget } from './admin-client.js';
import { progressBar } from './admin-heal.js';

export const DECOMMISSION_USAGE = `  decommission start POOL        drain a server pool (POOL as on the server's command line): its objects
                                move to the other pools; then it can leave the command line
  decommission status [POOL] [--watch]   progress (every pool without POOL; --watch follows POOL's drain
                                to its end) | decommission cancel POOL
`;

type Result = { rows?: Record<string, string>[]; columns?: string[]; value?: unknown; done?: string };

const COLUMNS = ['id', 'pool', 'status', 'progress', 'moved', 'failed', 'bytes'];
/** How often `--watch` asks. */
const WATCH_MS = 500;

export async function decommissionCommand(
  t: AdminTarget,
  verb: string | undefined,
  args: string[],
  asJson = false,
): Promise<Result> {
  const watch = args.includes('--watch');
  const rest = args.filter((a) => a !== '--watch');
  const pool = rest[0];
  for (const a of rest) if (a.startsWith('--')) throw new Error(`unknown option: ${a}`);
  switch (verb) {
    case 'start':
    case 'cancel': {
      if (!pool || watch) throw new Error(`expected: decommission ${verb} POOL`);
      const path = verb === 'start' ? 'pools/decommission' : 'pools/cancel';
      await adminCall(t, { method: 'POST', path, query: { pool } });
      return { done: verb === 'start' ? `decommission of ${pool} started` : `decommission of ${pool} canceled` };
    }
    case 'status': {
      if (watch && !pool) throw new Error('decommission status --watch needs POOL');
      const one = () => adminCall(t, { method: 'GET', path: 'pools/status', query: { pool } }) as Promise<PoolStatus>;
      if (watch) {
        const p = await follow(one, process.stderr.isTTY === true && !asJson);
        return { rows: [row(p)], columns: COLUMNS, value: p };
      }
      const list = pool ? [await one()] : ((await adminCall(t, { method: 'GET', path: 'pools/list' })) as PoolStatus[]);
      return { rows: list.map(row), columns: COLUMNS, value: pool ? list[0] : list };
    }
    default:
      throw new Error('expected: decommission start|status|cancel POOL');
  }
}

/** Asks for the pool's status until its drain is no longer running; the bar redrawn on stderr when `tty`. */
async function follow(one: () => Promise<PoolStatus>, tty: boolean): Promise<PoolStatus> {
  for (;;) {
    const p = await one();
    const r = row(p);
    if (tty) process.stderr.write(`\r${r.progress} ${r.status}`);
    if (r.status !== 'draining' && r.status !== 'counting') {
      if (tty) process.stderr.write('\n');
      return p;
    }
    await new Promise((res) => setTimeout(res, WATCH_MS));
  }
}

function row(p: PoolStatus): Record<string, string> {
  const base = { id: String(p.id + 1), pool: p.cmdline };
  const d = p.decommissionInfo;
  if (!d) return { ...base, status: 'active', progress: '', moved: '', failed: '', bytes: '' };
  const ended = d.complete ? 'complete' : d.failed ? 'failed' : d.canceled ? 'canceled' : undefined;
  const status = ended ?? (d.objectsTotal === undefined ? 'counting' : 'draining');
  const done = d.objectsDecommissioned + d.objectsDecommissionedFailed;
  return {
    ...base,
    status,
    // A complete drain is whole even when writes that chose the pool as it began made it more than counted.
    progress: d.objectsTotal === undefined ? '' : progressBar(done, d.complete ? done : Math.max(d.objectsTotal, done)),
    moved: String(d.objectsDecommissioned),
    failed: String(d.objectsDecommissionedFailed),
    bytes: d.bytesTotal === undefined ? String(d.bytesDecommissioned) : `${d.bytesDecommissioned}/${d.bytesTotal}`,
  };
}
