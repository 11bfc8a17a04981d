// ServerPools (storage/pools.ts) with a key in two pools, as two PUTs of a new key at once can leave it (each
// chose a pool before the other committed): reads and listings give the newest, and a delete of the version
// by id removes every copy, so the older one does not come back. A read whose key a drain moves out of its pool
// between the lookup and the read finds the moved copy. A pool that cannot answer (its drives offline, as a pool of
// nodes with its nodes down) fails only the lookups of keys no other pool holds; once drained, its failure is a miss.
// A drain tries again, in a later pass, a key it could not move (the target's drives offline for a moment).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { S3Error } from '../../src/errors.js';
import { openServerPools, type ServerPools } from '../../src/storage/index.js';

let base: string;
let pools: ServerPools;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'cairn-pools-unit-'));
  const drives = (p: number) => [1, 2, 3, 4].map((d) => join(base, `p${p}`, `d${d}`));
  pools = await openServerPools([drives(1), drives(2)], { background: false });
  await pools.makeBucket('bkt');
});

afterAll(async () => {
  await pools?.close();
  if (base) await rm(base, { recursive: true, force: true });
});

const put = (i: number, body: string) =>
  pools.pools[i].putObject('bkt', 'twice', Readable.from([Buffer.from(body)]), { size: body.length });

describe('a key in two pools', () => {
  it('reads the newest; a delete by version id removes both copies', async () => {
    await put(0, 'older');
    await put(1, 'newer!');
    expect((await pools.headObject('bkt', 'twice')).size).toBe('newer!'.length);
    const listed = await pools.listObjects('bkt', { maxKeys: 10 });
    expect(listed.objects.map((o) => [o.key, o.size])).toEqual([['twice', 'newer!'.length]]);
    await pools.deleteObject('bkt', 'twice', { versionId: 'null' });
    await expect(pools.headObject('bkt', 'twice')).rejects.toMatchObject({ code: 'NoSuchKey' });
    expect((await pools.listObjects('bkt', { maxKeys: 10 })).objects).toEqual([]);
    // The bucket is empty in both pools now, so it can go.
    await pools.deleteBucket('bkt');
  });
});

describe('a read while its key leaves a drained pool', () => {
  it('finds the copy when the key moved between the lookup and the read', async () => {
    await pools.makeBucket('moving');
    const body = Buffer.from('moved out');
    await pools.pools[0].putObject('moving', 'k', Readable.from([body]), { size: body.length });
    pools.suspended.add(0);
    try {
      // The drain moves the key (pool 1 to pool 2) just after a read chose pool 1, before that pool answers: the
      // first HEAD of pool 1 is the lookup, the second the read.
      const source = pools.pools[0];
      const head = source.headObject.bind(source);
      const open = source.openObject.bind(source);
      let heads = 0;
      source.headObject = async (...a) => {
        if (++heads === 2) {
          source.headObject = head;
          await pools.moveOut(0, 'moving', 'k');
        }
        return head(...a);
      };
      expect((await pools.headObject('moving', 'k')).size).toBe(body.length);
      expect(heads).toBe(2);
      await expect(head('moving', 'k')).rejects.toMatchObject({ code: 'NoSuchKey' });
      // Back in pool 1 and read again, moved while it opens.
      await pools.pools[0].putObject('moving', 'k2', Readable.from([body]), { size: body.length });
      source.openObject = async (...a) => {
        source.openObject = open;
        await pools.moveOut(0, 'moving', 'k2');
        return open(...a);
      };
      const opened = await pools.openObject('moving', 'k2');
      expect(Buffer.concat(await (await opened.read()).toArray()).equals(body)).toBe(true);
      await expect(open('moving', 'k2')).rejects.toMatchObject({ code: 'NoSuchKey' });
    } finally {
      pools.suspended.delete(0);
    }
  });
});

describe('a pool that cannot answer (its drives offline: a pool of nodes whose nodes are down)', () => {
  let two: ServerPools;
  let dir: string;
  const offline = (i: number, off: boolean) => {
    for (const set of two.pools[i].sets) set.online.fill(!off);
  };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cairn-pools-down-'));
    const drives = (p: number) => [1, 2, 3, 4].map((d) => join(dir, `p${p}`, `d${d}`));
    two = await openServerPools([drives(1), drives(2)], { background: false });
    await two.makeBucket('down');
    for (const [i, k] of ['in1', 'in2'].entries())
      await two.pools[i].putObject('down', k, Readable.from([Buffer.from(k)]), { size: k.length });
  });
  afterAll(async () => {
    await two?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('fails only the lookups of keys no other pool holds; once drained, its failure is a miss', async () => {
    offline(1, true);
    try {
      // Held by pool 1: read as usual (before: every lookup failed with pool 2's error).
      expect((await two.headObject('down', 'in1')).size).toBe(3);
      // Not found elsewhere: pool 2 may hold it, so neither a read nor a write may act as if it did not.
      const down = await two.headObject('down', 'in2').catch((e: unknown) => e);
      expect(down).toBeInstanceOf(S3Error);
      expect((down as S3Error).code).not.toBe('NoSuchKey');
      await expect(two.putObject('down', 'in2', Readable.from([Buffer.from('x')]), { size: 1 })).rejects.toBeInstanceOf(
        S3Error,
      );
      // A delete must reach every pool holding the key: refused too.
      await expect(two.deleteObject('down', 'in1')).rejects.toBeInstanceOf(S3Error);
    } finally {
      offline(1, false);
    }
    expect((await two.headObject('down', 'in2')).size).toBe(3);
    // Pool 2 drained (its key moved to pool 1), then down for good: its failure is a miss.
    await two.decommissions.decommission(1);
    await vi.waitFor(async () => expect((await two.decommissions.status(1)).decommissionInfo?.complete).toBe(true), {
      timeout: 20_000,
      interval: 50,
    });
    offline(1, true);
    try {
      expect((await two.headObject('down', 'in2')).size).toBe(3);
      await expect(two.headObject('down', 'nowhere')).rejects.toMatchObject({ code: 'NoSuchKey' });
      await two.putObject('down', 'new', Readable.from([Buffer.from('new')]), { size: 3 });
      expect((await two.headObject('down', 'new')).size).toBe(3);
      await two.deleteObject('down', 'in1');
      await expect(two.headObject('down', 'in1')).rejects.toMatchObject({ code: 'NoSuchKey' });
    } finally {
      offline(1, false);
    }
  });
});

describe('a drain whose move of a key fails once', () => {
  let two: ServerPools;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cairn-pools-retry-'));
    const drives = (p: number) => [1, 2, 3, 4].map((d) => join(dir, `p${p}`, `d${d}`));
    two = await openServerPools([drives(1), drives(2)], { background: false });
    await two.makeBucket('retry');
  });
  afterAll(async () => {
    await two?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('moves it in a later pass and completes', async () => {
    const keys = ['a', 'b', 'c'];
    for (const k of keys) await two.pools[0].putObject('retry', k, Readable.from([Buffer.from(k)]), { size: 1 });
    // Pool 2 (the target) cannot be written until the first key failed to move; then it is back.
    const online = (on: boolean) => {
      for (const set of two.pools[1].sets) set.online.fill(on);
    };
    const warnings: string[] = [];
    const warn = two.log.warn.bind(two.log);
    two.log.warn = (m: string) => {
      warnings.push(m);
      if (m.startsWith('decommission: retry/')) online(true);
      warn(m);
    };
    online(false);
    try {
      await two.decommissions.decommission(0);
      const d = await vi.waitFor(
        async () => {
          const d = (await two.decommissions.status(0)).decommissionInfo;
          expect(d?.complete || d?.failed).toBe(true);
          return d!;
        },
        { timeout: 20_000, interval: 50 },
      );
      expect(d.failed).toBe(false);
      expect(d.objectsDecommissionedFailed).toBe(0);
    } finally {
      online(true);
      two.log.warn = warn;
    }
    expect(warnings.filter((m) => m.includes('not moved (pass 1)'))).toHaveLength(1);
    for (const k of keys) {
      await expect(two.pools[0].headObject('retry', k)).rejects.toMatchObject({ code: 'NoSuchKey' });
      expect((await two.pools[1].headObject('retry', k)).size).toBe(1);
    }
  });
});
