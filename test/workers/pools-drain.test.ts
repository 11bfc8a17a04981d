// Several workers do not drain server pools yet (each would run the drain, and only one may write the pool list):
// a start of `cairn server --workers 2` while a drain is under way is refused, naming the pool, before it serves.
// (Pools served by several workers: test/workers/pools.test.ts.)
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { expect, it } from 'vitest';
import { openServerPools } from '../../server/src/storage/index.js';
import { PoolsFixture } from '../helpers/pools.js';

it('a start of several workers while a pool is being drained is refused, naming the pool', async () => {
  const f = await PoolsFixture.make('cairn-worker-pools-drain-');
  try {
    // A drain of pool 2 begun by one process and stopped before its end (as a restart mid-drain).
    const drives = (n: number) => [1, 2, 3, 4].map((d) => join(f.base, `p${n}`, `d${d}`));
    const one = await openServerPools([drives(1), drives(2)], { background: false }, [f.arg(1), f.arg(2)]);
    await one.makeBucket('bkt');
    await one.pools[1].putObject('bkt', 'k', Readable.from([Buffer.from('k')]), { size: 1 });
    await one.decommissions.decommission(1);
    await one.decommissions.stop();
    await one.close();
    const r = await f.refusedCommand([1, 2], 2);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`pool ${f.arg(2)} is being decommissioned: finish it with --workers 1`);
  } finally {
    await f.close();
  }
}, 120_000);
