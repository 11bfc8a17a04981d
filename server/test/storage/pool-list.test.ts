// The pool list (storage/pool-list.ts) through a drain's life: a drain stopped half-way (a restart mid-drain) or
// canceled keeps its pool required; the drain resumed to the end lets it go, and the list forgets it then. A
// deployment of session 16 (each pool's own pool.json, no list) keeps its drained pool's state. A save must reach a
// write quorum of every pool's drives.
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ErasureObjects, openServerPools, openStorage, type ServerPools } from '../../src/storage/index.js';

let base: string;
const drives = (p: number) => [1, 2, 3, 4].map((d) => join(base, `p${p}`, `d${d}`));
const name = (p: number) => `p${p}`;
const open = (ps: number[]) =>
  openServerPools(
    ps.map(drives),
    { background: false },
    ps.map((p) => name(p)),
  );
const alone = (p: number) => openStorage({ drives: drives(p), poolName: name(p), background: false });

async function putIn(pool: ErasureObjects, key: string): Promise<void> {
  await pool.putObject('bkt', key, Readable.from([Buffer.from(key)]), { size: key.length });
}

async function untilDone(pools: ServerPools, i: number): Promise<void> {
  for (;;) {
    const d = (await pools.decommissions.status(i)).decommissionInfo;
    if (d?.complete || d?.failed) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

let pools: ServerPools | undefined;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'cairn-pool-list-unit-'));
  pools = await open([1, 2]);
  await pools.makeBucket('bkt');
  for (let i = 0; i < 20; i++) await putIn(pools.pools[1], `k${i}`);
});

afterEach(async () => {
  await pools?.close();
  pools = undefined;
  await rm(base, { recursive: true, force: true });
});

describe('a pool being drained stays required', () => {
  it('stopped half-way: refused without it; resumed to the end: accepted, and forgotten', async () => {
    await pools!.decommissions.decommission(1);
    // As a restart mid-drain: the drain stops before its first key.
    await pools!.decommissions.stop();
    await pools!.close();
    pools = undefined;
    await expect(alone(1)).rejects.toThrow(/pool p2 \(the 2nd pool, its decommission has not completed\)/);
    pools = await open([1, 2]);
    await untilDone(pools, 1);
    expect((await pools.decommissions.status(1)).decommissionInfo).toMatchObject({ complete: true, failed: false });
    await pools.close();
    pools = undefined;
    const one = await alone(1);
    try {
      for (let i = 0; i < 20; i++) expect((await one.headObject('bkt', `k${i}`)).size).toBe(`k${i}`.length);
    } finally {
      await one.close();
    }
    const list = JSON.parse(await readFile(join(base, 'p1', 'd3', '.cairn.sys', 'pools.json'), 'utf8'));
    expect(list.pools.map((p: { cmdline: string }) => p.cmdline)).toEqual(['p1']);
    // Pool 2 given again (drained, emptied): a new pool to the list.
    pools = await open([1, 2]);
    expect((await pools.decommissions.status(1)).decommissionInfo).toBeUndefined();
  }, 60_000);

  it('canceled: refused without it', async () => {
    await pools!.decommissions.decommission(1);
    await pools!.decommissions.cancel(1);
    await pools!.close();
    pools = undefined;
    await expect(alone(1)).rejects.toThrow(/pool p2 \(the 2nd pool, its decommission was canceled\)/);
    await expect(alone(2)).rejects.toThrow(/pool p1 \(the 1st pool, never decommissioned\)/);
  });
});

describe("session 16's drives (a pool.json per pool, no list)", () => {
  it("keep a drained pool's state, and the list replaces the old files", async () => {
    await pools!.decommissions.decommission(1);
    await untilDone(pools!, 1);
    await pools!.close();
    pools = undefined;
    const list = JSON.parse(await readFile(join(base, 'p2', 'd1', '.cairn.sys', 'pools.json'), 'utf8'));
    const legacy = `${JSON.stringify({ decommission: list.pools[1].decommission, lastUpdate: list.pools[1].lastUpdate })}\n`;
    for (const p of [1, 2])
      for (const d of drives(p)) {
        await rm(join(d, '.cairn.sys', 'pools.json'));
        if (p === 2) await writeFile(join(d, '.cairn.sys', 'pool.json'), legacy);
      }
    pools = await open([1, 2]);
    expect((await pools.decommissions.status(1)).decommissionInfo).toMatchObject({ complete: true });
    expect(pools.suspended.has(1)).toBe(true);
    await expect(readFile(join(base, 'p2', 'd1', '.cairn.sys', 'pool.json'))).rejects.toMatchObject({
      code: 'ENOENT',
    });
    await pools.close();
    pools = undefined;
    await (await alone(1)).close();
  });
});

describe('the list is written with quorum', () => {
  /** Drive d refuses writes to its system folder (a file in its place) until `back`. */
  const away = (d: string) => [join(d, '.cairn.sys'), join(d, '.sys-away')] as const;
  const refuse = async (d: string) => {
    await rename(...away(d));
    await writeFile(away(d)[0], 'not a folder');
  };
  const back = async (d: string) => {
    await rm(away(d)[0]);
    await rename(away(d)[1], away(d)[0]);
  };

  it("a save that reaches fewer than half of a pool's drives and one fails, naming the pool; one short is fine", async () => {
    const [d1, d2] = drives(2);
    await refuse(d1);
    await pools!.list.save();
    await refuse(d2);
    await expect(pools!.list.save()).rejects.toThrow("the pool list reached 2 of pool p2's 4 drives (3 needed)");
    // A drain whose start cannot be saved does not start.
    await expect(pools!.decommissions.decommission(0)).rejects.toMatchObject({
      code: 'InsufficientWriteQuorum',
      message: expect.stringContaining("of pool p2's 4 drives"),
    });
    expect((await pools!.decommissions.status(0)).decommissionInfo).toBeUndefined();
    expect(pools!.suspended.has(0)).toBe(false);
    await back(d1);
    await back(d2);
    await pools!.decommissions.decommission(0);
    expect(
      JSON.parse(await readFile(join(d2, '.cairn.sys', 'pools.json'), 'utf8')).pools[0].decommission,
    ).toBeDefined();
    await pools!.decommissions.cancel(0);
  });
  it("a list taken over (reload) is written above the last leader's: a drive that missed it cannot bring the old back", async () => {
    // Two holders of the same drives: `a` led and saved twice; `b` takes over (as a worker whose leader died).
    const a = pools!.list;
    const other = await open([1, 2]);
    try {
      a.entries[0].lastUpdate = 'by a';
      await a.save();
      await a.save();
      // The first drive read (pool 1's first): a tie of generations would go to what it holds.
      const [d1] = drives(1);
      await refuse(d1);
      await other.list.reload();
      other.list.entries[0].lastUpdate = 'by b';
      await other.list.save();
      await back(d1);
      // The drive that missed b's write still holds a's newer generation; the list is b's all the same.
      const third = await open([1, 2]);
      expect(third.list.entries[0].lastUpdate).toBe('by b');
      await third.close();
    } finally {
      await other.close();
    }
  });
});
