// The notification series of the Prometheus endpoint on a real `cairn server` of two workers, each with its own
// queue for a PostgreSQL target (a real PostgreSQL started here): after a known workload the counts are exact,
// summed over the workers: events handed to the target (MinIO's total_events), those a full queue refused
// (failed_events), the queue length while PostgreSQL is down, failed sends, and deliveries once it is back.
import { CreateBucketCommand, PutBucketNotificationConfigurationCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PostgresServer, postgresBinDir } from '../helpers/postgres.js';
import { startWorkers, type WorkersServer } from '../helpers/workers.js';

const installed = postgresBinDir() !== undefined;
if (!installed) {
  if (process.env.CI === 'true')
    throw new Error('PostgreSQL is not installed: .ci/run runs scripts/install-postgres.sh');
  console.warn('notify-metrics: PostgreSQL is not installed (bash scripts/install-postgres.sh); skipped');
}

const QUEUE_LIMIT = 5;

describe.skipIf(!installed)('notification metrics of a server with 2 workers', () => {
  const postgres = new PostgresServer();
  let server: WorkersServer;

  beforeAll(async () => {
    await postgres.start();
    server = await startWorkers(2, {
      CAIRN_PROMETHEUS_AUTH_TYPE: 'public',
      CAIRN_NOTIFY_POSTGRES_ENABLE_m: 'on',
      CAIRN_NOTIFY_POSTGRES_CONNECTION_STRING_m: postgres.connectionString,
      CAIRN_NOTIFY_POSTGRES_TABLE_m: 'metered',
      CAIRN_NOTIFY_POSTGRES_FORMAT_m: 'access',
      CAIRN_NOTIFY_POSTGRES_QUEUE_LIMIT_m: String(QUEUE_LIMIT),
    });
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await postgres.close();
  });

  /** The target's series in a scrape (whichever worker answers it), by name without the prefix. */
  async function series(): Promise<Record<string, number>> {
    const res = await fetch(`${server.url}/minio/v2/metrics/cluster`);
    expect(res.status).toBe(200);
    const out: Record<string, number> = {};
    for (const family of parsePrometheusTextFormat(await res.text())) {
      const m = /^(?:minio|cairn)_notify_target_(.+)$/.exec(family.name);
      if (!m) continue;
      expect(family.metrics).toHaveLength(1);
      expect(family.metrics[0].labels).toEqual({
        target_id: 'm',
        target_name: 'postgresql',
        server: new URL(server.url).host,
      });
      out[m[1]] = Number(family.metrics[0].value);
    }
    return out;
  }

  async function rows(): Promise<number> {
    const db = new pg.Client({
      host: '127.0.0.1',
      port: postgres.port,
      user: postgres.user,
      password: postgres.password,
      database: postgres.database,
    });
    await db.connect();
    const { rows } = await db.query('SELECT count(*)::int AS n FROM metered');
    await db.end();
    return rows[0].n;
  }

  it('counts a known workload exactly, summed over the workers', async () => {
    const [one, two] = [await server.client(1), await server.client(2)];
    await one.send(new CreateBucketCommand({ Bucket: 'watched' }));
    await one.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: 'watched',
        NotificationConfiguration: {
          QueueConfigurations: [{ QueueArn: 'arn:minio:sqs::m:postgresql', Events: ['s3:ObjectCreated:*'] }],
        },
      }),
    );
    const put = (client: typeof one, key: string) =>
      client.send(new PutObjectCommand({ Bucket: 'watched', Key: key, Body: key }));
    expect(await series()).toEqual({
      total_events: 0,
      failed_events: 0,
      queue_length: 0,
      delivered_events: 0,
      failed_sends: 0,
      oldest_event_age_seconds: 0,
    });

    // PostgreSQL up: two events through each worker, all delivered.
    for (const key of ['a1', 'a2']) await put(one, key);
    for (const key of ['b1', 'b2']) await put(two, key);
    await vi.waitFor(async () => expect((await series()).delivered_events).toBe(4), { timeout: 60_000 });
    expect(await series()).toEqual({
      total_events: 4,
      failed_events: 0,
      queue_length: 0,
      delivered_events: 4,
      failed_sends: 0,
      oldest_event_age_seconds: 0,
    });

    // PostgreSQL down: worker 1 takes 7 events (its queue holds 5, 2 are refused), worker 2 one.
    await postgres.stop();
    for (let i = 0; i < 7; i++) await put(one, `c${i}`);
    await put(two, 'd0');
    await vi.waitFor(async () => expect((await series()).failed_sends).toBeGreaterThan(0), { timeout: 60_000 });
    expect(await series()).toMatchObject({
      total_events: 12,
      failed_events: 2,
      queue_length: QUEUE_LIMIT + 1,
      delivered_events: 4,
    });
    // The oldest event waiting ages while the target is down (issue 20's lag as a time).
    await vi.waitFor(async () => expect((await series()).oldest_event_age_seconds).toBeGreaterThan(0), {
      timeout: 10_000,
    });

    // Back: every queued event delivered.
    await postgres.start();
    await vi.waitFor(async () => expect((await series()).queue_length).toBe(0), { timeout: 60_000 });
    const after = await series();
    expect(after).toMatchObject({
      total_events: 12,
      failed_events: 2,
      queue_length: 0,
      delivered_events: 10,
      oldest_event_age_seconds: 0,
    });
    expect(after.failed_sends).toBeGreaterThan(0);
    expect(await rows()).toBe(10);
  });
});
