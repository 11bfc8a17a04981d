// PUTs and DELETEs of different keys under one prefix, at the same time: the cleanup of emptied directories
// after a delete must never make a concurrent write of a neighbour fail.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { data, drives, get, open, put } from './helpers.js';
import type { ErasureObjects } from '../../src/storage/index.js';

let d: Awaited<ReturnType<typeof drives>>;
let s: ErasureObjects;
beforeAll(async () => {
  d = await drives(4);
  s = await open(d.paths, { background: true }); // the reaper prunes emptied directories in the background
  await s.makeBucket('race');
});
afterAll(async () => {
  await s?.close();
  await d?.cleanup();
});

describe('concurrent puts and deletes under one prefix', () => {
  it('never fails a write because a neighbour was deleted', async () => {
    const body = data(4096);
    const errors: unknown[] = [];
    const worker = async (w: number) => {
      for (let i = 0; i < 60; i++) {
        const key = w % 2 ? `p/w${w}-k${i}` : `p/w${w}/k${i % 3}`;
        try {
          await put(s, 'race', key, body);
          await s.deleteObject('race', key);
        } catch (e) {
          errors.push(e);
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, (_, w) => worker(w)));
    // 32 slots each cycling put/delete of its own key in one directory: the directory empties and is
    // pruned over and over while other slots create their entries in it (a recursive mkdir or a rename into
    // it then races with the rmdir).
    const slot = async (n: number) => {
      for (let i = 0; i < 40; i++) {
        try {
          await put(s, 'race', `flat/small-${n}`, body);
          await s.deleteObject('race', `flat/small-${n}`);
        } catch (e) {
          errors.push(e);
        }
      }
    };
    await Promise.all(Array.from({ length: 32 }, (_, n) => slot(n)));
    expect(errors.map((e) => String((e as Error).message ?? e)).slice(0, 3)).toEqual([]);
    await put(s, 'race', 'p/w0/k0', body);
    expect(await get(s, 'race', 'p/w0/k0')).toEqual(body);
  });
});
