// A bucket's hard quota (MinIO's bucket quota): the document kept with the bucket's configuration, the usage it
// is checked against, and the check every write into the bucket makes (PutObject, PostObject, CopyObject,
// UploadPart, UploadPartCopy, as MinIO checks them). A write that would take the bucket over its quota is
// refused with XMinioAdminBucketQuotaExceeded before anything is stored.
//
// Usage is known as MinIO knows it, eventually: a walk of the bucket's versions (sizes of every version, delete
// markers aside), made once per bucket when a write first meets its quota and again in the background when the
// count is older than USAGE_TTL_MS, or at once before a write would be refused (at most once a second); a bucket
// is never walked more than a tenth of the time. Between walks each process adds what it accepts (and takes back
// what fails); a walk's result keeps the writes still in flight and those finished while it ran, so this process
// never counts less than it wrote and two concurrent writes cannot both take the last bytes. With several
// workers or nodes (QuotaSharing), the check and the take run under a deployment-wide lock of the bucket's
// quota, and every take, and its end, is told to the other processes over storage's change bus before the
// lock goes: each counts the others' writes as its own (in flight until done, then kept until its next walk),
// so the bytes one worker took cannot be taken again through another; a quota set through one has every process
// count the bucket anew before its next write. Deletes are seen at the next walk;
// parts of unfinished uploads count from their upload until the next walk (MinIO's scanner does not count them).
import { S3Error } from '../errors.js';
import type { ChangeBus, Locks, Release } from '../storage/coordination.js';
import type { ObjectLayer } from '../storage/object-layer.js';
import { USAGE_MAX_VERSIONS } from './admin/server-info.js';
import { bucketSettings } from './bucket-settings.js';
import { emptyResponse, type ApiContext, type S3Response } from './types.js';

/** madmin.BucketQuota as stored and answered: `size` (newer clients) or `quota` (older ones) in bytes. */
export interface BucketQuota {
  quota: number;
  size: number;
  quotatype: 'hard';
}

/** How old a bucket's counted usage may be before a write starts a new count (MinIO's cache: 10 s). */
export const USAGE_TTL_MS = 10_000;
/** A write that does not fit by the count kept has the bucket counted again first, if counted longer ago. */
const RECOUNT_BEFORE_REFUSING_MS = 1000;
/** A big bucket is walked less often: at most a tenth of the time (a walk of 1M versions takes seconds). */
const WALK_SHARE = 10;

const KEYS = new Set(['quota', 'size', 'quotatype', 'rate', 'requests']);

function bytesField(v: unknown, name: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new S3Error('XMinioAdminInvalidArgument', `${name} must be a whole number of bytes (at most 2^53-1)`);
  return v;
}

/**
 * The body of set-bucket-quota: {"quota"|"size": bytes, "quotatype": "hard"}. Undefined: no quota (0, as
 * `mc quota clear` and minio-py's bucket_quota_clear send). MinIO's request-rate limits are not done: refused.
 */
export function parseQuota(body: Record<string, unknown>): BucketQuota | undefined {
  for (const k of Object.keys(body))
    if (!KEYS.has(k)) throw new S3Error('XMinioAdminInvalidArgument', `Unknown quota field ${k.slice(0, 64)}`);
  if (bytesField(body.rate, 'rate') !== 0 || bytesField(body.requests, 'requests') !== 0)
    throw new S3Error('NotImplemented', 'Bucket request-rate quotas (rate, requests) are not implemented');
  const quota = bytesField(body.quota, 'quota');
  const size = bytesField(body.size, 'size');
  const type = body.quotatype ?? '';
  if (quota === 0 && size === 0) {
    if (type !== '' && type !== 'hard') throw new S3Error('XMinioAdminInvalidArgument', 'quotatype must be hard');
    return undefined;
  }
  // MinIO's old 'fifo' quota (deleting the oldest objects) was removed from MinIO too.
  if (type !== 'hard') throw new S3Error('XMinioAdminInvalidArgument', 'quotatype must be hard');
  return { quota, size, quotatype: 'hard' };
}

/** The stored quota (written by the admin call, so it parses); undefined: none. */
export function storedQuota(raw: string | undefined): BucketQuota | undefined {
  if (raw === undefined) return undefined;
  try {
    const q = JSON.parse(raw) as BucketQuota;
    return q.quota > 0 || q.size > 0 ? q : undefined;
  } catch {
    return undefined;
  }
}

/** The limit in bytes: `size` when given, else `quota` (as MinIO reads them). */
export const quotaLimit = (q: BucketQuota): number => (q.size > 0 ? q.size : q.quota);

interface Usage {
  /** Bytes counted by the last walk plus what this process accepted since. */
  bytes: number;
  /** When the last walk finished (0: never). */
  at: number;
  walking?: Promise<void>;
  /** Bytes of writes accepted here and not finished: a walk cannot have seen them all. */
  inflight: number;
  /** Bytes of writes finished while the walk runs (it may or may not have seen them: counted, to be safe). */
  during: number;
  /** When the last walk (finished or running) began, and how long the last finished one took. */
  walkedFrom: number;
  walkMs: number;
  /** When the count was last declared stale (a walk begun before does not make it fresh). */
  staleFrom: number;
}

/** Per storage (a test process runs several servers), per bucket met with a quota. */
const usages = new WeakMap<ObjectLayer, Map<string, Usage>>();

/** The bucket's entry (not counted yet: `at` 0). */
function usageEntry(storage: ObjectLayer, bucket: string): Usage {
  let byBucket = usages.get(storage);
  if (!byBucket) usages.set(storage, (byBucket = new Map()));
  let u = byBucket.get(bucket);
  if (!u)
    byBucket.set(bucket, (u = { bytes: 0, at: 0, inflight: 0, during: 0, walkedFrom: 0, walkMs: 0, staleFrom: 0 }));
  return u;
}

/**
 * A write's bytes as the other processes are told: taken (in flight), then done or failed (given back); or
 * `forget` (bytes 0): the bucket's quota was set, its count is to be made anew.
 */
export interface QuotaNote {
  bucket: string;
  bytes: number;
  step: 'take' | 'done' | 'failed' | 'forget';
}

/** How the processes serving the same drives share the bytes they take of quotas (workers, nodes). */
export interface QuotaSharing {
  /** The deployment-wide lock of one bucket's quota: held from the check to the others being told. */
  lock(bucket: string): Promise<Release>;
  /** Resolves once every other process has applied `note`. */
  publish(note: QuotaNote): Promise<void>;
  /** The others' notes; `missed` when this process may have missed some (its counts are then made again). */
  subscribe(apply: (note: QuotaNote) => void, missed: () => void): void;
}

const TOPIC = 'quota';

/** Sharing over storage's lock service and change bus (the workers' IPC forms, or the nodes' network ones). */
export function quotaOverBus(locks: Locks, bus: ChangeBus): QuotaSharing {
  return {
    lock: (bucket) => locks.acquire(`quota\0${bucket}`),
    publish: (note) => bus.publish({ type: 'notice', topic: TOPIC, data: note }),
    subscribe: (apply, missed) =>
      bus.subscribe((c) => {
        if (c.type === 'missed') missed();
        else if (c.type === 'notice' && c.topic === TOPIC) apply(c.data as QuotaNote);
      }),
  };
}

const sharings = new WeakMap<ObjectLayer, QuotaSharing>();

/** Shares `storage`'s quota counts with the other processes serving its drives (http/server.ts, at start). */
export function shareQuota(storage: ObjectLayer, sharing: QuotaSharing): void {
  sharings.set(storage, sharing);
  sharing.subscribe(
    (n) => {
      // Another process's write, counted as this one counts its own (an entry is kept even before this
      // process's first walk: the walk adds what is still in flight).
      if (n.step === 'forget') return staleUsage(storage, n.bucket);
      const u = usageEntry(storage, n.bucket);
      if (n.step === 'take') {
        u.bytes += n.bytes;
        u.inflight += n.bytes;
        return;
      }
      u.inflight -= n.bytes;
      if (n.step === 'failed') u.bytes -= n.bytes;
      else if (u.walking) u.during += n.bytes;
    },
    () => usages.get(storage)?.clear(),
  );
}

/** Bytes of every version of the bucket (delete markers aside), up to USAGE_MAX_VERSIONS versions. */
async function bucketBytes(storage: ObjectLayer, bucket: string): Promise<number> {
  let bytes = 0;
  let seen = 0;
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  while (seen < USAGE_MAX_VERSIONS) {
    const page = await storage.listObjectVersions(bucket, { keyMarker, versionIdMarker, maxKeys: 1000 });
    for (const v of page.versions) {
      seen++;
      if (!v.deleteMarker) bytes += v.size;
    }
    if (!page.isTruncated) break;
    keyMarker = page.nextKeyMarker;
    versionIdMarker = page.nextVersionIdMarker;
  }
  return bytes;
}

function walk(storage: ObjectLayer, bucket: string, u: Usage): Promise<void> {
  u.during = 0;
  const from = Date.now();
  u.walkedFrom = from;
  u.walking = bucketBytes(storage, bucket)
    .then((bytes) => {
      u.bytes = bytes + u.during + u.inflight;
      const now = Date.now();
      u.walkMs = now - from;
      // Declared stale while it ran: the next write counts again.
      u.at = from > u.staleFrom ? now : 0;
    })
    .finally(() => {
      u.walking = undefined;
    });
  return u.walking;
}

/** The bucket's usage as known here: counted first when never counted, recounted in the background when old. */
export async function bucketUsage(storage: ObjectLayer, bucket: string): Promise<Usage> {
  const u = usageEntry(storage, bucket);
  if (u.at === 0) await (u.walking ?? walk(storage, bucket, u));
  else if (Date.now() - u.at > Math.max(USAGE_TTL_MS, WALK_SHARE * u.walkMs) && !u.walking)
    walk(storage, bucket, u).catch(() => {});
  return u;
}

/** Counts anew unless a walk began since `asked` (one begun before may have counted a write twice). */
async function recount(storage: ObjectLayer, bucket: string, u: Usage): Promise<void> {
  const asked = Date.now();
  await u.walking?.catch(() => {});
  if (u.walkedFrom < asked) await walk(storage, bucket, u);
}

/**
 * The bucket's bytes counted now, for get-bucket-quota: a walk of its own, kept apart from what writes are
 * checked against (a worker that never wrote to the bucket keeps no count to grow stale).
 */
export const countedUsage = (storage: ObjectLayer, bucket: string): Promise<number> => bucketBytes(storage, bucket);

/**
 * The bucket's count is made anew before its next write (its quota was set: what was written while it had none
 * was counted nowhere); the writes in flight stay counted (the walk adds them).
 */
function staleUsage(storage: ObjectLayer, bucket: string): void {
  const u = usages.get(storage)?.get(bucket);
  if (!u) return;
  u.at = 0;
  u.staleFrom = Date.now();
}

/** Has every process serving the storage count the bucket anew (resolves once the others are told). */
export async function forgetUsage(storage: ObjectLayer, bucket: string): Promise<void> {
  staleUsage(storage, bucket);
  await sharings.get(storage)?.publish({ bucket, bytes: 0, step: 'forget' });
}

/**
 * Runs `write`, which stores `size` bytes into the bucket (-1: not known before the body), within the bucket's
 * hard quota: refused before it starts when the bytes do not fit; the bytes count as used from then on, and are
 * given back when the write fails. `write` gets `fits(size)` for a size known only at the end of the body (call
 * it before the commit, from storage's verify: it throws when the bytes do not fit).
 */
export async function withinQuota<T>(
  ctx: ApiContext,
  bucket: string,
  size: number,
  write: (fits: (size: number) => Promise<void>) => Promise<T>,
): Promise<T> {
  const q = storedQuota((await bucketSettings(ctx, bucket)).config.quota);
  if (!q) return write(async () => {});
  const limit = quotaLimit(q);
  const sharing = sharings.get(ctx.storage);
  let taken = 0;
  let u: Usage | undefined;
  /** Takes `bytes` (the check and the others told under the bucket's quota lock). */
  const take = async (bytes: number) => {
    const release = await sharing?.lock(bucket);
    try {
      u ??= await bucketUsage(ctx.storage, bucket);
      // Before refusing, count again (at most once a second per bucket): deletes are seen at once rather than at
      // the next background count.
      const recountAfter = Math.max(RECOUNT_BEFORE_REFUSING_MS, WALK_SHARE * u.walkMs);
      if (u.bytes + bytes > limit && Date.now() - u.walkedFrom > recountAfter) await recount(ctx.storage, bucket, u);
      if (u.bytes + bytes > limit)
        throw new S3Error('XMinioAdminBucketQuotaExceeded', undefined, { BucketName: bucket });
      u.bytes += bytes;
      u.inflight += bytes;
      taken += bytes;
      if (sharing && bytes > 0) await sharing.publish({ bucket, bytes, step: 'take' });
    } finally {
      release?.();
    }
  };
  await take(Math.max(size, 0));
  let ok = false;
  try {
    const out = await write(async (late) => {
      if (size < 0) await take(late);
    });
    if (u!.walking) u!.during += taken;
    ok = true;
    return out;
  } catch (e) {
    u!.bytes -= taken;
    throw e;
  } finally {
    u!.inflight -= taken;
    if (sharing && taken > 0) await sharing.publish({ bucket, bytes: taken, step: ok ? 'done' : 'failed' });
  }
}

/** MinIO's admin calls: PUT set-bucket-quota?bucket=B (admin:SetBucketQuota), GET get-bucket-quota?bucket=B. */
export const isQuotaPath = (path: string): boolean => path === 'set-bucket-quota' || path === 'get-bucket-quota';

export interface QuotaCall {
  ctx: ApiContext;
  method: string;
  path: string;
  q: URLSearchParams;
  /** The request body as a JSON object ({} when empty). */
  body(): Record<string, unknown>;
  authorize(action: string): void;
}

const NO_QUOTA: BucketQuota = { quota: 0, size: 0, quotatype: 'hard' };

export async function quotaAdmin(c: QuotaCall): Promise<S3Response> {
  const bucket = c.q.get('bucket') ?? '';
  if (c.path === 'set-bucket-quota') {
    if (c.method !== 'PUT') throw new S3Error('MethodNotAllowed');
    c.authorize('admin:SetBucketQuota');
    await bucketSettings(c.ctx, bucket); // NoSuchBucket before the body is looked at, as MinIO
    const q = parseQuota(c.body());
    await c.ctx.storage.updateBucketConfig(bucket, { quota: q ? JSON.stringify(q) : null });
    await forgetUsage(c.ctx.storage, bucket);
    return emptyResponse(200);
  }
  if (c.method !== 'GET') throw new S3Error('MethodNotAllowed');
  c.authorize('admin:GetBucketQuota');
  const q = storedQuota((await bucketSettings(c.ctx, bucket)).config.quota) ?? NO_QUOTA;
  // Cairn's own field: the usage writes are checked against now (madmin's clients ignore it).
  const usage = await countedUsage(c.ctx.storage, bucket);
  return {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...q, cairn: { usage } }),
  };
}
