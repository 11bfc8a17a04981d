// Draining a server pool on `cairn server --workers 2` (storage/decommission.ts): one worker leads (the first to take
// the lease: it runs the drain, alone writes the pool list); a start or cancel asked of the other is forwarded to it
// over the change bus, and both workers answer the same status. Before anything moves, every worker moves its own event queue off the pool; writes
// during the drain land on the other pool; a canceled drain leaves everything readable and, at the next start, the
// queues go back to the first pool with nothing lost; a drained pool's events are delivered once it has left (the
// webhook is down until then: each event exactly once). A drain under way when the workers start goes on in the
// leader. (The same with one process: test/s3/decommission.test.ts, test/s3/pool-queues.test.ts.)
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openServerPools } from '../../server/src/storage/index.js';
import { PoolsFixture, sha256 } from '../helpers/pools.js';
import { seededRandom } from '../helpers/random.js';
import { signRequest } from '../helpers/signed-request.js';
import { WebhookReceiver } from '../helpers/webhook.js';
import { pinnedAgent, startWorkers, WORKERS_ROOT, type WorkersServer } from '../helpers/workers.js';

const POLL = { timeout: 120_000, interval: 200 };
const rnd = seededRandom();
const hook = new WebhookReceiver();
let f: PoolsFixture;
let server: WorkersServer | undefined;
let clients: S3Client[] = [];
/** Every key written (each one event) and its body's digest. */
const digests = new Map<string, string>();

interface Info {
  complete: boolean;
  failed: boolean;
  canceled: boolean;
  objectsDecommissioned: number;
}

async function start(pools: number[]): Promise<void> {
  await stop();
  server = await startWorkers(
    2,
    { CAIRN_NOTIFY_WEBHOOK_ENABLE_1: 'on', CAIRN_NOTIFY_WEBHOOK_ENDPOINT_1: hook.url },
    pools.map((n) => f.arg(n)),
  );
  clients = [await server.client(1), await server.client(2)];
}

async function stop(): Promise<void> {
  for (const c of clients) c.destroy();
  clients = [];
  await server?.close();
  server = undefined;
}

/** An admin call answered by worker `slot`: its status and body. */
async function adminOn(slot: number, method: 'GET' | 'POST', path: string, pool: string) {
  const url = server!.url;
  const agent = await pinnedAgent(url, slot);
  try {
    const { headers, target } = await signRequest(url, {
      method,
      path: `/minio/admin/v3/${path}`,
      query: { pool },
      credentials: WORKERS_ROOT,
    });
    return await new Promise<{ status: number; text: string }>((resolve, reject) => {
      request(url + target, { method, agent, headers }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.once('end', () => {
          if (res.headers['x-cairn-worker'] !== String(slot)) reject(new Error('answered by another worker'));
          else resolve({ status: res.statusCode ?? 0, text });
        });
      })
        .once('error', reject)
        .end();
    });
  } finally {
    agent.destroy();
  }
}

/** Pool n's drain as worker `slot` tells it. */
async function statusOn(slot: number, n: number): Promise<Info | undefined> {
  const r = await adminOn(slot, 'GET', 'pools/status', f.arg(n));
  expect(r.status, r.text).toBe(200);
  return (JSON.parse(r.text) as { decommissionInfo?: Info }).decommissionInfo;
}

/** Pool n's drain as the pool list on its first drive holds it. */
async function stored(n: number): Promise<Info | undefined> {
  const list = JSON.parse(await readFile(join(f.base, `p${n}`, 'd1', '.cairn.sys', 'pools.json'), 'utf8')) as {
    pools: { decommission?: Info }[];
  };
  return list.pools[n - 1].decommission;
}

/** `n` keys named `prefix-i`, written alternately through worker 1 and worker 2 (sizes: inline and not). */
async function put(prefix: string, n: number): Promise<string[]> {
  const keys: string[] = [];
  for (let i = 0; i < n; i++) {
    const key = `${prefix}-${String(i).padStart(3, '0')}`;
    const body = rnd.bytes(i % 3 === 0 ? 200_000 : 100 + i);
    await clients[i % 2].send(new PutObjectCommand({ Bucket: 'bkt', Key: key, Body: body }));
    digests.set(key, sha256(body));
    keys.push(key);
  }
  return keys;
}

/** Every key written reads byte-exact through both workers. */
async function allReadable(): Promise<void> {
  for (const s3 of clients)
    for (const [key, digest] of digests) {
      const r = await s3.send(new GetObjectCommand({ Bucket: 'bkt', Key: key }));
      expect(sha256(await r.Body!.transformToByteArray()), key).toBe(digest);
    }
}

/** The worker that does not lead the drains (the leader logs it once it took the lease). */
async function follower(): Promise<number> {
  const l = await server!.logLine((l) => l.msg === "this worker leads the server pools' decommissions");
  return 3 - l.worker!;
}

const queued = async (n: number) => (await f.queuedIn(n)).reduce((a, b) => a + b, 0);

beforeAll(async () => {
  f = await PoolsFixture.make('cairn-worker-pools-drain-');
  // The webhook is down until the drained pool has left: every event waits in the queues.
  await hook.start();
  await hook.stop();
  await start([1, 2]);
  await clients[0].send(new CreateBucketCommand({ Bucket: 'bkt' }));
  await clients[0].send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: 'bkt',
      NotificationConfiguration: {
        QueueConfigurations: [{ Id: 'c', QueueArn: 'arn:minio:sqs::1:webhook', Events: ['s3:ObjectCreated:*'] }],
      },
    }),
  );
}, 180_000);

afterAll(async () => {
  await stop();
  await hook.stop();
  await f?.close();
});

describe('a pool drained by --workers 2', () => {
  it('a drain and its cancel asked of the worker that does not lead: run by the leader, told to both', async () => {
    const keys = await put('before', 90);
    const inPool1 = keys.filter((k) => f.poolsOf('bkt', k).includes(1));
    expect(inPool1.length).toBeGreaterThan(0);
    // Both workers' events, on the first pool (each on 3 of its drives).
    expect(await queued(1)).toBe(3 * digests.size);
    expect(await queued(2)).toBe(0);
    const started = await adminOn(await follower(), 'POST', 'pools/decommission', f.arg(1));
    expect(started.status, started.text).toBe(200);
    const canceled = await adminOn(await follower(), 'POST', 'pools/cancel', f.arg(1));
    expect(canceled.status, canceled.text).toBe(200);
    // A second cancel: nothing runs any more (the leader's error, through the other worker).
    const again = await adminOn(await follower(), 'POST', 'pools/cancel', f.arg(1));
    expect(again.status).toBe(400);
    expect(again.text).toContain('XMinioDecommissionNotAllowed');
    for (const slot of [1, 2]) expect(await statusOn(slot, 1)).toMatchObject({ canceled: true, complete: false });
    expect(await stored(1)).toMatchObject({ canceled: true, complete: false });
    // The drain moved both workers' queues off the pool before it was stopped; what it did not move stays readable.
    expect(await queued(1)).toBe(0);
    expect(await queued(2)).toBe(3 * digests.size);
    expect(inPool1.filter((k) => f.poolsOf('bkt', k).includes(1)).length).toBeGreaterThan(0);
    await allReadable();
    // Both workers place new keys in either pool again (each key in pool 1 at even odds: 20 misses are 2^-20).
    const after = await put('canceled', 40);
    for (const slot of [0, 1])
      expect(after.filter((k, i) => i % 2 === slot && f.poolsOf('bkt', k).includes(1)).length).toBeGreaterThan(0);
  }, 240_000);

  it('after a canceled drain, the next start takes the queues back to the first pool, every event still there', async () => {
    await start([1, 2]);
    expect(await queued(2)).toBe(0);
    expect(await queued(1)).toBe(3 * digests.size);
  }, 180_000);

  it('a drain runs to its end: writes during it land on the other pool, both workers tell its progress', async () => {
    const started = await adminOn(await follower(), 'POST', 'pools/decommission', f.arg(1));
    expect(started.status, started.text).toBe(200);
    // Both workers know it at once: what they write from now on goes to pool 2.
    const during = await put('during', 20);
    for (const k of during) expect(f.poolsOf('bkt', k), k).toEqual([2]);
    // A drain under way is refused a second start, asked of either worker.
    for (const slot of [1, 2]) {
      const r = await adminOn(slot, 'POST', 'pools/decommission', f.arg(1));
      expect(r.status).toBe(400);
    }
    for (const slot of [1, 2])
      await vi.waitFor(async () => {
        const s = await statusOn(slot, 1);
        expect(s?.failed).toBe(false);
        expect(s?.complete).toBe(true);
        expect(s?.objectsDecommissioned).toBeGreaterThan(0);
      }, POLL);
    expect(await stored(1)).toMatchObject({ complete: true, failed: false });
    expect(await f.metasIn(1, 'bkt')).toBe(0);
    await allReadable();
    const after = await put('after', 10);
    for (const k of after) expect(f.poolsOf('bkt', k), k).toEqual([2]);
    expect(await queued(1)).toBe(0);
    expect(await queued(2)).toBe(3 * digests.size);
  }, 240_000);

  it('a start without the drained pool delivers every event of both workers, once', async () => {
    await stop();
    await hook.start();
    await start([2]);
    const wanted = [...digests.keys()].map((k) => `bkt/${k}`).sort();
    await vi.waitFor(() => expect([...new Set(hook.deliveries.map((d) => d.body.Key))].sort()).toEqual(wanted), POLL);
    await vi.waitFor(async () => expect(await queued(2)).toBe(0), POLL);
    // The webhook was down until now: no delivery got through before, so each event came exactly once.
    expect(hook.deliveries.map((d) => d.body.Key).sort()).toEqual(wanted);
    await allReadable();
  }, 240_000);
});

it('a drain under way when the workers start goes on in the leader', async () => {
  const g = await PoolsFixture.make('cairn-worker-pools-resume-');
  let resumed: WorkersServer | undefined;
  try {
    // A drain of pool 2 begun by one process and stopped before its end (as a restart mid-drain).
    const drives = (n: number) => [1, 2, 3, 4].map((d) => join(g.base, `p${n}`, `d${d}`));
    const one = await openServerPools([drives(1), drives(2)], { background: false }, [g.arg(1), g.arg(2)]);
    await one.makeBucket('bkt');
    for (let i = 0; i < 5; i++)
      await one.pools[1].putObject('bkt', `k${i}`, Readable.from([Buffer.from(`k${i}`)]), { size: 2 });
    await one.decommissions.decommission(1);
    await one.decommissions.stop();
    await one.close();
    resumed = await startWorkers(2, {}, [g.arg(1), g.arg(2)]);
    await vi.waitFor(async () => {
      const list = JSON.parse(await readFile(join(g.base, 'p1', 'd1', '.cairn.sys', 'pools.json'), 'utf8')) as {
        pools: { decommission?: Info }[];
      };
      expect(list.pools[1].decommission).toMatchObject({ complete: true, failed: false });
    }, POLL);
    const s3 = await resumed.client(2);
    for (let i = 0; i < 5; i++) {
      expect(g.poolsOf('bkt', `k${i}`)).toEqual([1]);
      const r = await s3.send(new GetObjectCommand({ Bucket: 'bkt', Key: `k${i}` }));
      expect(await r.Body!.transformToString()).toBe(`k${i}`);
    }
    s3.destroy();
  } finally {
    await resumed?.close();
    await g.close();
  }
}, 180_000);
