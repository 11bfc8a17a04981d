// In-process keyed mutex: one holder per name at a time, first come first served. It is the lock service
// of a server that is one process (storage/coordination.ts), and inside each worker of a multi-process
// server it queues the worker's own requests for a name before one of them asks the primary.
import type { HeldLock, Locks, Release } from '../coordination.js';

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
