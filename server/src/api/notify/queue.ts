// A target's event queue on disk (at-least-once delivery): one file per event, named by a sequence number that
// only grows, written (temporary name, then rename) before the request that caused it is answered, removed
// once the target has taken it. Reopened after a restart, it continues where it was; events are handed out in
// sequence order, so those of one key keep their order. Like object data, files are not fsynced: they survive
// the process being killed, not the machine losing power before the kernel wrote them.
//
// A queue may live in several folders, one per drive (`queueDirs`): each event is written to every one of them,
// and counts as queued once a majority holds it, so losing a drive (or a drive wiped and replaced) loses no
// event. A reopen takes the union of the folders and copies each event back where it is missing; a folder
// that missed a removal (its drive was failing) makes that event go out again: a duplicate, never a loss. A
// folder found gone while running (its drive wiped) is made again at the next write, its lost events copied back.
//
// A queue has one consumer (lanes.ts): `take`/`read`/`remove` hand events out in sequence order, and remove
// them in any order as several senders finish them: a restart sends again exactly the events not removed.
import { readFile as readFileCb, rename as renameCb, unlink as unlinkCb } from 'node:fs';
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { unlinkFile, writeFileAtomic } from '@cairn/native';
import { S3Error } from '../../errors.js';

// An event's write is one native step per folder (the file written under a temporary name, then renamed: the
// addon's writeFileAtomic, files.ts), and its removal one unlink per folder; node's writeFile + rename took four
// pool round trips (open, write, close, rename), its unlink one per file. The steps of one queue asked for in one
// turn of the event loop share a pool task (files.ts, up to 16: the copies of about five events), all folders
// together: an event's write or removal waits for every folder anyway, so a hung drive holds it up either way.
// Reads and repairs go through node's callback API, which costs less CPU than fs/promises (a FileHandle and its
// bookkeeping per call).
const readFile = promisify(readFileCb) as (path: string, encoding: 'utf8') => Promise<string>;
const rename = promisify(renameCb);
const unlink = promisify(unlinkCb);

const EVENT_FILE = /^([0-9a-f]{16})\.event$/;
const name = (seq: number) => `${seq.toString(16).padStart(16, '0')}.event`;
/** Copies made at once when a reopen fills a folder that lacks events. */
const REPAIR_CONCURRENCY = 16;

/**
 * Events kept in memory as written, up to this many, so the consumer reads them without going back to the disk
 * (a readFile per event); beyond it (a target down, the queue growing) events are read from their files.
 */
const KEPT_MAX = 1024;

/** Drives a queue is mirrored on, at most (its events are written to each): one folder per drive. */
export const QUEUE_COPIES = 3;

/** The folders of a queue at `sub` on the first QUEUE_COPIES of these system folders (one per drive). */
export const queueDirs = (systemDirs: readonly string[], ...sub: string[]): string[] =>
  systemDirs.slice(0, QUEUE_COPIES).map((d) => join(d, ...sub));

const isMissing = (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOENT';

export class EventQueue {
  /** Sequence numbers of the events on disk, oldest first (a Set keeps insertion order; seqs only grow). */
  private readonly pending = new Set<number>();
  /** Events on disk not handed out by `take` yet, oldest first, from `unsentHead` on. */
  private unsent: number[] = [];
  private unsentHead = 0;
  private nextSeq = 1;
  /** Writes under way, and the outcome of those done before an earlier one (not handed out yet). */
  private writes = 0;
  private readonly settled = new Map<number, boolean>();
  /** The next sequence number to hand to the consumer once written. */
  private nextPublish = 1;
  private wake: (() => void) | undefined;
  private emptied: (() => void)[] = [];
  /** Events being removed (their files being unlinked), and folders being made again (`remake`). */
  private readonly removing = new Set<number>();
  private readonly remaking = new Map<string, Promise<void>>();
  /** Events refused because the queue was full (counted since start). */
  dropped = 0;
  /** The data of events written in this run and not read yet (at most KEPT_MAX). */
  private readonly kept = new Map<number, string>();

  /** Folders that must hold an event for it to count as queued: a majority of them. */
  private readonly quorum: number;
  /** What the writes and removals of this queue share pool tasks by (files.ts): all its folders together. */
  private readonly batch: string;

  private constructor(
    /** The folders the queue is written to (those that could be opened). */
    readonly dirs: string[],
    configured: number,
    readonly limit: number,
  ) {
    this.quorum = Math.floor(configured / 2) + 1;
    this.batch = `event queue ${dirs.join(' ')}`;
  }

  /**
   * Opens (creating them if needed) the queue in `dirs` (one folder, or one per drive): the events a previous
   * run left in any of them are kept, and copied to those that lack them. A folder that cannot be opened is left
   * out (its events are read from the others); when none can, this throws.
   */
  static async open(dirs: string | readonly string[], limit: number): Promise<EventQueue> {
    const all = typeof dirs === 'string' ? [dirs] : [...dirs];
    const listed = await Promise.allSettled(
      all.map(async (dir) => {
        await mkdir(dir, { recursive: true });
        const seqs = new Set<number>();
        for (const f of await readdir(dir)) {
          const m = EVENT_FILE.exec(f);
          if (m) seqs.add(Number.parseInt(m[1], 16));
          else if (f.endsWith('.tmp')) await unlink(join(dir, f)).catch(() => {}); // a write cut short
        }
        return { dir, seqs };
      }),
    );
    const open = listed.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    if (open.length === 0) throw (listed[0] as PromiseRejectedResult).reason;
    const q = new EventQueue(
      open.map((o) => o.dir),
      all.length,
      limit,
    );
    const union = new Set<number>();
    for (const o of open) for (const seq of o.seqs) union.add(seq);
    q.unsent = [...union].sort((a, b) => a - b);
    for (const seq of q.unsent) q.pending.add(seq);
    q.nextSeq = (q.unsent.at(-1) ?? 0) + 1;
    q.nextPublish = q.nextSeq;
    // Each event back on every folder (a drive wiped, or one that missed writes): best effort.
    const repairs = open.flatMap((o) =>
      q.unsent
        .filter((seq) => !o.seqs.has(seq))
        .map((seq) => ({ to: o.dir, seq, from: open.find((h) => h.seqs.has(seq))!.dir })),
    );
    for (let i = 0; i < repairs.length; i += REPAIR_CONCURRENCY)
      await Promise.all(
        repairs.slice(i, i + REPAIR_CONCURRENCY).map(async ({ to, seq, from }) => {
          const tmp = join(to, `${name(seq)}.tmp`);
          try {
            await copyFile(join(from, name(seq)), tmp);
            await rename(tmp, join(to, name(seq)));
          } catch {
            await unlink(tmp).catch(() => {});
          }
        }),
      );
    return q;
  }

  /** Events waiting for the target (a cheap getter for metrics). */
  get length(): number {
    return this.pending.size;
  }

  /**
   * Stores an event; resolves once it is on disk. SlowDown when the queue holds `limit` events. Writes run
   * concurrently (one after the other, every request's answer would wait for all the writes queued before
   * its own); an event is handed to the consumer once it and every earlier one are written (or failed), so
   * the consumer sees them in sequence order.
   */
  async push(data: string): Promise<void> {
    if (this.pending.size + this.writes >= this.limit) {
      this.dropped++;
      throw new S3Error('SlowDown', `the event queue in ${this.dirs[0]} is full (${this.limit} events)`);
    }
    const seq = this.nextSeq++;
    this.writes++;
    const bytes = Buffer.from(data);
    const written = await Promise.allSettled(
      this.dirs.map(async (dir) => {
        // On a failure the native step removes the temporary file itself.
        const write = () => writeFileAtomic(join(dir, `${name(seq)}.tmp`), bytes, join(dir, name(seq)), this.batch);
        try {
          await write();
        } catch (e) {
          // The folder is gone (its drive wiped while running): made again, with the events it lost.
          if (!isMissing(e)) throw e;
          await this.remake(dir);
          await write();
        }
      }),
    );
    if (written.filter((w) => w.status === 'fulfilled').length < this.quorum) {
      // Not queued: the copies that were written go too (a restart would send an event its request never had).
      await this.unlinkAll(seq).catch(() => {});
      this.settle(seq, false);
      throw (
        (written.find((w) => w.status === 'rejected') as PromiseRejectedResult | undefined)?.reason ??
        new Error(`the event queue in ${this.dirs[0]} has too few folders left (${this.dirs.length})`)
      );
    }
    if (this.kept.size < KEPT_MAX) this.kept.set(seq, data);
    this.settle(seq, true);
  }

  /**
   * Makes folder `dir` again (its drive was wiped while the queue ran) and copies back, from the other folders,
   * the events waiting that it lost, as a reopen would. One remake per folder at a time; the copies are best
   * effort (an event the others cannot give stays on them).
   */
  private remake(dir: string): Promise<void> {
    let p = this.remaking.get(dir);
    if (!p) {
      p = (async () => {
        await mkdir(dir, { recursive: true });
        const have = new Set(await readdir(dir));
        const others = this.dirs.filter((d) => d !== dir);
        const lost = [...this.pending].filter((seq) => !have.has(name(seq)));
        for (let i = 0; i < lost.length; i += REPAIR_CONCURRENCY)
          await Promise.all(lost.slice(i, i + REPAIR_CONCURRENCY).map((seq) => this.copyBack(seq, others, dir)));
      })().finally(() => this.remaking.delete(dir));
      this.remaking.set(dir, p);
    }
    return p;
  }

  /** Copies event `seq` from the first of `from` that has it into `to`, unless it was removed meanwhile. */
  private async copyBack(seq: number, from: string[], to: string): Promise<void> {
    const tmp = join(to, `${name(seq)}.tmp`);
    for (const dir of from) {
      try {
        await copyFile(join(dir, name(seq)), tmp);
        await rename(tmp, join(to, name(seq)));
        // Removed while being copied: the removal may have passed this folder already.
        if (!this.pending.has(seq) || this.removing.has(seq)) await unlink(join(to, name(seq))).catch(() => {});
        return;
      } catch {
        await unlink(tmp).catch(() => {});
      }
    }
  }

  /** Records a write's outcome and hands the consumer every event written up to the first one still writing. */
  private settle(seq: number, written: boolean): void {
    this.writes--;
    this.settled.set(seq, written);
    let published = false;
    for (let ok = this.settled.get(this.nextPublish); ok !== undefined; ok = this.settled.get(this.nextPublish)) {
      this.settled.delete(this.nextPublish);
      if (ok) {
        this.pending.add(this.nextPublish);
        this.unsent.push(this.nextPublish);
        published = true;
      }
      this.nextPublish++;
    }
    if (published) this.wake?.();
  }

  /** Waits until `ready()` holds or `signal` aborts (one waiter at a time: the queue's one consumer). */
  private async waitFor(ready: () => boolean, signal: AbortSignal): Promise<boolean> {
    while (!ready()) {
      if (signal.aborted) return false;
      await new Promise<void>((resolve) => {
        const aborted = () => resolve();
        this.wake = () => {
          signal.removeEventListener('abort', aborted);
          resolve();
        };
        signal.addEventListener('abort', aborted, { once: true });
      });
      this.wake = undefined;
    }
    return true;
  }

  /**
   * The sequence number of the oldest event not handed out yet (each is handed out once per run), waiting for
   * one; undefined once `signal` aborts. The event stays on disk until `remove`.
   */
  async take(signal: AbortSignal): Promise<number | undefined> {
    if (!(await this.waitFor(() => this.unsentHead < this.unsent.length, signal))) return undefined;
    const seq = this.unsent[this.unsentHead++];
    // Give the handed-out head back now and then (not per take: that would copy the array each time).
    if (this.unsentHead >= 1024 && this.unsentHead * 2 >= this.unsent.length) {
      this.unsent = this.unsent.slice(this.unsentHead);
      this.unsentHead = 0;
    }
    return seq;
  }

  /** The event `seq` as stored: as it was written when kept in memory, else from the first folder that has it. */
  async read(seq: number): Promise<string> {
    const kept = this.kept.get(seq);
    if (kept !== undefined) {
      this.kept.delete(seq);
      return kept;
    }
    let error: unknown;
    for (const dir of this.dirs) {
      try {
        return await readFile(join(dir, name(seq)), 'utf8');
      } catch (e) {
        if (error === undefined || !isMissing(e)) error = e;
      }
    }
    throw error;
  }

  /**
   * Removes event `seq` (delivered, or given up on), whatever its place in the queue. Throws when a folder kept
   * its copy (it goes out again after a restart).
   */
  async remove(seq: number): Promise<void> {
    this.kept.delete(seq);
    if (!this.pending.has(seq)) return;
    this.removing.add(seq);
    try {
      await this.unlinkAll(seq);
    } finally {
      this.removing.delete(seq);
      this.pending.delete(seq);
      if (this.pending.size === 0) for (const resolve of this.emptied.splice(0)) resolve();
    }
  }

  /** Unlinks event `seq` from every folder; throws the first failure other than a missing file. */
  private async unlinkAll(seq: number): Promise<void> {
    const results = await Promise.allSettled(this.dirs.map((dir) => unlinkFile(join(dir, name(seq)), this.batch)));
    const failed = results.find((r) => r.status === 'rejected' && !isMissing(r.reason));
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }

  /** Resolves once no event waits (at once when none does). */
  empty(): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptied.push(resolve));
  }
}
