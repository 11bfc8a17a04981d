// A worker thread of shared-locks.test.ts: a SharedLocks over the test's memory, driven by workerData.
import { parentPort, workerData } from 'node:worker_threads';
import { SharedLocks } from '../../src/cluster/shared-locks.js';

const d = workerData as {
  memory: SharedArrayBuffer;
  slot: number;
  /**
   * `count`: rounds of read, yield, write under a lock; `hold`: take `names[0]` and keep it; `wait`: ask for
   * `names[0]` with nothing else to keep the thread alive (it ends while waiting).
   */
  mode: 'count' | 'hold' | 'wait';
  names: string[];
  rounds: number;
  /** Per name: a counter, and how many are inside its lock now. */
  counters: SharedArrayBuffer;
};
const locks = new SharedLocks(d.memory, d.slot, () => Promise.resolve([]));
if (d.mode === 'hold') {
  await locks.acquire(d.names[0]);
  parentPort!.postMessage('held');
  setInterval(() => {}, 1000); // until terminated
} else if (d.mode === 'wait') {
  parentPort!.postMessage('asking');
  void locks.acquire(d.names[0]).then(() => parentPort!.postMessage('got'));
  // What keeps this thread alive while it waits (nothing should).
  setImmediate(() => parentPort!.postMessage(process.getActiveResourcesInfo()));
} else {
  // A wait keeps no thread alive (waitOn): this one lives until its rounds are done.
  const alive = setInterval(() => {}, 1000);
  const n = d.names.length;
  const c = new Int32Array(d.counters);
  let overlaps = 0;
  for (let i = 0; i < d.rounds; i++) {
    const k = (i * 7 + d.slot) % n;
    const release = await locks.acquire(d.names[k]);
    if (Atomics.add(c, n + k, 1) !== 0) overlaps++;
    const v = Atomics.load(c, k);
    await new Promise((r) => setImmediate(r)); // another holder would get in here
    Atomics.store(c, k, v + 1);
    Atomics.sub(c, n + k, 1);
    release();
  }
  parentPort!.postMessage({ overlaps });
  clearInterval(alive);
}
