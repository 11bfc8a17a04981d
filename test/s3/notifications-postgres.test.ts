// Bucket notifications to a real PostgreSQL (Debian's postgresql, a cluster of its own started here on a free
// loopback port), in MinIO's two formats: `namespace` (a row per object, upserted, removed with it) and
// `access` (a row per event with its event_time), in tables Cairn creates with MinIO's schema. PostgreSQL
// stopped while objects are written, then started again: every event arrives, once, in order. Bad settings and
// a hostile table name are refused at start, before any SQL is sent.
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '@cairn/server';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ROOT, startWithBucket, type TestServer } from '../helpers/cairn.js';
import { PostgresServer, postgresBinDir } from '../helpers/postgres.js';

const installed = postgresBinDir() !== undefined;
if (!installed) {
  if (process.env.CI === 'true')
    throw new Error('PostgreSQL is not installed: .ci/run runs scripts/install-postgres.sh');
  console.warn('notifications-postgres: PostgreSQL is not installed (bash scripts/install-postgres.sh); skipped');
}

const target = (id: string, settings: Record<string, string>) => ({
  type: 'postgresql' as const,
  id,
  queueLimit: 1000,
  settings,
});

describe.skipIf(!installed)('notifications to PostgreSQL', () => {
  const postgres = new PostgresServer({ tls: true });
  let server: TestServer;
  let s3: S3Client;
  let db: pg.Client;

  const connect = async () => {
    db = new pg.Client({
      host: '127.0.0.1',
      port: postgres.port,
      user: postgres.user,
      password: postgres.password,
      database: postgres.database,
    });
    await db.connect();
  };
  const rows = async (sql: string) => (await db.query(sql)).rows;

  beforeAll(async () => {
    await postgres.start();
    await connect();
    ({ server, s3 } = await startWithBucket('ns-bucket', {
      // The lifecycle test clock: a day lasts 1 s, rules applied every 250 ms.
      lifecycleDaySeconds: 1,
      storage: { background: true, staleUploadsCleanupIntervalMs: 250, gcGraceMs: 100 },
      notify: {
        targets: [
          target('ns', { connection_string: postgres.connectionString, table: 'ns_events', format: 'namespace' }),
          // A quoted name keeps its case and its space; MinIO's URL form of the connection string.
          target('acc', {
            connection_string: `postgres://${postgres.user}:${encodeURIComponent(postgres.password)}@127.0.0.1:${
              postgres.port
            }/${postgres.database}?sslmode=disable`,
            table: '"Access Events"',
            format: 'access',
            max_open_connections: '2',
          }),
          // MinIO's separate settings (no sslmode there: lib/pq's default, TLS without checking the certificate).
          target('tls', {
            host: '127.0.0.1',
            port: String(postgres.port),
            username: postgres.user,
            password: postgres.password,
            database: postgres.database,
            table: 'tls_events',
            format: 'access',
          }),
        ],
        retry: { minMs: 20, maxMs: 200 },
      },
    }));
    await s3.send(new CreateBucketCommand({ Bucket: 'access-bucket' }));
    const config = (bucket: string, arns: string[], events: string[]) =>
      s3.send(
        new PutBucketNotificationConfigurationCommand({
          Bucket: bucket,
          NotificationConfiguration: {
            QueueConfigurations: arns.map((arn) => ({ QueueArn: arn, Events: events as never[] })),
          },
        }),
      );
    await config('ns-bucket', ['arn:minio:sqs::ns:postgresql'], ['s3:ObjectCreated:*', 's3:ObjectRemoved:*']);
    const all = ['s3:ObjectCreated:*', 's3:ObjectRemoved:*', 's3:ObjectAccessed:*'];
    await config('access-bucket', ['arn:cairn:sqs::acc:postgresql'], all);
    await s3.send(new CreateBucketCommand({ Bucket: 'tls-bucket' }));
    await config('tls-bucket', ['arn:cairn:sqs::tls:postgresql'], all);
  });

  afterAll(async () => {
    await server?.close();
    await db?.end();
    await postgres.close();
  });

  it("namespace format: one row per object, upserted, gone when the object is; MinIO's schema", async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'ns-bucket', Key: 'a b.txt', Body: 'one' }));
    await s3.send(new PutObjectCommand({ Bucket: 'ns-bucket', Key: 'c.txt', Body: 'three' }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'ns-bucket', Key: 'c.txt' }));
    await s3.send(new PutObjectCommand({ Bucket: 'ns-bucket', Key: 'a b.txt', Body: 'one more' }));
    await server.notifyIdle();
    const got = await rows('SELECT key, value FROM ns_events ORDER BY key');
    expect(got.map((r) => r.key)).toEqual(['ns-bucket/a b.txt']);
    expect(got[0].value.Records).toHaveLength(1);
    expect(got[0].value.Records[0]).toMatchObject({
      eventName: 'ObjectCreated:Put',
      s3: { bucket: { name: 'ns-bucket' }, object: { key: 'a+b.txt', size: 8 } },
    });
    expect(JSON.stringify(got)).not.toContain(ROOT.secretKey);
    const columns = await rows(
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'ns_events' ORDER BY ordinal_position",
    );
    expect(columns).toEqual([
      { column_name: 'key', data_type: 'character varying' },
      { column_name: 'value', data_type: 'jsonb' },
    ]);
  });

  it('namespace format: an object a lifecycle rule expires loses its row too', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'lc-bucket' }));
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: 'lc-bucket',
        NotificationConfiguration: {
          QueueConfigurations: [
            { QueueArn: 'arn:cairn:sqs::ns:postgresql', Events: ['s3:ObjectCreated:*', 's3:LifecycleExpiration:*'] },
          ],
        },
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: 'lc-bucket', Key: 'old.txt', Body: 'old' }));
    await server.notifyIdle();
    expect(await rows("SELECT key FROM ns_events WHERE key LIKE 'lc-bucket/%'")).toEqual([
      { key: 'lc-bucket/old.txt' },
    ]);
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: 'lc-bucket',
        LifecycleConfiguration: {
          Rules: [{ ID: 'expire', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 1 } }],
        },
      }),
    );
    await vi.waitFor(
      async () => expect(await rows("SELECT key FROM ns_events WHERE key LIKE 'lc-bucket/%'")).toEqual([]),
      { timeout: 45_000, interval: 100 },
    );
  });

  it('access format: a row per event with its event_time, in order (also over TLS)', async () => {
    for (const Bucket of ['access-bucket', 'tls-bucket']) {
      await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'data' }));
      await (await s3.send(new GetObjectCommand({ Bucket, Key: 'k' }))).Body?.transformToString();
      await s3.send(new DeleteObjectCommand({ Bucket, Key: 'k' }));
    }
    await server.notifyIdle();
    for (const table of ['"Access Events"', 'tls_events']) {
      // Rows of an append-only table come back in the order they were inserted.
      const got = await rows(`SELECT event_time, event_data FROM ${table} ORDER BY ctid`);
      expect(got.map((r) => r.event_data.Records[0].eventName)).toEqual([
        'ObjectCreated:Put',
        'ObjectAccessed:Get',
        'ObjectRemoved:Delete',
      ]);
      for (const r of got) expect((r.event_time as Date).toISOString()).toBe(r.event_data.Records[0].eventTime);
    }
    const ssl = await rows("SELECT ssl FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE usename = 'cairn'");
    expect(ssl.some((r) => r.ssl === true)).toBe(true);
  });

  it('PostgreSQL down while objects are written, then back: every event delivered once, in order', async () => {
    await db.query('TRUNCATE "Access Events"');
    const status = () => server.notifyStatus().find((s) => s.target === 'acc:postgresql')!;
    const before = status();
    await db.end();
    await postgres.stop();
    const keys = Array.from({ length: 20 }, (_, i) => `down-${String(i).padStart(2, '0')}`);
    for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: 'access-bucket', Key: key, Body: key }));
    expect(status().queued).toBe(keys.length);
    // The sender has tried (and failed) while the server was down.
    await vi.waitFor(() => expect(status().failedAttempts).toBeGreaterThan(before.failedAttempts), {
      timeout: 60_000,
    });
    await postgres.start();
    await server.notifyIdle();
    await connect();
    const got = await rows('SELECT event_data FROM "Access Events" ORDER BY ctid');
    expect(got.map((r) => decodeURIComponent(r.event_data.Records[0].s3.object.key))).toEqual(keys);
    expect(status().delivered - before.delivered).toBe(keys.length);
    expect(status().queued).toBe(0);
  });

  it('refuses a hostile table name and bad settings at start, sending no SQL', async () => {
    const tablesBefore = await rows("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
    const cs = postgres.connectionString;
    const refused = async (settings: Record<string, string>, message: RegExp) => {
      const base = await mkdtemp(join(tmpdir(), 'cairn-refused-'));
      try {
        const start = startServer({
          address: '127.0.0.1:0',
          credentials: { root: ROOT },
          storage: { background: false },
          drives: [join(base, 'd1')],
          notify: { targets: [target('bad', settings)] },
        });
        await expect(start).rejects.toThrow(message);
      } finally {
        await rm(base, { recursive: true, force: true });
      }
    };
    await refused({ connection_string: cs, table: 'x; DROP TABLE ns_events; --' }, /TABLE.*not a PostgreSQL table/);
    await refused({ connection_string: cs, table: '"a"; DROP TABLE ns_events; --"' }, /not a PostgreSQL table/);
    await refused({ connection_string: cs, table: '1events' }, /not a PostgreSQL table/);
    await refused(
      { connection_string: cs, table: 't', format: 'json' },
      /POSTGRES_FORMAT_bad must be namespace or access/,
    );
    await refused({ connection_string: `${cs} sslrootcert=/ca.pem`, table: 't' }, /sslrootcert' is not implemented/);
    await refused({ connection_string: cs.replace('disable', 'prefer'), table: 't' }, /sslmode 'prefer'/);
    await refused({ connection_string: cs, table: 't', max_open_connections: '-1' }, /MAX_OPEN_CONNECTIONS/);
    await refused({ host: '127.0.0.1', port: String(postgres.port), table: 't' }, /DATABASE.*must be set/);
    await refused({ connection_string: cs, port: '5432', table: 't' }, /either CONNECTION_STRING or PORT/);
    expect(await rows("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).toEqual(tablesBefore);
    expect(tablesBefore.map((r) => r.tablename)).toContain('ns_events');
  });
});
