// Buckets: a directory of the bucket's name on every drive, with `_bucket.json` (creation time and
// configuration) inside. Names are validated to S3's rules, so a bucket name is always a safe file name.
// The bucket table is read from the drives once and then kept in memory. Creating, reconfiguring and
// deleting a bucket take the bucket's lock and publish the new document on the change bus before they
// return, so every process sharing the drives answers its next request with it.
import { S3Error } from '../../errors.js';
import { type BucketDoc, type ChangeBus, type Locks, withLock } from '../coordination.js';
import { type Drive, SYS_DIR } from '../drive/drive.js';
import { SYSTEM_BUCKET, type BucketConfig, type BucketInfo } from '../object-layer.js';

export const BUCKET_FILE = '_bucket.json';

/** The config is frozen: replaced, never changed, so callers may cache what they derive from it. */
const bucketDoc = (created: number, config: BucketConfig): BucketDoc => ({
  created,
  config: Object.freeze({ ...config }),
});

const NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const IP = /^\d+\.\d+\.\d+\.\d+$/;

export function validateBucketName(name: string): void {
  if (
    !NAME.test(name) ||
    IP.test(name) ||
    name.includes('..') ||
    name.includes('.-') ||
    name.includes('-.') ||
    name === SYS_DIR
  ) {
    throw new S3Error('InvalidBucketName', undefined, { BucketName: name });
  }
}

/**
 * What a new deployment's formatter writes on each drive before that drive's format file (storage/index.ts,
 * drive/format.ts): the system bucket, one document for every drive. A node that sees the format then finds the
 * system bucket in its first table read, so no node takes its lock at start-up. Nodes starting together used to
 * race for that lock, each round of lock calls slow on a loaded machine, and a start could fail with "the lock
 * of bucket\0.cairn.sys/config stayed taken".
 */
export function systemBucketWriter(): (d: Drive) => Promise<void> {
  const text = JSON.stringify(bucketDoc(Date.now(), {}));
  return async (d) => {
    await d.mkdirs(SYSTEM_BUCKET);
    await d.writeAtomic(`${SYSTEM_BUCKET}/${BUCKET_FILE}`, text);
  };
}

export class Buckets {
  private table: Map<string, BucketDoc> | null = null;
  /** The read under way: requests arriving meanwhile wait for it instead of reading (and locking) again. */
  private loading: Promise<Map<string, BucketDoc>> | null = null;
  /** Changes heard from other processes; a table read from the drives while one arrived is read again. */
  private heard = 0;

  constructor(
    private readonly drives: () => Drive[],
    private readonly locks: Locks,
    private readonly bus: ChangeBus,
  ) {}

  /** Another process created, reconfigured (doc) or deleted (null) a bucket. */
  changed(name: string, doc: BucketDoc | null): void {
    this.heard++;
    if (!this.table) return; // not read yet: the drives already hold the change
    if (doc) this.table.set(name, bucketDoc(doc.created, doc.config));
    else this.table.delete(name);
  }

  /** Changes may have been missed: the table is read from the drives again on next use. */
  forget(): void {
    this.heard++;
    this.table = null;
  }

  /** Keep the change here and hand it to every other process before the caller answers its client. */
  private async publish(name: string, doc: BucketDoc | null): Promise<void> {
    const t = await this.load();
    if (doc) t.set(name, doc);
    else t.delete(name);
    await this.bus.publish({ type: 'bucket', name, doc });
  }

  private locked<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return withLock(this.locks, `bucket\0${name}`, fn);
  }

  private quorum(): number {
    return Math.floor(this.drives().length / 2) + 1;
  }

  /**
   * Load every drive's bucket list once; a bucket counts when a majority of drives have it. Too few drives
   * answering is InsufficientReadQuorum and nothing is kept (the next call tries again): a bucket missing from
   * a partial read would otherwise be NoSuchBucket until the process restarts.
   */
  private load(): Promise<Map<string, BucketDoc>> {
    if (this.table) return Promise.resolve(this.table);
    this.loading ??= this.read().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  private async read(): Promise<Map<string, BucketDoc>> {
    for (;;) {
      if (this.table) return this.table;
      const heard = this.heard;
      const table = await this.readTable();
      if (!table.has(SYSTEM_BUCKET)) table.set(SYSTEM_BUCKET, await this.makeSystemBucket());
      if (this.heard === heard) this.table ??= table;
    }
  }

  /**
   * The system bucket is made with the first table read of a deployment that does not have it yet (one
   * process alone, workers sharing drives, a deployment whose formatter wrote no system bucket), under its lock
   * and read again there, so processes starting together over fresh drives make it once.
   */
  private makeSystemBucket(): Promise<BucketDoc> {
    return this.locked(SYSTEM_BUCKET, async () => {
      const found = (await this.readTable()).get(SYSTEM_BUCKET);
      if (found) return found;
      const made = bucketDoc(Date.now(), {});
      await this.writeAll(SYSTEM_BUCKET, made);
      return made;
    });
  }

  private async readTable(): Promise<Map<string, BucketDoc>> {
    // Votes per name and per document text: the document most drives hold wins (one drive that missed a
    // configuration change does not bring the old one back).
    const votes = new Map<string, Map<string, number>>();
    const vote = (name: string, raw: Buffer | null) => {
      if (!raw) return;
      const texts = votes.get(name) ?? new Map<string, number>();
      const text = raw.toString('utf8');
      texts.set(text, (texts.get(text) ?? 0) + 1);
      votes.set(name, texts);
    };
    let answered = 0;
    await Promise.all(
      this.drives().map(async (d) => {
        // A drive without its directory answered "no buckets"; one that fails to list did not answer.
        const names = await d.list('').then(
          (n) => n ?? [],
          () => null,
        );
        if (names) answered++;
        for (const name of names ?? []) {
          if (NAME.test(name)) vote(name, await d.read(`${name}/${BUCKET_FILE}`).catch(() => null));
        }
        // The system bucket's name is not a bucket name (no client can make or reach it).
        vote(SYSTEM_BUCKET, await d.read(`${SYSTEM_BUCKET}/${BUCKET_FILE}`).catch(() => null));
      }),
    );
    // Written on a majority, so half the drives suffice to see it (fresh, empty drives do not hide it).
    const need = Math.ceil(this.drives().length / 2);
    if (answered < need) {
      const message = `${answered} of ${this.drives().length} drives answered; the bucket table needs ${need}`;
      throw new S3Error('InsufficientReadQuorum', message);
    }
    const table = new Map<string, BucketDoc>();
    for (const [name, texts] of votes) {
      let n = 0;
      for (const c of texts.values()) n += c;
      if (n < need) continue;
      // Most votes first; a corrupt copy loses to any readable one.
      for (const [text] of [...texts].sort((a, b) => b[1] - a[1])) {
        try {
          const stored = JSON.parse(text) as BucketDoc;
          table.set(name, bucketDoc(stored.created, stored.config));
          break;
        } catch {
          // a corrupt copy: the next one
        }
      }
    }
    return table;
  }

  async get(name: string): Promise<BucketDoc> {
    const doc = (await this.load()).get(name);
    if (!doc) throw new S3Error('NoSuchBucket', undefined, { BucketName: name });
    return doc;
  }

  async info(name: string): Promise<BucketInfo> {
    return { name, created: new Date((await this.get(name)).created) };
  }

  /** The users' buckets (the system bucket is not one of them). */
  async list(): Promise<BucketInfo[]> {
    return (await this.listAll()).filter((b) => b.name !== SYSTEM_BUCKET);
  }

  /** Every bucket, the system bucket included (healing and scanning cover it). */
  async listAll(): Promise<BucketInfo[]> {
    const t = await this.load();
    return [...t.entries()]
      .sort((a, b) => (a[0] < b[0] ? -1 : 1))
      .map(([name, d]) => ({ name, created: new Date(d.created) }));
  }

  private async writeAll(name: string, doc: BucketDoc): Promise<void> {
    const text = JSON.stringify(doc);
    const res = await Promise.allSettled(
      this.drives().map(async (d) => {
        await d.mkdirs(name);
        await d.writeAtomic(`${name}/${BUCKET_FILE}`, text);
      }),
    );
    if (res.filter((r) => r.status === 'fulfilled').length < this.quorum())
      throw new S3Error('InsufficientWriteQuorum');
  }

  async make(name: string, config: BucketConfig = {}): Promise<void> {
    validateBucketName(name);
    // Two concurrent creates (in any process): one wins, the other is told it exists.
    await this.locked(name, async () => {
      if ((await this.load()).has(name)) throw new S3Error('BucketAlreadyOwnedByYou', undefined, { BucketName: name });
      const made = bucketDoc(Date.now(), config);
      await this.writeAll(name, made);
      await this.publish(name, made);
    });
  }

  async update(name: string, patch: Record<string, unknown>): Promise<void> {
    await this.locked(name, async () => {
      const current = await this.get(name);
      const config: Record<string, unknown> = { ...current.config };
      for (const [k, v] of Object.entries(patch)) {
        if (v === null) delete config[k];
        else if (v !== undefined) config[k] = v;
      }
      const next = bucketDoc(current.created, config as BucketConfig);
      await this.writeAll(name, next);
      await this.publish(name, next);
    });
  }

  async remove(name: string): Promise<void> {
    await this.locked(name, async () => {
      await this.get(name);
      await Promise.all(this.drives().map((d) => d.remove(name).catch(() => {})));
      await this.publish(name, null);
    });
  }

  /** Copy every bucket onto a drive that lost them (replaced drive). */
  async healDrive(d: Drive): Promise<void> {
    for (const [name, bucket] of await this.load()) {
      await d.mkdirs(name);
      const file = `${name}/${BUCKET_FILE}`;
      if (!(await d.read(file))) await d.writeAtomic(file, JSON.stringify(bucket));
    }
  }
}
