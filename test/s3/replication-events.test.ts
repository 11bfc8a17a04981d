// Replication's own notification events (s3:Replication:*): a change that reached its target is
// OperationCompletedReplication (MinIO's name), one whose first attempt failed is OperationFailedReplication
// (AWS's), told once per change however often it is retried, before its Completed event; AWS's Replication
// Time Control events, which Cairn cannot emit, are refused. Two real Cairn servers and a real webhook receiver.
import { join } from 'node:path';
import {
  GetBucketNotificationConfigurationCommand,
  HeadObjectCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { laneOf } from '../../server/src/api/notify/lanes.js';
import { s3Error } from '../helpers/cairn.js';
import {
  POLL,
  TARGET_CREDS,
  Site,
  addTarget,
  allowReplicator,
  replicateAll,
  useSites,
  versionedBucket,
} from '../helpers/replication.js';
import { WebhookReceiver } from '../helpers/webhook.js';

const { site, dir } = useSites();
const hook = new WebhookReceiver();
const ARN = 'arn:cairn:sqs::r:webhook';
let src: Site;
let dst: Site;
let s3: S3Client;

beforeAll(async () => {
  await hook.start();
  src = await new Site(join(dir(), 'events-src'), undefined, {
    notify: {
      targets: [{ type: 'webhook', id: 'r', queueLimit: 1000, settings: { endpoint: hook.url } }],
      retry: { minMs: 20, maxMs: 200 },
    },
  }).start();
  dst = await site('events-dst');
  s3 = src.client();
  await versionedBucket(s3, 'data');
  await versionedBucket(dst.client(), 'data-copy');
  await allowReplicator(dst.client(), 'data-copy');
  await replicateAll(s3, 'data', await addTarget(src, 'data', dst, 'data-copy', TARGET_CREDS));
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: 'data',
      NotificationConfiguration: { QueueConfigurations: [{ Id: 'repl', QueueArn: ARN, Events: ['s3:Replication:*'] }] },
    }),
  );
});

afterAll(async () => {
  await src?.stop().catch(() => {});
  await hook.stop();
});

/** `<event name> <key> <version id>` of the deliveries from index `from` on. */
const told = (from: number) =>
  hook.deliveries
    .slice(from)
    .map(
      (d) =>
        `${d.body.Records[0].eventName} ${d.body.Records[0].s3.object.key} ${d.body.Records[0].s3.object.versionId}`,
    );

it("a change copied is OperationCompletedReplication, told as the server's own work; the PUT itself is not told", async () => {
  const from = hook.deliveries.length;
  const put = await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'up', Body: 'twelve bytes' }));
  await src.server.replicationIdle();
  await src.server.notifyIdle();
  expect(told(from)).toEqual([`Replication:OperationCompletedReplication up ${put.VersionId}`]);
  const record = hook.deliveries[from].body.Records[0];
  expect(hook.deliveries[from].body.EventName).toBe('s3:Replication:OperationCompletedReplication');
  expect(record.s3.object.size).toBe(12);
  expect(record.source.userAgent).toBe('Internal: [Replication]');
  expect(record.userIdentity.principalId).toBe('');
});

it('target down: each change is OperationFailedReplication once, however often retried, then Completed', async () => {
  // Keys in different lanes of the sender (8), so each change is tried while the target is down.
  const keys: string[] = [];
  const lanes = new Set<number>();
  for (let i = 0; keys.length < 3; i++) {
    const lane = laneOf(`data/down-${i}`, 8);
    if (lanes.has(lane)) continue;
    lanes.add(lane);
    keys.push(`down-${i}`);
  }
  const from = hook.deliveries.length;
  const attempts = src.server.replicationStatus()[0].failedAttempts;
  await dst.stop();
  const ids = new Map<string, string>();
  for (const Key of keys)
    ids.set(Key, (await s3.send(new PutObjectCommand({ Bucket: 'data', Key, Body: Key }))).VersionId!);
  await hook.received(from + keys.length);
  // Tried again and again while down: still one Failed event per change.
  await vi.waitFor(
    () => expect(src.server.replicationStatus()[0].failedAttempts - attempts).toBeGreaterThanOrEqual(keys.length * 3),
    POLL,
  );
  for (const Key of keys)
    expect((await s3.send(new HeadObjectCommand({ Bucket: 'data', Key }))).ReplicationStatus).toBe('FAILED');
  await src.server.notifyIdle();
  expect(hook.deliveries.length - from).toBe(keys.length);
  await dst.start();
  await src.server.replicationIdle();
  await src.server.notifyIdle();
  const got = told(from);
  expect(got).toHaveLength(keys.length * 2);
  for (const key of keys)
    expect(got.filter((l) => l.split(' ')[1] === key)).toEqual([
      `Replication:OperationFailedReplication ${key} ${ids.get(key)}`,
      `Replication:OperationCompletedReplication ${key} ${ids.get(key)}`,
    ]);
});

it("AWS's Replication Time Control events are refused (never sent), and the configuration is unchanged", async () => {
  for (const event of ['s3:Replication:OperationMissedThreshold', 's3:Replication:OperationNotTracked'])
    expect(
      await s3Error(
        s3.send(
          new PutBucketNotificationConfigurationCommand({
            Bucket: 'data',
            NotificationConfiguration: {
              QueueConfigurations: [{ QueueArn: ARN, Events: [event as 's3:Replication:*'] }],
            },
          }),
        ),
      ),
    ).toMatchObject({ name: 'InvalidArgument', status: 400 });
  const config = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: 'data' }));
  expect(config.QueueConfigurations).toEqual([{ Id: 'repl', QueueArn: ARN, Events: ['s3:Replication:*'] }]);
});
