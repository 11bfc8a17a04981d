// The lifecycle scanner: applies every bucket's lifecycle rules in the background. It runs with storage's
// background work (ObjectLayer.addBackgroundTask: the one process doing background work, every
// CAIRN_API_STALE_UPLOADS_CLEANUP_INTERVAL, a quarter of a lifecycle day with the test clock) and keeps out of
// foreground traffic's way: versions are listed a page at a time, one key is acted on at a time, and the event
// loop gets a turn between keys. A key's versions are judged as they are listed (KeyPlanner), so a key with
// millions of versions holds no more memory than a page. Decisions are rules.ts's; every removal goes through
// storage's guards, so what changed since the listing is judged as it is now:
// - the current version is expired only if it is still the version the rules judged (a newer PUT wins);
// - a noncurrent version or delete marker is removed only if it is still not the current one, and never while
//   a retention or legal hold protects it (object-lock.ts checkDeletable, without any bypass);
// - a transition uploads the version's data to its tier, then replaces the local data with the remote location
//   only if the version is still the one listed (storage.transitionObject; api/tier holds the tiers).
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { S3Error, isS3Error } from '../../errors.js';
import type { ObjectInfo, RemoteObject } from '../../storage/object-layer.js';
import { bucketSettings } from '../bucket-settings.js';
import { checkDeletable } from '../object-lock.js';
import type { ApiContext, ApiLogger } from '../types.js';
import type { EventName } from '../notify/config.js';
import { type ObjectEvent, publishServerEvents } from '../notify/index.js';
import type { TransitionIntent } from '../tier/tiers.js';
import type { LifecycleConfiguration } from './config.js';
import { KeyPlanner, type KeyPlan, scanPrefixes, uploadDue } from './rules.js';

/** Versions listed per storage call. */
const PAGE = 100;

export interface ScanReport {
  expired: number;
  noncurrentRemoved: number;
  markersRemoved: number;
  uploadsAborted: number;
  /** Versions whose data moved to a remote tier. */
  transitioned: number;
  /** Removals refused by a lock or by a change since the listing. */
  skipped: number;
}

/** A key whose versions are being listed: its planner, and what was found due and not yet done. */
interface KeyInScan {
  name: string;
  planner: KeyPlanner;
  remove: ObjectInfo[];
  transition: KeyPlan['transition'];
  /** Due removals refused (a lock, a change since the listing): a delete marker then still hides versions. */
  kept: number;
}

/** Who did it, in the events' user agent and source (MinIO's names). */
const ILM_EXPIRY = 'Internal: [ILM-Expiry]';
const ILM_TRANSITION = 'Internal: [ILM-Transition]';

const changed = () => new S3Error('PreconditionFailed', 'changed since the lifecycle scan listed it');

export class LifecycleScanner {
  private stopping: () => boolean = () => false;

  constructor(
    private readonly ctx: ApiContext,
    private readonly log?: ApiLogger,
  ) {}

  /** One pass over every bucket with enabled lifecycle rules; `stopping()` true ends it early (shutdown). */
  async run(stopping: () => boolean = () => false): Promise<ScanReport> {
    this.stopping = stopping;
    const report: ScanReport = {
      expired: 0,
      noncurrentRemoved: 0,
      markersRemoved: 0,
      uploadsAborted: 0,
      transitioned: 0,
      skipped: 0,
    };
    for (const b of await this.ctx.storage.listBuckets()) {
      if (stopping()) break;
      let config: LifecycleConfiguration | undefined;
      try {
        config = (await bucketSettings(this.ctx, b.name)).lifecycle;
      } catch {
        continue; // deleted since the listing, or unreadable now: the next pass sees it
      }
      if (!config?.rules.some((r) => r.enabled)) continue;
      try {
        await this.scanBucket(b.name, config, report);
        await this.abortUploads(b.name, config, report);
      } catch (e) {
        if (isS3Error(e) && e.code === 'NoSuchBucket') continue;
        throw e;
      }
    }
    const acted =
      report.expired + report.noncurrentRemoved + report.markersRemoved + report.uploadsAborted + report.transitioned;
    if (acted > 0 || report.skipped > 0) this.log?.info({ lifecycle: report }, 'lifecycle scan');
    return report;
  }

  private async scanBucket(bucket: string, config: LifecycleConfiguration, report: ScanReport): Promise<void> {
    for (const prefix of scanPrefixes(config)) {
      let keyMarker: string | undefined;
      let versionIdMarker: string | undefined;
      // One key's versions may span pages, any number of them: they are judged as they come (KeyPlanner), and
      // what is held is what the last page found due, so memory stays a page whatever the key.
      let key: KeyInScan | undefined;
      for (;;) {
        const page = await this.ctx.storage.listObjectVersions(bucket, {
          prefix,
          keyMarker,
          versionIdMarker,
          maxKeys: PAGE,
        });
        for (const v of page.versions) {
          if (this.stopping()) return;
          if (key && key.name !== v.key) {
            await this.finishKey(bucket, key, report);
            key = undefined;
            await yieldToEventLoop();
          }
          key ??= {
            name: v.key,
            planner: new KeyPlanner(config, this.ctx.now(), this.ctx.lifecycleDayMs),
            remove: [],
            transition: [],
            kept: 0,
          };
          const due = key.planner.more([v]);
          key.remove.push(...due.removeNoncurrent);
          key.transition.push(...due.transition);
        }
        if (!page.isTruncated || page.nextKeyMarker === undefined) break;
        keyMarker = page.nextKeyMarker;
        versionIdMarker = page.nextVersionIdMarker;
        // The listing goes on after the last version listed: that one is not removed before the next page.
        if (key) await this.actOnDue(bucket, key, report, versionIdMarker);
      }
      if (key) await this.finishKey(bucket, key, report);
    }
  }

  /** The noncurrent versions found due so far: removed (but `keep`, where the listing resumes) or moved. */
  private async actOnDue(bucket: string, key: KeyInScan, report: ScanReport, keep?: string): Promise<void> {
    const later = key.remove.filter((v) => v.versionId === keep);
    for (const v of key.remove) {
      if (v.versionId === keep || this.stopping()) continue;
      const removed = await this.attempt(() =>
        this.ctx.storage.deleteObject(bucket, key.name, {
          versionId: v.versionId,
          versionGuard: (now) => {
            if (now.isLatest) throw changed();
            checkDeletable(now, false, this.ctx.now());
          },
        }),
      );
      if (removed) {
        report.noncurrentRemoved++;
        await this.expiredEvent(bucket, 's3:LifecycleExpiration:Delete', key.name, v.versionId);
      } else key.kept++;
    }
    key.remove = later;
    for (const t of key.transition) {
      if (this.stopping()) break;
      if (await this.transition(bucket, t.version, t.storageClass, t.current)) {
        report.transitioned++;
        const { version: v } = t;
        await this.event(bucket, ILM_TRANSITION, {
          name: 's3:LifecycleTransition',
          key: v.key,
          size: v.size,
          etag: v.etag,
          versionId: v.versionId,
          destinationStorageClass: t.storageClass,
        });
      }
    }
    key.transition = [];
  }

  private async finishKey(bucket: string, key: KeyInScan, report: ScanReport): Promise<void> {
    const plan = key.planner.finish();
    key.transition.push(...plan.transition);
    await this.actOnDue(bucket, key, report);
    if (plan.removeLoneMarker && key.kept === 0) {
      const marker = plan.removeLoneMarker;
      const removed = await this.attempt(() =>
        this.ctx.storage.deleteObject(bucket, key.name, {
          versionId: marker.versionId,
          versionGuard: (now) => {
            if (!now.isLatest || !now.deleteMarker) throw changed();
          },
        }),
      );
      if (removed) {
        report.markersRemoved++;
        await this.expiredEvent(bucket, 's3:LifecycleExpiration:Delete', key.name, marker.versionId);
      }
    }
    if (plan.expireCurrent) {
      const seen = plan.expireCurrent;
      // No version id: unversioned buckets delete the object, versioned ones add a delete marker.
      const expired = await this.attempt(() =>
        this.ctx.storage.deleteObject(bucket, key.name, {
          precondition: (now) => {
            const same =
              now !== null &&
              now.versionId === seen.versionId &&
              now.etag === seen.etag &&
              now.lastModified.getTime() === seen.lastModified.getTime();
            if (!same) throw changed();
          },
        }),
      );
      if (expired) {
        report.expired++;
        // A versioned bucket keeps the version behind a new delete marker (the event names the marker).
        const name = expired.deleteMarker
          ? 's3:LifecycleExpiration:DeleteMarkerCreated'
          : 's3:LifecycleExpiration:Delete';
        await this.expiredEvent(bucket, name, key.name, expired.deleteMarker ? expired.versionId : seen.versionId);
      }
    }
    report.skipped += key.kept;
  }

  /**
   * Moves one version's data to tier `storageClass` (storage.transitionObject: upload first, then the local
   * commit). When the commit does not happen (the version changed, a drive quorum failed) the remote copy is
   * removed again; a tier that does not answer leaves everything as it was, for the next pass.
   */
  private async transition(bucket: string, v: ObjectInfo, storageClass: string, current: boolean): Promise<boolean> {
    const tiers = this.ctx.tiers;
    if (!tiers) return false;
    let intent: TransitionIntent | undefined;
    let uploaded: RemoteObject | undefined;
    try {
      intent = await tiers.begin(storageClass, {
        bucket,
        key: v.key,
        versionId: v.versionId,
        previous: v.transition,
      });
      const started = intent;
      await this.ctx.storage.transitionObject(bucket, v.key, v.versionId, {
        upload: async (body) => {
          uploaded = await tiers.upload(started, body);
          return uploaded;
        },
        guard: (now) => {
          if (current && !now.isLatest) throw changed();
        },
      });
      await tiers.end(intent).catch(() => {}); // an entry left is settled by the background task
      await tiers.daily.record({ tier: storageClass, size: v.size, latest: current, at: Date.now() }).catch(() => {});
      return true;
    } catch (e) {
      // Not committed: the upload is released (written down first), then the intent can go.
      const settled = uploaded
        ? await tiers.released([uploaded]).then(
            () => true,
            () => false,
          )
        : true;
      if (intent) await tiers.end(intent, settled).catch(() => {});
      if (!isS3Error(e)) throw e;
      this.log?.warn({ bucket, key: v.key, tier: storageClass, err: e.message }, 'lifecycle: transition not done');
      return false;
    }
  }

  /** Runs one action (its result must be truthy); a refusal (lock, change, gone) is not a failure of the scan: undefined. */
  private async attempt<T>(fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (e) {
      if (!isS3Error(e)) throw e;
      return undefined;
    }
  }

  private expiredEvent(bucket: string, name: EventName, key: string, versionId: string | undefined): Promise<void> {
    return this.event(bucket, ILM_EXPIRY, { name, key, versionId });
  }

  /**
   * Tells the bucket's notification targets what a rule did (queued durably, as a request's events are). The
   * action is done: a failure to queue is logged, not a failure of the scan.
   */
  private async event(bucket: string, agent: string, e: ObjectEvent): Promise<void> {
    try {
      await publishServerEvents(this.ctx, bucket, [e], agent);
    } catch (err) {
      this.log?.warn({ bucket, key: e.key, event: e.name, err: String(err) }, 'lifecycle: event not queued');
    }
  }

  private async abortUploads(bucket: string, config: LifecycleConfiguration, report: ScanReport): Promise<void> {
    if (!config.rules.some((r) => r.enabled && r.abortMultipartDays !== undefined)) return;
    // Collected first, aborted after: aborting while paging would move the listing's markers.
    const due: { key: string; uploadId: string }[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const page = await this.ctx.storage.listMultipartUploads(bucket, { keyMarker, uploadIdMarker, maxUploads: PAGE });
      const now = this.ctx.now();
      for (const u of page.uploads) if (uploadDue(config, u, now, this.ctx.lifecycleDayMs)) due.push(u);
      if (!page.isTruncated || page.nextKeyMarker === undefined) break;
      keyMarker = page.nextKeyMarker;
      uploadIdMarker = page.nextUploadIdMarker;
      await yieldToEventLoop();
    }
    for (const u of due) {
      if (this.stopping()) return;
      if (await this.attempt(() => this.ctx.storage.abortMultipartUpload(bucket, u.key, u.uploadId).then(() => true)))
        report.uploadsAborted++;
      await yieldToEventLoop();
    }
  }
}
