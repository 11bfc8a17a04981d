// The web console on its own address (`cairn server --console-address`), end to end in Debian's chromium
// headless: the root of that address leads to the console, logging in, creating a bucket and uploading work, every
// call the page makes stays on that origin (no CORS, no cookie), and what it did is there on the S3 address.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { GetObjectCommand, ListBucketsCommand } from '@aws-sdk/client-s3';
import { ROOT, startTestServer, type TestServer } from '../helpers/cairn.js';
import { launchChromium, screenshot } from '../helpers/browser.js';

let server: TestServer;
let browser: Browser;
let page: Page;
/** The origin of every request the page made. */
const origins = new Set<string>();

beforeAll(async () => {
  server = await startTestServer({ consoleAddress: '127.0.0.1:0' });
  browser = await launchChromium();
  page = await (await browser.newContext()).newPage();
  page.on('request', (r) => origins.add(new URL(r.url()).origin));
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Polls until the page shows what is expected (the browser and server share two busy cores). */
const eventually = <T>(f: () => T | Promise<T>) => expect.poll(f, { timeout: 20_000 });

describe('web console on --console-address', () => {
  it('opens at the root of its address, logs in, creates a bucket and uploads, all on that origin', async () => {
    const consoleOrigin = new URL(server.consoleUrl!).origin;
    expect(consoleOrigin).not.toBe(new URL(server.url).origin);
    await page.goto(`${consoleOrigin}/`);
    expect(page.url()).toBe(`${consoleOrigin}/console/`);
    await page.fill('input[name=accessKey]', ROOT.accessKey);
    await page.fill('input[name=secretKey]', ROOT.secretKey);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=who]');
    await page.fill('input[name=bucket]', 'via-console-port');
    await page.click('text=Create bucket');
    await page.click('[data-testid=buckets] >> text=via-console-port');
    await page.waitForSelector('text=Nothing here yet.');
    await page.setInputFiles('[data-testid=upload]', {
      name: 'hello.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('hello from the console port\n'),
    });
    await eventually(() => page.textContent('[data-testid=progress-text]')).toBe('100%');
    await page.locator('[data-testid=objects] tr', { hasText: 'hello.txt' }).waitFor();
    await screenshot(page, '20-console-address');

    // The S3 address sees what the page did.
    const s3 = server.client();
    const buckets = await s3.send(new ListBucketsCommand({}));
    expect(buckets.Buckets?.map((b) => b.Name)).toContain('via-console-port');
    const got = await s3.send(new GetObjectCommand({ Bucket: 'via-console-port', Key: 'hello.txt' }));
    expect(await got.Body!.transformToString()).toBe('hello from the console port\n');
    // Same origin throughout: the page never called the S3 address, and kept no cookie.
    expect([...origins]).toEqual([consoleOrigin]);
    expect(await page.evaluate('document.cookie')).toBe('');
  });
});
