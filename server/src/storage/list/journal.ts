// Per-directory listing journal (`_idx`, one per directory per drive): JSON lines saying, for each object
// entry of the directory, the size/ETag/mtime of its latest version. Listing reads it instead of one
// metadata file per object. Writers append a "pending" line before touching an object and the result
// after, so a crash in between leaves "pending" and the listing reads that object's metadata instead.
//
// Several processes may append to one journal (workers sharing the drives): each append is one write(2)
// in O_APPEND mode, so lines never interleave, and the lines of one entry are ordered by the object's lock
// (held until they are written). Rewriting a journal (compaction, dropping an empty one) takes a lock of
// its own; an append that finds its file replaced meanwhile writes its lines again to the new one, and the
// compactor carries lines appended during its rewrite over as "pending".
import { type Locks, withLock, type KeyedMutex } from '../coordination.js';
import type { Drive, Grouping } from '../drive/drive.js';
import type { VersionRecord } from '../meta/meta-file.js';
import { objectSize } from '../meta/versions.js';

export const JOURNAL = '_idx';
/** Appended lines per journal after which a compaction check runs. */
const COMPACT_CHECK_EVERY = 20_000;

/**
 * Latest version of an entry: size, etag, mtime, version id (absent: 'null'), storage class (absent:
 * STANDARD), delete marker. Short names and omitted defaults: journals are parsed 100k lines at a time.
 */
export interface Latest {
  s: number;
  e: string;
  m: number;
  v?: string;
  c?: string;
  d?: 1;
}

export type JournalRec = { n: string; p: 1 } | { n: string; l: Latest } | { n: string; x: 1 };

export function latestOf(versions: VersionRecord[]): Latest | null {
  const v = versions[0];
  if (!v) return null;
  const l: Latest = { s: objectSize(v), e: v.etag, m: v.mtime };
  if (v.id !== 'null') l.v = v.id;
  const shown = v.tier?.tier ?? v.storageClass; // a transitioned version shows its tier
  if (shown !== 'STANDARD') l.c = shown;
  if (v.type === 'delete') l.d = 1;
  return l;
}

/** The same latest (both none, or every field alike): what a change leaves the entry's line as it is. */
export function sameLatest(a: Latest | null, b: Latest | null): boolean {
  if (a === null || b === null) return a === b;
  return a.s === b.s && a.e === b.e && a.m === b.m && a.v === b.v && a.c === b.c && a.d === b.d;
}

export class Journals {
  /** Lines waiting for the next append of each journal (group commit: one write for many records). */
  private batches = new Map<string, { text: string; done: Promise<void> }>();
  private inflight = new Set<Promise<void>>();
  private appended = new Map<string, number>();

  /**
   * `mutex` orders this process's writes of a journal; `locks` (across processes) guards rewrites;
   * `shared`: other processes append too, so every append checks that its file was not replaced.
   */
  constructor(
    private readonly mutex: KeyedMutex,
    private readonly locks: Locks,
    private readonly shared: boolean,
  ) {}

  /** `opts.grouped`: the write shares a pool task with the same turn's writes on the set's other drives. */
  async append(drive: Drive, dirRel: string, recs: JournalRec[], opts?: Grouping): Promise<void> {
    const id = `${drive.endpoint}\0${dirRel}`;
    let b = this.batches.get(id);
    if (!b) {
      const batch = { text: '', done: Promise.resolve() };
      batch.done = this.mutex.run(id, async () => {
        this.batches.delete(id);
        const rel = `${dirRel}/${JOURNAL}`;
        if (!this.shared) return void (await drive.append(rel, batch.text, false, opts));
        // Replaced by another process's compaction after we opened it: the lines go to the new file too.
        for (let i = 0; i < 3 && !(await drive.append(rel, batch.text, true, opts)); i++);
      });
      this.batches.set(id, batch);
      this.inflight.add(batch.done);
      void batch.done.catch(() => {}).finally(() => this.inflight.delete(batch.done));
      b = batch;
    }
    for (const r of recs) b.text += `${JSON.stringify(r)}\n`;
    // Overwrites add lines without adding entries: now and then, see whether the journal needs compacting.
    const n = (this.appended.get(id) ?? 0) + recs.length;
    if (n >= COMPACT_CHECK_EVERY) {
      this.appended.delete(id);
      void b.done.then(() => this.compact(drive, dirRel)).catch(() => {});
    } else this.appended.set(id, n);
    return b.done;
  }

  /** Wait for the lines not yet written (close). */
  async flush(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  /** Last record per entry name, and how many lines the file has (for compaction). */
  read(drive: Drive, dirRel: string): Promise<ParsedJournal | null> {
    return readJournal(drive, dirRel);
  }

  /** A rewrite of the journal: this process's writes of it and every process's rewrites wait. */
  private rewriting(drive: Drive, dirRel: string, fn: () => Promise<void>): Promise<void> {
    return this.mutex.run(`${drive.endpoint}\0${dirRel}`, () =>
      withLock(this.locks, `journal\0${drive.driveId}\0${dirRel}`, fn),
    );
  }

  /** Rewrite the journal with one line per live entry (when it has grown much longer than that). */
  async compact(drive: Drive, dirRel: string): Promise<void> {
    await this.rewriting(drive, dirRel, async () => {
      const rel = `${dirRel}/${JOURNAL}`;
      const all = await drive.read(rel);
      if (!all) return;
      // Whole lines only: an append may be half-way in (it is carried over below, whole).
      const raw = all.subarray(0, all.lastIndexOf(0x0a) + 1);
      const now = parseJournal(raw);
      if (!needsCompaction(now)) return;
      const text = [...now.recs.values()]
        .filter((r) => !('x' in r))
        .map((r) => JSON.stringify(r))
        .join('\n');
      // Lines that landed in the old file after it was read: their entries changed, but their order
      // against lines already in the new file is unknown, so they come over as "pending" (read the
      // metadata). An appender that saw its file replaced writes its own lines again (append).
      const tail = await drive.replaceLog(rel, text ? `${text}\n` : '', raw.length);
      if (tail && tail.length > 0) {
        const names = [...parseJournal(tail).recs.keys()];
        const pending = names.map((n) => `${JSON.stringify({ n, p: 1 })}\n`).join('');
        if (pending) await drive.append(rel, pending, true);
      }
    });
  }

  /** Delete the journal of a directory that holds nothing else, so the directory itself can go. */
  async dropIfEmpty(drive: Drive, dirRel: string): Promise<void> {
    await this.rewriting(drive, dirRel, async () => {
      const names = await drive.list(dirRel);
      if (names && names.length === 1 && names[0] === JOURNAL) await drive.unlinkIfExists(`${dirRel}/${JOURNAL}`);
    });
  }
}

/** A directory's journal on one drive, parsed; null when it has none. */
export async function readJournal(drive: Drive, dirRel: string): Promise<ParsedJournal | null> {
  const raw = await drive.read(`${dirRel}/${JOURNAL}`);
  return raw ? parseJournal(raw) : null;
}

export interface ParsedJournal {
  recs: Map<string, JournalRec>;
  lines: number;
  live: number;
}

/** Last record per entry name, the number of lines and of live (not deleted) entries. */
export function parseJournal(raw: Buffer): ParsedJournal {
  const recs = new Map<string, JournalRec>();
  const text = raw.toString('utf8').trimEnd();
  if (!text) return { recs, lines: 0, live: 0 };
  let all: JournalRec[];
  try {
    // One parse of the whole file is several times faster than one per line.
    all = JSON.parse(`[${text.replaceAll('\n', ',')}]`) as JournalRec[];
  } catch {
    // A torn last line after a crash: parse line by line and skip the broken one (that entry falls
    // back to its metadata file).
    all = [];
    for (const line of text.split('\n')) {
      try {
        all.push(JSON.parse(line) as JournalRec);
      } catch {
        // skipped
      }
    }
  }
  for (const r of all) if (r && typeof r.n === 'string') recs.set(r.n, r);
  const lines = all.length;
  let live = 0;
  for (const r of recs.values()) if (!('x' in r)) live++;
  return { recs, lines, live };
}

/** A journal much longer than its live entries (overwrites, deletes) is worth rewriting. */
export function needsCompaction(j: { lines: number; live: number }): boolean {
  return j.lines > 2 * j.live + 1000;
}
