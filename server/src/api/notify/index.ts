// Bucket event notifications as the API sees them: Put/GetBucketNotificationConfiguration, and the one place
// where the events of a successful operation are handed to the notifier (api/index.ts handle).
import { randomBytes } from 'node:crypto';
import { bucketSettings } from '../bucket-settings.js';
import { readDocument } from '../request-body.js';
import { emptyResponse, xmlResponse, type ApiContext, type S3Request, type S3Response } from '../types.js';
import { toXml } from '../xml.js';
import { notificationXml, parseNotification } from './config.js';
import type { EventOrigin, ObjectEvent } from './event.js';

export type { ObjectEvent } from './event.js';
export { listenBucketNotification } from './listen.js';
export { Notifier, type NotifierOptions, type TargetStatus } from './notifier.js';
export { notifyTargetsFromEnv, type TargetConfig } from './targets.js';

/** A NotificationConfiguration document is small: 64 KiB is far more than 100 configurations take. */
const MAX_DOCUMENT = 64 * 1024;

export async function getBucketNotification(ctx: ApiContext, bucket: string): Promise<S3Response> {
  const { config } = await bucketSettings(ctx, bucket);
  // A bucket without notifications has an empty configuration, not an error (as in S3).
  return xmlResponse(config.notification ?? toXml('NotificationConfiguration', {}));
}

export async function putBucketNotification(ctx: ApiContext, req: S3Request, bucket: string): Promise<S3Response> {
  await ctx.storage.headBucket(bucket);
  const rules = parseNotification(await readDocument(req, MAX_DOCUMENT), {
    region: ctx.region,
    targetExists: (t) => ctx.notify?.has(t) ?? false,
  });
  // An empty configuration turns notifications off.
  await ctx.storage.updateBucketConfig(bucket, { notification: rules.length ? notificationXml(rules) : null });
  return emptyResponse(200);
}

/** Queues the events an operation reports for the targets its bucket's configuration names. */
export async function publishEvents(ctx: ApiContext, req: S3Request, bucket: string, events: ObjectEvent[]) {
  await publish(ctx, bucket, events, () => {
    const ua = req.headers['user-agent'];
    return {
      requestId: req.requestId,
      principal: req.caller?.accessKey ?? '',
      sourceIp: req.sourceIp,
      userAgent: typeof ua === 'string' ? ua : undefined,
    };
  });
}

/**
 * Queues the events of the server's own work (lifecycle rules, replication), as MinIO tells them apart: no
 * principal, and `agent` (e.g. `Internal: [ILM-Expiry]`) as user agent and source. The request id is drawn only
 * for an event some rule or listener wants.
 */
export async function publishServerEvents(ctx: ApiContext, bucket: string, events: ObjectEvent[], agent: string) {
  await publish(ctx, bucket, events, () => ({
    requestId: randomBytes(8).toString('hex').toUpperCase(),
    principal: '',
    sourceIp: agent,
    userAgent: agent,
  }));
}

/** `who` is asked for only when a rule or a listener wants one of the events. */
async function publish(
  ctx: ApiContext,
  bucket: string,
  events: ObjectEvent[],
  who: () => Pick<EventOrigin, 'requestId' | 'principal' | 'sourceIp' | 'userAgent'>,
) {
  if (!ctx.notify || events.length === 0) return;
  const s = await bucketSettings(ctx, bucket);
  const rules = s.notification ?? [];
  if (!ctx.notify.wants(rules, bucket, events)) return;
  await ctx.notify.publish(
    rules,
    { bucket, region: ctx.region, owner: s.owner ?? ctx.accounts?.rootKey ?? '', ...who() },
    events,
  );
}
