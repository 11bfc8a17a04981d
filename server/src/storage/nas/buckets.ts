// Buckets of the NAS gateway: the folders at the top of the served folder whose names are valid bucket
// names (others, and the hidden area, are not buckets). A bucket's configuration (policy, ACL, tags, ...)
// lives in the hidden area (`.cairn.sys/buckets/<name>.json`); a folder without one is a bucket with the
// defaults, owned by root. What the gateway cannot do over plain files is refused here, whatever asks.
import { mkdir, readdir, rm, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { S3Error } from '../../errors.js';
import { SYS_DIR } from '../drive/drive.js';
import { validateBucketName } from '../engine/buckets.js';
import { KeyedMutex } from '../coordination.js';
import { SYSTEM_BUCKET, type BucketConfig, type BucketInfo } from '../object-layer.js';
import type { NasPaths } from './paths.js';
import { readJson, type SideStore } from './side-store.js';

interface BucketDoc {
  created: number;
  config: BucketConfig;
}

/** Configuration fields that ask for what a folder of plain files cannot give, and why. */
const REFUSED: Partial<Record<keyof BucketConfig, string>> = {
  objectLockEnabled: 'object lock needs versions the NAS gateway does not keep',
  objectLock: 'object lock needs versions the NAS gateway does not keep',
  lifecycle: 'lifecycle rules (expiry, transitions to tiers) are not applied by the NAS gateway',
  replication: 'bucket replication needs versions the NAS gateway does not keep',
  replicationTargets: 'bucket replication needs versions the NAS gateway does not keep',
  replicationResync: 'bucket replication needs versions the NAS gateway does not keep',
  encryption: 'the NAS gateway stores plain files: server-side encryption is not available',
};

export function refuseConfig(patch: { [K in keyof BucketConfig]?: unknown }): void {
  for (const [k, why] of Object.entries(REFUSED)) {
    const v = patch[k as keyof BucketConfig];
    if (v !== undefined && v !== null && v !== false) throw new S3Error('NotImplemented', `Not available: ${why}.`);
  }
  const versioning = patch.versioning;
  if (versioning !== undefined && versioning !== null && versioning !== 'Unversioned')
    throw new S3Error('NotImplemented', 'Not available: the NAS gateway keeps one version of a file (no versioning).');
}

export class NasBuckets {
  private readonly docs = new Map<string, BucketDoc>();
  private readonly locks = new KeyedMutex();
  private readonly dir: string;

  constructor(
    private readonly paths: NasPaths,
    private readonly side: SideStore,
  ) {
    this.dir = join(paths.hidden, 'buckets');
  }

  private docPath(name: string): string {
    return join(this.dir, `${name.replaceAll('/', '%2F')}.json`);
  }

  /** The bucket's document; NoSuchBucket when its folder is not there now (removed by someone else too). */
  async get(name: string): Promise<BucketDoc> {
    if (name !== SYSTEM_BUCKET) validateExisting(name);
    const real = await this.paths.bucketReal(name);
    const kept = this.docs.get(name);
    if (kept) return kept;
    const stored = await readJson<BucketDoc>(this.docPath(name));
    const st = await stat(real);
    const doc: BucketDoc = {
      created: stored?.created ?? Math.round(st.birthtimeMs || st.mtimeMs),
      config: Object.freeze({ ...(stored?.config ?? {}) }),
    };
    this.docs.set(name, doc);
    return doc;
  }

  async info(name: string): Promise<BucketInfo> {
    return { name, created: new Date((await this.get(name)).created) };
  }

  async make(name: string, config: BucketConfig = {}): Promise<void> {
    validateBucketName(name);
    refuseConfig(config);
    await this.locks.run(name, async () => {
      try {
        await mkdir(this.paths.bucketDir(name));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST')
          throw new S3Error('BucketAlreadyOwnedByYou', undefined, { BucketName: name });
        throw e;
      }
      this.docs.delete(name);
      await this.store(name, { created: Date.now(), config });
    });
  }

  async update(name: string, patch: { [K in keyof BucketConfig]?: BucketConfig[K] | null }): Promise<void> {
    refuseConfig(patch);
    await this.locks.run(name, async () => {
      const cur = await this.get(name);
      const config: Record<string, unknown> = { ...cur.config };
      for (const [k, v] of Object.entries(patch)) {
        if (v === null) delete config[k];
        else if (v !== undefined) config[k] = v;
      }
      await this.store(name, { created: cur.created, config: config as BucketConfig });
    });
  }

  /** Removes the bucket's folder (BucketNotEmpty unless it is empty) and its configuration. */
  async remove(name: string): Promise<void> {
    await this.get(name);
    await this.locks.run(name, async () => {
      try {
        await rmdir(this.paths.bucketDir(name));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOTEMPTY' || code === 'EEXIST')
          throw new S3Error('BucketNotEmpty', undefined, { BucketName: name });
        throw e;
      }
      this.docs.delete(name);
      await rm(this.docPath(name), { force: true });
    });
  }

  async list(): Promise<BucketInfo[]> {
    const names = (await readdir(this.paths.root, { withFileTypes: true }))
      .filter((d) => (d.isDirectory() || d.isSymbolicLink()) && d.name !== SYS_DIR && isBucketName(d.name))
      .map((d) => d.name)
      .sort();
    const out: BucketInfo[] = [];
    for (const name of names) {
      const info = await this.info(name).catch(() => null); // a link out of the folder is not a bucket
      if (info) out.push(info);
    }
    return out;
  }

  private async store(name: string, doc: BucketDoc): Promise<void> {
    const frozen = { created: doc.created, config: Object.freeze({ ...doc.config }) };
    await mkdir(this.dir, { recursive: true });
    await this.side.writeAtomic(this.docPath(name), JSON.stringify(frozen));
    this.docs.set(name, frozen);
  }
}

function isBucketName(name: string): boolean {
  try {
    validateBucketName(name);
    return true;
  } catch {
    return false;
  }
}

/** A name that is not a bucket name names no bucket (a folder called `My Files` is not one). */
function validateExisting(name: string): void {
  if (!isBucketName(name)) throw new S3Error('NoSuchBucket', undefined, { BucketName: name });
}
