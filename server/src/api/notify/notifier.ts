// The notifier: routes the events of successful operations to the targets a bucket's configuration names,
// queues each one durably (queue.ts) before the request is answered, and runs one sender per target that
// delivers its queue (in order per object key; a webhook over several lanes), retrying with exponential backoff
// while the target is down.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiLogger } from '../types.js';
import { covers, ruleMatches, type NotificationRule } from './config.js';
import { eventRecord, Sequencer, type EventOrigin, type EventRecord, type ObjectEvent } from './event.js';
import { Lanes } from './lanes.js';
import { EventQueue } from './queue.js';
import { errorText, lagFields } from './queue-status.js';
import { makeTarget, QueuedEvent, type Target } from './target.js';
import { targetKey, type TargetConfig } from './targets.js';

export interface NotifierOptions {
  targets: TargetConfig[];
  /**
   * Where queues without their own QUEUE_DIR live (one folder per target in each): one folder per drive, each
   * event written to every one (queue.ts).
   */
  queueBases: string[];
  /**
   * Where those queues lived before (the drives of a server pool they left, main.ts): what they hold is taken into
   * the queues at open and removed from there (queue.ts `from`).
   */
  formerQueueBases?: string[];
  log: ApiLogger;
  now?: () => number;
  /**
   * This process is worker `worker` of several serving the same drives: each keeps its own queue of every
   * target (a `worker-<N>` folder inside the target's), delivered by its own sender.
   */
  worker?: number;
  /** Backoff between delivery attempts to a target that failed: from `min`, doubling up to `max` (ms). */
  retry?: { minMs: number; maxMs: number };
}

/** A target's queue and delivery counters (this process's, since it started), as metrics and `cairn admin` read them. */
export interface TargetStatus {
  /** `<ID>:<type>`. */
  target: string;
  id: string;
  type: string;
  /** Events waiting in the queue now. */
  queued: number;
  /** Events written to the queue. */
  accepted: number;
  /** Events that could not be queued (the queue full, or the write failed): they are never sent. */
  notQueued: number;
  delivered: number;
  /** Delivery attempts that failed (each is tried again). */
  failedAttempts: number;
  /** Events refused because the queue was full (part of notQueued). */
  dropped: number;
  /** When the oldest event waiting was pushed (ms since 1970); absent when none waits. The lag is now minus this. */
  oldestAt?: number;
  /** The last failed delivery attempt's error (at most ERROR_MAX characters) and its time (ms); absent: none yet. */
  lastError?: string;
  lastErrorAt?: number;
}

/**
 * Delivers one target's queue: over `target.lanes` lanes (lanes.ts: the events of one object key in order, other
 * keys in parallel), each event retried with exponential backoff until the target takes it.
 */
class Sender {
  accepted = 0;
  notQueued = 0;
  delivered = 0;
  failedAttempts = 0;
  lastError: string | undefined;
  lastErrorAt: number | undefined;
  /** The last attempt failed (logged once per outage, not per event). */
  private down = false;
  private readonly lanes: Lanes<QueuedEvent>;

  constructor(
    readonly config: Pick<TargetConfig, 'id' | 'type' | 'queueDir'>,
    readonly key: string,
    readonly target: Target,
    readonly queue: EventQueue,
    private readonly retry: { minMs: number; maxMs: number },
    private readonly log: ApiLogger,
  ) {
    this.lanes = new Lanes(queue, target.lanes ?? 1, {
      parse: (data) => QueuedEvent.parse(data),
      keyOf: (e) => e.key,
      handle: (e, signal) => this.deliver(e, signal),
      // An event file that cannot be read or parsed is never going to be sent: skip it, say so.
      unreadable: (err) => this.log.error({ target: this.key, err }, 'notification queue: unreadable event dropped'),
      notRemoved: (e, err) =>
        this.log.error({ target: this.key, key: e.key, err }, 'notification queue: event not removed'),
    });
  }

  /** Sends one event until the target takes it (true), or until the sender stops (false: it stays queued). */
  private async deliver(event: QueuedEvent, signal: AbortSignal): Promise<boolean> {
    let delay = this.retry.minMs;
    for (;;) {
      if (signal.aborted) return false;
      try {
        await this.target.send(event);
      } catch (e) {
        this.failedAttempts++;
        this.lastError = errorText(e);
        this.lastErrorAt = Date.now();
        if (!this.down)
          this.log.warn({ target: this.key, err: (e as Error).message }, 'notification target unreachable');
        this.down = true;
        await sleep(delay, undefined, { signal }).catch(() => {});
        delay = Math.min(delay * 2, this.retry.maxMs);
        continue;
      }
      if (this.down) this.log.info({ target: this.key }, 'notification target reachable again');
      this.down = false;
      this.delivered++;
      return true;
    }
  }

  async close(): Promise<void> {
    await this.lanes.close();
    await this.target.close();
  }
}

/** A target's queue folders in `bases` (one per drive), this worker's own inside them when there are several. */
function queueDirsOf(c: Pick<TargetConfig, 'id' | 'type'>, bases: string[], worker: number | undefined): string[] {
  const dirs = bases.map((b) => join(b, `${c.type}-${c.id}`));
  return worker === undefined ? dirs : dirs.map((d) => join(d, `worker-${worker}`));
}

/** A ListenBucketNotification client: what it wants, and where its records go. */
export interface Listener {
  /** Undefined: every bucket (MinIO's ListenNotification). */
  bucket: string | undefined;
  events: string[];
  prefix: string;
  suffix: string;
}

/** Does listener `l` want event `e` of `bucket`? */
const hears = (l: Listener, bucket: string, e: ObjectEvent): boolean =>
  (l.bucket === undefined || l.bucket === bucket) &&
  e.key.startsWith(l.prefix) &&
  e.key.endsWith(l.suffix) &&
  l.events.some((x) => covers(x, e.name));

export class Notifier {
  private readonly sequencer = new Sequencer();
  private readonly now: () => number;
  private readonly listeners = new Map<Listener, { deliver: (record: EventRecord) => void; end: () => void }>();

  private constructor(
    private readonly senders: Map<string, Sender>,
    private readonly log: ApiLogger,
    now?: () => number,
    /** Listeners see the events of their own process only: with several workers they would miss some. */
    readonly canListen = true,
    /** This process's worker slot (its queues' `worker-N` folders). */
    private readonly worker?: number,
  ) {
    this.now = now ?? Date.now;
  }

  /**
   * Hands `deliver` every event of `l.bucket` (of every bucket when undefined) it asks for, from now until the returned stop is called;
   * `end` is called when the server stops.
   */
  listen(l: Listener, deliver: (record: EventRecord) => void, end: () => void): () => void {
    this.listeners.set(l, { deliver, end });
    return () => this.listeners.delete(l);
  }

  /** Ends every listener's stream, so a stopping server does not wait for them. */
  endListeners(): void {
    for (const { end } of [...this.listeners.values()]) end();
  }

  /**
   * Does a rule of `rules` whose target is configured here, or a listener, want one of these events of `bucket`?
   * Asked before an event's origin is made (a server event's request id is random bytes): most replicated
   * objects' s3:Replication:* events go nowhere.
   */
  wants(rules: readonly NotificationRule[], bucket: string, events: readonly ObjectEvent[]): boolean {
    for (const e of events) {
      for (const rule of rules) if (this.senders.has(rule.target) && ruleMatches(rule, e.name, e.key)) return true;
      for (const l of this.listeners.keys()) if (hears(l, bucket, e)) return true;
    }
    return false;
  }

  /** Listeners connected now (a cheap getter for metrics). */
  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Opens every target's queue (keeping what a previous run left) and starts delivering. */
  static async start(opts: NotifierOptions): Promise<Notifier> {
    const retry = opts.retry ?? { minMs: 250, maxMs: 10_000 };
    const senders = new Map<string, Sender>();
    try {
      for (const c of opts.targets) {
        const target = makeTarget(c);
        const dirs = c.queueDir ? [c.queueDir] : queueDirsOf(c, opts.queueBases, opts.worker);
        const from = c.queueDir ? [] : queueDirsOf(c, opts.formerQueueBases ?? [], opts.worker);
        const queue = await EventQueue.open(dirs, c.queueLimit, from).catch(async (e: unknown) => {
          await target.close();
          throw e;
        });
        senders.set(targetKey(c), new Sender(c, targetKey(c), target, queue, retry, opts.log));
      }
    } catch (e) {
      await Promise.all([...senders.values()].map((s) => s.close()));
      throw e;
    }
    return new Notifier(senders, opts.log, opts.now, opts.worker === undefined, opts.worker);
  }

  /**
   * Moves the queues (those without a QUEUE_DIR of their own) into `queueBases` while they run: the drives they
   * were on are leaving (a server pool being decommissioned). Throws when one could not move all its events.
   */
  async moveTo(queueBases: string[]): Promise<void> {
    await Promise.all(
      [...this.senders.values()]
        .filter((s) => !s.config.queueDir)
        .map((s) => s.queue.moveTo(queueDirsOf(s.config, queueBases, this.worker))),
    );
  }

  /** Is a target of this `<ID>:<type>` configured? */
  has(target: string): boolean {
    return this.senders.has(target);
  }

  status(): TargetStatus[] {
    return [...this.senders.values()].map((s) => ({
      target: s.key,
      id: s.config.id,
      type: s.config.type,
      queued: s.queue.length,
      accepted: s.accepted,
      notQueued: s.notQueued,
      delivered: s.delivered,
      failedAttempts: s.failedAttempts,
      dropped: s.queue.dropped,
      ...lagFields(s.queue.oldestAt(), s.lastError, s.lastErrorAt),
    }));
  }

  /** Resolves once every target's queue is empty (all events delivered). */
  async idle(): Promise<void> {
    await Promise.all([...this.senders.values()].map((s) => s.queue.empty()));
  }

  /**
   * Queues a record of each event for each rule that wants it; resolves once all are on disk. A full queue or
   * a failed write is logged and does not fail the request: the operation has already happened.
   */
  async publish(
    rules: readonly NotificationRule[],
    origin: EventOrigin,
    events: readonly ObjectEvent[],
  ): Promise<void> {
    const writes: Promise<void>[] = [];
    const time = new Date(this.now());
    for (const e of events) {
      const sequencer = this.sequencer.next(time.getTime());
      for (const [l, { deliver }] of this.listeners) {
        if (!hears(l, origin.bucket, e)) continue;
        const record = eventRecord(e, origin, '', time, sequencer);
        deliver({ ...record, s3: { ...record.s3, object: { ...record.s3.object, key: e.key } } });
      }
      for (const rule of rules) {
        const sender = this.senders.get(rule.target);
        if (!sender || !ruleMatches(rule, e.name, e.key)) continue;
        const queued = QueuedEvent.of(
          e.name,
          `${origin.bucket}/${e.key}`,
          eventRecord(e, origin, rule.id, time, sequencer),
        );
        writes.push(
          sender.queue.push(queued.body).then(
            () => {
              sender.accepted++;
            },
            (err: unknown) => {
              sender.notQueued++;
              this.log.error({ target: sender.key, err }, 'notification event not queued');
            },
          ),
        );
      }
    }
    await Promise.all(writes);
  }

  async close(): Promise<void> {
    await Promise.all([...this.senders.values()].map((s) => s.close()));
  }
}
