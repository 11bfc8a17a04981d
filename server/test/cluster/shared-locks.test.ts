// The lock table worker threads share (cluster/shared-locks.ts): two workers never hold one name at once (real
// threads, a read-yield-write counter per name that loses updates otherwise), a name held is handed to the
// worker that waits for it, a worker that dies holding names gives them up once the primary forgets it, a full
// bucket makes the next name wait rather than fail, and each worker lists what it holds.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import {
  BUCKET_ENTRIES,
  bucketOf,
  forgetWorker,
  markAlive,
  SharedLocks,
  sharedLockMemory,
} from '../../src/cluster/shared-locks.js';
import { LEASE } from '../../src/storage/decommission.js';

const none = () => Promise.resolve([]);
/** Whether `p` settled within a few turns of the event loop. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return done;
}

function thread(data: object): Worker {
  return new Worker(new URL('./shared-locks-thread.ts', import.meta.url), {
    workerData: data,
    execArgv: ['--conditions=source', '--import', 'tsx'],
  });
}

const message = (w: Worker) =>
  new Promise<unknown>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });

describe('SharedLocks', () => {
  it('three worker threads never hold one name at once (no update of a counter lost)', async () => {
    const memory = sharedLockMemory();
    const names = ['0\0b/k1', '0\0b/k2', '1\0b/k1'];
    const counters = new SharedArrayBuffer(names.length * 2 * 4);
    const rounds = 150;
    const workers = [1, 2, 3].map((slot) => {
      markAlive(memory, slot);
      return thread({ memory, slot, mode: 'count', names, rounds, counters });
    });
    try {
      const results = (await Promise.all(workers.map(message))) as { overlaps: number }[];
      expect(results.map((r) => r.overlaps)).toEqual([0, 0, 0]);
      const c = new Int32Array(counters);
      expect(c[0] + c[1] + c[2]).toBe(3 * rounds);
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  }, 60_000);

  it("a dead worker's names pass to the one waiting once the primary forgets it", async () => {
    const memory = sharedLockMemory();
    markAlive(memory, 1);
    markAlive(memory, 2);
    const holder = thread({ memory, slot: 1, mode: 'hold', names: ['0\0b/key'], rounds: 0 });
    try {
      expect(await message(holder)).toBe('held');
      const two = new SharedLocks(memory, 2, none);
      const waiting = two.acquire('0\0b/key');
      expect(await settled(waiting)).toBe(false);
      await holder.terminate();
      forgetWorker(memory, 1);
      const release = await waiting;
      expect((await two.heldHere()).map((l) => l.name)).toEqual(['0\0b/key']);
      release();
    } finally {
      await holder.terminate();
    }
  }, 60_000);

  it('a worker waiting for good (the pools-leader lease) keeps no thread alive, and does not list the lease', async () => {
    const memory = sharedLockMemory();
    markAlive(memory, 1);
    markAlive(memory, 2);
    const one = new SharedLocks(memory, 1, none);
    const lease = await one.acquire(LEASE);
    const other = await one.acquire('0\0b/key');
    expect((await one.heldHere()).map((l) => l.name)).toEqual(['0\0b/key']);
    const waiter = thread({ memory, slot: 2, mode: 'wait', names: [LEASE], rounds: 0 });
    const exited = new Promise<number>((r) => waiter.once('exit', r));
    const messages: unknown[] = [];
    waiter.on('message', (m) => messages.push(m));
    expect(await exited).toBe(0);
    // A ref'd timer per wait listed 'Timeout' here (and held a stopping worker up to a second per wait).
    expect(messages).toHaveLength(2);
    expect(messages[1]).not.toContain('Timeout');
    forgetWorker(memory, 2);
    lease();
    other();
    expect(await settled(one.acquire(LEASE))).toBe(true);
  }, 60_000);

  it('a name given back goes to the worker waiting, not to the giver asking again', async () => {
    const memory = sharedLockMemory();
    for (const s of [1, 2, 3]) markAlive(memory, s);
    const [one, two, three] = [1, 2, 3].map((s) => new SharedLocks(memory, s, none));
    const order: number[] = [];
    const r1 = await one.acquire('n');
    const w3 = three.acquire('n').then((r) => (order.push(3), r));
    const w2 = two.acquire('n').then((r) => (order.push(2), r));
    expect(await settled(Promise.race([w2, w3]))).toBe(false);
    r1();
    const again = one.acquire('n').then((r) => (order.push(1), r));
    // handed on in slot order after the giver: 2, then 3, then 1 again
    (await w2)();
    (await w3)();
    (await again)();
    expect(order).toEqual([2, 3, 1]);
    // every name was given back: a fourth worker takes it at once
    markAlive(memory, 4);
    expect(await settled(new SharedLocks(memory, 4, none).acquire('n'))).toBe(true);
  });

  it('a full bucket makes the next name wait for an entry, then takes it; other names are not held up', async () => {
    const memory = sharedLockMemory();
    markAlive(memory, 1);
    markAlive(memory, 2);
    const one = new SharedLocks(memory, 1, none);
    const two = new SharedLocks(memory, 2, none);
    const b = bucketOf('k0');
    const same: string[] = [];
    for (let i = 0; same.length < BUCKET_ENTRIES + 1; i++) if (bucketOf(`k${i}`) === b) same.push(`k${i}`);
    const held = [];
    for (const n of same.slice(0, BUCKET_ENTRIES)) held.push(await one.acquire(n));
    const last = two.acquire(same[BUCKET_ENTRIES]);
    expect(await settled(last)).toBe(false);
    let other = 'x';
    while (bucketOf(other) === b) other += 'x';
    (await two.acquire(other))();
    held[3]();
    (await last)();
    for (const r of held) r();
    // released twice: nothing happens the second time
    held[0]();
    expect(await settled(two.acquire(same[0]))).toBe(true);
  });

  it('one worker asking for a name it holds under another request waits its turn (in request order)', async () => {
    const memory = sharedLockMemory();
    markAlive(memory, 1);
    const one = new SharedLocks(memory, 1, none);
    const first = await one.acquire('n');
    const order: string[] = [];
    const a = one.acquire('n').then((r) => (order.push('a'), r));
    const b = one.acquire('n').then((r) => (order.push('b'), r));
    expect(await settled(a)).toBe(false);
    expect((await one.heldHere()).map((l) => [l.name, l.waiting])).toEqual([['n', 2]]);
    first();
    (await a)();
    (await b)();
    expect(order).toEqual(['a', 'b']);
    expect(await one.heldHere()).toEqual([]);
  });
});
