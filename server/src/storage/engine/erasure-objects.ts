// Cairn's ObjectLayer today: erasure-coded objects on local drives. It owns the erasure sets and routes
// each key to one (keyed hash of the key with the deployment id), merges listings over the sets, and wires
// in the parts that live beside it: buckets, multipart uploads, the listing cache and the healer. The sets
// report back through SetDeps (heal this object, this directory's listing changed); what other processes
// sharing the drives must hear goes on the change bus (coordination.ts), and what they tell arrives in
// apply(). Healing and the scanner run only in the leader.
import { createHmac } from 'node:crypto';
import { basename, dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { S3Error } from '../../errors.js';
import type { StorageContext } from '../context.js';
import type { Drive } from '../drive/drive.js';
import { validateKey } from '../meta/key-path.js';
import { distinctMtime, lockRecord, newerFirst, newVersionId, toObjectInfo, versionKey } from '../meta/versions.js';
import type { VersionRecord } from '../meta/meta-file.js';
import type * as L from '../object-layer.js';
import { Healer, type HealerOptions, type HealJob, type HealStatus } from '../heal/healer.js';
import type { HealResult } from '../heal/heal-object.js';
import { Journals } from '../list/journal.js';
import { ListingCache } from '../list/listing-cache.js';
import { RemoteDrive } from '../rpc/remote-drive.js';
import { type Change, type ChangeBus, type HeldLock, type Locks, KeyedMutex } from '../coordination.js';
import { Buckets } from './buckets.js';
import { ErasureSet, type SetDeps } from './erasure-set.js';
import { openVersion, readBody, readEarly, readInline } from './get.js';
import { bucketHasObjects, listObjectVersions, listObjects } from './listing.js';
import { Multipart } from './multipart.js';
import { putObjectInSet } from './put.js';
import { Reaper, dataDirId } from './reaper.js';
import { ReapLog, removeUnreferenced } from './reap-log.js';
import type { ReadAheadStats } from './read-ahead.js';
import type { ReadStats } from '../erasure/part-reader.js';

export interface ErasureLayout {
  sets: number;
  setSize: number;
  /** Parity shards of STANDARD and REDUCED_REDUNDANCY objects. */
  parity: number;
  rrsParity: number;
}

/** How this process shares the drives: alone (a local mutex, nobody to tell) or with other workers. */
export interface Coordination {
  locks: Locks;
  bus: ChangeBus;
  /** This process runs healing, the scanner and drive rebuilds (at start: a node's changes, setLeader). */
  leader: boolean;
  /**
   * While not leading, this process keeps the heal requests it hears (the latest few thousand) and heals them
   * once it leads: the leader may change (the nodes of a distributed deployment), and a request forwarded while
   * no node leads is not lost.
   */
  standby?: boolean;
  /** Other processes write the drives too. */
  shared: boolean;
  /** This process's name among those sharing the drives (its temp area's), and which names are live processes. */
  name: string;
  owned(name: string): boolean;
}

/** Bus topics of the background heal state: a process asks, the leader answers. */
const HEAL_STATE_ASK = 'heal-state?';
const HEAL_STATE_ANSWER = 'heal-state';
const HEAL_STATE_WAIT_MS = 5000;
/**
 * A process that starts leading asks for the heal requests the others kept (standby): those forwarded while
 * no process led, or heard by the last leader only, which died with them. They come in batches.
 */
const HEAL_HANDOVER_ASK = 'heal-handover?';
const HEAL_JOBS = 'heal-jobs';
const HEAL_JOBS_BATCH = 500;

export class ErasureObjects implements L.ObjectLayer {
  readonly buckets: Buckets;
  readonly cache: ListingCache;
  readonly sets: ErasureSet[];
  readonly layout: ErasureLayout;
  private readonly multipart: Multipart;
  private readonly healer: Healer;
  private readonly journals: Journals;
  private readonly reaper: Reaper;
  private readonly reapLog: ReapLog;
  private readonly bus: ChangeBus;
  private leader: boolean;
  private readonly standby: boolean;
  /** Callers of backgroundHealState waiting for the leader's answer. */
  private readonly healStateWaiters: ((state: L.BackgroundHealState) => void)[] = [];
  private tiers?: L.RemoteTiers;

  constructor(
    readonly ctx: StorageContext,
    format: { deploymentId: string; parity: number; sets: Drive[][] },
    parity: { STANDARD: number; REDUCED_REDUNDANCY: number },
    private readonly opts: {
      coordination: Coordination;
      healer: Omit<HealerOptions, 'leader'>;
      gcGraceMs: number;
      /** Directory view entries kept in memory (this process's share of the server's). */
      listingCacheEntries: number;
      /** Unfinished multipart uploads older than this are removed, every `staleUploadsCleanupIntervalMs`. */
      staleUploadsExpiryMs: number;
      staleUploadsCleanupIntervalMs: number;
    },
  ) {
    const { locks, bus, leader, shared, name, owned } = opts.coordination;
    this.cache = new ListingCache(opts.listingCacheEntries);
    this.bus = bus;
    this.leader = leader;
    this.standby = opts.coordination.standby ?? false;
    this.journals = new Journals(new KeyedMutex(), locks, shared);
    this.reaper = new Reaper(opts.gcGraceMs, (ids) => bus.publish({ type: 'reap', ids }));
    this.reapLog = new ReapLog(name, owned);
    // Every set's reports land here; the healer and the cache exist before a set can be asked anything.
    const deps: SetDeps = {
      ctx,
      journals: this.journals,
      locks,
      parity,
      reaper: this.reaper,
      remotesReleased: async (remotes) => {
        if (this.tiers) await this.tiers.released(remotes);
        else this.ctx.log.warn(`${remotes.length} remote tier objects left unreferenced: no tiers attached`);
      },
      reapLog: this.reapLog,
      queueHeal: (set, bucket, key, deep = false) => {
        if (this.leader) return this.healer.enqueue(set, bucket, key, deep);
        if (this.standby) this.healer.enqueue(set, bucket, key, deep);
        void bus.publish({ type: 'heal', set, bucket, key, deep }).catch(() => {});
      },
      dirChanged: (set, _bucket, dir) => this.changed({ type: 'dir', set, dir }),
      entryChanged: (set, bucket, dir, key, latest) => this.changed({ type: 'entry', set, bucket, dir, key, latest }),
    };
    this.sets = format.sets.map((drives, i) => new ErasureSet(i, drives, deps));
    this.layout = {
      sets: this.sets.length,
      setSize: format.sets[0].length,
      parity: parity.STANDARD,
      rrsParity: parity.REDUCED_REDUNDANCY,
    };
    this.buckets = new Buckets(() => this.allDrives(), locks, bus);
    this.multipart = new Multipart(this, locks);
    const sets = format.sets.map((set) => set.map((d) => d.driveId));
    const formatFile = {
      format: 'cairn-erasure' as const,
      version: 1 as const,
      deploymentId: format.deploymentId,
      sets,
      parity: format.parity,
    };
    this.healer = new Healer(ctx, this, formatFile, { ...opts.healer, leader });
    bus.subscribe((c) => this.apply(c));
  }

  /** A change another process sharing the drives made. */
  private apply(c: Change): void | Promise<void> {
    switch (c.type) {
      // Metadata on the drives changed: reads of it in flight here are not shared with the next GET.
      case 'entry':
        this.sets[c.set]?.metadataChanged();
        return this.cache.update(c.set, c.bucket, c.dir, c.key, c.latest);
      case 'dir':
        this.sets[c.set]?.metadataChanged();
        return this.cache.invalidate(c.set, c.dir);
      case 'listings':
        return this.cache.clear();
      case 'missed':
        for (const s of this.sets) s.metadataChanged();
        this.buckets.forget();
        return this.cache.clear();
      case 'bucket':
        return this.buckets.changed(c.name, c.doc);
      case 'heal':
        if (this.leader || this.standby) this.healer.enqueue(c.set, c.bucket, c.key, c.deep);
        return;
      case 'notice':
        // Background heal state asked of the leader (backgroundHealState); other topics are the layers above's.
        if (c.topic === HEAL_STATE_ASK && this.leader)
          void this.bus.publish({ type: 'notice', topic: HEAL_STATE_ANSWER, data: this.healState() }).catch(() => {});
        else if (c.topic === HEAL_STATE_ANSWER && !this.leader) {
          for (const answer of this.healStateWaiters.splice(0)) answer(c.data as L.BackgroundHealState);
        } else if (c.topic === HEAL_HANDOVER_ASK && !this.leader && this.standby) this.handOverHeals();
        else if (c.topic === HEAL_JOBS && (this.leader || this.standby))
          for (const j of c.data as HealJob[]) this.healer.enqueue(j.set, j.bucket, j.key, j.deep);
        return;
      case 'reap': {
        const held = this.reaper.held(c.ids);
        if (held) this.ctx.log.debug?.(`removal of ${held} replaced data dirs waits for their readers here`);
        return this.reaper.free(c.ids);
      }
    }
  }

  /** A change of cached listings: applied here, then in every other process (resolves once all have). */
  private changed(c: Change): Promise<void> {
    void this.apply(c);
    return this.bus.publish(c);
  }

  /** Every cached listing goes, here and in every other process (a drive rebuilt, a bucket deleted). */
  listingsChanged(): Promise<void> {
    return this.changed({ type: 'listings' });
  }

  get deploymentId(): string {
    return this.ctx.deploymentId;
  }

  /** Starts the background work; `fresh` drives (new or replaced) are rebuilt. */
  async start(fresh: Drive[]): Promise<void> {
    await this.resumeRemovals();
    await this.healer.start(fresh);
    // Where the healer runs in the background (the one leader when several processes share the drives), so
    // does the removal of stale uploads.
    if (this.leader && this.opts.healer.background) this.scheduleStaleCleanup();
  }

  /**
   * This process starts or stops leading (a node of a distributed deployment won or lost the leader lease,
   * cluster/leader.ts): the heal queue, the scanner and the timed background work (stale uploads, lifecycle)
   * start or stop here.
   */
  setLeader(on: boolean): void {
    if (on === this.leader || this.closing) return;
    this.leader = on;
    this.healer.setLeader(on);
    if (on && this.standby)
      void this.bus.publish({ type: 'notice', topic: HEAL_HANDOVER_ASK, data: null }).catch(() => {});
    if (!this.opts.healer.background) return;
    if (on) {
      if (!this.staleTimer) this.scheduleStaleCleanup();
    } else {
      // A round under way stops before its next job (backgroundRound checks the timer).
      clearTimeout(this.staleTimer);
      this.staleTimer = undefined;
    }
  }

  /**
   * Removals a stopped process wrote down and never did (reap-log.ts): done after the grace period, once no
   * process sharing the drives still reads those data dirs, as if the delete had happened just now.
   */
  private async resumeRemovals(): Promise<void> {
    for (const set of this.sets) {
      for (const { drive, path, noted } of await this.reapLog.recover(set.drives, this.leader)) {
        const id = dataDirId(set.index, dirname(path), basename(path));
        const remove = () => removeUnreferenced(drive, path).finally(() => this.reapLog.settle(drive, noted, 1));
        this.reaper.later(remove, [id]);
      }
    }
  }

  private staleTimer?: NodeJS.Timeout;
  private closing = false;
  private staleRun?: Promise<unknown>;
  private readonly backgroundTasks: { name: string; run: (stopping: () => boolean) => Promise<unknown> }[] = [];

  addBackgroundTask(name: string, run: (stopping: () => boolean) => Promise<unknown>): void {
    this.backgroundTasks.push({ name, run });
  }

  afterScanCycle(run: () => Promise<unknown>): void {
    this.healer.afterScanCycle(run);
  }

  setStaleUploads(o: { expiryMs?: number; cleanupIntervalMs?: number }): void {
    if (o.expiryMs !== undefined) this.opts.staleUploadsExpiryMs = o.expiryMs;
    if (o.cleanupIntervalMs === undefined) return;
    this.opts.staleUploadsCleanupIntervalMs = o.cleanupIntervalMs;
    // A timer waiting with the old interval waits the new one instead (a round under way reschedules itself).
    if (this.staleTimer && !this.staleRun) {
      clearTimeout(this.staleTimer);
      this.scheduleStaleCleanup();
    }
  }

  /** The heal requests this process kept while another led, to the one that leads now (in batches). */
  private handOverHeals(): void {
    const jobs = this.healer.pending();
    void (async () => {
      for (let i = 0; i < jobs.length; i += HEAL_JOBS_BATCH)
        await this.bus.publish({ type: 'notice', topic: HEAL_JOBS, data: jobs.slice(i, i + HEAL_JOBS_BATCH) });
    })().catch(() => {});
  }

  private scheduleStaleCleanup(): void {
    const timer = setTimeout(() => {
      this.staleRun = this.backgroundRound(() => this.staleTimer !== timer).finally(() => {
        this.staleRun = undefined;
        // Not when stopped meanwhile, nor when a newer timer runs (stopped, then started again: setLeader).
        if (this.staleTimer === timer) this.scheduleStaleCleanup();
      });
    }, this.opts.staleUploadsCleanupIntervalMs);
    this.staleTimer = timer;
    timer.unref();
  }

  /**
   * One round of the timed background work: stale uploads, then the tasks others added, one after another;
   * `stopping`: closing, or no longer the leader.
   */
  private async backgroundRound(stopping: () => boolean): Promise<void> {
    const staleUploads = async () => {
      const n = await this.expireStaleUploads();
      if (n > 0) this.ctx.log.info(`stale multipart uploads: ${n} removed`);
      else this.ctx.log.debug?.('stale multipart uploads: none');
    };
    const jobs = [{ name: 'removing stale multipart uploads', run: staleUploads }];
    for (const job of [...jobs, ...this.backgroundTasks]) {
      if (stopping()) return;
      await job.run(stopping).catch((e: unknown) => this.ctx.log.warn(`${job.name} failed: ${String(e)}`));
    }
  }

  /** Removes the multipart uploads started more than the stale-upload expiry before `now`; how many went. */
  expireStaleUploads(now = Date.now()): Promise<number> {
    return this.multipart.removeStale(now - this.opts.staleUploadsExpiryMs);
  }

  /** Stops background work and lets pending removals and listing journals land. */
  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.staleTimer);
    this.staleTimer = undefined;
    await this.staleRun;
    await this.healer.stop();
    await this.reaper.flush();
    await this.journals.flush();
    // Files the drives keep open (journals kept for appends) are let go: a closed server holds no descriptor on
    // its drives (an operator's umount after a stop, a server started again in this process).
    await Promise.all(this.sets.flatMap((set) => set.drives.map((d) => d.release?.())));
  }

  storageState(): Promise<L.SetState[]> {
    return Promise.all(
      this.sets.map(async (set) => {
        const { data, parity } = set.layout('STANDARD');
        const rrsParity = set.layout('REDUCED_REDUNDANCY').parity;
        const drives = await Promise.all(
          set.drives.map(async (d, i): Promise<L.DriveState> => {
            // A drive whose folder is gone is offline at once, before the next probe notices.
            const space = set.online[i] ? await d.diskInfo().catch(() => undefined) : undefined;
            const local = !(d instanceof RemoteDrive);
            const known = { path: d.endpoint, id: d.driveId, local, healing: this.healer.rebuilding(d) };
            if (!space) return { ...known, online: false, totalBytes: 0, usedBytes: 0, freeBytes: 0 };
            return { ...known, online: true, ...space };
          }),
        );
        return { data, parity, rrsParity, writeQuorum: set.writeQuorum(data, parity), drives };
      }),
    );
  }

  heldLocks(): Promise<HeldLock[]> {
    return this.opts.coordination.locks.held();
  }

  allDrives(): Drive[] {
    return this.sets.flatMap((s) => s.drives.filter((_, i) => s.online[i]));
  }

  setOf(key: string): ErasureSet {
    if (this.sets.length === 1) return this.sets[0];
    const h = createHmac('sha256', this.ctx.deploymentId).update(key).digest();
    return this.sets[h.readUInt32BE(0) % this.sets.length];
  }

  async versioning(bucket: string): Promise<L.VersioningState> {
    return (await this.buckets.get(bucket)).config.versioning ?? 'Unversioned';
  }

  // Buckets

  async makeBucket(bucket: string, config?: L.BucketConfig): Promise<void> {
    await this.buckets.make(bucket, config);
    await this.multipart.newBucket(bucket);
  }

  headBucket(bucket: string): Promise<L.BucketInfo> {
    return this.buckets.info(bucket);
  }

  async deleteBucket(bucket: string): Promise<void> {
    await this.buckets.get(bucket);
    if (await bucketHasObjects(this, bucket)) throw new S3Error('BucketNotEmpty', undefined, { BucketName: bucket });
    await this.multipart.removeAll(bucket);
    await this.buckets.remove(bucket);
    await this.listingsChanged();
  }

  listBuckets(): Promise<L.BucketInfo[]> {
    return this.buckets.list();
  }

  async getBucketConfig(bucket: string): Promise<L.BucketConfig> {
    return (await this.buckets.get(bucket)).config;
  }

  updateBucketConfig(bucket: string, patch: Parameters<L.ObjectLayer['updateBucketConfig']>[1]): Promise<void> {
    return this.buckets.update(bucket, patch);
  }

  // Objects

  async putObject(bucket: string, key: string, body: Readable, opts: L.PutOptions): Promise<L.ObjectInfo> {
    validateKey(key);
    const versioning = await this.versioning(bucket);
    if (opts.storageClass && opts.storageClass !== 'STANDARD' && opts.storageClass !== 'REDUCED_REDUNDANCY')
      throw new S3Error('InvalidStorageClass');
    return putObjectInSet(this.setOf(key), bucket, key, body, opts, versioning);
  }

  async openObject(bucket: string, key: string, opts: L.OpenOptions = {}): Promise<L.OpenedObject> {
    await this.buckets.get(bucket);
    validateKey(key);
    const set = this.setOf(key);
    // A GET that will read its data: its first batch begun beside the metadata read (engine/get.ts readEarly).
    if ((opts.readingWhole || opts.readingRange !== undefined) && !opts.conditional)
      readEarly(set, bucket, key, opts.versionId, opts.readingRange);
    const o = await openVersion(set, bucket, key, opts.versionId);
    const remote = o.version.tier;
    return {
      info: o.info,
      read: async (range, readOpts) => {
        if (range && (range.start > range.end || range.start >= o.version.size)) throw new S3Error('InvalidRange');
        if (!remote)
          return readBody(
            set,
            bucket,
            key,
            o,
            range,
            readOpts?.unverified !== true,
            readOpts?.mutable === true,
            readOpts?.pass,
          );
        if (!this.tiers) throw new S3Error('ServiceUnavailable', `The remote tier ${remote.tier} is not available`);
        return this.tiers.read(remote, range, o.version.size);
      },
      readInline: remote || o.version.dataDir ? undefined : () => readInline(set, bucket, key, o),
    };
  }

  attachTiers(tiers: L.RemoteTiers): void {
    this.tiers = tiers;
  }

  async transitionObject(
    bucket: string,
    key: string,
    versionId: string,
    opts: Parameters<L.ObjectLayer['transitionObject']>[3],
  ): Promise<L.ObjectInfo> {
    await this.buckets.get(bucket);
    validateKey(key);
    const set = this.setOf(key);
    const o = await openVersion(set, bucket, key, versionId);
    const read = o.version;
    if (read.type !== 'object') throw new S3Error('InvalidObjectState', 'A delete marker has no data to transition');
    // The stored bytes as they are (sealed packages stay sealed), streamed to the tier: from the drives, or from
    // the tier the version is in now (a move from one tier to another).
    let body: Readable;
    if (!read.tier) body = await readBody(set, bucket, key, o, undefined);
    else if (this.tiers) body = await this.tiers.read(read.tier, undefined, read.size);
    else throw new S3Error('ServiceUnavailable', `The remote tier ${read.tier.tier} is not available`);
    const remote = await opts.upload(body, read.size, o.info);
    let after: VersionRecord | undefined;
    let isLatest = false;
    const now = Date.now();
    // The data dir and inline shards go with the version's old record (freed by mutate once committed).
    const stub = (v: VersionRecord): VersionRecord => {
      const { ec: _ec, dataDir: _dir, inline: _inline, ...kept } = v;
      return { ...kept, tier: { ...remote }, updated: Math.max(now, (v.updated ?? 0) + 1) };
    };
    await set.mutate(bucket, key, {
      check: (r) => {
        const cur = r.versions.find((v) => versionKey(v) === versionKey(read));
        // Another write (a metadata update, a heal that rewrote it, a transition) since it was read: not ours.
        if (!cur || cur.tier?.key !== read.tier?.key || (cur.updated ?? 0) !== (read.updated ?? 0))
          throw new S3Error('PreconditionFailed', 'The version changed while its data was sent to the tier');
        isLatest = cur === r.versions[0];
        opts.guard?.(toObjectInfo(bucket, key, cur, isLatest));
        after = stub(cur);
      },
      apply: (cur) => cur.map((v) => (versionKey(v) === versionKey(read) ? stub(v) : v)),
    });
    // Moved from another tier: the copy there is no longer referred to.
    if (read.tier) await this.tiers?.released([read.tier]);
    return toObjectInfo(bucket, key, after!, isLatest);
  }

  async headObject(bucket: string, key: string, opts: { versionId?: string } = {}): Promise<L.ObjectInfo> {
    return (await this.openObject(bucket, key, opts)).info;
  }

  async deleteObject(bucket: string, key: string, opts: L.DeleteOptions = {}): Promise<L.DeleteResult> {
    validateKey(key);
    const versioning = await this.versioning(bucket);
    const set = this.setOf(key);
    const now = Date.now();
    // Conditional deletes are checked under the object's lock against its current version.
    const check =
      opts.precondition &&
      ((r: { versions: VersionRecord[] }) => {
        const latest = r.versions[0];
        opts.precondition!(latest && latest.type === 'object' ? toObjectInfo(bucket, key, latest, true) : null);
      });
    if (opts.versionId !== undefined) {
      if (opts.precondition) {
        throw new S3Error('NotImplemented', 'A conditional delete of a named version is not implemented');
      }
      let removed: VersionRecord | undefined;
      await set.mutate(bucket, key, {
        check: (r) => {
          removed = r.versions.find((v) => v.id === opts.versionId);
          if (removed && opts.versionGuard)
            opts.versionGuard(toObjectInfo(bucket, key, removed, removed === r.versions[0]));
        },
        apply: (cur) => cur.filter((v) => v.id !== opts.versionId),
      });
      return { versionId: opts.versionId, deleteMarker: removed?.type === 'delete' };
    }
    if (versioning === 'Unversioned') {
      await set.mutate(bucket, key, { check, apply: (cur) => cur.filter((v) => v.id !== 'null') });
      return { deleteMarker: false };
    }
    const replica = versioning === 'Enabled' ? opts.replicaMarker : undefined;
    const marker: VersionRecord = {
      id: replica?.versionId ?? (versioning === 'Enabled' ? newVersionId() : 'null'),
      type: 'delete',
      uid: newVersionId(),
      mtime: replica?.mtime.getTime() ?? now,
      size: 0,
      etag: '',
      storageClass: 'STANDARD',
      contentHeaders: {},
      userMetadata: {},
      parts: [],
    };
    if (opts.replicationStatus) marker.replication = opts.replicationStatus;
    if (opts.replicationTargets) marker.replicationTargets = opts.replicationTargets;
    await set.mutate(bucket, key, {
      check: (r) => {
        if (!replica) marker.mtime = distinctMtime(marker.mtime, r.versions, marker.id);
        check?.(r);
      },
      apply: (cur) => [marker, ...cur.filter((v) => v.id !== marker.id)].sort(newerFirst),
    });
    return { versionId: marker.id, deleteMarker: true };
  }

  async updateObjectMetadata(
    bucket: string,
    key: string,
    opts: Parameters<L.ObjectLayer['updateObjectMetadata']>[2],
  ): Promise<L.ObjectInfo> {
    await this.buckets.get(bucket);
    validateKey(key);
    const set = this.setOf(key);
    let target: VersionRecord | undefined;
    let isLatest = false;
    let newLock: L.ObjectLock | undefined;
    const now = Date.now();
    const change = (v: VersionRecord): VersionRecord => {
      const n: VersionRecord = { ...v };
      if (opts.contentHeaders) n.contentHeaders = opts.contentHeaders;
      if (opts.userMetadata) n.userMetadata = opts.userMetadata;
      if (opts.tagging === null) delete n.tagging;
      else if (opts.tagging !== undefined) n.tagging = opts.tagging;
      if (newLock !== undefined) {
        const lock = lockRecord(newLock);
        if (lock) n.lock = lock;
        else delete n.lock;
      }
      n.updated = Math.max(now, (v.updated ?? 0) + 1);
      return n;
    };
    await set.mutate(bucket, key, {
      check: (r) => {
        target = opts.versionId !== undefined ? r.versions.find((v) => v.id === opts.versionId) : r.versions[0];
        const named = opts.versionId !== undefined && (r.versions.length > 0 || opts.versionId !== 'null');
        if (!target) throw new S3Error(named ? 'NoSuchVersion' : 'NoSuchKey');
        if (target.type === 'delete')
          throw new S3Error(opts.versionId !== undefined ? 'MethodNotAllowed' : 'NoSuchKey');
        isLatest = target === r.versions[0];
        if (opts.updateLock) newLock = opts.updateLock(toObjectInfo(bucket, key, target, isLatest));
      },
      apply: (cur) => cur.map((v) => (target && versionKey(v) === versionKey(target) ? change(v) : v)),
    });
    return toObjectInfo(bucket, key, change(target!), isLatest);
  }

  updateReplication(
    bucket: string,
    key: string,
    versionId: string,
    next: (current: L.ReplicationState) => L.ReplicationState | undefined,
  ): Promise<boolean> {
    // Decided once, from the version as the read quorum has it; every drive's copy then gets that state.
    let to: L.ReplicationState | undefined;
    return this.swapVersion(bucket, key, versionId, {
      // Nothing to write: leave the drives alone.
      unchanged: (v) => (to = next({ status: v.replication, targets: v.replicationTargets })) === undefined,
      change: (v) => {
        const { replication: _s, replicationTargets: _t, ...rest } = v;
        return {
          ...rest,
          ...(to?.status ? { replication: to.status } : {}),
          ...(to?.targets ? { replicationTargets: to.targets } : {}),
        };
      },
    });
  }

  replaceSealedKey(bucket: string, key: string, versionId: string, from: Buffer, to: Buffer): Promise<boolean> {
    return this.swapVersion(bucket, key, versionId, {
      // Replaced, re-wrapped by another run, or never this key: leave the drives alone.
      unchanged: (v) => v.type === 'delete' || !v.encryption?.sealedKey.equals(from),
      // The metadata only: the version's data dir, parts and inline data are carried over as they are.
      change: (v) => (v.encryption ? { ...v, encryption: { ...v.encryption, sealedKey: to } } : v),
    });
  }

  /**
   * A compare-and-swap of one version's metadata under the object's lock: false (nothing written) when the
   * version is `unchanged` as it stands; NoSuchVersion when there is no such version.
   */
  private async swapVersion(
    bucket: string,
    key: string,
    versionId: string,
    how: { unchanged: (v: VersionRecord) => boolean; change: (v: VersionRecord) => VersionRecord },
  ): Promise<boolean> {
    await this.buckets.get(bucket);
    validateKey(key);
    let target: VersionRecord | undefined;
    const unchanged = new Error('unchanged');
    const now = Date.now();
    try {
      await this.setOf(key).mutate(bucket, key, {
        check: (r) => {
          target = r.versions.find((v) => v.id === versionId);
          if (!target) throw new S3Error('NoSuchVersion');
          if (how.unchanged(target)) throw unchanged;
        },
        apply: (cur) =>
          cur.map((v) =>
            target && versionKey(v) === versionKey(target)
              ? { ...how.change(v), updated: Math.max(now, (v.updated ?? 0) + 1) }
              : v,
          ),
      });
    } catch (e) {
      if (e === unchanged) return false;
      throw e;
    }
    return true;
  }

  listObjects(bucket: string, o: L.ListOptions): Promise<L.ListResult> {
    return listObjects(this, bucket, o);
  }

  listObjectVersions(bucket: string, o: L.ListVersionsOptions): Promise<L.ListVersionsResult> {
    return listObjectVersions(this, bucket, o);
  }

  // Multipart uploads (engine/multipart.ts)

  newMultipartUpload(...a: Parameters<L.ObjectLayer['newMultipartUpload']>): Promise<L.MultipartUploadInfo> {
    return this.multipart.create(...a);
  }

  putObjectPart(...a: Parameters<L.ObjectLayer['putObjectPart']>): Promise<L.PartInfo> {
    return this.multipart.putPart(...a);
  }

  listParts(...a: Parameters<L.ObjectLayer['listParts']>): ReturnType<L.ObjectLayer['listParts']> {
    return this.multipart.listParts(...a);
  }

  getMultipartUpload(bucket: string, key: string, uploadId: string): Promise<L.MultipartUploadInfo> {
    return this.multipart.get(bucket, key, uploadId);
  }

  completeMultipartUpload(...a: Parameters<L.ObjectLayer['completeMultipartUpload']>): Promise<L.ObjectInfo> {
    return this.multipart.complete(...a);
  }

  abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    return this.multipart.abort(bucket, key, uploadId);
  }

  replaceUploadSealedKey(...a: Parameters<NonNullable<L.ObjectLayer['replaceUploadSealedKey']>>): Promise<boolean> {
    return this.multipart.replaceSealedKey(...a);
  }

  listMultipartUploads(
    ...a: Parameters<L.ObjectLayer['listMultipartUploads']>
  ): ReturnType<L.ObjectLayer['listMultipartUploads']> {
    return this.multipart.list(...a);
  }

  // Administration of the erasure engine (heal/healer.ts): not part of ObjectLayer

  healStatus(): HealStatus {
    return this.healer.status();
  }

  /** The leader's healer's state: its own, or asked over the bus (answered within HEAL_STATE_WAIT_MS). */
  async backgroundHealState(): Promise<L.BackgroundHealState> {
    if (this.leader) return this.healState();
    let timer: NodeJS.Timeout | undefined;
    const answered = new Promise<L.BackgroundHealState>((resolve, reject) => {
      this.healStateWaiters.push(resolve);
      timer = setTimeout(
        () => reject(new S3Error('ServiceUnavailable', 'The process running background healing did not answer')),
        HEAL_STATE_WAIT_MS,
      );
    });
    try {
      await this.bus.publish({ type: 'notice', topic: HEAL_STATE_ASK, data: null });
      return await answered;
    } finally {
      clearTimeout(timer);
    }
  }

  private healState(): L.BackgroundHealState {
    const s = this.healer.status();
    return {
      scannedObjects: s.scannedObjects,
      healedObjects: s.healedObjects,
      queueHealed: s.queueHealed,
      failedObjects: s.failedObjects,
      queued: s.queued,
      scanCycles: s.scanCycles,
      ...(s.lastScanEnd ? { lastScanEnd: s.lastScanEnd.toISOString() } : {}),
      healingDrives: s.healingDrives,
      leader: this.opts.coordination.name,
    };
  }

  healObject(bucket: string, key: string, opts?: { deep?: boolean }): Promise<HealResult> {
    return this.healer.healObject(bucket, key, opts?.deep);
  }

  healBucket(bucket: string, opts?: { deep?: boolean }): Promise<HealResult[]> {
    return this.healer.healBucket(bucket, opts?.deep);
  }

  /** Probe the drives now (normally every driveCheckIntervalMs). */
  checkDrives(): Promise<void> {
    return this.healer.checkDrives();
  }

  recheckDrives(): Promise<void> {
    return this.healer.recheckDrives();
  }

  /** One background-scanner cycle now. */
  scanNow(): Promise<void> {
    return this.healer.scanOnce();
  }

  /** Resolves when the heal queue is empty and no drive is being rebuilt. */
  healIdle(): Promise<void> {
    return this.healer.idle();
  }

  /** GET's drive reads so far, batches shared or read ahead, free pooled bytes (tests, bench). */
  readStats(): ReadStats & ReadAheadStats & { poolFreeBytes: number; poolOutBytes: number; cachedBatches: number } {
    const { readStats, readAhead, pool } = this.ctx;
    return {
      ...readStats,
      ...(readAhead?.stats ?? { shared: 0, prefetched: 0, prefetchUsed: 0 }),
      poolFreeBytes: pool.freeBytes,
      poolOutBytes: pool.outBytes,
      cachedBatches: readAhead?.size ?? 0,
    };
  }
}
