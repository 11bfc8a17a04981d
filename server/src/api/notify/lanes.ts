// Delivery of a durable queue (queue.ts) over parallel lanes, for notification targets and replication alike: a
// reader takes the queue's entries in sequence order and hands each to one of `lanes` lanes by a hash of its
// key (`<bucket>/<object>`), so the entries of one key always go through the same lane, one after the other,
// in the order they were queued, while different keys go out in parallel. An entry leaves the queue once its
// lane is done with it, in whatever order the lanes finish: after a crash exactly the entries not done yet go
// out again. At most `LANE_BACKLOG` entries per lane are read ahead, so memory stays bounded whatever the
// queue holds.
import { hash } from 'node:crypto';
import type { EventQueue } from './queue.js';

/** Entries read ahead from the queue per lane. */
export const LANE_BACKLOG = 16;

/** The lane of a key: a hash of it, so every entry of one key goes through the same lane. */
export function laneOf(key: string, lanes: number): number {
  return lanes === 1 ? 0 : hash('sha1', key, 'buffer').readUInt32LE(0) % lanes;
}

export interface LaneHandler<T> {
  /** The entry as stored; throws on one that cannot be read (it is dropped, `unreadable` is told). */
  parse(data: string): T;
  /** What orders entries: those of one key go in queue order. */
  keyOf(entry: T): string;
  /**
   * Delivers one entry (retrying as it sees fit); true when it may leave the queue, false when `signal` aborted
   * first (it stays queued, for the next run).
   */
  handle(entry: T, signal: AbortSignal): Promise<boolean>;
  /** An entry that could not be read or parsed, dropped from the queue. */
  unreadable(err: unknown): void;
  /** An entry done whose file could not be removed: it goes out again after a restart (at least once). */
  notRemoved(entry: T, err: unknown): void;
}

interface Taken<T> {
  seq: number;
  entry: T;
}

export class Lanes<T> {
  private readonly lanes: Taken<T>[][];
  private readonly laneRuns: (Promise<void> | undefined)[];
  /** A lane's run is delivering (cleared in the turn its loop ends, so an entry pushed after starts a new run). */
  private readonly running: boolean[];
  /** Entries read ahead and not done yet, over all lanes. */
  private inFlight = 0;
  private slotFreed: (() => void) | undefined;
  private readonly stop = new AbortController();
  private readonly done: Promise<void>;

  constructor(
    readonly queue: EventQueue,
    lanes: number,
    private readonly handler: LaneHandler<T>,
  ) {
    this.lanes = Array.from({ length: lanes }, () => []);
    this.laneRuns = Array.from({ length: lanes }, () => undefined);
    this.running = Array.from({ length: lanes }, () => false);
    this.done = this.run();
  }

  private async run(): Promise<void> {
    const signal = this.stop.signal;
    const limit = this.lanes.length * LANE_BACKLOG;
    while (!signal.aborted) {
      if (this.inFlight >= limit) {
        await new Promise<void>((resolve) => (this.slotFreed = resolve));
        continue;
      }
      const seq = await this.queue.take(signal);
      if (seq === undefined) break;
      let entry: T;
      try {
        entry = this.handler.parse(await this.queue.read(seq));
      } catch (e) {
        this.handler.unreadable(e);
        await this.queue.remove(seq).catch(() => {});
        continue;
      }
      const lane = laneOf(this.handler.keyOf(entry), this.lanes.length);
      this.lanes[lane].push({ seq, entry });
      this.inFlight++;
      // Marked over by runLane itself as its loop ends: a `.finally` on its promise ran a microtask later, and an
      // entry pushed in between waited for its lane's next entry (for good, at the end of a burst).
      if (!this.running[lane]) {
        this.running[lane] = true;
        this.laneRuns[lane] = this.runLane(lane);
      }
    }
    await Promise.all(this.laneRuns);
  }

  /** Delivers the entries of one lane in order until it is empty (or the lanes stop: the rest stay queued). */
  private async runLane(lane: number): Promise<void> {
    const items = this.lanes[lane];
    const signal = this.stop.signal;
    try {
      while (items.length > 0 && !signal.aborted) {
        const { seq, entry } = items[0];
        if (await this.handler.handle(entry, signal))
          await this.queue.remove(seq).catch((err: unknown) => this.handler.notRemoved(entry, err));
        items.shift();
        this.inFlight--;
        this.slotFreed?.();
        this.slotFreed = undefined;
      }
    } finally {
      this.running[lane] = false;
    }
  }

  /** Stops taking and delivering; resolves once every lane has stopped (what is not done stays queued). */
  async close(): Promise<void> {
    this.stop.abort();
    this.slotFreed?.();
    await this.done;
  }
}
