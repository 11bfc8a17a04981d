// Transitions per tier over the last day, in 24 hourly bins: madmin.TierInfo's DailyStats, as MinIO keeps them
// (cmd/tier-last-day-stats.go). A bin is the hour of the day (UTC) a transition finished in; bins older than a day
// are cleared as the clock moves on. Each transition counts its size, one version, and one object when it was the
// latest version. Kept in memory as MinIO keeps them (a restart starts from zero), and shared: every process
// (worker, node) that transitions tells the others over the change bus, so any of them answers for all.
import type { ChangeBus } from '../../storage/coordination.js';

export interface TierStats {
  totalSize: number;
  numVersions: number;
  numObjects: number;
}

/** madmin.DailyTierStats: the bins by hour of the day, and when the newest was last moved on. */
export interface DailyTierStats {
  Bins: TierStats[];
  UpdatedAt: string;
}

/** One finished transition, as processes tell each other. */
export interface Transitioned {
  tier: string;
  size: number;
  latest: boolean;
  /** When it finished (ms since the epoch). */
  at: number;
}

/** Sharing with the other processes: a process alone has none. */
export interface DailyStatsSharing {
  publish(t: Transitioned): Promise<void>;
  subscribe(apply: (t: Transitioned) => void): void;
}

const HOUR = 3_600_000;
const zero = (): TierStats => ({ totalSize: 0, numVersions: 0, numObjects: 0 });

class LastDay {
  bins: TierStats[] = Array.from({ length: 24 }, zero);
  /** Start of the hour of the newest transition counted (MinIO's UpdatedAt, which is that transition's time). */
  updatedAt = 0;
  hourStart = 0;

  /** Moves the clock to `at`: the bins of the hours passed since the last update are emptied. */
  forwardTo(at: number): void {
    const hour = Math.floor(at / HOUR) * HOUR;
    if (hour <= this.hourStart) return;
    const passed = (hour - this.hourStart) / HOUR;
    if (passed >= 24) this.bins = Array.from({ length: 24 }, zero);
    else for (let h = 1; h <= passed; h++) this.bins[new Date(this.hourStart + h * HOUR).getUTCHours()] = zero();
    this.hourStart = hour;
    this.updatedAt = at;
  }

  add(t: Transitioned): void {
    // A transition told late (another process) still lands in its own hour, if that is within the last day.
    this.forwardTo(t.at);
    if (t.at < this.hourStart - 23 * HOUR) return;
    const b = this.bins[new Date(t.at).getUTCHours()];
    b.totalSize += t.size;
    b.numVersions += 1;
    if (t.latest) b.numObjects += 1;
    if (t.at > this.updatedAt) this.updatedAt = t.at;
  }
}

export class DailyTransitions {
  private readonly tiers = new Map<string, LastDay>();

  constructor(private readonly sharing?: DailyStatsSharing) {
    sharing?.subscribe((t) => this.count(t));
  }

  private count(t: Transitioned): void {
    let d = this.tiers.get(t.tier);
    if (!d) this.tiers.set(t.tier, (d = new LastDay()));
    d.add(t);
  }

  /** A transition to `tier` finished now: counted here and told to the other processes. */
  async record(t: Transitioned): Promise<void> {
    this.count(t);
    await this.sharing?.publish(t);
  }

  /**
   * The tier's DailyStats as madmin encodes them, bins past a day cleared as of `now`; a tier without transitions
   * has 24 empty bins and Go's zero time, as MinIO answers.
   */
  stats(tier: string, now: number): DailyTierStats {
    const d = this.tiers.get(tier);
    if (!d) return { Bins: Array.from({ length: 24 }, zero), UpdatedAt: '0001-01-01T00:00:00Z' };
    // As MinIO's merge does: moved on to now on a copy (the bins of hours without transitions are empty).
    const copy = new LastDay();
    copy.bins = d.bins.map((b) => ({ ...b }));
    copy.hourStart = d.hourStart;
    copy.updatedAt = d.updatedAt;
    copy.forwardTo(now);
    return { Bins: copy.bins, UpdatedAt: new Date(d.updatedAt).toISOString() };
  }
}

const TOPIC = 'tier-transition';

/** Sharing over storage's change bus (workers' IPC, nodes' peer bus). */
export function dailyStatsOverBus(bus: ChangeBus): DailyStatsSharing {
  return {
    publish: (t) => bus.publish({ type: 'notice', topic: TOPIC, data: t }),
    subscribe: (apply) =>
      bus.subscribe((c) => {
        if (c.type === 'notice' && c.topic === TOPIC) apply(c.data as Transitioned);
      }),
  };
}
