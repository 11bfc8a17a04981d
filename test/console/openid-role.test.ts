// The console's OpenID Connect login in role mode (CAIRN_IDENTITY_OPENID_ROLE_POLICY), in Debian's chromium
// headless against a real provider (oidc-provider, test/helpers/oidc.ts): the served settings name the role's
// ARN, the page sends it with AssumeRoleWithWebIdentity, and every login gets the role's policy whatever its
// token's claims say (a `consoleAdmin` claim included): the view is narrowed to reading.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { CreatePolicyCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, HeadBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../helpers/cairn.js';
import { launchChromium, screenshot } from '../helpers/browser.js';
import { iamClient } from '../iam/helpers.js';
import { PUBLIC_CLIENT_ID, startOidcProvider, type OidcProvider } from '../helpers/oidc.js';

let idp: OidcProvider;
let server: TestServer;
let s3: S3Client;
let browser: Browser;
const READER = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: ['s3:ListAllMyBuckets', 's3:ListBucket', 's3:GetBucketLocation', 's3:GetObject'],
      Resource: ['arn:aws:s3:::*'],
    },
  ],
};

beforeAll(async () => {
  idp = await startOidcProvider({
    anyone: { preferred_username: 'anyone' },
    boss: { policy: 'consoleAdmin', preferred_username: 'boss' },
  });
  server = await startTestServer({
    openid: {
      configUrl: idp.configUrl,
      clientId: PUBLIC_CLIENT_ID,
      // The default claim name, as CAIRN_IDENTITY_OPENID_ROLE_POLICY alone gives: role mode must ignore it.
      claimName: 'policy',
      rolePolicy: ['role-reader'],
      claimPrefix: '',
      scopes: ['openid', 'profile'],
    },
  });
  idp.allowPublicClient([`${server.url}/console/`]);
  s3 = server.client();
  await iamClient(server.url).send(
    new CreatePolicyCommand({ PolicyName: 'role-reader', PolicyDocument: JSON.stringify(READER) }),
  );
  await s3.send(new CreateBucketCommand({ Bucket: 'role-seen' }));
  await s3.send(new PutObjectCommand({ Bucket: 'role-seen', Key: 'hello.txt', Body: 'hi' }));
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await idp?.close();
});

/** Polls until the page shows what is expected (the browser, provider and server share two busy cores). */
const eventually = <T>(f: () => T | Promise<T>) => expect.poll(f, { timeout: 30_000 });

/** Logs in through the provider's login and consent pages as `account` in a fresh tab; the STS calls' bodies. */
async function login(account: string): Promise<{ page: Page; sts: string[] }> {
  const page = await (await browser.newContext()).newPage();
  const sts: string[] = [];
  page.on('request', (r) => {
    const body = r.postData() ?? '';
    if (r.method() === 'POST' && body.includes('Action=AssumeRoleWithWebIdentity')) sts.push(body);
  });
  await page.goto(`${server.url}/console/`);
  await page.click('[data-testid=openid-login]');
  await page.waitForSelector('input[name=login]');
  await page.fill('input[name=login]', account);
  await page.fill('input[name=password]', 'any');
  await page.click('button[type=submit]');
  await page.waitForSelector('input[name=prompt][value=consent]', { state: 'attached' });
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-testid=who]');
  return { page, sts };
}

/** The page may list and read, and may not create a bucket (the refusal shown, nothing made). */
async function expectReader(page: Page, bucket: string) {
  await page.locator('[data-testid=buckets] >> text=role-seen').waitFor();
  await page.fill('input[name=bucket]', bucket);
  await page.click('text=Create bucket');
  await eventually(() => page.textContent('[data-testid=error]')).toMatch(/^Access denied/);
  await expect(s3.send(new HeadBucketCommand({ Bucket: bucket }))).rejects.toMatchObject({
    $metadata: { httpStatusCode: 404 },
  });
  expect(await page.locator('nav >> text=Identity').count()).toBe(0);
}

describe('the console logs in with OpenID Connect in role mode', { timeout: 180_000 }, () => {
  let arn = '';

  it("serves the role's ARN with the public settings", async () => {
    const res = await fetch(`${server.url}/console/openid.json`);
    const settings = (await res.json()) as { roleArn?: string; clientId: string };
    expect(settings.clientId).toBe(PUBLIC_CLIENT_ID);
    expect(settings.roleArn).toMatch(/^arn:minio:iam:[a-z0-9-]*::role\/[A-Za-z0-9_-]+$/);
    arn = settings.roleArn!;
  });

  it("logs in with the role: the role's policy narrows the view", async () => {
    const { page, sts } = await login('anyone');
    expect(sts).toHaveLength(1);
    expect(new URLSearchParams(sts[0]).get('RoleArn')).toBe(arn);
    await expectReader(page, 'role-made');
    await page.click('[data-testid=buckets] >> text=role-seen');
    await page.locator('[data-testid=objects] >> text=hello.txt').waitFor();
    await screenshot(page, 'openid-role');
  });

  it("ignores the token's policy claim: a consoleAdmin claim still gets the role's policy only", async () => {
    const { page } = await login('boss');
    expect(await page.textContent('[data-testid=who]')).toBeTruthy();
    await expectReader(page, 'boss-made');
  });
});
