// An object's versions in the console's preview (Debian's chromium headless): listed newest first with their
// sizes, an older one removed (read back with the SDK); in a bucket with object lock, a version's retention and
// legal hold set from the page and shown, a past date refused with nothing changed, and a locked version's
// removal refused with the version kept. A bucket without object lock shows no lock controls.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import {
  CreateBucketCommand,
  GetObjectLegalHoldCommand,
  GetObjectRetentionCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../helpers/cairn.js';
import { consoleLogin, screenshot } from '../helpers/browser.js';

let server: TestServer;
let s3: S3Client;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  server = await startTestServer();
  s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket: 'kept' }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: 'kept', VersioningConfiguration: { Status: 'Enabled' } }));
  await s3.send(new PutObjectCommand({ Bucket: 'kept', Key: 'report.csv', Body: 'one' }));
  await s3.send(new PutObjectCommand({ Bucket: 'kept', Key: 'report.csv', Body: 'three!' }));
  await s3.send(new CreateBucketCommand({ Bucket: 'locked', ObjectLockEnabledForBucket: true }));
  await s3.send(new PutObjectCommand({ Bucket: 'locked', Key: 'deed.txt', Body: 'signed' }));
  ({ browser, page } = await consoleLogin(server.url));
});
afterAll(async () => {
  // The locked version stays locked: its legal hold is lifted and its GOVERNANCE retention is left to the
  // temporary drives, which go with the server.
  await s3
    ?.send(
      new PutObjectLegalHoldCommand({
        Bucket: 'locked',
        Key: 'deed.txt',
        LegalHold: { Status: 'OFF' },
        ChecksumAlgorithm: 'CRC32',
      }),
    )
    .catch(() => undefined);
  await browser?.close();
  await server?.close();
});

/** Polls until the page or the server shows what is expected (the browser and server share two busy cores). */
const eventually = <T>(f: () => T | Promise<T>) => expect.poll(f, { timeout: 20_000 });
const versions = () => page.locator('[data-testid=versions]');
const rows = () => versions().locator('tr');
const stored = async (bucket: string, key: string) =>
  ((await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }))).Versions ?? []).map((v) => ({
    id: v.VersionId,
    size: v.Size,
  }));
const open = async (bucket: string, key: string) => {
  await page.goto(`${server.url}/console/#/b/${bucket}/`);
  await page.click(`[data-testid=objects] >> text=${key}`);
  await versions().waitFor();
};
/** A date `days` from today, as the page's date input takes it. */
const day = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

describe('object versions and locks in the preview', () => {
  it('lists the versions newest first; an older one is removed', async () => {
    await open('kept', 'report.csv');
    await eventually(() => rows().count()).toBe(2);
    const cells = async (i: number) => (await rows().nth(i).locator('td').allTextContents()).slice(1, 3);
    expect(await cells(0)).toEqual(['6 B', 'latest']);
    expect(await cells(1)).toEqual(['3 B', '']);
    expect(await versions().locator('button', { hasText: 'Lock…' }).count()).toBe(0);
    const [newest, older] = await stored('kept', 'report.csv');
    expect(newest?.size).toBe(6);
    await rows().nth(1).locator('button', { hasText: 'Remove' }).click();
    await rows().nth(1).locator('button', { hasText: 'Really remove?' }).click();
    await eventually(() => rows().count()).toBe(1);
    expect(await stored('kept', 'report.csv')).toEqual([newest]);
    expect(older?.size).toBe(3);
  });

  it('sets a retention and a legal hold on a version; a past date is refused and changes nothing', async () => {
    await open('locked', 'deed.txt');
    await eventually(() => versions().locator('[data-testid=lock-state]').textContent()).toBe('not locked');
    const [only] = await stored('locked', 'deed.txt');
    await versions().locator('button', { hasText: 'Lock…' }).click();
    const form = versions().locator('[data-testid=lock-form]');
    await form.locator('select[name=retentionMode]').selectOption('GOVERNANCE');
    await form.locator('input[name=retainUntil]').fill(day(3));
    await form.locator('input[name=legalHold]').check();
    await form.locator('button[type=submit]').click();
    await eventually(() => versions().locator('[data-testid=lock-state]').textContent()).toMatch(
      /^GOVERNANCE until .+, legal hold$/,
    );
    const retention = async () =>
      (await s3.send(new GetObjectRetentionCommand({ Bucket: 'locked', Key: 'deed.txt', VersionId: only!.id })))
        .Retention;
    const set = await retention();
    expect(set?.Mode).toBe('GOVERNANCE');
    expect(set?.RetainUntilDate?.toISOString()).toBe(`${day(3)}T00:00:00.000Z`);
    expect(
      (await s3.send(new GetObjectLegalHoldCommand({ Bucket: 'locked', Key: 'deed.txt', VersionId: only!.id })))
        .LegalHold?.Status,
    ).toBe('ON');
    await screenshot(page, '33-versions-lock');

    await form.locator('input[name=retainUntil]').fill(day(-2));
    await form.locator('button[type=submit]').click();
    await eventually(() => versions().locator('[data-testid=error]').first().textContent()).toMatch(
      /^InvalidArgument: The retain until date must be in the future/,
    );
    expect(await retention()).toEqual(set);
  });

  it('a locked version cannot be removed: the refusal is shown and the version stays', async () => {
    const before = await stored('locked', 'deed.txt');
    await rows().first().locator('button', { hasText: 'Remove' }).click();
    await rows().first().locator('button', { hasText: 'Really remove?' }).click();
    await eventually(() => versions().locator('[data-testid=error]').first().textContent()).toMatch(
      /^Access denied: .*\(Object is under legal hold\.\)$/,
    );
    expect(await stored('locked', 'deed.txt')).toEqual(before);
  });
});
