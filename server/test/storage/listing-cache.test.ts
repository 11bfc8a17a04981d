// The listing cache never keeps a view read before a change it was told about: with two builds of one
// view in flight (two listings, or a listing and the scanner), a change that lands while both read marks
// both, so neither is cached. The builds' reads are finished by the test, in the order that used to leave
// the older, stale view cached (the second build's mark replaced the first's).
import { describe, expect, it } from 'vitest';
import type { ErasureSet } from '../../src/storage/engine/erasure-set.js';
import type { ViewEntry } from '../../src/storage/list/dir-view.js';
import { ListingCache } from '../../src/storage/list/listing-cache.js';

const set = { index: 0 } as ErasureSet;
const entry = (name: string): ViewEntry => ({ name, kind: 'obj', rel: '', latest: { s: 1, e: 'e', m: 1 } });

/** A cache whose reads wait until the test answers them, oldest first. */
function controlledCache() {
  const pending: ((v: ViewEntry[]) => void)[] = [];
  let reads = 0;
  const cache = new ListingCache(1000, () => {
    reads++;
    return new Promise<ViewEntry[]>((resolve) => pending.push(resolve));
  });
  return { cache, pending, reads: () => reads };
}

describe('ListingCache', () => {
  it('caches neither of two builds in flight when their directory changes', async () => {
    const { cache, pending, reads } = controlledCache();
    const first = cache.view(set, 'b', 'b/dir', 'dir/');
    const second = cache.view(set, 'b', 'b/dir', 'dir/');
    expect(pending).toHaveLength(2);
    // dir/small is deleted while both builds read; both read it before the delete.
    cache.update(0, 'b', 'b/dir', 'dir/small', null);
    pending[0]([entry('dir/big'), entry('dir/small')]);
    expect((await first).map((e) => e.name)).toEqual(['dir/big', 'dir/small']);
    pending[1]([entry('dir/big'), entry('dir/small')]);
    await second;
    // The next listing reads the drives again instead of answering the stale view.
    const third = cache.view(set, 'b', 'b/dir', 'dir/');
    expect(reads()).toBe(3);
    pending[2]([entry('dir/big')]);
    expect((await third).map((e) => e.name)).toEqual(['dir/big']);
    expect((await cache.view(set, 'b', 'b/dir', 'dir/')).map((e) => e.name)).toEqual(['dir/big']);
    expect(reads()).toBe(3);
  });

  it('caches a build no change touched, and then applies changes to it in place', async () => {
    const { cache, pending, reads } = controlledCache();
    const first = cache.view(set, 'b', 'b/dir', 'dir/');
    pending[0]([entry('dir/big'), entry('dir/small')]);
    await first;
    cache.update(0, 'b', 'b/dir', 'dir/small', null);
    expect((await cache.view(set, 'b', 'b/dir', 'dir/')).map((e) => e.name)).toEqual(['dir/big']);
    expect(reads()).toBe(1);
  });

  it('drops every build in flight when all views are cleared', async () => {
    const { cache, pending, reads } = controlledCache();
    const a = cache.view(set, 'b', 'b/x', 'x/');
    const b = cache.view(set, 'b', 'b/x', 'x/');
    cache.clear();
    pending[0]([entry('x/old')]);
    pending[1]([entry('x/old')]);
    await Promise.all([a, b]);
    const c = cache.view(set, 'b', 'b/x', 'x/');
    expect(reads()).toBe(3);
    pending[2]([]);
    expect(await c).toEqual([]);
  });
});
