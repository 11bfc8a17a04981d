// Bucket notifications to a real AMQP 0.9.1 broker (Debian's rabbitmq-server, started here as the test's user on
// free loopback ports with its own node name and data; about 5 s): events published to a declared exchange or to
// a queue through the default exchange, with MinIO's body and headers; MANDATORY=on keeps an unroutable event
// queued until a queue is bound; the broker stopped while objects are written, then started again: every event
// arrives once, counts exact; a wrong password fails the sends without the password reaching a log line.
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type Channel, type ChannelModel, connect, type GetMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RabbitMq, rabbitMqInstalled } from '../helpers/brokers.js';
import { ROOT, startWithBucket, type TestServer } from '../helpers/cairn.js';
import { type EventBody, LogLines, notifyBucket } from '../helpers/notify-bus.js';

const installed = rabbitMqInstalled();
if (!installed)
  console.warn('notifications-amqp: rabbitmq-server is not installed (bash scripts/install-rabbitmq.sh); skipped');

const WRONG_PASSWORD = 'wrong-pass-3a88';

describe.skipIf(!installed)('notifications to AMQP (RabbitMQ)', () => {
  const rabbit = new RabbitMq();
  const logs = new LogLines();
  let server: TestServer;
  let s3: S3Client;
  let connection: ChannelModel | undefined;
  let ch: Channel;

  /** The test's own connection, made again after the broker restarted. */
  async function open(): Promise<void> {
    connection = await connect(rabbit.url);
    connection.on('error', () => {});
    ch = await connection.createChannel();
    ch.on('error', () => {});
    // What a consumer of Cairn's events declares: a durable queue bound to the exchange, one for the default exchange.
    await ch.assertExchange('cairn-events', 'fanout', { durable: true });
    await ch.assertQueue('events', { durable: true });
    await ch.bindQueue('events', 'cairn-events', '');
    await ch.assertQueue('direct', { durable: true });
  }

  /** Every message waiting in `queue`, taken off it. */
  async function drain(queue: string): Promise<GetMessage[]> {
    const out: GetMessage[] = [];
    for (let m = await ch.get(queue, { noAck: true }); m; m = await ch.get(queue, { noAck: true })) out.push(m);
    return out;
  }
  const body = (m: GetMessage): EventBody => JSON.parse(m.content.toString());

  beforeAll(async () => {
    await rabbit.start();
    await open();
    const target = (id: string, settings: Record<string, string>) => ({
      type: 'amqp' as const,
      id,
      queueLimit: 1000,
      settings: { url: rabbit.url, ...settings },
    });
    ({ server, s3 } = await startWithBucket('amqp-fanout', {
      logger: logs.logger(),
      notify: {
        targets: [
          target('fanout', { exchange: 'cairn-events', exchange_type: 'fanout', durable: 'on', delivery_mode: '2' }),
          target('direct', { routing_key: 'direct' }),
          target('mandatory', { exchange: 'cairn-late', exchange_type: 'direct', routing_key: 'rk', mandatory: 'on' }),
          target('bad', { url: rabbit.url.replace('guest:guest', `guest:${WRONG_PASSWORD}`), routing_key: 'direct' }),
        ],
        retry: { minMs: 20, maxMs: 200 },
      },
    }));
    for (const t of ['fanout', 'direct', 'mandatory', 'bad'])
      await notifyBucket(s3, `amqp-${t}`, `arn:cairn:sqs::${t}:amqp`);
  });

  afterAll(async () => {
    await server?.close();
    await connection?.close().catch(() => {});
    await rabbit.close();
  });

  const status = (target: string) => server.notifyStatus().find((s) => s.target === target)!;

  it('PUT and DELETE reach the exchange as MinIO bodies with its headers, persistent', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'amqp-fanout', Key: 'a b.txt', Body: 'one' }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'amqp-fanout', Key: 'a b.txt' }));
    await server.notifyIdle();
    // The broker confirmed each message: it is in the queue now.
    const [put, del, ...more] = await drain('events');
    expect(more).toEqual([]);
    expect(body(put)).toMatchObject({
      EventName: 's3:ObjectCreated:Put',
      Key: 'amqp-fanout/a b.txt',
      Records: [
        { eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'amqp-fanout' }, object: { key: 'a+b.txt' } } },
      ],
    });
    expect(body(put).Records[0].s3.object.size).toBe(3);
    expect(put.properties).toMatchObject({
      contentType: 'application/json',
      deliveryMode: 2,
      headers: { 'minio-bucket': 'amqp-fanout', 'minio-event': 's3:ObjectCreated:Put' },
    });
    expect(body(del)).toMatchObject({ EventName: 's3:ObjectRemoved:Delete', Key: 'amqp-fanout/a b.txt' });
    expect(put.content.toString()).not.toContain(ROOT.secretKey);
  });

  it('without an exchange, ROUTING_KEY names the queue (the default exchange)', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'amqp-direct', Key: 'k', Body: 'x' }));
    await server.notifyIdle();
    const got = await drain('direct');
    expect(got.map((m) => body(m).Key)).toEqual(['amqp-direct/k']);
    expect(got[0].properties.deliveryMode).toBeUndefined();
  });

  it('MANDATORY=on: an event no queue takes stays queued until one is bound', async () => {
    const failed = logs.waitFor((l) => l.target === 'mandatory:amqp' && l.msg === 'notification target unreachable');
    await s3.send(new PutObjectCommand({ Bucket: 'amqp-mandatory', Key: 'waits', Body: 'x' }));
    expect(String((await failed).err)).toMatch(/route/);
    expect(status('mandatory:amqp')).toMatchObject({ queued: 1, delivered: 0 });
    await ch.assertQueue('late', { durable: false });
    await ch.bindQueue('late', 'cairn-late', 'rk');
    await server.notifyIdle();
    expect((await drain('late')).map((m) => body(m).Key)).toEqual(['amqp-mandatory/waits']);
    expect(status('mandatory:amqp')).toMatchObject({ queued: 0, delivered: 1 });
  });

  it('the broker down while objects are written, then back: every event arrives once, in order', async () => {
    const deliveredBefore = status('fanout:amqp').delivered;
    await connection?.close().catch(() => {});
    connection = undefined;
    await rabbit.stop();
    const keys = Array.from({ length: 20 }, (_, i) => `down-${String(i).padStart(2, '0')}`);
    for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: 'amqp-fanout', Key: key, Body: key }));
    expect(status('fanout:amqp').queued).toBe(keys.length);
    await rabbit.start();
    await server.notifyIdle();
    await open();
    const got = await drain('events');
    expect(got.map((m) => body(m).Key)).toEqual(keys.map((k) => `amqp-fanout/${k}`));
    expect(status('fanout:amqp').delivered - deliveredBefore).toBe(keys.length);
    expect(status('fanout:amqp').queued).toBe(0);
  });

  it('a wrong password fails the sends (the event stays queued) and never reaches the log', async () => {
    const failed = logs.waitFor((l) => l.target === 'bad:amqp' && l.msg === 'notification target unreachable');
    await s3.send(new PutObjectCommand({ Bucket: 'amqp-bad', Key: 'k', Body: 'x' }));
    expect(String((await failed).err)).toMatch(/ACCESS.REFUSED/);
    expect(status('bad:amqp')).toMatchObject({ queued: 1, delivered: 0 });
    expect(logs.text()).not.toContain(WRONG_PASSWORD);
  });
});
