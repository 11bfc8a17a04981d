// Lanes (api/notify/lanes.ts): an entry handed to a lane just as that lane's run finishes its last entry is still
// delivered. The lane's run was marked over by a `.finally` on its promise, one microtask after the loop's end,
// so an entry pushed in that microtask found the lane "running", started nothing, and waited for the lane's next
// entry: with no more entries (the end of a burst) it stayed undelivered for good (the notify bench's drain, a
// replication queue's idle). The queue here is a stand-in whose promises settle in the order that hits the window.
import { describe, expect, it } from 'vitest';
import { Lanes } from '../../src/api/notify/lanes.js';
import type { EventQueue } from '../../src/api/notify/queue.js';

describe('Lanes', () => {
  it('delivers an entry pushed to a lane in the microtask its run ends in', async () => {
    let release!: (seq: number) => void;
    // One promise settles both the second take and the first entry's removal; the reader's await on it is made
    // first, so it resumes first.
    const gate = new Promise<number>((resolve) => (release = resolve));
    let takes = 0;
    const queue = {
      take: (signal: AbortSignal) => {
        takes++;
        if (takes === 1) return Promise.resolve(1);
        if (takes === 2) return gate;
        return new Promise<undefined>((resolve) => signal.addEventListener('abort', () => resolve(undefined)));
      },
      // Settles a microtask after it is asked: the reader then hands entry 2 to the lane right after the lane's
      // run has seen its list empty (removal of entry 1 awaited through its `.catch`) and before a `.finally` on
      // the run's promise could have run.
      read: (seq: number) => Promise.resolve().then(() => JSON.stringify({ key: 'k', seq })),
      remove: (seq: number) => (seq === 1 ? gate : Promise.resolve()),
    } as unknown as EventQueue;
    const handled: number[] = [];
    const lanes = new Lanes<{ key: string; seq: number }>(queue, 1, {
      parse: (data) => JSON.parse(data),
      keyOf: (e) => e.key,
      handle: async (e) => {
        handled.push(e.seq);
        return true;
      },
      unreadable: (err) => {
        throw err;
      },
      notRemoved: (_e, err) => {
        throw err;
      },
    });
    await new Promise((r) => setImmediate(r));
    expect(handled).toEqual([1]);
    release(2);
    await new Promise((r) => setImmediate(r));
    expect(handled).toEqual([1, 2]);
    await lanes.close();
  });
});
