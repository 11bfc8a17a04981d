// Bucket replication between two Cairn servers set up through the console's settings, in Debian's chromium
// headless: targets that the server's probe refuses (a wrong secret, a missing bucket) are shown and not stored;
// a target added through the page (its secret never listed back) and a rule naming it, read back with mc's
// calls; an object written to the source arrives on the target; a target in use cannot be removed; the rule and
// then the target removed.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { GetBucketReplicationCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { adminCall } from '../../server/src/cli/admin-client.js';
import { ROOT, s3Error, startTestServer, type TestServer } from '../helpers/cairn.js';
import { consoleLogin, screenshot } from '../helpers/browser.js';
import { versionedBucket } from '../helpers/replication-config.js';

let source: TestServer;
let target: TestServer;
let s3: S3Client;
let remote: S3Client;
let browser: Browser;
let page: Page;
let dialogs: string[] = [];

beforeAll(async () => {
  const opts = { replicationRetry: { minMs: 50, maxMs: 400 } };
  [source, target] = await Promise.all([startTestServer(opts), startTestServer(opts)]);
  s3 = source.client();
  remote = target.client();
  await versionedBucket(s3, 'origin');
  await versionedBucket(remote, 'copies');
  ({ browser, page, dialogs } = await consoleLogin(source.url));
});
afterAll(async () => {
  await browser?.close();
  await source?.close();
  await target?.close();
});

/** Polls until the page or a server shows what is expected (the browser and two servers share two busy cores). */
const eventually = <T>(f: () => T | Promise<T>) => expect.poll(f, { timeout: 30_000, interval: 200 });
const part = () => page.locator('[data-testid=replication]');
const error = () => part().locator('[data-testid=error]').textContent();
const targetRows = () => part().locator('[data-testid=replication-targets] tr').allTextContents();
const ruleRows = () => part().locator('[data-testid=replication-rules] tr').allTextContents();
const storedTargets = async () =>
  (await adminCall(
    { endpoint: source.url, region: 'us-east-1', ...ROOT },
    { method: 'GET', path: 'list-remote-targets', query: { bucket: 'origin', type: 'replication' } },
  )) as { arn: string; endpoint: string; targetbucket: string }[];
const host = () => new URL(target.url).host;
const digest = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function fillTarget(bucket: string, secretKey: string) {
  const form = part().locator('[data-testid=replication-add-target]');
  await form.locator('input[name=replUrl]').fill(target.url);
  await form.locator('input[name=replBucket]').fill(bucket);
  await form.locator('input[name=replAccessKey]').fill(ROOT.accessKey);
  await form.locator('input[name=replSecretKey]').fill(secretKey);
  await form.locator('button[type=submit]').click();
}

describe('bucket replication in the console', () => {
  it('shows the probe refusing a wrong secret and a missing bucket; nothing is stored', async () => {
    await page.goto(`${source.url}/console/#/settings/origin`);
    await eventually(() => part().textContent()).toContain('No targets.');
    await fillTarget('copies', 'not-the-secret');
    await eventually(error).toMatch(/^XMinioAdminReplicationRemoteConnectionError: /);
    expect(await storedTargets()).toEqual([]);
    await fillTarget('nowhere', ROOT.secretKey);
    await eventually(error).toMatch(/^XMinioAdminRemoteTargetNotFoundError: /);
    expect(await storedTargets()).toEqual([]);
    await part().locator('input[name=replUrl]').fill('ftp://elsewhere');
    await part().locator('[data-testid=replication-add-target] button[type=submit]').click();
    await eventually(error).toBe('The target must be http(s)://host[:port], not ftp://elsewhere');
    expect(await storedTargets()).toEqual([]);
  });

  it('adds a target and a rule; an object written to the source arrives on the target', async () => {
    await fillTarget('copies', ROOT.secretKey);
    await eventually(async () => (await storedTargets()).map((t) => [t.endpoint, t.targetbucket])).toEqual([
      [host(), 'copies'],
    ]);
    const [{ arn }] = await storedTargets();
    await eventually(targetRows).toEqual([expect.stringContaining(`${target.url}/copies`)]);
    expect((await targetRows())[0]).toContain(arn);
    // The secret went sealed; once added it is gone from the form and is not in the page.
    expect(await part().locator('input[name=replSecretKey]').inputValue()).toBe('');
    expect(await page.content()).not.toContain(ROOT.secretKey);

    const form = part().locator('[data-testid=replication-add-rule]');
    await form.locator('input[name=replRuleId]').fill('everything');
    expect(await form.locator('select[name=replTarget]').inputValue()).toBe(arn);
    await form.locator('button[type=submit]').click();
    await eventually(async () => {
      const out = await s3.send(new GetBucketReplicationCommand({ Bucket: 'origin' }));
      return out.ReplicationConfiguration?.Rules?.map((r) => [r.ID, r.Status, r.Destination?.Bucket]);
    }).toEqual([['everything', 'Enabled', arn]]);
    await eventually(ruleRows).toEqual([expect.stringContaining('everything')]);
    expect((await ruleRows())[0]).toContain(`${target.url}/copies`);
    expect((await ruleRows())[0]).toContain('delete markers');
    await screenshot(page, '35-replication');

    const body = Buffer.alloc(256 * 1024, 7);
    await s3.send(new PutObjectCommand({ Bucket: 'origin', Key: 'docs/a.bin', Body: body }));
    const arrived = async () => {
      try {
        const out = await remote.send(new GetObjectCommand({ Bucket: 'copies', Key: 'docs/a.bin' }));
        return digest(await out.Body!.transformToByteArray());
      } catch {
        return 'not yet';
      }
    };
    await expect.poll(arrived, { timeout: 60_000, interval: 250 }).toBe(digest(body));
  });

  it('a target in use is not removed; the rule, then the target, are', async () => {
    const [{ arn }] = await storedTargets();
    await part().locator('[data-testid=replication-targets] button[name=replRemove]').click();
    await eventually(error).toMatch(/^XMinioAdminRemoteRemoveDisallowed: /);
    expect((await storedTargets()).map((t) => t.arn)).toEqual([arn]);

    await part().locator('[data-testid=replication-rules] button').click();
    await eventually(
      async () => (await s3Error(s3.send(new GetBucketReplicationCommand({ Bucket: 'origin' })))).name,
    ).toBe('ReplicationConfigurationNotFoundError');
    await eventually(() => part().textContent()).toContain('No rules.');
    await part().locator('[data-testid=replication-targets] button[name=replRemove]').click();
    await eventually(storedTargets).toEqual([]);
    await eventually(() => part().textContent()).toContain('No targets.');
    expect(dialogs).toEqual([]);
  });
});
