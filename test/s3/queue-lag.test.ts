// The lag of the notification and replication queues as a time: with a target down, the age of the oldest event
// (change) waiting grows, in the Prometheus gauges (cairn_notify_target_oldest_event_age_seconds,
// cairn_bucket_replication_oldest_pending_age_seconds) and in the admin API's queue listing (GET
// /minio/admin/v3/queues, `cairn admin queues`, `cairn admin replicate status`), with the pending count and the
// last error; once the target is back, everything is delivered and the age returns to zero. The notification
// case runs `cairn server --workers 2`, both workers queueing: the listing and the gauge cover every worker.
import { CreateBucketCommand, PutBucketNotificationConfigurationCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { QueueInfo } from '../../server/src/api/admin/queues.js';
import { adminCall, type AdminTarget } from '../../server/src/cli/admin-client.js';
import { ALT } from '../helpers/cairn.js';
import { spawnCairn } from '../helpers/cli.js';
import { sample, scrape } from '../helpers/prometheus.js';
import {
  POLL,
  TARGET_CREDS,
  type Site,
  addTarget,
  allowReplicator,
  replicateAll,
  runCli,
  useSites,
  versionedBucket,
} from '../helpers/replication.js';
import { WebhookReceiver } from '../helpers/webhook.js';
import { startWorkers, WORKERS_ALT, WORKERS_ROOT, type WorkersServer } from '../helpers/workers.js';

const queues = async (t: AdminTarget, kind?: string): Promise<QueueInfo[]> =>
  ((await adminCall(t, { method: 'GET', path: 'queues', query: kind ? { kind } : {} })) as { queues: QueueInfo[] })
    .queues;

async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return (e as Error).message;
  }
}

const { site } = useSites();

describe('replication lag', () => {
  let src: Site;
  let dst: Site;
  let arn: string;
  beforeAll(async () => {
    src = await site('lag-src');
    dst = await site('lag-dst');
    await versionedBucket(src.client(), 'data');
    await versionedBucket(dst.client(), 'data-copy');
    await allowReplicator(dst.client(), 'data-copy');
    arn = await addTarget(src, 'data', dst, 'data-copy', TARGET_CREDS);
    await replicateAll(src.client(), 'data', arn);
  });

  const gauge = async () => {
    const text = await (await fetch(`${src.url}/minio/v2/metrics/bucket`)).text();
    return sample(parsePrometheusTextFormat(text), 'cairn_bucket_replication_oldest_pending_age_seconds', {
      bucket: 'data',
      targetArn: arn,
    });
  };

  it('grows while the target is down, is listed with the pending count and the last error, and returns to zero', async () => {
    const s3 = src.client();
    // Something replicated first: the row exists, with nothing waiting.
    await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'first', Body: 'x' }));
    await src.server.replicationIdle();
    expect(await gauge()).toBe(0);
    let [row] = await queues(src.admin(), 'replication');
    expect(row).toMatchObject({ kind: 'replication', target: arn, bucket: 'data', pending: 0, oldestAgeSeconds: 0 });
    expect(row.lastError).toBeUndefined();

    await dst.stop();
    const keys = ['a', 'b', 'c'];
    for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: 'data', Key, Body: Key }));
    await vi.waitFor(async () => expect((await queues(src.admin()))[0]?.lastError).toBeTruthy(), POLL);
    [row] = await queues(src.admin(), 'replication');
    expect(row.pending).toBe(3);
    expect(row.failedAttempts).toBeGreaterThan(0);
    expect(Date.parse(row.lastErrorTime!)).toBeLessThanOrEqual(Date.now());
    const age1 = row.oldestAgeSeconds;
    const gauge1 = (await gauge())!;
    expect(gauge1).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 1100));
    [row] = await queues(src.admin(), 'replication');
    expect(row.oldestAgeSeconds).toBeGreaterThanOrEqual(age1 + 1);
    expect((await gauge())!).toBeGreaterThanOrEqual(gauge1 + 1);
    // The CLI prints the same row.
    const table = await runCli(src, ['replicate', 'status', 'data']);
    expect(table.split('\n')[0]).toMatch(/KIND\s+TARGET\s+BUCKET\s+PENDING\s+LAG\s+DELIVERED\s+RETRIES/);
    expect(table).toContain(arn);
    expect(table.split('\n')[1]).toMatch(/^replication\s+\S+\s+data\s+3\s+\d/);
    // A bucket with no target lists nothing.
    expect((await runCli(src, ['replicate', 'status', 'other'])).split('\n')).toHaveLength(1);

    await dst.start();
    await src.server.replicationIdle();
    [row] = await queues(src.admin(), 'replication');
    expect(row).toMatchObject({ pending: 0, oldestAgeSeconds: 0, delivered: 4, failed: 0 });
    expect(row.lastError).toBeTruthy(); // kept: the last error, with its time
    expect(await gauge()).toBe(0);
  });

  it('refuses bad calls with MinIO admin errors', async () => {
    expect(await outcome(queues(src.admin(), 'bogus'))).toMatch(/400 XMinioAdminInvalidArgument/);
    expect(
      await outcome(adminCall(src.admin(), { method: 'GET', path: 'queues', query: { kind: 'notify', x: '1' } })),
    ).toMatch(/400 XMinioAdminInvalidArgument/);
    expect(await outcome(adminCall(src.admin(), { method: 'POST', path: 'queues' }))).toMatch(/405/);
    expect(await outcome(queues(src.admin(ALT)))).toMatch(/403 AccessDenied/);
    await expect(runCli(src, ['queues', 'bogus'])).rejects.toThrow(/expected: queues \[notify\|replication\]/);
  });
});

describe('notification lag over two workers', () => {
  const hook = new WebhookReceiver();
  let server: WorkersServer;
  let root: AdminTarget;
  beforeAll(async () => {
    await hook.start(); // for its port; stopped before the first event
    await hook.stop();
    server = await startWorkers(2, {
      CAIRN_NOTIFY_WEBHOOK_ENABLE_1: 'on',
      CAIRN_NOTIFY_WEBHOOK_ENDPOINT_1: hook.url,
      CAIRN_PROMETHEUS_AUTH_TYPE: 'public',
    });
    root = { endpoint: server.url, ...WORKERS_ROOT, region: 'us-east-1' };
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await hook.stop();
  });

  const gauge = async () => {
    const s = await scrape(server, 1, '/minio/v2/metrics/cluster');
    return sample(parsePrometheusTextFormat(s.text), 'cairn_notify_target_oldest_event_age_seconds', {
      target_id: '1',
      target_name: 'webhook',
    });
  };

  it('both workers queue while the webhook is down: the listing sums them, the age grows, then returns to zero', async () => {
    const one = await server.client(1);
    const two = await server.client(2);
    await one.send(new CreateBucketCommand({ Bucket: 'lag' }));
    await one.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: 'lag',
        NotificationConfiguration: {
          QueueConfigurations: [{ Id: 'c', QueueArn: 'arn:minio:sqs::1:webhook', Events: ['s3:ObjectCreated:*'] }],
        },
      }),
    );
    await one.send(new PutObjectCommand({ Bucket: 'lag', Key: 'w1-a', Body: 'a' }));
    await two.send(new PutObjectCommand({ Bucket: 'lag', Key: 'w2-a', Body: 'a' }));
    await two.send(new PutObjectCommand({ Bucket: 'lag', Key: 'w2-b', Body: 'b' }));
    // Whichever worker answers the admin call, the row covers both.
    const notifyRow = async () => (await queues(root, 'notify')).find((q) => q.target === '1:webhook')!;
    await vi.waitFor(async () => expect((await notifyRow()).lastError).toMatch(/ECONNREFUSED|connect|refused/i), POLL);
    let row = await notifyRow();
    expect(row.pending).toBe(3);
    expect(row.bucket).toBeUndefined();
    const age1 = row.oldestAgeSeconds;
    expect(age1).toBeGreaterThan(0);
    expect((await gauge())!).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 1100));
    row = await notifyRow();
    expect(row.oldestAgeSeconds).toBeGreaterThanOrEqual(age1 + 1);
    expect((await gauge())!).toBeGreaterThanOrEqual(age1 + 1);
    // `cairn admin queues notify` prints it; the listing needs admin:ServerInfo.
    const cli = await new Promise<string>((resolve, reject) => {
      const p = spawnCairn(['admin', '--endpoint', server.url, 'queues', 'notify'], {
        CAIRN_ROOT_USER: WORKERS_ROOT.accessKey,
        CAIRN_ROOT_PASSWORD: WORKERS_ROOT.secretKey,
      });
      let out = '';
      p.stdout!.on('data', (d) => (out += d));
      p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))));
    });
    expect(cli.split('\n')[0]).toMatch(/^KIND\s+TARGET\s+PENDING\s+LAG/);
    expect(cli.split('\n')[1]).toMatch(/^notify\s+1:webhook\s+3\s+\d/);
    expect(await outcome(queues({ ...root, ...WORKERS_ALT }))).toMatch(/403 AccessDenied/);

    await hook.start();
    await hook.received(3);
    await vi.waitFor(async () => expect((await notifyRow()).pending).toBe(0), POLL);
    row = await notifyRow();
    expect(row).toMatchObject({ pending: 0, oldestAgeSeconds: 0, delivered: 3, failed: 0 });
    expect(await gauge()).toBe(0);
    expect(hook.deliveries.map((d) => d.body.Key).sort()).toEqual(['lag/w1-a', 'lag/w2-a', 'lag/w2-b']);
    one.destroy();
    two.destroy();
  }, 120_000);
});
