// Per-directory listing journal (`_idx`, one per directory per drive): JSON lines saying, for each object
// entry of the directory, the size/ETag/mtime of its latest version. Listing reads it instead of one
// metadata file per object. Writers append a "pending" line before touching an object and the result
// after, so a crash in between leaves "pending" and the listing reads that object's metadata instead.
import { writeWhole, type LocalDrive } from '../drive/local-drive.js';
import type { KeyedMutex } from '../engine/locks.js';
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
  if (v.storageClass !== 'STANDARD') l.c = v.storageClass;
  if (v.type === 'delete') l.d = 1;
  return l;
}

export class Journals {
  /** Lines waiting for the next append of each journal (group commit: one write for many records). */
  private batches = new Map<string, { text: string; done: Promise<void> }>();
  private inflight = new Set<Promise<void>>();
  private appended = new Map<string, number>();

  constructor(private readonly mutex: KeyedMutex) {}

  async append(drive: LocalDrive, dirRel: string, recs: JournalRec[]): Promise<void> {
    const id = `${drive.root}\0${dirRel}`;
    let b = this.batches.get(id);
    if (!b) {
      const batch = { text: '', done: Promise.resolve() };
      batch.done = this.mutex.run(id, async () => {
        this.batches.delete(id);
        await writeWhole(drive.abs(`${dirRel}/${JOURNAL}`), batch.text, 'a');
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
  async read(
    drive: LocalDrive,
    dirRel: string,
  ): Promise<{ recs: Map<string, JournalRec>; lines: number; live: number } | null> {
    const raw = await drive.read(`${dirRel}/${JOURNAL}`);
    if (!raw) return null;
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

  /** Rewrite the journal with one line per live entry (when it has grown much longer than that). */
  async compact(drive: LocalDrive, dirRel: string): Promise<void> {
    await this.mutex.run(`${drive.root}\0${dirRel}`, async () => {
      const now = await this.read(drive, dirRel);
      if (!now || !needsCompaction(now)) return;
      const text = [...now.recs.values()]
        .filter((r) => !('x' in r))
        .map((r) => JSON.stringify(r))
        .join('\n');
      await drive.writeAtomic(`${dirRel}/${JOURNAL}`, text ? `${text}\n` : '');
    });
  }

  /** Delete the journal of a directory that holds nothing else, so the directory itself can go. */
  async dropIfEmpty(drive: LocalDrive, dirRel: string): Promise<void> {
    await this.mutex.run(`${drive.root}\0${dirRel}`, async () => {
      const names = await drive.list(dirRel);
      if (names && names.length === 1 && names[0] === JOURNAL) await drive.unlinkIfExists(`${dirRel}/${JOURNAL}`);
    });
  }
}

/** A journal much longer than its live entries (overwrites, deletes) is worth rewriting. */
export function needsCompaction(j: { lines: number; live: number }): boolean {
  return j.lines > 2 * j.live + 1000;
}
