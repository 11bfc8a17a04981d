// The change bus (storage/coordination.ts) between the nodes of a distributed deployment: a change is posted to
// every other node (route `bus`, peers.ts), which applies it to its subscribers (storage's caches, IAM) before
// answering; publish resolves once every node answered or failed. A node that does not answer is skipped
// for a moment (every write would otherwise wait for its time-out); a node that was skipped gets a
// `listings` change first when it answers again, so its cached listings are read again from the drives.
// A node restarted holds nothing stale (its caches start empty).
import type { Logger } from 'pino';
import type { Change, ChangeBus } from '../storage/index.js';
import type { PeerClient, PeerRoutes } from './peers.js';

/** How long a node that failed a publish is left out. */
const SKIP_MS = 2000;

export class PeerBus implements ChangeBus {
  private readonly subscribers: ((change: Change) => void | Promise<void>)[] = [];
  /** Nodes that failed, with when they may be tried again. */
  private readonly skipped = new Map<string, number>();

  constructor(
    private readonly client: PeerClient,
    private readonly others: string[],
    routes: PeerRoutes,
    private readonly log: Logger,
  ) {
    routes.set('bus', (change) => this.receive(change as Change));
  }

  async publish(change: Change): Promise<void> {
    await Promise.all(this.others.map((o) => this.send(o, change)));
  }

  private async send(origin: string, change: Change): Promise<void> {
    const until = this.skipped.get(origin);
    if (until !== undefined && Date.now() < until) return;
    try {
      if (until !== undefined) await this.post(origin, { type: 'listings' });
      await this.post(origin, change);
      if (until !== undefined) {
        this.skipped.delete(origin);
        this.log.info(`node ${origin} takes changes again`);
      }
    } catch (e) {
      if (until === undefined) this.log.warn(`node ${origin} missed a change (${(e as Error).message}): skipped`);
      this.skipped.set(origin, Date.now() + SKIP_MS);
    }
  }

  private async post(origin: string, change: Change): Promise<void> {
    const a = await this.client.call(origin, 'bus', change);
    if (a.status !== 200) throw new Error(a.error ?? `answered ${a.status}`);
  }

  subscribe(apply: (change: Change) => void | Promise<void>): void {
    this.subscribers.push(apply);
  }

  /** Another node's change: applied by every subscriber (one's failure does not stop the others). */
  private async receive(change: Change): Promise<void> {
    await Promise.all(
      this.subscribers.map((apply) =>
        new Promise<void>((resolve) => resolve(apply(change))).catch((e: unknown) =>
          this.log.warn({ err: e }, 'a change from another node failed to apply'),
        ),
      ),
    );
  }
}
