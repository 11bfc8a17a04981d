// ListenBucketNotification (MinIO's API, used by minio-py's listen_bucket_notification and `mc watch`):
// GET /bucket?events=...&prefix=&suffix= answers a stream that stays open, one JSON line ({"Records":[...]})
// per matching event of the bucket as it happens (GET /?events=..., MinIO's ListenNotification: of every bucket), and a space every few seconds while nothing happens (so
// proxies and clients see the connection alive). Nothing is queued for a listener: it sees what happens
// while it listens, as in MinIO, and keys come as they are (MinIO's listen records do not encode them).
import { PassThrough } from 'node:stream';
import { S3Error } from '../../errors.js';
import type { ApiContext, S3Response } from '../types.js';
import { checkEventTypes, checkFilterValue } from './config.js';
import type { EventRecord } from './event.js';

export interface ListenParams {
  events: string[];
  prefix: string;
  suffix: string;
}

const KEEP_ALIVE_MS = 5_000;
/** A listener that does not read is cut off rather than buffered without bound. */
const MAX_BUFFERED = 4 * 1024 * 1024;
const EVERYTHING = ['s3:ObjectCreated:*', 's3:ObjectRemoved:*', 's3:ObjectAccessed:*'];

/** Listens to the events of `bucket`, or of every bucket when it is undefined. */
export async function listenBucketNotification(
  ctx: ApiContext,
  bucket: string | undefined,
  params: ListenParams,
): Promise<S3Response> {
  if (bucket !== undefined) await ctx.storage.headBucket(bucket);
  const events = params.events.length ? params.events : EVERYTHING;
  checkEventTypes(events);
  checkFilterValue(params.prefix);
  checkFilterValue(params.suffix);
  if (!ctx.notify?.canListen)
    throw new S3Error('NotImplemented', 'Listening to events is not implemented on a server of several workers');
  const body = new PassThrough();
  const wanted = { bucket, events, prefix: params.prefix, suffix: params.suffix };
  const deliver = (record: EventRecord) => {
    if (body.writableLength > MAX_BUFFERED) body.destroy();
    else body.write(`${JSON.stringify({ Records: [record] })}\n`);
  };
  const stop = ctx.notify.listen(wanted, deliver, () => body.end());
  // A first byte at once sends the answer's head: the client knows it is listening before any event.
  body.write(' ');
  const keepAlive = setInterval(() => body.write(' '), KEEP_ALIVE_MS);
  keepAlive.unref();
  body.once('close', () => {
    clearInterval(keepAlive);
    stop();
  });
  return { status: 200, headers: { 'content-type': 'application/json', 'cache-control': 'no-cache' }, body };
}
