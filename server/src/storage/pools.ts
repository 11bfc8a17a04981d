// Server pools, as MinIO has them (cmd/erasure-server-pool.go): each ellipsis argument of `cairn server` is a
// pool of erasure sets (an ErasureObjects of its own drives), and this ObjectLayer serves them as one. A key
// lives in one pool: a write of a key that exists goes to the pool that holds it (the newest version's, should
// two hold it), a new key to a pool chosen at random weighted by the free space of the set it would land in
// (pools above 85% used only when all are); GET, HEAD and DELETE find the pool; listings merge the pools' in
// key order with the same paging; an upload stays in the pool it started in; bucket operations go to every
// pool. A pool being drained (decommission.ts) takes no new objects and no new versions; its keys move out
// under a per-key lock that DELETE, multipart completion and in-place changes take too. A PUT takes none while
// its body comes (as MinIO: a client may write the key again meanwhile, ceph's atomic dual-write tests): it
// goes to another pool than a drained one, and a move keeps a newer version of the same id (engine/move.ts).
import type { Readable } from 'node:stream';
import { S3Error } from '../errors.js';
import type { Logger } from './context.js';
import { type ChangeBus, type HeldLock, type Locks, KeyedMutex, withLock } from './coordination.js';
import type { ErasureObjects } from './engine/erasure-objects.js';
import { type Moved, moveKey } from './engine/move.js';
import { Decommissions, LEASE } from './decommission.js';
import type { PoolList } from './pool-list.js';
import type { HealResult } from './heal/heal-object.js';
import { compareKeys } from './meta/key-path.js';
import type * as L from './object-layer.js';

/** MinIO's diskReserveFraction: a pool whose fullest drive is this used takes new objects only when all are. */
const MAX_USED_PCT = 85;

/**
 * Pools served by several workers (storage/index.ts): the lock service and change bus they share (the worker holding
 * decommission.ts's lease runs the drains and alone writes the pool list).
 */
export interface PoolsSharing {
  locks: Locks;
  bus: ChangeBus;
  /**
   * Nodes of a distributed deployment share them (over dsync and the peer bus): the drains' leader is the node
   * holding the deployment's leader lease (cluster/leader.ts calls setLeader), not the holder of LEASE.
   */
  nodes?: boolean;
}

export class ServerPools implements L.ObjectLayer {
  /**
   * Keys being moved out of a drained pool, deleted or changed in place: one at a time per key (across the workers:
   * `pools\0<bucket>/<key>` on their shared locks).
   */
  private readonly keyLocks = new KeyedMutex();
  /** Pools that take no new objects (being drained, or drained). */
  readonly suspended = new Set<number>();
  /** Draining pools (the admin API's pools/* calls). */
  readonly decommissions: Decommissions;
  /**
   * What must leave a pool before its drain moves its objects (this process's event queues, on its drives' system
   * folders: main.ts); a drain fails when it throws. With several workers each worker's is called (the leader asks
   * the others over the bus). Not called for a drain resumed at start-up (the server puts its queues on a pool no
   * drain takes then).
   */
  beforeDrain?: (pool: number) => Promise<void>;
  /**
   * The events (notifications, replication changes) this process holds queued on its drives of the pool, which
   * beforeDrain could not move (a node with drives in no other pool: its queues leave with the pool, main.ts). A
   * drain completes once every node's count is 0 (decommission.ts).
   */
  queuedOn?: (pool: number) => number;

  constructor(
    readonly pools: ErasureObjects[],
    /** Each pool as the command line names it (`./p1/d{1...4}`). */
    readonly args: string[],
    readonly log: Logger,
    /** The deployment's pools and their decommissions, on every pool's drives. */
    readonly list: PoolList,
    /** Served by several workers (each a ServerPools of its own): what they share. */
    readonly shared?: PoolsSharing,
  ) {
    this.decommissions = new Decommissions(this);
  }

  get deploymentId(): string {
    return this.pools[0].deploymentId;
  }

  /**
   * Buckets of one pool missing in another (a pool added since they were made) are made there with the same
   * configuration, so that any pool can take any bucket's new objects.
   */
  async start(): Promise<void> {
    const known = new Map<string, L.BucketConfig>();
    for (const p of this.pools)
      for (const b of await p.listBuckets()) if (!known.has(b.name)) known.set(b.name, await p.getBucketConfig(b.name));
    for (const p of this.pools) {
      const have = new Set((await p.listBuckets()).map((b) => b.name));
      for (const [name, config] of known)
        if (!have.has(name))
          await p.makeBucket(name, config).catch((e: unknown) => {
            // Another node starting at the same time made it.
            if (!(e instanceof S3Error && e.code.startsWith('BucketAlready'))) throw e;
          });
    }
    this.decommissions.start();
  }

  /**
   * A node starts or stops leading the deployment (cluster/leader.ts): each pool's background work (healing, the
   * scanner, lifecycle) and the drains.
   */
  setLeader(on: boolean): void {
    for (const p of this.pools) p.setLeader(on);
    this.decommissions.setLeader(on);
  }

  /** Every pool holding some version of the key. */
  private async holders(bucket: string, key: string): Promise<number[]> {
    const found = await Promise.all(this.pools.map((_, i) => this.poolOf(bucket, key, undefined, this.others(i))));
    return found.filter((i) => i >= 0);
  }

  /** Every pool but pool i (poolOf's skip: look in pool i alone). */
  private others(i: number): Set<number> {
    return new Set(this.pools.map((_, j) => j).filter((j) => j !== i));
  }

  /** Moves the key out of pool `from` (being drained) into the pool its writes go to now, as its one writer. */
  moveOut(from: number, bucket: string, key: string): Promise<Moved> {
    return this.locked(bucket, key, async () =>
      moveKey(this.pools[from], this.pools[await this.placement(bucket, key)], bucket, key),
    );
  }

  /** Runs `fn` as the key's one writer, in every worker (no lock with one pool). */
  private async locked<T>(bucket: string, key: string, fn: () => Promise<T>): Promise<T> {
    if (this.pools.length === 1) return fn();
    if (!this.shared) return withLock(this.keyLocks, `${bucket}/${key}`, fn);
    const release = await this.shared.locks.acquire(`pools\0${bucket}/${key}`);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** A change of an existing version in place, in the pool holding it, as the key's one writer. */
  private inPlace<T>(
    bucket: string,
    key: string,
    versionId: string | undefined,
    fn: (pool: ErasureObjects) => Promise<T>,
  ): Promise<T> {
    return this.locked(bucket, key, async () => fn(await this.holder(bucket, key, versionId)));
  }

  /**
   * Which pool holds the key (its newest version, or the version asked for); -1: none. A pool that cannot answer
   * (no read quorum: its nodes down) fails the lookup only when no other pool holds the key, as MinIO's
   * getPoolInfoExistingWithOpts: it may hold the key, and a write placed elsewhere would make a second copy. A
   * drained pool's failure counts as not found (it holds nothing; its nodes may be gone). docs/ARCHITECTURE.md.
   */
  async poolOf(bucket: string, key: string, versionId?: string, skip?: Set<number>): Promise<number> {
    if (this.pools.length === 1) return 0;
    let failure: unknown;
    const found = await Promise.all(
      this.pools.map((p, i) =>
        skip?.has(i)
          ? undefined
          : p.headObject(bucket, key, { versionId }).catch((e: unknown) => {
              if (e instanceof S3Error && (e.code === 'NoSuchKey' || e.code === 'NoSuchVersion')) return undefined;
              if (!this.list.entries[i]?.decommission?.complete) failure ??= e;
              return undefined;
            }),
      ),
    );
    let best = -1;
    for (let i = 0; i < found.length; i++) {
      const f = found[i];
      if (f && (best < 0 || f.lastModified > found[best]!.lastModified)) best = i;
    }
    if (best < 0 && failure !== undefined) throw failure;
    return best;
  }

  /** The pool holding the key, else pool 0 (whose answer is then the right S3 error). */
  private async holder(bucket: string, key: string, versionId?: string): Promise<ErasureObjects> {
    const i = await this.poolOf(bucket, key, versionId);
    return this.pools[Math.max(0, i)];
  }

  /**
   * The pool a write of `key` goes to: the one holding it (not a drained one), else one chosen by free space
   * (MinIO's getAvailablePoolIdx: at random, weighted by the free bytes of the set the key hashes to, times
   * the pool's set count).
   */
  async placement(bucket: string, key: string, size = 0): Promise<number> {
    if (this.pools.length === 1) return 0;
    const held = await this.poolOf(bucket, key, undefined, this.suspended);
    if (held >= 0) return held;
    const space = await Promise.all(
      this.pools.map(async (p, i) => {
        if (this.suspended.has(i)) return { available: 0, maxUsedPct: 100 };
        const set = p.setOf(key);
        const infos = await Promise.all(
          set.drives.map((d, j) => (set.online[j] ? d.diskInfo().catch(() => undefined) : undefined)),
        );
        let available = 0;
        let maxUsedPct = 0;
        // Each drive takes about size / (half the set) (data and parity shards): a pool short of it is full.
        const perDrive = size / Math.max(1, Math.ceil(set.drives.length / 2));
        for (const info of infos) {
          if (!info || info.totalBytes === 0) continue;
          if (info.freeBytes < perDrive) return { available: 0, maxUsedPct: 100 };
          available += info.freeBytes;
          maxUsedPct = Math.max(maxUsedPct, Math.floor((info.usedBytes * 100) / info.totalBytes));
        }
        return { available: available * p.sets.length, maxUsedPct };
      }),
    );
    if (space.some((s) => s.available > 0 && s.maxUsedPct < MAX_USED_PCT))
      for (const s of space) if (s.maxUsedPct >= MAX_USED_PCT) s.available = 0;
    const total = space.reduce((n, s) => n + s.available, 0);
    if (total === 0) {
      const open = this.pools.findIndex((_, i) => !this.suspended.has(i));
      if (open < 0) throw new S3Error('XMinioStorageFull');
      return open;
    }
    let choose = Math.random() * total;
    for (let i = 0; i < space.length; i++) {
      choose -= space[i].available;
      if (choose < 0 && space[i].available > 0) return i;
    }
    return space.findIndex((s) => s.available > 0);
  }

  /** Runs a write of `key` in the pool placement chooses (no lock held while the body comes: see above). */
  private async write<T>(
    bucket: string,
    key: string,
    size: number,
    fn: (pool: ErasureObjects) => Promise<T>,
  ): Promise<T> {
    if (this.pools.length === 1) return fn(this.pools[0]);
    return fn(this.pools[await this.placement(bucket, key, size)]);
  }

  async storageState(): Promise<L.SetState[]> {
    const pools = await Promise.all(this.pools.map((p) => p.storageState()));
    return pools.flatMap((sets, pool) => sets.map((s) => ({ ...s, pool })));
  }

  async healObject(bucket: string, key: string, opts?: { deep?: boolean }): Promise<HealResult> {
    return (await this.holder(bucket, key)).healObject(bucket, key, opts);
  }

  async backgroundHealState(): Promise<L.BackgroundHealState> {
    const states = await Promise.all(this.pools.map((p) => p.backgroundHealState()));
    const sum = (f: (s: L.BackgroundHealState) => number) => states.reduce((n, s) => n + f(s), 0);
    const ends = states.map((s) => s.lastScanEnd).filter((e): e is string => e !== undefined);
    return {
      scannedObjects: sum((s) => s.scannedObjects),
      healedObjects: sum((s) => s.healedObjects),
      failedObjects: sum((s) => s.failedObjects),
      queueHealed: sum((s) => s.queueHealed),
      queued: sum((s) => s.queued),
      scanCycles: Math.min(...states.map((s) => s.scanCycles)),
      lastScanEnd: ends.length === states.length ? ends.sort()[0] : undefined,
      healingDrives: states.flatMap((s) => s.healingDrives),
      leader: states[0].leader,
    };
  }

  async recheckDrives(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.recheckDrives()));
  }

  async heldLocks(): Promise<HeldLock[]> {
    // Shared key locks are in the workers' one table, which the first pool lists.
    const own = this.shared ? [] : [this.keyLocks.held()];
    // The drains' lease is held for as long as its worker runs: no resource waits on it.
    return (await Promise.all([...own, ...this.pools.map((p) => p.heldLocks())]))
      .flat()
      .filter((l) => l.name !== LEASE);
  }

  // Buckets: every pool has every bucket; the first pool answers.

  async makeBucket(bucket: string, config?: L.BucketConfig): Promise<void> {
    await this.pools[0].makeBucket(bucket, config);
    for (const p of this.pools.slice(1))
      await p.makeBucket(bucket, config).catch(async (e: unknown) => {
        // Left by an earlier half-made bucket: it takes this one's configuration.
        if (!(e instanceof S3Error && e.code.startsWith('BucketAlready'))) throw e;
        await p.updateBucketConfig(bucket, { ...(await this.pools[0].getBucketConfig(bucket)) });
      });
  }

  headBucket(bucket: string): Promise<L.BucketInfo> {
    return this.pools[0].headBucket(bucket);
  }

  async deleteBucket(bucket: string): Promise<void> {
    await this.pools[0].headBucket(bucket);
    for (const p of this.pools)
      if ((await p.listObjectVersions(bucket, { maxKeys: 1 }).catch(() => undefined))?.versions.length)
        throw new S3Error('BucketNotEmpty', undefined, { BucketName: bucket });
    // The first pool last: the bucket exists until every pool dropped it.
    for (const p of [...this.pools.slice(1), this.pools[0]])
      await p.deleteBucket(bucket).catch((e: unknown) => {
        if (!(e instanceof S3Error && e.code === 'NoSuchBucket')) throw e;
      });
  }

  listBuckets(): Promise<L.BucketInfo[]> {
    return this.pools[0].listBuckets();
  }

  getBucketConfig(bucket: string): Promise<L.BucketConfig> {
    return this.pools[0].getBucketConfig(bucket);
  }

  async updateBucketConfig(bucket: string, patch: Parameters<L.ObjectLayer['updateBucketConfig']>[1]): Promise<void> {
    for (const p of this.pools) await p.updateBucketConfig(bucket, patch);
  }

  // Objects

  putObject(bucket: string, key: string, body: Readable, opts: L.PutOptions): Promise<L.ObjectInfo> {
    return this.write(bucket, key, opts.size ?? 0, (p) => p.putObject(bucket, key, body, opts));
  }

  openObject(bucket: string, key: string, opts?: L.OpenOptions): Promise<L.OpenedObject> {
    return this.read(bucket, key, opts?.versionId, (p) => p.openObject(bucket, key, opts));
  }

  headObject(bucket: string, key: string, opts?: L.HeadOptions): Promise<L.ObjectInfo> {
    return this.read(bucket, key, opts?.versionId, (p) => p.headObject(bucket, key, opts));
  }

  /**
   * A read from the pool holding the key. Reads take no key lock, so while a pool is drained a key can leave it
   * between the lookup and the read; the move writes the target's copy before it removes the source's, so a read
   * that then finds nothing looks once more and finds the copy.
   */
  private async read<T>(
    bucket: string,
    key: string,
    versionId: string | undefined,
    fn: (pool: ErasureObjects) => Promise<T>,
  ): Promise<T> {
    try {
      return await fn(await this.holder(bucket, key, versionId));
    } catch (e) {
      const missing = e instanceof S3Error && (e.code === 'NoSuchKey' || e.code === 'NoSuchVersion');
      if (!missing || this.suspended.size === 0) throw e;
      return fn(await this.holder(bucket, key, versionId));
    }
  }

  async deleteObject(bucket: string, key: string, opts: L.DeleteOptions = {}): Promise<L.DeleteResult> {
    if (this.pools.length === 1) return this.pools[0].deleteObject(bucket, key, opts);
    return this.locked(bucket, key, async () => {
      // A version by id is deleted wherever it is: two PUTs of a new key at once may both have made its 'null'
      // version, in two pools, and the older copy must not come back once the newer is gone.
      if (opts.versionId !== undefined) {
        const versionId = opts.versionId;
        const held = await Promise.all(this.pools.map((_, i) => this.poolOf(bucket, key, versionId, this.others(i))));
        let result: L.DeleteResult | undefined;
        for (const i of held.filter((h) => h >= 0)) {
          const r = await this.pools[i].deleteObject(bucket, key, opts);
          result ??= r;
        }
        return result ?? this.pools[0].deleteObject(bucket, key, opts);
      }
      // Unversioned: the object goes from every pool holding it (a drained pool's copy must not come back).
      if (((await this.pools[0].getBucketConfig(bucket)).versioning ?? 'Unversioned') === 'Unversioned') {
        const held = await this.holders(bucket, key);
        let result: L.DeleteResult = { deleteMarker: false };
        for (const i of held.length > 0 ? held : [0]) result = await this.pools[i].deleteObject(bucket, key, opts);
        return result;
      }
      // A delete marker goes where the key's new versions go.
      return this.pools[await this.placement(bucket, key)].deleteObject(bucket, key, opts);
    });
  }

  async updateObjectMetadata(
    bucket: string,
    key: string,
    opts: Parameters<L.ObjectLayer['updateObjectMetadata']>[2],
  ): Promise<L.ObjectInfo> {
    return this.inPlace(bucket, key, opts.versionId, (p) => p.updateObjectMetadata(bucket, key, opts));
  }

  async updateReplication(...a: Parameters<L.ObjectLayer['updateReplication']>): Promise<boolean> {
    return this.inPlace(a[0], a[1], a[2], (p) => p.updateReplication(...a));
  }

  async replaceSealedKey(...a: Parameters<L.ObjectLayer['replaceSealedKey']>): Promise<boolean> {
    return this.inPlace(a[0], a[1], a[2], (p) => p.replaceSealedKey(...a));
  }

  async replaceUploadSealedKey(
    ...a: Parameters<NonNullable<L.ObjectLayer['replaceUploadSealedKey']>>
  ): Promise<boolean> {
    return (await this.uploadPool(a[0], a[1], a[2])).replaceUploadSealedKey(...a);
  }

  async listObjects(bucket: string, opts: L.ListOptions): Promise<L.ListResult> {
    if (this.pools.length === 1) return this.pools[0].listObjects(bucket, opts);
    const pages = await Promise.all(this.pools.map((p) => p.listObjects(bucket, opts)));
    // Keys and common prefixes of every pool in key order; a key in two pools (being moved) once, its newest.
    const merged = new Map<string, L.ObjectInfo | null>();
    for (const page of pages) {
      for (const cp of page.commonPrefixes) merged.set(cp, null);
      for (const o of page.objects) {
        const had = merged.get(o.key);
        if (!had || o.lastModified > had.lastModified) merged.set(o.key, o);
      }
    }
    const names = [...merged.keys()].sort(compareKeys);
    const taken = names.slice(0, Math.max(0, opts.maxKeys));
    const res: L.ListResult = {
      objects: [],
      commonPrefixes: [],
      isTruncated: names.length > taken.length || pages.some((p) => p.isTruncated),
    };
    for (const n of taken) {
      const o = merged.get(n);
      if (o) res.objects.push(o);
      else res.commonPrefixes.push(n);
    }
    if (res.isTruncated) res.nextAfter = taken.at(-1) ?? opts.after;
    return res;
  }

  async listObjectVersions(bucket: string, opts: L.ListVersionsOptions): Promise<L.ListVersionsResult> {
    if (this.pools.length === 1) return this.pools[0].listObjectVersions(bucket, opts);
    const pages = await Promise.all(this.pools.map((p) => p.listObjectVersions(bucket, opts)));
    type Entry = { name: string; v?: L.ObjectInfo };
    const entries: Entry[] = [];
    const prefixes = new Set<string>();
    const seen = new Set<string>();
    /** The pool each key's versions came from; keys in two pools (being moved) have their latest chosen again. */
    const poolOfKey = new Map<string, number>();
    const split = new Set<string>();
    pages.forEach((page, i) => {
      for (const cp of page.commonPrefixes) prefixes.add(cp);
      for (const v of page.versions) {
        // The same version in two pools (a copy being moved): once.
        const id = `${v.key}\0${v.versionId}`;
        if (seen.has(id)) continue;
        seen.add(id);
        if ((poolOfKey.get(v.key) ?? i) !== i) split.add(v.key);
        poolOfKey.set(v.key, i);
        entries.push({ name: v.key, v });
      }
    });
    for (const cp of prefixes) entries.push({ name: cp });
    // Key order; one key's versions newest first, as one pool gives them.
    entries.sort(
      (a, b) => compareKeys(a.name, b.name) || (b.v?.lastModified.getTime() ?? 0) - (a.v?.lastModified.getTime() ?? 0),
    );
    const newest = new Map<string, L.ObjectInfo>();
    for (const e of entries) if (e.v && split.has(e.name) && !newest.has(e.name)) newest.set(e.name, e.v);
    const taken = entries.slice(0, Math.max(0, opts.maxKeys));
    const res: L.ListVersionsResult = {
      versions: [],
      commonPrefixes: [],
      isTruncated: entries.length > taken.length || pages.some((p) => p.isTruncated),
    };
    for (const e of taken) {
      if (!e.v) res.commonPrefixes.push(e.name);
      else if (!split.has(e.name) || e.v.isLatest === (newest.get(e.name) === e.v)) res.versions.push(e.v);
      else res.versions.push({ ...e.v, isLatest: !e.v.isLatest });
    }
    const last = taken.at(-1);
    if (res.isTruncated && last) {
      res.nextKeyMarker = last.name;
      if (last.v) res.nextVersionIdMarker = last.v.versionId;
    } else if (res.isTruncated) {
      res.nextKeyMarker = opts.keyMarker;
      res.nextVersionIdMarker = opts.versionIdMarker;
    }
    return res;
  }

  // Multipart: an upload starts where the key's new version would go and stays in that pool.

  async newMultipartUpload(...a: Parameters<L.ObjectLayer['newMultipartUpload']>): Promise<L.MultipartUploadInfo> {
    const [bucket, key] = a;
    return this.pools[await this.placement(bucket, key)].newMultipartUpload(...a);
  }

  /** The pool holding the upload (NoSuchUpload from the first pool when none does). */
  private async uploadPool(bucket: string, key: string, uploadId: string): Promise<ErasureObjects> {
    if (this.pools.length === 1) return this.pools[0];
    for (const p of this.pools) {
      const ok = await p.getMultipartUpload(bucket, key, uploadId).then(
        () => true,
        (e: unknown) => {
          if (e instanceof S3Error && e.code === 'NoSuchUpload') return false;
          throw e;
        },
      );
      if (ok) return p;
    }
    return this.pools[0];
  }

  async getMultipartUpload(bucket: string, key: string, uploadId: string): Promise<L.MultipartUploadInfo> {
    return (await this.uploadPool(bucket, key, uploadId)).getMultipartUpload(bucket, key, uploadId);
  }

  async putObjectPart(...a: Parameters<L.ObjectLayer['putObjectPart']>): Promise<L.PartInfo> {
    return (await this.uploadPool(a[0], a[1], a[2])).putObjectPart(...a);
  }

  async listParts(...a: Parameters<L.ObjectLayer['listParts']>): ReturnType<L.ObjectLayer['listParts']> {
    return (await this.uploadPool(a[0], a[1], a[2])).listParts(...a);
  }

  async completeMultipartUpload(...a: Parameters<L.ObjectLayer['completeMultipartUpload']>): Promise<L.ObjectInfo> {
    const [bucket, key, uploadId] = a;
    if (this.pools.length === 1) return this.pools[0].completeMultipartUpload(...a);
    return this.locked(bucket, key, async () => {
      const pool = await this.uploadPool(bucket, key, uploadId);
      const info = await pool.completeMultipartUpload(...a);
      // An upload begun in a pool being drained completes there; its object then moves out at once.
      const i = this.pools.indexOf(pool);
      if (this.suspended.has(i)) await moveKey(pool, this.pools[await this.placement(bucket, key)], bucket, key);
      return info;
    });
  }

  async abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    return (await this.uploadPool(bucket, key, uploadId)).abortMultipartUpload(bucket, key, uploadId);
  }

  async listMultipartUploads(
    bucket: string,
    opts: Parameters<L.ObjectLayer['listMultipartUploads']>[1],
  ): ReturnType<L.ObjectLayer['listMultipartUploads']> {
    if (this.pools.length === 1) return this.pools[0].listMultipartUploads(bucket, opts);
    const pages = await Promise.all(this.pools.map((p) => p.listMultipartUploads(bucket, opts)));
    type Entry = { name: string; u?: L.MultipartUploadInfo };
    const prefixes = new Set(pages.flatMap((p) => p.commonPrefixes));
    const entries: Entry[] = [
      ...pages.flatMap((p) => p.uploads.map((u) => ({ name: u.key, u }))),
      ...[...prefixes].map((name) => ({ name })),
    ];
    entries.sort(
      (a, b) =>
        compareKeys(a.name, b.name) ||
        (a.u?.initiated.getTime() ?? 0) - (b.u?.initiated.getTime() ?? 0) ||
        compareKeys(a.u?.uploadId ?? '', b.u?.uploadId ?? ''),
    );
    const taken = entries.slice(0, Math.max(0, opts.maxUploads));
    const isTruncated = entries.length > taken.length || pages.some((p) => p.isTruncated);
    const last = taken.at(-1);
    return {
      uploads: taken.flatMap((e) => (e.u ? [e.u] : [])),
      commonPrefixes: taken.flatMap((e) => (e.u ? [] : [e.name])),
      isTruncated,
      nextKeyMarker: isTruncated ? (last?.name ?? opts.keyMarker) : undefined,
      nextUploadIdMarker: isTruncated ? (last ? last.u?.uploadId : opts.uploadIdMarker) : undefined,
    };
  }

  // Background work: the API's tasks run once (with the first pool's round); each pool heals its own drives.

  addBackgroundTask(name: string, run: (stopping: () => boolean) => Promise<unknown>): void {
    this.pools[0].addBackgroundTask(name, run);
  }

  /** After the first pool's scanner cycles (the count it starts covers every pool). */
  afterScanCycle(run: () => Promise<unknown>): void {
    this.pools[0].afterScanCycle(run);
  }

  setStaleUploads(o: { expiryMs?: number; cleanupIntervalMs?: number }): void {
    for (const p of this.pools) p.setStaleUploads(o);
  }

  attachTiers(tiers: L.RemoteTiers): void {
    for (const p of this.pools) p.attachTiers(tiers);
  }

  async transitionObject(...a: Parameters<L.ObjectLayer['transitionObject']>): Promise<L.ObjectInfo> {
    return this.inPlace(a[0], a[1], a[2], (p) => p.transitionObject(...a));
  }

  async close(): Promise<void> {
    await this.decommissions.stop();
    await Promise.all(this.pools.map((p) => p.close()));
  }
}
