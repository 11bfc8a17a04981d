// The messages between the primary of `cairn server --workers N` and its workers, over the IPC channel
// node:cluster gives each worker (JSON), or a thread's message port (as JSON text too: spawn.ts). A worker says hello, gets its configuration, serves, and uses the
// primary as its lock service and change bus (coordination.ts in storage): lock / unlock, publish (the
// primary hands the change to every other worker and answers once all have applied it). Messages go in
// batches: what one side has to say during a turn of its event loop travels as one array.
import type { Change, DriveLayout, HeldLock } from '../storage/index.js';
import type { MetricsJson } from '../http/metrics.js';

/** What the primary tells a worker when it says hello. */
export interface WorkerConfig {
  /** 1..N, kept by a restarted worker: in its log lines, the x-cairn-worker header and its temp area. */
  slot: number;
  /** How many workers serve: each takes its share of the memory budgets. */
  workers: number;
  /** Runs healing, the scanner and drive rebuilds (slot 1; a node's workers compete for the lease instead). */
  leader: boolean;
  /** The drives the primary formatted; absent for a node of a distributed deployment (its workers join it). */
  layout?: DriveLayout;
  /** Server pools: each pool's layout, in command-line order (`layout` is the first's). */
  pools?: DriveLayout[];
  /** Drives the primary formatted just now: rebuilt by the leader when it first starts. */
  fresh: string[];
  /** Port every worker binds with SO_REUSEPORT; absent: node:cluster shares the primary's socket. */
  reusePort?: number;
  /** The same for the console's address (--console-address). */
  consoleReusePort?: number;
}

export type ToPrimary =
  | { t: 'hello' }
  | { t: 'ready'; url: string; consoleUrl?: string }
  | { t: 'pong' }
  | { t: 'lock'; id: number; name: string }
  | { t: 'unlock'; name: string }
  | { t: 'publish'; id: number; change: Change }
  | { t: 'applied'; id: number }
  /** A scrape: every worker's metrics, please (metrics-relay.ts). */
  | { t: 'metrics-gather'; id: number }
  | { t: 'metrics'; id: number; series: MetricsJson }
  /** The primary's lock table, please (the admin API's top locks). */
  | { t: 'locks-ask'; id: number }
  /** The locks this worker holds in the shared table (an answer to locks-list). */
  | { t: 'locks-mine'; id: number; locks: HeldLock[] }
  /** A call to the node's dsync lock table (cluster/dsync.ts), which the primary of a node's workers keeps. */
  | { t: 'table'; id: number; route: string; body: unknown }
  /** The admin API asked to restart the workers or stop the server (sent once its answer went out). */
  | { t: 'service'; action: 'restart' | 'stop' }
  /** This worker has someone tracing requests (or no longer): send it every worker's trace entries. */
  | { t: 'trace-want'; on: boolean }
  /** A request this worker answered, as a trace entry (sent only while some worker wants them). */
  | { t: 'trace'; entry: unknown };

export type ToWorker =
  | { t: 'config'; config: WorkerConfig }
  | { t: 'locked'; id: number }
  | { t: 'published'; id: number }
  | { t: 'change'; id: number; change: Change }
  | { t: 'metrics-ask'; id: number }
  | { t: 'metrics-all'; id: number; series: MetricsJson[] }
  | { t: 'locks-held'; id: number; locks: HeldLock[] }
  /** Threads with a shared lock table: the locks you hold, please (for another worker's locks-ask). */
  | { t: 'locks-list'; id: number }
  | { t: 'table-answer'; id: number; value: unknown }
  /** Some other worker wants trace entries (or none does any more). */
  | { t: 'trace-active'; on: boolean }
  /** Another worker's trace entry. */
  | { t: 'trace'; entry: unknown }
  | { t: 'ping' }
  /** Reload the TLS certificates (a thread's SIGHUP: only the process's main thread gets signals). */
  | { t: 'reload' }
  /** Tests (CAIRN_TEST_WORKER_FAULTS=on): block the event loop for good (primary.ts). */
  | { t: 'hang' }
  | { t: 'stop' };

/**
 * A sender that gathers messages until the event loop's next check phase and sends them as one array:
 * under load one IPC write and one JSON parse carry the lock, unlock and change messages of many requests.
 */
export function batching<T>(send: (batch: T[]) => void): (message: T) => void {
  let batch: T[] | null = null;
  return (message) => {
    if (batch) return void batch.push(message);
    batch = [message];
    setImmediate(() => {
      const out = batch!;
      batch = null;
      send(out);
    });
  };
}
