// Buckets: a directory of the bucket's name on every drive, with `_bucket.json` (creation time and
// configuration) inside. Names are validated to S3's rules, so a bucket name is always a safe file name.
// The bucket table is read from the drives once and then kept in memory (this process owns the drives).
import { S3Error } from '../../errors.js';
import type { LocalDrive } from '../drive/local-drive.js';
import { SYS_DIR } from '../drive/local-drive.js';
import { SYSTEM_BUCKET, type BucketConfig, type BucketInfo } from '../object-layer.js';

export const BUCKET_FILE = '_bucket.json';

interface BucketDoc {
  created: number;
  /** Frozen: replaced, never changed, so callers may cache what they derive from it (see getBucketConfig). */
  config: Readonly<BucketConfig>;
}

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

export class Buckets {
  private table: Map<string, BucketDoc> | null = null;
  private creating = new Set<string>();

  constructor(private readonly drives: () => LocalDrive[]) {}

  private quorum(): number {
    return Math.floor(this.drives().length / 2) + 1;
  }

  /**
   * Load every drive's bucket list once; a bucket counts when a majority of drives have it. Too few drives
   * answering is InsufficientReadQuorum and nothing is kept (the next call tries again): a bucket missing from
   * a partial read would otherwise be NoSuchBucket until the process restarts.
   */
  private async load(): Promise<Map<string, BucketDoc>> {
    if (this.table) return this.table;
    const votes = new Map<string, { n: number; doc?: BucketDoc }>();
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
          if (!NAME.test(name)) continue;
          const raw = await d.read(`${name}/${BUCKET_FILE}`).catch(() => null);
          if (!raw) continue;
          const v = votes.get(name) ?? { n: 0 };
          v.n++;
          try {
            if (!v.doc) {
              const stored = JSON.parse(raw.toString('utf8')) as BucketDoc;
              v.doc = bucketDoc(stored.created, stored.config);
            }
          } catch {
            // a corrupt copy: another drive's is used
          }
          votes.set(name, v);
        }
      }),
    );
    // Written on a majority, so half the drives suffice to see it (fresh, empty drives do not hide it).
    const need = Math.ceil(this.drives().length / 2);
    if (answered < need) {
      const message = `${answered} of ${this.drives().length} drives answered; the bucket table needs ${need}`;
      throw new S3Error('InsufficientReadQuorum', message);
    }
    await Promise.all(
      this.drives().map(async (d) => {
        const raw = await d.read(`${SYSTEM_BUCKET}/${BUCKET_FILE}`).catch(() => null);
        if (!raw) return;
        const v = votes.get(SYSTEM_BUCKET) ?? { n: 0 };
        v.n++;
        votes.set(SYSTEM_BUCKET, v);
        try {
          const stored = JSON.parse(raw.toString('utf8')) as BucketDoc;
          v.doc ??= bucketDoc(stored.created, stored.config);
        } catch {
          // a corrupt copy: another drive's is used
        }
      }),
    );
    const table = new Map<string, BucketDoc>();
    for (const [name, v] of votes) if (v.doc && v.n >= need) table.set(name, v.doc);
    // The system bucket is made with the first table read of a deployment that does not have it yet.
    if (!table.has(SYSTEM_BUCKET)) {
      const made = bucketDoc(Date.now(), {});
      await this.writeAll(SYSTEM_BUCKET, made);
      table.set(SYSTEM_BUCKET, made);
    }
    this.table ??= table;
    return this.table;
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
    const t = await this.load();
    if (t.has(name) || this.creating.has(name))
      throw new S3Error('BucketAlreadyOwnedByYou', undefined, { BucketName: name });
    this.creating.add(name); // two concurrent creates: one wins, the other is told it exists
    try {
      const made = bucketDoc(Date.now(), config);
      await this.writeAll(name, made);
      t.set(name, made);
    } finally {
      this.creating.delete(name);
    }
  }

  async update(name: string, patch: Record<string, unknown>): Promise<void> {
    const current = await this.get(name);
    const config: Record<string, unknown> = { ...current.config };
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete config[k];
      else if (v !== undefined) config[k] = v;
    }
    const next = bucketDoc(current.created, config as BucketConfig);
    await this.writeAll(name, next);
    (await this.load()).set(name, next);
  }

  async remove(name: string): Promise<void> {
    await this.get(name);
    await Promise.all(this.drives().map((d) => d.remove(name).catch(() => {})));
    (await this.load()).delete(name);
  }

  /** Copy every bucket onto a drive that lost them (replaced drive). */
  async healDrive(d: LocalDrive): Promise<void> {
    for (const [name, bucket] of await this.load()) {
      await d.mkdirs(name);
      const file = `${name}/${BUCKET_FILE}`;
      if (!(await d.read(file))) await d.writeAtomic(file, JSON.stringify(bucket));
    }
  }
}
