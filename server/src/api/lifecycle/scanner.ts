// The lifecycle scanner: applies every bucket's lifecycle rules in the background. It runs with storage's
// background work (ObjectLayer.addBackgroundTask: the one process doing background work, every
// CAIRN_API_STALE_UPLOADS_CLEANUP_INTERVAL, a quarter of a lifecycle day with the test clock) and keeps out of
// foreground traffic's way: versions are listed a page at a time, one key is acted on at a time, and the event
// loop gets a turn between keys. Decisions are rules.ts's; every removal goes through storage's guards, so what
// changed since the listing is judged as it is now:
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
import type { LifecycleConfiguration } from './config.js';
import { planKey, scanPrefixes, uploadDue } from './rules.js';

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
      // One key's versions may span pages: a key is acted on once the listing has moved past it.
      let pending: ObjectInfo[] = [];
      for (;;) {
        const page = await this.ctx.storage.listObjectVersions(bucket, {
          prefix,
          keyMarker,
          versionIdMarker,
          maxKeys: PAGE,
        });
        for (const v of page.versions) {
          if (this.stopping()) return;
          if (pending.length > 0 && pending[0].key !== v.key) {
            await this.applyKey(bucket, config, pending, report);
            pending = [];
            await yieldToEventLoop();
          }
          pending.push(v);
        }
        if (!page.isTruncated || page.nextKeyMarker === undefined) break;
        keyMarker = page.nextKeyMarker;
        versionIdMarker = page.nextVersionIdMarker;
      }
      if (pending.length > 0) await this.applyKey(bucket, config, pending, report);
    }
  }

  private async applyKey(
    bucket: string,
    config: LifecycleConfiguration,
    versions: ObjectInfo[],
    report: ScanReport,
  ): Promise<void> {
    const plan = planKey(config, versions, this.ctx.now(), this.ctx.lifecycleDayMs);
    const key = versions[0].key;
    let kept = 0;
    for (const v of plan.removeNoncurrent) {
      const removed = await this.attempt(() =>
        this.ctx.storage.deleteObject(bucket, key, {
          versionId: v.versionId,
          versionGuard: (now) => {
            if (now.isLatest) throw changed();
            checkDeletable(now, false, this.ctx.now());
          },
        }),
      );
      if (removed) report.noncurrentRemoved++;
      else kept++;
    }
    if (plan.removeLoneMarker && kept === 0) {
      const marker = plan.removeLoneMarker;
      const removed = await this.attempt(() =>
        this.ctx.storage.deleteObject(bucket, key, {
          versionId: marker.versionId,
          versionGuard: (now) => {
            if (!now.isLatest || !now.deleteMarker) throw changed();
          },
        }),
      );
      if (removed) report.markersRemoved++;
    }
    if (plan.expireCurrent) {
      const seen = plan.expireCurrent;
      // No version id: unversioned buckets delete the object, versioned ones add a delete marker.
      const expired = await this.attempt(() =>
        this.ctx.storage.deleteObject(bucket, key, {
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
      if (expired) report.expired++;
    }
    for (const t of plan.transition) {
      if (this.stopping()) break;
      if (await this.transition(bucket, t.version, t.storageClass, t.current)) report.transitioned++;
    }
    report.skipped += kept;
  }

  /**
   * Moves one version's data to tier `storageClass` (storage.transitionObject: upload first, then the local
   * commit). When the commit does not happen (the version changed, a drive quorum failed) the remote copy is
   * removed again; a tier that does not answer leaves everything as it was, for the next pass.
   */
  private async transition(bucket: string, v: ObjectInfo, storageClass: string, current: boolean): Promise<boolean> {
    const tiers = this.ctx.tiers;
    if (!tiers) return false;
    let uploaded: RemoteObject | undefined;
    try {
      await this.ctx.storage.transitionObject(bucket, v.key, v.versionId, {
        upload: async (body) => {
          uploaded = await tiers.upload(storageClass, body);
          return uploaded;
        },
        guard: (now) => {
          if (current && !now.isLatest) throw changed();
        },
      });
      return true;
    } catch (e) {
      if (uploaded) await tiers.released([uploaded]).catch(() => {});
      if (!isS3Error(e)) throw e;
      this.log?.warn({ bucket, key: v.key, tier: storageClass, err: e.message }, 'lifecycle: transition not done');
      return false;
    }
  }

  /** Runs one removal; a refusal (lock, change, already gone) is not a failure of the scan. */
  private async attempt(fn: () => Promise<unknown>): Promise<boolean> {
    try {
      await fn();
      return true;
    } catch (e) {
      if (!isS3Error(e)) throw e;
      return false;
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
      if (await this.attempt(() => this.ctx.storage.abortMultipartUpload(bucket, u.key, u.uploadId)))
        report.uploadsAborted++;
      await yieldToEventLoop();
    }
  }
}
