// The console's OpenID Connect login in Debian's chromium headless, against a real provider (oidc-provider,
// test/helpers/oidc.ts) with the console registered as a public client: the code flow with PKCE through the
// provider's own login and consent pages, then STS AssumeRoleWithWebIdentity; the view narrowed to what the
// login's policy allows; an answer with a wrong state or a tampered code refused, no session kept (and, for a
// wrong state, the code never sent to the provider). The served settings hold no secret; the page's CSP lets it
// call the provider's origin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
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
const contexts: BrowserContext[] = [];
const DISPLAY = 'Test <b>IdP</b>';
/** What the `reader` login's policy claim names: list and read, nothing else. */
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
    reader: { policy: 'oidc-reader', preferred_username: 'reader' },
    boss: { policy: 'consoleAdmin', preferred_username: 'boss' },
  });
  server = await startTestServer({
    openid: {
      configUrl: idp.configUrl,
      clientId: PUBLIC_CLIENT_ID,
      claimName: 'policy',
      claimPrefix: '',
      scopes: ['openid', 'profile'],
      displayName: DISPLAY,
    },
  });
  idp.allowPublicClient([`${server.url}/console/`]);
  s3 = server.client();
  await iamClient(server.url).send(
    new CreatePolicyCommand({ PolicyName: 'oidc-reader', PolicyDocument: JSON.stringify(READER) }),
  );
  await s3.send(new CreateBucketCommand({ Bucket: 'oidc-seen' }));
  await s3.send(new PutObjectCommand({ Bucket: 'oidc-seen', Key: 'hello.txt', Body: 'hi' }));
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await idp?.close();
});

/** Polls until the page shows what is expected (the browser, provider and server share two busy cores). */
const eventually = <T>(f: () => T | Promise<T>) => expect.poll(f, { timeout: 30_000 });

/** A fresh tab with no cookie at the provider (each login is a new one). */
async function freshPage(): Promise<Page> {
  const context = await browser.newContext();
  contexts.push(context);
  return context.newPage();
}

/** Clicks the console's OpenID button and answers the provider's login and consent pages as `account`. */
async function startLogin(page: Page, account: string): Promise<void> {
  await page.goto(`${server.url}/console/`);
  await page.click('[data-testid=openid-login]');
  await page.waitForSelector('input[name=login]');
  await page.fill('input[name=login]', account);
  await page.fill('input[name=password]', 'any');
  await page.click('button[type=submit]');
  // The consent page, then the provider sends the browser back.
  await page.waitForSelector('input[name=prompt][value=consent]', { state: 'attached' });
  await page.click('button[type=submit]');
}

const stored = (page: Page) => page.evaluate(() => sessionStorage.getItem('cairn.session'));

/**
 * Holds the provider's answer back from the page (the consent's POST is answered by the test, which follows the
 * provider's redirects itself until the one to the console), then opens it changed by `change`. Playwright
 * routes only the first request of a redirect chain, hence the consent POST. The genuine answer's URL.
 */
async function tamperReturn(page: Page, change: (u: URL) => void): Promise<string> {
  let seen: (u: URL) => void;
  const returned = new Promise<URL>((resolve) => {
    seen = resolve;
  });
  const consent = (u: URL) => u.origin === idp.issuer && u.pathname.startsWith('/interaction/');
  await page.route(consent, async (route) => {
    const req = route.request();
    if (req.method() !== 'POST' || !req.postData()?.includes('prompt=consent')) return route.continue();
    const res = await route.fetch({ maxRedirects: 0 });
    let location = res.headers().location;
    for (let hop = 0; hop < 5 && location && !location.startsWith(server.url); hop++) {
      const next = await page.context().request.get(new URL(location, idp.issuer).href, { maxRedirects: 0 });
      location = next.headers().location;
    }
    seen(new URL(location));
    await route.fulfill({ status: 200, contentType: 'text/plain', body: 'held by the test' });
  });
  const url = await returned;
  const genuine = url.href;
  await page.unroute(consent);
  change(url);
  await page.goto(url.href);
  return genuine;
}

// Each login goes through the provider's pages: generous limits on a loaded machine.
describe('the console logs in with OpenID Connect', { timeout: 180_000 }, () => {
  it('serves the public settings only, and lets the page call the provider', async () => {
    const res = await fetch(`${server.url}/console/openid.json`);
    expect(res.status).toBe(200);
    const discovery = (await (await fetch(idp.configUrl)).json()) as Record<string, string>;
    expect(await res.json()).toEqual({
      authorizationEndpoint: discovery.authorization_endpoint,
      tokenEndpoint: discovery.token_endpoint,
      clientId: PUBLIC_CLIENT_ID,
      scopes: ['openid', 'profile'],
      displayName: DISPLAY,
    });
    const page = await fetch(`${server.url}/console/`);
    expect(page.headers.get('content-security-policy')).toContain(`connect-src 'self' ${idp.issuer};`);
  });

  it('logs in through the provider and shows only what the policy allows', async () => {
    const page = await freshPage();
    await page.goto(`${server.url}/console/`);
    // The display name is text, not markup.
    expect(await page.textContent('[data-testid=openid-login]')).toBe(`Log in with ${DISPLAY}`);
    await startLogin(page, 'reader');
    await page.waitForSelector('[data-testid=who]');
    expect(await page.textContent('[data-testid=who]')).toBe('reader');
    // The code left the address bar.
    expect(new URL(page.url()).search).toBe('');
    await page.locator('[data-testid=buckets] >> text=oidc-seen').waitFor();
    expect(await page.locator('nav >> text=Identity').count()).toBe(0);
    expect(await page.locator('nav >> text=Dashboard').count()).toBe(0);
    // readonly may not create a bucket: the refusal is shown and nothing is made.
    await page.fill('input[name=bucket]', 'oidc-made');
    await page.click('text=Create bucket');
    await eventually(() => page.textContent('[data-testid=error]')).toMatch(/^Access denied/);
    await expect(s3.send(new HeadBucketCommand({ Bucket: 'oidc-made' }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
    await page.click('[data-testid=buckets] >> text=oidc-seen');
    await page.locator('[data-testid=objects] >> text=hello.txt').waitFor();
    await screenshot(page, 'openid-narrowed');
  });

  it('gives a login whose policy allows more the pages for it', async () => {
    const page = await freshPage();
    await startLogin(page, 'boss');
    await page.waitForSelector('[data-testid=who]');
    expect(await page.textContent('[data-testid=who]')).toBe('boss');
    await page.locator('nav >> text=Identity').waitFor();
    await page.locator('nav >> text=Dashboard').waitFor();
  });

  it('refuses an answer with another state, without sending its code to the provider', async () => {
    const page = await freshPage();
    const tokenCalls: string[] = [];
    page.on('request', (r) => {
      if (r.url().startsWith(`${idp.issuer}/token`)) tokenCalls.push(r.url());
    });
    const tampered = tamperReturn(page, (u) => u.searchParams.set('state', 'forged-state'));
    await startLogin(page, 'reader');
    const genuine = await tampered;
    await eventually(() => page.textContent('[data-testid=error]')).toMatch(/^InvalidState: /);
    expect(await page.isVisible('[data-testid=who]')).toBe(false);
    expect(await stored(page)).toBeNull();
    expect(tokenCalls).toEqual([]);
    // The state was for one answer: the genuine one, opened afterwards, is refused as well.
    await page.goto(genuine);
    await eventually(() => page.textContent('[data-testid=error]')).toMatch(/^InvalidState: /);
    expect(await stored(page)).toBeNull();
    expect(tokenCalls).toEqual([]);
  });

  it('refuses a tampered code: the provider gives no token, no session is kept', async () => {
    const page = await freshPage();
    const stsCalls: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && new URL(r.url()).origin === server.url) stsCalls.push(r.url());
    });
    const tampered = tamperReturn(page, (u) => u.searchParams.set('code', `${u.searchParams.get('code')}x`));
    await startLogin(page, 'reader');
    await tampered;
    await eventually(() => page.textContent('[data-testid=error]')).toMatch(/^invalid_grant: /);
    expect(await page.isVisible('[data-testid=who]')).toBe(false);
    expect(await stored(page)).toBeNull();
    expect(stsCalls).toEqual([]);
  });
});
