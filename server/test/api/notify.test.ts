// Notification pieces without a server: target settings from the environment (MinIO's names with CAIRN_),
// rule matching, and the on-disk queue reopened after a stop.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTarget } from '../../src/api/notify/target.js';
import { notifyTargetsFromEnv } from '../../src/api/notify/targets.js';
import { parseNotification, ruleMatches } from '../../src/api/notify/config.js';
import { encodeEventKey, Sequencer } from '../../src/api/notify/event.js';
import { EventQueue } from '../../src/api/notify/queue.js';
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

describe('EventQueue', () => {
  it('keeps its events across a reopen, continues the sequence, and drops a half-written file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cairn-queue-'));
    try {
      const q = await EventQueue.open(dir, 10);
      await q.push('one');
      await q.push('two');
      await writeFile(join(dir, '0000000000000003.event.tmp'), 'cut short');
      const again = await EventQueue.open(dir, 10);
      expect(again.length).toBe(2);
      expect(await readdir(dir)).toEqual(['0000000000000001.event', '0000000000000002.event']);
      const signal = new AbortController().signal;
      expect(await again.read((await again.take(signal))!)).toBe('one');
      await again.remove(1);
      await again.push('three');
      expect(await again.read((await again.take(signal))!)).toBe('two');
      await again.remove(2);
      expect(await again.read((await again.take(signal))!)).toBe('three');
      expect(await readdir(dir)).toEqual(['0000000000000003.event']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('on several drives: each event on every one, nothing lost when one is wiped or gone', async () => {
    const base = await mkdtemp(join(tmpdir(), 'cairn-queue-'));
    const dirs = ['d1', 'd2', 'd3'].map((d) => join(base, d, 'q'));
    const files = async (dir: string) => (await readdir(dir)).filter((f) => f.endsWith('.event'));
    try {
      const q = await EventQueue.open(dirs, 10);
      for (const e of ['a', 'b', 'c', 'd']) await q.push(e);
      const signal = new AbortController().signal;
      await q.remove((await q.take(signal))!); // 'a' delivered
      for (const dir of dirs) expect(await files(dir)).toHaveLength(3);
      // The first drive wiped (replaced by an empty one): reopened, the others give every event, in order, and
      // the wiped drive gets its copies back.
      await rm(join(base, 'd1'), { recursive: true });
      const again = await EventQueue.open(dirs, 10);
      expect(again.length).toBe(3);
      expect(await files(dirs[0])).toEqual(await files(dirs[1]));
      // Now the second drive is gone for good (a file where its folder was: nothing can be made there).
      await rm(join(base, 'd2'), { recursive: true });
      await writeFile(join(base, 'd2'), 'not a drive');
      const third = await EventQueue.open(dirs, 10);
      expect(third.dirs).toEqual([dirs[0], dirs[2]]);
      const out: string[] = [];
      for (let i = 0; i < 3; i++) out.push(await third.read((await third.take(signal))!));
      expect(out).toEqual(['b', 'c', 'd']);
      // Two of three drives is still a majority: events are queued; a third drive lost and nothing is.
      await third.push('e');
      expect(await files(dirs[2])).toContain('0000000000000005.event');
      await rm(join(base, 'd3'), { recursive: true });
      await writeFile(join(base, 'd3'), 'not a drive');
      await expect(third.push('f')).rejects.toThrow();
      expect(third.length).toBe(4);
      expect(await files(dirs[0])).not.toContain('0000000000000006.event');
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });

  it('a drive wiped while the queue runs gets its folder back at the next push, with the events it lost', async () => {
    const base = await mkdtemp(join(tmpdir(), 'cairn-queue-'));
    const dirs = ['d1', 'd2', 'd3'].map((d) => join(base, d, 'sys', 'q'));
    const files = async (dir: string) => (await readdir(dir)).filter((f) => f.endsWith('.event')).sort();
    try {
      const q = await EventQueue.open(dirs, 10);
      for (const e of ['a', 'b', 'c']) await q.push(e);
      const signal = new AbortController().signal;
      await q.remove((await q.take(signal))!); // 'a' delivered
      // d1 wiped down to its root (the drive replaced by an empty one), the queue still open.
      await rm(join(base, 'd1', 'sys'), { recursive: true });
      await q.push('d');
      const all = ['0000000000000002.event', '0000000000000003.event', '0000000000000004.event'];
      for (const dir of dirs) expect(await files(dir)).toEqual(all);
      expect(await readFile(join(dirs[0], all[0]), 'utf8')).toBe('b');
      // Removals reach the folder made again; a later wipe is mended again.
      await q.remove((await q.take(signal))!);
      expect(await files(dirs[0])).toEqual(all.slice(1));
      await rm(join(base, 'd1', 'sys'), { recursive: true });
      await rm(join(base, 'd2', 'sys'), { recursive: true });
      await q.push('e'); // two of three folders gone: both made again, so the push is queued
      for (const dir of dirs) expect(await files(dir)).toEqual([...all.slice(1), '0000000000000005.event']);
      const out: string[] = [];
      for (let i = 0; i < 3; i++) out.push(await q.read((await q.take(signal))!));
      expect(out).toEqual(['c', 'd', 'e']);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });

  it('hands events out in order with take and removes them in any order; a reopen hands out exactly the rest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cairn-queue-'));
    try {
      const q = await EventQueue.open(dir, 10);
      for (const e of ['a', 'b', 'c', 'd']) await q.push(e);
      const signal = new AbortController().signal;
      const taken = [await q.take(signal), await q.take(signal), await q.take(signal)];
      expect(await Promise.all(taken.map((seq) => q.read(seq!)))).toEqual(['a', 'b', 'c']);
      // The second and third finish before the first.
      await q.remove(taken[2]!);
      await q.remove(taken[1]!);
      expect(q.length).toBe(2);
      expect(await q.read((await q.take(signal))!)).toBe('d');
      await q.push('e');
      expect(await q.read((await q.take(signal))!)).toBe('e');
      expect(await readdir(dir)).toEqual([
        '0000000000000001.event',
        '0000000000000004.event',
        '0000000000000005.event',
      ]);
      // A restart (nothing removed since) hands out the three left, oldest first, and continues the sequence.
      const again = await EventQueue.open(dir, 10);
      const left = [await again.take(signal), await again.take(signal), await again.take(signal)];
      expect(await Promise.all(left.map((seq) => again.read(seq!)))).toEqual(['a', 'd', 'e']);
      // A take waiting on an empty queue is woken by the next push.
      const stop = new AbortController();
      const waiting = again.take(stop.signal);
      await again.push('f');
      expect(await waiting).toBe(6);
      expect(await again.read(6)).toBe('f');
      const none = again.take(stop.signal);
      stop.abort();
      expect(await none).toBeUndefined();
      for (const seq of [...left, 6]) await again.remove(seq!);
      await again.empty();
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('pushes written concurrently are handed out in the order they were pushed; the limit counts writes under way', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cairn-queue-'));
    try {
      const q = await EventQueue.open(dir, 40);
      const data = Array.from({ length: 50 }, (_, i) => `event-${i}`);
      const pushed = await Promise.allSettled(data.map((d) => q.push(d)));
      expect(pushed.filter((p) => p.status === 'rejected')).toHaveLength(10);
      expect(q.dropped).toBe(10);
      const signal = new AbortController().signal;
      const out: string[] = [];
      for (let i = 0; i < 40; i++) out.push(await q.read((await q.take(signal))!));
      expect(out).toEqual(data.slice(0, 40));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads the events written in this run from memory (1024 of them), the others from their files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cairn-queue-'));
    try {
      const q = await EventQueue.open(dir, 2000);
      const n = 1100;
      for (let i = 1; i <= n; i++) await q.push(`event ${i}`);
      // Changed on disk behind the queue's back: the first is read as written, the last from its file.
      for (const seq of [1, n]) await writeFile(join(dir, `${seq.toString(16).padStart(16, '0')}.event`), 'disk');
      const signal = new AbortController().signal;
      const out: string[] = [];
      for (let i = 1; i <= n; i++) out.push(await q.read((await q.take(signal))!));
      expect(out.slice(0, 1024)).toEqual(Array.from({ length: 1024 }, (_, i) => `event ${i + 1}`));
      expect(out.slice(1024, -1)).toEqual(Array.from({ length: n - 1025 }, (_, i) => `event ${i + 1025}`));
      expect(out.at(-1)).toBe('disk');
      // Read once from memory: a second read of the same event goes to its file.
      expect(await q.read(1)).toBe('disk');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses events beyond its limit (SlowDown) and counts them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cairn-queue-'));
    try {
      const q = await EventQueue.open(dir, 2);
      await q.push('a');
      await q.push('b');
      await expect(q.push('c')).rejects.toMatchObject({ code: 'SlowDown' });
      expect(q.dropped).toBe(1);
      expect(q.length).toBe(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
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
    expect(n.listensTo('b')).toBe(true);
    expect(n.listensTo('c')).toBe(false);
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
});
