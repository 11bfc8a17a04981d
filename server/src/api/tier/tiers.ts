// The remote tiers of this deployment: their configuration, kept in the system bucket like IAM's records
// (`tier/config.json`, secrets sealed with a key derived from the root credentials, iam/seal.ts), the S3
// client of each, and what storage asks of them (RemoteTiers: reading transitioned data, dropping remote
// objects no version refers to any more).
//
// A dropped remote object is first written down in the system bucket (`tier/journal/<id>.json`), then removed;
// an entry whose removal failed (the tier was down) stays and is retried by the background task
// (`drainJournal`), so a delete never loses track of remote data. A process that stops between the commit of
// a delete and the journal entry leaves the remote object behind (the one gap; the remote bucket's prefix
// belongs to this deployment, so such objects can be found by listing it).
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { S3Error, isS3Error } from '../../errors.js';
import {
  SYSTEM_BUCKET,
  type ByteRange,
  type ObjectInfo,
  type ObjectLayer,
  type RemoteObject,
  type RemoteTiers,
} from '../../storage/object-layer.js';
import type { Sealer } from '../iam/seal.js';
import type { ApiLogger } from '../types.js';
import type { Tier } from './config.js';
import { RemoteS3 } from './remote.js';

const CONFIG_KEY = 'tier/config.json';
const JOURNAL_PREFIX = 'tier/journal/';
const FORMAT = 'cairn-tiers';
const VERSION = 1;

type StoredTier = Omit<Tier, 'secretKey'> & { sealedSecret: string };

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export class Tiers implements RemoteTiers {
  /** The configuration as last read, and what tells whether the stored one changed since (another worker). */
  private loaded?: { stamp: string; tiers: Map<string, RemoteS3> };
  /** One change of the configuration at a time in this process. */
  private changing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly storage: ObjectLayer,
    private readonly sealer: Sealer,
    private readonly log?: ApiLogger,
  ) {}

  private label(name: string): string {
    return `${CONFIG_KEY}#${name}`;
  }

  /** The tiers as stored now (re-read only when the stored document changed: one metadata read). */
  private async current(): Promise<Map<string, RemoteS3>> {
    let info: ObjectInfo | undefined;
    try {
      info = await this.storage.headObject(SYSTEM_BUCKET, CONFIG_KEY);
    } catch (e) {
      if (!isS3Error(e) || e.code !== 'NoSuchKey') throw e;
    }
    const stamp = info ? `${info.versionId}\0${info.etag}\0${info.lastModified.getTime()}` : '';
    if (this.loaded?.stamp === stamp) return this.loaded.tiers;
    const tiers = new Map<string, RemoteS3>();
    if (info) {
      const doc = JSON.parse(
        (await readAll(await (await this.storage.openObject(SYSTEM_BUCKET, CONFIG_KEY)).read())).toString('utf8'),
      ) as { format?: string; version?: number; tiers?: StoredTier[] };
      if (doc.format !== FORMAT || doc.version !== VERSION)
        throw new S3Error('InternalError', 'The stored tier configuration has an unknown format');
      for (const { sealedSecret, ...t } of doc.tiers ?? []) {
        const secret = this.sealer.open('tier-secrets', Buffer.from(sealedSecret, 'base64'), this.label(t.name));
        if (secret === undefined) {
          this.log?.warn({ tier: t.name }, 'tier: its stored secret cannot be opened (root credentials changed?)');
          continue;
        }
        tiers.set(t.name, new RemoteS3({ ...t, secretKey: secret.toString('utf8') }));
      }
    }
    this.loaded = { stamp, tiers };
    return tiers;
  }

  private async save(tiers: Tier[]): Promise<void> {
    const stored: StoredTier[] = tiers.map(({ secretKey, ...t }) => ({
      ...t,
      sealedSecret: this.sealer
        .seal('tier-secrets', Buffer.from(secretKey, 'utf8'), this.label(t.name))
        .toString('base64'),
    }));
    const body = Buffer.from(JSON.stringify({ format: FORMAT, version: VERSION, tiers: stored }), 'utf8');
    await this.storage.putObject(SYSTEM_BUCKET, CONFIG_KEY, Readable.from([body]), {
      size: body.length,
      contentHeaders: { 'content-type': 'application/json' },
    });
  }

  /** Changes run one after another, each on the configuration as stored when it starts. */
  private change<T>(fn: (tiers: Map<string, RemoteS3>) => Promise<T>): Promise<T> {
    const run = this.changing.then(async () => fn(await this.current()));
    this.changing = run.catch(() => {});
    return run;
  }

  async list(): Promise<Tier[]> {
    return [...(await this.current()).values()].map((r) => r.tier);
  }

  async get(name: string): Promise<RemoteS3 | undefined> {
    return (await this.current()).get(name);
  }

  private async need(name: string): Promise<RemoteS3> {
    const r = await this.get(name);
    if (!r) throw new S3Error('XMinioAdminTierNotFound');
    return r;
  }

  /** Adds a tier once its bucket takes a write, a read and a removal (and is empty, unless `force`). */
  add(tier: Tier, force: boolean): Promise<void> {
    return this.change(async (tiers) => {
      if (tiers.has(tier.name)) throw new S3Error('XMinioAdminTierAlreadyExists');
      const remote = new RemoteS3(tier);
      await remote.probe();
      if (!force && (await remote.inUse())) throw new S3Error('XMinioAdminTierBackendInUse');
      await this.save([...[...tiers.values()].map((r) => r.tier), tier]);
    });
  }

  /** New credentials for a tier, checked like a new tier's. */
  edit(name: string, accessKey: string, secretKey: string): Promise<void> {
    return this.change(async (tiers) => {
      const old = tiers.get(name);
      if (!old) throw new S3Error('XMinioAdminTierNotFound');
      if (!accessKey || !secretKey) throw new S3Error('XMinioAdminTierMissingCredentials');
      const tier = { ...old.tier, accessKey, secretKey };
      await new RemoteS3(tier).probe();
      await this.save([...tiers.values()].map((r) => (r.tier.name === name ? tier : r.tier)));
    });
  }

  /** Removes a tier whose prefix holds nothing any more (or anyway, with `force`: its data becomes unreachable). */
  remove(name: string, force: boolean): Promise<void> {
    return this.change(async (tiers) => {
      const remote = tiers.get(name);
      if (!remote) throw new S3Error('XMinioAdminTierNotFound');
      if (!force && (await remote.inUse())) throw new S3Error('XMinioAdminTierBackendNotEmpty');
      await this.save([...tiers.values()].filter((r) => r.tier.name !== name).map((r) => r.tier));
    });
  }

  async verify(name: string): Promise<void> {
    await (await this.need(name)).probe();
  }

  /**
   * Sends a version's stored bytes to tier `name` as one new object under its prefix; where it went. A unique
   * name per transition: two deployments, or two transitions of one version, never share a remote object.
   */
  async upload(name: string, body: Readable): Promise<RemoteObject> {
    const remote = await this.get(name);
    if (!remote) {
      body.destroy();
      throw new S3Error('InvalidStorageClass', `No remote tier is named ${name}`);
    }
    const id = randomUUID();
    const key = `${remote.tier.prefix}${this.storage.deploymentId}/${id.slice(0, 2)}/${id.slice(2, 4)}/${id}`;
    const versionId = await remote.put(key, body);
    return versionId ? { tier: name, key, versionId } : { tier: name, key };
  }

  // RemoteTiers (storage's side)

  async read(where: RemoteObject, range: ByteRange | undefined, storedSize: number): Promise<Readable> {
    const remote = await this.get(where.tier);
    if (!remote)
      throw new S3Error(
        'ServiceUnavailable',
        `The remote tier ${where.tier} holding this object's data is not configured`,
      );
    return remote.get(where.key, where.versionId, range, storedSize);
  }

  async released(remotes: RemoteObject[]): Promise<void> {
    const entries: string[] = [];
    for (const r of remotes) {
      const key = `${JOURNAL_PREFIX}${randomUUID()}.json`;
      const body = Buffer.from(JSON.stringify(r), 'utf8');
      await this.storage.putObject(SYSTEM_BUCKET, key, Readable.from([body]), { size: body.length });
      entries.push(key);
    }
    // Removed now when the tier answers; otherwise the background task retries.
    void Promise.all(entries.map((key, i) => this.removeRemote(key, remotes[i]))).catch(() => {});
  }

  /** Removes one journaled remote object and its entry; false (entry kept) when the tier did not answer. */
  private async removeRemote(entry: string, where: RemoteObject): Promise<boolean> {
    const remote = await this.get(where.tier);
    try {
      // A tier removed (with force) since: its objects are no longer Cairn's to remove.
      if (remote) await remote.remove(where.key, where.versionId);
    } catch (e) {
      this.log?.warn({ tier: where.tier, err: isS3Error(e) ? e.message : String(e) }, 'tier: removal deferred');
      return false;
    }
    await this.storage.deleteObject(SYSTEM_BUCKET, entry).catch(() => {});
    return true;
  }

  /** Background task: retries the removals the journal still holds. How many went. */
  async drainJournal(stopping: () => boolean): Promise<number> {
    let removed = 0;
    let after: string | undefined;
    for (;;) {
      const page = await this.storage.listObjects(SYSTEM_BUCKET, { prefix: JOURNAL_PREFIX, after, maxKeys: 100 });
      for (const o of page.objects) {
        if (stopping()) return removed;
        let where: RemoteObject;
        try {
          where = JSON.parse(
            (await readAll(await (await this.storage.openObject(SYSTEM_BUCKET, o.key)).read())).toString('utf8'),
          ) as RemoteObject;
        } catch {
          continue; // removed meanwhile by the foreground attempt
        }
        if (await this.removeRemote(o.key, where)) removed++;
        await yieldToEventLoop();
      }
      if (!page.isTruncated || page.nextAfter === undefined) return removed;
      after = page.nextAfter;
    }
  }
}
