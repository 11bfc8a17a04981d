// The console's Heal and Trace links follow their own admin actions, in Debian's chromium headless: a user whose
// policy allows admin:Heal alone sees Heal (and its page answers) but neither Trace nor the Dashboard; a user
// allowed admin:ServerTrace alone sees Trace (and traces) but not Heal; each is refused the other page's calls.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCall, type AdminTarget } from '../../server/src/cli/admin-client.js';
import { consoleLogin, screenshot } from '../helpers/browser.js';
import { ROOT, startWithBucket, type TestSetup } from '../helpers/cairn.js';

let setup: TestSetup;
let root: AdminTarget;
const HEALER = { accessKey: 'healer', secretKey: 'healer-secret-1' };
const TRACER = { accessKey: 'tracer', secretKey: 'tracer-secret-1' };

/** A user whose one policy allows `action` alone. */
async function userAllowed(who: { accessKey: string; secretKey: string }, action: string) {
  await adminCall(root, {
    method: 'PUT',
    path: 'add-user',
    query: { accessKey: who.accessKey },
    body: { secretKey: who.secretKey, status: 'enabled' },
    encrypt: true,
  });
  const doc = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: [action], Resource: ['arn:aws:s3:::*'] }],
  };
  await adminCall(root, {
    method: 'PUT',
    path: 'add-canned-policy',
    query: { name: `${who.accessKey}-only` },
    body: doc,
  });
  await adminCall(root, {
    method: 'PUT',
    path: 'set-user-or-group-policy',
    query: { userOrGroup: who.accessKey, isGroup: 'false', policyName: `${who.accessKey}-only` },
  });
}

beforeAll(async () => {
  setup = await startWithBucket('navs');
  root = { endpoint: setup.server.url, region: 'us-east-1', ...ROOT };
  await userAllowed(HEALER, 'admin:Heal');
  await userAllowed(TRACER, 'admin:ServerTrace');
});
afterAll(async () => {
  await setup?.server.close();
});

/** The nav's admin links once every probe has answered. */
async function adminLinks(page: import('playwright-core').Page): Promise<string[]> {
  await page.waitForSelector('nav[data-probed=all]');
  return page
    .locator('nav a')
    .evaluateAll((as) =>
      as
        .map((a) => a.getAttribute('href') ?? '')
        .filter((h) => ['#/dashboard', '#/heal', '#/trace', '#/identity'].includes(h)),
    );
}
const poll = <T>(f: () => T | Promise<T>) => expect.poll(f, { timeout: 30_000, interval: 200 });

describe('admin links by their own actions', () => {
  it('admin:Heal alone: the Heal link and page, no Trace, no Dashboard', async () => {
    const { browser, page } = await consoleLogin(setup.server.url, HEALER);
    try {
      expect(await adminLinks(page)).toEqual(['#/heal']);
      await page.locator('nav a[href="#/heal"]').click();
      const bg = page.locator('[data-testid=background-heal]');
      await bg.locator('button[name=healRefresh]').click();
      await poll(() => bg.locator('[data-testid=background-counts]').textContent()).toMatch(/objects scanned/);
      await screenshot(page, '42-nav-heal-only');
      // The page the link is missing for is refused by the server all the same.
      await page.goto(`${setup.server.url}/console/#/trace`);
      await page.locator('[data-testid=trace] button[type=submit]').click();
      await poll(() => page.locator('[data-testid=trace] [data-testid=error]').textContent()).toMatch(
        /^Access denied: /,
      );
    } finally {
      await browser.close();
    }
  });

  it('admin:ServerTrace alone: the Trace link and page, no Heal, no Dashboard', async () => {
    const { browser, page } = await consoleLogin(setup.server.url, TRACER);
    try {
      expect(await adminLinks(page)).toEqual(['#/trace']);
      await page.locator('nav a[href="#/trace"]').click();
      const trace = page.locator('[data-testid=trace]');
      await trace.locator('input[name=tracePath]').fill('/navs/');
      await trace.locator('button[type=submit]').click();
      await poll(async () => {
        await setup.s3.send(new PutObjectCommand({ Bucket: 'navs', Key: 'seen', Body: 'x' }));
        return (await trace.locator('[data-testid=trace-rows] tbody tr').allTextContents()).some((r) =>
          r.includes('PUT /navs/seen'),
        );
      }).toBe(true);
      await page.goto(`${setup.server.url}/console/#/heal`);
      const bg = page.locator('[data-testid=background-heal]');
      await bg.locator('button[name=healRefresh]').click();
      await poll(() => bg.locator('[data-testid=error]').textContent()).toMatch(/^Access denied: /);
    } finally {
      await browser.close();
    }
  });

  it('root: every admin link', async () => {
    const { browser, page } = await consoleLogin(setup.server.url);
    try {
      expect(await adminLinks(page)).toEqual(['#/dashboard', '#/heal', '#/trace', '#/identity']);
    } finally {
      await browser.close();
    }
  });
});
