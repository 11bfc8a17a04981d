// Locks across the nodes of a distributed deployment, as MinIO's dsync: no lock server, every node keeps a table
// of the names it granted (LockTable, routes `lock`, `unlock`, `refresh`, `forget`, `held`), and a node holds
// a name once a majority of the nodes (n/2 + 1, itself included) granted it to the same request id. A request
// that gets fewer gives back what it got and tries again after a random pause (so two nodes racing cannot
// both win: two majorities share a node, which grants one id at a time). A holder refreshes its lease every
// `refreshMs`; a grant not refreshed for `expiryMs` is dropped (the holder died), and a node that starts again
// tells the others to forget the grants of its previous life at once. When too few nodes answer to ever make
// a majority, or the name stays taken for `acquireTimeoutMs`, acquire fails with a 503 (the write is refused,
// nothing changed). Requests of one node for one name queue in an in-process mutex first, so the nodes see at
// most one request per node and name (as the primary's lock table sees one per worker).
// Grants nobody will give back keep a name taken on their node until they expire (two of them on two of four
// nodes: no majority for 30 s, "the lock of ... stayed taken"). Two ways they were left: on a loaded machine a
// lock call that timed out can reach a node after the unlock sent in its place, so each round of a request asks
// under a request id of its own and a table refuses an id given back before it granted it; and an unlock can be
// lost (a connection reset as a node hands its port over), so one without an answer is sent again.
// A node of several workers (`--workers N`) is still one node: its primary keeps the node's one table (the routes
// of whichever worker a call reaches forward to it, `worker.table`), and each worker asks as `nodeN/wK`, so that
// a worker started again voids its own earlier grants only.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { S3Error } from '../errors.js';
import { KeyedMutex } from '../storage/coordination.js';
import type { HeldLock, Locks, Release } from '../storage/index.js';
import { LOCK_EXPIRY_MS, type LockCall, LockTable, TABLE_ROUTES, tableCall } from './lock-table.js';
import type { PeerClient, PeerRoutes } from './peers.js';

export interface DsyncOptions {
  /** How often a holder refreshes its grants (default 10 s). */
  refreshMs?: number;
  /** A grant not refreshed for this long is dropped (default 30 s). */
  expiryMs?: number;
  /** How long acquire waits for a name others hold (default 30 s). */
  acquireTimeoutMs?: number;
  /** Time limit of one lock call to one node (default 2 s). */
  callTimeoutMs?: number;
}

/** A worker of a node (cluster/worker.ts): its slot, and the node's table in its primary (primary-link.ts). */
export interface DsyncWorker {
  slot: number;
  table(route: string, body: unknown): Promise<unknown>;
}

/** Rounds in a row in which too few nodes answer before acquire fails with InsufficientWriteQuorum. */
const SHORT_ROUNDS = 3;
/** Refreshes in a row a majority did not grant before a lease is given up (tryLease). */
const LEASE_MISSES = 2;

export class DsyncLocks implements Locks {
  private readonly local = new KeyedMutex();
  /** This node's table: here, or in the primary of the node's workers. */
  private readonly table: (route: string, body: unknown) => unknown;
  /** Who asks: `nodeN`, or `nodeN/wK` for worker K of a node of several. */
  private readonly asker: string;
  private readonly owner: string;
  private readonly majority: number;
  private readonly opts: Required<DsyncOptions>;
  /** Lease refresh timers of the locks held now. */
  private readonly refreshing = new Set<NodeJS.Timeout>();
  /** Releases still telling the nodes. */
  private readonly givingBack = new Set<Promise<unknown>>();
  /** stop() was called: unlocks are no longer sent again. */
  private stopped = false;

  constructor(
    /** Every node's origin, this one's included. */
    private readonly nodes: string[],
    private readonly self: string,
    nodeName: string,
    private readonly client: PeerClient,
    routes: PeerRoutes,
    private readonly log: Logger,
    opts: DsyncOptions = {},
    worker?: DsyncWorker,
  ) {
    this.opts = {
      refreshMs: opts.refreshMs ?? 10_000,
      expiryMs: opts.expiryMs ?? LOCK_EXPIRY_MS,
      acquireTimeoutMs: opts.acquireTimeoutMs ?? 30_000,
      callTimeoutMs: opts.callTimeoutMs ?? 2000,
    };
    this.asker = worker ? `${nodeName}/w${worker.slot}` : nodeName;
    this.owner = `${this.asker}/${randomUUID()}`;
    this.majority = Math.floor(nodes.length / 2) + 1;
    const here = new LockTable(this.opts.expiryMs);
    this.table = worker ? (route, body) => worker.table(route, body) : (route, body) => tableCall(here, route, body);
    for (const route of TABLE_ROUTES) routes.set(route, (body) => this.table(route, body));
  }

  /** Tell every node that grants of this node's (worker's) earlier lives are void (best effort: they also expire). */
  async announce(): Promise<void> {
    await Promise.all(this.nodes.map((n) => this.ask(n, 'forget', { node: this.asker, owner: this.owner })));
  }

  /** One call to one node (this one's table directly): its answer, or undefined when it did not answer. */
  private async ask(node: string, route: string, body: unknown): Promise<unknown> {
    if (node === this.self) return this.table(route, body);
    try {
      const a = await this.client.call(node, route, body, this.opts.callTimeoutMs);
      return a.status === 200 ? a.value : undefined;
    } catch {
      return undefined;
    }
  }

  async acquire(name: string): Promise<Release> {
    const local = await this.local.acquire(name);
    try {
      return this.holding(await this.take(name), local);
    } catch (e) {
      local();
      throw e;
    }
  }

  /**
   * Until a majority granted `name`: each round asks every node under a new request id, gives back what it may
   * have been granted (by the nodes that said yes, and by those whose answer did not arrive in time: a grant
   * left there would keep the name taken until it expires; a lock call that arrives after its unlock is refused
   * there, LockTable.givenBack), pauses. Answers the call a majority granted.
   */
  private async take(name: string, timeoutMs = this.opts.acquireTimeoutMs): Promise<LockCall> {
    const deadline = Date.now() + timeoutMs;
    let short = 0;
    for (let round = 0; ; round++) {
      const c = { name, uid: randomUUID(), owner: this.owner };
      const asked = this.nodes.map((n) => this.ask(n, 'lock', c));
      // Granted by a majority: taken, without waiting for a node that does not answer (hung, black-holed); a
      // late grant of its is refreshed and given back with the others.
      if (await this.majorityOf(asked, (a) => a === true)) return c;
      const answers = await Promise.all(asked);
      await Promise.all(this.nodes.filter((_, i) => answers[i] !== false).map((n) => this.giveBack(n, c).first));
      const answered = answers.filter((a) => a !== undefined).length;
      // Too few nodes answer: a node cut off from the majority (or most nodes down) fails at once; a few
      // rounds first, so that nodes busy starting (a blocked event loop for a second) are not taken for gone.
      short = answered < this.majority ? short + 1 : 0;
      if (short >= SHORT_ROUNDS)
        throw new S3Error(
          'InsufficientWriteQuorum',
          `${answered} of ${this.nodes.length} nodes answer the lock of ${c.name}`,
        );
      if (Date.now() > deadline) throw new S3Error('SlowDown', `the lock of ${c.name} stayed taken`);
      // Random, growing pauses: two nodes that keep colliding drift apart.
      const cap = Math.min(250, 5 * 2 ** Math.min(round, 6));
      await new Promise((r) => setTimeout(r, Math.random() * cap));
    }
  }

  /**
   * A lease on `name` (the leader's, cluster/leader.ts), tried for at most `waitMs`: its release once a majority
   * granted it, null when they did not. Unlike a lock held for one write, a lease is given up (its grants given
   * back, `lost` called) when refreshes are granted by fewer than a majority: at once when so many nodes refuse
   * it (its grants expired while this node stalled, another holds it) that no majority is left, else after
   * LEASE_MISSES refreshes in a row (this node cut off; one refresh may just meet slow nodes). The holder stops
   * before another node can take the name: the others' grants expire `expiryMs` after the last refresh they
   * heard (30 s against 2 x 10 s plus the call limit by default).
   */
  async tryLease(name: string, waitMs: number, lost: () => void): Promise<Release | null> {
    let c: LockCall;
    try {
      c = await this.take(name, waitMs);
    } catch {
      return null;
    }
    return this.holding(c, () => {}, lost);
  }

  /**
   * The release of a held lock; its lease is refreshed until then. A refresh a majority no longer grants is
   * logged, or, with `lost` (a lease), ends the hold.
   */
  private holding(c: LockCall, local: Release, lost?: () => void): Release {
    let misses = 0;
    const timer = setInterval(() => {
      void Promise.all(this.nodes.map((n) => this.ask(n, 'refresh', c))).then((answers) => {
        const kept = answers.filter((a) => a === true).length;
        if (released) return;
        if (kept >= this.majority) {
          misses = 0;
          return;
        }
        this.log.warn(`lock ${c.name}: only ${kept} of ${this.nodes.length} nodes still grant it`);
        const refused = answers.filter((a) => a === false).length;
        if (!lost || (++misses < LEASE_MISSES && refused <= this.nodes.length - this.majority)) return;
        release();
        lost();
      });
    }, this.opts.refreshMs);
    timer.unref();
    this.refreshing.add(timer);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      clearInterval(timer);
      this.refreshing.delete(timer);
      // Given back in the background (a node that does not hear it drops the grant when it expires); this
      // node's next request for the name goes once the others heard it, so that it does not find it taken.
      const unlocks = this.nodes.map((n) => this.giveBack(n, c));
      // This node's next request for the name waits until a majority heard (not for a node that hangs).
      void this.majorityOf(
        unlocks.map((u) => u.first),
        (a) => a !== undefined,
      ).finally(local);
    };
    return release;
  }

  /**
   * Tells `node` to give `c` back: `first` is the answer to the first call (undefined: none came). An unlock that
   * got no answer may never have arrived (a connection reset as the node handed its port over, a call lost on a
   * loaded machine), and its grant would keep the name taken there until it expires: it is sent again, with
   * growing pauses, until the node answers, for at most `expiryMs` or until stop() (settle() waits for the
   * first calls only).
   */
  private giveBack(node: string, c: LockCall): { first: Promise<unknown> } {
    const first = this.ask(node, 'unlock', c);
    const until = Date.now() + this.opts.expiryMs;
    const again = async (answer: unknown) => {
      for (let pause = 100; answer === undefined && !this.stopped; pause = Math.min(2 * pause, 2000)) {
        if (Date.now() + pause > until) return;
        await new Promise((r) => setTimeout(r, pause).unref());
        answer = await this.ask(node, 'unlock', c);
      }
    };
    void first.then(again);
    this.givingBack.add(first);
    void first.finally(() => this.givingBack.delete(first));
    return { first };
  }

  /** true as soon as a majority of `answers` pass `ok`; false once they all came and too few did. */
  private majorityOf(answers: Promise<unknown>[], ok: (a: unknown) => boolean): Promise<boolean> {
    return new Promise((resolve) => {
      let passed = 0;
      let settled = 0;
      for (const a of answers)
        void a.then((v) => {
          if (ok(v) && ++passed === this.majority) resolve(true);
          if (++settled === answers.length) resolve(passed >= this.majority);
        });
    });
  }

  /** Until the grants given back so far were heard (or failed): before the node closes its connections. */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.givingBack]);
  }

  /** The names held across the nodes (each once, with the earliest grant time). */
  async held(): Promise<HeldLock[]> {
    const all = await Promise.all(this.nodes.map((n) => this.ask(n, 'held', null)));
    const byName = new Map<string, HeldLock>();
    for (const list of all)
      for (const g of (list as { name: string; since: number }[] | undefined) ?? []) {
        const known = byName.get(g.name);
        if (!known || g.since < known.since) byName.set(g.name, { name: g.name, since: g.since, waiting: 0 });
      }
    return [...byName.values()];
  }

  /** No more refreshes (the server is closing): what this node still holds expires on the other nodes. */
  stop(): void {
    this.stopped = true;
    for (const t of this.refreshing) clearInterval(t);
    this.refreshing.clear();
  }
}
