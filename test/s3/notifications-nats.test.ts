// Bucket notifications to a real NATS server (Debian's nats-server with JetStream, started here on a free loopback
// port, with a user and password): plain publishes reach a subscriber with MinIO's body; with JETSTREAM=on every
// event is stored in a stream before it leaves Cairn's queue (none stores it: it waits), including those written
// while the server was down (counts exact once it is back); a wrong password fails the sends without the
// password reaching a log line.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { connect, type JetStreamManager, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findProgram, NatsServer } from '../helpers/brokers.js';
import { ROOT, startWithBucket, type TestServer } from '../helpers/cairn.js';
import { issue, makeCa } from '../helpers/tls.js';
import { LogLines, notifyBucket, type EventBody, Received } from '../helpers/notify-bus.js';

const binary = findProgram('nats-server');
if (!binary) console.warn('notifications-nats: nats-server is not installed (bash scripts/install-nats.sh); skipped');

const USER = 'cairn';
const PASSWORD = 'nats-pass-9f3b';
const WRONG_PASSWORD = 'wrong-pass-51c7';

describe.skipIf(!binary)('notifications to NATS', () => {
  const nats = new NatsServer({ user: USER, pass: PASSWORD });
  const logs = new LogLines();
  let server: TestServer;
  let s3: S3Client;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const core = new Received<EventBody>();

  /** The test's own connection (made again after the server restarted, rather than waiting for a reconnect). */
  async function openTestConnection(): Promise<void> {
    nc = await connect({ servers: nats.address, user: USER, pass: PASSWORD });
    // JetStream's API answers slowly on a busy machine (the default waits 5 s).
    jsm = await nc.jetstreamManager({ timeout: 30_000 });
  }

  beforeAll(async () => {
    await nats.start();
    await openTestConnection();
    await jsm.streams.add({ name: 'CAIRN', subjects: ['cairn.stored'] });
    const sub = nc.subscribe('cairn.events');
    void (async () => {
      for await (const m of sub) core.push(JSON.parse(m.string()));
    })();
    await nc.flush();
    const target = (id: string, settings: Record<string, string>) => ({
      type: 'nats' as const,
      id,
      queueLimit: 1000,
      settings: { address: nats.address, username: USER, password: PASSWORD, ...settings },
    });
    ({ server, s3 } = await startWithBucket('nats-core', {
      logger: logs.logger(),
      notify: {
        targets: [
          target('core', { subject: 'cairn.events' }),
          target('js', { subject: 'cairn.stored', jetstream: 'on' }),
          target('nostream', { subject: 'cairn.late', jetstream: 'on' }),
          target('bad', { subject: 'cairn.never', password: WRONG_PASSWORD }),
        ],
        retry: { minMs: 20, maxMs: 200 },
      },
    }));
    await notifyBucket(s3, 'nats-core', 'arn:cairn:sqs::core:nats');
    await notifyBucket(s3, 'nats-js', 'arn:cairn:sqs::js:nats');
    await notifyBucket(s3, 'nats-nostream', 'arn:cairn:sqs::nostream:nats');
    await notifyBucket(s3, 'nats-bad', 'arn:cairn:sqs::bad:nats');
  });

  afterAll(async () => {
    await server?.close();
    await nc?.close().catch(() => {});
    await nats.close();
  });

  const status = (target: string) => server.notifyStatus().find((s) => s.target === target)!;
  const stored = async () => (await jsm.streams.info('CAIRN')).state.messages;
  const storedBody = async (seq: number): Promise<EventBody> =>
    JSON.parse(new TextDecoder().decode((await jsm.streams.getMessage('CAIRN', { seq })).data));

  it('PUT and DELETE arrive on the subject as MinIO bodies', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'nats-core', Key: 'a b.txt', Body: 'one' }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'nats-core', Key: 'a b.txt' }));
    await server.notifyIdle();
    const [put, del] = await core.first(2);
    expect(put).toMatchObject({
      EventName: 's3:ObjectCreated:Put',
      Key: 'nats-core/a b.txt',
      Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'nats-core' }, object: { key: 'a+b.txt' } } }],
    });
    expect(put.Records[0].s3.object.size).toBe(3);
    expect(del).toMatchObject({ EventName: 's3:ObjectRemoved:Delete', Key: 'nats-core/a b.txt' });
    expect(JSON.stringify([put, del])).not.toContain(ROOT.secretKey);
  });

  it('JETSTREAM=on: each event is stored in the stream before the send resolves', async () => {
    const before = await stored();
    await s3.send(new PutObjectCommand({ Bucket: 'nats-js', Key: 'k1', Body: 'x' }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'nats-js', Key: 'k1' }));
    await server.notifyIdle();
    expect(await stored()).toBe(before + 2);
    expect((await storedBody(before + 1)).EventName).toBe('s3:ObjectCreated:Put');
    expect((await storedBody(before + 2)).EventName).toBe('s3:ObjectRemoved:Delete');
  });

  it('JETSTREAM=on: an event no stream stores is not delivered, it waits in the queue until one does', async () => {
    const failed = logs.waitFor((l) => l.target === 'nostream:nats' && l.msg === 'notification target unreachable');
    await s3.send(new PutObjectCommand({ Bucket: 'nats-nostream', Key: 'waits', Body: 'x' }));
    await failed;
    expect(status('nostream:nats')).toMatchObject({ queued: 1, delivered: 0 });
    await jsm.streams.add({ name: 'LATE', subjects: ['cairn.late'] });
    await server.notifyIdle();
    expect(status('nostream:nats')).toMatchObject({ queued: 0, delivered: 1 });
    const body = JSON.parse(new TextDecoder().decode((await jsm.streams.getMessage('LATE', { seq: 1 })).data));
    expect(body.Key).toBe('nats-nostream/waits');
  });

  it('NATS down while objects are written, then back: every event stored once, in order', async () => {
    const before = await stored();
    const deliveredBefore = status('js:nats').delivered;
    await nc.close();
    await nats.stop();
    const keys = Array.from({ length: 20 }, (_, i) => `down-${String(i).padStart(2, '0')}`);
    for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: 'nats-js', Key: key, Body: key }));
    expect(status('js:nats').queued).toBe(keys.length);
    await nats.start();
    await server.notifyIdle();
    await openTestConnection();
    expect(await stored()).toBe(before + keys.length);
    const bodies = await Promise.all(keys.map((_, i) => storedBody(before + 1 + i)));
    expect(bodies.map((b) => b.Key)).toEqual(keys.map((k) => `nats-js/${k}`));
    expect(status('js:nats').delivered - deliveredBefore).toBe(keys.length);
    expect(status('js:nats').queued).toBe(0);
  });

  it('a wrong password fails the sends (the event stays queued) and never reaches the log', async () => {
    const failed = logs.waitFor((l) => l.target === 'bad:nats' && l.msg === 'notification target unreachable');
    await s3.send(new PutObjectCommand({ Bucket: 'nats-bad', Key: 'k', Body: 'x' }));
    const line = await failed;
    expect(String(line.err)).toMatch(/authorization/i);
    expect(status('bad:nats')).toMatchObject({ queued: 1, delivered: 0 });
    expect(logs.text()).not.toContain(WRONG_PASSWORD);
    expect(logs.text()).not.toContain(PASSWORD);
  });
});

describe.skipIf(!binary)('notifications to NATS over TLS', () => {
  let dir = '';
  let nats: NatsServer;
  const logs = new LogLines();
  let server: TestServer;
  let s3: S3Client;
  let nc: NatsConnection;
  const received = new Received<EventBody>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cairn-nats-tls-'));
    const ca = await makeCa(join(dir, 'ca'));
    // nats.js names the server localhost when it checks the certificate of 127.0.0.1.
    const leaf = await issue(ca, ['localhost', '127.0.0.1']);
    await writeFile(join(dir, 'server.crt'), leaf.cert);
    await writeFile(join(dir, 'server.key'), leaf.key);
    nats = new NatsServer(undefined, { certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key') });
    await nats.start();
    nc = await connect({ servers: nats.address, tls: { ca: ca.pem } });
    const sub = nc.subscribe('cairn.tls');
    void (async () => {
      for await (const m of sub) received.push(JSON.parse(m.string()));
    })();
    await nc.flush();
    const target = (id: string, settings: Record<string, string>) => ({
      type: 'nats' as const,
      id,
      queueLimit: 1000,
      settings: { address: nats.address, subject: 'cairn.tls', tls: 'on', ...settings },
    });
    ({ server, s3 } = await startWithBucket(undefined, {
      logger: logs.logger(),
      notify: {
        targets: [target('trusted', { cert_authority: ca.certPath }), target('untrusted', {})],
        retry: { minMs: 20, maxMs: 200 },
      },
    }));
    await notifyBucket(s3, 'nats-trusted', 'arn:cairn:sqs::trusted:nats');
    await notifyBucket(s3, 'nats-untrusted', 'arn:cairn:sqs::untrusted:nats');
  });

  afterAll(async () => {
    await server?.close();
    await nc?.close().catch(() => {});
    await nats?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const status = (target: string) => server.notifyStatus().find((s) => s.target === target)!;

  it('TLS=on with CERT_AUTHORITY: the server is verified against that CA and gets the events', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'nats-trusted', Key: 'secure', Body: 'x' }));
    await server.notifyIdle();
    const [put] = await received.first(1);
    expect(put).toMatchObject({ EventName: 's3:ObjectCreated:Put', Key: 'nats-trusted/secure' });
  });

  it('TLS=on without it: a server whose certificate the system does not trust gets nothing', async () => {
    const failed = logs.waitFor((l) => l.target === 'untrusted:nats' && l.msg === 'notification target unreachable');
    await s3.send(new PutObjectCommand({ Bucket: 'nats-untrusted', Key: 'k', Body: 'x' }));
    expect(String((await failed).err)).toMatch(/certificate/i);
    expect(status('untrusted:nats')).toMatchObject({ queued: 1, delivered: 0 });
  });
});
