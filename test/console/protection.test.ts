// The bucket settings' protections in Debian's chromium headless: a bucket created with object lock from the
// buckets page (versioning on, lock on: read back with the SDK); default encryption set to SSE-S3, SSE-KMS with a
// key id (markup in it shown as text) and removed; a default retention set, refused when bad (the server's error
// shown, nothing changed) and removed; a bucket without object lock says so and offers nothing to change.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import {
  CreateBucketCommand,
  GetBucketEncryptionCommand,
  GetBucketVersioningCommand,
  GetObjectLockConfigurationCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../helpers/cairn.js';
import { consoleLogin, screenshot } from '../helpers/browser.js';

let server: TestServer;
let s3: S3Client;
let browser: Browser;
let page: Page;
let dialogs: string[] = [];
const MARKUP_KEY = '<img src=x onerror=alert(1)>';

beforeAll(async () => {
  server = await startTestServer({ kms: { secretKey: `console-key:${randomBytes(32).toString('base64')}` } });
  s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket: 'plain' }));
  ({ browser, page, dialogs } = await consoleLogin(server.url));
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Polls until the page or the server shows what is expected (the browser and server share two busy cores). */
const eventually = <T>(f: () => T | Promise<T>) => expect.poll(f, { timeout: 20_000 });
const encryption = () => page.locator('[data-testid=encryption]');
const lock = () => page.locator('[data-testid=object-lock]');
const storedEncryption = (bucket: string) =>
  s3.send(new GetBucketEncryptionCommand({ Bucket: bucket })).then(
    (r) => r.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault,
    (e: { name: string }) => e.name,
  );
const storedLock = async (bucket: string) =>
  (await s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }))).ObjectLockConfiguration;

describe('bucket protections in the console', () => {
  it('creates a bucket with object lock from the buckets page', async () => {
    await page.goto(`${server.url}/console/#/`);
    await page.fill('input[name=bucket]', 'vault');
    await page.check('input[name=objectLock]');
    await page.click('form.inline button[type=submit]');
    await page.locator('[data-testid=buckets] tr', { hasText: 'vault' }).waitFor();
    expect(await storedLock('vault')).toEqual({ ObjectLockEnabled: 'Enabled' });
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: 'vault' }))).Status).toBe('Enabled');
    // The box is cleared for the next bucket: that one has no lock.
    expect(await page.isChecked('input[name=objectLock]')).toBe(false);
  });

  it('sets default encryption to SSE-S3, then SSE-KMS with a key id shown as text, then none', async () => {
    await page.goto(`${server.url}/console/#/settings/plain`);
    await eventually(() => encryption().locator('[data-testid=encryption-status]').textContent()).toBe('None');
    await encryption().locator('select[name=sseAlgorithm]').selectOption('AES256');
    await encryption().locator('button[type=submit]').click();
    await eventually(() => storedEncryption('plain')).toEqual({ SSEAlgorithm: 'AES256' });
    await eventually(() => encryption().locator('[data-testid=encryption-status]').textContent()).toBe(
      'SSE-S3 (AES256)',
    );

    await encryption().locator('select[name=sseAlgorithm]').selectOption('aws:kms');
    await encryption().locator('input[name=kmsKeyId]').fill(MARKUP_KEY);
    await encryption().locator('button[type=submit]').click();
    await eventually(() => storedEncryption('plain')).toEqual({ SSEAlgorithm: 'aws:kms', KMSMasterKeyID: MARKUP_KEY });
    await eventually(() => encryption().locator('[data-testid=encryption-status]').textContent()).toBe(
      `SSE-KMS (${MARKUP_KEY})`,
    );
    expect(await page.locator('[data-testid=encryption] img').count()).toBe(0);
    expect(dialogs).toEqual([]);
    await screenshot(page, '31-protections');

    await encryption().locator('select[name=sseAlgorithm]').selectOption('');
    await encryption().locator('button[type=submit]').click();
    await eventually(() => storedEncryption('plain')).toBe('ServerSideEncryptionConfigurationNotFoundError');
    await eventually(() => encryption().locator('[data-testid=encryption-status]').textContent()).toBe('None');
  });

  it('a bucket without object lock says so and offers no retention', async () => {
    await eventually(() => lock().locator('[data-testid=object-lock-status]').textContent()).toMatch(/^Off/);
    expect(await lock().locator('select[name=lockMode]').count()).toBe(0);
  });

  it('sets a default retention; a bad period is refused and changes nothing; removes it', async () => {
    await page.goto(`${server.url}/console/#/settings/vault`);
    await eventually(() => lock().locator('[data-testid=object-lock-status]').textContent()).toBe(
      'On, no default retention',
    );
    await lock().locator('select[name=lockMode]').selectOption('COMPLIANCE');
    await lock().locator('input[name=lockPeriod]').fill('3');
    await lock().locator('button[type=submit]').click();
    const threeDays = { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 3 } } };
    await eventually(() => storedLock('vault')).toEqual(threeDays);
    await eventually(() => lock().locator('[data-testid=object-lock-status]').textContent()).toBe(
      'On, new versions kept 3 days in COMPLIANCE mode',
    );

    await lock().locator('select[name=lockMode]').selectOption('GOVERNANCE');
    await lock().locator('input[name=lockPeriod]').fill('0');
    await lock().locator('select[name=lockUnit]').selectOption('Years');
    await lock().locator('button[type=submit]').click();
    await eventually(() => lock().locator('[data-testid=error]').textContent()).toMatch(/^InvalidRetentionPeriod: /);
    expect(await storedLock('vault')).toEqual(threeDays);

    await lock().locator('select[name=lockMode]').selectOption('');
    await lock().locator('button[type=submit]').click();
    await eventually(() => storedLock('vault')).toEqual({ ObjectLockEnabled: 'Enabled' });
    await eventually(() => lock().locator('[data-testid=object-lock-status]').textContent()).toBe(
      'On, no default retention',
    );
  });
});
