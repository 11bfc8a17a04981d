// Draining a server pool (MinIO's decommission, cmd/erasure-server-pool-decom.go): the pool takes no new
// objects; every version of every key it holds (the system bucket's too) is moved to the other pools under
// the key's lock (engine/move.ts), so objects stay readable throughout; then the pool holds nothing and can
// leave the command line. Progress is kept in the deployment's pool list (pool-list.ts: on every drive of every
// pool), so a restart resumes a drain under way, a drained pool still on the command line takes no new objects,
// and a start without a pool that is not drained is refused.
import { S3Error } from '../errors.js';
import type { ErasureObjects } from './engine/erasure-objects.js';
import { SYSTEM_BUCKET } from './object-layer.js';
import type { PoolEntry } from './pool-list.js';
import type { ServerPools } from './pools.js';

/** Passes over the pool before a drain that keeps finding keys gives up (writes that chose it before it drained). */
const MAX_PASSES = 5;

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

  constructor(private readonly pools: ServerPools) {}

  /** Each pool's entry in the pool list (its drain, if one was started). */
  private get state(): PoolEntry[] {
    return this.pools.list.entries;
  }

  /**
   * Drained pools take no new objects, a drain under way goes on. With several workers a drain under way refuses
   * the start (each worker would run it, and only one may write the pool list).
   */
  start(): void {
    for (let i = 0; i < this.pools.pools.length; i++) {
      const d = this.state[i].decommission;
      if (this.pools.workers && d && !d.complete && !d.canceled && !d.failed)
        throw new Error(
          `pool ${this.pools.args[i]} is being decommissioned: finish it with --workers 1 (several workers do not drain pools yet)`,
        );
      if (d && !d.canceled && !d.failed) this.pools.suspended.add(i);
      if (d && !d.complete && !d.canceled && !d.failed) this.run(i);
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
    this.refuseWorkers();
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
    await this.save(i);
    this.run(i);
  }

  /** Stops the drain of pool i: what moved stays moved, and the pool takes new objects again. */
  async cancel(i: number): Promise<void> {
    this.refuseWorkers();
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

  /** Several workers do not drain pools yet: each would run the drain, and only one may write the pool list. */
  private refuseWorkers(): void {
    if (this.pools.workers)
      throw new S3Error(
        'NotImplemented',
        'decommissioning a pool is not implemented on a server of several workers yet: run it with --workers 1',
      );
  }

  /** Resolves once no drain runs (close). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running.stop = true;
    await this.running.done;
  }

  private run(i: number): void {
    const job = { pool: i, stop: false, done: Promise.resolve() };
    job.done = this.drain(i, () => job.stop)
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

  private async drain(i: number, stopping: () => boolean): Promise<void> {
    const from = this.pools.pools[i];
    const d = this.state[i].decommission!;
    await this.pools.beforeDrain?.(i);
    if (d.objectsTotal === undefined) {
      const size = await sizeOf(from, stopping);
      if (!size) return;
      d.objectsTotal = size.objects;
      d.bytesTotal = size.bytes;
      await this.save(i);
    }
    let lastSave = Date.now();
    // Passes until one finds nothing left: a PUT that chose this pool just before the drain began commits
    // here after its key was passed over, and the next pass takes it.
    for (let pass = 1; ; pass++) {
      const buckets = [SYSTEM_BUCKET, ...(await from.listBuckets()).map((b) => b.name)];
      let found = 0;
      let failed = 0;
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
              this.pools.log.warn(`decommission: ${bucket}/${key} not moved: ${String(e)}`);
            }
            if (Date.now() - lastSave > 1000) {
              lastSave = Date.now();
              await this.save(i);
            }
          }
          if (!page.isTruncated) break;
          keyMarker = page.nextKeyMarker;
        }
      }
      // A key that could not be moved leaves the drain failed (the pool keeps it and takes objects again).
      if (failed > 0) throw new Error(`${failed} keys could not be moved`);
      if (found === 0) break;
      if (pass === MAX_PASSES) throw new Error(`keys still arriving after ${MAX_PASSES} passes`);
    }
    d.complete = true;
    await this.save(i);
    this.pools.log.info(`decommission of pool ${this.pools.args[i]} complete: it can leave the command line`);
  }

  private save(i: number): Promise<void> {
    this.state[i].lastUpdate = new Date().toISOString();
    return this.pools.list.save();
  }
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
