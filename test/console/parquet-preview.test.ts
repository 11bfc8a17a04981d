// A Parquet object's schema in the console's preview (chromium headless): columns with their physical, logical and
// repetition types, nested ones by path, the row and row-group counts, read from the footer by ranged GETs only
// (never the whole object). A file named .parquet that is not one says so and shows no schema.
import { readFile } from 'node:fs/promises';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleLogin, screenshot } from '../helpers/browser.js';
import { startTestServer, type TestServer } from '../helpers/cairn.js';

const FIXTURES = new URL('../../select-engine/test/formats/fixtures/', import.meta.url);

let server: TestServer;
let s3: S3Client;
let browser: Browser;
let page: Page;
/** The Range header of each GET of an object of the bucket the page sent (undefined: a whole GET). */
const gets: { key: string; range?: string }[] = [];

beforeAll(async () => {
  server = await startTestServer();
  s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket: 'lake' }));
  for (const [key, file] of [
    ['types.parquet', 'types-snappy.parquet'],
    ['rowgroups.parquet', 'rowgroups.parquet'],
  ]) {
    await s3.send(new PutObjectCommand({ Bucket: 'lake', Key: key, Body: await readFile(new URL(file, FIXTURES)) }));
  }
  await s3.send(new PutObjectCommand({ Bucket: 'lake', Key: 'fake.parquet', Body: 'name,age\nada,36\n' }));
  ({ browser, page } = await consoleLogin(server.url));
  page.on('request', (r) => {
    const url = new URL(r.url());
    const m = /\/lake\/(.+)$/.exec(url.pathname);
    // GETs of the object itself (not of its ?tagging or other subresources).
    if (m && r.method() === 'GET' && url.search === '')
      gets.push({ key: decodeURIComponent(m[1]), range: r.headers().range });
  });
  await page.goto(`${server.url}/console/#/b/lake/`);
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const eventually = <T>(f: () => T | Promise<T>) => expect.poll(f, { timeout: 30_000 });
const schema = () => page.locator('[data-testid=parquet-schema]');

/** The schema table's rows as [column, type, logical type, repetition]. */
async function columns(): Promise<string[][]> {
  const rows = await schema().locator('tbody tr').all();
  return Promise.all(rows.map((r) => r.locator('td').allTextContents()));
}

describe('Parquet preview in the console', () => {
  it("shows a file's columns and types, nested ones by path, from its footer alone", async () => {
    await page.click('[data-testid=objects] >> text=types.parquet');
    await eventually(() => schema().locator('p').textContent()).toMatch(
      /^Parquet: 40 rows in 1 row group, written by /,
    );
    const cols = await columns();
    const byName = new Map(cols.map((c) => [c[0], c.slice(1)]));
    expect(byName.get('i8')).toEqual(['INT32', 'INT8', 'OPTIONAL']);
    expect(byName.get('u32')).toEqual(['INT32', 'UINT32', 'OPTIONAL']);
    expect(byName.get('name')).toEqual(['BYTE_ARRAY', 'STRING', 'OPTIONAL']);
    expect(byName.get('dec')).toEqual(['FIXED_LEN_BYTE_ARRAY', 'DECIMAL(10,2)', 'OPTIONAL']);
    expect(byName.get('ts_ms')).toEqual(['INT64', 'TIMESTAMP(MILLIS, UTC)', 'OPTIONAL']);
    expect(byName.get('ts_us')?.[1]).toBe('TIMESTAMP(MICROS)');
    expect(byName.get('st.a')).toEqual(['INT32', '', 'OPTIONAL']);
    expect(byName.get('list.list.element')?.slice(0, 1)).toEqual(['INT32']);
    expect(cols.length).toBe(23); // 21 columns; the struct and the map have two leaves each
    await screenshot(page, '42-parquet-schema');
    // Ranged GETs only: the footer, never the whole file.
    const mine = gets.filter((g) => g.key === 'types.parquet');
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((g) => /^bytes=\d+-\d+$/.test(g.range ?? ''))).toBe(true);
  });

  it('counts row groups', async () => {
    await page.click('[data-testid=objects] >> text=rowgroups.parquet');
    await eventually(() => schema().locator('p').textContent()).toMatch(/^Parquet: 1,000 rows in 10 row groups/);
  });

  it('says a file named .parquet is not one, and shows no schema', async () => {
    await page.click('[data-testid=objects] >> text=fake.parquet');
    await eventually(() => page.locator('[data-testid=preview] [data-testid=error]').textContent()).toContain(
      'parquet',
    );
    expect(await schema().count()).toBe(0);
  });
});
