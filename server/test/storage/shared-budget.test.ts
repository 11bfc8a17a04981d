// The memory budgets are the server's: a process sharing the drives with others (a worker of
// `cairn server --workers N`) keeps its share of the buffer pool and the read cache, so N workers hold
// what one process alone would.
import { afterEach, expect, it } from 'vitest';
import { aloneBus, KeyedMutex } from '../../src/storage/coordination.js';
import { driveLayout, type ErasureObjects, formatDrives, openStorage } from '../../src/storage/index.js';
import { drives } from './helpers.js';

const MiB = 1024 * 1024;
let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function opened(budgets: { poolBytes?: number; readCacheBytes?: number }, workers?: number) {
  const d = await drives(4);
  cleanup.push(d.cleanup);
  let s: ErasureObjects;
  if (workers === undefined) s = await openStorage({ drives: d.paths, background: false, ...budgets });
  else {
    const layout = driveLayout(await formatDrives(d.paths, {}));
    const shared = { locks: new KeyedMutex(), bus: aloneBus, leader: true, layout, fresh: [], tmpName: 'w1', workers };
    s = await openStorage({ drives: d.paths, background: false, ...budgets, shared });
  }
  cleanup.push(() => s.close());
  return { pool: s.ctx.pool, cache: s.ctx.readAhead, metaCache: s.allDrives().map((d) => d.cachedMaxBytes) };
}

it('a process alone keeps the whole budgets (32 MiB of free buffers, up to 8 times that while busy and for 30 s after)', async () => {
  const { pool, cache, metaCache } = await opened({});
  expect([pool.keepBytes, pool.busyBytes, cache?.maxBytes]).toEqual([32 * MiB, 256 * MiB, 32 * MiB]);
  // A burst's buffers outlast a pause of seconds between analytics queries (bench/readers/requests.ts --idle).
  expect(pool.idleMs).toBe(30_000);
  expect(metaCache).toEqual([16 * MiB, 16 * MiB, 16 * MiB, 16 * MiB]); // recently read metadata, per drive
});

it('one of 4 workers keeps a quarter of the defaults, and of budgets given', async () => {
  const defaults = await opened({}, 4);
  expect([defaults.pool.keepBytes, defaults.pool.busyBytes, defaults.cache?.maxBytes]).toEqual([
    8 * MiB,
    64 * MiB,
    8 * MiB,
  ]);
  expect(defaults.metaCache).toEqual([4 * MiB, 4 * MiB, 4 * MiB, 4 * MiB]);
  const given = await opened({ poolBytes: 64 * MiB, readCacheBytes: 0 }, 4);
  expect([given.pool.keepBytes, given.pool.busyBytes, given.cache]).toEqual([16 * MiB, 128 * MiB, null]);
});
