// OldestKeys (storage/oldest-keys.ts): a Map's keys oldest first across evictions, with keys set again counted as
// newest; and ReadCache evicting through it, oldest read first, with a cache of thousands of files.
import { describe, expect, it } from 'vitest';
import { ReadCache } from '../../src/storage/drive/read-cache.js';
import { OldestKeys } from '../../src/storage/oldest-keys.js';

describe('OldestKeys', () => {
  it('gives the oldest key each time, through many evictions and keys set again', () => {
    const map = new Map<number, number>();
    const oldest = new OldestKeys(map);
    // A model of the order: an array kept by hand.
    let order: number[] = [];
    const set = (k: number) => {
      map.delete(k);
      map.set(k, k);
      order = order.filter((x) => x !== k);
      order.push(k);
    };
    for (let k = 0; k < 64; k++) set(k);
    for (let round = 0; round < 20_000; round++) {
      // Every third round sets an old key again (it becomes the newest), else a new one.
      set(round % 3 === 0 ? order[round % 32] : 1_000 + round);
      const k = oldest.next()!;
      expect(k).toBe(order[0]);
      map.delete(k);
      order.shift();
    }
    expect([...map.keys()]).toEqual(order);
  });

  it('starts again once the map was emptied, and gives undefined for an empty map', () => {
    const map = new Map<string, number>([['a', 1]]);
    const oldest = new OldestKeys(map);
    expect(oldest.next()).toBe('a');
    map.delete('a');
    expect(oldest.next()).toBeUndefined();
    map.set('b', 2);
    map.set('c', 3);
    expect(oldest.next()).toBe('b');
  });
});

describe('ReadCache eviction', () => {
  it('drops the files kept longest ago first, a changed file kept anew counting as new', async () => {
    const cache = new ReadCache(4_000 * 100);
    const changed = new Set<string>();
    let reads = 0;
    const file = (rel: string) =>
      cache.read(rel, async (r, known) => {
        if (known !== '' && !changed.has(r)) return { id: known, settled: true }; // unchanged: kept bytes answer
        changed.delete(r);
        reads++;
        return { id: `${r}:${reads}`, settled: true, bytes: Buffer.alloc(100, 1) };
      });
    for (let i = 0; i < 4_000; i++) await file(`f${i}`);
    expect(reads).toBe(4_000);
    // f0 changed: read and kept again (newest); f1 read unchanged (no read, keeps its place).
    changed.add('f0');
    await file('f0');
    await file('f1');
    expect(reads).toBe(4_001);
    // 1,000 new files push out the 1,000 kept longest ago: f1..f1000, not f0.
    for (let i = 4_000; i < 5_000; i++) await file(`f${i}`);
    reads = 0;
    await file('f0');
    await file('f1001');
    await file('f4999');
    expect(reads).toBe(0);
    await file('f1000');
    await file('f1');
    expect(reads).toBe(2);
  });
});
