// Bucket notifications to a real MQTT broker (Debian's mosquitto, started here on a free loopback port with a
// password file and persistence): events arrive on the topic with MinIO's body at QoS 0, 1 and 2; the broker
// stopped while objects are written, then started again: every event arrives once Cairn reconnects, counts exact
// (the subscriber's persistent session holds what is published before it is back); a wrong password fails the
// sends without the password reaching a log line.
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findProgram, Mosquitto } from '../helpers/brokers.js';
import { ROOT, startWithBucket, type TestServer } from '../helpers/cairn.js';
import { type EventBody, LogLines, notifyBucket, Received } from '../helpers/notify-bus.js';

const binary = findProgram('mosquitto');
if (!binary)
  console.warn('notifications-mqtt: mosquitto is not installed (bash scripts/install-mosquitto.sh); skipped');

const USER = 'cairn';
const PASSWORD = 'mqtt-pass-7d21';
const WRONG_PASSWORD = 'wrong-pass-0e94';

describe.skipIf(!binary)('notifications to MQTT', () => {
  const broker = new Mosquitto({ user: USER, pass: PASSWORD });
  const logs = new LogLines();
  let server: TestServer;
  let s3: S3Client;
  let subscriber: MqttClient;
  const received = new Map<string, Received<EventBody>>();
  /** The QoS each message came with (the publisher's, the subscription being at QoS 2). */
  const qosSeen = new Map<string, number[]>();
  const on = (topic: string) => received.get(topic)!;

  beforeAll(async () => {
    await broker.start();
    // A persistent session (clean: false) at QoS 2: the broker keeps it, and what it is sent, across a restart.
    subscriber = await connectAsync(broker.url, {
      username: USER,
      password: PASSWORD,
      clientId: 'cairn-test-subscriber',
      clean: false,
      reconnectPeriod: 100,
    });
    subscriber.on('error', () => {});
    for (const topic of ['cairn/q0', 'cairn/q1', 'cairn/q2']) received.set(topic, new Received());
    subscriber.on('message', (topic, payload, packet) => {
      qosSeen.set(topic, [...(qosSeen.get(topic) ?? []), packet.qos]);
      received.get(topic)?.push(JSON.parse(payload.toString()));
    });
    await subscriber.subscribeAsync(['cairn/q0', 'cairn/q1', 'cairn/q2'], { qos: 2 });
    const target = (id: string, settings: Record<string, string>) => ({
      type: 'mqtt' as const,
      id,
      queueLimit: 1000,
      settings: { broker: broker.url, username: USER, password: PASSWORD, reconnect_interval: '1s', ...settings },
    });
    ({ server, s3 } = await startWithBucket('mqtt-q1', {
      logger: logs.logger(),
      notify: {
        targets: [
          target('q0', { topic: 'cairn/q0', qos: '0' }),
          target('q1', { topic: 'cairn/q1', qos: '1' }),
          target('q2', { topic: 'cairn/q2', qos: '2', keep_alive_interval: '5s' }),
          target('bad', { topic: 'cairn/never', qos: '1', password: WRONG_PASSWORD }),
        ],
        retry: { minMs: 20, maxMs: 200 },
      },
    }));
    for (const q of ['q0', 'q1', 'q2', 'bad']) await notifyBucket(s3, `mqtt-${q}`, `arn:cairn:sqs::${q}:mqtt`);
  });

  afterAll(async () => {
    await server?.close();
    await subscriber?.endAsync(true);
    await broker.close();
  });

  const status = (target: string) => server.notifyStatus().find((s) => s.target === target)!;

  it.each([0, 1, 2])('QoS %i: PUT and DELETE arrive on the topic as MinIO bodies', async (qos) => {
    const bucket = `mqtt-q${qos}`;
    const topic = on(`cairn/q${qos}`);
    const from = topic.items.length;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a b.txt', Body: 'one' }));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'a b.txt' }));
    await server.notifyIdle();
    const [put, del] = await topic.next(from, 2);
    expect(put).toMatchObject({
      EventName: 's3:ObjectCreated:Put',
      Key: `${bucket}/a b.txt`,
      Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: bucket }, object: { key: 'a+b.txt' } } }],
    });
    expect(put.Records[0].s3.object.size).toBe(3);
    expect(del).toMatchObject({ EventName: 's3:ObjectRemoved:Delete', Key: `${bucket}/a b.txt` });
    expect(JSON.stringify([put, del])).not.toContain(ROOT.secretKey);
    expect(qosSeen.get(`cairn/q${qos}`)?.slice(from, from + 2)).toEqual([qos, qos]);
  });

  it('the broker down while objects are written, then back: every event arrives once, in order', async () => {
    const topics = [on('cairn/q1'), on('cairn/q2')];
    const from = topics.map((t) => t.items.length);
    const deliveredBefore = [status('q1:mqtt').delivered, status('q2:mqtt').delivered];
    await broker.stop();
    const keys = Array.from({ length: 20 }, (_, i) => `down-${String(i).padStart(2, '0')}`);
    for (const key of keys) {
      await s3.send(new PutObjectCommand({ Bucket: 'mqtt-q1', Key: key, Body: key }));
      await s3.send(new PutObjectCommand({ Bucket: 'mqtt-q2', Key: key, Body: key }));
    }
    expect(status('q1:mqtt').queued).toBe(keys.length);
    expect(status('q2:mqtt').queued).toBe(keys.length);
    await broker.start();
    await server.notifyIdle();
    for (const [i, bucket] of ['mqtt-q1', 'mqtt-q2'].entries()) {
      const got = await topics[i].next(from[i], keys.length);
      expect(got.map((b) => b.Key)).toEqual(keys.map((k) => `${bucket}/${k}`));
    }
    expect(status('q1:mqtt').delivered - deliveredBefore[0]).toBe(keys.length);
    expect(status('q2:mqtt').delivered - deliveredBefore[1]).toBe(keys.length);
    expect(status('q1:mqtt').queued + status('q2:mqtt').queued).toBe(0);
  });

  it('a wrong password fails the sends (the event stays queued) and never reaches the log', async () => {
    const failed = logs.waitFor((l) => l.target === 'bad:mqtt' && l.msg === 'notification target unreachable');
    await s3.send(new PutObjectCommand({ Bucket: 'mqtt-bad', Key: 'k', Body: 'x' }));
    const line = await failed;
    expect(String(line.err)).toMatch(/not authori[sz]ed|bad user ?name or password/i);
    expect(status('bad:mqtt')).toMatchObject({ queued: 1, delivered: 0 });
    expect(logs.text()).not.toContain(WRONG_PASSWORD);
    expect(logs.text()).not.toContain(PASSWORD);
  });
});
