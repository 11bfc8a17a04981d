// Queued notification events (api/notify/target.ts QueuedEvent): the queue holds MinIO's message body itself,
// `{"EventName","Key","Records":[record]}`, which the webhook sends as it is; the event name and key are read from
// the text before the record (a JSON string cannot hold `,"Records":[`), the record parsed only when asked for.
// Queues written before hold `{eventName,key,record}`: a sender started over such a queue delivers its events
// with the same body. Text that is neither is dropped (logged), not sent.
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookReceiver } from '../../../test/helpers/webhook.js';
import type { NotificationRule } from '../../src/api/notify/config.js';
import { type EventRecord, eventRecord } from '../../src/api/notify/event.js';
import { Notifier } from '../../src/api/notify/notifier.js';
import { encodeSegment, segmentName } from '../../src/api/notify/segment.js';
import { QueuedEvent } from '../../src/api/notify/target.js';

const origin = { bucket: 'b', region: 'us-east-1', requestId: 'REQ1', principal: 'ak', owner: 'ak', sourceIp: '::1' };
/** Keys a naive reading of the text would get wrong: quotes, the separator itself, escapes, non-ASCII. */
const KEYS = ['plain', 'a "quoted" key', 'x,"Records":[y', 'back\\slash\n"Key":"z"}', 'ünï/cødé 🙂', ''];
const recordOf = (key: string, size = 4): EventRecord =>
  eventRecord(
    { name: 's3:ObjectCreated:Put', key, size, etag: 'e', contentType: 't' },
    origin,
    'rule',
    new Date(0),
    '1',
  );
/** MinIO's message body, as webhook, NATS, MQTT, AMQP and Kafka targets send it. */
const minioBody = (name: string, key: string, record: EventRecord) =>
  JSON.stringify({ EventName: name, Key: key, Records: [record] });
/** What builds before this one queued. */
const oldForm = (name: string, key: string, record: EventRecord) => JSON.stringify({ eventName: name, key, record });

describe('QueuedEvent', () => {
  it('is queued as MinIO body and read back with its name, key and record, whatever the key holds', () => {
    for (const k of KEYS) {
      const record = recordOf(k);
      const made = QueuedEvent.of('s3:ObjectCreated:Put', `b/${k}`, record);
      expect(made.body).toBe(minioBody('s3:ObjectCreated:Put', `b/${k}`, record));
      const read = QueuedEvent.parse(made.body);
      expect([read.eventName, read.key, read.body]).toEqual(['s3:ObjectCreated:Put', `b/${k}`, made.body]);
      expect(read.record).toEqual(record);
      expect(read.record).toBe(read.record); // parsed once
    }
  });

  it('reads the form queued by earlier builds, with the same body', () => {
    for (const k of KEYS) {
      const record = recordOf(k);
      const read = QueuedEvent.parse(oldForm('s3:ObjectRemoved:Delete', `b/${k}`, record));
      expect([read.eventName, read.key]).toEqual(['s3:ObjectRemoved:Delete', `b/${k}`]);
      expect(read.body).toBe(minioBody('s3:ObjectRemoved:Delete', `b/${k}`, record));
      expect(read.record).toEqual(record);
    }
  });

  it('throws on text that is not an event (cut short, fields missing or of another type)', () => {
    const body = QueuedEvent.of('s3:ObjectCreated:Put', 'b/k', recordOf('k')).body;
    const bad = [
      body.slice(0, -1),
      body.slice(0, body.indexOf(',"Records":[') + 5),
      '{"EventName":"s3:ObjectCreated:Put","Key":7,"Records":[{}]}',
      '{"EventName":"s3:ObjectCreated:Put","Records":[{}]}',
      '{"EventName":"s3:ObjectCreated:Put","Key":"b/k" ,"Records":[{}]}x',
      '{"EventName":"s3:ObjectCreated:Put,"Key":"b/k","Records":[{}]}',
      JSON.stringify({ eventName: 's3:ObjectCreated:Put', key: 'b/k' }),
      JSON.stringify({ eventName: 's3:ObjectCreated:Put', key: 'b/k', record: null }),
      JSON.stringify({ eventName: 1, key: 'b/k', record: {} }),
      'not json',
      '',
    ];
    for (const text of bad) expect(() => QueuedEvent.parse(text), text).toThrow();
  });
});

describe('a sender started over a queue of both forms', () => {
  const hook = new WebhookReceiver();
  let base: string;
  beforeAll(async () => {
    await hook.start();
    base = await mkdtemp(join(tmpdir(), 'cairn-queued-'));
  });
  afterAll(async () => {
    await hook.stop();
    await rm(base, { recursive: true, force: true });
  });

  it('delivers each event once with MinIO body, drops the damaged one, and empties the queue', async () => {
    const dir = join(base, 'webhook-1');
    await mkdir(dir, { recursive: true });
    const old = KEYS.slice(0, 3).map((k, i) => ({ key: `b/${k}`, record: recordOf(k, i) }));
    const now = Date.now();
    await writeFile(
      join(dir, segmentName(1, old.length, now)),
      encodeSegment(old.map((e) => oldForm('s3:ObjectCreated:Put', e.key, e.record))),
    );
    const damaged = QueuedEvent.of('s3:ObjectCreated:Put', 'b/damaged', recordOf('damaged')).body.slice(0, -2);
    await writeFile(join(dir, segmentName(10, 1, now)), encodeSegment([damaged]));
    const errors: string[] = [];
    const log = { info: () => {}, warn: () => {}, error: (_o: unknown, msg: string) => errors.push(msg) };
    const n = await Notifier.start({
      targets: [{ type: 'webhook', id: '1', queueLimit: 100, settings: { endpoint: hook.url, max_workers: '2' } }],
      queueBases: [base],
      log,
      now: () => 0,
      retry: { minMs: 10, maxMs: 50 },
    });
    try {
      const fresh = KEYS.slice(3);
      const rule: NotificationRule = {
        ...{ kind: 'QueueConfiguration', id: 'rule', arn: 'arn:minio:sqs::1:webhook', target: '1:webhook' },
        ...{ events: ['s3:ObjectCreated:*'], prefix: '', suffix: '' },
      };
      await n.publish([rule], origin, [
        ...fresh.map((key) => ({ name: 's3:ObjectCreated:Put' as const, key, size: 4, etag: 'e', contentType: 't' })),
      ]);
      await n.idle();
      const sent = old.length + fresh.length;
      expect(hook.deliveries).toHaveLength(sent);
      const got = hook.deliveries.map((d) => d.text);
      for (const e of old) expect(got).toContain(minioBody('s3:ObjectCreated:Put', e.key, e.record));
      for (const k of fresh) {
        const d = hook.deliveries.find((x) => x.body.Key === `b/${k}`)!;
        expect(d.body.EventName).toBe('s3:ObjectCreated:Put');
        expect(d.body.Records).toHaveLength(1);
        expect(d.text).toBe(minioBody(d.body.EventName, d.body.Key, d.body.Records[0]));
        expect(d.body.Records[0].s3.object.size).toBe(4);
      }
      expect(errors).toEqual(['notification queue: unreadable event dropped']);
      expect(n.status()[0]).toMatchObject({ queued: 0, delivered: sent });
    } finally {
      await n.close();
    }
    expect((await readdir(dir)).filter((f) => f.endsWith('.seg'))).toEqual([]);
  });
});
