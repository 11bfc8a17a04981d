// The console's dashboard charts, in Debian's chromium headless: they follow the server's realtime metrics
// (admin/v3/metrics), and the request and traffic counts the page shows move after PUTs and GETs sent beside it;
// the drives chart shows the four drives online; the capacity chart has a bar for all drives and one per drive,
// with the sizes the admin API's info gives. A user without admin:ServerInfo is refused the metrics.
import { createHash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCall, adminStream } from '../../server/src/cli/admin-client.js';
import { consoleLogin, screenshot } from '../helpers/browser.js';
import { ALT, ROOT, startWithBucket, type TestSetup } from '../helpers/cairn.js';

let setup: TestSetup;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  setup = await startWithBucket('charted');
  ({ browser, page } = await consoleLogin(setup.server.url));
});
afterAll(async () => {
  await browser?.close();
  await setup?.server.close();
});

/** Polls until the page shows what is expected (the browser and the server share two busy cores). */
const eventually = <T>(f: () => T | Promise<T>) => expect.poll(f, { timeout: 60_000, interval: 250 });
const shown = (id: string) => page.locator(`[data-testid=${id}]`).textContent();
const total = async (id: string) => Number((await shown(id)) ?? Number.NaN);
const digest = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('dashboard charts', () => {
  it('shows the request and traffic counts moving after PUTs and GETs', async () => {
    await page.locator('nav a[href="#/dashboard"]').click();
    await eventually(() => total('total-requests')).toBeGreaterThan(0);
    const before = await total('total-requests');
    const receivedBefore = await shown('total-received');
    const body = Buffer.alloc(64 * 1024, 9);
    for (let i = 0; i < 5; i++)
      await setup.s3.send(new PutObjectCommand({ Bucket: 'charted', Key: `o${i}`, Body: body }));
    for (let i = 0; i < 5; i++) {
      const got = await setup.s3.send(new GetObjectCommand({ Bucket: 'charted', Key: `o${i}` }));
      expect(digest(await got.Body!.transformToByteArray())).toBe(digest(body));
    }
    // The next samples (one every 2 s) carry the ten requests and their 320 KiB each way.
    await eventually(() => total('total-requests')).toBeGreaterThanOrEqual(before + 10);
    expect(await shown('total-received')).not.toBe(receivedBefore);
    // The rates drawn: some sample of the requests line is above the bottom of the chart.
    await eventually(async () => {
      const points = (await page.locator('[data-testid=chart-requests] polyline').first().getAttribute('points')) ?? '';
      return points.split(' ').some((p) => Number(p.split(',')[1]) < 80);
    }).toBe(true);
    await eventually(() => shown('chart-drives-online')).toBe('4');
    expect(await shown('chart-drives-offline')).toBe('0');
    await screenshot(page, '40-dashboard-charts');
  });

  it('draws the capacity used and free, all drives and each, with the admin info figures', async () => {
    await page.locator('nav a[href="#/dashboard"]').click();
    const bars = page.locator('[data-testid=capacity-bar]');
    await eventually(() => bars.count()).toBe(setup.server.drives.length + 1);
    type Drive = { path: string; state: string; usedspace: number; totalspace: number };
    const target = { endpoint: setup.server.url, region: 'us-east-1', ...ROOT };
    const info = (await adminCall(target, { method: 'GET', path: 'info' })) as { servers: { drives: Drive[] }[] };
    const drives = info.servers[0].drives;
    expect(drives.map((d) => d.path)).toEqual(setup.server.drives);
    const figures = page.locator('[data-testid=capacity-figures]');
    const expected = [
      {
        name: 'all drives',
        used: drives.reduce((a, d) => a + d.usedspace, 0),
        total: drives.reduce((a, d) => a + d.totalspace, 0),
      },
      ...drives.map((d) => ({ name: d.path, used: d.usedspace, total: d.totalspace })),
    ];
    for (const [i, want] of expected.entries()) {
      const bar = bars.nth(i);
      const total = Number(await bar.getAttribute('data-total'));
      const used = Number(await bar.getAttribute('data-used'));
      // The file system's size is fixed; what is used on it moves as the machine's other work writes.
      expect(total).toBe(want.total);
      expect(total).toBeGreaterThan(0);
      expect(Math.abs(used - want.used)).toBeLessThan(want.total * 0.02);
      // The used part of the bar is drawn in proportion (the chart is 300 wide).
      const width = Number(await bar.locator('rect.tone-a').getAttribute('width'));
      expect(Math.abs(width - (300 * used) / total)).toBeLessThan(0.2);
      const text = (await figures.nth(i).textContent()) ?? '';
      expect(text.startsWith(`${want.name}: `)).toBe(true);
      expect(text).toMatch(/ used of \d+(\.\d)? (B|KiB|MiB|GiB|TiB), .* free \(\d+%\)$/);
      expect(text).toContain(`(${Math.round((100 * used) / total)}%)`);
    }
    await screenshot(page, '41-dashboard-capacity');
  });

  it('refuses the metrics to a user without admin:ServerInfo', async () => {
    const target = { endpoint: setup.server.url, region: 'us-east-1', ...ALT };
    await expect(adminStream(target, { method: 'GET', path: 'metrics', query: { n: '1' } })).rejects.toThrow(
      /403 AccessDenied/,
    );
  });
});
