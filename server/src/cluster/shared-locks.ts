// The lock service of worker threads (storage/coordination.ts Locks), in memory the threads share: a table of
// held names in a SharedArrayBuffer the primary makes and hands every thread (spawn.ts), taken and given back
// with Atomics. A lock costs no message: with the primary's table (primary-link.ts, which process workers and
// the workers of a distributed node keep) every PUT waited for a round trip through the primary's event loop.
//
// A name is known by a 64-bit hash of it (two 32-bit ones): one of 1024 buckets of 8 entries, each entry a held
// name's hash, its holder (worker slot), how many times that holder holds it, and which workers wait for it
// (a bitmask: slots 1..30). A bucket has a mutex (held for a few dozen instructions, never across an await),
// a sequence number bumped at every change its waiters should see, and the count of those waiting on it.
// Giving back hands the name to the next waiting worker after the giver, in slot order: one worker taking a name
// again and again cannot starve another. Inside a worker, requests for one name queue first in a KeyedMutex
// (in request order), so the table sees at most one per worker and name.
//
// Waiting never blocks an event loop: Atomics.waitAsync, with a timeout after which the worker looks again
// (a notification lost would cost a second, not a hang). A worker that dies holding names (terminate(): it may
// have stopped anywhere, even holding a bucket's mutex) is forgotten by the primary (`forgetWorker`), which
// passes its names on and drops its waits, as the primary's own table does for a worker process.
import { type HeldLock, type Locks, type Release, KeyedMutex } from '../storage/coordination.js';
import { LEASE } from '../storage/decommission.js';

const BUCKETS = 1024;
const ENTRIES = 8;
/** Words: the slots alive (bitmask), then the buckets. */
const HEADER = 4;
const ALIVE = 0;
/** A bucket: mutex, sequence, sleepers, then ENTRIES entries of ENTRY words. */
const MUTEX = 0;
const SEQ = 1;
const SLEEPERS = 2;
const BUCKET_HEAD = 3;
const H1 = 0;
const H2 = 1;
const OWNER = 2;
const COUNT = 3;
const WAITERS = 4;
const ENTRY = 5;
const BUCKET = BUCKET_HEAD + ENTRIES * ENTRY;
/** A mutex word: its holder's id, and this bit once someone waits for it. */
const CONTENDED = 1 << 30;
/** The primary's id in a mutex word (workers are slots 1..MAX_SLOT). */
const PRIMARY = 31;
/** The most workers the table serves (the waiters bitmask); more use the primary's table. */
export const MAX_SLOT = 30;
/** A worker waiting looks again this often even if not woken (ms). */
const RECHECK_MS = 1000;

/** The shared memory of a lock table, made once by the primary. */
export function sharedLockMemory(): SharedArrayBuffer {
  return new SharedArrayBuffer((HEADER + BUCKETS * BUCKET) * 4);
}

/** 32-bit hash of a name's UTF-16 code units (murmur-style mixing; `mul` chooses one of two). */
function hash(name: string, seed: number, mul: number): number {
  let h = seed;
  for (let i = 0; i < name.length; i++) {
    h = Math.imul(h ^ name.charCodeAt(i), mul);
    h ^= h >>> 15;
  }
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

const hash1 = (name: string) => hash(name, 0x9747b28c, 0x5bd1e995);

/** The bucket a name falls in (tests: names that share one). */
export const bucketOf = (name: string): number => hash1(name) & (BUCKETS - 1);

/** Entries of a bucket: names held at once in one bucket beyond these wait for one to be given back. */
export const BUCKET_ENTRIES = ENTRIES;

const bit = (slot: number) => 1 << slot;

/** Hands an entry of `i32` at `e` to the next live waiter after `from` (slot order, wrapping), or frees it. */
function passOn(i32: Int32Array, e: number, from: number): void {
  const waiters = i32[e + WAITERS] & Atomics.load(i32, ALIVE);
  if (waiters === 0) {
    i32[e + WAITERS] = 0;
    i32[e + COUNT] = 0;
    Atomics.store(i32, e + OWNER, 0);
    return;
  }
  let next = from;
  do next = next >= MAX_SLOT ? 1 : next + 1;
  while ((waiters & bit(next)) === 0);
  i32[e + WAITERS] = waiters & ~bit(next);
  i32[e + COUNT] = 1;
  Atomics.store(i32, e + OWNER, next);
}

/** Marks `slot` alive (the primary, before the worker starts). */
export function markAlive(memory: SharedArrayBuffer, slot: number): void {
  Atomics.or(new Int32Array(memory), ALIVE, bit(slot));
}

/**
 * The primary, once worker `slot` is gone for good (its thread stopped): its names pass to their next waiters
 * or are freed, its waits are dropped, a bucket mutex it held is taken over. Synchronous: a live worker holds
 * a bucket's mutex for microseconds (this waits for it, 1 ms at a time).
 */
export function forgetWorker(memory: SharedArrayBuffer, slot: number): void {
  const i32 = new Int32Array(memory);
  Atomics.and(i32, ALIVE, ~bit(slot));
  for (let b = HEADER; b < i32.length; b += BUCKET) {
    for (;;) {
      const cur = Atomics.compareExchange(i32, b + MUTEX, 0, PRIMARY);
      if (cur === 0) break;
      // Stopped while holding it: whatever it was changing is left consistent (see take and give).
      if ((cur & ~CONTENDED) === slot && Atomics.compareExchange(i32, b + MUTEX, cur, PRIMARY | CONTENDED) === cur)
        break;
      Atomics.wait(i32, b + MUTEX, cur, 1);
    }
    let changed = false;
    for (let e = b + BUCKET_HEAD; e < b + BUCKET; e += ENTRY) {
      if (i32[e + WAITERS] & bit(slot)) i32[e + WAITERS] &= ~bit(slot);
      if (Atomics.load(i32, e + OWNER) === slot) {
        passOn(i32, e, slot);
        changed = true;
      }
    }
    if (changed) Atomics.add(i32, b + SEQ, 1);
    if (Atomics.exchange(i32, b + MUTEX, 0) & CONTENDED) Atomics.notify(i32, b + MUTEX);
    if (changed) Atomics.notify(i32, b + SEQ);
  }
}

/** Atomics.waitAsync (ES2024: not in the ES2023 lib the build types against). */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(a: Int32Array, i: number, v: number, ms: number): { async: boolean; value: Promise<unknown> | string };
  }
).waitAsync;

/**
 * A promise that settles once `i32[index]` is no longer `value` (or RECHECK_MS passed); undefined if it is not
 * now. A pending waitAsync does not keep the event loop alive, and nothing here does: a worker waits for a
 * request's lock while its server runs, and one waiting for good (the `pools-leader` lease, decommission.ts)
 * must still end once its server closed on a graceful stop.
 */
function waitOn(i32: Int32Array, index: number, value: number): Promise<unknown> | undefined {
  const w = waitAsync(i32, index, value, RECHECK_MS);
  return w.async ? (w.value as Promise<unknown>) : undefined;
}

/** One worker's side of the table. */
export class SharedLocks implements Locks {
  private readonly i32: Int32Array;
  private readonly local = new KeyedMutex();
  /** Names this worker holds in the table, and since when (ms since the epoch). */
  private readonly mine = new Map<string, number>();

  /**
   * `others`: the whole server's held locks come from the primary, which asks every worker (`heldHere`).
   */
  constructor(
    memory: SharedArrayBuffer,
    private readonly slot: number,
    private readonly others: () => Promise<HeldLock[]>,
  ) {
    if (slot < 1 || slot > MAX_SLOT) throw new Error(`a shared lock table serves slots 1..${MAX_SLOT}, not ${slot}`);
    this.i32 = new Int32Array(memory);
  }

  async acquire(name: string): Promise<Release> {
    const local = await this.local.acquire(name);
    const h1 = hash1(name);
    const h2 = hash(name, 0x3c6ef372, 0x85ebca6b);
    const b = HEADER + (h1 & (BUCKETS - 1)) * BUCKET;
    try {
      await this.take(b, h1, h2);
    } catch (e) {
      local();
      throw e;
    }
    this.mine.set(name, Date.now());
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.mine.delete(name);
      const given = this.give(b, h1, h2);
      if (given === true) local();
      else void given.then(local);
    };
  }

  /** The whole server's held locks (the admin API's top locks). */
  held(): Promise<HeldLock[]> {
    return this.others();
  }

  /**
   * The names this worker holds, with how many of its own requests wait for each; not the drains' lease, held
   * for as long as its worker runs (no resource waits on it; Pools.heldLocks leaves it out of other lists too).
   */
  async heldHere(): Promise<HeldLock[]> {
    const waiting = new Map((await this.local.held()).map((l) => [l.name, l.waiting]));
    return [...this.mine]
      .filter(([name]) => name !== LEASE)
      .map(([name, since]) => ({ name, since, waiting: waiting.get(name) ?? 0 }));
  }

  private async take(b: number, h1: number, h2: number): Promise<void> {
    const i32 = this.i32;
    /** The entry whose waiters we joined (it is handed to us, never freed, while we live). */
    let asked = -1;
    let sleeping = false;
    for (;;) {
      const locked = this.lockBucket(b);
      if (locked !== true) await locked;
      if (sleeping) i32[b + SLEEPERS]--;
      sleeping = false;
      let free = -1;
      let found = -1;
      for (let e = b + BUCKET_HEAD; e < b + BUCKET; e += ENTRY) {
        if (i32[e + OWNER] === 0) {
          if (free < 0) free = e;
        } else if (i32[e + H1] === h1 && i32[e + H2] === h2) found = e;
      }
      if (found >= 0 && i32[found + OWNER] === this.slot) {
        // Handed to us (passOn counted it); or asked afresh, another name of ours with the same 64-bit hash.
        if (found !== asked) i32[found + COUNT]++;
        return this.unlockBucket(b, false);
      }
      if (found < 0 && free >= 0) {
        // The owner word last: a worker stopped before it leaves the entry free.
        i32[free + H1] = h1;
        i32[free + H2] = h2;
        i32[free + COUNT] = 1;
        i32[free + WAITERS] = 0;
        Atomics.store(i32, free + OWNER, this.slot);
        return this.unlockBucket(b, false);
      }
      // Held by another worker (we wait to be handed it), or every entry of the bucket is in use.
      if (found >= 0) {
        i32[found + WAITERS] |= bit(this.slot);
        asked = found;
      }
      const seq = i32[b + SEQ];
      i32[b + SLEEPERS]++;
      sleeping = true;
      this.unlockBucket(b, false);
      const sleep = waitOn(i32, b + SEQ, seq);
      if (sleep) await sleep;
    }
  }

  /** Gives a name back: true if done now, else once the bucket's mutex was had. */
  private give(b: number, h1: number, h2: number): true | Promise<void> {
    const locked = this.lockBucket(b);
    if (locked === true) {
      this.giveLocked(b, h1, h2);
      return true;
    }
    return locked.then(() => this.giveLocked(b, h1, h2));
  }

  private giveLocked(b: number, h1: number, h2: number): void {
    const i32 = this.i32;
    for (let e = b + BUCKET_HEAD; e < b + BUCKET; e += ENTRY) {
      if (i32[e + OWNER] !== this.slot || i32[e + H1] !== h1 || i32[e + H2] !== h2) continue;
      if (--i32[e + COUNT] > 0) return this.unlockBucket(b, false);
      passOn(i32, e, this.slot);
      return this.unlockBucket(b, true);
    }
    // Not ours (the primary forgot this worker: it cannot be, while it runs): nothing to give.
    this.unlockBucket(b, false);
  }

  /** Takes a bucket's mutex: true at once, or a promise when another holds it. */
  private lockBucket(b: number): true | Promise<void> {
    if (Atomics.compareExchange(this.i32, b + MUTEX, 0, this.slot) === 0) return true;
    return this.lockBucketSlowly(b);
  }

  private async lockBucketSlowly(b: number): Promise<void> {
    const i32 = this.i32;
    for (;;) {
      // Once it was contended, take it marked so: another may still wait (a futex mutex, as glibc's).
      const cur = Atomics.compareExchange(i32, b + MUTEX, 0, this.slot | CONTENDED);
      if (cur === 0) return;
      const marked = cur | CONTENDED;
      if (cur === marked || Atomics.compareExchange(i32, b + MUTEX, cur, marked) === cur) {
        const sleep = waitOn(i32, b + MUTEX, marked);
        if (sleep) await sleep;
      }
    }
  }

  /** Lets a bucket's mutex go; `changed`: a name was given back (its waiters look again). */
  private unlockBucket(b: number, changed: boolean): void {
    const i32 = this.i32;
    const sleepers = changed ? i32[b + SLEEPERS] : 0;
    if (changed) Atomics.add(i32, b + SEQ, 1);
    if (Atomics.exchange(i32, b + MUTEX, 0) & CONTENDED) Atomics.notify(i32, b + MUTEX, 1);
    if (sleepers > 0) Atomics.notify(i32, b + SEQ);
  }
}
