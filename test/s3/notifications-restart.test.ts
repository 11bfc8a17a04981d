// At-least-once across a crash: `cairn server` (a child process) queues events for a webhook that is down,
// is killed with SIGKILL, and started again over the same drives once the webhook is up: every event queued
// before the kill is delivered from the queue files on the drives, also when the first drive was wiped
// meanwhile (each event is on the first three drives); a drive wiped while the server runs gets its queue folder
// back at the next event, with the events it lost; an event the webhook took whose removal the crash cut short
// goes out again; a kill mid-delivery sends again only what was not acknowledged; a full queue drops the events
// beyond its limit and answers the requests.
import { spawnCairn } from '../helpers/cli.js';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateBucketCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeClient } from '../helpers/cairn.js';
import { queuedEventIds } from '../helpers/event-queue.js';
import { WebhookReceiver } from '../helpers/webhook.js';

const creds = { accessKey: 'notifyadmin', secretKey: 'notify-admin-secret-key' };
const hook = new WebhookReceiver();
let base: string;
let child: ChildProcess | undefined;

/** Starts `cairn server` on port 0 over base/d{1...4} (`env` added); resolves with its URL once it serves. */
async function startCairn(env: Record<string, string> = {}): Promise<string> {
  const proc = spawnCairn(['server', '--address', '127.0.0.1:0', join(base, 'd{1...4}')], {
    ...env,
    CAIRN_ROOT_USER: creds.accessKey,
    CAIRN_ROOT_PASSWORD: creds.secretKey,
    CAIRN_LOG_LEVEL: 'info',
    CAIRN_NOTIFY_WEBHOOK_ENABLE_1: 'on',
    CAIRN_NOTIFY_WEBHOOK_ENDPOINT_1: hook.url,
  });
  child = proc;
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`cairn server exited with ${code}: ${stderr}`)));
    createInterface({ input: proc.stdout! }).on('line', (text) => {
      try {
        const line = JSON.parse(text) as { url?: string };
        if (typeof line.url === 'string') resolve(line.url);
      } catch {
        // not a log line
      }
    });
  });
}

/** Makes bucket `b`, its ObjectCreated events for the webhook. */
async function notifiedBucket(s3: S3Client, b: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: b }));
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: b,
      NotificationConfiguration: {
        QueueConfigurations: [{ Id: 'c', QueueArn: 'arn:minio:sqs::1:webhook', Events: ['s3:ObjectCreated:*'] }],
      },
    }),
  );
}

/** The events queued for the webhook on drives `ds` and not delivered (their union; a folder per worker). */
async function queuedEvents(...ds: string[]): Promise<string[]> {
  return queuedEventIds(ds.map((d) => join(base, d, '.cairn.sys', 'notify', 'webhook-1')));
}

async function stopCairn(signal: NodeJS.Signals): Promise<void> {
  const proc = child;
  child = undefined;
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  proc.removeAllListeners('exit');
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill(signal);
  await exited;
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'cairn-notify-restart-'));
  await hook.start(); // for a port; it is stopped before the first event
});

afterAll(async () => {
  await stopCairn('SIGTERM');
  await hook.stop();
  await rm(base, { recursive: true, force: true });
});

it('events queued for a target that is down survive kill -9 and are delivered after the restart', async () => {
  await hook.stop();
  const url = await startCairn();
  const s3 = makeClient(url, { credentials: creds });
  await notifiedBucket(s3, 'crash');
  const keys = Array.from({ length: 12 }, (_, i) => `k${String(i).padStart(2, '0')}`);
  for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: 'crash', Key: key, Body: key }));
  s3.destroy();
  await stopCairn('SIGKILL');
  // Each answered PUT left its event in the queue folders on the first three drives (one folder per worker).
  for (const d of ['d1', 'd2', 'd3']) expect(await queuedEvents(d), d).toHaveLength(keys.length);
  expect(await queuedEvents('d4')).toHaveLength(0);

  await hook.start();
  await startCairn();
  await hook.received(keys.length);
  // Every event, once; in order within each worker's queue (the server runs one worker per core by default,
  // and which worker answered which PUT is the kernel's choice).
  expect(hook.deliveries.map((d) => d.body.Key).sort()).toEqual(keys.map((k) => `crash/${k}`));
  for (const d of hook.deliveries) {
    expect(d.body.Records[0].userIdentity.principalId).toBe(creds.accessKey);
    expect(d.text).not.toContain(creds.secretKey);
  }
  // Two server starts and a kill -9: on a busy 2-core machine that alone can take most of a minute.
}, 180_000);

it('events queued while the first drive is then wiped (replaced by an empty one) are all delivered', async () => {
  await stopCairn('SIGTERM');
  await hook.stop();
  const from = hook.deliveries.length;
  const url = await startCairn();
  const s3 = makeClient(url, { credentials: creds });
  await notifiedBucket(s3, 'wiped');
  const keys = Array.from({ length: 10 }, (_, i) => `w${String(i).padStart(2, '0')}`);
  for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: 'wiped', Key: key, Body: key }));
  s3.destroy();
  await stopCairn('SIGKILL');
  expect(await queuedEvents('d1')).toHaveLength(keys.length);
  await rm(join(base, 'd1'), { recursive: true });
  await mkdir(join(base, 'd1'));

  await hook.start();
  await startCairn();
  const wanted = () =>
    hook.deliveries
      .slice(from)
      .map((d) => d.body.Key)
      .filter((k) => k.startsWith('wiped/'))
      .sort();
  for (let i = 0; i < 1200 && wanted().length < keys.length; i++) await sleep(100);
  expect(wanted()).toEqual(keys.map((k) => `wiped/${k}`));
}, 240_000);

it('a drive wiped while the server runs gets its queue folder back at the next event, with the events it lost', async () => {
  await stopCairn('SIGTERM');
  await hook.stop();
  const from = hook.deliveries.length;
  // One worker: one queue folder per drive, so every PUT below goes through the same queue.
  const url = await startCairn({ CAIRN_WORKERS: '1' });
  const s3 = makeClient(url, { credentials: creds });
  await notifiedBucket(s3, 'live');
  const keys = Array.from({ length: 8 }, (_, i) => `l${String(i).padStart(2, '0')}`);
  const put = (key: string) => s3.send(new PutObjectCommand({ Bucket: 'live', Key: key, Body: key }));
  for (const key of keys.slice(0, 4)) await put(key);
  expect(await queuedEvents('d1')).toHaveLength(4);
  await rm(join(base, 'd1'), { recursive: true });
  await mkdir(join(base, 'd1'));
  for (const key of keys.slice(4)) await put(key);
  s3.destroy();
  // The next event made d1's folder again, and the 4 events it lost were copied back from d2 and d3.
  expect(await queuedEvents('d1')).toHaveLength(keys.length);
  expect(await queuedEvents('d1')).toEqual(await queuedEvents('d2'));

  await hook.start();
  const wanted = () =>
    hook.deliveries
      .slice(from)
      .map((d) => d.body.Key)
      .filter((k) => k.startsWith('live/'))
      .sort();
  for (let i = 0; i < 1200 && wanted().length < keys.length; i++) await sleep(100);
  expect(wanted()).toEqual(keys.map((k) => `live/${k}`));
  // Delivered events leave d1 too.
  for (let i = 0; i < 1200 && (await queuedEvents('d1')).length > 0; i++) await sleep(100);
  expect(await queuedEvents('d1')).toEqual([]);
}, 240_000);

it('an event the webhook took goes out again when the server is killed before removing it (at least once)', async () => {
  await stopCairn('SIGTERM');
  // Fresh drives: the test before left d1 without its format file (wiped while the server ran).
  await rm(base, { recursive: true, force: true });
  base = await mkdtemp(join(tmpdir(), 'cairn-notify-restart-'));
  const from = hook.deliveries.length;
  const url = await startCairn({ CAIRN_WORKERS: '1' });
  const proc = child!;
  const s3 = makeClient(url, { credentials: creds });
  await notifiedBucket(s3, 'taken');
  // The receiver stops the server (SIGSTOP) once it has the event and before answering, then answers: the
  // target has taken the event, and the server is killed before it can read the answer and remove the files.
  hook.beforeAnswer = async () => {
    hook.beforeAnswer = undefined;
    proc.kill('SIGSTOP');
    const state = async () => (await readFile(`/proc/${proc.pid}/stat`, 'utf8')).replace(/^.*\) /s, '')[0];
    for (let i = 0; i < 1200 && (await state()) !== 'T'; i++) await sleep(50);
  };
  // Not awaited first: the server may post the event before it has written the PUT's answer, then be stopped.
  const put = s3.send(new PutObjectCommand({ Bucket: 'taken', Key: 'once', Body: 'once' })).catch(() => {});
  const taken = () => hook.deliveries.slice(from).filter((d) => d.body.Key === 'taken/once').length;
  for (let i = 0; i < 1200 && (taken() < 1 || hook.inFlight > 0); i++) await sleep(100);
  expect(taken()).toBe(1);
  await stopCairn('SIGKILL');
  await put;
  s3.destroy();
  for (const d of ['d1', 'd2', 'd3']) expect(await queuedEvents(d), d).toHaveLength(1);

  await startCairn({ CAIRN_WORKERS: '1' });
  for (let i = 0; i < 1200 && taken() < 2; i++) await sleep(100);
  expect(taken()).toBe(2);
  // Delivered again, it leaves the queue.
  for (let i = 0; i < 1200 && (await queuedEvents('d1')).length > 0; i++) await sleep(100);
  for (const d of ['d1', 'd2', 'd3']) expect(await queuedEvents(d), d).toEqual([]);
}, 240_000);

it('killed with -9 mid-delivery: after the restart every event is delivered, and only those not acknowledged are sent again', async () => {
  await stopCairn('SIGTERM');
  await rm(base, { recursive: true, force: true });
  base = await mkdtemp(join(tmpdir(), 'cairn-notify-restart-'));
  const from = hook.deliveries.length;
  const url = await startCairn({ CAIRN_WORKERS: '1' });
  const s3 = makeClient(url, { credentials: creds });
  await notifiedBucket(s3, 'mid');
  // The receiver holds its answers until every PUT is answered, then takes an event every 20 ms per lane: the
  // kill finds deliveries under way and a queue behind them.
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  hook.beforeAnswer = async () => {
    await gate;
    await sleep(20);
  };
  // 80 keys written 3 times each (the n-th write n bytes long), 16 PUTs at a time: the events of one turn of the
  // server's event loop share a segment.
  const keys = Array.from({ length: 80 }, (_, i) => `m${String(i).padStart(2, '0')}`);
  const events = [1, 2, 3].flatMap((n) => keys.map((k) => `mid/${k}#${n}`));
  for (const n of [1, 2, 3])
    for (let i = 0; i < keys.length; i += 16)
      await Promise.all(
        keys.slice(i, i + 16).map((Key) => s3.send(new PutObjectCommand({ Bucket: 'mid', Key, Body: 'x'.repeat(n) }))),
      );
  s3.destroy();
  const got = (d: typeof hook.deliveries) =>
    d.filter((x) => x.body.Key.startsWith('mid/')).map((x) => `${x.body.Key}#${x.body.Records[0].s3.object.size}`);
  open();
  for (let i = 0; i < 1200 && got(hook.deliveries.slice(from)).length < 60; i++) await sleep(25);
  await stopCairn('SIGKILL');
  hook.beforeAnswer = undefined;
  for (let i = 0; i < 1200 && hook.inFlight > 0; i++) await sleep(25);
  expect(hook.inFlight).toBe(0);
  const before = got(hook.deliveries.slice(from));
  const left = await queuedEvents('d1', 'd2', 'd3');
  expect(before.length).toBeGreaterThanOrEqual(60);
  expect(left.length).toBeGreaterThan(0);
  expect(before.length + left.length).toBeGreaterThanOrEqual(events.length);

  const restartAt = hook.deliveries.length;
  await startCairn({ CAIRN_WORKERS: '1' });
  for (let i = 0; i < 1200 && new Set(got(hook.deliveries.slice(from))).size < events.length; i++) await sleep(100);
  expect([...new Set(got(hook.deliveries.slice(from)))].sort()).toEqual([...events].sort());
  for (let i = 0; i < 1200 && (await queuedEvents('d1')).length > 0; i++) await sleep(100);
  const after = got(hook.deliveries.slice(restartAt));
  // Exactly the events left unacknowledged went out again; those delivered twice were under way at the kill:
  // at most one per lane (the webhook's 8).
  expect(after.length).toBe(left.length);
  const twice = after.filter((k) => before.includes(k));
  expect(twice.length).toBeLessThanOrEqual(8);
  // Each key's events in the order written, before the kill and after the restart (a repeat starts again from
  // the event under way, never goes back further).
  for (const run of [before, after])
    for (const k of keys) {
      const sizes = run.filter((e) => e.startsWith(`mid/${k}#`)).map((e) => Number(e.split('#')[1]));
      expect(sizes, `${k}: ${sizes}`).toEqual([...sizes].sort());
    }
  for (const d of ['d1', 'd2', 'd3']) expect(await queuedEvents(d), d).toEqual([]);
}, 240_000);

it('a full queue: requests still succeed, the events beyond the limit are dropped, the queued ones survive kill -9', async () => {
  await stopCairn('SIGTERM');
  await hook.stop();
  await rm(base, { recursive: true, force: true });
  base = await mkdtemp(join(tmpdir(), 'cairn-notify-restart-'));
  const from = hook.deliveries.length;
  const limit = { CAIRN_WORKERS: '1', CAIRN_NOTIFY_WEBHOOK_QUEUE_LIMIT_1: '5' };
  const url = await startCairn(limit);
  const s3 = makeClient(url, { credentials: creds });
  await notifiedBucket(s3, 'full');
  const keys = Array.from({ length: 8 }, (_, i) => `f${i}`);
  // Every PUT is answered 200; only the first five events find room in the queue.
  for (const Key of keys) {
    const put = await s3.send(new PutObjectCommand({ Bucket: 'full', Key, Body: Key }));
    expect(put.$metadata.httpStatusCode).toBe(200);
  }
  s3.destroy();
  expect(await queuedEvents('d1', 'd2', 'd3')).toHaveLength(5);
  await stopCairn('SIGKILL');

  await hook.start();
  await startCairn(limit);
  await hook.received(from + 5);
  for (let i = 0; i < 1200 && (await queuedEvents('d1')).length > 0; i++) await sleep(100);
  await sleep(500); // nothing more comes
  // Keys go out over several lanes: in any order.
  expect(
    hook.deliveries
      .slice(from)
      .map((d) => d.body.Key)
      .sort(),
  ).toEqual(keys.slice(0, 5).map((k) => `full/${k}`));
}, 240_000);
