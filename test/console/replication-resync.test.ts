// A replication target's credentials updated and a resync started from the console's bucket settings, in
// Debian's chromium headless, between two Cairn servers: a wrong new secret is refused by the server's probe and
// the stored keys stay; the right one is stored (and never shown back); a resync is refused while no rule allows
// existing objects, then copies the objects written before the rule, its progress shown.
import { createHash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCall } from '../../server/src/cli/admin-client.js';
import { consoleLogin, screenshot } from '../helpers/browser.js';
import { ROOT, startTestServer, type TestServer } from '../helpers/cairn.js';
import { remoteTarget, replicateAll, versionedBucket } from '../helpers/replication-config.js';

let source: TestServer;
let target: TestServer;
let s3: S3Client;
let remote: S3Client;
let browser: Browser;
let page: Page;
let arn: string;
/** A user of the target server the page switches the target's keys to. */
const REPLICATOR = { accessKey: 'replicator', secretKey: 'replicator-secret-1' };
const OLD = ['old/a', 'old/b', 'old/c'];
const body = (key: string) => Buffer.alloc(100 * 1024, key.charCodeAt(4));
const digest = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  const opts = { replicationRetry: { minMs: 50, maxMs: 400 } };
  [source, target] = await Promise.all([startTestServer(opts), startTestServer(opts)]);
  s3 = source.client();
  remote = target.client();
  await versionedBucket(s3, 'origin');
  await versionedBucket(remote, 'copies');
  const targetRoot = { endpoint: target.url, region: 'us-east-1', ...ROOT };
  await adminCall(targetRoot, {
    method: 'PUT',
    path: 'add-user',
    query: { accessKey: REPLICATOR.accessKey },
    body: { secretKey: REPLICATOR.secretKey, status: 'enabled' },
    encrypt: true,
  });
  await adminCall(targetRoot, {
    method: 'PUT',
    path: 'set-user-or-group-policy',
    query: { userOrGroup: REPLICATOR.accessKey, isGroup: 'false', policyName: 'readwrite' },
  });
  arn = await remoteTarget(source.url, 'origin', new URL(target.url).host, 'copies');
  // Written before any rule: not replicated until a resync.
  for (const key of OLD) await s3.send(new PutObjectCommand({ Bucket: 'origin', Key: key, Body: body(key) }));
  await replicateAll(s3, 'origin', arn);
  ({ browser, page } = await consoleLogin(source.url));
});
afterAll(async () => {
  await browser?.close();
  await source?.close();
  await target?.close();
});

/** Polls until the page or a server shows what is expected (the browser and two servers share two busy cores). */
const eventually = <T>(f: () => T | Promise<T>) => expect.poll(f, { timeout: 60_000, interval: 250 });
const part = () => page.locator('[data-testid=replication]');
const error = () => part().locator('[data-testid=error]').first().textContent();
const storedKey = async () => {
  const targets = (await adminCall(
    { endpoint: source.url, region: 'us-east-1', ...ROOT },
    { method: 'GET', path: 'list-remote-targets', query: { bucket: 'origin', type: 'replication' } },
  )) as { arn: string; credentials?: { accessKey?: string } }[];
  return targets.map((t) => [t.arn, t.credentials?.accessKey]);
};
const onTarget = async (key: string) => {
  try {
    const out = await remote.send(new GetObjectCommand({ Bucket: 'copies', Key: key }));
    return digest(await out.Body!.transformToByteArray());
  } catch (e) {
    return (e as Error).name;
  }
};

async function newCredentials(accessKey: string, secretKey: string) {
  await part().locator('button[name=replCreds]').click();
  const form = part().locator('[data-testid=replication-credentials]');
  await form.locator('input[name=replNewAccessKey]').fill(accessKey);
  await form.locator('input[name=replNewSecretKey]').fill(secretKey);
  await form.locator('button[type=submit]').click();
}

describe('replication target credentials and resync in the console', () => {
  it('updates the credentials after the probe; a wrong secret changes nothing', async () => {
    await page.goto(`${source.url}/console/#/settings/origin`);
    await eventually(() => part().locator('[data-testid=replication-targets]').textContent()).toContain(arn);
    await newCredentials(REPLICATOR.accessKey, 'not-the-secret');
    await eventually(error).toMatch(/^XMinioAdminReplicationRemoteConnectionError: /);
    expect(await storedKey()).toEqual([[arn, ROOT.accessKey]]);
    await part().locator('button[name=replCredsCancel]').click();

    await newCredentials(REPLICATOR.accessKey, REPLICATOR.secretKey);
    await eventually(storedKey).toEqual([[arn, REPLICATOR.accessKey]]);
    await eventually(() => part().locator('[data-testid=replication-credentials]').count()).toBe(0);
    await eventually(() => part().locator('[data-testid=replication-targets]').textContent()).toContain(
      REPLICATOR.accessKey,
    );
    expect(await page.content()).not.toContain(REPLICATOR.secretKey);
  });

  it('refuses a resync no rule allows, then resyncs the existing objects', async () => {
    expect(await onTarget(OLD[0])).toBe('NoSuchKey');
    await part().locator('button[name=replResync]').click();
    await eventually(error).toMatch(/^XMinioReplicationNoExistingObjects: /);
    expect(await part().locator('[data-testid=resync-status]').textContent()).toBe('');

    await replicateAll(s3, 'origin', arn, { ExistingObjectReplication: { Status: 'Enabled' } });
    await part().locator('button[name=replResync]').click();
    await eventually(() => part().locator('[data-testid=resync-status]').textContent()).toBe(
      'resync Completed: 3 replicated, 0 failed',
    );
    // The bar: the 3 versions counted before the walk, all copied.
    const bar = part().locator('[data-testid=resync-progress]');
    expect([await bar.getAttribute('value'), await bar.getAttribute('max')]).toEqual(['3', '3']);
    for (const key of OLD) await eventually(() => onTarget(key)).toBe(digest(body(key)));
    await screenshot(page, '41-replication-resync');
  });
});
