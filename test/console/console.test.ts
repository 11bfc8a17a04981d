// The web console end to end: a real Cairn, Debian's chromium headless. Logging in (and a wrong secret),
// buckets, the object browser (upload with progress, multipart, download compared byte for byte, preview),
// names and metadata shown as text (no markup runs), S3 Select, identity (a user with a narrow policy logs in
// and sees the narrowed view), logging out and expired sessions.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  GetBucketCorsCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ROOT, startTestServer, type TestServer } from '../helpers/cairn.js';
import { launchChromium, screenshot } from '../helpers/browser.js';
import { seededRandom } from '../helpers/random.js';

let server: TestServer;
let s3: S3Client;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const random = seededRandom();
/** How far the server's clock is ahead (the expiry test moves it). */
let serverAhead = 0;
/** Dialogs (alert, confirm) any page opened: the console opens none, so one means injected script ran. */
const dialogs: string[] = [];

beforeAll(async () => {
  server = await startTestServer({ now: () => Date.now() + serverAhead });
  s3 = server.client();
  browser = await launchChromium();
  context = await browser.newContext({ acceptDownloads: true });
  page = await newPage();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function newPage(): Promise<Page> {
  const p = await context.newPage();
  p.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  return p;
}

/** Polls until the page shows what is expected (the browser and server share two busy cores). */
const eventually = <T>(f: () => T | Promise<T>) => expect.poll(f, { timeout: 20_000 });

const consoleUrl = () => `${server.url}/console/`;

async function login(p: Page, accessKey: string, secretKey: string): Promise<void> {
  await p.goto(consoleUrl());
  await p.fill('input[name=accessKey]', accessKey);
  await p.fill('input[name=secretKey]', secretKey);
  await p.click('button[type=submit]');
}

const stored = (p: Page) => p.evaluate(() => sessionStorage.getItem('cairn.session'));

describe('web console', () => {
  it('refuses a wrong secret: the error shows and nothing is logged in', async () => {
    await login(page, ROOT.accessKey, 'not-the-secret');
    await eventually(() => page.textContent('[data-testid=error]')).toMatch(/SignatureDoesNotMatch/);
    expect(await stored(page)).toBeNull();
    expect(await page.isVisible('form.login')).toBe(true);
    await screenshot(page, '01-login-failed');
  });

  it('logs in with the access keys, keeping only temporary credentials', async () => {
    await login(page, ROOT.accessKey, ROOT.secretKey);
    await page.waitForSelector('[data-testid=who]');
    expect(await page.textContent('[data-testid=who]')).toBe(ROOT.accessKey);
    const session = JSON.parse((await stored(page))!);
    expect(session.sessionToken).toBeTruthy();
    expect(session.accessKeyId).not.toBe(ROOT.accessKey);
    // The long-term secret is nowhere in the page's storage.
    const storage = await page.evaluate(() => JSON.stringify({ ...sessionStorage, ...localStorage }));
    expect(storage).not.toContain(ROOT.secretKey);
    expect(await page.evaluate('document.cookie')).toBe('');
  });

  it('creates and deletes a bucket', async () => {
    await page.fill('input[name=bucket]', 'photos');
    await page.click('text=Create bucket');
    await page.waitForSelector('[data-testid=buckets] >> text=photos');
    await page.fill('input[name=bucket]', 'scratch');
    await page.click('text=Create bucket');
    const row = page.locator('[data-testid=buckets] tr', { hasText: 'scratch' });
    await row.waitFor();
    await screenshot(page, '02-buckets');
    await row.locator('button', { hasText: 'Delete' }).click();
    await row.locator('button', { hasText: 'Really delete?' }).click();
    await eventually(() => row.count()).toBe(0);
    // A bad name gets S3's error, shown.
    await page.fill('input[name=bucket]', 'Bad_Name');
    await page.click('text=Create bucket');
    await eventually(() => page.textContent('[data-testid=error]')).toMatch(/InvalidBucketName/);
  });

  it('uploads a file with progress to 100%, lists it, and downloads the same bytes', async () => {
    await page.click('[data-testid=buckets] >> text=photos');
    await page.waitForSelector('text=Nothing here yet.');
    const bytes = random.bytes(3 * 1024 * 1024 + 17);
    await page.setInputFiles('[data-testid=upload]', {
      name: 'data.bin',
      mimeType: 'application/octet-stream',
      buffer: bytes,
    });
    await eventually(() => page.textContent('[data-testid=progress-text]')).toBe('100%');
    const row = page.locator('[data-testid=objects] tr', { hasText: 'data.bin' });
    await row.waitFor();
    expect(await row.textContent()).toContain('3.0 MiB');
    const [download] = await Promise.all([page.waitForEvent('download'), row.locator('text=Download').click()]);
    expect(download.suggestedFilename()).toBe('data.bin');
    expect(Buffer.compare(await readFile((await download.path())!), bytes)).toBe(0);
    await screenshot(page, '03-objects');
  });

  it('uploads a file over 16 MiB as a multipart upload, part by part', async () => {
    const bytes = random.bytes(16 * 1024 * 1024 + 4096);
    const seenParts = new Set<string>();
    await page.exposeFunction('cairnTestSawParts', (text: string) => seenParts.add(text));
    // Every progress text the page shows, recorded as it changes.
    // (A string: this file is typed for Node, without the DOM's names.)
    await page.evaluate(`
      new MutationObserver(() => {
        const t = document.querySelector('[data-testid=progress]')?.textContent;
        if (t) window.cairnTestSawParts(t);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    `);
    await page.setInputFiles('[data-testid=upload]', {
      name: 'big.bin',
      mimeType: 'application/octet-stream',
      buffer: bytes,
    });
    await page.locator('[data-testid=objects] tr', { hasText: 'big.bin' }).waitFor();
    expect(await page.textContent('[data-testid=progress-text]')).toBe('100%');
    expect([...seenParts].some((t) => t.includes('part 2 of 2'))).toBe(true);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'photos', Key: 'big.bin' }));
    expect(got.ETag).toMatch(/-2"$/);
    expect(Buffer.compare(Buffer.from(await got.Body!.transformToByteArray()), bytes)).toBe(0);
  });

  it('navigates prefixes and previews text and images', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'photos', Key: 'docs/notes.csv', Body: 'name,age\nada,36\n' }));
    // A 1x1 PNG.
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
      'base64',
    );
    await s3.send(new PutObjectCommand({ Bucket: 'photos', Key: 'docs/dot.png', Body: png, ContentType: 'image/png' }));
    await page.reload();
    await page.click('[data-testid=objects] >> text=docs/');
    await page.click('[data-testid=objects] >> text=notes.csv');
    await eventually(() => page.textContent('[data-testid=preview-text]')).toBe('name,age\nada,36\n');
    await screenshot(page, '04-preview-text');
    await page.click('[data-testid=objects] >> text=dot.png');
    const img = page.locator('[data-testid=preview] img');
    await img.waitFor();
    await eventually(() =>
      img.evaluate((i) => (i as unknown as { complete: boolean; naturalWidth: number }).naturalWidth),
    ).toBe(1);
    expect(await page.textContent('h2')).toContain('docs');
    // A share link: a presigned GET anyone can use, for the chosen time.
    await page.click('[data-testid=objects] >> text=notes.csv');
    await page.fill('input[name=shareMinutes]', '5');
    await page.click('text=Make link');
    const link = new URL((await page.locator('[data-testid=share-link]').inputValue())!);
    expect(link.searchParams.get('X-Amz-Expires')).toBe('300');
    expect(link.searchParams.get('X-Amz-Security-Token')).toBeTruthy();
    const shared = await fetch(link);
    expect(shared.status).toBe(200);
    expect(await shared.text()).toBe('name,age\nada,36\n');
    // Its tags, set here and read back with the SDK.
    const tags = page.locator('[data-testid=object-tags]');
    await tags.locator('input[name=objectTagKey]').fill('kind');
    await tags.locator('input[name=objectTagValue]').fill('table');
    await tags.locator('button[type=submit]').click();
    await tags.locator('li', { hasText: 'kind = table' }).waitFor();
    const stored = await s3.send(new GetObjectTaggingCommand({ Bucket: 'photos', Key: 'docs/notes.csv' }));
    expect(stored.TagSet).toEqual([{ Key: 'kind', Value: 'table' }]);
  });

  it('shows names, metadata and contents that look like markup as text, running nothing', async () => {
    const key = '<img src=x onerror=alert(1)>.txt';
    const meta = '<script>alert(2)</script>';
    const body = '<script>alert(3)</script><img src=x onerror=alert(4)>';
    await s3.send(new PutObjectCommand({ Bucket: 'photos', Key: key, Body: body, Metadata: { note: meta } }));
    await page.goto(`${consoleUrl()}#/b/photos/`);
    const link = page.locator('[data-testid=objects] button', { hasText: key });
    await link.waitFor();
    await link.click();
    await eventually(() => page.textContent('[data-testid=preview-text]')).toBe(body);
    expect(await page.textContent('[data-testid=preview]')).toContain(meta);
    expect(await page.locator('[data-testid=preview] h3').textContent()).toBe(key);
    // Nothing of it became an element.
    expect(await page.locator('main img[src=x]').count()).toBe(0);
    expect(await page.locator('main script').count()).toBe(0);
    await screenshot(page, '05-markup-as-text');
    expect(dialogs).toEqual([]);
  });

  it('runs an S3 Select query and shows the rows', async () => {
    await s3.send(
      new PutObjectCommand({
        Bucket: 'photos',
        Key: 'people.csv',
        Body: 'name,age\nada,36\ngrace,45\nalan,41\nbob,12\n',
      }),
    );
    await page.click('nav >> text=Select');
    await page.selectOption('select[name=bucket]', 'photos');
    await page.locator('select[name=key] option', { hasText: 'people.csv' }).waitFor({ state: 'attached' });
    await page.selectOption('select[name=key]', 'people.csv');
    // The object's columns are listed; a click adds one to the query.
    await eventually(() => page.locator('[data-testid=columns] button').allTextContents()).toEqual(['name', 'age']);
    await page.fill('textarea[name=sql]', 'SELECT');
    await page.click('[data-testid=columns] >> text=name');
    expect(await page.inputValue('textarea[name=sql]')).toBe('SELECT s.name');
    // Column names complete while typing (the word before the caret, any case): Tab takes the name, a click
    // too; Escape closes the list. (The page re-renders after each key, and puts the caret back on the next frame.)
    const sqlBox = 'textarea[name=sql]';
    const offered = () => page.locator('[data-testid=completions] button').allTextContents();
    const listShown = () => page.locator('[data-testid=completions]').count();
    const text = () => page.inputValue(sqlBox);
    // (A string: the test's TypeScript has no DOM types.)
    const caretAtEnd = () =>
      page.evaluate(
        `(() => { const b = document.querySelector('${sqlBox}'); ` +
          'return document.activeElement === b && b.selectionStart === b.value.length; })()',
      );
    await page.fill(sqlBox, 'SELECT s.A');
    await eventually(offered).toEqual(['age']);
    await page.press(sqlBox, 'Tab');
    await eventually(text).toBe('SELECT s.age');
    await eventually(caretAtEnd).toBe(true);
    await eventually(listShown).toBe(0);
    await page.keyboard.type(', s.n');
    await eventually(offered).toEqual(['name']);
    await page.click('[data-testid=completions] >> text=name');
    await eventually(text).toBe('SELECT s.age, s.name');
    await eventually(caretAtEnd).toBe(true);
    await page.keyboard.type(' FROM S3Object s WHERE s.na');
    await eventually(offered).toEqual(['name']);
    await page.press(sqlBox, 'Escape');
    await eventually(listShown).toBe(0);
    expect(await text()).toBe('SELECT s.age, s.name FROM S3Object s WHERE s.na');
    await page.fill('textarea[name=sql]', 'SELECT s.name FROM S3Object s WHERE CAST(s.age AS INT) > 40');
    await page.click('text=Run');
    const rows = page.locator('[data-testid=select-rows] tbody tr');
    await eventually(() => rows.allTextContents()).toEqual(['grace', 'alan']);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('text=Download result')]);
    expect(await readFile((await download.path())!, 'utf8')).toBe('{"name":"grace"}\n{"name":"alan"}\n');
    await screenshot(page, '06-select');
    // A bad query's error is shown.
    await page.fill('textarea[name=sql]', 'SELECT FROM');
    await page.click('text=Run');
    await eventually(() => page.textContent('[data-testid=error]')).toMatch(/ParseUnexpectedToken|Parse/);
  });

  it("changes a bucket's versioning, policy, CORS rules and tags", async () => {
    await page.goto(`${consoleUrl()}#/settings/photos`);
    await eventually(() => page.textContent('[data-testid=versioning-status]')).toBe('Never enabled');
    await page.click('[data-testid=versioning] button');
    await eventually(() => page.textContent('[data-testid=versioning-status]')).toBe('Enabled');
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::photos/public/*' },
      ],
    });
    await page.fill('textarea[name=bucketPolicy]', policy);
    await page.click('text=Save policy');
    await page.locator('[data-testid=bucket-policy] >> text=Saved.').waitFor();
    await page.fill('input[name=corsOrigins]', 'https://app.example.com');
    await page.fill('input[name=corsMethods]', 'GET, PUT');
    await page.click('text=Add rule');
    await page.locator('[data-testid=cors] td', { hasText: 'https://app.example.com' }).waitFor();
    await page.fill('input[name=tagKey]', 'team');
    await page.fill('input[name=tagValue]', '<b>data</b>');
    await page.click('text=Set tag');
    await page.locator('[data-testid=tags] td', { hasText: '<b>data</b>' }).waitFor();
    await screenshot(page, '07-bucket-settings');
    // What the server now holds, read back with the SDK.
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: 'photos' }))).Status).toBe('Enabled');
    const stored = JSON.parse((await s3.send(new GetBucketPolicyCommand({ Bucket: 'photos' }))).Policy!);
    expect(stored.Statement[0].Resource).toEqual(expect.stringContaining('photos/public/*'));
    const cors = await s3.send(new GetBucketCorsCommand({ Bucket: 'photos' }));
    expect(cors.CORSRules).toEqual([
      expect.objectContaining({ AllowedOrigins: ['https://app.example.com'], AllowedMethods: ['GET', 'PUT'] }),
    ]);
    const tags = await s3.send(new GetBucketTaggingCommand({ Bucket: 'photos' }));
    expect(tags.TagSet).toEqual([{ Key: 'team', Value: '<b>data</b>' }]);
    // A policy that is not one is caught before it is sent.
    await page.fill('textarea[name=bucketPolicy]', '{"Version": "2012-10-17"}');
    expect(await page.isDisabled('text=Save policy')).toBe(true);
  });

  it('shows the server on the dashboard', async () => {
    await page.click('nav >> text=Dashboard');
    await eventually(() => page.textContent('[data-testid=bucket-count]')).toBe('1');
    expect(await page.locator('[data-testid=drives] tbody tr').count()).toBe(server.drives.length);
    expect(await page.textContent('[data-testid=drives]')).toContain(server.drives[0]);
    await screenshot(page, '08-dashboard');
  });

  it('creates a user with a narrow policy, who then sees the narrowed view', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'photos', Key: 'shared.txt', Body: 'for readers' }));
    await page.click('nav >> text=Identity');
    await page.fill('input[name=userName]', 'reader');
    await page.click('text=Create user');
    const accessKey = (await page.locator('[data-testid=new-access-key]').textContent())!;
    const secretKey = (await page.locator('[data-testid=new-secret-key]').textContent())!;
    expect(accessKey && secretKey).toBeTruthy();
    await screenshot(page, '09-identity-secret-once');
    await page.click('text=Done');
    expect(await page.locator('[data-testid=new-secret]').count()).toBe(0);
    expect(await page.textContent('main')).not.toContain(secretKey);
    // The editor checks the document as it is typed.
    await page.fill('input[name=policyName]', 'photos-read');
    await page.fill('textarea[name=policyDocument]', '{"Version": "2012-10-17", "Statement": [');
    expect(await page.textContent('[data-testid=policy-check]')).toMatch(/Not valid JSON/);
    expect(await page.isDisabled('text=Create policy')).toBe(true);
    const policy = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: ['s3:ListAllMyBuckets'], Resource: ['arn:aws:s3:::*'] },
        {
          Effect: 'Allow',
          Action: ['s3:ListBucket'],
          Resource: ['arn:aws:s3:::photos'],
        },
        { Effect: 'Allow', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::photos/shared.txt'] },
      ],
    };
    await page.fill('textarea[name=policyDocument]', JSON.stringify(policy, null, 2));
    expect(await page.textContent('[data-testid=policy-check]')).toBe('The document looks valid.');
    await page.click('text=Create policy');
    await page.locator('[data-testid=policies] tr', { hasText: 'photos-read' }).waitFor();
    const userRow = page.locator('[data-testid=users] tr', { hasText: 'reader' });
    await userRow.locator('select[aria-label="policy to attach"]').selectOption({ label: 'photos-read' });
    await userRow.locator('text=Attach policy').click();
    await eventually(() =>
      page.locator('[data-testid=policies] tr', { hasText: 'photos-read' }).textContent(),
    ).toContain('1 attached');
    await screenshot(page, '10-identity');

    await page.click('text=Log out');
    await login(page, accessKey, secretKey);
    await page.waitForSelector('[data-testid=who]');
    // No Identity page for this user; the bucket is readable, uploads are refused and said so.
    expect(await page.locator('nav >> text=Identity').count()).toBe(0);
    expect(await page.locator('nav >> text=Dashboard').count()).toBe(0);
    await page.click('[data-testid=buckets] >> text=photos');
    await page.locator('[data-testid=objects] >> text=shared.txt').waitFor();
    // What it may read previews; what it may not (a HEAD answered 403, no body) says Access denied.
    await page.click('[data-testid=objects] >> text=shared.txt');
    await eventually(() => page.textContent('[data-testid=preview-text]')).toBe('for readers');
    await page.click('[data-testid=objects] >> text=people.csv');
    await eventually(() => page.textContent('[data-testid=preview] [data-testid=error]')).toMatch(/^Access denied/);
    await page.setInputFiles('[data-testid=upload]', {
      name: 'nope.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('x'),
    });
    await eventually(() => page.textContent('[data-testid=error]')).toMatch(/^Access denied/);
    await screenshot(page, '11-narrowed-view');
    // The identity page itself, opened by address, shows the refusal instead of breaking.
    await page.goto(`${consoleUrl()}#/identity`);
    await eventually(() => page.textContent('[data-testid=error]')).toMatch(/^Access denied/);
  });

  it('logs out: the credentials are dropped', async () => {
    await page.click('text=Log out');
    await page.waitForSelector('form.login');
    expect(await page.textContent('[data-testid=login-message]')).toBe('You have logged out.');
    expect(await stored(page)).toBeNull();
    await page.reload();
    expect(await page.isVisible('form.login')).toBe(true);
  });

  it('returns to the login page when the session has expired (seen by the page)', async () => {
    await login(page, ROOT.accessKey, ROOT.secretKey);
    await page.waitForSelector('[data-testid=who]');
    await page.evaluate(() => {
      const s = JSON.parse(sessionStorage.getItem('cairn.session')!);
      sessionStorage.setItem('cairn.session', JSON.stringify({ ...s, expiresAt: Date.now() - 1000 }));
    });
    await page.click('nav >> text=Buckets');
    await page.reload();
    await page.waitForSelector('form.login');
    expect(await page.textContent('[data-testid=login-message]')).toMatch(/session has expired/);
    expect(await stored(page)).toBeNull();
  });

  it('returns to the login page when the server answers ExpiredToken', async () => {
    await login(page, ROOT.accessKey, ROOT.secretKey);
    await page.waitForSelector('[data-testid=who]');
    // Two hours later on both clocks (the session lasts one), with the page's own expiry check fooled: the
    // server's answer is what sends the user back.
    const later = 2 * 3600_000;
    await page.evaluate((ms) => {
      const s = JSON.parse(sessionStorage.getItem('cairn.session')!);
      sessionStorage.setItem('cairn.session', JSON.stringify({ ...s, expiresAt: Date.now() + ms * 10 }));
    }, later);
    // Leave the page before moving the clocks: a request it still had in flight, answered by the server two hours
    // ahead, would end the session before the reload (and the login page would rightly have no reason to give).
    await page.goto('about:blank');
    serverAhead = later;
    await page.clock.install({ time: Date.now() + later });
    await page.goto(consoleUrl());
    await page.waitForSelector('form.login');
    expect(await page.textContent('[data-testid=login-message]')).toMatch(/session has expired/);
    expect(await stored(page)).toBeNull();
    await screenshot(page, '12-expired');
    serverAhead = 0;
  });
});
