// The bucket settings' lifecycle part in Debian's chromium headless: rules listed with what they do, IDs and
// prefixes that look like markup shown as text, a rule added and one removed (the others, with what the page does
// not show, go back unchanged: read back with the SDK), a bad value refused by the server and shown, nothing
// changed; the last rule removed deletes the configuration.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import {
  CreateBucketCommand,
  GetBucketLifecycleConfigurationCommand,
  PutBucketLifecycleConfigurationCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../helpers/cairn.js';
import { consoleLogin, screenshot } from '../helpers/browser.js';

let server: TestServer;
let s3: S3Client;
let browser: Browser;
let page: Page;
let dialogs: string[] = [];
const MARKUP_ID = '<img src=x onerror=alert(1)>';
const MARKUP_PREFIX = '<script>alert(2)</script>/';

beforeAll(async () => {
  server = await startTestServer();
  s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket: 'lc-rules' }));
  await s3.send(
    new PutBucketLifecycleConfigurationCommand({
      Bucket: 'lc-rules',
      LifecycleConfiguration: {
        Rules: [
          { ID: MARKUP_ID, Filter: { Prefix: MARKUP_PREFIX }, Status: 'Enabled', Expiration: { Days: 7 } },
          {
            ID: 'tagged',
            Filter: { And: { Prefix: 'logs/', Tags: [{ Key: 'kind', Value: 'debug' }] } },
            Status: 'Disabled',
            NoncurrentVersionExpiration: { NoncurrentDays: 5 },
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
});

/** Polls until the page shows what is expected (the browser and server share two busy cores). */
const eventually = <T>(f: () => T | Promise<T>) => expect.poll(f, { timeout: 20_000 });
const rules = async () =>
  (await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'lc-rules' }))).Rules?.map((r) => ({
    ID: r.ID,
    Filter: r.Filter,
    Status: r.Status,
    Expiration: r.Expiration,
    NoncurrentVersionExpiration: r.NoncurrentVersionExpiration,
    AbortIncompleteMultipartUpload: r.AbortIncompleteMultipartUpload,
  }));
const part = () => page.locator('[data-testid=lifecycle]');
const row = (text: string) => part().locator('tr', { hasText: text });

describe('lifecycle rules in the bucket settings', () => {
  it('lists the rules with what they do, markup shown as text', async () => {
    await page.goto(`${server.url}/console/#/settings/lc-rules`);
    await row('tagged').waitFor();
    const cells = await row(MARKUP_ID).locator('td').allTextContents();
    expect(cells.slice(0, 4)).toEqual([MARKUP_ID, MARKUP_PREFIX, 'expire current versions after 7 days', 'Enabled']);
    expect(await row('tagged').locator('td').allTextContents()).toEqual([
      'tagged',
      'logs/',
      'expire noncurrent versions after 5 days',
      'Disabled',
      'Remove',
    ]);
    expect(await part().locator('img, script').count()).toBe(0);
    expect(dialogs).toEqual([]);
    await screenshot(page, '30-lifecycle');
  });

  it('adds an expiry rule and removes another; the rest goes back unchanged', async () => {
    const before = await rules();
    await part().locator('input[name=lifecycleId]').fill('tmp-expiry');
    await part().locator('input[name=lifecyclePrefix]').fill('tmp/');
    await part().locator('input[name=lifecycleDays]').fill('3');
    await part().locator('button[type=submit]').click();
    await row('tmp-expiry').waitFor();
    const added = {
      ID: 'tmp-expiry',
      Filter: { Prefix: 'tmp/' },
      Status: 'Enabled',
      Expiration: { Days: 3 },
      NoncurrentVersionExpiration: undefined,
      AbortIncompleteMultipartUpload: undefined,
    };
    expect(await rules()).toEqual([...before!, added]);
    await row(MARKUP_ID).locator('button', { hasText: 'Remove' }).click();
    await eventually(() => row(MARKUP_ID).count()).toBe(0);
    // The tagged rule (And filter with a tag, a noncurrent action, disabled) is as it was.
    expect(await rules()).toEqual([before![1], added]);
  });

  it('shows the refusal of a bad value, and nothing changes', async () => {
    const before = await rules();
    await part().locator('input[name=lifecycleId]').fill('bad');
    await part().locator('input[name=lifecycleDays]').fill('0');
    await part().locator('button[type=submit]').click();
    await eventually(() => part().locator('[data-testid=error]').textContent()).toMatch(/InvalidArgument|MalformedXML/);
    expect(await rules()).toEqual(before);
  });

  it('removing the last rules deletes the configuration', async () => {
    for (const id of ['tagged', 'tmp-expiry']) {
      await row(id).locator('button', { hasText: 'Remove' }).click();
      await eventually(() => row(id).count()).toBe(0);
    }
    await expect(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'lc-rules' }))).rejects.toMatchObject({
      name: 'NoSuchLifecycleConfiguration',
    });
    await part().locator('text=No rules.').waitFor();
  });
});
