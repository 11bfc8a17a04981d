// A target's event queue on disk (at-least-once delivery), by group commit: the events pushed in one turn of the
// event loop go to one segment file (segment.ts), written (temporary name, then rename) before any of their
// requests is answered, and removed once all of its events are delivered. An event delivered while others of its
// segment wait is appended to an acknowledgement log, so a restart sends again only the events not delivered, and
// those whose delivery was under way. Removals are group-committed too: those asked for until the next segment
// write (at most REMOVE_WAIT_MS) go with it, their file operations in its pool task. Events are numbered by a
// sequence that only grows and handed out in that order, so those of one key keep their order. Like object data,
// files are not fsynced: they survive the process being killed, not the machine losing power before the kernel
// wrote them.
//
// A queue may live in several folders, one per drive (`queueDirs`): each segment and each acknowledgement is
// written to every one of them, and an event counts as queued once a majority holds its segment, so losing a
// drive (or a drive wiped and replaced) loses no event. A reopen takes the union of the folders (segments and
// acknowledgements) and copies each segment back where it is missing; a folder that missed a removal makes those
// events go out again: a duplicate, never a loss. A folder found gone while running (its drive wiped) is made
// again at the next write, the segments it lost copied back.
//
// A queue moves to other folders when the drives it lives on leave (a server pool being decommissioned, main.ts):
// live (`moveTo`), or at open (`from`: folders it lived in before, e.g. a move cut short by a restart). Writes go
// to the new folders at once; once those under way are done, each segment left is copied onto a majority of the
// new folders, one acknowledgement log written there naming every event removed from them, and the old folders
// emptied. Reads and removals look in both places meanwhile; the sequence goes on, so an event has one number
// wherever its copies are and the union of both places is always the queue (a duplicate at worst, never a loss).
//
// A queue has one consumer (lanes.ts): `take`/`read`/`remove` hand events out in sequence order, and remove
// them in any order as several senders finish them.
//
// Each segment's name carries the time its events were pushed (segment.ts), so the queue's lag is a time that
// survives a restart: `oldestAt` is the push time of the oldest event not removed yet.
import { readFile as readFileCb, rename as renameCb, unlink as unlinkCb } from 'node:fs';
import { access, copyFile, mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { unlinkFile, writeFile, writeFileAtomic } from '@cairn/native';
import { S3Error } from '../../errors.js';
import { joinUnder, rootPrefix } from '../../storage/drive/local-drive.js';
import {
  acksName,
  decodeAcks,
  decodeSegment,
  encodeAcks,
  encodeSegment,
  hex16,
  parseName,
  segmentName,
} from './segment.js';

// Writes, appends and removals are native steps (files.ts): those of one queue asked for in one turn share a
// pool task, all folders together. Reads and repairs go through node's callback API (cheaper than fs/promises).
const readFile = promisify(readFileCb) as (path: string) => Promise<Buffer>;
const rename = promisify(renameCb);
const unlink = promisify(unlinkCb);

/** Copies made at once when a reopen fills a folder that lacks segments. */
const REPAIR_CONCURRENCY = 16;
/** Events in one segment at most (a turn with more writes several): what a crash may send again per segment. */
export const SEGMENT_MAX = 256;
/** Acknowledgements per log before the next goes to a new one (a log goes once no segment it names is left). */
const ACKS_PER_LOG = 4096;

/**
 * How long removals wait for a segment write to go with (ms) while the consumer keeps up: the removals of a
 * delivered event (unlinks, or an acknowledgement append) then share the pool task of the next turn's segment
 * write instead of taking one of their own. With events waiting to be handed out (a backlog: no push to wait
 * for) they go at the end of the turn, as the removals of that turn's deliveries.
 */
export const REMOVE_WAIT_MS = 5;

/**
 * Events kept in memory as written, up to this many, so the consumer reads them without going back to the disk;
 * beyond it (a target down, the queue growing) events are read from their segments.
 */
const KEPT_MAX = 1024;

/** Drives a queue is mirrored on, at most (its segments are written to each): one folder per drive. */
export const QUEUE_COPIES = 3;

/** The folders of a queue at `sub` on the first QUEUE_COPIES of these system folders (one per drive). */
export const queueDirs = (systemDirs: readonly string[], ...sub: string[]): string[] =>
  systemDirs.slice(0, QUEUE_COPIES).map((d) => join(d, ...sub));

const isMissing = (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOENT';

/** A segment on disk with events not yet removed. */
interface Segment {
  first: number;
  count: number;
  file: string;
  legacy: boolean;
  /** When its events were pushed (ms since 1970). */
  at: number;
  /** Its events not removed yet; at 0 its files go. */
  left: number;
  /** The acknowledgement logs holding acknowledgements of its events. */
  logs: Set<AckLog>;
  /** Its files are being (or were) removed. */
  gone: boolean;
}

interface AckLog {
  gen: number;
  file: string;
  records: number;
  /** Segments still on disk it holds acknowledgements of: once none, it goes. */
  segments: Set<Segment>;
  /** Appends under way. */
  writing: number;
}

/** Pushes of one turn, written as one segment. */
interface Batch {
  first: number;
  /** When its first event was pushed (ms). */
  at: number;
  events: string[];
  result: Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** An event removed (`remove`) whose removal is not on disk yet: it waits for the next flush of removals. */
interface Removal {
  seq: number;
  seg: Segment;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** The removals asked for since the last flush, and when the first was (ms, performance.now). */
interface Removals {
  items: Removal[];
  since: number;
}

export class EventQueue {
  /** Sequence numbers of the events on disk not removed, oldest first (a Set keeps insertion order). */
  private readonly pending = new Set<number>();
  /** The segment of each event in `pending`. */
  private readonly segOf = new Map<number, Segment>();
  /** Segments on disk, by their first sequence number. */
  private readonly segments = new Map<number, Segment>();
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
  private open: Batch | undefined;
  private removals: Removals | undefined;
  /**
   * Flushes the removals that waited REMOVE_WAIT_MS. One per queue, not cleared by a flush (a cleared timer still
   * wakes the event loop at its time): at most one wake-up per REMOVE_WAIT_MS, not one per removal.
   */
  private removalTimer: NodeJS.Timeout | undefined;
  private readonly logs = new Set<AckLog>();
  private currentLog: AckLog | undefined;
  private nextGen = 1;
  /** The segment last read back from disk (the consumer reads in order). */
  private loaded: { seg: Segment; events: Promise<string[]> } | undefined;
  private readonly remaking = new Map<string, Promise<void>>();
  /** Events refused because the queue was full (counted since start). */
  dropped = 0;
  /** The data of events written in this run and not read yet (at most KEPT_MAX). */
  private readonly kept = new Map<number, string>();

  /** Folders that must hold a segment for its events to count as queued: a majority of them. */
  private quorum: number;
  /** Folders the queue is moving out of (moveTo, open's `from`): read and removed from too until it has left. */
  private leaving: string[] = [];
  /** Segment writes and acknowledgement appends under way (a move waits for those to the old folders). */
  private readonly inflight = new Set<Promise<void>>();
  /** The move under way, if any (moves run one after the other). */
  private moving: Promise<void> = Promise.resolve();
  /** What the writes and removals of this queue share pool tasks by (files.ts): all its folders together. */
  private readonly batch: string;
  /** Each folder's path.join(dir, '/') (fileIn). */
  private readonly prefixes = new Map<string, string | undefined>();

  private constructor(
    /** The folders the queue is written to (those that could be opened; moveTo changes them). */
    public dirs: string[],
    configured: number,
    readonly limit: number,
  ) {
    this.quorum = Math.floor(configured / 2) + 1;
    this.batch = `event queue ${dirs.join(' ')}`;
  }

  /**
   * Opens (creating them if needed) the queue in `dirs` (one folder, or one per drive): the events a previous
   * run left in any of them and no folder acknowledges are kept, and segments copied to the folders that lack
   * them. A folder that cannot be opened is left out (its events are read from the others); when none can, this
   * throws. `from`: folders the queue lived in before (a move cut short): their events are taken in, copied into
   * `dirs`, and removed from them (left there, and read from there, when they could not be copied).
   */
  static async open(
    dirs: string | readonly string[],
    limit: number,
    from: readonly string[] = [],
  ): Promise<EventQueue> {
    const all = typeof dirs === 'string' ? [dirs] : [...dirs];
    const listed = await Promise.allSettled(
      [...all, ...from.filter((d) => !all.includes(d))].map(async (dir) => {
        if (all.includes(dir)) await mkdir(dir, { recursive: true }); // a former folder absent: nothing there
        const files = new Set<string>();
        /** Segments named without their push time: their files' modification times. */
        const mtimes = new Map<string, number>();
        for (const f of await readdir(dir)) {
          const p = parseName(f);
          if (p?.kind === 'tmp')
            await unlink(join(dir, f)).catch(() => {}); // a write cut short
          else if (p) {
            files.add(f);
            if (p.kind === 'segment' && p.at === undefined)
              mtimes.set(f, await stat(join(dir, f)).then((st) => st.mtimeMs, Date.now));
          }
        }
        return { dir, files, mtimes };
      }),
    );
    const found = listed.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const open = found.filter((o) => all.includes(o.dir));
    if (open.length === 0) throw (listed[0] as PromiseRejectedResult).reason;
    const q = new EventQueue(
      open.map((o) => o.dir),
      all.length,
      limit,
    );
    q.leaving = found.filter((o) => !all.includes(o.dir) && o.files.size > 0).map((o) => o.dir);
    // The union of the folders: segments by their first event, acknowledgements from every log in any folder.
    const logSeqs = new Map<number, number[]>();
    let top = 0;
    for (const o of found)
      for (const f of o.files) {
        const p = parseName(f)!;
        if (p.kind === 'segment') {
          const at = p.at ?? o.mtimes.get(f) ?? Date.now();
          const have = q.segments.get(p.first);
          // The oldest copy's time, for a name without one (a copy made by a repair is younger).
          if (have) have.at = Math.min(have.at, at);
          else
            q.segments.set(p.first, {
              ...{ first: p.first, count: p.count, file: f, legacy: p.legacy, at, left: 0 },
              ...{ logs: new Set(), gone: false },
            });
          top = Math.max(top, p.first + p.count - 1);
        } else if (p.kind === 'acks') {
          const text = await readFile(join(o.dir, f)).then(String, () => '');
          const seqs = decodeAcks(text);
          logSeqs.set(p.gen, [...(logSeqs.get(p.gen) ?? []), ...seqs]);
          for (const seq of seqs) top = Math.max(top, seq);
        }
      }
    const acked = new Set([...logSeqs.values()].flat());
    const sorted = [...q.segments.values()].sort((a, b) => a.first - b.first);
    for (const seg of sorted)
      for (let seq = seg.first; seq < seg.first + seg.count; seq++)
        if (!acked.has(seq)) {
          seg.left++;
          q.pending.add(seq);
          q.segOf.set(seq, seg);
          q.unsent.push(seq);
        }
    // Logs that still acknowledge events of a segment left stay (until those segments go); the others go now.
    for (const [gen, seqs] of [...logSeqs].sort((a, b) => a[0] - b[0])) {
      const log: AckLog = { gen, file: acksName(gen), records: 0, segments: new Set(), writing: 0 };
      for (const seq of seqs) {
        const seg = segmentAt(sorted, seq);
        if (seg && seg.left > 0) log.segments.add(seg);
      }
      q.nextGen = gen + 1;
      if (log.segments.size === 0) await q.unlinkAll(log.file).catch(() => {});
      else {
        q.logs.add(log);
        for (const seg of log.segments) seg.logs.add(log);
      }
    }
    // Segments whose events were all acknowledged (their removal cut short) go.
    for (const seg of sorted)
      if (seg.left === 0) {
        q.segments.delete(seg.first);
        await q.unlinkAll(seg.file).catch(() => {});
      }
    // Sequence numbers never go back, not even past an empty queue: an acknowledgement left in a folder absent
    // now must not match a later event. Microseconds of the clock, or past what the folders hold.
    q.nextSeq = Math.max(top + 1, Date.now() * 1000);
    q.nextPublish = q.nextSeq;
    // Each segment back on every folder (a drive wiped, or one that missed writes): best effort.
    const repairs = open.flatMap((o) =>
      [...q.segments.values()]
        .filter((seg) => !o.files.has(seg.file))
        .map((seg) => ({ to: o.dir, seg, from: found.find((h) => h.files.has(seg.file))!.dir })),
    );
    for (let i = 0; i < repairs.length; i += REPAIR_CONCURRENCY)
      await Promise.all(repairs.slice(i, i + REPAIR_CONCURRENCY).map((r) => q.copyBack(r.seg, [r.from], r.to)));
    // Folders moved from: emptied once what they hold is on a majority of the queue's own (else read from there).
    if (q.leaving.length > 0) await q.leave().catch(() => {});
    return q;
  }

  /**
   * Moves the queue into `dirs` while it runs (the drives it is on are leaving): new segments go there at once;
   * once the writes under way are done, each segment left is copied onto a majority of them, the events removed
   * from those segments written there in one acknowledgement log, and the old folders emptied. Throws when a
   * segment could not be copied onto a majority (it stays in, and is read from, the old folders; a later move or
   * a reopen with them as `from` tries again).
   */
  moveTo(dirs: readonly string[]): Promise<void> {
    const move = this.moving.then(() => this.move([...dirs]));
    this.moving = move.catch(() => {});
    return move;
  }

  private async move(next: string[]): Promise<void> {
    const same = next.length === this.dirs.length && next.every((d, i) => d === this.dirs[i]);
    if (!same) {
      const quorum = Math.floor(next.length / 2) + 1;
      const made = await Promise.allSettled(next.map((d) => mkdir(d, { recursive: true })));
      if (made.filter((m) => m.status === 'fulfilled').length < quorum)
        throw (made.find((m) => m.status === 'rejected') as PromiseRejectedResult).reason;
      this.leaving = [...new Set([...this.leaving, ...this.dirs])].filter((d) => !next.includes(d));
      this.dirs = next;
      this.quorum = quorum;
    }
    if (this.leaving.length === 0) return;
    // Segments written before the switch are in the old folders only, and known once their write is done.
    await Promise.allSettled([...this.inflight]);
    await this.leave();
  }

  /**
   * Copies every segment left onto the queue's folders from those it is leaving, writes the acknowledgements of
   * their removed events there, then empties the folders left (queue files only; best effort: a file left there
   * goes out again only if that folder is given back as `from`). Throws when a segment is short of a majority.
   */
  private async leave(): Promise<void> {
    const segs = [...this.segments.values()];
    let short = 0;
    for (let i = 0; i < segs.length; i += REPAIR_CONCURRENCY)
      await Promise.all(
        segs.slice(i, i + REPAIR_CONCURRENCY).map(async (seg) => {
          const copied = await Promise.all(this.dirs.map((to) => this.copyIn(seg, to)));
          if (!seg.gone && copied.filter(Boolean).length < this.quorum) short++;
        }),
      );
    if (short > 0)
      throw new Error(
        `the event queue could not leave ${this.leaving.join(' ')}: ${short} segments not copied onto a majority of ${this.dirs.join(' ')}`,
      );
    await this.writeAcksOfLeft();
    const leaving = this.leaving;
    this.leaving = [];
    await Promise.all(
      leaving.map(async (dir) => {
        const names = await readdir(dir).catch(() => [] as string[]);
        await Promise.all(names.filter((f) => parseName(f)).map((f) => unlink(join(dir, f)).catch(() => {})));
      }),
    );
  }

  /** Segment `seg` into folder `to` (true once there, or removed meanwhile), from any other folder holding it. */
  private async copyIn(seg: Segment, to: string): Promise<boolean> {
    const there = await access(join(to, seg.file)).then(
      () => true,
      () => false,
    );
    if (there) return true;
    return this.copyBack(seg, [...this.leaving, ...this.dirs.filter((d) => d !== to)], to);
  }

  /**
   * One acknowledgement log, in the queue's folders, naming every event removed from a segment still on disk
   * (the logs that did may be in folders the queue leaves). Throws when no folder took it.
   */
  private async writeAcksOfLeft(): Promise<void> {
    const seqs: number[] = [];
    const log: AckLog = { gen: this.nextGen++, file: '', records: 0, segments: new Set(), writing: 1 };
    log.file = acksName(log.gen);
    for (const seg of this.segments.values())
      for (let seq = seg.first; seq < seg.first + seg.count; seq++)
        if (!this.segOf.has(seq)) {
          seqs.push(seq);
          log.segments.add(seg);
        }
    if (seqs.length === 0) return;
    log.records = seqs.length;
    this.logs.add(log);
    for (const seg of log.segments) seg.logs.add(log);
    const bytes = encodeAcks(seqs);
    try {
      const results = await Promise.allSettled(
        this.dirs.map((dir) =>
          writeFileAtomic(this.fileIn(dir, `${log.file}.tmp`), bytes, this.fileIn(dir, log.file), this.batch),
        ),
      );
      if (!results.some((r) => r.status === 'fulfilled')) throw (results[0] as PromiseRejectedResult).reason;
    } finally {
      log.writing--;
      await this.retire(log);
    }
  }

  /**
   * path.join(dir, file) for a queue file's own name (segment.ts: no `/`), without normalizing the whole path
   * each time: a replicated or notified PUT joined a dozen (segment writes, acknowledgements, removals on three
   * folders), ~6 KiB allocated per replicated object (bench/replication/README.md).
   */
  private fileIn(dir: string, file: string): string {
    let prefix = this.prefixes.get(dir);
    if (prefix === undefined && !this.prefixes.has(dir)) {
      prefix = rootPrefix(dir);
      this.prefixes.set(dir, prefix);
    }
    return joinUnder(dir, prefix, file);
  }

  /** Keeps `p` among the writes under way until it settles. */
  private track(p: Promise<void>): Promise<void> {
    this.inflight.add(p);
    const done = () => this.inflight.delete(p);
    p.then(done, done);
    return p;
  }

  /** Events waiting for the target (a cheap getter for metrics). */
  get length(): number {
    return this.pending.size;
  }

  /**
   * When the oldest event not removed yet was pushed (ms since 1970; undefined when none waits): the queue's lag
   * is now minus this. Cheap (for metrics): the events being removed are skipped, the first other is the oldest.
   */
  oldestAt(): number | undefined {
    for (const seq of this.pending) {
      const seg = this.segOf.get(seq);
      if (seg) return seg.at;
    }
    return undefined;
  }

  /**
   * Stores an event; resolves once it is on disk. SlowDown when the queue holds `limit` events. The events
   * pushed in one turn of the event loop are written together, as one segment; segments are written
   * concurrently, and an event is handed to the consumer once it and every earlier one are written (or failed),
   * so the consumer sees them in sequence order.
   */
  async push(data: string): Promise<void> {
    if (this.pending.size + this.writes >= this.limit) {
      this.dropped++;
      throw new S3Error('SlowDown', `the event queue in ${this.dirs[0]} is full (${this.limit} events)`);
    }
    const seq = this.nextSeq++;
    this.writes++;
    let b = this.open;
    if (!b || b.events.length >= SEGMENT_MAX) {
      let resolve!: () => void;
      let reject!: (e: unknown) => void;
      const result = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      const batch: Batch = { first: seq, at: Date.now(), events: [], result, resolve, reject };
      this.open = b = batch;
      setImmediate(() => void this.track(this.commit(batch)));
    }
    b.events.push(data);
    await b.result;
  }

  /** Writes a turn's pushes as one segment to every folder; settles them (queued when a majority holds it). */
  private async commit(b: Batch): Promise<void> {
    if (this.open === b) this.open = undefined;
    // The removals waiting go in this turn too: their file operations share the segment's pool task.
    this.flushRemovals();
    const count = b.events.length;
    const seg: Segment = {
      ...{ first: b.first, count, file: segmentName(b.first, count, b.at), legacy: false, at: b.at, left: count },
      ...{ logs: new Set<AckLog>(), gone: false },
    };
    const bytes = encodeSegment(b.events);
    const written = await Promise.allSettled(
      this.dirs.map((dir) =>
        // On a failure the native step removes the temporary file itself.
        this.inFolder(dir, () =>
          writeFileAtomic(this.fileIn(dir, `${seg.file}.tmp`), bytes, this.fileIn(dir, seg.file), this.batch),
        ),
      ),
    );
    const ok = written.filter((w) => w.status === 'fulfilled').length >= this.quorum;
    if (ok) {
      this.segments.set(seg.first, seg);
      for (let i = 0; i < count; i++) {
        this.segOf.set(seg.first + i, seg);
        if (this.kept.size < KEPT_MAX) this.kept.set(seg.first + i, b.events[i]);
      }
    } else {
      // Not queued: the copies that were written go too (a restart would send events their requests never had).
      await this.unlinkAll(seg.file).catch(() => {});
    }
    for (let i = 0; i < count; i++) this.settle(seg.first + i, ok);
    if (ok) b.resolve();
    else
      b.reject(
        (written.find((w) => w.status === 'rejected') as PromiseRejectedResult | undefined)?.reason ??
          new Error(`the event queue in ${this.dirs[0]} has too few folders left (${this.dirs.length})`),
      );
  }

  /** Runs `op` on folder `dir`; when the folder is gone (its drive wiped while running), makes it again first. */
  private async inFolder(dir: string, op: () => Promise<void>): Promise<void> {
    try {
      await op();
    } catch (e) {
      if (!isMissing(e)) throw e;
      await this.remake(dir);
      await op();
    }
  }

  /**
   * Makes folder `dir` again (its drive was wiped while the queue ran) and copies back, from the other folders,
   * the segments it lost, as a reopen would. One remake per folder at a time; the copies are best effort (a
   * segment the others cannot give stays on them).
   */
  private remake(dir: string): Promise<void> {
    let p = this.remaking.get(dir);
    if (!p) {
      p = (async () => {
        await mkdir(dir, { recursive: true });
        const have = new Set(await readdir(dir));
        const others = [...this.dirs.filter((d) => d !== dir), ...this.leaving];
        const lost = [...this.segments.values()].filter((seg) => !have.has(seg.file));
        for (let i = 0; i < lost.length; i += REPAIR_CONCURRENCY)
          await Promise.all(lost.slice(i, i + REPAIR_CONCURRENCY).map((seg) => this.copyBack(seg, others, dir)));
      })().finally(() => this.remaking.delete(dir));
      this.remaking.set(dir, p);
    }
    return p;
  }

  /**
   * Copies segment `seg` from the first of `from` that has it into `to`, unless it was removed meanwhile: true
   * once copied, or removed.
   */
  private async copyBack(seg: Segment, from: string[], to: string): Promise<boolean> {
    const tmp = join(to, `${seg.file}.tmp`);
    for (const dir of from) {
      try {
        await copyFile(join(dir, seg.file), tmp);
        await rename(tmp, join(to, seg.file));
        // Removed while being copied: the removal may have passed this folder already.
        if (seg.gone) await unlink(join(to, seg.file)).catch(() => {});
        return true;
      } catch {
        await unlink(tmp).catch(() => {});
      }
    }
    return seg.gone;
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

  /** The event `seq` as stored: as it was written when kept in memory, else from its segment. */
  async read(seq: number): Promise<string> {
    const kept = this.kept.get(seq);
    if (kept !== undefined) {
      this.kept.delete(seq);
      return kept;
    }
    const seg = this.segOf.get(seq);
    if (!seg) throw Object.assign(new Error(`event ${hex16(seq)} is not queued`), { code: 'ENOENT' });
    if (this.loaded?.seg !== seg) this.loaded = { seg, events: this.load(seg) };
    const events = this.loaded.events;
    return (await events)[seq - seg.first];
  }

  /**
   * A segment's events, from the first folder that has it. A move (`leave`) may copy the segment into the new
   * folders after this looked there and empty the old ones before it looks there: when every look missed, the
   * folders as they are now are looked at once more (the copy is done before the old folders are emptied).
   */
  private async load(seg: Segment): Promise<string[]> {
    let error: unknown;
    for (let pass = 0; pass < 2; pass++) {
      for (const dir of [...this.dirs, ...this.leaving]) {
        try {
          return decodeSegment(await readFile(this.fileIn(dir, seg.file)), seg.count, seg.legacy);
        } catch (e) {
          if (error === undefined || !isMissing(e)) error = e;
        }
      }
      if (error === undefined || !isMissing(error)) break;
    }
    throw error;
  }

  /**
   * Removes event `seq` (delivered, or given up on), whatever its place in the queue: the last of its segment
   * removes the segment, the others are acknowledged in the log. Resolves once that is on disk, written with
   * the next segment write (group commit) or within REMOVE_WAIT_MS; throws when it did not reach the disk (the
   * event goes out again after a restart).
   */
  async remove(seq: number): Promise<void> {
    this.kept.delete(seq);
    const seg = this.segOf.get(seq);
    if (!seg || !this.pending.has(seq)) return;
    this.segOf.delete(seq);
    seg.left--;
    try {
      await new Promise<void>((resolve, reject) => this.removeLater({ seq, seg, resolve, reject }));
    } finally {
      this.pending.delete(seq);
      if (this.pending.size === 0) for (const resolve of this.emptied.splice(0)) resolve();
    }
  }

  /**
   * Holds a removal until the next flush: with the next segment write (commit, when one is due this turn or
   * comes within REMOVE_WAIT_MS), or at the end of this turn when events wait to be handed out.
   */
  private removeLater(r: Removal): void {
    let batch = this.removals;
    if (!batch) {
      const b: Removals = { items: [], since: performance.now() };
      this.removals = batch = b;
      if (this.unsentHead < this.unsent.length) setImmediate(() => this.flushRemovals(b));
      else if (!this.open && !this.removalTimer) this.armRemovalTimer(REMOVE_WAIT_MS);
    }
    batch.items.push(r);
  }

  /** In `ms`: flushes the removals waiting if they have waited REMOVE_WAIT_MS, else waits for the rest of it. */
  private armRemovalTimer(ms: number): void {
    this.removalTimer = setTimeout(() => {
      this.removalTimer = undefined;
      const b = this.removals;
      if (!b) return;
      const left = b.since + REMOVE_WAIT_MS - performance.now();
      if (left >= 1) this.armRemovalTimer(left);
      else this.flushRemovals(b);
    }, ms);
  }

  /**
   * Writes the removals waiting (`b`, if still waiting): segments whose events are all removed go, the other
   * events are acknowledged in one append. The file operations are asked for in this turn, so they share a pool
   * task with the other operations of this queue asked for in it (a segment write).
   */
  private flushRemovals(b = this.removals): void {
    if (!b || this.removals !== b) return;
    this.removals = undefined;
    const dropped = new Map<Segment, Promise<void>>();
    const acked: Removal[] = [];
    for (const r of b.items) {
      if (r.seg.left > 0) {
        acked.push(r);
        continue;
      }
      let drop = dropped.get(r.seg);
      if (!drop) dropped.set(r.seg, (drop = this.dropSegment(r.seg)));
      drop.then(r.resolve, r.reject);
    }
    if (acked.length === 0) return;
    const written = this.acknowledge(acked);
    for (const r of acked) written.then(r.resolve, r.reject);
  }

  /** Removes a segment whose events are all delivered, then the logs that acknowledged only its events and gone ones. */
  private async dropSegment(seg: Segment): Promise<void> {
    seg.gone = true;
    this.segments.delete(seg.first);
    if (this.loaded?.seg === seg) this.loaded = undefined;
    try {
      await this.unlinkAll(seg.file);
    } finally {
      const retired: Promise<void>[] = [];
      for (const log of seg.logs) {
        log.segments.delete(seg);
        retired.push(this.retire(log));
      }
      // Resolved once those logs are gone too (a failure only leaves a log that a reopen finds useless).
      await Promise.all(retired);
    }
  }

  /** Appends these removals to the current log, in one append to every folder; resolves once on disk. */
  private acknowledge(removed: readonly Removal[]): Promise<void> {
    let log = this.currentLog;
    if (!log || log.records >= ACKS_PER_LOG) {
      const gen = this.nextGen++;
      log = { gen, file: acksName(gen), records: 0, segments: new Set(), writing: 0 };
      this.logs.add(log);
      this.currentLog = log;
    }
    log.records += removed.length;
    for (const r of removed) {
      log.segments.add(r.seg);
      r.seg.logs.add(log);
    }
    log.writing++;
    return this.track(
      this.appendAcks(
        log,
        removed.map((r) => r.seq),
      ),
    );
  }

  /** Appends acknowledgements to every folder: enough when one holds them (the others may send again). */
  private async appendAcks(log: AckLog, seqs: number[]): Promise<void> {
    const bytes = encodeAcks(seqs);
    try {
      const results = await Promise.allSettled(
        this.dirs.map((dir) =>
          this.inFolder(dir, () => writeFile(this.fileIn(dir, log.file), bytes, true, this.batch)),
        ),
      );
      if (!results.some((r) => r.status === 'fulfilled')) throw (results[0] as PromiseRejectedResult).reason;
    } finally {
      log.writing--;
      await this.retire(log);
    }
  }

  /** Removes a log no segment on disk needs any more (and no append is under way to); never throws. */
  private async retire(log: AckLog): Promise<void> {
    if (log.segments.size > 0 || log.writing > 0 || !this.logs.has(log)) return;
    this.logs.delete(log);
    if (this.currentLog === log) this.currentLog = undefined;
    await this.unlinkAll(log.file).catch(() => {});
  }

  /** Unlinks `file` from every folder; throws the first failure other than a missing file. */
  private async unlinkAll(file: string): Promise<void> {
    const results = await Promise.allSettled(
      [...this.dirs, ...this.leaving].map((dir) => unlinkFile(this.fileIn(dir, file), this.batch)),
    );
    const failed = results.find((r) => r.status === 'rejected' && !isMissing(r.reason));
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }

  /** Resolves once no event waits (at once when none does). */
  empty(): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptied.push(resolve));
  }
}

/** The segment of `sorted` (by first event) that holds event `seq`, if any. */
function segmentAt(sorted: readonly Segment[], seq: number): Segment | undefined {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = sorted[mid];
    if (seq < s.first) hi = mid - 1;
    else if (seq >= s.first + s.count) lo = mid + 1;
    else return s;
  }
  return undefined;
}
