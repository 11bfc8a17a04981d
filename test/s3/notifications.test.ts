// Bucket notifications end to end: Put/GetBucketNotificationConfiguration through the AWS SDK (and raw
// documents the SDK would not send), then events delivered to a real webhook receiver: their names and
// contents, filters, and a receiver that is down for a while (every event arrives once it is back).
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketNotificationConfigurationCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketNotificationConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
  type Event,
  type NotificationConfiguration,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALT, ROOT, s3Error, startWithBucket, type TestServer } from '../helpers/cairn.js';
import { signedFetch } from '../helpers/signed-request.js';
import { WebhookReceiver } from '../helpers/webhook.js';

const bucket = 'events';
const ARN = 'arn:cairn:sqs::1:webhook';
const TOKEN = 'hook-token';
let server: TestServer;
let s3: S3Client;
const hook = new WebhookReceiver();

beforeAll(async () => {
  await hook.start();
  ({ server, s3 } = await startWithBucket(bucket, {
    notify: {
      targets: [{ type: 'webhook', id: '1', queueLimit: 1000, settings: { endpoint: hook.url, auth_token: TOKEN } }],
      retry: { minMs: 20, maxMs: 200 },
    },
  }));
});

afterAll(async () => {
  await server?.close();
  await hook.stop();
});

const getConfig = (b = bucket) => s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: b }));
const putConfig = (c: NotificationConfiguration, b = bucket) =>
  s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: b, NotificationConfiguration: c }));
const putRaw = (xml: string, b = bucket) =>
  signedFetch(server.url, { method: 'PUT', path: `/${b}`, query: { notification: '' }, body: xml });

/** The keys (decoded) and event names delivered from index `from` on. */
const delivered = (from: number) =>
  hook.deliveries.slice(from).map((d) => `${d.body.Records[0].eventName} ${d.body.Key}`);

/**
 * Delivered from `from` on: exactly `expected`, each key's events in the order given. The webhook sends over
 * several lanes (the events of one key in one lane, in order), so events of different keys may cross.
 */
function expectDelivered(from: number, expected: string[]): void {
  const got = delivered(from);
  expect([...got].sort()).toEqual([...expected].sort());
  const keyOf = (line: string) => line.slice(line.indexOf(' ') + 1);
  for (const key of new Set(expected.map(keyOf)))
    expect(got.filter((l) => keyOf(l) === key)).toEqual(expected.filter((l) => keyOf(l) === key));
}

describe('Put/GetBucketNotificationConfiguration', () => {
  const b = 'notify-config';
  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: b }));
  });

  it('a bucket without notifications has an empty configuration', async () => {
    const c = await getConfig(b);
    expect(c.QueueConfigurations ?? []).toEqual([]);
    expect(c.TopicConfigurations ?? []).toEqual([]);
  });

  it('stores Queue, Topic and CloudFunction configurations with filters and gives them back', async () => {
    await putConfig(
      {
        QueueConfigurations: [
          {
            Id: 'csv-in',
            QueueArn: ARN,
            Events: ['s3:ObjectCreated:*'],
            Filter: {
              Key: {
                FilterRules: [
                  { Name: 'prefix', Value: 'in/' },
                  { Name: 'suffix', Value: '.csv' },
                ],
              },
            },
          },
        ],
        // MinIO's ARN form (mc and the MinIO SDKs send it) names the same target.
        TopicConfigurations: [{ Id: 'removed', TopicArn: 'arn:minio:sqs::1:webhook', Events: ['s3:ObjectRemoved:*'] }],
        LambdaFunctionConfigurations: [
          {
            Id: 'reads',
            LambdaFunctionArn: 'arn:cairn:sqs:us-east-1:1:webhook',
            Events: ['s3:ObjectAccessed:Get' as Event],
          },
        ],
      },
      b,
    );
    const c = await getConfig(b);
    expect(c.QueueConfigurations).toEqual([
      {
        Id: 'csv-in',
        QueueArn: ARN,
        Events: ['s3:ObjectCreated:*'],
        Filter: {
          Key: {
            FilterRules: [
              { Name: 'prefix', Value: 'in/' },
              { Name: 'suffix', Value: '.csv' },
            ],
          },
        },
      },
    ]);
    expect(c.TopicConfigurations).toEqual([
      { Id: 'removed', TopicArn: 'arn:minio:sqs::1:webhook', Events: ['s3:ObjectRemoved:*'] },
    ]);
    expect(c.LambdaFunctionConfigurations).toEqual([
      {
        Id: 'reads',
        LambdaFunctionArn: 'arn:cairn:sqs:us-east-1:1:webhook',
        Events: ['s3:ObjectAccessed:Get' as Event],
      },
    ]);
  });

  it('gives a configuration without an Id a generated one', async () => {
    const b2 = 'notify-noid';
    await s3.send(new CreateBucketCommand({ Bucket: b2 }));
    await putConfig({ QueueConfigurations: [{ QueueArn: ARN, Events: ['s3:ObjectCreated:Put'] }] }, b2);
    const c = await getConfig(b2);
    expect(c.QueueConfigurations?.[0].Id).toMatch(/^[0-9a-f-]{36}$/);
  });

  describe('refused, and nothing stored', () => {
    let before: string;
    beforeAll(async () => {
      before = (await signedFetch(server.url, { method: 'GET', path: `/${b}`, query: { notification: '' } })).text;
      expect(before).toContain('csv-in');
    });
    const unchanged = async () => {
      const now = await signedFetch(server.url, { method: 'GET', path: `/${b}`, query: { notification: '' } });
      expect(now.text).toBe(before);
    };

    it.each([
      ['a target that is not configured', 'arn:cairn:sqs::2:webhook'],
      ['another type', 'arn:cairn:sqs::1:redis'],
      ['another region', 'arn:cairn:sqs:eu-west-1:1:webhook'],
      ['an AWS ARN', 'arn:aws:sqs:us-east-1:123456789012:queue'],
      ['no ARN', 'webhook'],
    ])('an ARN naming %s: InvalidArgument', async (_, arn) => {
      const e = await s3Error(
        putConfig({ QueueConfigurations: [{ QueueArn: arn, Events: ['s3:ObjectCreated:*'] }] }, b),
      );
      expect(e).toEqual({ name: 'InvalidArgument', status: 400 });
      const raw = await putRaw(
        `<NotificationConfiguration><QueueConfiguration><Queue>${arn}</Queue><Event>s3:ObjectCreated:*</Event></QueueConfiguration></NotificationConfiguration>`,
        b,
      );
      expect(raw.text).toContain('A specified destination ARN does not exist or is not well-formed');
      await unchanged();
    });

    it('overlapping prefixes and suffixes for a common event type: InvalidArgument (AWS)', async () => {
      const res = await putRaw(
        `<NotificationConfiguration>
          <QueueConfiguration><Id>a</Id><Queue>${ARN}</Queue><Event>s3:ObjectCreated:*</Event>
            <Filter><S3Key><FilterRule><Name>prefix</Name><Value>logs/</Value></FilterRule></S3Key></Filter>
          </QueueConfiguration>
          <QueueConfiguration><Id>b</Id><Queue>${ARN}</Queue><Event>s3:ObjectCreated:Put</Event>
            <Filter><S3Key><FilterRule><Name>prefix</Name><Value>logs/2024/</Value></FilterRule></S3Key></Filter>
          </QueueConfiguration>
        </NotificationConfiguration>`,
        b,
      );
      expect(res.status).toBe(400);
      expect(res.text).toContain('<Code>InvalidArgument</Code>');
      expect(res.text).toContain('Configuration is ambiguously defined');
      await unchanged();
    });

    it('distinct prefixes, or distinct event types, do not overlap', async () => {
      const b3 = 'notify-disjoint';
      await s3.send(new CreateBucketCommand({ Bucket: b3 }));
      await putConfig(
        {
          QueueConfigurations: [
            { Id: 'a', QueueArn: ARN, Events: ['s3:ObjectCreated:*'], Filter: prefix('a/') },
            { Id: 'b', QueueArn: ARN, Events: ['s3:ObjectCreated:*'], Filter: prefix('b/') },
            { Id: 'c', QueueArn: ARN, Events: ['s3:ObjectRemoved:*'], Filter: prefix('a/') },
          ],
        },
        b3,
      );
      expect((await getConfig(b3)).QueueConfigurations?.map((q) => q.Id)).toEqual(['a', 'b', 'c']);
    });

    it.each([
      ['not XML', 'this is not xml'],
      ['another root', '<CORSConfiguration></CORSConfiguration>'],
      [
        'a configuration without its ARN',
        '<NotificationConfiguration><QueueConfiguration><Event>s3:ObjectCreated:*</Event></QueueConfiguration></NotificationConfiguration>',
      ],
      [
        'a configuration without events',
        `<NotificationConfiguration><QueueConfiguration><Queue>${ARN}</Queue></QueueConfiguration></NotificationConfiguration>`,
      ],
    ])('%s: MalformedXML', async (_, xml) => {
      const res = await putRaw(xml, b);
      expect(res.status).toBe(400);
      expect(res.text).toContain('<Code>MalformedXML</Code>');
      await unchanged();
    });

    it.each([
      ['an unknown event type', `<Event>s3:ObjectCreated:Teleport</Event>`, 'A specified event is not supported'],
      [
        'a filter rule that is neither prefix nor suffix',
        `<Event>s3:ObjectCreated:*</Event><Filter><S3Key><FilterRule><Name>infix</Name><Value>x</Value></FilterRule></S3Key></Filter>`,
        'filter rule name must be either prefix or suffix',
      ],
      [
        'two prefix rules',
        `<Event>s3:ObjectCreated:*</Event><Filter><S3Key><FilterRule><Name>prefix</Name><Value>x</Value></FilterRule><FilterRule><Name>prefix</Name><Value>y</Value></FilterRule></S3Key></Filter>`,
        'Cannot specify more than one prefix rule in a filter.',
      ],
    ])('%s: InvalidArgument', async (_, inner, message) => {
      const res = await putRaw(
        `<NotificationConfiguration><QueueConfiguration><Queue>${ARN}</Queue>${inner}</QueueConfiguration></NotificationConfiguration>`,
        b,
      );
      expect(res.status).toBe(400);
      expect(res.text).toContain('<Code>InvalidArgument</Code>');
      expect(res.text).toContain(message);
      await unchanged();
    });

    it('a bucket that does not exist: NoSuchBucket', async () => {
      const e = await s3Error(
        putConfig({ QueueConfigurations: [{ QueueArn: ARN, Events: ['s3:ObjectCreated:*'] }] }, 'nobucket'),
      );
      expect(e.name).toBe('NoSuchBucket');
      expect((await s3Error(getConfig('nobucket'))).name).toBe('NoSuchBucket');
    });
  });

  it('an empty configuration turns notifications off', async () => {
    const b4 = 'notify-off';
    await s3.send(new CreateBucketCommand({ Bucket: b4 }));
    await putConfig({ QueueConfigurations: [{ QueueArn: ARN, Events: ['s3:ObjectCreated:*'] }] }, b4);
    await putConfig({}, b4);
    expect((await getConfig(b4)).QueueConfigurations ?? []).toEqual([]);
  });

  it('another user without a grant is refused (s3:PutBucketNotification, s3:GetBucketNotification)', async () => {
    const alt = server.client({ credentials: ALT });
    const put = alt.send(new PutBucketNotificationConfigurationCommand({ Bucket: b, NotificationConfiguration: {} }));
    expect((await s3Error(put)).name).toBe('AccessDenied');
    expect((await s3Error(alt.send(new GetBucketNotificationConfigurationCommand({ Bucket: b })))).name).toBe(
      'AccessDenied',
    );
    expect((await getConfig(b)).QueueConfigurations?.[0].Id).toBe('csv-in');
  });
});

function prefix(p: string) {
  return { Key: { FilterRules: [{ Name: 'prefix' as const, Value: p }] } };
}

describe('events delivered to a webhook', () => {
  beforeAll(async () => {
    await putConfig({
      QueueConfigurations: [
        {
          Id: 'all',
          QueueArn: ARN,
          Events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*', 's3:ObjectAccessed:*' as Event],
        },
      ],
    });
  });

  it('every kind of operation, in order per key, with the record fields clients read and no secret', async () => {
    const from = hook.deliveries.length;
    const key = 'dir/red flower+1.txt';
    const put = await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'hello', ContentType: 'text/plain' }),
    );
    await s3.send(
      new CopyObjectCommand({ Bucket: bucket, Key: 'copy.txt', CopySource: `${bucket}/dir/red%20flower%2B1.txt` }),
    );
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp.bin' }));
    const part = await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key: 'mp.bin', UploadId: up.UploadId, PartNumber: 1, Body: 'part' }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'mp.bin',
        UploadId: up.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString();
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'copy.txt' }));
    await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'mp.bin' }, { Key: 'never-was' }] } }),
    );
    await hook.received(from + 8);
    // S3 answers a delete of a key that is not there as done, and so does its event.
    expectDelivered(from, [
      `ObjectCreated:Put ${bucket}/${key}`,
      `ObjectCreated:Copy ${bucket}/copy.txt`,
      `ObjectCreated:CompleteMultipartUpload ${bucket}/mp.bin`,
      `ObjectAccessed:Get ${bucket}/${key}`,
      `ObjectAccessed:Head ${bucket}/${key}`,
      `ObjectRemoved:Delete ${bucket}/copy.txt`,
      `ObjectRemoved:Delete ${bucket}/mp.bin`,
      `ObjectRemoved:Delete ${bucket}/never-was`,
    ]);

    const first = hook.deliveries.slice(from).find((d) => d.body.Key === `${bucket}/${key}`)!;
    expect(first.body.EventName).toBe('s3:ObjectCreated:Put');
    expect(first.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(first.headers['content-type']).toBe('application/json');
    const r = first.body.Records[0];
    expect(r).toMatchObject({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'us-east-1',
      eventName: 'ObjectCreated:Put',
      userIdentity: { principalId: ROOT.accessKey },
      requestParameters: { sourceIPAddress: '127.0.0.1' },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'all',
        bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}`, ownerIdentity: { principalId: ROOT.accessKey } },
        object: {
          key: 'dir/red+flower%2B1.txt',
          size: 5,
          eTag: put.ETag?.replace(/"/g, ''),
          contentType: 'text/plain',
        },
      },
    });
    expect(r.responseElements['x-amz-request-id']).toMatch(/\S/);
    expect(new Date(r.eventTime).toISOString()).toBe(r.eventTime);
    expect(r.s3.object.sequencer).toMatch(/^[0-9A-F]{16}$/);
    expect(decodeURIComponent(r.s3.object.key.replace(/\+/g, ' '))).toBe(key);
    // Removal records carry no size or ETag.
    const removed = hook.deliveries
      .slice(from)
      .find((d) => d.body.Key === `${bucket}/copy.txt` && d.body.EventName === 's3:ObjectRemoved:Delete')!.body
      .Records[0].s3.object;
    expect(removed.size).toBeUndefined();
    expect(removed.eTag).toBeUndefined();
    // Sequencers of one key only grow.
    const seqs = hook.deliveries
      .slice(from)
      .filter((d) => d.body.Key === `${bucket}/${key}`)
      .map((d) => d.body.Records[0].s3.object.sequencer as string);
    expect(seqs).toEqual([...seqs].sort());
    expect(new Set(seqs).size).toBe(seqs.length);
    // Never a credential: the secret key, the signature or the Authorization header.
    for (const d of hook.deliveries.slice(from)) {
      expect(d.text).not.toContain(ROOT.secretKey);
      expect(d.text).not.toContain('Signature');
      expect(d.text).not.toContain('AWS4-HMAC-SHA256');
    }
  });

  it('versioned bucket: a delete adds a marker (DeleteMarkerCreated), deleting a version is Delete', async () => {
    const vb = 'events-versioned';
    await s3.send(new CreateBucketCommand({ Bucket: vb }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: vb, VersioningConfiguration: { Status: 'Enabled' } }));
    await putConfig(
      { QueueConfigurations: [{ Id: 'v', QueueArn: ARN, Events: ['s3:ObjectCreated:Put', 's3:ObjectRemoved:*'] }] },
      vb,
    );
    const from = hook.deliveries.length;
    const put = await s3.send(new PutObjectCommand({ Bucket: vb, Key: 'k', Body: 'v1' }));
    const marker = await s3.send(new DeleteObjectCommand({ Bucket: vb, Key: 'k' }));
    await s3.send(new DeleteObjectCommand({ Bucket: vb, Key: 'k', VersionId: put.VersionId }));
    await hook.received(from + 3);
    expect(delivered(from)).toEqual([
      `ObjectCreated:Put ${vb}/k`,
      `ObjectRemoved:DeleteMarkerCreated ${vb}/k`,
      `ObjectRemoved:Delete ${vb}/k`,
    ]);
    const versions = hook.deliveries.slice(from).map((d) => d.body.Records[0].s3.object.versionId);
    expect(versions).toEqual([put.VersionId, marker.VersionId, put.VersionId]);
  });

  it('prefix and suffix filters: only matching keys, only the wanted event types', async () => {
    const fb = 'events-filtered';
    await s3.send(new CreateBucketCommand({ Bucket: fb }));
    await putConfig(
      {
        QueueConfigurations: [
          {
            Id: 'csv',
            QueueArn: ARN,
            Events: ['s3:ObjectCreated:Put'],
            Filter: {
              Key: {
                FilterRules: [
                  { Name: 'prefix', Value: 'in/' },
                  { Name: 'suffix', Value: '.csv' },
                ],
              },
            },
          },
        ],
      },
      fb,
    );
    const from = hook.deliveries.length;
    for (const key of ['in/a.csv', 'in/a.txt', 'out/a.csv', 'in.csv', 'in/sub/b.csv'])
      await s3.send(new PutObjectCommand({ Bucket: fb, Key: key, Body: 'x' }));
    await s3.send(new GetObjectCommand({ Bucket: fb, Key: 'in/a.csv' }));
    await s3.send(new DeleteObjectCommand({ Bucket: fb, Key: 'in/a.csv' }));
    await s3.send(new PutObjectCommand({ Bucket: fb, Key: 'in/z.csv', Body: 'x' }));
    // Every event queued has been delivered once the queue is empty.
    await server.notifyIdle();
    expectDelivered(from, [
      `ObjectCreated:Put ${fb}/in/a.csv`,
      `ObjectCreated:Put ${fb}/in/sub/b.csv`,
      `ObjectCreated:Put ${fb}/in/z.csv`,
    ]);
  });

  it('target down for a while, then back: every event delivered, exactly once', async () => {
    const db = 'events-down';
    await s3.send(new CreateBucketCommand({ Bucket: db }));
    await putConfig({ QueueConfigurations: [{ Id: 'd', QueueArn: ARN, Events: ['s3:ObjectCreated:*'] }] }, db);
    const statusBefore = server.notifyStatus()[0];
    expect(statusBefore.queued).toBe(0);
    const from = hook.deliveries.length;
    await hook.stop();
    const keys = Array.from({ length: 25 }, (_, i) => `obj-${String(i).padStart(2, '0')}`);
    for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: db, Key: key, Body: key }));
    // Queued on disk before each answer; none can have been delivered.
    expect(server.notifyStatus()[0].queued).toBe(keys.length);
    await hook.start();
    await hook.received(from + keys.length);
    expectDelivered(
      from,
      keys.map((k) => `ObjectCreated:Put ${db}/${k}`),
    );
    await server.notifyIdle();
    const after = server.notifyStatus()[0];
    expect(after.queued).toBe(0);
    expect(after.delivered - statusBefore.delivered).toBe(keys.length);
    expect(after.failedAttempts).toBeGreaterThan(statusBefore.failedAttempts);
  });

  it('answers other than 2xx and connections cut unanswered are failures: sent again until taken, in order per key', async () => {
    const rb = 'events-refused';
    await s3.send(new CreateBucketCommand({ Bucket: rb }));
    await putConfig({ QueueConfigurations: [{ Id: 'r', QueueArn: ARN, Events: ['s3:ObjectCreated:*'] }] }, rb);
    const statusBefore = server.notifyStatus()[0];
    const from = hook.deliveries.length;
    // The first six requests are answered 503, 500, 404 or 302 (a redirect is not followed), or cut unanswered.
    const refusals: (number | 'cut')[] = [503, 'cut', 500, 404, 'cut', 302];
    hook.answerWith = () => refusals.shift() ?? 200;
    const puts = ['k1', 'k2', 'k1', 'k3', 'k2', 'k1'];
    try {
      for (const [i, key] of puts.entries())
        await s3.send(new PutObjectCommand({ Bucket: rb, Key: key, Body: 'x'.repeat(i + 1) }));
      await server.notifyIdle();
    } finally {
      hook.answerWith = undefined;
    }
    const got = hook.deliveries.slice(from);
    expect(got).toHaveLength(puts.length + 6);
    expect(got.filter((d) => d.answer !== 200)).toHaveLength(6);
    // Each event taken exactly once, each key's in the order written (the sizes tell them apart).
    const taken = got.filter((d) => d.answer === 200);
    for (const key of new Set(puts))
      expect(taken.filter((d) => d.body.Key === `${rb}/${key}`).map((d) => d.body.Records[0].s3.object.size)).toEqual(
        puts.flatMap((k, i) => (k === key ? [i + 1] : [])),
      );
    const after = server.notifyStatus()[0];
    expect(after.delivered - statusBefore.delivered).toBe(puts.length);
    expect(after.failedAttempts - statusBefore.failedAttempts).toBe(6);
    expect(after.queued).toBe(0);
  });
});
