// Directory views by set and path, kept in memory (this process is the only writer of its drives).
// A committed write updates the cached view of its directory in place of dropping it (copy-on-write:
// a walk in progress keeps the array it started with), so listing a directory that is being written
// does not rebuild it for every page. A view being built while its directory changes is not cached, and
// that holds for every build in flight (two listings, or a listing and the scanner, may build one view at once).
import { dirname } from 'node:path';
import type { ErasureSet } from '../engine/erasure-set.js';
import { compareKeys } from '../meta/key-path.js';
import { readDirView, type ViewEntry } from './dir-view.js';
import type { Latest } from './journal.js';

/** Directory entries a server keeps in its views (the processes sharing the drives split them). */
export const LISTING_CACHE_ENTRIES = 500_000;

export class ListingCache {
  private views = new Map<string, ViewEntry[]>();
  private entries = 0;
  /** Builds in flight per view, each marked when its directory changed meanwhile. */
  private building = new Map<string, Set<{ dirty: boolean }>>();

  /**
   * `maxEntries`: a server's default is LISTING_CACHE_ENTRIES (each entry ~250 bytes of heap). `read` builds
   * a view from the drives (a test may pass one whose reads it finishes in the order it wants).
   */
  constructor(
    private readonly maxEntries = LISTING_CACHE_ENTRIES,
    private readonly read: typeof readDirView = readDirView,
  ) {}

  async view(set: ErasureSet, bucket: string, dirRel: string, namePrefix: string): Promise<ViewEntry[]> {
    const id = `${set.index}\0${dirRel}`;
    const hit = this.views.get(id);
    if (hit) return hit;
    const mark = { dirty: false };
    let marks = this.building.get(id);
    if (!marks) this.building.set(id, (marks = new Set()));
    marks.add(mark);
    let v: ViewEntry[];
    try {
      v = await this.read(set, bucket, dirRel, namePrefix);
    } finally {
      marks.delete(mark);
      if (marks.size === 0 && this.building.get(id) === marks) this.building.delete(id);
    }
    if (mark.dirty) return v;
    this.put(id, v);
    for (const [k, old] of this.views) {
      if (this.entries <= this.maxEntries || k === id) break; // the newest view stays, however large
      this.views.delete(k);
      this.entries -= old.length;
    }
    return v;
  }

  private put(id: string, v: ViewEntry[]): void {
    const old = this.views.get(id);
    if (old) this.entries -= old.length;
    this.views.set(id, v);
    this.entries += v.length;
  }

  private touch(id: string): void {
    for (const b of this.building.get(id) ?? []) b.dirty = true;
  }

  /** Set (or with null remove) entry `name` of a cached view, copy-on-write. */
  private upsert(id: string, e: ViewEntry | null, name: string): boolean {
    this.touch(id);
    const view = this.views.get(id);
    if (!view) return false;
    let lo = 0;
    let hi = view.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareKeys(view[mid].name, name) < 0) lo = mid + 1;
      else hi = mid;
    }
    const found = lo < view.length && view[lo].name === name;
    if (!e && !found) return false;
    if (e && found && e.kind === 'dir') return true; // a directory entry is already there
    const next = view.slice();
    if (!e) next.splice(lo, 1);
    else next.splice(lo, found ? 1 : 0, e);
    this.put(id, next);
    return found;
  }

  /**
   * The latest version of `key` changed (null: the key has no versions left). `dirRel` is the real
   * parent directory of its object dir, `bucket` the bucket's directory.
   */
  update(setIndex: number, bucket: string, dirRel: string, key: string, latest: Latest | null): void {
    if (/\.c(\/|$)/.test(dirRel)) return this.invalidate(setIndex, dirRel); // long segments: rebuild
    this.upsert(`${setIndex}\0${dirRel}`, latest ? { name: key, kind: 'obj', rel: '', latest } : null, key);
    // Ancestors must show the directories leading to the key (a new key may have created them).
    const segs = key.split('/');
    let child = dirRel;
    for (let depth = segs.length - 1; depth >= 1 && child !== bucket; depth--) {
      const parent = dirname(child);
      const id = `${setIndex}\0${parent}`;
      if (!latest) this.touch(id);
      else if (
        this.upsert(
          id,
          { name: `${segs.slice(0, depth).join('/')}/`, kind: 'dir', rel: child },
          `${segs.slice(0, depth).join('/')}/`,
        )
      )
        break;
      child = parent;
    }
  }

  /** Drop the view of `dirRel` and of every ancestor (healing, long-segment keys). */
  invalidate(setIndex: number, dirRel: string): void {
    let d = dirRel;
    for (;;) {
      const id = `${setIndex}\0${d}`;
      this.touch(id);
      const old = this.views.get(id);
      if (old) {
        this.views.delete(id);
        this.entries -= old.length;
      }
      const cut = d.lastIndexOf('/');
      if (cut < 0) return;
      d = d.slice(0, cut);
    }
  }

  clear(): void {
    this.views.clear();
    this.entries = 0;
    for (const marks of this.building.values()) for (const b of marks) b.dirty = true;
  }
}
