// The change bus between nodes (cluster/peer-bus.ts) over real HTTP on loopback: changes published while a node is
// down (several at once, as a PUT's listing change and a heal request are) leave it out once; back, it is told it
// missed changes, then takes changes again. Before, each failed change started its own retry loop, and the second
// loop to run found nothing left to retry and crashed the process (TypeError in a timer). A node whose post timed
// out (slow, not gone) is told `missed` at once, not after the retry period: it re-reads its caches. A node of
// several workers (their primary's relay: coordinator.ts and primary-link.ts, in memory) takes a node back in
// every worker when one of them hears its hello.
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PeerBus } from '../../src/cluster/peer-bus.js';
import { Coordinator } from '../../src/cluster/coordinator.js';
import { PeerClient, PeerRoutes } from '../../src/cluster/peers.js';
import { PrimaryLink } from '../../src/cluster/primary-link.js';
import type { ToWorker } from '../../src/cluster/protocol.js';
import type { Change } from '../../src/storage/index.js';

const creds = { accessKey: 'bus-test', secretKey: 'bus-test-secret' };
const log = pino({ level: 'silent' });
const servers: Server[] = [];
const clients: PeerClient[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
  for (const c of clients.splice(0)) c.close();
});

/**
 * A node's bus on `port` (0: any), and the changes it received. `refuseFirst`: its first request is answered
 * 503, as a node's start-up listener answers a route not registered yet.
 */
async function busNode(
  others: string[],
  port = 0,
  refuseFirst = false,
  opts: { skipMs?: number; apply?: (c: Change) => void | Promise<void>; siblings?: PrimaryLink } = {},
): Promise<{ bus: PeerBus; origin: string; got: Change[] }> {
  const routes = new PeerRoutes(creds);
  const client = new PeerClient(creds);
  clients.push(client);
  const bus = new PeerBus(client, others, routes, log, opts.skipMs, opts.siblings);
  const got: Change[] = [];
  bus.subscribe((c) => void got.push(c));
  if (opts.apply) bus.subscribe(opts.apply);
  let refuse = refuseFirst;
  const server = createServer((req, res) => {
    if (!refuse) return routes.handle(req, res);
    refuse = false;
    req.resume();
    res.writeHead(503).end();
  });
  servers.push(server);
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return { bus, origin: `http://127.0.0.1:${(server.address() as { port: number }).port}`, got };
}

/** A loopback URL nobody listens on yet: a node that is down. */
async function downNode(): Promise<{ port: number; origin: string }> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r));
  return { port, origin: `http://127.0.0.1:${port}` };
}

const change = (dir: string): Change => ({ type: 'dir', set: 0, dir });

/** The links of `n` workers of one node to their primary's coordinator, the messages passed in memory. */
function workersOfNode(n: number): PrimaryLink[] {
  const coordinator = new Coordinator();
  return Array.from({ length: n }, (_, i) => {
    let handler: (m: ToWorker) => void = () => {};
    const peer = { slot: i + 1, send: (m: ToWorker) => void setImmediate(() => handler(m)) };
    coordinator.join(peer);
    return new PrimaryLink({
      send: (m) => void setImmediate(() => coordinator.receive(peer, m)),
      onMessage: (h) => (handler = h),
    });
  });
}

describe('PeerBus', () => {
  it('a node left out while it started is taken back at once when it says hello, before it serves', async () => {
    const down = await downNode();
    const a = await busNode([down.origin]);
    await a.bus.publish(change('while-down')); // refused: A leaves it out
    const b = await busNode([a.origin], down.port);
    await b.bus.hello(down.origin);
    // Without the hello, A would skip B until its retry 2 s later: this change would not reach B.
    await a.bus.publish(change('first'));
    expect(b.got).toEqual([change('first')]);
  });

  it('a node of two workers takes a node back in both when one of them hears its hello', async () => {
    const down = await downNode();
    const [l1, l2] = workersOfNode(2);
    // Only the hello can take the node back here: the retry period is far longer than the test.
    const a1 = await busNode([down.origin], 0, false, { siblings: l1, skipMs: 600_000 });
    const a2 = await busNode([down.origin], 0, false, { siblings: l2, skipMs: 600_000 });
    await a2.bus.publish(change('while-down')); // refused: worker 2 leaves the node out (worker 1 applied it)
    expect(a1.got).toEqual([change('while-down')]);
    const b = await busNode([a1.origin], down.port);
    await b.bus.hello(down.origin); // reaches worker 1 only, which tells worker 2
    await a2.bus.publish(change('first'));
    expect(b.got).toEqual([change('first')]);
    expect(a2.got).toEqual([]);
  });

  it('a change refused once (503) is posted again: the node gets it and is not left out', async () => {
    const b = await busNode([], 0, true);
    const a = await busNode([b.origin]);
    await a.bus.publish(change('one'));
    await a.bus.publish(change('two'));
    expect(b.got).toEqual([change('one'), change('two')]);
  });

  it('changes that fail together leave a node out once; back, it is told it missed them and takes changes again', async () => {
    const { port, origin: down } = await downNode();
    const a = await busNode([down]);
    await Promise.all([a.bus.publish(change('x')), a.bus.publish(change('y')), a.bus.publish(change('z'))]);

    const b = await busNode([a.origin], port);
    // Retried every 2 s: B hears `missed` (and none of the changes it missed), then A's changes again.
    await vi.waitFor(() => expect(b.got).toContainEqual({ type: 'missed' }), { timeout: 20_000, interval: 100 });
    expect(b.got.filter((c) => c.type === 'dir')).toEqual([]);
    await vi.waitFor(
      async () => {
        await a.bus.publish(change('after'));
        expect(b.got).toContainEqual(change('after'));
      },
      { timeout: 20_000, interval: 200 },
    );
    // Past a second retry period: no loop left to run and crash.
    await new Promise((r) => setTimeout(r, 2500));
  }, 60_000);

  it('a node whose post timed out is told `missed` at once and answers fresh data, not after the retry period', async () => {
    // B's cache of one value: a change to it hangs in B (a slow node) until the test lets it go; `missed` re-reads.
    const stored = { value: 'old' };
    let cached = stored.value;
    let release = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const b = await busNode([], 0, false, {
      apply: async (c) => {
        if (c.type === 'dir' && c.dir === 'slow') await gate;
        cached = stored.value;
      },
    });
    // The retry period is made far longer than the test's polls: only the immediate `missed` can refresh B.
    const a = await busNode([b.origin], 0, false, { skipMs: 600_000 });
    try {
      stored.value = 'new';
      await a.bus.publish(change('slow')); // times out (the client's 5 s): A leaves B out
      expect(cached).toBe('old');
      await vi.waitFor(() => expect(b.got).toContainEqual({ type: 'missed' }), { timeout: 60_000, interval: 100 });
      expect(cached).toBe('new');
      // B is taken back once its re-read answered: A's next changes reach it again.
      await vi.waitFor(
        async () => {
          await a.bus.publish(change('after'));
          expect(b.got).toContainEqual(change('after'));
        },
        { timeout: 60_000, interval: 200 },
      );
    } finally {
      release();
    }
  }, 180_000);
});
