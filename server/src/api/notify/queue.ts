// A target's event queue on disk (at-least-once delivery): one file per event, named by a sequence number that
// only grows, written (temporary name, then rename) before the request that caused it is answered, removed
// once the target has taken it. Reopened after a restart, it continues where it was; events go out in
// sequence order, so those of one key keep their order. Like object data, files are not fsynced: they survive
// the process being killed, not the machine losing power before the kernel wrote them.
//
// A queue has one consumer, in one of two ways: `peek`/`drop` (the oldest event, removed once delivered: one
// delivery at a time), or `take`/`read`/`remove` (events handed out in sequence order and removed in any order,
// as several senders finish them: a restart sends again exactly the events not removed).
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { S3Error } from '../../errors.js';

const EVENT_FILE = /^([0-9a-f]{16})\.event$/;
const name = (seq: number) => `${seq.toString(16).padStart(16, '0')}.event`;

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
  /** Events refused because the queue was full (counted since start). */
  dropped = 0;

  private constructor(
    readonly dir: string,
    readonly limit: number,
  ) {}

  /** Opens (creating it if needed) the queue in `dir`: the events a previous run left are kept. */
  static async open(dir: string, limit: number): Promise<EventQueue> {
    const q = new EventQueue(dir, limit);
    await mkdir(dir, { recursive: true });
    for (const f of await readdir(dir)) {
      const m = EVENT_FILE.exec(f);
      if (m) q.unsent.push(Number.parseInt(m[1], 16));
      else if (f.endsWith('.tmp')) await unlink(join(dir, f)).catch(() => {}); // a write cut short
    }
    q.unsent.sort((a, b) => a - b);
    for (const seq of q.unsent) q.pending.add(seq);
    q.nextSeq = (q.unsent.at(-1) ?? 0) + 1;
    q.nextPublish = q.nextSeq;
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
      throw new S3Error('SlowDown', `the event queue in ${this.dir} is full (${this.limit} events)`);
    }
    const seq = this.nextSeq++;
    this.writes++;
    const tmp = join(this.dir, `${name(seq)}.tmp`);
    try {
      await writeFile(tmp, data);
      await rename(tmp, join(this.dir, name(seq)));
    } catch (e) {
      this.settle(seq, false);
      throw e;
    }
    this.settle(seq, true);
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

  private oldest(): number | undefined {
    for (const seq of this.pending) return seq;
    return undefined;
  }

  /** The oldest event, waiting for one when the queue is empty; undefined once `signal` aborts. */
  async peek(signal: AbortSignal): Promise<string | undefined> {
    if (!(await this.waitFor(() => this.pending.size > 0, signal))) return undefined;
    return this.read(this.oldest()!);
  }

  /** Removes the oldest event (delivered). */
  async drop(): Promise<void> {
    const seq = this.oldest();
    if (seq !== undefined) await this.remove(seq);
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

  /** The event `seq` as stored. */
  read(seq: number): Promise<string> {
    return readFile(join(this.dir, name(seq)), 'utf8');
  }

  /** Removes event `seq` (delivered, or given up on), whatever its place in the queue. */
  async remove(seq: number): Promise<void> {
    if (!this.pending.has(seq)) return;
    await unlink(join(this.dir, name(seq))).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    this.pending.delete(seq);
    if (this.pending.size === 0) for (const resolve of this.emptied.splice(0)) resolve();
  }

  /** Resolves once no event waits (at once when none does). */
  empty(): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptied.push(resolve));
  }
}
