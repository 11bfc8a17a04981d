// Access keys (service accounts) in Debian's chromium headless. Root makes one narrowed by a policy (its name, with
// markup in it, shown as text): the secret shown once works with the SDK within the policy only; switched off it
// stops working, on again it works, deleted it is gone. A policy that does not parse cannot be sent. A user logged
// in sees only their own keys, and the key they make has their rights, not more. The bodies and answers the page
// exchanges are sealed with the session's secret (madmin's encryption: PBKDF2 one way, Argon2id the other).
import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleLogin, screenshot } from '../helpers/browser.js';
import { s3Error, startTestServer, type TestServer } from '../helpers/cairn.js';
import { iamClient, s3As } from '../iam/helpers.js';

let server: TestServer;
let s3: S3Client;
const browsers: Browser[] = [];
const NAME = '<img src=x onerror=alert(1)>';
const READ_DATA = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::data/*'] }],
});

beforeAll(async () => {
  server = await startTestServer();
  s3 = server.client();
  for (const Bucket of ['data', 'other']) await s3.send(new CreateBucketCommand({ Bucket }));
  await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'k', Body: 'data k' }));
  await s3.send(new PutObjectCommand({ Bucket: 'other', Key: 'k', Body: 'other k' }));
});
afterAll(async () => {
  for (const b of browsers) await b.close();
  await server?.close();
});

async function login(who?: { accessKey: string; secretKey: string }) {
  const { browser, page, dialogs } = await consoleLogin(server.url, who);
  browsers.push(browser);
  await page.goto(`${server.url}/console/#/keys`);
  await page.locator('[data-testid=access-keys]').waitFor();
  return { page, dialogs };
}

/** Polls until the page or the server shows what is expected (Argon2 in the page takes a while on busy cores). */
const eventually = <T>(f: () => T | Promise<T>) => expect.poll(f, { timeout: 60_000 });
const rows = (page: Page) => page.locator('[data-testid=access-keys] tbody tr');

/** Fills and sends the new-key form; answers the key and secret the page shows once. */
async function createKey(page: Page, name: string, policy?: string) {
  await page.fill('input[name=keyName]', name);
  if (policy !== undefined) {
    await page.check('input[name=keyNarrow]');
    await page.fill('textarea[name=keyPolicy]', policy);
  }
  await page.click('text=Create access key');
  // The secret, or the error the page shows (then the test fails with it).
  await page.locator('[data-testid=new-secret], [data-testid=error]').first().waitFor({ timeout: 120_000 });
  const shown = (await page.textContent('body').catch(() => '')) ?? '';
  expect(await page.locator('[data-testid=error]').count(), shown).toBe(0);
  const accessKeyId = (await page.textContent('[data-testid=new-access-key]'))!;
  const secretAccessKey = (await page.textContent('[data-testid=new-secret-key]'))!;
  await page.click('[data-testid=new-secret] button');
  return { accessKeyId, secretAccessKey };
}

const read = (c: S3Client, Bucket: string) =>
  c.send(new GetObjectCommand({ Bucket, Key: 'k' })).then(
    async (r) => r.Body!.transformToString(),
    (e: { name: string }) => e.name,
  );

describe('access keys in the console', () => {
  it('root makes a key narrowed by a policy, switches it off and on, and deletes it', async () => {
    const { page, dialogs } = await login();
    const made = await createKey(page, NAME, READ_DATA);
    const key = s3As(server.url, made);
    expect(await read(key, 'data')).toBe('data k');
    expect(await read(key, 'other')).toBe('AccessDenied');
    expect((await s3Error(key.send(new PutObjectCommand({ Bucket: 'data', Key: 'x', Body: 'x' })))).name).toBe(
      'AccessDenied',
    );

    const row = rows(page).filter({ hasText: made.accessKeyId });
    await eventually(() => row.textContent()).toContain('narrowed by its policy');
    expect(await row.locator('td').nth(1).textContent()).toBe(NAME);
    expect(await page.locator('[data-testid=access-keys] img').count()).toBe(0);
    expect(await row.textContent()).not.toContain(made.secretAccessKey);
    await screenshot(page, '41-access-keys');

    await row.locator('button', { hasText: 'Disable' }).click();
    await eventually(() => row.textContent()).toContain('disabled');
    expect(await read(key, 'data')).not.toBe('data k');
    await row.locator('button', { hasText: 'Enable' }).click();
    await eventually(() => row.textContent()).toContain('enabled');
    expect(await read(key, 'data')).toBe('data k');

    await row.locator('button', { hasText: 'Delete' }).click();
    await row.locator('button', { hasText: 'Really delete?' }).click();
    await eventually(() => row.count()).toBe(0);
    expect(await read(key, 'data')).toBe('InvalidAccessKeyId');
    expect(dialogs).toEqual([]);
  }, 300_000);

  it('a policy that does not parse cannot be sent, and nothing is made', async () => {
    const { page } = await login();
    const before = await rows(page).count();
    await page.fill('input[name=keyName]', 'broken');
    await page.check('input[name=keyNarrow]');
    await page.fill('textarea[name=keyPolicy]', '{"Version": "2012-10-17", "Statement": [');
    await page.locator('[data-testid=policy-problem]').waitFor();
    expect(await page.isDisabled('text=Create access key')).toBe(true);
    await page.reload();
    await page.locator('[data-testid=access-keys]').waitFor();
    await eventually(() => rows(page).count()).toBe(before);
  }, 120_000);

  it("a user sees only their own keys, and theirs have the user's rights, not more", async () => {
    const iam = iamClient(server.url);
    await iam.send(new CreateUserCommand({ UserName: 'ana' }));
    await iam.send(new PutUserPolicyCommand({ UserName: 'ana', PolicyName: 'read-data', PolicyDocument: READ_DATA }));
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'ana' }))).AccessKey!;
    const rootKey = await createKey((await login()).page, 'root-key');

    const { page } = await login({ accessKey: k.AccessKeyId!, secretKey: k.SecretAccessKey! });
    expect(await rows(page).count()).toBe(0);
    await page.fill('input[name=keyExpiry]', '2099-01-02T03:04');
    const made = await createKey(page, 'ana-key');
    await eventually(() => rows(page).count()).toBe(1);
    expect(await rows(page).locator('td').nth(4).textContent()).toContain('2099');
    expect(await rows(page).textContent()).toContain("the user's");
    expect(await rows(page).textContent()).not.toContain(rootKey.accessKeyId);
    const key = s3As(server.url, made);
    expect(await read(key, 'data')).toBe('data k');
    expect(await read(key, 'other')).toBe('AccessDenied');
  }, 300_000);
});
