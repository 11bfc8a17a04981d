// One leader among the nodes of a distributed deployment for the background work done once per deployment: the
// heal queue (other nodes forward the objects they found damaged over the change bus), the scanner, the removal
// of stale uploads and lifecycle (storage's background tasks). As MinIO's leader lock: the leader is the node
// holding the dsync lease `leader` (dsync.ts). Every node tries for it at start and, while it does not hold it,
// again every RETRY_MS; the holder refreshes it with its other locks and steps down when a refresh is granted by
// fewer than a majority (cut off from the others), before the others' grants expire and one of them takes it.
// A leader killed holds the lease until its grants expire (30 s), or until it starts again (dsync's `forget`).
// Two leaders for a moment (a holder stalled longer than the expiry) are harmless: healing locks each object.
import type { Logger } from 'pino';
import type { Release } from '../storage/index.js';
import type { DsyncLocks } from './dsync.js';

const LEASE = 'leader';
/** Pause between tries of a node that does not lead (randomised by +-50%). */
const RETRY_MS = 5000;
/** How long one try waits for nodes racing for the lease at the same time. */
const TRY_MS = 1000;

export class Leadership {
  private lease: Release | null = null;
  private stopped = false;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly locks: DsyncLocks,
    private readonly log: Logger,
    /** Called with true when this node starts leading, false when it steps down. */
    private readonly onChange: (leading: boolean) => void,
    private readonly retryMs = RETRY_MS,
  ) {}

  get leading(): boolean {
    return this.lease !== null;
  }

  start(): void {
    void this.attempt();
  }

  private async attempt(): Promise<void> {
    if (this.stopped || this.lease) return;
    const lease = await this.locks.tryLease(LEASE, TRY_MS, () => this.lost());
    if (this.stopped) return lease?.();
    if (!lease) return this.later();
    this.lease = lease;
    this.log.info('this node leads the background work: healing, the scanner, lifecycle');
    this.onChange(true);
  }

  private lost(): void {
    this.lease = null;
    this.log.warn('this node no longer holds the leader lease (a majority of nodes did not renew it): stepping down');
    this.onChange(false);
    this.later();
  }

  private later(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.attempt(), this.retryMs * (0.5 + Math.random()));
    this.timer.unref();
  }

  /** No more tries; the lease, when held, is given back (another node takes it at its next try). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.lease?.();
    this.lease = null;
  }
}
