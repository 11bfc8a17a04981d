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
//
// A transition is written down too before its upload starts (`tier/intent/<id>.json`: the remote key, the
// version, the tier copy it replaces) and the entry goes once the transition is settled either way. An entry
// left by a process that stopped in between is settled by the background task: committed (the version points
// at the remote key) -> the replaced tier copy is released; not committed -> what the upload left on the tier
// (the object, unfinished multipart uploads) is removed.
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
import { type DailyStatsSharing, DailyTransitions } from './daily-stats.js';

const CONFIG_KEY = 'tier/config.json';
const JOURNAL_PREFIX = 'tier/journal/';
const INTENT_PREFIX = 'tier/intent/';
const FORMAT = 'cairn-tiers';
const VERSION = 1;

type StoredTier = Omit<Tier, 'secretKey'> & { sealedSecret: string };

/** The version a transition moves, and the tier copy it had (a move from one tier to another). */
export interface TransitionSource {
  bucket: string;
  key: string;
  versionId: string;
  previous?: RemoteObject;
}

/** A transition under way, as written down before its upload (`entry`: its key in the system bucket). */
export interface TransitionIntent extends TransitionSource {
  entry: string;
  /** Where the upload goes (its version id is known only once uploaded). */
  remote: RemoteObject;
}

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
  /** Intent entries of this process's transitions under way: not for the background task to settle. */
  private readonly underway = new Set<string>();

  /** Transitions per tier over the last day (tier-stats' DailyStats), shared with the other processes. */
  readonly daily: DailyTransitions;

  constructor(
    private readonly storage: ObjectLayer,
    private readonly sealer: Sealer,
    private readonly log?: ApiLogger,
    dailySharing?: DailyStatsSharing,
  ) {
    this.daily = new DailyTransitions(dailySharing);
  }

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
   * Starts a transition of `source` to tier `name`: picks the remote key (unique per transition: two
   * deployments, or two transitions of one version, never share a remote object) and writes the intent down.
   * Every begin is followed by `end`.
   */
  async begin(name: string, source: TransitionSource): Promise<TransitionIntent> {
    const remote = await this.get(name);
    if (!remote) throw new S3Error('InvalidStorageClass', `No remote tier is named ${name}`);
    const id = randomUUID();
    const key = `${remote.tier.prefix}${this.storage.deploymentId}/${id.slice(0, 2)}/${id.slice(2, 4)}/${id}`;
    const intent: TransitionIntent = { ...source, entry: `${INTENT_PREFIX}${id}.json`, remote: { tier: name, key } };
    const { entry: _entry, ...doc } = intent;
    const body = Buffer.from(JSON.stringify(doc), 'utf8');
    this.underway.add(intent.entry);
    try {
      await this.storage.putObject(SYSTEM_BUCKET, intent.entry, Readable.from([body]), { size: body.length });
    } catch (e) {
      this.underway.delete(intent.entry);
      throw e;
    }
    return intent;
  }

  /** Sends a version's stored bytes to the intent's remote object; where they went. */
  async upload(intent: TransitionIntent, body: Readable): Promise<RemoteObject> {
    const remote = await this.get(intent.remote.tier);
    if (!remote) {
      body.destroy();
      throw new S3Error('InvalidStorageClass', `No remote tier is named ${intent.remote.tier}`);
    }
    const versionId = await remote.put(intent.remote.key, body);
    return versionId ? { ...intent.remote, versionId } : intent.remote;
  }

  /**
   * The transition is over: committed, or its upload released (or never made). `settled` false leaves the
   * entry for the background task (the release could not be written down).
   */
  async end(intent: TransitionIntent, settled = true): Promise<void> {
    try {
      if (settled) await this.storage.deleteObject(SYSTEM_BUCKET, intent.entry);
    } finally {
      this.underway.delete(intent.entry);
    }
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

  /**
   * Background task: settles the transitions a stopped process left (first: they may release more), then
   * retries the removals the journal still holds. How many remote objects went.
   */
  async drainJournal(stopping: () => boolean): Promise<number> {
    let removed = 0;
    await this.eachEntry(INTENT_PREFIX, stopping, async (entry, doc) => {
      if (this.underway.has(entry)) return;
      if (await this.settleLeftIntent({ ...(doc as Omit<TransitionIntent, 'entry'>), entry })) removed++;
    });
    await this.eachEntry(JOURNAL_PREFIX, stopping, async (entry, doc) => {
      if (await this.removeRemote(entry, doc as RemoteObject)) removed++;
    });
    return removed;
  }

  /** Runs `fn` on each JSON entry under `prefix` of the system bucket, a page at a time. */
  private async eachEntry(
    prefix: string,
    stopping: () => boolean,
    fn: (entry: string, doc: unknown) => Promise<void>,
  ): Promise<void> {
    let after: string | undefined;
    for (;;) {
      const page = await this.storage.listObjects(SYSTEM_BUCKET, { prefix, after, maxKeys: 100 });
      for (const o of page.objects) {
        if (stopping()) return;
        let doc: unknown;
        try {
          doc = JSON.parse(
            (await readAll(await (await this.storage.openObject(SYSTEM_BUCKET, o.key)).read())).toString('utf8'),
          );
        } catch {
          continue; // removed meanwhile by the foreground
        }
        await fn(o.key, doc);
        await yieldToEventLoop();
      }
      if (!page.isTruncated || page.nextAfter === undefined) return;
      after = page.nextAfter;
    }
  }

  /**
   * A transition whose process stopped before settling it: committed -> the tier copy it replaced is released;
   * not (the version is gone or points elsewhere) -> what its upload left is removed. Whether anything was
   * removed from a tier now; the entry stays while the version cannot be read or the tier does not answer.
   */
  private async settleLeftIntent(intent: TransitionIntent): Promise<boolean> {
    let now: ObjectInfo | undefined;
    try {
      now = await this.storage.headObject(intent.bucket, intent.key, { versionId: intent.versionId });
    } catch (e) {
      const gone = ['NoSuchKey', 'NoSuchVersion', 'NoSuchBucket', 'MethodNotAllowed'];
      if (!isS3Error(e) || !gone.includes(e.code)) return false; // unreadable for now: next pass
    }
    const committed = now?.transition?.tier === intent.remote.tier && now.transition.key === intent.remote.key;
    if (committed) {
      if (intent.previous) await this.released([intent.previous]);
      await this.end(intent);
      return false;
    }
    const remote = await this.get(intent.remote.tier);
    try {
      // A tier removed (with force) since: its objects are no longer Cairn's to remove.
      if (remote) await remote.purge(intent.remote.key);
    } catch (e) {
      this.log?.warn({ tier: intent.remote.tier, err: isS3Error(e) ? e.message : String(e) }, 'tier: cleanup deferred');
      return false;
    }
    await this.end(intent);
    return remote !== undefined;
  }
}
