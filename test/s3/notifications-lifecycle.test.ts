// Events of lifecycle rules, as AWS names them: an expired object or version removed is
// s3:LifecycleExpiration:Delete, an expired current version hidden behind a new delete marker
// s3:LifecycleExpiration:DeleteMarkerCreated, data moved to a tier s3:LifecycleTransition (with AWS's
// lifecycleEventData). None of them is an ObjectRemoved event. Keys are form-URL-encoded as in every record. A real webhook receiver; the server runs the
// lifecycle test clock (a day is 1 s, rules applied every 250 ms); the tier is a second Cairn. Nothing sleeps.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  ListObjectVersionsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type Event,
  type LifecycleRule,
  type S3Client,
  type TransitionStorageClass,
} from '@aws-sdk/client-s3';
import { type CairnServer, startServer } from '@cairn/server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { adminCall } from '../../server/src/cli/admin-client.js';
import { ROOT, makeClient, startWithBucket, type TestServer } from '../helpers/cairn.js';
import { type Delivery, WebhookReceiver } from '../helpers/webhook.js';

const POLL = { timeout: 45_000, interval: 100 };
const ARN = 'arn:cairn:sqs::lc:webhook';
let server: TestServer;
let s3: S3Client;
let tier: CairnServer;
let tierBase: string;
const hook = new WebhookReceiver();

beforeAll(async () => {
  await hook.start();
  tierBase = await mkdtemp(join(tmpdir(), 'cairn-lc-events-'));
  tier = await startServer({
    address: '127.0.0.1:0',
    credentials: { root: ROOT, users: [] },
    storage: { background: false },
    drives: [1, 2, 3, 4].map((i) => join(tierBase, `d${i}`)),
  });
  await makeClient(`http://127.0.0.1:${tier.port}`).send(new CreateBucketCommand({ Bucket: 'warm' }));
  ({ server, s3 } = await startWithBucket(undefined, {
    lifecycleDaySeconds: 1,
    storage: { background: true, staleUploadsCleanupIntervalMs: 250, gcGraceMs: 100 },
    notify: {
      targets: [{ type: 'webhook', id: 'lc', queueLimit: 1000, settings: { endpoint: hook.url } }],
      retry: { minMs: 20, maxMs: 200 },
    },
  }));
  await adminCall(
    { endpoint: server.url, ...ROOT, region: 'us-east-1' },
    {
      method: 'PUT',
      path: 'tier',
      encrypt: true,
      body: {
        Version: 'v1',
        Type: 'minio',
        Name: 'WARM',
        MinIO: {
          Endpoint: `http://127.0.0.1:${tier.port}`,
          AccessKey: ROOT.accessKey,
          SecretKey: ROOT.secretKey,
          Bucket: 'warm',
          Prefix: 'lc/',
        },
      },
    },
  );
});
afterAll(async () => {
  await server?.close();
  await tier?.close();
  await hook.stop();
  if (tierBase) await rm(tierBase, { recursive: true, force: true });
});

/** A bucket whose every object event and lifecycle event goes to the webhook. */
async function bucketWithEvents(Bucket: string, versioned: boolean): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket }));
  if (versioned)
    await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket,
      NotificationConfiguration: {
        QueueConfigurations: [
          {
            Id: 'all',
            QueueArn: ARN,
            Events: ['s3:ObjectRemoved:*', 's3:LifecycleExpiration:*' as Event, 's3:LifecycleTransition' as Event],
          },
        ],
      },
    }),
  );
}
const setRules = (Bucket: string, Rules: LifecycleRule[]) =>
  s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules } }));
const recordsOf = (bucket: string) =>
  hook.deliveries.flatMap((d: Delivery) => d.body.Records).filter((r) => r.s3.bucket.name === bucket);
/** `<eventName> <key> <versionId>` of every record delivered for `bucket`, sorted. */
const eventsOf = (bucket: string) =>
  recordsOf(bucket)
    .map((r) => `${r.eventName} ${r.s3.object.key} ${r.s3.object.versionId ?? '-'}`)
    .sort();

describe('lifecycle events', () => {
  it('an expired object in an unversioned bucket is LifecycleExpiration:Delete, not ObjectRemoved', async () => {
    const Bucket = 'lc-events-plain';
    await bucketWithEvents(Bucket, false);
    await s3.send(new PutObjectCommand({ Bucket, Key: 'old/a b', Body: 'x' }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'keep/c', Body: 'y' }));
    await setRules(Bucket, [{ ID: 'old', Status: 'Enabled', Filter: { Prefix: 'old/' }, Expiration: { Days: 1 } }]);
    await vi.waitFor(() => expect(eventsOf(Bucket)).toEqual(['LifecycleExpiration:Delete old/a+b -']), POLL);
    const [record] = recordsOf(Bucket);
    expect(record).toMatchObject({
      eventSource: 'aws:s3',
      userIdentity: { principalId: '' },
      source: { userAgent: 'Internal: [ILM-Expiry]' },
    });
    expect(record.s3.object.size).toBeUndefined();
  });

  it('versions expired in a versioned bucket: a delete marker created, then each removed version told once', async () => {
    const Bucket = 'lc-events-versions';
    await bucketWithEvents(Bucket, true);
    const v1 = (await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'one' }))).VersionId!;
    const v2 = (await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'two' }))).VersionId!;
    await setRules(Bucket, [
      {
        ID: 'all',
        Status: 'Enabled',
        Filter: { Prefix: '' },
        Expiration: { Days: 1 },
        NoncurrentVersionExpiration: { NoncurrentDays: 1 },
      },
    ]);
    // Both versions end up removed, behind the marker the expiry of v2 created.
    const versionsLeft = async () => {
      const out = await s3.send(new ListObjectVersionsCommand({ Bucket }));
      return { versions: (out.Versions ?? []).length, markers: (out.DeleteMarkers ?? []).map((m) => m.VersionId!) };
    };
    await vi.waitFor(async () => expect((await versionsLeft()).versions).toBe(0), POLL);
    // The marker v2's expiry created (its event may still be on its way).
    const marker = await vi.waitFor(() => {
      const created = recordsOf(Bucket).filter((r) => r.eventName === 'LifecycleExpiration:DeleteMarkerCreated');
      expect(created).toHaveLength(1);
      return created[0].s3.object.versionId!;
    }, POLL);
    expect([v1, v2]).not.toContain(marker);
    // Each removal told once. The lone marker expires too on a later pass (a lifecycle day is 1 s here): when it is
    // gone, its removal is told as well. Judged on each poll, as the scanner may remove it meanwhile.
    await vi.waitFor(async () => {
      const left = await versionsLeft();
      const expected = [
        `LifecycleExpiration:DeleteMarkerCreated k ${marker}`,
        `LifecycleExpiration:Delete k ${v1}`,
        `LifecycleExpiration:Delete k ${v2}`,
        ...(left.markers.includes(marker) ? [] : [`LifecycleExpiration:Delete k ${marker}`]),
      ].sort();
      expect(eventsOf(Bucket)).toEqual(expected);
    }, POLL);
  });

  it('a transition is LifecycleTransition with the destination storage class', async () => {
    const Bucket = 'lc-events-tier';
    await bucketWithEvents(Bucket, false);
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'cold/x', Body: 'to the tier' }));
    await setRules(Bucket, [
      {
        ID: 'cold',
        Status: 'Enabled',
        Filter: { Prefix: 'cold/' },
        Transitions: [{ Days: 1, StorageClass: 'WARM' as TransitionStorageClass }],
      },
    ]);
    await vi.waitFor(() => expect(eventsOf(Bucket)).toEqual(['LifecycleTransition cold/x -']), POLL);
    const [record] = recordsOf(Bucket);
    expect(record.s3.object).toMatchObject({ size: 11, eTag: put.ETag!.replaceAll('"', '') });
    expect(record).toMatchObject({
      lifecycleEventData: { transitionEventData: { destinationStorageClass: 'WARM' } },
      source: { userAgent: 'Internal: [ILM-Transition]' },
    });
  });
});
