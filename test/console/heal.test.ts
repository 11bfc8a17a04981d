// The console's Heal page, in Debian's chromium headless: an object whose copy on one drive was wiped is healed
// by a sequence started on its bucket and prefix through the page, which shows the progress's end, the counts
// and the object repaired; the copy is back on the drive, and a key outside the prefix is left alone. A missing
// bucket's error is shown; the background healing's counts and drives are shown; a user without admin rights
// has no Heal link and is refused both.
import { createHash } from 'node:crypto';
import { access, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectDir } from '../../server/src/storage/meta/key-path.js';
import { consoleLogin, screenshot } from '../helpers/browser.js';
import { ALT, startWithBucket, type TestSetup } from '../helpers/cairn.js';

const BUCKET = 'mend';
let setup: TestSetup;
let browser: Browser;
let page: Page;
let dialogs: string[] = [];
const bodies = new Map<string, Buffer>();
const onDrive = (d: number, key: string) => join(setup.server.drives[d], BUCKET, objectDir(key));
const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );
const digest = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  setup = await startWithBucket(BUCKET);
  for (const key of ['p/k0', 'p/k1', 'p/k2', 'p/k3', 'q/a']) {
    const body = Buffer.alloc(64 * 1024, key);
    bodies.set(key, body);
    await setup.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  }
  ({ browser, page, dialogs } = await consoleLogin(setup.server.url));
});
afterAll(async () => {
  await browser?.close();
  await setup?.server.close();
});

/** Polls until the page shows what is expected (the browser and the server share two busy cores). */
const eventually = <T>(f: () => T | Promise<T>) => expect.poll(f, { timeout: 30_000, interval: 200 });
const heal = () => page.locator('[data-testid=heal]');
const summary = () => heal().locator('[data-testid=heal-summary]').textContent();

async function startHeal(bucket: string, prefix: string) {
  await heal().locator('input[name=healBucket]').fill(bucket);
  await heal().locator('input[name=healPrefix]').fill(prefix);
  await heal().locator('button[type=submit]').click();
}

describe('heal in the console', () => {
  it('heals the copy a drive lost under the prefix and shows the counts and the object', async () => {
    await rm(onDrive(1, 'p/k2'), { recursive: true });
    await rm(onDrive(1, 'q/a'), { recursive: true });
    await page.locator('nav a[href="#/heal"]').click();
    await startHeal(BUCKET, 'p/');
    await eventually(summary).toBe('finished: 4 of 4 objects checked, 1 healed, 0 failed');
    expect(await heal().locator('[data-testid=heal-items] tbody tr').allTextContents()).toEqual([
      `${BUCKET}p/k2healed`,
    ]);
    expect(await heal().locator('progress').getAttribute('value')).toBe('4');
    await screenshot(page, '36-heal');
    expect(await exists(onDrive(1, 'p/k2'))).toBe(true);
    expect(await exists(onDrive(1, 'q/a'))).toBe(false); // outside the prefix
    const out = await setup.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'p/k2' }));
    expect(digest(await out.Body!.transformToByteArray())).toBe(digest(bodies.get('p/k2')!));
  });

  it("shows the background healing's counts and each drive's state", async () => {
    const bg = page.locator('[data-testid=background-heal]');
    await bg.locator('button[name=healRefresh]').click();
    await eventually(() => bg.locator('[data-testid=background-counts]').textContent()).toMatch(
      /^\d+ objects scanned in \d+ full cycles, \d+ healed, \d+ failed, \d+ queued$/,
    );
    expect(await bg.locator('[data-testid=background-drives] tbody tr').allTextContents()).toEqual(
      setup.server.drives.map((d) => `0-0${d}ok`),
    );
  });

  it("shows a missing bucket's error", async () => {
    await startHeal('no-such-bucket', '');
    await eventually(() => heal().locator('[data-testid=error]').textContent()).toMatch(/^NoSuchBucket: /);
    expect(await heal().locator('[data-testid=heal-status]').count()).toBe(0);
    expect(dialogs).toEqual([]);
  });

  it('a user without admin rights has no Heal link and is refused', async () => {
    const alt = await consoleLogin(setup.server.url, ALT);
    try {
      // The nav shows the admin pages once the probe has answered: wait for a link every user has first.
      await alt.page.waitForSelector('nav a[href="#/keys"]');
      expect(await alt.page.locator('nav a[href="#/heal"]').count()).toBe(0);
      await alt.page.goto(`${setup.server.url}/console/#/heal`);
      await alt.page.locator('[data-testid=heal] input[name=healBucket]').fill(BUCKET);
      await alt.page.locator('[data-testid=heal] button[type=submit]').click();
      await expect
        .poll(() => alt.page.locator('[data-testid=heal] [data-testid=error]').textContent(), { timeout: 30_000 })
        .toMatch(/^Access denied: /);
      await expect
        .poll(() => alt.page.locator('[data-testid=background-heal] [data-testid=error]').textContent(), {
          timeout: 30_000,
        })
        .toMatch(/^Access denied: /);
    } finally {
      await alt.browser.close();
    }
  });
});
