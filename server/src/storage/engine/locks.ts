// In-process keyed mutex: one holder per name at a time, first come first served. It is the lock service
// of a server that is one process (storage/coordination.ts), and inside each worker of a multi-process
// server it queues the worker's own requests for a name before one of them asks the primary.
import type { Locks, Release } from '../coordination.js';

export class KeyedMutex implements Locks {
  private tails = new Map<string, Promise<void>>();

  async acquire(key: string): Promise<Release> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    await prev;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
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
