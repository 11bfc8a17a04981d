// ServerPools (storage/pools.ts) with a key in two pools, as two PUTs of a new key at once can leave it (each
// chose a pool before the other committed): reads and listings give the newest, and a delete of the version
// by id removes every copy, so the older one does not come back. A read whose key a drain moves out of its pool
// between the lookup and the read finds the moved copy.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
