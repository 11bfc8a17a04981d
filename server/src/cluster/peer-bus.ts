// The change bus (storage/coordination.ts) between the nodes of a distributed deployment: a change is posted to
// every other node (route `bus`, peers.ts), which applies it to its subscribers (storage's caches, IAM) before
// answering; publish resolves once every node answered or failed. A node that does not answer is left out
// (every write would otherwise wait for its time-out) and tried again every SKIP_MS with a `missed` change
// until it answers: it then reads every cache that follows changes again from the drives (listings, bucket
// table, IAM), so what it missed while left out is not kept stale, even when no further change comes.
// Changes published while it re-reads are not posted to it: it is told `missed` once more instead.
// A node restarted holds nothing stale (its caches start empty): before it serves it says hello to the others,
// which take it back at once instead of at their next retry (a node slow to start was left out by changes the
// others published meanwhile, and would otherwise miss the first changes made once it serves). A change that
// fails fast (a refused or reset connection, an answer other than 200) is posted once more before the node is
// left out; one that timed out is not. After a time-out the node is told `missed` at once, not SKIP_MS later: a
// node that is slow, not gone, may not have applied the change, and would answer from stale caches meanwhile.
// A node of several workers: each worker posts its changes to the other nodes and to its siblings (`siblings`,
// through the primary, primary-link.ts), and a change another node posted to one worker reaches its siblings the
// same way before it is answered, as does a node's hello (every worker takes the node back at once).
import type { Logger } from 'pino';
import type { Change, ChangeBus } from '../storage/index.js';
import type { PeerClient, PeerRoutes } from './peers.js';

/** How long a node that failed a change is left out before it is tried again. */
const SKIP_MS = 2000;
/** The pause before a change that failed fast is posted once more. */
const RETRY_MS = 100;
/** The notice topic that passes another node's hello (its origin) to this node's other workers. */
const NODE_STARTED = 'bus-node-started';

export class PeerBus implements ChangeBus {
  private readonly subscribers: ((change: Change) => void | Promise<void>)[] = [];
  /** Nodes left out after failing a change; `missed`: changes were published since they last re-read. */
  private readonly leftOut = new Map<string, { missed: boolean }>();

  constructor(
    private readonly client: PeerClient,
    private readonly others: string[],
    routes: PeerRoutes,
    private readonly log: Logger,
    /** How long a node that failed is left out before it is tried again (tests make it long). */
    private readonly skipMs = SKIP_MS,
    /** The other workers of this node (absent: a node of one process). */
    private readonly siblings?: ChangeBus,
  ) {
    routes.set('bus', (change) => this.receive(change as Change));
    routes.set('bus-hello', async (origin) => {
      this.rejoined(String(origin));
      await siblings?.publish({ type: 'notice', topic: NODE_STARTED, data: String(origin) });
    });
    siblings?.subscribe((change) =>
      change.type === 'notice' && change.topic === NODE_STARTED
        ? this.rejoined(String(change.data))
        : this.apply(change),
    );
  }

  /** Tells every other node that this one (`self`, as they name it) starts with empty caches; before it serves. */
  async hello(self: string): Promise<void> {
    await Promise.all(this.others.map((o) => this.client.call(o, 'bus-hello', self).catch(() => undefined)));
  }

  private rejoined(origin: string): void {
    if (this.leftOut.delete(origin)) this.log.info(`node ${origin} started again: it takes changes again`);
  }

  async publish(change: Change): Promise<void> {
    await Promise.all([...this.others.map((o) => this.send(o, change)), this.siblings?.publish(change)]);
  }

  private async send(origin: string, change: Change): Promise<void> {
    const out = this.leftOut.get(origin);
    if (out) {
      out.missed = true;
      return;
    }
    try {
      await this.post(origin, change);
    } catch (e) {
      // Several changes in flight to one node fail together: the first leaves it out and tries it again later.
      const left = this.leftOut.get(origin);
      if (left) {
        left.missed = true;
        return;
      }
      this.log.warn(`node ${origin} missed a change (${(e as Error).message}): left out until it answers`);
      const out = { missed: true };
      this.leftOut.set(origin, out);
      if (timedOut(e)) void this.tryAgain(origin, out);
      else this.tryLater(origin, out);
    }
  }

  private tryLater(origin: string, out: { missed: boolean }): void {
    setTimeout(() => void this.tryAgain(origin, out), this.skipMs).unref();
  }

  /**
   * Tells a node left out that it missed changes; it takes changes again once it has re-read its caches with
   * none published meanwhile (one published during the re-read may have been written after it read).
   */
  private async tryAgain(origin: string, out: { missed: boolean }): Promise<void> {
    // Gone or replaced meanwhile: the node said hello (and may have been left out again since, with its own retry).
    const current = () => this.leftOut.get(origin) === out;
    while (current() && out.missed) {
      out.missed = false;
      try {
        await this.post(origin, { type: 'missed' });
      } catch {
        if (!current()) return;
        out.missed = true;
        return this.tryLater(origin, out);
      }
    }
    if (!current()) return;
    this.leftOut.delete(origin);
    this.log.info(`node ${origin} takes changes again`);
  }

  private async post(origin: string, change: Change): Promise<void> {
    try {
      await this.postOnce(origin, change);
    } catch (e) {
      if (timedOut(e)) throw e;
      await new Promise((r) => setTimeout(r, RETRY_MS));
      await this.postOnce(origin, change);
    }
  }

  private async postOnce(origin: string, change: Change): Promise<void> {
    const a = await this.client.call(origin, 'bus', change);
    if (a.status !== 200) throw new Error(a.error ?? `answered ${a.status}`);
  }

  subscribe(apply: (change: Change) => void | Promise<void>): void {
    this.subscribers.push(apply);
  }

  /** Another node's change: applied here and by this node's other workers. */
  private async receive(change: Change): Promise<void> {
    await Promise.all([this.apply(change), this.siblings?.publish(change)]);
  }

  /** Applied by every subscriber (one's failure does not stop the others). */
  private async apply(change: Change): Promise<void> {
    await Promise.all(
      this.subscribers.map((apply) =>
        new Promise<void>((resolve) => resolve(apply(change))).catch((e: unknown) =>
          this.log.warn({ err: e }, 'a change from another node failed to apply'),
        ),
      ),
    );
  }
}

/** A post that ran out of time (the node may be slow rather than gone), as opposed to one that failed fast. */
function timedOut(e: unknown): boolean {
  const name = (e as Error)?.name;
  return name === 'AbortError' || name === 'TimeoutError';
}
