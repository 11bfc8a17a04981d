// The webhook target sends over several lanes (CAIRN_NOTIFY_WEBHOOK_MAX_WORKERS, default 8): a slow receiver
// gets several events at once, every event arrives exactly once, and the events of one key arrive in the order
// they happened (they share a lane). Events are queued while the receiver is down, then it comes back slow.
import { PutBucketNotificationConfigurationCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startWithBucket, type TestServer } from '../helpers/cairn.js';
import { WebhookReceiver } from '../helpers/webhook.js';

const bucket = 'lanes';
let server: TestServer;
let s3: S3Client;
const hook = new WebhookReceiver();

beforeAll(async () => {
  await hook.start(); // for a port; stopped before the first event
  ({ server, s3 } = await startWithBucket(bucket, {
    notify: {
      targets: [{ type: 'webhook', id: 'slow', queueLimit: 1000, settings: { endpoint: hook.url } }],
      retry: { minMs: 20, maxMs: 200 },
    },
  }));
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: bucket,
      NotificationConfiguration: {
        QueueConfigurations: [{ QueueArn: 'arn:cairn:sqs::slow:webhook', Events: ['s3:ObjectCreated:Put'] }],
      },
    }),
  );
});

afterAll(async () => {
  await server?.close();
  await hook.stop();
});

it('a slow receiver gets several events at once; each once, those of one key in order', async () => {
  await hook.stop();
  const keys = Array.from({ length: 12 }, (_, i) => `key-${i}`);
  const versions = 4;
  // Each key's ETags in the order its versions were written (keys interleaved, versions of a key in order).
  const etags = new Map<string, string[]>(keys.map((k) => [k, []]));
  for (let v = 0; v < versions; v++)
    for (const key of keys) {
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `${key} version ${v}` }));
      etags.get(key)!.push(put.ETag!.replaceAll('"', ''));
    }
  expect(server.notifyStatus()[0].queued).toBe(keys.length * versions);

  // Back, slow: nothing is answered until 4 events are being sent at once (one sender would wait forever), then
  // each answer takes a few milliseconds.
  let open: () => void = () => {};
  const gate = new Promise<void>((resolve) => (open = resolve));
  hook.beforeAnswer = async () => {
    if (hook.inFlight >= 4) open();
    await gate;
    await sleep(5);
  };
  await hook.start();
  await hook.received(keys.length * versions);
  await server.notifyIdle();
  expect(hook.maxInFlight).toBeGreaterThanOrEqual(4);
  expect(hook.deliveries).toHaveLength(keys.length * versions);
  for (const key of keys) {
    const got = hook.deliveries
      .filter((d) => d.body.Key === `${bucket}/${key}`)
      .map((d) => d.body.Records[0].s3.object.eTag);
    expect(got).toEqual(etags.get(key));
  }
  const status = server.notifyStatus()[0];
  expect(status.queued).toBe(0);
  expect(status.delivered).toBe(keys.length * versions);
});
