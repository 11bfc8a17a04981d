// How storage shares its drives with other processes (`cairn server --workers N`), and later with other
// nodes: two small interfaces, the lock service and the change bus. A server that is one process uses the
// local forms below (an in-process mutex; nobody else to tell). Workers use the forms of server/src/cluster/
// (worker threads lock in shared memory, shared-locks.ts; worker processes through the primary's lock table;
// the primary relays changes); the nodes of a distributed
// deployment the network forms (cluster/dsync.ts, cluster/peer-bus.ts). docs/ARCHITECTURE.md lists who locks what and which changes travel.
import type { Latest } from './list/journal.js';
import type { BucketConfig } from './object-layer.js';

export type Release = () => void;

/**
 * Exclusive named locks across every process sharing the drives. Names used: `<set>\0<bucket>/<object dir>`
 * (one writer per object, held until its listing-journal lines are written), `bucket\0<name>` (bucket
 * creation and configuration), `journal\0<drive id>\0<dir>` (rewriting a listing journal), `uploads\0<set>\0<bucket>`
 * (rebuilding or compacting a multipart upload index, engine/upload-index.ts), `iam` (a change
 * of IAM's records, api/iam/notify.ts), `config` (a change of the stored server configuration, api/admin/config),
 * `quota\0<bucket>` (a write's check of the bucket's quota, api/quota.ts),
 * `pools\0<bucket>/<key>` (server pools: a key moved out of a draining pool, deleted or changed in place, pools.ts),
 * `pools-leader` (server pools: held for good by the worker that runs the drains, decommission.ts).
 */
export interface Locks {
  /** Resolves, in request order, once `name` is ours; the release is idempotent. */
  acquire(name: string): Promise<Release>;
  /** The locks held now, across every process sharing the drives (the admin API's top locks). */
  held(): Promise<HeldLock[]>;
}

/** A lock held now: its name, since when (ms since the epoch), and how many wait for it. */
export interface HeldLock {
  name: string;
  since: number;
  waiting: number;
}

/** A bucket's stored document: creation time and configuration (frozen: replaced, never changed). */
export interface BucketDoc {
  created: number;
  config: Readonly<BucketConfig>;
}

/** What one process tells the others after it changed something they may hold in memory. */
export type Change = ChangeBody & {
  /** Server pools served by several workers: the pool whose change it is (storage/index.ts poolCoordination). */
  pool?: number;
};

type ChangeBody =
  /** The latest version of `key` changed (null: it has no versions left): cached listings follow. */
  | { type: 'entry'; set: number; bucket: string; dir: string; key: string; latest: Latest | null }
  /** Something in directory `dir` of a set changed (healing): its cached listings and its parents' go. */
  | { type: 'dir'; set: number; dir: string }
  /** Every cached listing goes (a bucket deleted, a drive rebuilt). */
  | { type: 'listings' }
  /**
   * This process may have missed changes (a node the network bus left out for a while): every cache that
   * follows changes (listings, bucket table, the layers above's, such as IAM) is read again from the drives.
   */
  | { type: 'missed' }
  /** A bucket was created or reconfigured (its new document) or deleted (null). */
  | { type: 'bucket'; name: string; doc: BucketDoc | null }
  /** An object needs healing: only the leader (the process running background healing) acts on it. */
  | { type: 'heal'; set: number; bucket: string; key: string; deep: boolean }
  /** These data dirs are about to be removed: answered once no GET of this process still reads them. */
  | { type: 'reap'; ids: string[] }
  /**
   * A layer above storage changed state it keeps in memory (`topic` says whose: 'iam', 'login-failure');
   * storage only carries it. `data` is JSON.
   */
  | { type: 'notice'; topic: string; data: unknown };

export interface ChangeBus {
  /**
   * Hand `change` to every other process; resolves once each has applied it (so a write acknowledged after
   * this is seen by every process's next request). The publisher applies it to itself.
   */
  publish(change: Change): Promise<void>;
  /** Receive the others' changes (every subscriber gets each); the publisher waits for the promises returned. */
  subscribe(apply: (change: Change) => void | Promise<void>): void;
}

/** One process with the drives to itself: nobody else to tell. */
export const aloneBus: ChangeBus = {
  publish: () => Promise.resolve(),
  subscribe: () => {},
};

/** The lock service of a server that is one process: an in-process keyed mutex, one holder per name at a time,
 * first come first served (inside each worker it also queues the worker's own requests for a name before one of
 * them asks the shared table or the primary). */
export class KeyedMutex implements Locks {
  private tails = new Map<string, Promise<void>>();
  /** Per name: when its holder got it, and how many asked after (two numbers per lock: top locks). */
  private state = new Map<string, { since: number; asked: number }>();

  async acquire(key: string): Promise<Release> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    let s = this.state.get(key);
    if (!s) this.state.set(key, (s = { since: 0, asked: 0 }));
    s.asked++;
    await prev;
    s.since = Date.now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release();
      if (--s.asked === 0 && this.state.get(key) === s) this.state.delete(key);
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
  }

  async held(): Promise<HeldLock[]> {
    const out: HeldLock[] = [];
    for (const [name, s] of this.state) if (s.since > 0) out.push({ name, since: s.since, waiting: s.asked - 1 });
    return out;
  }

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return withLock(this, key, fn);
  }
}

/** Run `fn` holding the lock `name`. */
export async function withLock<T>(locks: Locks, name: string, fn: () => Promise<T>): Promise<T> {
  const release = await locks.acquire(name);
  try {
    return await fn();
  } finally {
    release();
  }
}
