// Locks across nodes (cluster/dsync.ts) over real HTTP on loopback: four nodes, each with its lock table served on
// its own port. Nodes racing for one name never hold it at the same time; a name held by a node that stops
// (without giving it back) is free again once its grants expire, or at once when that node starts again; with two
// of four nodes gone no lock can be had (503 at once), with one gone locks still work; a grant whose answer came
// too late for a failed request is given back, not left to keep the name taken until it expires; so is one whose
// lock call a node served after its unlock, or whose unlock was lost (a loaded machine, a node handing over). The leader lease
// (leader.ts): one node of four leads; it steps down when a majority stops renewing it, and another node takes
// over once a dead leader's grants expired.
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DsyncLocks, type DsyncOptions } from '../../src/cluster/dsync.js';
import { LockTable } from '../../src/cluster/lock-table.js';
import { Leadership } from '../../src/cluster/leader.js';
import { PeerClient, PeerRoutes } from '../../src/cluster/peers.js';

const creds = { accessKey: 'dsync-test', secretKey: 'dsync-test-secret' };
const log = pino({ level: 'silent' });

interface TestNode {
  server: Server;
  origin: string;
  locks?: DsyncLocks;
  /** Answers this long after doing what was asked (a node too slow for the caller's time limit). */
  lateMs?: number;
  /** Decides when (or whether: `drop`) a request to `route` is served; served at once without it. */
  gate?: (route: string, serve: () => void, drop: () => void, answered: Promise<unknown>) => void;
}

let nodes: TestNode[] = [];

async function startNodes(n: number): Promise<TestNode[]> {
  nodes = await Promise.all(
    Array.from({ length: n }, async () => {
      const routes = new PeerRoutes(creds);
      const node: TestNode = { server: createServer(), origin: '' };
      node.server.on('request', (req, res) => {
        const late = node.lateMs;
        if (late) {
          const end = res.end.bind(res) as (...a: unknown[]) => void;
          res.end = ((...a: unknown[]) => void setTimeout(() => end(...a), late)) as unknown as typeof res.end;
        }
        const route = (req.url ?? '').slice((req.url ?? '').lastIndexOf('/') + 1);
        if (node.gate)
          node.gate(
            route,
            () => routes.handle(req, res),
            () => req.socket.destroy(),
            once(res, 'finish'),
          );
        else routes.handle(req, res);
      });
      node.server.listen(0, '127.0.0.1');
      await once(node.server, 'listening');
      node.origin = `http://127.0.0.1:${(node.server.address() as { port: number }).port}`;
      (node as TestNode & { routes: PeerRoutes }).routes = routes;
      return node;
    }),
  );
  return nodes;
}

function attach(i: number, opts: DsyncOptions = {}): DsyncLocks {
  const node = nodes[i] as TestNode & { routes: PeerRoutes };
  const origins = nodes.map((x) => x.origin);
  node.locks = new DsyncLocks(origins, node.origin, `node${i + 1}`, new PeerClient(creds), node.routes, log, opts);
  return node.locks;
}

async function stopNode(i: number): Promise<void> {
  const s = nodes[i].server;
  s.closeAllConnections();
  await new Promise((r) => s.close(r));
}

/** Node `i` serves its lock table again, on its port. */
async function restartNode(i: number): Promise<void> {
  nodes[i].server.listen(Number(new URL(nodes[i].origin).port), '127.0.0.1');
  await once(nodes[i].server, 'listening');
}

let leaderships: Leadership[] = [];

afterEach(async () => {
  for (const l of leaderships) l.stop();
  leaderships = [];
  for (const n of nodes) {
    n.locks?.stop();
    n.server.closeAllConnections();
    n.server.close();
  }
  nodes = [];
});

describe('LockTable', () => {
  it('grants a name to one request id at a time; a grant not refreshed expires; forget drops a past life; an id given back first is refused', () => {
    let t = 0;
    const table = new LockTable(1000, () => t);
    const a = { name: 'x', uid: 'a', owner: 'node1/boot1' };
    const b = { name: 'x', uid: 'b', owner: 'node2/boot1' };
    expect(table.lock(a)).toBe(true);
    expect(table.lock(a)).toBe(true); // the same request asking again
    expect(table.lock(b)).toBe(false);
    expect(table.unlock({ ...b, uid: 'not-granted' })).toBe(false);
    t = 900;
    expect(table.refresh(a)).toBe(true);
    t = 1800;
    expect(table.lock(b)).toBe(false); // refreshed at 900
    t = 1900;
    expect(table.lock(b)).toBe(true); // a's grant expired
    expect(table.refresh(a)).toBe(false);
    table.forget('node2', 'node2/boot2');
    expect(table.held()).toEqual([]);
    expect(table.lock(a)).toBe(true);
    table.forget('node1', 'node1/boot1');
    expect(table.held().map((g) => g.uid)).toEqual(['a']);

    // A request id given back before it was granted (its lock call arrived late) is refused, as long as a grant
    // would last.
    const late = { name: 'z', uid: 'late', owner: 'node3/boot1' };
    expect(table.unlock(late)).toBe(false);
    expect(table.lock(late)).toBe(false);
    expect(table.lock({ ...late, uid: 'next-round' })).toBe(true);
    expect(table.unlock({ ...late, uid: 'next-round' })).toBe(true);
    t += 1000;
    table.unlock({ ...late, uid: 'other' }); // forgets the ids given back more than 1000 ms ago
    expect(table.lock(late)).toBe(true);
  });
});

describe('DsyncLocks over four nodes', () => {
  it('nodes racing for one name never hold it together, and every request gets it in the end', async () => {
    await startNodes(4);
    const locks = [0, 1, 2, 3].map((i) => attach(i));
    let holders = 0;
    let most = 0;
    let done = 0;
    const rounds = 8;
    await Promise.all(
      locks.flatMap((l) =>
        Array.from({ length: rounds }, async () => {
          const release = await l.acquire('bucket/key');
          holders++;
          most = Math.max(most, holders);
          // Hold it across a few turns of the event loop (and a round trip), as a write does.
          await new Promise((r) => setTimeout(r, 1));
          await fetch(`${nodes[0].origin}/`).catch(() => {});
          holders--;
          done++;
          release();
        }),
      ),
    );
    expect(most).toBe(1);
    expect(done).toBe(4 * rounds);
    // Different names do not wait for each other.
    const [r1, r2] = await Promise.all([locks[0].acquire('a'), locks[1].acquire('b')]);
    expect((await locks[2].held()).map((h) => h.name).sort()).toEqual(['a', 'b']);
    r1();
    r2();
  });

  it('a holder that stops: the name is free once its grants expire, or at once when it starts again', async () => {
    await startNodes(4);
    const opts = { refreshMs: 50, expiryMs: 400, acquireTimeoutMs: 10_000 };
    const [holder, other] = [0, 1, 2, 3].map((i) => attach(i, opts));
    await holder.acquire('k'); // never released: the holder dies (stops refreshing its lease)
    holder.stop();
    const got = await other.acquire('k');
    got();

    // A node started again tells the others to forget its past grants: no wait for the expiry.
    const again = attach(2, { expiryMs: 60_000 });
    await again.acquire('m');
    again.stop();
    const reborn = attach(2, { expiryMs: 60_000 });
    await reborn.announce();
    const fast = attach(3, { expiryMs: 60_000, acquireTimeoutMs: 2000 });
    const r = await fast.acquire('m');
    r();
  });

  it('one node of four down: locks work; two down: acquire fails at once with a 503', async () => {
    await startNodes(4);
    const locks = [0, 1, 2, 3].map((i) => attach(i));
    await stopNode(3);
    const r = await locks[0].acquire('x');
    r();
    await stopNode(2);
    await expect(locks[1].acquire('x')).rejects.toMatchObject({ code: 'InsufficientWriteQuorum', status: 503 });
  });

  it('a grant whose answer came after the time limit is given back when the request fails', async () => {
    await startNodes(4);
    const [asking] = [0, 1, 2, 3].map((i) => attach(i, i === 0 ? { callTimeoutMs: 1000 } : {}));
    nodes[3].lateMs = 2500; // node 4 grants, but its answer misses node 1's time limit
    await stopNode(1);
    await stopNode(2);
    await expect(asking.acquire('x')).rejects.toMatchObject({ code: 'InsufficientWriteQuorum', status: 503 });
    nodes[3].lateMs = 0;
    const held = await new PeerClient(creds).call(nodes[3].origin, 'held', null);
    expect(held.value).toEqual([]);
  }, 30_000);
});

describe('grants given back on a loaded machine', () => {
  /** The grants node `i`'s table holds now. */
  const heldAt = async (i: number) => (await new PeerClient(creds).call(nodes[i].origin, 'held', null)).value;

  it('a lock call that reaches a node after its unlock is refused there, not granted for nobody', async () => {
    await startNodes(4);
    const [asking] = [0, 1, 2, 3].map((i) => attach(i, { callTimeoutMs: 60_000, expiryMs: 60_000 }));
    // Node 4 serves the lock call only once it answered the unlock (they crossed on a loaded machine).
    let unlocked: Promise<unknown> | undefined;
    let served!: (answered: Promise<unknown>) => void;
    const lateLock = new Promise<Promise<unknown>>((r) => (served = r));
    nodes[3].gate = (route, serve, _drop, answered) => {
      if (route === 'unlock') unlocked ??= answered;
      if (route !== 'lock') return serve();
      void (async () => {
        while (!unlocked) await new Promise((r) => setTimeout(r, 10));
        await unlocked;
        serve();
        served(answered);
      })();
    };
    const release = await asking.acquire('x'); // nodes 1-3 granted: a majority
    release();
    await await lateLock;
    // The late lock call answered, node 4 holds nothing: the name is not taken there until the grant expires.
    expect(await heldAt(3)).toEqual([]);
  }, 30_000);

  it('an unlock that was lost on its way is sent again until the node answers', async () => {
    await startNodes(4);
    const [asking] = [0, 1, 2, 3].map((i) => attach(i, { expiryMs: 60_000 }));
    // The first two unlocks are dropped (PeerClient sends a request once more itself when a kept-alive
    // connection is reset under it).
    let unlocks = 0;
    nodes[3].gate = (route, serve, drop) => (route === 'unlock' && ++unlocks <= 2 ? drop() : serve());
    const release = await asking.acquire('y');
    // Node 4's grant may come after the majority's (acquire does not wait for it).
    for (let i = 0; i < 400 && ((await heldAt(3)) as unknown[]).length === 0; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(await heldAt(3)).toHaveLength(1);
    release();
    // Polled: the second unlock comes after a pause (and the first one's failure), later on a loaded machine.
    let grants: unknown;
    for (let i = 0; i < 400 && unlocks < 3; i++) await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 400; i++) {
      grants = await heldAt(3);
      if (Array.isArray(grants) && grants.length === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(unlocks).toBeGreaterThanOrEqual(3);
    expect(grants).toEqual([]);
  }, 60_000);
});

describe('the leader lease over four nodes', () => {
  // A long expiry beside the refresh: a test process stalled for a moment (a loaded machine) loses no lease.
  const opts = { refreshMs: 100, expiryMs: 5000, callTimeoutMs: 500 };

  /** Every node competing for the lease (tries every ~100 ms); `leading[i]`: node i's state as it was told. */
  function compete(): boolean[] {
    const leading = [false, false, false, false];
    leaderships = [0, 1, 2, 3].map((i) => new Leadership(attach(i, opts), log, (on) => (leading[i] = on), 100));
    for (const l of leaderships) l.start();
    return leading;
  }

  const leaders = (leading: boolean[]) => leading.flatMap((on, i) => (on ? [i] : []));

  it('one node leads; cut off from the majority it steps down, and leads again once it can', async () => {
    await startNodes(4);
    const leading = compete();
    await vi.waitFor(() => expect(leaders(leading)).toHaveLength(1), { timeout: 20_000, interval: 20 });
    const first = leaders(leading)[0];
    // The others keep trying; none gets the lease while the leader holds it.
    for (let k = 0; k < 20; k++) {
      await new Promise((r) => setTimeout(r, 25));
      expect(leaders(leading)).toEqual([first]);
    }
    // Two of the three others stop answering: the leader's refresh is granted by 2 of 4 (itself, the third).
    const [a, b] = [0, 1, 2, 3].filter((i) => i !== first);
    await Promise.all([stopNode(a), stopNode(b)]);
    await vi.waitFor(() => expect(leaders(leading)).toEqual([]), { timeout: 20_000, interval: 20 });
    expect(leaderships.every((l) => !l.leading)).toBe(true);
    // Back: a majority again, and one leader.
    await Promise.all([restartNode(a), restartNode(b)]);
    await vi.waitFor(() => expect(leaders(leading)).toHaveLength(1), { timeout: 20_000, interval: 20 });
  }, 60_000);

  it('a leader that dies: another node leads once its grants expired', async () => {
    await startNodes(4);
    const leading = compete();
    await vi.waitFor(() => expect(leaders(leading)).toHaveLength(1), { timeout: 20_000, interval: 20 });
    const dead = leaders(leading)[0];
    // Dead: no more refreshes, nothing given back, nothing answered.
    nodes[dead].locks!.stop();
    await stopNode(dead);
    await vi.waitFor(() => expect(leaders(leading).filter((i) => i !== dead)).toHaveLength(1), {
      timeout: 20_000,
      interval: 20,
    });
  }, 60_000);
});
