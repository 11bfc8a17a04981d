// A target's event queue on disk (at-least-once delivery): one file per event, named by a sequence number that
// only grows, written (temporary name, then rename) before the request that caused it is answered, removed
// once the target has taken it. Reopened after a restart, it continues where it was; events go out in
// sequence order, so those of one key keep their order. Like object data, files are not fsynced: they survive
// the process being killed, not the machine losing power before the kernel wrote them.
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { S3Error } from '../../errors.js';

const EVENT_FILE = /^([0-9a-f]{16})\.event$/;
const name = (seq: number) => `${seq.toString(16).padStart(16, '0')}.event`;

export class EventQueue {
  /** Sequence numbers of the events on disk, oldest first. */
  private readonly pending: number[] = [];
  private nextSeq = 1;
  /** Writes go one after another, so the files appear in sequence order. */
  private writing: Promise<void> = Promise.resolve();
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
      if (m) q.pending.push(Number.parseInt(m[1], 16));
      else if (f.endsWith('.tmp')) await unlink(join(dir, f)).catch(() => {}); // a write cut short
    }
    q.pending.sort((a, b) => a - b);
    q.nextSeq = (q.pending.at(-1) ?? 0) + 1;
    return q;
  }

  /** Events waiting for the target (a cheap getter for metrics). */
  get length(): number {
    return this.pending.length;
  }

  /** Stores an event; resolves once it is on disk. SlowDown when the queue holds `limit` events. */
  push(data: string): Promise<void> {
    const done = this.writing.then(async () => {
      if (this.pending.length >= this.limit) {
        this.dropped++;
        throw new S3Error('SlowDown', `the event queue in ${this.dir} is full (${this.limit} events)`);
      }
      const seq = this.nextSeq++;
      const tmp = join(this.dir, `${name(seq)}.tmp`);
      await writeFile(tmp, data);
      await rename(tmp, join(this.dir, name(seq)));
      this.pending.push(seq);
      this.wake?.();
    });
    this.writing = done.catch(() => {});
    return done;
  }

  /** The oldest event, waiting for one when the queue is empty; undefined once `signal` aborts. */
  async peek(signal: AbortSignal): Promise<string | undefined> {
    while (this.pending.length === 0) {
      if (signal.aborted) return undefined;
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
    return readFile(join(this.dir, name(this.pending[0])), 'utf8');
  }

  /** Removes the oldest event (delivered). */
  async drop(): Promise<void> {
    const seq = this.pending[0];
    if (seq === undefined) return;
    await unlink(join(this.dir, name(seq))).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    this.pending.shift();
    if (this.pending.length === 0) for (const resolve of this.emptied.splice(0)) resolve();
  }

  /** Resolves once no event waits (at once when none does). */
  empty(): Promise<void> {
    if (this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptied.push(resolve));
  }
}
