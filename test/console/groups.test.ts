// Identity groups in the console, in Debian's chromium headless. Root writes a policy (markup inside it, shown as
// text when the page shows the document), makes a user and a group, adds the user to the group and attaches the
// policy to the group, all from the group's row; the row then lists the member and the policy. A group name
// with markup is refused by IAM and the refusal is shown as text. The user, logging in, sees the view the group's
// policy narrows: no Identity or Dashboard, the team bucket's object previewed, the other bucket refused.
// Deleting the group in the console (members and policies taken off first) takes the user's access away.
import { ListGroupsCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleLogin, screenshot } from '../helpers/browser.js';
import { s3Error, startTestServer, type TestServer } from '../helpers/cairn.js';
import { iamClient, s3As } from '../iam/helpers.js';

let server: TestServer;
const browsers: Browser[] = [];
const MARKUP = '<img src=x onerror=alert(1)>';
const POLICY = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: ['s3:ListAllMyBuckets'], Resource: ['arn:aws:s3:::*'] },
    { Effect: 'Allow', Action: ['s3:ListBucket'], Resource: ['arn:aws:s3:::team'] },
    { Effect: 'Allow', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::team/*'] },
    // Markup in the document: the page shows it as text.
    { Effect: 'Deny', Action: ['s3:GetObject'], Resource: [`arn:aws:s3:::team/${MARKUP}`] },
  ],
};

beforeAll(async () => {
  server = await startTestServer();
  const s3 = server.client();
  for (const Bucket of ['team', 'other']) await s3.send(new CreateBucketCommand({ Bucket }));
  await s3.send(new PutObjectCommand({ Bucket: 'team', Key: 'notes.txt', Body: 'team notes' }));
  await s3.send(new PutObjectCommand({ Bucket: 'other', Key: 'secret.txt', Body: 'not for the team' }));
});
afterAll(async () => {
  for (const b of browsers) await b.close();
  await server?.close();
});

async function login(who?: { accessKey: string; secretKey: string }) {
  const logged = await consoleLogin(server.url, who);
  browsers.push(logged.browser);
  return logged;
}

const eventually = <T>(f: () => T | Promise<T>) => expect.poll(f, { timeout: 60_000, interval: 250 });
const groupRow = (page: Page, name: string) => page.locator('[data-testid=groups] tr', { hasText: name });
const groupNames = async () =>
  ((await iamClient(server.url).send(new ListGroupsCommand({}))).Groups ?? []).map((g) => g.GroupName);

describe('identity groups in the console', () => {
  let member: { accessKeyId: string; secretAccessKey: string };

  it('root makes a group, adds a user and attaches a policy from its row', async () => {
    const { page, dialogs } = await login();
    await page.click('nav >> text=Identity');
    await page.fill('input[name=policyName]', 'team-read');
    await page.fill('textarea[name=policyDocument]', JSON.stringify(POLICY, null, 2));
    expect(await page.textContent('[data-testid=policy-check]')).toBe('The document looks valid.');
    await page.click('text=Create policy');
    await page.locator('[data-testid=policies] tr', { hasText: 'team-read' }).waitFor();

    await page.fill('input[name=userName]', 'teammate');
    await page.click('text=Create user');
    member = {
      accessKeyId: (await page.textContent('[data-testid=new-access-key]'))!,
      secretAccessKey: (await page.textContent('[data-testid=new-secret-key]'))!,
    };
    expect(member.accessKeyId && member.secretAccessKey).toBeTruthy();
    await page.click('text=Done');

    await page.fill('input[name=groupName]', 'team-readers');
    await page.click('text=Create group');
    const row = groupRow(page, 'team-readers');
    await row.waitFor();
    expect(await row.locator('[data-testid=group-members]').textContent()).toBe('(no members)');
    expect(await row.locator('[data-testid=group-policies]').textContent()).toBe('(no policies)');
    await row.locator('select[aria-label="user to attach"]').selectOption({ label: 'teammate' });
    await row.locator('text=Attach user').click();
    await eventually(() => row.locator('[data-testid=group-members]').textContent()).toBe('teammate');
    await row.locator('select[aria-label="policy to attach"]').selectOption({ label: 'team-read' });
    await row.locator('text=Attach policy').click();
    await eventually(() => row.locator('[data-testid=group-policies]').textContent()).toBe('team-read');
    // What is already there is not offered again.
    expect(await row.locator('select[aria-label="user to attach"] option', { hasText: 'teammate' }).count()).toBe(0);
    await eventually(() => page.locator('[data-testid=policies] tr', { hasText: 'team-read' }).textContent()).toContain(
      '1 attached',
    );

    // The document, markup and all, shown as text.
    await page.locator('[data-testid=policies] tr', { hasText: 'team-read' }).locator('text=Show').click();
    await eventually(() => page.locator('section.identity pre').textContent()).toContain(MARKUP);
    expect(await page.locator('main img').count()).toBe(0);

    // A name IAM refuses: the refusal is shown as text, nothing is made.
    await page.fill('input[name=groupName]', MARKUP);
    await page.click('text=Create group');
    await eventually(() => page.textContent('[data-testid=error]')).toMatch(/ValidationError|Invalid/);
    expect(await page.locator('main img').count()).toBe(0);
    expect(await groupNames()).toEqual(['team-readers']);
    await screenshot(page, '50-identity-groups');
    expect(dialogs).toEqual([]);
  }, 180_000);

  it("the group's member logs in and sees the view its policy narrows", async () => {
    const { page, dialogs } = await login({ accessKey: member.accessKeyId, secretKey: member.secretAccessKey });
    expect(await page.textContent('[data-testid=who]')).toBe(member.accessKeyId);
    await page.locator('nav[data-probed=all]').waitFor();
    expect(await page.locator('nav >> text=Identity').count()).toBe(0);
    expect(await page.locator('nav >> text=Dashboard').count()).toBe(0);
    await page.click('[data-testid=buckets] >> text=team');
    await page.click('[data-testid=objects] >> text=notes.txt');
    await eventually(() => page.textContent('[data-testid=preview-text]')).toBe('team notes');
    await page.setInputFiles('[data-testid=upload]', {
      name: 'nope.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('x'),
    });
    await eventually(() => page.textContent('[data-testid=error]')).toMatch(/^Access denied/);
    await screenshot(page, '51-group-member-view');
    await page.goto(`${server.url}/console/#/b/other/`);
    await eventually(() => page.textContent('[data-testid=error]')).toMatch(/^Access denied/);
    expect(await page.locator('[data-testid=objects] >> text=secret.txt').count()).toBe(0);
    expect(dialogs).toEqual([]);
  }, 120_000);

  it('deleting the group (members and policies taken off first) takes the access away', async () => {
    const s3 = s3As(server.url, member);
    const read = () => s3.send(new GetObjectCommand({ Bucket: 'team', Key: 'notes.txt' }));
    expect(await (await read()).Body!.transformToString()).toBe('team notes');
    const { page } = await login();
    await page.click('nav >> text=Identity');
    const row = groupRow(page, 'team-readers');
    await row.locator('button', { hasText: 'Delete' }).click();
    await row.locator('button', { hasText: 'Really delete?' }).click();
    await eventually(() => row.count()).toBe(0);
    expect(await groupNames()).toEqual([]);
    expect((await s3Error(read())).name).toBe('AccessDenied');
  }, 120_000);
});
