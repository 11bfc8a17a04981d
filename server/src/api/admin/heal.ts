// MinIO's heal sequences (POST /minio/admin/v3/heal/[BUCKET[/PREFIX]], madmin.Heal, `mc admin heal`): a start
// answers a client token at once and heals every key under the bucket and prefix in the background, one object
// at a time (under its lock, as the background healer does); the client polls with its token for the status and
// the results since its last poll. Cairn adds the counts a progress bar needs (`total`, `scanned`, `healed`,
// `failed`). With several workers the sequence runs in the one that was asked; it tells the others its status
// (a notice on the change bus, at most every STATUS_EVERY_MS) so that a poll reaching any worker is answered,
// and a stop reaching any worker stops it.
import { randomUUID } from 'node:crypto';
import { S3Error } from '../../errors.js';
import type { ChangeBus } from '../../storage/coordination.js';
import type { HealResult, ObjectLayer } from '../../storage/object-layer.js';

/** madmin.HealOpts. */
export interface HealOpts {
  recursive: boolean;
  dryRun: boolean;
  remove: boolean;
  recreate: boolean;
  /** 1 normal (parts present and whole), 2 deep (every shard's hashes checked). */
  scanMode: number;
}

/** madmin.HealResultItem, as far as Cairn's heal tells it. */
export interface HealItem {
  resultId: number;
  type: 'object';
  bucket: string;
  object: string;
  /** ok, healed, removed (a dangling version no quorum can read) or failed: the reason. */
  detail: string;
  diskCount: number;
  setCount: number;
}

/** madmin.HealTaskStatus plus the sequence's identity and counts, as shared between workers. */
export interface SequenceStatus {
  clientToken: string;
  path: string;
  clientAddress: string;
  startTime: string;
  summary: 'running' | 'finished' | 'stopped' | 'failed';
  detail: string;
  settings: HealOpts;
  /** Keys under the path (counted before healing; at most MAX_KEYS). */
  total: number;
  scanned: number;
  healed: number;
  failed: number;
  /** The latest results (at most ITEMS_KEPT), resultId increasing. */
  items: HealItem[];
}

/** How a sequence's status reaches the other workers (api/admin/heal.ts over storage's change bus). */
export interface HealSharing {
  publish(message: HealMessage): Promise<void>;
  subscribe(apply: (message: HealMessage) => void): void;
}

export type HealMessage = { kind: 'status'; status: SequenceStatus } | { kind: 'stop'; path: string };

/** Keys healed per sequence at most (a walk reads each key's metadata on every drive). */
const MAX_KEYS = 1_000_000;
const ITEMS_KEPT = 1000;
const STATUS_EVERY_MS = 500;
const PAGE = 1000;

const parseOpts = (body: Record<string, unknown>): HealOpts => {
  const flag = (n: string) => body[n] === true;
  // Refused rather than ignored: Cairn's heal always repairs (no dry run) and takes the object's lock.
  if (flag('dryRun')) throw new S3Error('NotImplemented', 'A dry-run heal is not implemented');
  if (flag('nolock')) throw new S3Error('NotImplemented', 'Healing without the object locks is not implemented');
  if (flag('updateParity')) throw new S3Error('NotImplemented', 'Healing to a new parity is not implemented');
  const scanMode = body.scanMode === undefined ? 1 : body.scanMode;
  if (scanMode !== 0 && scanMode !== 1 && scanMode !== 2)
    throw new S3Error('XMinioAdminInvalidArgument', 'scanMode must be 1 (normal) or 2 (deep)');
  return { recursive: flag('recursive'), dryRun: false, remove: flag('remove'), recreate: flag('recreate'), scanMode };
};

export class HealSequences {
  /** Every sequence this process knows: its own, and the others' as they last told. */
  private readonly known = new Map<string, SequenceStatus>();
  /** Per token, the last result id this process has handed out (a poll gives only newer ones). */
  private readonly handedOut = new Map<string, number>();
  private readonly running = new Map<string, { stop: boolean }>();

  constructor(
    private readonly storage: ObjectLayer,
    private readonly sharing?: HealSharing,
  ) {
    sharing?.subscribe((m) => {
      if (m.kind === 'status') this.remember(m.status);
      else {
        const own = this.running.get(m.path);
        if (own) own.stop = true;
      }
    });
  }

  private remember(s: SequenceStatus): void {
    this.known.set(s.clientToken, s);
    // Finished sequences are kept for their last polls; the oldest beyond 100 are forgotten.
    if (this.known.size > 100) {
      for (const [token, old] of this.known) {
        if (old.summary === 'running') continue;
        this.known.delete(token);
        this.handedOut.delete(token);
        if (this.known.size <= 100) break;
      }
    }
  }

  private runningOn(path: string): SequenceStatus | undefined {
    for (const s of this.known.values()) if (s.path === path && s.summary === 'running') return s;
    return undefined;
  }

  /** A POST to heal/: start, stop, or poll (with `clientToken`). */
  async call(
    bucket: string,
    prefix: string,
    q: URLSearchParams,
    body: () => Record<string, unknown>,
    client: string,
  ): Promise<unknown> {
    if (bucket === '' && prefix !== '') throw new S3Error('XMinioHealMissingBucket');
    const token = q.get('clientToken') ?? '';
    const forceStart = q.has('forceStart') && q.get('forceStart') !== 'false';
    const forceStop = q.has('forceStop') && q.get('forceStop') !== 'false';
    if ((forceStart && forceStop) || (token !== '' && (forceStart || forceStop)))
      throw new S3Error('InvalidRequest', 'forceStart, forceStop and clientToken exclude each other');
    const path = `${bucket}/${prefix}`;
    if (token !== '') return this.poll(token, path);
    const current = this.runningOn(path);
    if (forceStop) {
      if (!current) throw new S3Error('XMinioHealNoSuchProcess');
      await this.stop(path);
      return { clientToken: current.clientToken, clientAddress: current.clientAddress, startTime: current.startTime };
    }
    const opts = parseOpts(body());
    if (current && !forceStart)
      return { clientToken: current.clientToken, clientAddress: current.clientAddress, startTime: current.startTime };
    if (current) await this.stop(path);
    if (bucket !== '') await this.storage.headBucket(bucket);
    return this.start(bucket, prefix, path, opts, client);
  }

  private async stop(path: string): Promise<void> {
    const own = this.running.get(path);
    if (own) own.stop = true;
    await this.sharing?.publish({ kind: 'stop', path });
  }

  private poll(token: string, path: string): unknown {
    const s = this.known.get(token);
    if (!s || s.path !== path) throw new S3Error('XMinioHealInvalidClientToken');
    const after = this.handedOut.get(token) ?? 0;
    const items = s.items.filter((i) => i.resultId > after);
    if (items.length > 0) this.handedOut.set(token, items[items.length - 1].resultId);
    const { clientToken: _, path: __, clientAddress: ___, items: ____, ...status } = s;
    return { ...status, items };
  }

  private async start(bucket: string, prefix: string, path: string, opts: HealOpts, client: string) {
    const status: SequenceStatus = {
      clientToken: randomUUID(),
      path,
      clientAddress: client,
      startTime: new Date().toISOString(),
      summary: 'running',
      detail: '',
      settings: opts,
      total: 0,
      scanned: 0,
      healed: 0,
      failed: 0,
      items: [],
    };
    const control = { stop: false };
    this.running.set(path, control);
    this.remember(status);
    await this.sharing?.publish({ kind: 'status', status });
    void this.run(bucket, prefix, status, control).finally(() => {
      if (this.running.get(path) === control) this.running.delete(path);
    });
    return { clientToken: status.clientToken, clientAddress: client, startTime: status.startTime };
  }

  /** The keys under the path, bucket by bucket, each once (versions of a key come together). */
  private async *keys(bucket: string, prefix: string): AsyncGenerator<{ bucket: string; key: string }> {
    const buckets = bucket !== '' ? [bucket] : (await this.storage.listBuckets()).map((b) => b.name);
    for (const b of buckets) {
      let keyMarker: string | undefined;
      let versionIdMarker: string | undefined;
      let last: string | undefined;
      for (;;) {
        const page = await this.storage.listObjectVersions(b, { prefix, keyMarker, versionIdMarker, maxKeys: PAGE });
        for (const v of page.versions) {
          if (v.key === last) continue;
          last = v.key;
          yield { bucket: b, key: v.key };
        }
        if (!page.isTruncated) break;
        keyMarker = page.nextKeyMarker;
        versionIdMarker = page.nextVersionIdMarker;
      }
    }
  }

  private async run(bucket: string, prefix: string, s: SequenceStatus, control: { stop: boolean }): Promise<void> {
    let told = Date.now();
    const tell = async (force = false) => {
      if (!force && Date.now() - told < STATUS_EVERY_MS) return;
      told = Date.now();
      await this.sharing?.publish({ kind: 'status', status: { ...s, items: s.items.slice(-100) } });
    };
    try {
      const sets = await this.storage.storageState();
      const diskCount = sets[0]?.drives.length ?? 0;
      for await (const _ of this.keys(bucket, prefix)) {
        if (control.stop || s.total >= MAX_KEYS) break;
        s.total++;
      }
      for await (const { bucket: b, key } of this.keys(bucket, prefix)) {
        if (control.stop || s.scanned >= s.total) break;
        const r: HealResult = await this.storage
          .healObject(b, key, { deep: s.settings.scanMode === 2 })
          .catch((e: Error) => ({ bucket: b, key, drivesHealed: 0, state: 'failed' as const, error: e.message }));
        s.scanned++;
        if (r.state === 'healed' || r.state === 'removed') s.healed++;
        if (r.state === 'failed') s.failed++;
        if (s.items.length >= 2 * ITEMS_KEPT) s.items = s.items.slice(-ITEMS_KEPT);
        s.items.push({
          resultId: s.scanned,
          type: 'object',
          bucket: b,
          object: key,
          detail: r.state === 'failed' ? `failed: ${r.error ?? ''}` : r.state,
          diskCount,
          setCount: sets.length,
        });
        await tell();
      }
      s.summary = control.stop ? 'stopped' : 'finished';
    } catch (e) {
      s.summary = 'failed';
      s.detail = (e as Error).message;
    }
    await tell(true).catch(() => {});
  }
}

const TOPIC = 'heal';

/** Sharing over storage's change bus (the workers' IPC form); a process alone shares nothing. */
export function healOverBus(bus: ChangeBus): HealSharing {
  return {
    publish: (message) => bus.publish({ type: 'notice', topic: TOPIC, data: message }),
    subscribe: (apply) =>
      bus.subscribe((c) => {
        if (c.type === 'notice' && c.topic === TOPIC) apply(c.data as HealMessage);
      }),
  };
}
