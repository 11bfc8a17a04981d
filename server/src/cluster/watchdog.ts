// The primary's watchdog over its workers: each serving worker is pinged every PING_MS, and one that has let
// HUNG_PINGS pings in a row go unanswered is killed (and started again): a worker whose event loop no longer
// turns holds every other worker's writes, which wait for it to apply their changes.
// Counted in pings actually sent, not in wall time since the last answer: a primary that was itself kept
// from running (its timer late) has sent fewer pings and blames nobody for its own delay. And the count
// grows with the machine's load: a worker needing 1 s of CPU at once (the first S3 Select loading its
// engine) gets it in 10 s of wall time when 20 threads share 2 cores. Up to LOAD_FACTOR_MAX times: a worker
// that is truly stuck (a blocked loop, a stopped process) is still killed, within 30 s at most.
// Any message from a worker is an answer: its event loop turned.

/** How often a serving worker is pinged. */
export const PING_MS = 3000;
/** Pings in a row a worker may leave unanswered on an idle machine: 15 s. */
export const HUNG_PINGS = 5;
/** The most the load may multiply HUNG_PINGS by. */
export const LOAD_FACTOR_MAX = 2;

/** What the primary knows of the machine's load: the 1-minute load average and the cores. */
export interface Load {
  load1: number;
  cores: number;
}

/** Pings a worker may leave unanswered under `load`: HUNG_PINGS times the runnable threads per core, 1 to 2 times. */
export function hungPings(load: Load): number {
  const factor = Math.min(LOAD_FACTOR_MAX, Math.max(1, load.load1 / Math.max(1, load.cores)));
  return Math.ceil(HUNG_PINGS * factor);
}

export class Watchdog<K> {
  /** Per watched worker: pings sent since its last answer. */
  private readonly missed = new Map<K, number>();

  /** Starts watching `worker` (it serves); a worker watched already starts its count again. */
  watch(worker: K): void {
    this.missed.set(worker, 0);
  }

  /** Stops watching `worker` (stopping, restarting, killed, gone). */
  forget(worker: K): void {
    this.missed.delete(worker);
  }

  /** `worker` was heard from; returns the pings it had left unanswered (0: answered in time). */
  answered(worker: K): number {
    const n = this.missed.get(worker);
    if (n === undefined) return 0;
    this.missed.set(worker, 0);
    return n;
  }

  /**
   * One round, every PING_MS: the workers past their limit under `load` (no longer watched: the caller kills
   * them) and the ones to ping now (each counted as missed until it answers).
   */
  tick(load: Load): { hung: Array<{ worker: K; missed: number }>; ping: K[] } {
    const limit = hungPings(load);
    const hung: Array<{ worker: K; missed: number }> = [];
    const ping: K[] = [];
    for (const [worker, n] of this.missed) {
      if (n >= limit) {
        hung.push({ worker, missed: n });
        this.missed.delete(worker);
      } else {
        this.missed.set(worker, n + 1);
        ping.push(worker);
      }
    }
    return { hung, ping };
  }
}
