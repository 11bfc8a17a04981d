// The primary's lock table and change relay (cluster/coordinator.ts), with peers that record what they
// are sent: locks go first come first served and pass on at unlock or when their holder leaves; a change
// reaches every other peer and is answered once all of them applied it (or left).
import { describe, expect, it } from 'vitest';
import { Coordinator, type Peer } from '../../src/cluster/coordinator.js';
import type { ToWorker } from '../../src/cluster/protocol.js';
import { PrimaryLink } from '../../src/cluster/primary-link.js';
import { KeyedMutex } from '../../src/storage/coordination.js';

function peer(slot: number): Peer & { got: ToWorker[] } {
  const got: ToWorker[] = [];
  return { slot, got, send: (m) => got.push(m) };
}

function joined(n: number): { c: Coordinator; peers: ReturnType<typeof peer>[] } {
  const c = new Coordinator();
  const peers = Array.from({ length: n }, (_, i) => peer(i + 1));
  for (const p of peers) c.join(p);
  return { c, peers };
}

describe('Coordinator locks', () => {
  it('grants a free lock at once, queues the others in order, passes it on at unlock', () => {
    const { c, peers } = joined(3);
    const [a, b, d] = peers;
    c.receive(a, { t: 'lock', id: 1, name: 'k' });
    c.receive(b, { t: 'lock', id: 7, name: 'k' });
    c.receive(d, { t: 'lock', id: 3, name: 'k' });
    c.receive(b, { t: 'lock', id: 8, name: 'other' });
    expect(a.got).toEqual([{ t: 'locked', id: 1 }]);
    expect(b.got).toEqual([{ t: 'locked', id: 8 }]);
    expect(d.got).toEqual([]);
    c.receive(b, { t: 'unlock', name: 'k' }); // not the holder: nothing happens
    expect(d.got).toEqual([]);
    c.receive(a, { t: 'unlock', name: 'k' });
    expect(b.got).toEqual([
      { t: 'locked', id: 8 },
      { t: 'locked', id: 7 },
    ]);
    c.receive(b, { t: 'unlock', name: 'k' });
    expect(d.got).toEqual([{ t: 'locked', id: 3 }]);
    c.receive(d, { t: 'unlock', name: 'k' });
    c.receive(b, { t: 'unlock', name: 'other' });
    expect(c.pending).toEqual({ locks: 0, waiting: 0, relays: 0 });
  });

  it('a peer that leaves gives up the locks it holds and its places in queues', () => {
    const { c, peers } = joined(3);
    const [a, b, d] = peers;
    c.receive(a, { t: 'lock', id: 1, name: 'k' });
    c.receive(b, { t: 'lock', id: 2, name: 'k' });
    c.receive(d, { t: 'lock', id: 3, name: 'k' });
    c.leave(b); // waiting: dropped
    c.leave(a); // holding: passes to d
    expect(d.got).toEqual([{ t: 'locked', id: 3 }]);
    expect(b.got).toEqual([]);
    c.receive(d, { t: 'unlock', name: 'k' });
    expect(c.pending.locks).toBe(0);
  });
});

describe('Coordinator changes', () => {
  const change = { type: 'listings' } as const;

  it('relays a change to every other peer and answers once all have applied it', () => {
    const { c, peers } = joined(3);
    const [a, b, d] = peers;
    c.receive(a, { t: 'publish', id: 5, change });
    expect(a.got).toEqual([]);
    const relayed = b.got[0];
    expect(relayed).toMatchObject({ t: 'change', change });
    expect(d.got[0]).toEqual(relayed);
    const id = (relayed as { id: number }).id;
    c.receive(b, { t: 'applied', id });
    expect(a.got).toEqual([]);
    c.receive(d, { t: 'applied', id });
    expect(a.got).toEqual([{ t: 'published', id: 5 }]);
    c.receive(d, { t: 'applied', id }); // late or repeated: ignored
    expect(a.got).toHaveLength(1);
  });

  it('answers at once when nobody else is there, and does not wait for a peer that leaves', () => {
    const { c, peers } = joined(1);
    c.receive(peers[0], { t: 'publish', id: 1, change });
    expect(peers[0].got).toEqual([{ t: 'published', id: 1 }]);

    const two = joined(3);
    const [a, b, d] = two.peers;
    two.c.receive(a, { t: 'publish', id: 9, change });
    const id = (b.got[0] as { id: number }).id;
    two.c.receive(b, { t: 'applied', id });
    two.c.leave(d);
    expect(a.got).toEqual([{ t: 'published', id: 9 }]);
    // A peer that joins later hears only what is published after it joined.
    const late = peer(4);
    two.c.join(late);
    expect(late.got).toEqual([]);
  });

  it('the change of a peer that left is still applied by the others, and answered to nobody', () => {
    const { c, peers } = joined(2);
    const [a, b] = peers;
    c.receive(a, { t: 'publish', id: 1, change });
    c.leave(a);
    const id = (b.got[0] as { id: number }).id;
    c.receive(b, { t: 'applied', id });
    expect(a.got).toEqual([]);
    expect(c.pending.relays).toBe(0);
  });
});

describe('held locks (the admin API top locks)', () => {
  it('the primary lists each held lock with when its holder got it and how many wait', () => {
    const { c, peers } = joined(2);
    const [a, b] = peers;
    const before = Date.now();
    c.receive(a, { t: 'lock', id: 1, name: 'x' });
    c.receive(b, { t: 'lock', id: 2, name: 'x' });
    c.receive(b, { t: 'lock', id: 3, name: 'y' });
    const held = c.held().sort((p, q) => p.name.localeCompare(q.name));
    expect(held.map((h) => [h.name, h.waiting])).toEqual([
      ['x', 1],
      ['y', 0],
    ]);
    expect(held.every((h) => h.since >= before && h.since <= Date.now())).toBe(true);
    c.receive(a, { t: 'locks-ask', id: 9 });
    expect(a.got.at(-1)).toEqual({ t: 'locks-held', id: 9, locks: c.held() });
    c.receive(a, { t: 'unlock', name: 'x' });
    expect(c.held().find((h) => h.name === 'x')?.waiting).toBe(0);
  });

  it("a worker's PrimaryLink asks the primary's table", async () => {
    const c = new Coordinator();
    const handlers: ((m: ToWorker) => void)[] = [];
    const p: Peer = { slot: 1, send: (m) => queueMicrotask(() => handlers.forEach((h) => h(m))) };
    c.join(p);
    const link = new PrimaryLink({
      send: (m) => queueMicrotask(() => c.receive(p, m)),
      onMessage: (h) => handlers.push(h),
    });
    const release = await link.acquire('obj');
    expect((await link.held()).map((h) => [h.name, h.waiting])).toEqual([['obj', 0]]);
    release();
    await new Promise((r) => setImmediate(r));
    expect(await link.held()).toEqual([]);
  });

  it('a one-process server lists its own (KeyedMutex)', async () => {
    const m = new KeyedMutex();
    const release = await m.acquire('k');
    const second = m.acquire('k');
    expect((await m.held()).map((h) => [h.name, h.waiting])).toEqual([['k', 1]]);
    release();
    const release2 = await second;
    expect((await m.held()).map((h) => [h.name, h.waiting])).toEqual([['k', 0]]);
    release2();
    expect(await m.held()).toEqual([]);
  });
});
