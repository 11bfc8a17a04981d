// The console's Trace page, in Debian's chromium headless: requests answered while it traces appear with their
// method, path, status and sizes, filtered by the server (a path prefix leaves another bucket's requests out;
// errors only leaves successes out); a bad threshold is refused by the page; Stop ends the trace.
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleLogin, screenshot } from '../helpers/browser.js';
import { startWithBucket, type TestSetup } from '../helpers/cairn.js';

let setup: TestSetup;
let s3: S3Client;
let browser: Browser;
let page: Page;
let dialogs: string[] = [];

beforeAll(async () => {
  setup = await startWithBucket('traced');
  s3 = setup.s3;
  await s3.send(new CreateBucketCommand({ Bucket: 'untraced' }));
  ({ browser, page, dialogs } = await consoleLogin(setup.server.url));
});
afterAll(async () => {
  await browser?.close();
  await setup?.server.close();
});

/** Polls until the page shows what is expected (the browser and the server share two busy cores). */
const eventually = <T>(f: () => T | Promise<T>) => expect.poll(f, { timeout: 30_000, interval: 250 });
const trace = () => page.locator('[data-testid=trace]');
const rows = () => trace().locator('[data-testid=trace-rows] tbody tr').allTextContents();
const statuses = async () =>
  (await trace().locator('[data-testid=trace-rows] tbody tr td:nth-child(4)').allTextContents()).map(Number);
const missing = (Key: string) =>
  s3.send(new HeadObjectCommand({ Bucket: 'traced', Key })).then(
    () => 'found',
    () => 'missing',
  );

/** Asks for `key` (missing) until the page shows it: the server has the page's trace subscriber by then. */
async function untilTraced(key: string) {
  await eventually(async () => {
    await missing(key);
    return (await rows()).some((r) => r.includes(`/traced/${key}`));
  }).toBe(true);
}

describe('trace in the console', () => {
  it("shows the requests under a path prefix as they are answered, leaving others' out", async () => {
    await page.locator('nav a[href="#/trace"]').click();
    await trace().locator('input[name=tracePath]').fill('/traced/');
    await trace().locator('button[type=submit]').click();
    await eventually(() => trace().locator('[data-testid=trace-state]').textContent()).toMatch(/^Tracing: /);
    await untilTraced('probe');
    await s3.send(new PutObjectCommand({ Bucket: 'untraced', Key: 'x', Body: 'elsewhere' }));
    await s3.send(new PutObjectCommand({ Bucket: 'traced', Key: 'k1', Body: 'seven b' }));
    await eventually(async () => (await rows()).find((r) => r.includes('PUT /traced/k1'))).toMatch(/200.*7 B/);
    expect((await rows()).some((r) => r.includes('/untraced/'))).toBe(false);
    expect((await rows()).find((r) => r.includes('HEAD /traced/probe'))).toContain('404');
    await screenshot(page, '37-trace');
  });

  it('errors only: successes are left out; Stop ends the trace', async () => {
    await trace().locator('input[name=traceErrors]').check();
    await trace().locator('input[name=tracePath]').fill('');
    await trace().locator('button[type=submit]').click();
    await untilTraced('probe-errors');
    await s3.send(new PutObjectCommand({ Bucket: 'traced', Key: 'k2', Body: 'fine' }));
    const failed = s3.send(new GetObjectCommand({ Bucket: 'traced', Key: 'none' }));
    await expect(failed).rejects.toThrow();
    await eventually(async () => (await rows()).some((r) => r.includes('GET /traced/none'))).toBe(true);
    expect((await statuses()).every((s) => s >= 400)).toBe(true);
    expect((await rows()).some((r) => r.includes('/traced/k2'))).toBe(false);
    await trace().locator('button[name=traceStop]').click();
    await eventually(() => trace().locator('[data-testid=trace-state]').textContent()).toMatch(/^Stopped: /);
    expect(await trace().locator('button[name=traceStop]').count()).toBe(0);
  });

  it('refuses a threshold that is not a number of milliseconds', async () => {
    await trace().locator('input[name=traceThreshold]').fill('soon');
    await trace().locator('button[type=submit]').click();
    await eventually(() => trace().locator('[data-testid=error]').textContent()).toBe(
      'Not a duration in milliseconds: soon',
    );
    expect(dialogs).toEqual([]);
  });
});
