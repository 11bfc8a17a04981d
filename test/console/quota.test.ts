// A bucket's quota in the console's settings, in Debian's chromium headless: none shown with the bucket's usage;
// a quota set in MiB (read back with MinIO's admin call) shown with the usage against it, and a write over it
// refused; a negative size refused by the server and a non-number by the page, both changing nothing; cleared.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { adminCall } from '../../server/src/cli/admin-client.js';
import { ROOT, s3Error, startTestServer, type TestServer } from '../helpers/cairn.js';
import { consoleLogin, screenshot } from '../helpers/browser.js';

let server: TestServer;
let s3: S3Client;
let browser: Browser;
let page: Page;
let dialogs: string[] = [];
const MiB = 2 ** 20;

beforeAll(async () => {
  server = await startTestServer();
  s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket: 'capped' }));
  await s3.send(new PutObjectCommand({ Bucket: 'capped', Key: 'one', Body: Buffer.alloc(MiB, 1) }));
  ({ browser, page, dialogs } = await consoleLogin(server.url));
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Polls until the page or the server shows what is expected (the browser and server share two busy cores). */
const eventually = <T>(f: () => T | Promise<T>) => expect.poll(f, { timeout: 20_000 });
const quota = () => page.locator('[data-testid=quota]');
const status = () => quota().locator('[data-testid=quota-status]').textContent();
const stored = async () => {
  const target = { endpoint: server.url, region: 'us-east-1', ...ROOT };
  const q = (await adminCall(target, { method: 'GET', path: 'get-bucket-quota', query: { bucket: 'capped' } })) as {
    quota: number;
    size: number;
  };
  return q.size || q.quota;
};

describe('bucket quota in the console', () => {
  it('shows no quota and the usage; sets 2 MiB and shows the usage against it; a write over it is refused', async () => {
    await page.goto(`${server.url}/console/#/settings/capped`);
    await eventually(status).toBe('No quota: 1.0 MiB used');
    await quota().locator('input[name=quotaSize]').fill('2');
    await quota().locator('select[name=quotaUnit]').selectOption('MiB');
    await quota().locator('button[type=submit]').click();
    await eventually(stored).toBe(2 * MiB);
    await eventually(status).toBe('Hard quota 2.0 MiB: 1.0 MiB used (50.0%)');
    expect(await quota().locator('progress').getAttribute('value')).toBe(String(MiB));
    await screenshot(page, '34-quota');
    const over = s3.send(new PutObjectCommand({ Bucket: 'capped', Key: 'two', Body: Buffer.alloc(1.5 * MiB, 2) }));
    expect(await s3Error(over)).toEqual({ name: 'XMinioAdminBucketQuotaExceeded', status: 400 });
  });

  it('a negative size is refused by the server, a non-number by the page; nothing changes', async () => {
    await quota().locator('input[name=quotaSize]').fill('-1');
    await quota().locator('button[type=submit]').click();
    await eventually(() => quota().locator('[data-testid=error]').textContent()).toMatch(
      /^XMinioAdminInvalidArgument: /,
    );
    expect(await stored()).toBe(2 * MiB);
    await quota().locator('input[name=quotaSize]').fill('lots');
    await quota().locator('button[type=submit]').click();
    await eventually(() => quota().locator('[data-testid=error]').textContent()).toBe('Not a size: lots');
    expect(await stored()).toBe(2 * MiB);
    expect(dialogs).toEqual([]);
  });

  it('clears the quota', async () => {
    await quota().locator('button[name=clearQuota]').click();
    await eventually(stored).toBe(0);
    await eventually(status).toBe('No quota: 1.0 MiB used');
    expect(await quota().locator('button[name=clearQuota]').count()).toBe(0);
  });
});
