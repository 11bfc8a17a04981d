// Draining a server pool (MinIO's decommission, cmd/erasure-server-pool-decom.go): the pool takes no new
// objects; every version of every key it holds (the system bucket's too) is moved to the other pools under
// the key's lock (engine/move.ts), so objects stay readable throughout; then the pool holds nothing and can
// leave the command line. Progress is kept in the deployment's pool list (pool-list.ts: on every drive of every
// pool), so a restart resumes a drain under way, a drained pool still on the command line takes no new objects,
// and a start without a pool that is not drained is refused.
// With several workers (each a ServerPools of its own) one of them leads: it runs the drains and alone writes the
// pool list. The leader is the holder of the lease LEASE on the workers' shared locks; every worker asks for it at
// start, and when the holder's process is gone (killed, crashed: the primary drops its locks) the next one that asked
// has it, reads the pool list again from the drives and takes over a drain under way (the moves are idempotent; a
// key half moved is finished). A worker restarted meanwhile waits behind it, so one worker drains at a time. A start
// or cancel asked of another worker goes to the leader over the change bus (a `pools` notice) and its answer comes
// back the same way (503 ServiceUnavailable, to retry, when none answers: the leader hung, or between two leaders);
// the leader tells every worker the list after each write (the suspended pools, the status they answer), before
// anything moves; and before the first key moves it asks every worker to move its own event queues off the pool
// (ServerPools.beforeDrain), and fails the drain when one could not. A node with drives in no other pool cannot move
// its queues: they leave with the pool, so once every object moved the drain asks every node for the events still
// queued on the pool's drives (ServerPools.queuedOn, a `queued` notice) and completes only when none is left (their
// targets took them); a node the bus does not reach (down) counts none: its queue waits on its drives for its return.
// Pools of nodes (a distributed deployment) work the same over dsync and the peer bus, but the leader is the node
// holding the deployment's leader lease (cluster/leader.ts calls setLeader): it reads the list again and resumes a
// drain under way; a node that loses the lease stops its drain at the next key. A node the bus left out (`missed`)
// reads the list again from the drives.
import { randomUUID } from 'node:crypto';
import { S3Error, type S3ErrorCode } from '../errors.js';
import type { Release } from './coordination.js';
import type { ErasureObjects } from './engine/erasure-objects.js';
import { SYSTEM_BUCKET } from './object-layer.js';
import type { PoolEntry } from './pool-list.js';
import type { ServerPools } from './pools.js';

/** Passes over the pool before a drain that keeps finding keys gives up (writes that chose it before it drained). */
const MAX_PASSES = 5;

/**
 * Passes that try again the keys an earlier pass could not move (or a pass a listing error cut short) before the
 * drain fails, after a pause that doubles from RETRY_PAUSE_MS: what fails one move is often gone a few seconds later
 * (a node killed mid-move: its key locks expire, its drives go offline, a half-written copy is finished).
 */
const MAX_RETRIES = 4;
const RETRY_PAUSE_MS = 1000;

const TOPIC = 'pools';

/** How often a drain whose objects all moved asks again for the events still queued on the pool's drives. */
const QUEUED_POLL_MS = 500;

/** The workers' lock whose holder leads the drains (storage/coordination.ts lists it). */
export const LEASE = 'pools-leader';

/** What the workers tell each other about drains (the data of a `pools` notice on the change bus). */
type PoolsMessage =
  /** The leader's pool list, as it just wrote it. */
  | { kind: 'state'; entries: PoolEntry[] }
  /** A worker asks the leader to start or cancel the drain of a pool; `id` names the answer. */
  | { kind: 'call'; id: string; op: 'decommission' | 'cancel'; pool: number }
  /** The leader's answer: nothing, or the S3 error the call failed with. */
  | { kind: 'answer'; id: string; error?: { code: string; message: string } }
  /** The leader asks every worker to move its event queues off the pool about to drain. */
  | { kind: 'queues'; id: string; pool: number }
  /** A worker could not. */
  | { kind: 'queues-failed'; id: string; error: string }
  /** The leader asks how many events every worker (node) still holds queued on the pool's drives. */
  | { kind: 'queued'; id: string; pool: number }
  /** A worker's answer (only when it holds some). */
  | { kind: 'queued-count'; id: string; count: number };

/** madmin.PoolDecommissionInfo, as `mc admin decommission status` reads it. */
export interface PoolDecommissionInfo {
  startTime: string;
  startSize: number;
  totalSize: number;
  currentSize: number;
  complete: boolean;
  failed: boolean;
  canceled: boolean;
  objectsDecommissioned: number;
  objectsDecommissionedFailed: number;
  bytesDecommissioned: number;
  bytesDecommissionedFailed: number;
  /**
   * Cairn's: the versions (delete markers included) and bytes the pool held when the drain began, counted by
   * one listing before the first move and kept with the state (a restart does not count again); absent while
   * that count runs. The progress of a drain is moved (and failed) against these, not MinIO's free space.
   */
  objectsTotal?: number;
  bytesTotal?: number;
}

/** madmin.PoolStatus. */
export interface PoolStatus {
  id: number;
  cmdline: string;
  lastUpdate: string;
  decommissionInfo?: PoolDecommissionInfo;
}

/** The drains of a ServerPools: one at a time, one key at a time. */
export class Decommissions {
  private running?: { pool: number; stop: boolean; done: Promise<void> };
  /** Answers to this worker's calls to the leader, by id, as they arrive. */
  private readonly answers = new Map<string, PoolsMessage & { kind: 'answer' }>();
  /** The leader's requests to move queues: the workers that said they could not, by request id. */
  private readonly queueFailures = new Map<string, string[]>();
  /** The leader's asks for the events queued on a pool: the counts answered, by request id. */
  private readonly queuedCounts = new Map<string, number[]>();

  /** This worker runs the drains: the one process, or the workers' holder of LEASE. */
  private leads: boolean;
  /** The lease, while this worker holds it. */
  private lease?: Release;
  private closed = false;
  /** Pools of nodes: this node holds the leader lease (setLeader's last word). */
  private wanted = true;
  /** Pools of nodes: the last step down's drain ended, then the lead taken (setLeader), one after the other. */
  private leading: Promise<void> = Promise.resolve();

  constructor(private readonly pools: ServerPools) {
    this.leads = !pools.shared;
    pools.shared?.bus.subscribe((c) => {
      if (c.type === 'notice' && c.topic === TOPIC) return this.receive(c.data as PoolsMessage);
      // A node left out by the bus may have missed the leader's list: it reads it again from the drives.
      if (c.type === 'missed' && !this.leads) return this.reread();
    });
  }

  private async reread(): Promise<void> {
    await this.pools.list.reload();
    if (!this.leads) this.suspend();
  }

  /** Each pool's entry in the pool list (its drain, if one was started). */
  private get state(): PoolEntry[] {
    return this.pools.list.entries;
  }

  /** Drained pools take no new objects, a drain under way goes on (in the leader, with several workers). */
  start(): void {
    this.suspend();
    if (!this.pools.shared) return this.resume();
    // Nodes: the leader lease's holder leads (setLeader).
    if (this.pools.shared.nodes) return;
    this.lead().catch((e: unknown) => this.pools.log.warn(`the lead of decommissions not taken: ${String(e)}`));
  }

  /**
   * Pools of nodes: this node took the deployment's leader lease (it leads from now on), or lost it (its drain
   * stops at the next key; the next leader resumes it: moves are idempotent).
   */
  setLeader(on: boolean): void {
    if (!this.pools.shared?.nodes || this.closed) return;
    this.wanted = on;
    if (on) {
      this.leading = this.leading
        .then(() => this.takeLead())
        .catch((e: unknown) => this.pools.log.warn(`the lead of decommissions not taken: ${String(e)}`));
      return;
    }
    this.leads = false;
    if (this.running) this.running.stop = true;
  }

  private async takeLead(): Promise<void> {
    await this.running?.done;
    await this.becomeLeader();
  }

  /** Waits for the lease (another worker may hold it until its process is gone), then leads. */
  private async lead(): Promise<void> {
    const release = await this.pools.shared!.locks.acquire(LEASE);
    if (this.closed) return release();
    this.lease = release;
    await this.becomeLeader();
  }

  private async becomeLeader(): Promise<void> {
    // The list as the last leader left it: it may have written it and died before telling the others.
    await this.pools.list.reload();
    if (this.closed || !this.wanted) return;
    this.suspend();
    this.leads = true;
    this.pools.log.info(
      this.pools.shared?.nodes
        ? "this node leads the server pools' decommissions"
        : "this worker leads the server pools' decommissions",
    );
    await this.publish({ kind: 'state', entries: this.state });
    this.resume();
  }

  /** Runs the drains the list says are under way. */
  private resume(): void {
    for (let i = 0; i < this.pools.pools.length; i++) {
      const d = this.state[i].decommission;
      // A worker that takes the lead asks every worker to move its queues again (the leader may have died first).
      if (d && !d.complete && !d.canceled && !d.failed) this.run(i, !this.pools.shared);
    }
  }

  /** The pools being drained or drained, as the list says, take no new objects. */
  private suspend(): void {
    for (let i = 0; i < this.pools.pools.length; i++) {
      const d = this.state[i].decommission;
      if (d && !d.canceled && !d.failed) this.pools.suspended.add(i);
      else this.pools.suspended.delete(i);
    }
  }

  /** The pool named as on the command line (or by its index with byId). */
  indexOf(name: string, byId = false): number {
    const i = byId ? (/^\d+$/.test(name) ? Number(name) : -1) : this.pools.args.indexOf(name);
    if (i < 0 || i >= this.pools.pools.length)
      throw new S3Error(
        'XMinioAdminInvalidArgument',
        `specified pool '${name}' not found, please specify a valid pool`,
      );
    return i;
  }

  async status(i: number): Promise<PoolStatus> {
    const s = this.state[i];
    const out: PoolStatus = { id: i, cmdline: this.pools.args[i], lastUpdate: s.lastUpdate };
    if (s.decommission) {
      const space = await spaceOf(this.pools.pools[i]);
      out.decommissionInfo = { ...s.decommission, currentSize: space.free, totalSize: space.total };
    }
    return out;
  }

  async list(): Promise<PoolStatus[]> {
    return Promise.all(this.pools.pools.map((_, i) => this.status(i)));
  }

  /** Starts draining pool i (one drain at a time; another pool must stay to take its objects). */
  async decommission(i: number): Promise<void> {
    if (!this.leads) return this.forward('decommission', i);
    if (this.running) throw new S3Error('XMinioDecommissionNotAllowed', 'a decommission is already running');
    const open = this.pools.pools.filter((_, j) => j !== i && !this.pools.suspended.has(j)).length;
    if (open === 0)
      throw new S3Error('XMinioDecommissionNotAllowed', 'no other pool would be left to take the objects');
    const prev = this.state[i].decommission;
    if (prev?.complete) throw new S3Error('XMinioDecommissionNotAllowed', 'the pool is decommissioned already');
    const space = await spaceOf(this.pools.pools[i]);
    const now = new Date().toISOString();
    this.state[i].decommission = {
      startTime: now,
      startSize: space.free,
      totalSize: space.total,
      currentSize: space.free,
      complete: false,
      failed: false,
      canceled: false,
      objectsDecommissioned: 0,
      objectsDecommissionedFailed: 0,
      bytesDecommissioned: 0,
      bytesDecommissionedFailed: 0,
    };
    this.pools.suspended.add(i);
    try {
      await this.save(i);
    } catch (e) {
      // Not started: the list on the drives may not say so (no write quorum), so nothing moves.
      if (prev) this.state[i].decommission = prev;
      else delete this.state[i].decommission;
      this.suspend();
      throw new S3Error('InsufficientWriteQuorum', `the decommission could not be saved: ${String(e)}`);
    }
    this.run(i, false);
  }

  /** Stops the drain of pool i: what moved stays moved, and the pool takes new objects again. */
  async cancel(i: number): Promise<void> {
    if (!this.leads) return this.forward('cancel', i);
    const d = this.state[i].decommission;
    if (!d || d.complete || d.canceled || d.failed)
      throw new S3Error('XMinioDecommissionNotAllowed', 'no decommission of this pool is running');
    if (this.running?.pool === i) {
      this.running.stop = true;
      await this.running.done;
    }
    d.canceled = true;
    this.pools.suspended.delete(i);
    await this.save(i);
  }

  /** A start or cancel asked of a worker that does not lead: the leader does it, and its answer is this one's. */
  private async forward(op: 'decommission' | 'cancel', pool: number): Promise<void> {
    const id = randomUUID();
    // Resolves once every other worker applied the call: the leader only after its answer reached this one.
    await this.publish({ kind: 'call', id, op, pool });
    const answer = this.answers.get(id);
    this.answers.delete(id);
    if (!answer)
      throw new S3Error(
        'ServiceUnavailable',
        `no ${this.pools.shared?.nodes ? 'node' : 'worker'} leads decommissions now (the leader hung, or another is taking over): retry`,
      ).withHeaders({ 'retry-after': '1' });
    if (answer.error) throw new S3Error(answer.error.code as S3ErrorCode, answer.error.message);
  }

  private publish(m: PoolsMessage): Promise<void> {
    return this.pools.shared!.bus.publish({ type: 'notice', topic: TOPIC, data: m });
  }

  /** Another worker's message (the publisher waits until this resolves). */
  private async receive(m: PoolsMessage): Promise<void> {
    switch (m.kind) {
      case 'state':
        if (this.leads) return;
        m.entries.forEach((e, i) => {
          if (this.state[i]?.id === e.id) this.state[i] = e;
        });
        return this.suspend();
      case 'call': {
        if (!this.leads) return;
        let error: { code: string; message: string } | undefined;
        try {
          await (m.op === 'decommission' ? this.decommission(m.pool) : this.cancel(m.pool));
        } catch (e) {
          error =
            e instanceof S3Error
              ? { code: e.code, message: e.message }
              : { code: 'InternalError', message: 'the decommission call failed' };
          if (!(e instanceof S3Error)) this.pools.log.warn(`decommission ${m.op} of pool ${m.pool}: ${String(e)}`);
        }
        return this.publish({ kind: 'answer', id: m.id, ...(error ? { error } : {}) });
      }
      case 'answer':
        this.answers.set(m.id, m);
        return;
      case 'queues':
        if (this.leads) return;
        try {
          await this.pools.beforeDrain?.(m.pool);
        } catch (e) {
          this.pools.log.warn(`event queues not moved off pool ${this.pools.args[m.pool]}: ${String(e)}`);
          return this.publish({ kind: 'queues-failed', id: m.id, error: String(e) });
        }
        return;
      case 'queues-failed':
        this.queueFailures.get(m.id)?.push(m.error);
        return;
      case 'queued': {
        if (this.leads) return;
        const count = this.pools.queuedOn?.(m.pool) ?? 0;
        if (count > 0) return this.publish({ kind: 'queued-count', id: m.id, count });
        return;
      }
      case 'queued-count':
        this.queuedCounts.get(m.id)?.push(m.count);
        return;
    }
  }

  /** The events queued on pool i's drives, in this process and (asked over the bus) every other worker or node. */
  private async queuedOn(i: number): Promise<number> {
    const own = this.pools.queuedOn?.(i) ?? 0;
    if (!this.pools.shared) return own;
    const id = randomUUID();
    this.queuedCounts.set(id, []);
    try {
      // Resolves once every other one answered (its count published before its handler returns).
      await this.publish({ kind: 'queued', id, pool: i });
      return this.queuedCounts.get(id)!.reduce((a, b) => a + b, own);
    } finally {
      this.queuedCounts.delete(id);
    }
  }

  /**
   * Waits until no event is left queued on pool i's drives (the queues of nodes with drives in no other pool, which
   * leave with it): their senders deliver them (a target down: the drain waits, and says so once). False: stopped.
   */
  private async queuesEmptied(i: number, stopping: () => boolean): Promise<boolean> {
    let said = false;
    for (;;) {
      if (stopping()) return false;
      const n = await this.queuedOn(i);
      if (n === 0) return true;
      if (!said)
        this.pools.log.info(
          `decommission of pool ${this.pools.args[i]}: every object moved; waiting for the ${n} events queued on ` +
            'its drives (the event queues of nodes that leave with it) to be delivered',
        );
      said = true;
      await new Promise((r) => setTimeout(r, QUEUED_POLL_MS));
    }
  }

  /** This process's event queues, then every other worker's, leave pool i (the drain fails when one could not). */
  private async moveQueues(i: number): Promise<void> {
    await this.pools.beforeDrain?.(i);
    if (!this.pools.shared) return;
    const id = randomUUID();
    this.queueFailures.set(id, []);
    try {
      await this.publish({ kind: 'queues', id, pool: i });
      const failed = this.queueFailures.get(id)!;
      if (failed.length > 0)
        throw new Error(`event queues of ${failed.length} workers not moved: ${failed.join('; ')}`);
    } finally {
      this.queueFailures.delete(id);
    }
  }

  /** Resolves once no drain runs (close); the lease goes back. */
  async stop(): Promise<void> {
    this.closed = true;
    if (this.running) {
      this.running.stop = true;
      await this.running.done;
    }
    this.leads = !this.pools.shared;
    this.lease?.();
    this.lease = undefined;
  }

  /** `resumed`: a drain found under way at start (the queues are off the pool already: see beforeDrain). */
  private run(i: number, resumed: boolean): void {
    const job = { pool: i, stop: false, done: Promise.resolve() };
    job.done = this.drain(i, resumed, () => job.stop)
      .catch((e: unknown) => {
        this.pools.log.warn(`decommission of pool ${this.pools.args[i]} failed: ${String(e)}`);
        const d = this.state[i].decommission;
        if (d) d.failed = true;
        this.pools.suspended.delete(i);
        return this.save(i).catch(() => {});
      })
      .finally(() => {
        if (this.running === job) this.running = undefined;
      });
    this.running = job;
  }

  private async drain(i: number, resumed: boolean, stopping: () => boolean): Promise<void> {
    const from = this.pools.pools[i];
    const d = this.state[i].decommission!;
    if (!resumed) await this.moveQueues(i);
    if (d.objectsTotal === undefined) {
      const size = await this.retrying(i, 'counting its objects', stopping, () => sizeOf(from, stopping));
      if (!size) return;
      d.objectsTotal = size.objects;
      d.bytesTotal = size.bytes;
      await this.saveProgress(i);
    }
    let lastSave = Date.now();
    // Passes until one finds nothing left: a PUT that chose this pool just before the drain began commits
    // here after its key was passed over, and the next pass takes it. A pass that could not move some keys
    // (or could not list) is followed by another after a pause, at most MAX_RETRIES times.
    let passes = 0;
    let retries = 0;
    for (;;) {
      let found = 0;
      let failed = 0;
      d.objectsDecommissionedFailed = 0;
      try {
        const buckets = [SYSTEM_BUCKET, ...(await from.listBuckets()).map((b) => b.name)];
        for (const bucket of buckets) {
          let keyMarker: string | undefined;
          for (;;) {
            if (stopping()) return;
            const page = await from.listObjectVersions(bucket, { keyMarker, maxKeys: 1000 });
            const keys = [...new Set(page.versions.map((v) => v.key))];
            found += keys.length;
            for (const key of keys) {
              if (stopping()) return;
              try {
                const moved = await this.pools.moveOut(i, bucket, key);
                d.objectsDecommissioned += moved.versions;
                d.bytesDecommissioned += moved.bytes;
              } catch (e) {
                failed++;
                d.objectsDecommissionedFailed++;
                this.pools.log.warn(`decommission: ${bucket}/${key} not moved (pass ${passes + 1}): ${String(e)}`);
              }
              if (Date.now() - lastSave > 1000) {
                lastSave = Date.now();
                await this.saveProgress(i);
              }
            }
            if (!page.isTruncated) break;
            keyMarker = page.nextKeyMarker;
          }
        }
      } catch (e) {
        if (stopping()) return;
        failed++;
        this.pools.log.warn(`decommission of pool ${this.pools.args[i]}: pass ${passes + 1} cut short: ${String(e)}`);
      }
      passes++;
      if (failed > 0) {
        // The pool keeps what could not be moved: tried again after a pause, then the drain fails (and the pool
        // takes objects again).
        if (retries === MAX_RETRIES)
          throw new Error(`${failed} keys could not be moved (the last of ${passes} passes over the pool)`);
        const pause = RETRY_PAUSE_MS * 2 ** retries++;
        this.pools.log.info(
          `decommission of pool ${this.pools.args[i]}: ${failed} keys not moved; another pass in ${pause} ms`,
        );
        if (!(await pauseUnless(pause, stopping))) return;
        continue;
      }
      if (found === 0) break;
      if (passes - retries >= MAX_PASSES) throw new Error(`keys still arriving after ${MAX_PASSES} passes`);
    }
    if (!(await this.queuesEmptied(i, stopping))) return;
    const saved = await this.retrying(i, 'saving its end', stopping, async () => {
      d.complete = true;
      try {
        await this.save(i);
      } catch (e) {
        d.complete = false;
        throw e;
      }
      return true;
    });
    if (!saved) return;
    this.pools.log.info(`decommission of pool ${this.pools.args[i]} complete: it can leave the command line`);
  }

  /** fn, tried again after a doubling pause while it fails, at most MAX_RETRIES times; undefined: stopped. */
  private async retrying<T>(
    i: number,
    what: string,
    stopping: () => boolean,
    fn: () => Promise<T>,
  ): Promise<T | undefined> {
    for (let retry = 0; ; retry++) {
      try {
        return await fn();
      } catch (e) {
        if (stopping()) return undefined;
        if (retry === MAX_RETRIES) throw e;
        const pause = RETRY_PAUSE_MS * 2 ** retry;
        this.pools.log.warn(
          `decommission of pool ${this.pools.args[i]}: ${what} failed (${String(e)}); again in ${pause} ms`,
        );
        if (!(await pauseUnless(pause, stopping))) return undefined;
      }
    }
  }

  /**
   * The drain's progress written down as it goes: a failed write is logged and left to the next one (a node
   * just killed may cost the list's write quorum for a moment); the drain's start, failure and end must be saved.
   */
  private async saveProgress(i: number): Promise<void> {
    try {
      await this.save(i);
    } catch (e) {
      this.pools.log.warn(`decommission of pool ${this.pools.args[i]}: progress not saved: ${String(e)}`);
    }
  }

  /** Writes the list, then (several workers) tells the others, who apply it before this resolves. */
  private async save(i: number): Promise<void> {
    this.state[i].lastUpdate = new Date().toISOString();
    await this.pools.list.save();
    if (this.pools.shared) await this.publish({ kind: 'state', entries: this.state });
  }
}

/** Waits `ms` unless the drain is stopped meanwhile (checked every 100 ms); false: stopped. */
async function pauseUnless(ms: number, stopping: () => boolean): Promise<boolean> {
  for (const until = Date.now() + ms; Date.now() < until; ) {
    if (stopping()) return false;
    await new Promise((r) => setTimeout(r, Math.min(100, until - Date.now())));
  }
  return !stopping();
}

/** Every version (delete markers too) the pool holds, system bucket included, and their bytes; undefined: stopped. */
async function sizeOf(
  p: ErasureObjects,
  stopping: () => boolean,
): Promise<{ objects: number; bytes: number } | undefined> {
  let objects = 0;
  let bytes = 0;
  for (const bucket of [SYSTEM_BUCKET, ...(await p.listBuckets()).map((b) => b.name)]) {
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (;;) {
      if (stopping()) return undefined;
      const page = await p.listObjectVersions(bucket, { keyMarker, versionIdMarker, maxKeys: 1000 });
      objects += page.versions.length;
      for (const v of page.versions) if (!v.deleteMarker && !v.transition) bytes += v.size;
      if (!page.isTruncated) break;
      keyMarker = page.nextKeyMarker;
      versionIdMarker = page.nextVersionIdMarker;
    }
  }
  return { objects, bytes };
}

/** Free and total bytes of a pool's drives (each drive counted once). */
async function spaceOf(p: ErasureObjects): Promise<{ free: number; total: number }> {
  let free = 0;
  let total = 0;
  for (const set of await p.storageState())
    for (const d of set.drives) {
      free += d.freeBytes;
      total += d.totalBytes;
    }
  return { free, total };
}
