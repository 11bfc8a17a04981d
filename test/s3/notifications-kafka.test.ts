// Bucket notifications to a real Apache Kafka broker (KRaft mode, from Maven Central by
// scripts/install-kafka.sh, started here on free loopback ports): one message per event keyed by
// <bucket>/<object> with MinIO's value, over PLAINTEXT, SASL (PLAIN, SCRAM-SHA-256; a wrong password is
// never delivered) and TLS (an untrusted certificate never delivered). The broker stopped while objects are written, then started again: every event arrives,
// once, in order. Without the broker's jars the suite is skipped with a message, except under CI, where it fails.
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ROOT, startWithBucket, type TestServer } from '../helpers/cairn.js';
import { KafkaBroker, kafkaMissing } from '../helpers/kafka.js';

const missing = kafkaMissing();
if (missing) {
  if (process.env.CI === 'true')
    throw new Error(`notifications-kafka: ${missing}; .ci/run runs scripts/install-kafka.sh`);
  console.warn(`notifications-kafka: ${missing}; skipped`);
}

interface Message {
  key: string;
  value: { EventName: string; Key: string; Records: { eventName: string; s3: { object: { key: string } } }[] };
}

describe.skipIf(missing !== undefined)('notifications to Kafka', () => {
  const broker = new KafkaBroker();
  let server: TestServer;
  let s3: S3Client;
  let groups = 0;

  /** The first `count` messages of a topic, read from its beginning. */
  async function consume(topic: string, count: number): Promise<Message[]> {
    const kafka = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: `test-${++groups}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const got: Message[] = [];
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ message }) => {
            got.push({ key: message.key!.toString(), value: JSON.parse(message.value!.toString()) });
            if (got.length === count) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    return got;
  }

  /** Messages in a topic (its end offset: one partition). */
  async function topicSize(topic: string): Promise<number> {
    const admin = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    return offsets.reduce((n, p) => n + Number(p.high), 0);
  }

  const target = (id: string, settings: Record<string, string>) => ({
    type: 'kafka' as const,
    id,
    queueLimit: 1000,
    settings,
  });

  beforeAll(async () => {
    await broker.start();
    const admin = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({
      topics: ['events', 'scram', 'plain', 'denied', 'tls', 'untrusted'].map((topic) => ({ topic })),
    });
    await admin.disconnect();
    const sasl = (mechanism: string, password: string) => ({
      brokers: broker.saslAddress,
      sasl: 'on',
      sasl_mechanism: mechanism,
      sasl_username: 'alice',
      sasl_password: password,
    });
    ({ server, s3 } = await startWithBucket('kafka-bucket', {
      notify: {
        targets: [
          target('k', { brokers: broker.address, topic: 'events' }),
          target('scram', { ...sasl('sha256', broker.users.alice), topic: 'scram' }),
          target('plain', { ...sasl('plain', broker.users.alice), topic: 'plain' }),
          target('denied', { ...sasl('sha256', 'wrong password'), topic: 'denied' }),
          // The broker's certificate is self-signed: taken when told to skip the check, refused otherwise.
          target('tls', { brokers: broker.tlsAddress, tls: 'on', tls_skip_verify: 'on', topic: 'tls' }),
          target('untrusted', { brokers: broker.tlsAddress, tls: 'on', topic: 'untrusted' }),
        ],
        retry: { minMs: 20, maxMs: 200 },
      },
    }));
    await s3.send(new CreateBucketCommand({ Bucket: 'sasl-bucket' }));
    const queue = (id: string, suffix?: string) => ({
      QueueArn: `arn:minio:sqs::${id}:kafka`,
      Events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'] as never[],
      ...(suffix ? { Filter: { Key: { FilterRules: [{ Name: 'suffix' as const, Value: suffix }] } } } : {}),
    });
    const config = (bucket: string, configurations: ReturnType<typeof queue>[]) =>
      s3.send(
        new PutBucketNotificationConfigurationCommand({
          Bucket: bucket,
          NotificationConfiguration: { QueueConfigurations: configurations },
        }),
      );
    await config('kafka-bucket', [queue('k')]);
    await config('sasl-bucket', [queue('scram', '.scram'), queue('plain', '.plain'), queue('denied', '.denied')]);
    await s3.send(new CreateBucketCommand({ Bucket: 'tls-bucket' }));
    await config('tls-bucket', [queue('tls', '.tls'), queue('untrusted', '.untrusted')]);
  }, 180_000);

  afterAll(async () => {
    await server?.close();
    await broker.close();
  });

  it("one message per event, keyed by <bucket>/<object>, MinIO's value", async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'kafka-bucket', Key: 'a b.txt', Body: 'one' }));
    await s3.send(new PutObjectCommand({ Bucket: 'kafka-bucket', Key: 'c.txt', Body: 'three' }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'kafka-bucket', Key: 'a b.txt' }));
    await server.notifyIdle();
    expect(await topicSize('events')).toBe(3);
    const got = await consume('events', 3);
    expect(got.map((m) => [m.key, m.value.EventName])).toEqual([
      ['kafka-bucket/a b.txt', 's3:ObjectCreated:Put'],
      ['kafka-bucket/c.txt', 's3:ObjectCreated:Put'],
      ['kafka-bucket/a b.txt', 's3:ObjectRemoved:Delete'],
    ]);
    expect(got[0].value.Key).toBe('kafka-bucket/a b.txt');
    expect(got[0].value.Records[0].s3.object.key).toBe('a+b.txt');
    expect(JSON.stringify(got)).not.toContain(ROOT.secretKey);
  });

  it('SASL: SCRAM-SHA-256 and PLAIN deliver; a wrong password never does', async () => {
    const status = (id: string) => server.notifyStatus().find((s) => s.target === `${id}:kafka`)!;
    for (const suffix of ['scram', 'plain', 'denied'])
      await s3.send(new PutObjectCommand({ Bucket: 'sasl-bucket', Key: `x.${suffix}`, Body: suffix }));
    await Promise.all(
      ['scram', 'plain'].map((id) => vi.waitFor(() => expect(status(id).delivered).toBe(1), { timeout: 60_000 })),
    );
    expect((await consume('scram', 1))[0].key).toBe('sasl-bucket/x.scram');
    expect((await consume('plain', 1))[0].key).toBe('sasl-bucket/x.plain');
    await vi.waitFor(() => expect(status('denied').failedAttempts).toBeGreaterThan(1), { timeout: 60_000 });
    expect(status('denied')).toMatchObject({ queued: 1, delivered: 0 });
    expect(await topicSize('denied')).toBe(0);
  });

  it('TLS: delivered when the certificate check is skipped; an untrusted certificate never is', async () => {
    const status = (id: string) => server.notifyStatus().find((s) => s.target === `${id}:kafka`)!;
    for (const suffix of ['tls', 'untrusted'])
      await s3.send(new PutObjectCommand({ Bucket: 'tls-bucket', Key: `x.${suffix}`, Body: suffix }));
    await vi.waitFor(() => expect(status('tls').delivered).toBe(1), { timeout: 60_000 });
    expect((await consume('tls', 1))[0].key).toBe('tls-bucket/x.tls');
    await vi.waitFor(() => expect(status('untrusted').failedAttempts).toBeGreaterThan(1), { timeout: 60_000 });
    expect(status('untrusted')).toMatchObject({ queued: 1, delivered: 0 });
    expect(await topicSize('untrusted')).toBe(0);
  });

  it('the broker down while objects are written, then back: every event delivered once, in order', async () => {
    const status = () => server.notifyStatus().find((s) => s.target === 'k:kafka')!;
    const before = status();
    const sizeBefore = await topicSize('events');
    await broker.stop();
    const keys = Array.from({ length: 10 }, (_, i) => `down-${String(i).padStart(2, '0')}`);
    for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: 'kafka-bucket', Key: key, Body: key }));
    expect(status().queued).toBe(keys.length);
    await vi.waitFor(() => expect(status().failedAttempts).toBeGreaterThan(before.failedAttempts), {
      timeout: 60_000,
    });
    await broker.start();
    // Not server.notifyIdle(): the target with the wrong password never empties its queue.
    await vi.waitFor(() => expect(status().queued).toBe(0), { timeout: 60_000 });
    expect(await topicSize('events')).toBe(sizeBefore + keys.length);
    const got = await consume('events', sizeBefore + keys.length);
    expect(got.slice(sizeBefore).map((m) => m.key)).toEqual(keys.map((k) => `kafka-bucket/${k}`));
    expect(status().delivered - before.delivered).toBe(keys.length);
    expect(status().queued).toBe(0);
  });
});
