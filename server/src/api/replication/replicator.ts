// Asynchronous bucket replication: a durable queue per target (the notification queue's files, notify/queue.ts:
// one file per change, written before the request is answered, kept across restarts) and a sender per queue
// that copies the changes to the target over several lanes (CAIRN_API_REPLICATION_MAX_WORKERS), a key always in
// the same lane and a lane in queue order (so the changes of one key arrive in the order they were made),
// retrying with exponential backoff while the target is down. A change leaves the queue once copied, in
// whatever order the lanes finish: after a crash exactly the changes not copied yet go out again.
//
// A version's later change of tags, retention or legal hold (kind 'metadata') sets them on the replica in place.
// A version copied keeps its version id, modification time, metadata, tags, retention and legal hold; its
// status goes PENDING (queued) -> COMPLETED (the target has it), or FAILED while the target does not answer
// (then COMPLETED once it does) or when the target refuses it several times (then it is left FAILED and
// dropped from the queue, logged; `cairn admin replicate resync` queues it again).
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { isS3Error } from '../../errors.js';
import type { ObjectInfo, ObjectLayer } from '../../storage/object-layer.js';
import type { Sealer } from '../iam/seal.js';
import { Lanes } from '../notify/lanes.js';
import { errorText, lagFields } from '../notify/queue-status.js';
import { EventQueue } from '../notify/queue.js';
import type { ApiLogger } from '../types.js';
import type { ReplicationKind } from './config.js';
import { ReplicationRemote, TargetError } from './remote.js';
import { attempted } from './status.js';
import { storedTargets, type RemoteTarget } from './targets.js';
import { DEFAULT_REPLICATION_WORKERS } from './workers-env.js';

/** One queued change. */
export interface ReplicationEntry {
  bucket: string;
  key: string;
  versionId: string;
  kind: ReplicationKind;
  arn: string;
  /** Delete markers: the marker's time (ms). */
  mtime?: number;
  /** The change's id, written as its target's `change` in the version's metadata (status.ts). Absent: queued before. */
  change?: string;
  /** Storage class the rule asks of the replica. */
  storageClass?: string;
  /** Queued by this resync (resync.ts counts it when done). */
  resetId?: string;
  /** kind 'metadata': which of the version's metadata changed (sent as it is when the change goes out). */
  metadata?: 'tagging' | 'retention' | 'legal-hold';
}

/** A target's queue and counters, as metrics and `cairn admin replicate status` read them. */
export interface ReplicationTargetStatus {
  arn: string;
  bucket: string;
  queued: number;
  replicated: number;
  replicatedBytes: number;
  failed: number;
  failedAttempts: number;
  /** When the oldest change waiting was queued (ms since 1970); absent when none waits. The lag is now minus this. */
  oldestAt?: number;
  /** The last failed attempt's error (at most ERROR_MAX characters, queue-status.ts) and its time (ms); absent: none yet. */
  lastError?: string;
  lastErrorAt?: number;
}

export interface ReplicatorOptions {
  storage: ObjectLayer;
  sealer: Sealer;
  /** Folders holding one queue folder per target: one per drive, each change written to every one (queue.ts). */
  queueBases: string[];
  /** Where the queues lived before (a server pool's drives they left): taken in at start (notify/queue.ts `from`). */
  formerQueueBases?: string[];
  log: ApiLogger;
  /** This process is worker N of several: each keeps its own queues (a `worker-N` folder in each). */
  worker?: number;
  retry?: { minMs: number; maxMs: number };
  queueLimit?: number;
  /** Senders (lanes) per target in this process (CAIRN_API_REPLICATION_MAX_WORKERS; default 8). */
  workers?: number;
}

/** Refusals (not outages) of one change tolerated before it is left FAILED. */
const MAX_REFUSALS = 3;
const DEFAULT_LIMIT = 100_000;
export { DEFAULT_REPLICATION_WORKERS, MAX_REPLICATION_WORKERS, replicationWorkersFromEnv } from './workers-env.js';

const queueName = (arn: string) => arn.split(':')[4] ?? 'unknown';

/**
 * The sender of one target's queue: its changes go out over `lanes` lanes (notify/lanes.ts), a key always in the
 * same lane, so two changes of one key never race.
 */
class Sender {
  replicated = 0;
  replicatedBytes = 0;
  failed = 0;
  failedAttempts = 0;
  lastError: string | undefined;
  lastErrorAt: number | undefined;
  bucket = '';
  /** The target did not answer the last attempt (logged once per outage, not per change). */
  private down = false;
  private readonly lanes: Lanes<ReplicationEntry>;

  constructor(
    readonly arn: string,
    readonly queue: EventQueue,
    private readonly r: Replicator,
    lanes: number,
  ) {
    this.lanes = new Lanes(queue, lanes, {
      parse: (data) => {
        const entry = JSON.parse(data) as ReplicationEntry;
        this.bucket = entry.bucket;
        return entry;
      },
      keyOf: (e) => `${e.bucket}/${e.key}`,
      handle: (e, signal) => this.copy(e, signal),
      unreadable: (err) => this.r.log.error({ target: this.arn, err }, 'replication queue: unreadable entry dropped'),
      notRemoved: (e, err) =>
        this.r.log.error({ target: this.arn, key: e.key, err }, 'replication queue: entry not removed'),
    });
  }

  /**
   * Copies one change, retrying with backoff while the target is down; false when the sender stopped first (the
   * change stays queued). A change the target refuses MAX_REFUSALS times is left FAILED (true: it leaves the queue).
   */
  private async copy(entry: ReplicationEntry, signal: AbortSignal): Promise<boolean> {
    const { minMs, maxMs } = this.r.retry;
    let delay = minMs;
    let refusals = 0;
    let failedOnce = false;
    for (;;) {
      if (signal.aborted) return false;
      let bytes: number;
      try {
        bytes = await this.r.replicate(entry);
      } catch (e) {
        this.failedAttempts++;
        this.lastError = errorText(e);
        this.lastErrorAt = Date.now();
        const refused = e instanceof TargetError && !e.down;
        if (refused) refusals++;
        if (!this.down || refused)
          this.r.log.warn({ target: this.arn, key: entry.key, err: (e as Error).message }, 'replication failed');
        this.down = !refused;
        await this.r.setStatus(entry, 'FAILED').catch(() => {});
        // Told once per change, before it can leave the queue (a restart before then may tell it again).
        if (!failedOnce) await this.r.onStatus?.(entry, 'FAILED', 0);
        failedOnce = true;
        if (refused && refusals >= MAX_REFUSALS) {
          this.failed++;
          this.r.onDone?.(entry, 0, false);
          return true;
        }
        await sleep(delay, undefined, { signal }).catch(() => {});
        delay = Math.min(delay * 2, maxMs);
        continue;
      }
      if (this.down) this.r.log.info({ target: this.arn }, 'replication target reachable again');
      this.down = false;
      this.replicatedBytes += bytes;
      this.replicated++;
      this.r.onDone?.(entry, bytes, true);
      // The target has it: a status that cannot be written now stays FAILED/PENDING (a resync sets it again). The
      // version is COMPLETED once every target has it (status.ts): not while another waits.
      await this.r.setStatus(entry, 'COMPLETED').catch((err: unknown) => {
        this.r.log.warn({ target: this.arn, key: entry.key, err }, 'replication status not written');
      });
      await this.r.onStatus?.(entry, 'COMPLETED', bytes);
      return true;
    }
  }

  close(): Promise<void> {
    return this.lanes.close();
  }
}

export class Replicator {
  private readonly senders = new Map<string, Sender>();
  private readonly opening = new Map<string, Promise<Sender>>();
  /** By ARN: the client of a target, its bucket and the bucket's stored targets (text) it was made from. */
  private readonly remotes = new Map<
    string,
    { target: RemoteTarget; remote: ReplicationRemote; bucket: string; stored: string }
  >();
  readonly retry: { minMs: number; maxMs: number };
  readonly log: ApiLogger;
  /** Told of each change copied (`ok`) or given up on: resyncs count theirs (resync.ts). */
  onDone?: (e: ReplicationEntry, bytes: number, ok: boolean) => void;
  /**
   * Told when a change reached its target (COMPLETED, with the bytes copied) and at its first failed attempt
   * (FAILED): the s3:Replication:* events. Awaited before the change leaves the queue; must not throw.
   */
  onStatus?: (e: ReplicationEntry, status: 'COMPLETED' | 'FAILED', bytes: number) => Promise<void>;
  private closed = false;
  /** Where the queues are (opts.queueBases until moveTo), and where they were (start only). */
  private bases: string[];
  private former: string[];

  private constructor(private readonly opts: ReplicatorOptions) {
    this.retry = opts.retry ?? { minMs: 250, maxMs: 10_000 };
    this.log = opts.log;
    this.bases = opts.queueBases;
    this.former = opts.formerQueueBases ?? [];
  }

  /** Opens the queues a previous run left (their entries go out again) before the first request. */
  static async start(opts: ReplicatorOptions): Promise<Replicator> {
    const r = new Replicator(opts);
    const names = new Set<string>();
    for (const base of [...r.bases, ...r.former])
      for (const name of await readdir(base).catch(() => [])) names.add(name); // none: no queue yet
    for (const name of names) {
      const arn = await r.arnOfQueue(name);
      if (arn) await r.sender(arn);
    }
    // Every queue that was there has been taken in.
    r.former = [];
    return r;
  }

  /**
   * Moves every queue into `queueBases` while they run (the drives they were on are leaving: a server pool being
   * decommissioned). Throws when one could not move all its changes.
   */
  async moveTo(queueBases: string[]): Promise<void> {
    await Promise.allSettled([...this.opening.values()]);
    this.bases = queueBases;
    for (const [arn, s] of this.senders) {
      await this.nameQueue(arn);
      await s.queue.moveTo(this.dirsOf(arn, this.bases));
    }
  }

  /** The ARN a queue folder was made for (written in it as `arn`, on each drive), or undefined. */
  private async arnOfQueue(name: string): Promise<string | undefined> {
    for (const base of [...this.bases, ...this.former]) {
      const arn = await readFile(join(base, name, 'arn'), 'utf8').catch(() => '');
      if (arn.trim()) return arn.trim();
    }
    return undefined;
  }

  private dirsOf(arn: string, bases: string[]): string[] {
    const dirs = bases.map((b) => join(b, queueName(arn)));
    return this.opts.worker === undefined ? dirs : dirs.map((b) => join(b, `worker-${this.opts.worker}`));
  }

  /** Writes the queue's ARN beside it on each drive (a drive that cannot take it is left to the queue's open). */
  private async nameQueue(arn: string): Promise<void> {
    const named = await Promise.allSettled(
      this.bases.map(async (base) => {
        const root = join(base, queueName(arn));
        await mkdir(root, { recursive: true });
        await writeFile(join(root, 'arn'), arn);
      }),
    );
    if (named.length > 0 && named.every((n) => n.status === 'rejected'))
      throw (named[0] as PromiseRejectedResult).reason;
  }

  private sender(arn: string): Promise<Sender> {
    const have = this.senders.get(arn);
    if (have) return Promise.resolve(have);
    let p = this.opening.get(arn);
    if (!p) {
      p = (async () => {
        await this.nameQueue(arn);
        const queue = await EventQueue.open(
          this.dirsOf(arn, this.bases),
          this.opts.queueLimit ?? DEFAULT_LIMIT,
          this.dirsOf(arn, this.former),
        );
        const s = new Sender(arn, queue, this, this.opts.workers ?? DEFAULT_REPLICATION_WORKERS);
        this.senders.set(arn, s);
        return s;
      })();
      this.opening.set(arn, p);
      p.finally(() => this.opening.delete(arn)).catch(() => {});
    }
    return p;
  }

  /**
   * Queues changes; resolves once each is on disk. A full queue or a failed write is logged and does not fail
   * the request (the write has happened; its version stays PENDING, and a resync queues it again).
   */
  async enqueue(entries: ReplicationEntry[]): Promise<void> {
    if (this.closed) return;
    await Promise.all(
      entries.map(async (e) => {
        try {
          const s = await this.sender(e.arn);
          s.bucket = e.bucket;
          await s.queue.push(JSON.stringify(e));
        } catch (err) {
          this.log.error({ target: e.arn, key: e.key, err }, 'replication change not queued');
        }
      }),
    );
  }

  /**
   * The target of `arn` of `bucket`, with a client (rebuilt when the stored target changed). While the bucket's
   * stored targets are the same text as at the last change, the client is reused without opening them again
   * (a JSON parse and an AES-GCM open of each secret per change copied).
   */
  async remoteOf(bucket: string, arn: string): Promise<ReplicationRemote | undefined> {
    const config = await this.opts.storage.getBucketConfig(bucket);
    const have = this.remotes.get(arn);
    const stored = config.replicationTargets;
    if (have && stored && have.bucket === bucket && have.stored === stored) return have.remote;
    const target = storedTargets(config, bucket, this.opts.sealer).find((t) => t.arn === arn);
    if (!target) return undefined;
    if (have && JSON.stringify(have.target) === JSON.stringify(target)) {
      this.remotes.set(arn, { ...have, bucket, stored: stored ?? '' });
      return have.remote;
    }
    have?.remote.close();
    const remote = new ReplicationRemote(target);
    this.remotes.set(arn, { target, remote, bucket, stored: stored ?? '' });
    return remote;
  }

  /** Copies one change to its target; the bytes sent. Throws TargetError (or a storage error) to retry. */
  async replicate(e: ReplicationEntry): Promise<number> {
    const storage = this.opts.storage;
    let remote: ReplicationRemote | undefined;
    try {
      remote = await this.remoteOf(e.bucket, e.arn);
    } catch (err) {
      if (isS3Error(err) && err.code === 'NoSuchBucket') return 0; // the bucket is gone, and its changes
      throw err;
    }
    if (!remote) {
      // The target was removed: nothing to send the change to.
      this.log.warn({ target: e.arn, key: e.key }, 'replication: target removed, change dropped');
      return 0;
    }
    if (e.kind === 'delete-version') {
      try {
        await remote.deleteVersion(e.key, e.versionId);
      } catch (err) {
        if (err instanceof TargetError && (err.code === 'NoSuchVersion' || err.code === 'NoSuchKey')) return 0;
        throw err;
      }
      return 0;
    }
    let opened: Awaited<ReturnType<ObjectLayer['openObject']>>;
    try {
      opened = await storage.openObject(e.bucket, e.key, { versionId: e.versionId });
    } catch (err) {
      // Removed since: nothing left to copy (a versioned delete replicates on its own).
      if (isS3Error(err) && (err.code === 'NoSuchVersion' || err.code === 'NoSuchKey')) return 0;
      throw err;
    }
    const info = opened.info;
    if (e.kind === 'metadata') {
      if (info.deleteMarker || !e.metadata) return 0;
      try {
        await remote.putMetadata(e.key, replicaInfo(info), e.metadata);
        return 0;
      } catch (err) {
        if (!(err instanceof TargetError && (err.code === 'NoSuchVersion' || err.code === 'NoSuchKey'))) throw err;
        // The target lacks the version (its copy failed for good, or new tags brought it under a rule): copy it
        // whole, metadata included, as MinIO does.
      }
    }
    if (info.deleteMarker) {
      await remote.putDeleteMarker(e.key, info.versionId, info.lastModified);
      return 0;
    }
    if (info.encryption)
      throw new TargetError('replication of encrypted objects is not implemented', false, 'NotImplemented');
    const replica = replicaInfo(info);
    // A multipart version (ETag `...-N`) goes part by part, so its replica has the same parts and ETag.
    if (info.parts) {
      const offsets: number[] = [];
      let at = 0;
      for (const p of info.parts) {
        offsets.push(at);
        at += p.size;
      }
      await remote.putMultipart(e.key, replica, e.storageClass, async (n) => {
        const i = info.parts!.findIndex((p) => p.number === n);
        const p = info.parts![i];
        if (p.size === 0) return emptyStream();
        return opened.read({ start: offsets[i], end: offsets[i] + p.size - 1 });
      });
    } else {
      const body = info.size === 0 ? emptyStream() : await opened.read();
      await remote.putObject(e.key, replica, e.storageClass, body);
    }
    return info.size;
  }

  /**
   * Sets the source version's status at the change's target, and so its overall status (status.ts); a version
   * gone or a replica is left alone.
   */
  async setStatus(e: ReplicationEntry, status: 'COMPLETED' | 'FAILED'): Promise<void> {
    if (e.kind === 'delete-version') return;
    try {
      await this.opts.storage.updateReplication(e.bucket, e.key, e.versionId, (cur) =>
        attempted(cur, e.arn, e.change, status),
      );
    } catch (err) {
      if (isS3Error(err) && (err.code === 'NoSuchVersion' || err.code === 'NoSuchKey' || err.code === 'NoSuchBucket'))
        return;
      throw err;
    }
  }

  /** Changes waiting in this process's queue of `arn`. */
  queued(arn: string): number {
    return this.senders.get(arn)?.queue.length ?? 0;
  }

  status(): ReplicationTargetStatus[] {
    return [...this.senders.values()].map((s) => ({
      arn: s.arn,
      bucket: s.bucket,
      queued: s.queue.length,
      replicated: s.replicated,
      replicatedBytes: s.replicatedBytes,
      failed: s.failed,
      failedAttempts: s.failedAttempts,
      ...lagFields(s.queue.oldestAt(), s.lastError, s.lastErrorAt),
    }));
  }

  /** Resolves once every queue is empty. */
  async idle(): Promise<void> {
    await Promise.all([...this.opening.values()]);
    await Promise.all([...this.senders.values()].map((s) => s.queue.empty()));
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.opening.values()].map((p) => p.catch(() => {})));
    await Promise.all([...this.senders.values()].map((s) => s.close()));
    for (const { remote } of this.remotes.values()) remote.close();
  }
}

/** The replica's metadata: the source's, with a retention already over left out (the target refuses one). */
function replicaInfo(info: ObjectInfo): ObjectInfo {
  const lock = info.lock ? { ...info.lock } : undefined;
  if (lock?.retainUntil && lock.retainUntil.getTime() <= Date.now()) {
    delete lock.mode;
    delete lock.retainUntil;
  }
  return { ...info, lock };
}

function emptyStream(): Readable {
  return Readable.from([]);
}
