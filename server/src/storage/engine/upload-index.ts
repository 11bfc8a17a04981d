// A key-ordered index of the multipart uploads in progress, so that a ListMultipartUploads page costs about
// the page (a binary search, then the page's uploads), not every upload of the bucket: upload folders are
// named by a hash of their key, so the folders themselves have no useful order.
//
// On disk: `.cairn.sys/multipart/<bucket>/_uploads` on every drive of a set (an upload lives on its key's set),
// JSON lines:
//   {"g":"<uuid>"}                          first line: the generation, new at every rewrite (rebuild, compaction)
//   {"n":"<hash>/<id>","k":"<key>","t":ms}  an upload was created (written before its upload.json)
//   {"n":"<hash>/<id>","x":1}               it went: completed, aborted, expired (written after its folder went)
// Any process appends (one write(2) in O_APPEND mode; an append that finds its file replaced by a rewrite writes
// again to the new one); rewrites hold the lock `uploads\0<set>\0<bucket>` and carry lines appended meanwhile.
//
// Each process keeps, per bucket and set, the uploads sorted by (key, initiation time, id) and, per drive, how far
// it has read the file and its generation. A listing stats each drive's file and reads only what was appended
// since (the generation read after the tail: a rewrite in between is seen), so what any worker or node did is
// in the next page. The index is a hint the folders confirm: each upload a page lists is read from its folder
// (upload.json, cached while unchanged), so a line whose folder is gone (a create that died before its folder,
// a removal that died before its line, a drive that missed the removal) is never listed, and is dropped for good
// once a minute old with every drive of the set online. A file without a generation (a deployment older than the
// index, a drive wiped) is rebuilt from the upload folders; a new bucket starts with an empty index.
import { randomUUID } from 'node:crypto';
import { type Locks, KeyedMutex, withLock } from '../coordination.js';
import { type Drive, MULTIPART_DIR } from '../drive/drive.js';
import type { ErasureSet } from './erasure-set.js';

export const UPLOAD_INDEX = '_uploads';
/** A line naming an upload whose folder is gone is dropped after this long (its create may still be under way). */
const PHANTOM_MS = 60_000;
/** Uploads whose documents a rebuild reads at once. */
const REBUILD_READS = 32;

/** One upload in the index: its folder under the bucket's multipart folder (`<hash>/<id>`), key, initiation time. */
export interface IndexEntry {
  n: string;
  id: string;
  key: string;
  t: number;
}

type Line = { g: string } | { n: string; k: string; t: number } | { n: string; x: 1 };

const headerLine = () => `${JSON.stringify({ g: randomUUID() })}\n`;
/** `{"g":"<36-character uuid>"}\n` */
const HEADER_BYTES = headerLine().length;

/** Index order: key, then initiation time, then id (AWS lists uploads by key, then by initiation). */
export function compareEntries(
  a: { key: string; t: number; id: string },
  b: { key: string; t: number; id: string },
): number {
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  if (a.t !== b.t) return a.t - b.t;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The whole lines of `raw` (a torn last line, or one half-way in from another process, is left for later). */
function parseLines(raw: Buffer): { lines: Line[]; used: number } {
  const used = raw.lastIndexOf(0x0a) + 1;
  const lines: Line[] = [];
  for (const text of raw.subarray(0, used).toString('utf8').split('\n')) {
    if (!text) continue;
    try {
      lines.push(JSON.parse(text) as Line);
    } catch {
      // A line torn by a power loss, and the next line appended after it: the next one is whole (a JSON
      // string never holds `{"n":` unescaped). The torn one's upload is not listed until a rebuild.
      const at = text.lastIndexOf('{"n":');
      try {
        if (at > 0) lines.push(JSON.parse(text.slice(at)) as Line);
      } catch {
        // nothing whole in it
      }
    }
  }
  return { lines, used };
}

interface DriveState {
  gen: string;
  /** Bytes read (whole lines), and the file's mtime then: an unchanged file is not read again. */
  offset: number;
  mtimeMs: number;
  /** Lines the file has (for compaction). */
  lines: number;
}

/** In sorted `arr`, the first position whose entry is not before `at` (`after`: the first one after it). */
export function seek(arr: IndexEntry[], at: { key: string; t: number; id: string }, after = false): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareEntries(arr[mid], at);
    if (c < 0 || (after && c === 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** From position `from` of sorted `arr` (at a key starting with `p`), the first whose key does not start with `p`. */
export function skipPrefix(arr: IndexEntry[], from: number, p: string): number {
  let lo = from;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid].key.startsWith(p)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The uploads of one bucket on one set, sorted, and what has been read of each drive's file. */
export class SetUploads {
  private sorted: IndexEntry[] = [];
  /** A page is walking `sorted`: the next change works on a copy (pointers only), not under the page's feet. */
  private lent = false;
  readonly byId = new Map<string, IndexEntry>();
  readonly drives = new Map<string, DriveState>();

  get size(): number {
    return this.sorted.length;
  }

  /** The uploads as of now, for a page to walk while others change the index. */
  snapshot(): IndexEntry[] {
    this.lent = true;
    return this.sorted;
  }

  private own(): IndexEntry[] {
    if (this.lent) {
      this.sorted = this.sorted.slice();
      this.lent = false;
    }
    return this.sorted;
  }

  add(e: IndexEntry): void {
    if (this.byId.has(e.id)) return;
    this.byId.set(e.id, e);
    this.own().splice(seek(this.sorted, e), 0, e);
  }

  remove(id: string): void {
    const e = this.byId.get(id);
    if (!e) return;
    this.byId.delete(id);
    const i = seek(this.sorted, e);
    if (this.sorted[i] === e) this.own().splice(i, 1);
  }

  apply(l: Line): void {
    if ('x' in l) this.remove(l.n.slice(l.n.indexOf('/') + 1));
    else if ('k' in l) this.add({ n: l.n, id: l.n.slice(l.n.indexOf('/') + 1), key: l.k, t: l.t });
  }
}

export class UploadIndex {
  private readonly state = new Map<string, SetUploads>();
  /** One refresh of a bucket's set at a time in this process. */
  private readonly mutex = new KeyedMutex();

  constructor(private readonly locks: Locks) {}

  private rel(bucket: string): string {
    return `${MULTIPART_DIR}/${bucket}/${UPLOAD_INDEX}`;
  }

  /** Appends `text` to the index on drive `d`, again to the new file if a rewrite replaced it meanwhile. */
  private async append(d: Drive, bucket: string, text: string): Promise<void> {
    for (let i = 0; i < 3 && !(await d.append(this.rel(bucket), text, true)); i++);
  }

  /** Before an upload's document is written on `d`: its line. */
  created(d: Drive, bucket: string, n: string, key: string, initiated: number): Promise<void> {
    return this.append(d, bucket, `${JSON.stringify({ n, k: key, t: initiated })}\n`);
  }

  /** After an upload's folder was removed from the set's drives: its removal, on every drive that takes writes. */
  async removed(set: ErasureSet, bucket: string, n: string): Promise<void> {
    const text = `${JSON.stringify({ n, x: 1 })}\n`;
    await Promise.all(set.writeDrives().map((d) => d && this.append(d, bucket, text).catch(() => {})));
  }

  /** A new bucket: an empty index on every drive (so its first listing has nothing to rebuild). */
  async init(drives: Drive[], bucket: string): Promise<void> {
    const rel = this.rel(bucket);
    await Promise.all(
      drives.map(async (d) => {
        if (!(await d.exists(rel))) await d.writeAtomic(rel, headerLine());
      }),
    ).catch(() => {}); // a drive that failed has its index rebuilt when a listing finds it missing
  }

  /** The bucket's multipart folder went (DeleteBucket): forget what was read of it. */
  forget(bucket: string): void {
    for (const k of [...this.state.keys()]) if (k.startsWith(`${bucket}\0`)) this.state.delete(k);
  }

  /** The set's uploads of `bucket`, sorted, with every drive's appended lines applied. */
  async current(set: ErasureSet, bucket: string): Promise<SetUploads> {
    const id = `${bucket}\0${set.index}`;
    return this.mutex.run(id, async () => {
      let s = this.state.get(id);
      if (!s || !(await this.readTails(set, bucket, s))) {
        s = await this.reload(set, bucket);
        this.state.set(id, s);
      }
      this.maybeCompact(set, bucket, s);
      return s;
    });
  }

  /** Reads what each live drive's file gained; false when a file is new, gone or rewritten (reload). */
  private async readTails(set: ErasureSet, bucket: string, s: SetUploads): Promise<boolean> {
    const rel = this.rel(bucket);
    const drives = set.liveDrives().filter((d): d is Drive => d !== null);
    const read = await Promise.all(
      drives.map(async (d) => {
        const known = s.drives.get(d.driveId);
        const st = await d.stat(rel).catch(() => null);
        if (!known || !st || st.size < known.offset) return null;
        if (st.size === known.offset && st.mtimeMs === known.mtimeMs) return { d, known, st, lines: [], used: 0 };
        const src = d.openShard(rel);
        try {
          // The tail first, then the generation: a rewrite between the two reads shows as a new generation.
          const tail = st.size > known.offset ? await src.read(known.offset, st.size - known.offset) : Buffer.alloc(0);
          const head = await src.read(0, HEADER_BYTES);
          if ((JSON.parse(head.toString('utf8')) as { g?: string }).g !== known.gen) return null;
          return { d, known, st, ...parseLines(tail) };
        } catch {
          return null; // cut short by a rewrite, or unreadable: read it whole
        } finally {
          await src.close();
        }
      }),
    );
    if (read.some((r) => r === null)) return false;
    for (const r of read) {
      if (!r) continue;
      for (const l of r.lines) s.apply(l);
      r.known.offset += r.used;
      // A line still being appended was left: the file then counts as changed until it is read.
      r.known.mtimeMs = r.known.offset === r.st.size ? r.st.mtimeMs : -1;
      r.known.lines += r.lines.length;
    }
    return true;
  }

  /** Every live drive's file read whole (rebuilt first where it has no generation), merged. */
  private async reload(set: ErasureSet, bucket: string): Promise<SetUploads> {
    let files = await this.readAll(set, bucket);
    if (files.some((f) => !f.gen)) {
      await this.rebuild(set, bucket);
      files = await this.readAll(set, bucket);
    }
    const s = new SetUploads();
    const gone = new Set<string>();
    for (const f of files) {
      for (const l of f.lines) if ('x' in l) gone.add(l.n);
      s.drives.set(f.d.driveId, { gen: f.gen ?? '', offset: f.used, mtimeMs: f.mtimeMs, lines: f.lines.length });
    }
    for (const f of files) for (const l of f.lines) if ('k' in l && !gone.has(l.n)) s.apply(l);
    return s;
  }

  private async readAll(set: ErasureSet, bucket: string) {
    const rel = this.rel(bucket);
    const drives = set.liveDrives().filter((d): d is Drive => d !== null);
    return Promise.all(
      drives.map(async (d) => {
        const raw = (await d.read(rel).catch(() => null)) ?? Buffer.alloc(0);
        const st = await d.stat(rel).catch(() => null);
        const { lines, used } = parseLines(raw);
        const first = lines[0];
        const gen = first && 'g' in first ? first.g : undefined;
        // mtime as read: an append after the read changes it (or the size), so the next listing reads the tail.
        return { d, gen, lines, used, mtimeMs: st && st.size === used ? st.mtimeMs : -1 };
      }),
    );
  }

  /**
   * Writes the index again from the upload folders on every drive of the set whose file has no generation,
   * keeping the lines it had (lines whose folders are not written yet) and those appended meanwhile.
   */
  private async rebuild(set: ErasureSet, bucket: string): Promise<void> {
    await withLock(this.locks, `uploads\0${set.index}\0${bucket}`, async () => {
      const rel = this.rel(bucket);
      const base = `${MULTIPART_DIR}/${bucket}`;
      const drives = set.writeDrives().filter((d): d is Drive => d !== null);
      const todo: { d: Drive; raw: Buffer }[] = [];
      for (const d of drives) {
        await d.mkdirs(base);
        await d.append(rel, '');
        const raw = (await d.read(rel)) ?? Buffer.alloc(0);
        if (!raw.subarray(0, 5).equals(Buffer.from('{"g":'))) todo.push({ d, raw });
      }
      if (todo.length === 0) return; // another process rebuilt it while this one waited
      const found = await this.scanFolders(set, bucket);
      await Promise.all(
        todo.map(async ({ d, raw }) => {
          const old = parseLines(raw);
          const kept = old.lines.filter((l) => !('g' in l) && !('k' in l && found.has(l.n)));
          const text = headerLine() + [...found.values(), ...kept.map((l) => `${JSON.stringify(l)}\n`)].join('');
          const tail = await d.replaceLog(rel, text, old.used);
          if (tail && tail.length > 0) await this.append(d, bucket, tail.toString('utf8'));
        }),
      );
    });
  }

  /** A line per upload folder found on any drive of the set (its key and time from its upload.json). */
  private async scanFolders(set: ErasureSet, bucket: string): Promise<Map<string, string>> {
    const base = `${MULTIPART_DIR}/${bucket}`;
    const names = new Set<string>();
    const drives = set.liveDrives().filter((d): d is Drive => d !== null);
    await Promise.all(
      drives.map(async (d) => {
        for (const h of (await d.list(base).catch(() => null)) ?? []) {
          if (h.startsWith('_')) continue;
          for (const id of (await d.list(`${base}/${h}`).catch(() => null)) ?? []) names.add(`${h}/${id}`);
        }
      }),
    );
    const lines = new Map<string, string>();
    const all = [...names];
    for (let i = 0; i < all.length; i += REBUILD_READS)
      await Promise.all(
        all.slice(i, i + REBUILD_READS).map(async (n) => {
          const doc = await readUploadDoc(drives, `${base}/${n}`);
          if (doc) lines.set(n, `${JSON.stringify({ n, k: doc.info.key, t: doc.info.initiated })}\n`);
        }),
      );
    return lines;
  }

  /**
   * A listed entry whose folder no drive has: dropped (and its removal written) once old enough that its
   * create cannot still be under way, and only with every drive of the set online (one that is not may hold it).
   */
  async phantom(set: ErasureSet, bucket: string, e: IndexEntry): Promise<void> {
    if (Date.now() - e.t < PHANTOM_MS || set.liveDrives().some((d) => d === null)) return;
    this.state.get(`${bucket}\0${set.index}`)?.remove(e.id);
    await this.removed(set, bucket, e.n);
  }

  /** Rewrites a drive's file once it holds many more lines than uploads (removals, carried-over lines). */
  private maybeCompact(set: ErasureSet, bucket: string, s: SetUploads): void {
    for (const d of set.writeDrives()) {
      const st = d && s.drives.get(d.driveId);
      if (!d || !st || st.lines <= 2 * s.size + 1000) continue;
      st.lines = 0; // not again before it is read anew
      void this.compact(set, bucket, d).catch(() => {});
    }
  }

  private async compact(set: ErasureSet, bucket: string, d: Drive): Promise<void> {
    await withLock(this.locks, `uploads\0${set.index}\0${bucket}`, async () => {
      const rel = this.rel(bucket);
      const raw = await d.read(rel);
      if (!raw) return;
      const { lines, used } = parseLines(raw);
      const live = new Map<string, Line>();
      for (const l of lines) {
        if ('x' in l) live.delete(l.n);
        else if ('k' in l) live.set(l.n, l);
      }
      const text = headerLine() + [...live.values()].map((l) => `${JSON.stringify(l)}\n`).join('');
      const tail = await d.replaceLog(rel, text, used);
      if (tail && tail.length > 0) await this.append(d, bucket, tail.toString('utf8'));
    });
  }
}

/** An upload's document from the first of `drives` that has a readable copy (null: none has). */
export async function readUploadDoc<T = { info: { key: string; initiated: number } }>(
  drives: (Drive | null)[],
  dir: string,
): Promise<T | null> {
  for (const d of drives) {
    const raw = await d?.readCached(`${dir}/upload.json`).catch(() => null);
    if (!raw) continue;
    try {
      return JSON.parse(raw.toString('utf8')) as T;
    } catch {
      // a corrupt copy: the next drive's
    }
  }
  return null;
}
