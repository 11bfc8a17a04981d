// Bucket notifications to a real Redis (Debian's redis-server, started here on a free loopback port), in
// MinIO's two formats: `namespace` (a hash field per object, removed with it) and `access` (a list of every
// event). Redis stopped while objects are written, then started again: every event arrives, in order.
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startWithBucket, type TestServer } from '../helpers/cairn.js';
import { RedisServer, redisServerBinary } from '../helpers/redis.js';

const binary = redisServerBinary();
if (!binary)
  console.warn('notifications-redis: redis-server is not installed (bash scripts/install-redis.sh); skipped');

describe.skipIf(!binary)('notifications to Redis', () => {
  const redisServer = new RedisServer();
  let server: TestServer;
  let s3: S3Client;
  let redis: Redis;

  beforeAll(async () => {
    await redisServer.start();
    redis = new Redis({ host: '127.0.0.1', port: redisServer.port, lazyConnect: true });
    redis.on('error', () => {});
    await redis.connect();
    const target = (id: string, format: string, key: string) => ({
      type: 'redis' as const,
      id,
      queueLimit: 1000,
      settings: { address: redisServer.address, key, format },
    });
    ({ server, s3 } = await startWithBucket('ns-bucket', {
      notify: {
        targets: [target('ns', 'namespace', 'nsevents'), target('acc', 'access', 'accevents')],
        retry: { minMs: 20, maxMs: 200 },
      },
    }));
    await s3.send(new CreateBucketCommand({ Bucket: 'access-bucket' }));
    const config = (bucket: string, arn: string, events: string[]) =>
      s3.send(
        new PutBucketNotificationConfigurationCommand({
          Bucket: bucket,
          NotificationConfiguration: { QueueConfigurations: [{ QueueArn: arn, Events: events as never[] }] },
        }),
      );
    await config('ns-bucket', 'arn:cairn:sqs::ns:redis', ['s3:ObjectCreated:*', 's3:ObjectRemoved:*']);
    await config('access-bucket', 'arn:minio:sqs::acc:redis', [
      's3:ObjectCreated:*',
      's3:ObjectRemoved:*',
      's3:ObjectAccessed:*',
    ]);
  });

  afterAll(async () => {
    await server?.close();
    redis?.disconnect();
    await redisServer.close();
  });

  it('namespace format: one hash field per object, gone when the object is', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'ns-bucket', Key: 'a b.txt', Body: 'one' }));
    await s3.send(new PutObjectCommand({ Bucket: 'ns-bucket', Key: 'c.txt', Body: 'three' }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'ns-bucket', Key: 'c.txt' }));
    await server.notifyIdle();
    const hash = await redis.hgetall('nsevents');
    expect(Object.keys(hash)).toEqual(['ns-bucket/a b.txt']);
    const { Records } = JSON.parse(hash['ns-bucket/a b.txt']);
    expect(Records[0]).toMatchObject({
      eventName: 'ObjectCreated:Put',
      s3: { bucket: { name: 'ns-bucket' }, object: { key: 'a+b.txt', size: 3 } },
    });
    expect(hash['ns-bucket/a b.txt']).not.toContain(ROOT.secretKey);
  });

  it('access format: every event appended to a list, in order', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'access-bucket', Key: 'k', Body: 'data' }));
    await (await s3.send(new GetObjectCommand({ Bucket: 'access-bucket', Key: 'k' }))).Body?.transformToString();
    await s3.send(new DeleteObjectCommand({ Bucket: 'access-bucket', Key: 'k' }));
    await server.notifyIdle();
    const entries = (await redis.lrange('accevents', 0, -1)).map((e) => JSON.parse(e));
    expect(entries.map((e) => e[0].Event[0].eventName)).toEqual([
      'ObjectCreated:Put',
      'ObjectAccessed:Get',
      'ObjectRemoved:Delete',
    ]);
    expect(entries[0][0].EventTime).toBe(entries[0][0].Event[0].eventTime);
  });

  it('Redis down while objects are written, then back: every event delivered once, in order', async () => {
    await redis.del('accevents');
    const status = () => server.notifyStatus().find((s) => s.target === 'acc:redis')!;
    const deliveredBefore = status().delivered;
    redis.disconnect();
    await redisServer.stop();
    const keys = Array.from({ length: 20 }, (_, i) => `down-${String(i).padStart(2, '0')}`);
    for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: 'access-bucket', Key: key, Body: key }));
    expect(status().queued).toBe(keys.length);
    await redisServer.start();
    await server.notifyIdle();
    await redis.connect();
    const entries = (await redis.lrange('accevents', 0, -1)).map((e) => JSON.parse(e));
    expect(entries.map((e) => decodeURIComponent(e[0].Event[0].s3.object.key))).toEqual(keys);
    expect(status().delivered - deliveredBefore).toBe(keys.length);
    expect(status().queued).toBe(0);
  });
});
