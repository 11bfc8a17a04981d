// Notification pieces without a server: target settings from the environment (MinIO's names with CAIRN_),
// rule matching, listeners (the on-disk queue: notify-queue.test.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTarget } from '../../src/api/notify/target.js';
import { notifyTargetsFromEnv } from '../../src/api/notify/targets.js';
import { type NotificationRule, parseNotification, ruleMatches } from '../../src/api/notify/config.js';
import { encodeEventKey, Sequencer } from '../../src/api/notify/event.js';
import { Notifier } from '../../src/api/notify/notifier.js';

describe('notification targets from the environment', () => {
  it('reads webhook and Redis targets by id, and the target `_` without one', () => {
    const targets = notifyTargetsFromEnv({
      CAIRN_NOTIFY_WEBHOOK_ENABLE_1: 'on',
      CAIRN_NOTIFY_WEBHOOK_ENDPOINT_1: 'http://127.0.0.1:8080/hook',
      CAIRN_NOTIFY_WEBHOOK_AUTH_TOKEN_1: 'secret-token',
      CAIRN_NOTIFY_WEBHOOK_QUEUE_DIR_1: '/var/q',
      CAIRN_NOTIFY_WEBHOOK_QUEUE_LIMIT_1: '50',
      CAIRN_NOTIFY_WEBHOOK_ENABLE_OFF: 'off',
      CAIRN_NOTIFY_WEBHOOK_ENDPOINT_OFF: 'http://x',
      CAIRN_NOTIFY_REDIS_ENABLE: 'on',
      CAIRN_NOTIFY_REDIS_ADDRESS: '127.0.0.1:6379',
      CAIRN_NOTIFY_REDIS_KEY: 'bucketevents',
      CAIRN_NOTIFY_REDIS_FORMAT: 'access',
      // Settings of a type that is not enabled do not matter.
      CAIRN_NOTIFY_NATS_ADDRESS_1: 'x',
      OTHER: 'ignored',
    });
    expect(targets).toEqual([
      {
        type: 'webhook',
        id: '1',
        queueDir: '/var/q',
        queueLimit: 50,
        settings: { endpoint: 'http://127.0.0.1:8080/hook', auth_token: 'secret-token' },
      },
      {
        type: 'redis',
        id: '_',
        queueDir: undefined,
        queueLimit: 100_000,
        settings: { address: '127.0.0.1:6379', key: 'bucketevents', format: 'access' },
      },
    ]);
  });

  it.each([
    [{ CAIRN_NOTIFY_WEBHOOK_ENABLE_1: 'on' }, /CAIRN_NOTIFY_WEBHOOK_ENDPOINT_1 must be set/],
    [{ CAIRN_NOTIFY_WEBHOOK_ENABLE_1: 'yes' }, /must be on or off/],
    [{ CAIRN_NOTIFY_WEBHOOK_ENDPOINTS_1: 'x' }, /unknown setting/],
    [{ CAIRN_NOTIFY_TELEGRAPH_ENABLE: 'on' }, /unknown notification target type/],
    [{ CAIRN_NOTIFY_NSQ_ENABLE_1: 'on' }, /nsq notification targets are not implemented/],
    [
      {
        CAIRN_NOTIFY_WEBHOOK_ENABLE_1: 'on',
        CAIRN_NOTIFY_WEBHOOK_ENDPOINT_1: 'http://x',
        CAIRN_NOTIFY_WEBHOOK_CLIENT_CERT_1: '/c',
      },
      /CLIENT_CERT_1 is not implemented/,
    ],
    [
      {
        CAIRN_NOTIFY_WEBHOOK_ENABLE_1: 'on',
        CAIRN_NOTIFY_WEBHOOK_ENDPOINT_1: 'http://x',
        CAIRN_NOTIFY_WEBHOOK_QUEUE_LIMIT_1: '0',
      },
      /QUEUE_LIMIT_1 must be a whole number/,
    ],
    [{ 'CAIRN_NOTIFY_WEBHOOK_ENABLE_../x': 'on' }, /a target id is/],
  ])('refuses %o', (env, message) => {
    expect(() => notifyTargetsFromEnv(env)).toThrow(message);
  });

  it('a webhook sends over CAIRN_NOTIFY_WEBHOOK_MAX_WORKERS_<ID> lanes (default 8, 1 to 500)', () => {
    const webhook = (workers?: string) =>
      makeTarget(
        notifyTargetsFromEnv({
          CAIRN_NOTIFY_WEBHOOK_ENABLE_1: 'on',
          CAIRN_NOTIFY_WEBHOOK_ENDPOINT_1: 'http://127.0.0.1:9/hook',
          ...(workers === undefined ? {} : { CAIRN_NOTIFY_WEBHOOK_MAX_WORKERS_1: workers }),
        })[0],
      );
    expect(webhook().lanes).toBe(8);
    expect(webhook('1').lanes).toBe(1);
    expect(webhook('500').lanes).toBe(500);
    for (const bad of ['0', '501', '2.5', 'many', '-1'])
      expect(() => webhook(bad)).toThrow(/CAIRN_NOTIFY_WEBHOOK_MAX_WORKERS_1 must be a whole number from 1 to 500/);
  });

  it('a webhook endpoint with a user or password is refused (they would not be sent): the token is the way', () => {
    const target = (endpoint: string) =>
      makeTarget(
        notifyTargetsFromEnv({ CAIRN_NOTIFY_WEBHOOK_ENABLE_1: 'on', CAIRN_NOTIFY_WEBHOOK_ENDPOINT_1: endpoint })[0],
      );
    for (const url of ['http://user:pass@127.0.0.1:9/hook', 'https://user@127.0.0.1:9/hook'])
      expect(() => target(url)).toThrow(/ENDPOINT_1 must not hold a user or password: use .*AUTH_TOKEN_1/);
    expect(() => target('http://127.0.0.1:9/hook?x=1')).not.toThrow();
  });
});

describe('rules', () => {
  const rules = parseNotification(
    `<NotificationConfiguration><QueueConfiguration><Id>r</Id><Queue>arn:cairn:sqs::1:webhook</Queue>
      <Event>s3:ObjectCreated:*</Event><Event>s3:ObjectRemoved:Delete</Event>
      <Filter><S3Key><FilterRule><Name>Prefix</Name><Value>a/</Value></FilterRule>
      <FilterRule><Name>suffix</Name><Value>.csv</Value></FilterRule></S3Key></Filter>
    </QueueConfiguration></NotificationConfiguration>`,
    { region: 'us-east-1', targetExists: (t) => t === '1:webhook' },
  );

  it('match on event type (wildcards by family), prefix and suffix', () => {
    const [r] = rules;
    expect(r).toMatchObject({ target: '1:webhook', prefix: 'a/', suffix: '.csv' });
    expect(ruleMatches(r, 's3:ObjectCreated:Put', 'a/x.csv')).toBe(true);
    expect(ruleMatches(r, 's3:ObjectCreated:CompleteMultipartUpload', 'a/.csv')).toBe(true);
    expect(ruleMatches(r, 's3:ObjectRemoved:Delete', 'a/x.csv')).toBe(true);
    expect(ruleMatches(r, 's3:ObjectRemoved:DeleteMarkerCreated', 'a/x.csv')).toBe(false);
    expect(ruleMatches(r, 's3:ObjectAccessed:Get', 'a/x.csv')).toBe(false);
    expect(ruleMatches(r, 's3:ObjectCreated:Put', 'b/x.csv')).toBe(false);
    expect(ruleMatches(r, 's3:ObjectCreated:Put', 'a/x.csv.bak')).toBe(false);
  });

  it('keys are form-URL-encoded in records, slashes kept, as AWS writes them', () => {
    expect(encodeEventKey('red flower.jpg')).toBe('red+flower.jpg');
    expect(encodeEventKey('a/b+c=d&é')).toBe('a/b%2Bc%3Dd%26%C3%A9');
    // A key holding the text %2F stays tellable from one holding a slash.
    expect(encodeEventKey('x%2Fy/z')).toBe('x%252Fy/z');
  });

  it('sequencers grow even when the clock stands still or goes back', () => {
    const s = new Sequencer();
    const seen = [s.next(1000), s.next(1000), s.next(999), s.next(2000)];
    expect([...seen].sort()).toEqual(seen);
    expect(new Set(seen).size).toBe(4);
  });
});

describe('listeners', () => {
  const log = { info: () => {}, warn: () => {}, error: () => {} };

  it('are refused on one of several workers (they would miss the events the others handle)', async () => {
    const alone = await Notifier.start({ targets: [], queueBases: [], log });
    const worker = await Notifier.start({ targets: [], queueBases: [], log, worker: 1 });
    expect(alone.canListen).toBe(true);
    expect(worker.canListen).toBe(false);
    await Promise.all([alone.close(), worker.close()]);
  });

  it('get the events of their bucket they ask for, until they stop; ended when the server stops', async () => {
    const n = await Notifier.start({ targets: [], queueBases: [], log, now: () => 0 });
    const heard: string[] = [];
    let ended = false;
    const stop = n.listen(
      { bucket: 'b', events: ['s3:ObjectRemoved:*'], prefix: 'p/', suffix: '' },
      (r) => heard.push(`${r.eventName} ${r.s3.object.key}`),
      () => (ended = true),
    );
    // Asked before a record's origin is made: a listener of the bucket, the event type, prefix and suffix.
    const removed = (key: string) => [{ name: 's3:ObjectRemoved:Delete' as const, key }];
    expect(n.wants([], 'b', removed('p/x'))).toBe(true);
    expect(n.wants([], 'b', [{ name: 's3:ObjectCreated:Put', key: 'p/x' }, ...removed('p/y')])).toBe(true);
    expect(n.wants([], 'c', removed('p/x'))).toBe(false);
    expect(n.wants([], 'b', removed('q/x'))).toBe(false);
    expect(n.wants([], 'b', [{ name: 's3:ObjectCreated:Put', key: 'p/x' }])).toBe(false);
    const origin = { bucket: 'b', region: 'r', requestId: 'id', principal: 'ak', owner: 'ak', sourceIp: '::1' };
    await n.publish([], origin, [
      { name: 's3:ObjectRemoved:Delete', key: 'p/a b' },
      { name: 's3:ObjectCreated:Put', key: 'p/c' },
      { name: 's3:ObjectRemoved:Delete', key: 'q/d' },
    ]);
    await n.publish([], { ...origin, bucket: 'c' }, [{ name: 's3:ObjectRemoved:Delete', key: 'p/e' }]);
    expect(heard).toEqual(['ObjectRemoved:Delete p/a b']);
    n.endListeners();
    expect(ended).toBe(true);
    stop();
    expect(n.listenerCount).toBe(0);
    await n.close();
  });

  it('a rule wants an event only when its target is configured here and it matches the event', async () => {
    const base = await mkdtemp(join(tmpdir(), 'cairn-notify-wants-'));
    const targets = notifyTargetsFromEnv({
      CAIRN_NOTIFY_WEBHOOK_ENABLE_1: 'on',
      CAIRN_NOTIFY_WEBHOOK_ENDPOINT_1: 'http://127.0.0.1:9/never-sent',
    });
    const n = await Notifier.start({ targets, queueBases: [base], log });
    try {
      const rule = (target: string, events: string[], prefix = ''): NotificationRule => ({
        ...{ kind: 'QueueConfiguration', id: 'r', arn: `arn:minio:sqs::${target}`, target, events },
        ...{ prefix, suffix: '' },
      });
      const done = [{ name: 's3:Replication:OperationCompletedReplication' as const, key: 'k/1' }];
      expect(n.wants([rule('1:webhook', ['s3:Replication:*'])], 'b', done)).toBe(true);
      expect(n.wants([rule('1:webhook', ['s3:ObjectCreated:*'])], 'b', done)).toBe(false);
      expect(n.wants([rule('1:webhook', ['s3:Replication:*'], 'other/')], 'b', done)).toBe(false);
      // A rule naming a target this server does not have (its configuration changed since) wants nothing.
      expect(n.wants([rule('2:webhook', ['s3:Replication:*'])], 'b', done)).toBe(false);
      expect(n.wants([rule('2:webhook', ['s3:Replication:*']), rule('1:webhook', ['s3:*'])], 'b', done)).toBe(true);
      expect(n.wants([], 'b', done)).toBe(false);
    } finally {
      await n.close();
      await rm(base, { recursive: true, force: true });
    }
  });
});
