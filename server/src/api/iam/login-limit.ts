// The limit on failed logins (LDAP binds; signed STS AssumeRole calls, the web console's login) per source
// address: after FAILURES_PER_WINDOW failures within WINDOW_MS, that address's logins are refused unseen
// until its window ends. The count is the server's, not a worker's: with `cairn server --workers N` each
// failure goes on storage's change bus as a notice, and every other worker counts it before the failed login
// is answered, so N workers do not allow N times the attempts. (A distributed mode's bus carries it across
// nodes alike.)
import type { ChangeBus } from '../../storage/coordination.js';

/** Failed logins allowed per source address in a window, after which its attempts are refused unseen. */
export const FAILURES_PER_WINDOW = 10;
export const WINDOW_MS = 60_000;
/** Addresses tracked at most (the table starts over past this: memory stays bounded under a spray). */
const SOURCES_TRACKED = 10_000;
const TOPIC = 'login-failure';

/** How failures are shared with the other processes serving the same drives. */
export interface FailureSharing {
  /** Resolves once every other process has counted the failure. */
  publish(source: string): Promise<void>;
  subscribe(count: (source: string) => void): void;
}

/** One process alone: nobody else counts. */
export const failuresAlone: FailureSharing = { publish: () => Promise.resolve(), subscribe: () => {} };

export function failuresOverBus(bus: ChangeBus): FailureSharing {
  return {
    publish: (source) => bus.publish({ type: 'notice', topic: TOPIC, data: source }),
    subscribe: (count) =>
      bus.subscribe((c) => {
        if (c.type === 'notice' && c.topic === TOPIC && typeof c.data === 'string') count(c.data);
      }),
  };
}

export class LoginLimiter {
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(
    private readonly now: () => number,
    private readonly sharing: FailureSharing = failuresAlone,
  ) {
    sharing.subscribe((source) => this.count(source));
  }

  /** Is `source` refused for now (too many failures in its window)? */
  refused(source: string): boolean {
    const f = this.failures.get(source);
    return f !== undefined && this.now() - f.since < WINDOW_MS && f.count >= FAILURES_PER_WINDOW;
  }

  /** A login from `source` failed: counted here and, before this resolves, by every other process. */
  async failed(source: string): Promise<void> {
    this.count(source);
    await this.sharing.publish(source);
  }

  private count(source: string): void {
    const now = this.now();
    let f = this.failures.get(source);
    if (!f || now - f.since >= WINDOW_MS) {
      if (this.failures.size >= SOURCES_TRACKED) this.failures.clear();
      f = { count: 0, since: now };
      this.failures.set(source, f);
    }
    f.count++;
  }
}
