// The bucket settings' event notifications in Debian's chromium headless: configurations listed (markup in an ID
// shown as text), one added for the server's webhook target with events and a key filter (read back with the SDK,
// and an upload it matches is delivered), an unknown ARN refused by the server and shown with nothing changed,
// one removed while the other goes back unchanged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import {
  GetBucketNotificationConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startWithBucket, type TestServer } from '../helpers/cairn.js';
import { consoleLogin, screenshot } from '../helpers/browser.js';
import { WebhookReceiver } from '../helpers/webhook.js';

const bucket = 'hooks';
const ARN = 'arn:minio:sqs::1:webhook';
const MARKUP_ID = '<img src=x onerror=alert(1)>';
const hook = new WebhookReceiver();
let server: TestServer;
let s3: S3Client;
let browser: Browser;
let page: Page;
let dialogs: string[] = [];

beforeAll(async () => {
  await hook.start();
  ({ server, s3 } = await startWithBucket(bucket, {
    notify: {
      targets: [{ type: 'webhook', id: '1', queueLimit: 100, settings: { endpoint: hook.url } }],
      retry: { minMs: 20, maxMs: 200 },
    },
  }));
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: bucket,
      NotificationConfiguration: {
        QueueConfigurations: [
          {
            Id: MARKUP_ID,
            QueueArn: ARN,
            Events: ['s3:ObjectRemoved:*'],
            Filter: { Key: { FilterRules: [{ Name: 'suffix', Value: '.log' }] } },
          },
        ],
      },
    }),
  );
  ({ browser, page, dialogs } = await consoleLogin(server.url));
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await hook.stop();
});

/** Polls until the page or the server shows what is expected (the browser and server share two busy cores). */
const eventually = <T>(f: () => T | Promise<T>) => expect.poll(f, { timeout: 20_000 });
const part = () => page.locator('[data-testid=notifications]');
const row = (text: string) => part().locator('tr', { hasText: text });
const stored = async () =>
  (await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }))).QueueConfigurations?.map((q) => ({
    Id: q.Id,
    QueueArn: q.QueueArn,
    Events: q.Events,
    Filter: q.Filter,
  }));

describe('event notifications in the bucket settings', () => {
  it('lists the configurations, markup shown as text', async () => {
    await page.goto(`${server.url}/console/#/settings/${bucket}`);
    await row(MARKUP_ID).waitFor();
    expect((await row(MARKUP_ID).locator('td').allTextContents()).slice(0, 4)).toEqual([
      MARKUP_ID,
      ARN,
      's3:ObjectRemoved:*',
      'suffix .log',
    ]);
    expect(await part().locator('img').count()).toBe(0);
    expect(dialogs).toEqual([]);
  });

  it('adds a configuration for the webhook: stored as sent, and an upload it matches is delivered', async () => {
    const before = await stored();
    await part().locator('input[name=notifyId]').fill('csv-in');
    await part().locator('input[name=notifyArn]').fill(ARN);
    await part().locator('input[name=notify-removed]').check();
    await part().locator('input[name=notifyPrefix]').fill('in/');
    await part().locator('input[name=notifySuffix]').fill('.csv');
    await part().locator('button[type=submit]').click();
    await row('csv-in').waitFor();
    expect(await stored()).toEqual([
      ...before!,
      {
        Id: 'csv-in',
        QueueArn: ARN,
        Events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'],
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
    await screenshot(page, '32-notifications');
    const from = hook.deliveries.length;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'out/skip.csv', Body: 'no' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'in/a.csv', Body: 'x,y\n' }));
    await eventually(() => hook.deliveries.slice(from).map((d) => d.body.Key)).toEqual([`${bucket}/in/a.csv`]);
  });

  it('shows the refusal of an ARN the server has no target for, and nothing changes', async () => {
    const before = await stored();
    await part().locator('input[name=notifyId]').fill('nowhere');
    await part().locator('input[name=notifyArn]').fill('arn:minio:sqs::9:webhook');
    await part().locator('input[name=notifyPrefix]').fill('other/');
    await part().locator('input[name=notifySuffix]').fill('');
    await part().locator('button[type=submit]').click();
    await eventually(() => part().locator('[data-testid=error]').textContent()).toMatch(/^InvalidArgument: /);
    expect(await stored()).toEqual(before);
    expect(await row('nowhere').count()).toBe(0);
  });

  it('removes one configuration; the other goes back unchanged; the last removed leaves none', async () => {
    const [first, added] = (await stored())!;
    await row('csv-in').locator('button', { hasText: 'Remove' }).click();
    await eventually(() => row('csv-in').count()).toBe(0);
    expect(await stored()).toEqual([first]);
    expect(added?.Id).toBe('csv-in');
    await row(MARKUP_ID).locator('button', { hasText: 'Remove' }).click();
    await part().locator('text=No notifications.').waitFor();
    expect(await stored()).toBeUndefined();
  });
});
