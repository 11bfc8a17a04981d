// Server pools of nodes (`cairn server http://127.0.0.1:P1/…/n1/d{1...4} http://127.0.0.1:P2/…/n2/d{1...4} …`):
// three node processes on loopback, each pool the four drives of one node (as MinIO's own loopback pool tests:
// nodes on one machine cannot share an ellipsis of folders). Each pool is formatted by its node under the first
// pool's deployment id, one node writes the pool list; new keys land in every pool (placement by free space, over
// the storage RPC for the other nodes' drives), and every node reads, lists, overwrites and deletes every key.
// Node 1 has drives in pool 1 alone, so its event queues stay there and leave with it: the drain of pool 1 completes
// only once the events node 1 queued (a webhook target down meanwhile) are delivered, none lost.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { adminCall } from '../../server/src/cli/admin-client.js';
import type { PoolStatus } from '../../server/src/storage/decommission.js';
import { makeClient } from '../helpers/cairn.js';
import { LoopbackCluster } from '../helpers/nodes.js';
import { pattern } from '../helpers/object-bytes.js';
import { ROOT } from '../helpers/users.js';
import { WebhookReceiver } from '../helpers/webhook.js';

const NODES = 3;
const LEADS = "this node leads the server pools' decommissions";
const BUCKET = 'pooled';
const NOTIFIED = 'notified';
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const hook = new WebhookReceiver();

let cluster: LoopbackCluster;
let s3: S3Client[];
/** Key -> digest of its body. */
const digests = new Map<string, string>();

/** Pool n's argument (from 0): node n's four drives. */
const poolArg = (url: string, n: number, c: LoopbackCluster) => `${url}${join(c.base, `n${n + 1}`, 'd{1...4}')}`;
/** Whether pool n's (node n's) first drive holds the key's metadata. */
const inPool = (n: number, key: string) => existsSync(join(cluster.folder(n, 0), BUCKET, `${key}.o`, 'meta'));
const pools = (key: string) => [0, 1, 2].filter((n) => inPool(n, key));

async function body(c: S3Client, Key: string): Promise<Buffer> {
  const r = await c.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

async function listed(c: S3Client): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const r = await c.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: token, MaxKeys: 7 }));
    keys.push(...(r.Contents ?? []).map((o) => o.Key!));
    token = r.NextContinuationToken;
  } while (token);
  return keys;
}

/** The HTTP status a request failed with (undefined: it succeeded). */
const statusOf = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode,
  );

beforeAll(async () => {
  await hook.start();
  cluster = await LoopbackCluster.start(
    NODES,
    4,
    { CAIRN_NOTIFY_WEBHOOK_ENABLE_1: 'on', CAIRN_NOTIFY_WEBHOOK_ENDPOINT_1: hook.url },
    { args: (urls, c) => urls.map((u, n) => poolArg(u, n, c)) },
  );
  s3 = cluster.nodes.map((n) => makeClient(n.url));
}, 240_000);

afterAll(async () => {
  for (const c of s3 ?? []) c.destroy();
  await cluster?.remove();
  await hook.stop();
});

describe('server pools of nodes', () => {
  it('each pool is formatted under the first pool’s deployment id, and every drive lists the three pools', async () => {
    const ids = new Set<string>();
    for (let n = 0; n < NODES; n++)
      for (let d = 0; d < 4; d++) {
        const dir = join(cluster.folder(n, d), '.cairn.sys');
        ids.add(
          (JSON.parse(await readFile(join(dir, 'format.json'), 'utf8')) as { deploymentId: string }).deploymentId,
        );
        const list = JSON.parse(await readFile(join(dir, 'pools.json'), 'utf8')) as { pools: { cmdline: string }[] };
        expect(list.pools.map((p) => p.cmdline)).toEqual(cluster.endpoints);
      }
    expect(ids.size).toBe(1);
  });

  it('new keys land in every pool, and every node reads and lists every key byte-exact', async () => {
    await s3[1].send(new CreateBucketCommand({ Bucket: BUCKET }));
    // The bucket is made in every pool, on every node's drives.
    for (let n = 0; n < NODES; n++) expect(existsSync(join(cluster.folder(n, 0), BUCKET))).toBe(true);
    // Inline (4 KiB) and sharded (300 KiB: past the 128 KiB inline limit) bodies, through every node.
    const keys = Array.from({ length: 24 }, (_, i) => `k${String(i).padStart(2, '0')}`);
    await Promise.all(
      keys.map(async (Key, i) => {
        const b = pattern(i % 2 ? 300 * 1024 : 4096, i);
        digests.set(Key, sha256(b));
        await s3[i % NODES].send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: b }));
      }),
    );
    // Each key in one pool; all three pools take some (equal free space: 24 keys all in two pools: p < 1e-4).
    for (const k of keys) expect(pools(k)).toHaveLength(1);
    expect(new Set(keys.map((k) => pools(k)[0]))).toEqual(new Set([0, 1, 2]));
    for (const c of s3) {
      expect(await listed(c)).toEqual(keys);
      for (const k of keys) expect(sha256(await body(c, k))).toBe(digests.get(k));
    }
  });

  it('a key written again through another node stays in its pool; a delete through a third removes it', async () => {
    for (const [i, Key] of ['k00', 'k01', 'k02'].entries()) {
      const before = pools(Key);
      const b = pattern(5000 + i, 100 + i);
      await s3[(i + 1) % NODES].send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: b }));
      digests.set(Key, sha256(b));
      expect(pools(Key)).toEqual(before);
      for (const c of s3) expect(sha256(await body(c, Key))).toBe(digests.get(Key));
    }
    await s3[2].send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'k03' }));
    digests.delete('k03');
    expect(pools('k03')).toEqual([]);
    for (const c of s3) {
      expect(await statusOf(c.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'k03' })))).toBe(404);
      expect(await listed(c)).toEqual([...digests.keys()].sort());
    }
  });

  it('a drain of pool 1, started through a node that does not lead, moves every key while every node reads them; it completes once node 1’s queued events are delivered', async () => {
    const admin = (n: number) => ({ endpoint: cluster.nodes[n].url, region: 'us-east-1', ...ROOT });
    const statusOf = async (n: number) =>
      (
        (await adminCall(admin(n), {
          method: 'GET',
          path: 'pools/status',
          query: { pool: cluster.endpoints[0] },
        })) as PoolStatus
      ).decommissionInfo;
    // Events of writes through node 1 (drives in pool 1 alone: its queues are on pool 1), the webhook down.
    await s3[0].send(new CreateBucketCommand({ Bucket: NOTIFIED }));
    await s3[0].send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: NOTIFIED,
        NotificationConfiguration: {
          QueueConfigurations: [{ Id: 'c', QueueArn: 'arn:minio:sqs::1:webhook', Events: ['s3:ObjectCreated:*'] }],
        },
      }),
    );
    await hook.stop();
    const events = Array.from({ length: 8 }, (_, i) => `e${i}`);
    for (const [i, Key] of events.entries())
      await s3[0].send(new PutObjectCommand({ Bucket: NOTIFIED, Key, Body: pattern(100 + i, 300 + i) }));
    await vi.waitFor(() => expect(cluster.nodes.filter((n) => n.messages.includes(LEADS))).toHaveLength(1), {
      timeout: 30_000,
      interval: 100,
    });
    const leader = cluster.nodes.findIndex((n) => n.messages.includes(LEADS));
    // The drains' leader is the holder of the deployment's leader lease (cluster/leader.ts), not another lease.
    expect(cluster.nodes[leader].messages.some((m) => m.startsWith('this node leads the background work'))).toBe(true);
    const other = [0, 1, 2].find((n) => n !== leader)!;
    const before = [...digests.keys()].filter((k) => inPool(0, k));
    expect(before.length).toBeGreaterThan(0);
    await adminCall(admin(other), {
      method: 'POST',
      path: 'pools/decommission',
      query: { pool: cluster.endpoints[0] },
    });
    // Reads through every node while the keys move (a key between two pools is read from either).
    let reads = 0;
    let draining = true;
    const reader = (async () => {
      while (draining)
        for (const [i, k] of before.entries()) {
          expect(sha256(await body(s3[i % NODES], k))).toBe(digests.get(k));
          reads++;
        }
    })();
    // Its failure is reported by the await below.
    reader.catch(() => {});
    try {
      // Every object moved, the drain waits for node 1's events (the leader says so): not complete.
      await vi.waitFor(
        () => expect(cluster.nodes[leader].messages.some((m) => m.includes('waiting for the 8 events'))).toBe(true),
        { timeout: 60_000, interval: 200 },
      );
      for (const k of before) expect(inPool(0, k)).toBe(false);
      for (let n = 0; n < NODES; n++) expect((await statusOf(n))?.complete).toBe(false);
      expect(hook.deliveries).toEqual([]);
      await hook.start();
      for (let n = 0; n < NODES; n++)
        await vi.waitFor(
          async () => {
            const d = await statusOf(n);
            expect(d?.failed).toBe(false);
            expect(d?.complete).toBe(true);
            expect(d?.objectsDecommissioned).toBeGreaterThanOrEqual(before.length);
          },
          { timeout: 60_000, interval: 200 },
        );
      // Delivered before the drain completed: every event, once or more (at least once), none lost.
      expect(new Set(hook.deliveries.map((d) => d.body.Records[0].s3.object.key))).toEqual(new Set(events));
    } finally {
      draining = false;
      await reader;
    }
    expect(reads).toBeGreaterThan(0);
    for (const k of before) expect(pools(k)).toHaveLength(1);
    expect([...digests.keys()].filter((k) => inPool(0, k))).toEqual([]);
    // Drained: new keys go to the other pools, through any node.
    for (let i = 0; i < 6; i++) {
      const Key = `after${i}`;
      const b = pattern(3000, 200 + i);
      await s3[i % NODES].send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: b }));
      digests.set(Key, sha256(b));
      expect(pools(Key)).toHaveLength(1);
      expect(inPool(0, Key)).toBe(false);
    }
    for (const c of s3) {
      expect(await listed(c)).toEqual([...digests.keys()].sort());
      for (const k of digests.keys()) expect(sha256(await body(c, k))).toBe(digests.get(k));
    }
  }, 180_000);
});
