// Transitions per tier over the last day (api/tier/daily-stats.ts, madmin's DailyStats): 24 bins by UTC hour,
// bins of hours passed emptied as the clock moves on (also when nothing is recorded for a while, where MinIO
// keeps answering day-old bins), a transition told late lands in its own hour, and processes share theirs.
import { describe, expect, it } from 'vitest';
import { DailyTransitions, type DailyStatsSharing, type Transitioned } from '../../src/api/tier/daily-stats.js';

const H = 3_600_000;
const day = Date.UTC(2026, 0, 10); // 00:00 UTC
const bins = (d: DailyTransitions, tier: string, now: number) =>
  d
    .stats(tier, now)
    .Bins.map((b, hour) => [hour, b.numVersions, b.numObjects, b.totalSize])
    .filter((b) => b[1]);

describe('tier DailyStats', () => {
  it('counts by UTC hour and empties the hours that passed', async () => {
    const d = new DailyTransitions();
    expect(d.stats('WARM', day)).toEqual({
      Bins: Array.from({ length: 24 }, () => ({ totalSize: 0, numVersions: 0, numObjects: 0 })),
      UpdatedAt: '0001-01-01T00:00:00Z',
    });
    await d.record({ tier: 'WARM', size: 10, latest: true, at: day + 3 * H + 5 });
    await d.record({ tier: 'WARM', size: 5, latest: false, at: day + 3 * H + 9 });
    await d.record({ tier: 'WARM', size: 7, latest: true, at: day + 22 * H });
    await d.record({ tier: 'COLD', size: 1, latest: true, at: day + 22 * H });
    expect(bins(d, 'WARM', day + 22 * H)).toEqual([
      [3, 2, 1, 15],
      [22, 1, 1, 7],
    ]);
    expect(d.stats('WARM', day + 22 * H).UpdatedAt).toBe(new Date(day + 22 * H).toISOString());
    // 03:00 the next day: yesterday's 03:00 bin is a day old and goes; 22:00 stays.
    expect(bins(d, 'WARM', day + 27 * H)).toEqual([[22, 1, 1, 7]]);
    // A day after the last transition nothing is left.
    expect(bins(d, 'WARM', day + 46 * H)).toEqual([]);
    // A transition told late (another process) lands in its hour; one more than a day old does not count.
    await d.record({ tier: 'WARM', size: 2, latest: true, at: day + 21 * H });
    await d.record({ tier: 'WARM', size: 2, latest: true, at: day - 3 * H });
    expect(bins(d, 'WARM', day + 23 * H)).toEqual([
      [3, 2, 1, 15],
      [21, 1, 1, 2],
      [22, 1, 1, 7],
    ]);
    expect(bins(d, 'COLD', day + 23 * H)).toEqual([[22, 1, 1, 1]]);
  });

  it('processes tell each other their transitions', async () => {
    const subscribers: ((t: Transitioned) => void)[] = [];
    const bus = (): DailyStatsSharing => {
      const mine = subscribers.length;
      return {
        publish: async (t) => subscribers.forEach((apply, i) => i !== mine && apply(t)),
        subscribe: (apply) => void subscribers.push(apply),
      };
    };
    const [a, b] = [new DailyTransitions(bus()), new DailyTransitions(bus())];
    await a.record({ tier: 'WARM', size: 3, latest: true, at: day + H });
    await b.record({ tier: 'WARM', size: 4, latest: true, at: day + H });
    for (const p of [a, b]) expect(bins(p, 'WARM', day + 2 * H)).toEqual([[1, 2, 2, 7]]);
  });
});
