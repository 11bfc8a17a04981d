// What Cairn keeps about the S3 gateway's buckets (policy, CORS, tags, notifications, ...: the bucket
// configurations the S3 API reads through getBucketConfig) in the gateway's state folder, one JSON file per
// bucket, written atomically. The buckets themselves are the backend's. What the gateway does not do for a
// bucket is refused here, whatever asks (NotImplemented), before anything is written.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { S3Error } from '../../errors.js';
import { KeyedMutex } from '../coordination.js';
import type { BucketConfig } from '../object-layer.js';
import { readJson, type SideStore } from '../nas/side-store.js';

interface BucketDoc {
  created: number;
  config: BucketConfig;
}

const REPLICATION = 'bucket replication is not done by the S3 gateway';
/**
 * Configuration fields asking for what the gateway does not do, and why. Versioning and object lock are the
 * backend's (versioning.ts, object-lock.ts), passed through.
 */
const REFUSED: Partial<Record<keyof BucketConfig, string>> = {
  lifecycle: 'lifecycle rules (expiry, transitions to tiers) are not applied by the S3 gateway',
  replication: REPLICATION,
  replicationTargets: REPLICATION,
  replicationResync: REPLICATION,
  encryption: 'the S3 gateway passes bytes as they are: Cairn’s server-side encryption is not available',
};

export function refuseConfig(patch: { [K in keyof BucketConfig]?: unknown }): void {
  for (const [k, why] of Object.entries(REFUSED)) {
    const v = patch[k as keyof BucketConfig];
    if (v !== undefined && v !== null && v !== false) throw new S3Error('NotImplemented', `Not available: ${why}.`);
  }
}

const EMPTY: BucketConfig = Object.freeze({});

export class BucketConfigs {
  private readonly docs = new Map<string, BucketDoc | null>();
  private readonly locks = new KeyedMutex();

  constructor(
    private readonly dir: string,
    private readonly side: SideStore,
  ) {}

  private path(name: string): string {
    return join(this.dir, `${name}.json`);
  }

  /** The kept document (null: none, the defaults), read once and then from memory (one process writes it). */
  async doc(name: string): Promise<BucketDoc | null> {
    if (this.docs.has(name)) return this.docs.get(name) ?? null;
    const stored = await readJson<BucketDoc>(this.path(name));
    const doc = stored && { created: stored.created, config: Object.freeze({ ...stored.config }) };
    this.docs.set(name, doc);
    return doc;
  }

  async config(name: string): Promise<BucketConfig> {
    return (await this.doc(name))?.config ?? EMPTY;
  }

  /** A new bucket's document (a bucket made again after a removal starts from the defaults). */
  async create(name: string, config: BucketConfig): Promise<void> {
    await this.locks.run(name, () => this.store(name, { created: Date.now(), config }));
  }

  async update(
    name: string,
    patch: { [K in keyof BucketConfig]?: BucketConfig[K] | null },
    created: () => Promise<number>,
  ): Promise<void> {
    await this.locks.run(name, async () => {
      const cur = await this.doc(name);
      const config: Record<string, unknown> = { ...(cur?.config ?? {}) };
      for (const [k, v] of Object.entries(patch)) {
        if (v === null) delete config[k];
        else if (v !== undefined) config[k] = v;
      }
      await this.store(name, { created: cur?.created ?? (await created()), config: config as BucketConfig });
    });
  }

  async remove(name: string): Promise<void> {
    await this.locks.run(name, async () => {
      await rm(this.path(name), { force: true });
      this.docs.set(name, null);
    });
  }

  private async store(name: string, doc: BucketDoc): Promise<void> {
    const frozen = { created: doc.created, config: Object.freeze({ ...doc.config }) };
    await mkdir(this.dir, { recursive: true });
    await this.side.writeAtomic(this.path(name), JSON.stringify(frozen));
    this.docs.set(name, frozen);
  }
}
