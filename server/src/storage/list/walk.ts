// Sorted walk over the keys of a bucket in one set, driven by prefix, delimiter and start-after. With the
// `/` delimiter a directory under the prefix is answered as a common prefix without being entered.
import type { ErasureSet } from '../engine/erasure-set.js';
import { compareKeys, prefixDir } from '../meta/key-path.js';
import type { ViewEntry } from './dir-view.js';
import type { ListingCache } from './listing-cache.js';
import type { Latest } from './journal.js';

export type WalkItem = { kind: 'obj'; key: string; latest: Latest } | { kind: 'prefix'; key: string };

export interface WalkOptions {
  prefix: string;
  delimiter?: string;
  /** Only keys strictly after this one (or at/after it with afterInclusive). */
  after?: string;
  afterInclusive?: boolean;
  /** Also keys whose latest version is a delete marker (for version listings). */
  withDeleted?: boolean;
}

const HAS_ANY_AHEAD = 16;

function visible(e: ViewEntry, withDeleted: boolean): boolean {
  return !!e.latest && (withDeleted || !e.latest.d);
}

async function hasAny(
  set: ErasureSet,
  bucket: string,
  cache: ListingCache,
  dir: ViewEntry,
  withDeleted: boolean,
): Promise<boolean> {
  for (const e of await cache.view(set, bucket, dir.rel, dir.name)) {
    if (e.kind === 'obj' ? visible(e, withDeleted) : await hasAny(set, bucket, cache, e, withDeleted)) return true;
  }
  return false;
}

export async function* walkSet(
  set: ErasureSet,
  bucket: string,
  cache: ListingCache,
  o: WalkOptions,
): AsyncGenerator<WalkItem> {
  const { dir, rest } = prefixDir(o.prefix);
  const startRel = dir ? `${bucket}/${dir}` : bucket;
  yield* walkDir(set, bucket, cache, o, startRel, o.prefix.slice(0, o.prefix.length - rest.length));
}

async function* walkDir(
  set: ErasureSet,
  bucket: string,
  cache: ListingCache,
  o: WalkOptions,
  dirRel: string,
  namePrefix: string,
): AsyncGenerator<WalkItem> {
  const entries = await cache.view(set, bucket, dirRel, namePrefix);
  const after = o.after;
  // Skip straight to the first entry that can matter (binary search on the sorted view).
  let lo = 0;
  const floor = after !== undefined && compareKeys(after, o.prefix) > 0 ? after : o.prefix;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const e = entries[mid];
    // A directory sorts before everything it contains; keep one that may contain keys > floor.
    if (compareKeys(e.name, floor) < 0 && !(e.kind === 'dir' && floor.startsWith(e.name))) lo = mid + 1;
    else hi = mid;
  }
  const slashDelim = o.delimiter === '/';
  // With '/', each directory under the prefix is one common prefix, shown only if it holds something:
  // check a few directories ahead concurrently (a layout of many small partitions is common).
  const ahead = new Map<number, Promise<boolean>>();
  let next = lo;
  const check = (i: number): Promise<boolean> => {
    while (slashDelim && next < entries.length && next < i + HAS_ANY_AHEAD) {
      const e = entries[next];
      if (e.kind === 'dir' && e.name.startsWith(o.prefix)) {
        const p = hasAny(set, bucket, cache, e, !!o.withDeleted);
        p.catch(() => {});
        ahead.set(next, p);
      }
      next++;
    }
    const p = ahead.get(i) ?? hasAny(set, bucket, cache, entries[i], !!o.withDeleted);
    ahead.delete(i);
    return p;
  };
  for (let i = lo; i < entries.length; i++) {
    const e = entries[i];
    if (e.kind === 'obj') {
      if (!e.name.startsWith(o.prefix)) {
        if (compareKeys(e.name, o.prefix) > 0) return;
        continue;
      }
      if (after !== undefined && compareKeys(e.name, after) < (o.afterInclusive ? 0 : 1)) continue;
      if (visible(e, !!o.withDeleted)) yield { kind: 'obj', key: e.name, latest: e.latest! };
      continue;
    }
    const p = e.name;
    const under = p.startsWith(o.prefix);
    if (!under && !o.prefix.startsWith(p)) {
      if (compareKeys(p, o.prefix) > 0) return;
      continue;
    }
    if (after !== undefined && compareKeys(p, after) <= 0 && !after.startsWith(p)) continue;
    if (slashDelim && under) {
      if (after !== undefined && compareKeys(p, after) <= 0) continue; // this prefix was already returned
      if (await check(i)) yield { kind: 'prefix', key: p };
      continue;
    }
    yield* walkDir(set, bucket, cache, o, e.rel, p);
  }
}
