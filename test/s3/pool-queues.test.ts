// Notification and replication queues with server pools: they live on the first pool's drives, and a
// decommission of that pool moves them to the next pool before it drains (queue.ts `moveTo`), so the pool, once
// drained, leaves nothing undelivered behind: with the webhook and the replication target down throughout, a
// restart without the drained pool delivers every event (once: none got through before) and replicates every
// version queued before, during and after the drain. (A queue moving while it runs, or taken in from another
// pool's folders at start: server/test/api/notify-queue-move.test.ts.)
import {
  CreateBucketCommand,
  HeadObjectCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { type CairnServer, startServer } from '@cairn/server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { adminCall } from '../../server/src/cli/admin-client.js';
import { makeClient, ROOT } from '../helpers/cairn.js';
import { PoolsFixture } from '../helpers/pools.js';
import { remoteTarget, replicateAll, versionedBucket } from '../helpers/replication-config.js';
import { WebhookReceiver } from '../helpers/webhook.js';

const POLL = { timeout: 120_000, interval: 100 };
const hook = new WebhookReceiver();
let f: PoolsFixture;
let target: CairnServer | undefined;
let targetPort = 0;
const keys: string[] = [];

async function startTarget(): Promise<void> {
  target = await startServer({
    address: `127.0.0.1:${targetPort}`,
    credentials: { root: ROOT, users: [] },
    storage: { background: false },
    shutdownGraceMs: 500,
    drives: [1, 2, 3, 4].map((i) => `${f.base}/target/d${i}`),
  });
  targetPort = target.port;
}

/** PUTs `n` objects named `prefix-i` into the notified and the replicated bucket. */
async function put(prefix: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const key = `${prefix}-${i}`;
    await f.s3.send(new PutObjectCommand({ Bucket: 'events', Key: key, Body: key }));
    await f.s3.send(new PutObjectCommand({ Bucket: 'replicated', Key: key, Body: key }));
    keys.push(key);
  }
}

beforeAll(async () => {
  f = await PoolsFixture.make('cairn-pool-queues-');
  await hook.start();
  await hook.stop();
  await startTarget();
  await versionedBucket(makeClient(target!.url), 'dst');
  await f.start([1, 2], {
    notify: {
      targets: [{ type: 'webhook', id: '1', queueLimit: 1000, settings: { endpoint: hook.url } }],
      retry: { minMs: 20, maxMs: 200 },
    },
    replicationRetry: { minMs: 50, maxMs: 400 },
  });
  await f.s3.send(new CreateBucketCommand({ Bucket: 'events' }));
  await f.s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: 'events',
      NotificationConfiguration: {
        QueueConfigurations: [{ Id: 'c', QueueArn: 'arn:minio:sqs::1:webhook', Events: ['s3:ObjectCreated:*'] }],
      },
    }),
  );
  await versionedBucket(f.s3, 'replicated');
  const arn = await remoteTarget(f.server!.url, 'replicated', `127.0.0.1:${targetPort}`, 'dst');
  await replicateAll(f.s3, 'replicated', arn);
  // Both down from here on, until the drained pool has left.
  await target!.close();
  target = undefined;
}, 120_000);

afterAll(async () => {
  await target?.close();
  await hook.stop();
  await f?.close();
});

describe('event queues on the pool being decommissioned', () => {
  it('move to the next pool before the drain; nothing is left on the drained pool', async () => {
    await put('before', 10);
    // Each event and change on the first three drives of the first pool.
    expect(await f.queuedIn(1)).toEqual([20, 20, 20, 0]);
    expect(await f.queuedIn(2)).toEqual([0, 0, 0, 0]);
    await adminCall(f.admin, { method: 'POST', path: 'pools/decommission', query: { pool: f.arg(1) } });
    await put('during', 5);
    await vi.waitFor(async () => {
      const s = (await adminCall(f.admin, { method: 'GET', path: 'pools/status', query: { pool: f.arg(1) } })) as {
        decommissionInfo?: { complete: boolean; failed: boolean };
      };
      expect(s.decommissionInfo?.failed).toBe(false);
      expect(s.decommissionInfo?.complete).toBe(true);
    }, POLL);
    await put('after', 5);
    expect(await f.queuedIn(1)).toEqual([0, 0, 0, 0]);
    expect(await f.queuedIn(2)).toEqual([40, 40, 40, 0]);
  }, 180_000);

  it('a restart without the drained pool delivers every event and replicates every version', async () => {
    await f.start([2]);
    await hook.start();
    await startTarget();
    await vi.waitFor(() => {
      const delivered = new Set(hook.deliveries.map((d) => d.body.Key));
      expect([...delivered].sort()).toEqual(keys.map((k) => `events/${k}`).sort());
    }, POLL);
    const dst = makeClient(target!.url);
    await vi.waitFor(async () => {
      for (const key of keys) {
        const r = await dst.send(new HeadObjectCommand({ Bucket: 'dst', Key: key }));
        expect(r.ContentLength, key).toBe(key.length);
      }
    }, POLL);
    await vi.waitFor(async () => expect(await f.queuedIn(2)).toEqual([0, 0, 0, 0]), POLL);
    // The target was down throughout: no delivery got through before, so each event was delivered exactly once.
    expect(hook.deliveries.map((d) => d.body.Key).sort()).toEqual(keys.map((k) => `events/${k}`).sort());
  }, 240_000);
});
