// Lifecycle rules applied by the background scanner, on a real server with the test clock (a day of 1 s,
// rules applied every 250 ms): expiration of current versions (unversioned: gone; versioned: a delete marker),
// by prefix, tags, size and date; noncurrent versions with NewerNoncurrentVersions; lone delete markers; unfinished
// multipart uploads; locked versions that survive every rule; and rules set before a restart and applied after.
// Nothing sleeps: each test polls (vi.waitFor, bounded) for the last change it expects, and objects that must
// stay are named to be listed before it, so the scanner's pass that made the change has judged them too.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectRetentionCommand,
  type LifecycleRule,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startServer } from '@cairn/server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ALT, ROOT, makeClient, startWithBucket, type TestServer } from '../helpers/cairn.js';

const LIFECYCLE = { lifecycleDaySeconds: 1, storage: { background: true, staleUploadsCleanupIntervalMs: 250 } };
/** Polling, not timing: generous bounds for a loaded machine, checked every 100 ms. */
const POLL = { timeout: 60_000, interval: 100 };

let server: TestServer;
let s3: S3Client;
beforeAll(async () => {
  ({ server, s3 } = await startWithBucket(undefined, LIFECYCLE));
});
afterAll(() => server?.close());

let n = 0;
async function newBucket(opts: { versioned?: boolean; locked?: boolean } = {}): Promise<string> {
  const Bucket = `scan-${++n}`;
  await s3.send(new CreateBucketCommand({ Bucket, ObjectLockEnabledForBucket: opts.locked }));
  if (opts.versioned)
    await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  return Bucket;
}

const setRules = (client: S3Client, Bucket: string, Rules: LifecycleRule[]) =>
  client.send(new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules } }));
const keys = async (Bucket: string) =>
  ((await s3.send(new ListObjectsV2Command({ Bucket }))).Contents ?? []).map((o) => o.Key).sort();
async function versions(Bucket: string) {
  const r = await s3.send(new ListObjectVersionsCommand({ Bucket }));
  const v = (r.Versions ?? []).map((x) => `${x.Key}@${x.VersionId}`);
  const m = (r.DeleteMarkers ?? []).map((x) => `${x.Key}@${x.VersionId}`);
  return { versions: v.sort(), markers: m.sort() };
}
const putObject = async (Bucket: string, Key: string, Body = 'x', extra: { Tagging?: string } = {}) =>
  (await s3.send(new PutObjectCommand({ Bucket, Key, Body, ...extra }))).VersionId!;

describe('expiration of current versions', () => {
  it('deletes what prefix, tag, size and date rules name in an unversioned bucket, and nothing else', async () => {
    const Bucket = await newBucket();
    // Kept objects sort before the last one to go ('z/...'), so the pass that removed it judged them too.
    await putObject(Bucket, 'a-keep/plain');
    await putObject(Bucket, 'b-tag/other', 'x', { Tagging: 'expire=no' });
    await putObject(Bucket, 'c-size/small', 'x'.repeat(10));
    await putObject(Bucket, 'b-tag/marked', 'x', { Tagging: 'expire=yes&more=1' });
    await putObject(Bucket, 'c-size/big', 'x'.repeat(200));
    await putObject(Bucket, 'd-date/old');
    await putObject(Bucket, 'e-future/kept');
    await putObject(Bucket, 'z/gone');
    await setRules(s3, Bucket, [
      { ID: 'prefix', Filter: { Prefix: 'z/' }, Status: 'Enabled', Expiration: { Days: 1 } },
      { ID: 'tag', Filter: { Tag: { Key: 'expire', Value: 'yes' } }, Status: 'Enabled', Expiration: { Days: 1 } },
      {
        ID: 'size',
        Filter: { And: { Prefix: 'c-size/', ObjectSizeGreaterThan: 100 } },
        Status: 'Enabled',
        Expiration: { Days: 1 },
      },
      { ID: 'past', Filter: { Prefix: 'd-date/' }, Status: 'Enabled', Expiration: { Date: new Date('2015-01-01') } },
      { ID: 'future', Filter: { Prefix: 'e-' }, Status: 'Enabled', Expiration: { Date: new Date('2100-01-01') } },
      { ID: 'off', Filter: { Prefix: 'a-' }, Status: 'Disabled', Expiration: { Days: 1 } },
    ]);
    await vi.waitFor(async () => expect(await keys(Bucket)).not.toContain('z/gone'), POLL);
    expect(await keys(Bucket)).toEqual(['a-keep/plain', 'b-tag/other', 'c-size/small', 'e-future/kept']);
  });

  it('adds a delete marker in a versioned bucket and answers x-amz-expiration by the test clock', async () => {
    const Bucket = await newBucket({ versioned: true });
    await setRules(s3, Bucket, [{ ID: 'one-day', Filter: { Prefix: '' }, Status: 'Enabled', Expiration: { Days: 1 } }]);
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'k' }));
    // Not rounded to midnight: one test-clock day (1 s) after the write.
    const due = head.LastModified!.getTime() + 1000;
    expect(put.Expiration).toBe(`expiry-date="${new Date(due).toUTCString()}", rule-id="one-day"`);
    await vi.waitFor(async () => expect((await versions(Bucket)).markers).toHaveLength(1), POLL);
    expect((await versions(Bucket)).versions).toEqual([`k@${put.VersionId}`]);
  });
});

describe('noncurrent versions and delete markers', () => {
  it('removes noncurrent versions past NoncurrentDays but keeps the NewerNoncurrentVersions newest', async () => {
    const Bucket = await newBucket({ versioned: true });
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await putObject(Bucket, 'k', `v${i}`));
    const other = [await putObject(Bucket, 'a-other', '1'), await putObject(Bucket, 'a-other', '2')];
    await setRules(s3, Bucket, [
      {
        ID: 'nc',
        Filter: { Prefix: 'k' },
        Status: 'Enabled',
        NoncurrentVersionExpiration: { NoncurrentDays: 1, NewerNoncurrentVersions: 2 },
      },
    ]);
    await vi.waitFor(async () => expect((await versions(Bucket)).versions).toHaveLength(5), POLL);
    const left = (await versions(Bucket)).versions;
    expect(left).toEqual([...other.map((v) => `a-other@${v}`), ...ids.slice(2).map((v) => `k@${v}`)].sort());
  });

  // More versions of one key than a listing page (100): judged as they are listed, never all held at once.
  it('a key with more versions than a page: NewerNoncurrentVersions across pages, then the lone marker', async () => {
    const Bucket = await newBucket({ versioned: true });
    const ids: string[] = [];
    for (let i = 0; i < 230; i++) ids.push(await putObject(Bucket, 'k', `v${i}`));
    // 'm': 120 versions under a delete marker; every one goes, then the marker, left alone.
    for (let i = 0; i < 120; i++) await putObject(Bucket, 'm', `m${i}`);
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'm' }));
    await setRules(s3, Bucket, [
      {
        ID: 'k',
        Filter: { Prefix: 'k' },
        Status: 'Enabled',
        NoncurrentVersionExpiration: { NoncurrentDays: 1, NewerNoncurrentVersions: 5 },
      },
      {
        ID: 'm',
        Filter: { Prefix: 'm' },
        Status: 'Enabled',
        NoncurrentVersionExpiration: { NoncurrentDays: 1 },
        Expiration: { ExpiredObjectDeleteMarker: true },
      },
    ]);
    await vi.waitFor(async () => {
      const left = await versions(Bucket);
      expect(left.markers).toEqual([]);
      expect(left.versions).toHaveLength(6);
    }, POLL);
    expect((await versions(Bucket)).versions).toEqual(
      ids
        .slice(-6)
        .map((v) => `k@${v}`)
        .sort(),
    );
  }, 180_000); // 350 PUTs one after another: 10 s on a quiet machine, over 60 s at load 35

  it('removes a lone delete marker (ExpiredObjectDeleteMarker), not one that still hides versions', async () => {
    const Bucket = await newBucket({ versioned: true });
    const hidden = await putObject(Bucket, 'a-hides');
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'a-hides' }));
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'z-lone' }));
    const before = await versions(Bucket);
    expect(before.markers).toHaveLength(2);
    await setRules(s3, Bucket, [
      { ID: 'dm', Filter: {}, Status: 'Enabled', Expiration: { ExpiredObjectDeleteMarker: true } },
    ]);
    await vi.waitFor(async () => expect((await versions(Bucket)).markers).toHaveLength(1), POLL);
    const after = await versions(Bucket);
    expect(after.markers[0]).toMatch(/^a-hides@/);
    expect(after.versions).toEqual([`a-hides@${hidden}`]);
  });
});

describe('multipart uploads', () => {
  it('aborts unfinished uploads the rule names after DaysAfterInitiation', async () => {
    const Bucket = await newBucket();
    const kept = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'keep/x' }));
    await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'tmp/x' }));
    await setRules(s3, Bucket, [
      {
        ID: 'mpu',
        Filter: { Prefix: 'tmp/' },
        Status: 'Enabled',
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      },
    ]);
    const uploads = async () => (await s3.send(new ListMultipartUploadsCommand({ Bucket }))).Uploads ?? [];
    await vi.waitFor(async () => expect(await uploads()).toHaveLength(1), POLL);
    expect((await uploads()).map((u) => u.UploadId)).toEqual([kept.UploadId]);
  });
});

describe('object lock', () => {
  it('never removes a version under legal hold or retention; the others go', async () => {
    const Bucket = await newBucket({ locked: true });
    const held = await putObject(Bucket, 'a-held', 'v1');
    await s3.send(
      new PutObjectLegalHoldCommand({ Bucket, Key: 'a-held', VersionId: held, LegalHold: { Status: 'ON' } }),
    );
    const retained = await putObject(Bucket, 'b-retained', 'v1');
    await s3.send(
      new PutObjectRetentionCommand({
        Bucket,
        Key: 'b-retained',
        VersionId: retained,
        Retention: { Mode: 'COMPLIANCE', RetainUntilDate: new Date(Date.now() + 3_600_000) },
      }),
    );
    const free = await putObject(Bucket, 'z-free', 'v1');
    // Expire every current version (a delete marker each), then every noncurrent one after a day.
    await setRules(s3, Bucket, [
      {
        ID: 'all',
        Filter: {},
        Status: 'Enabled',
        Expiration: { Days: 1 },
        NoncurrentVersionExpiration: { NoncurrentDays: 1 },
      },
    ]);
    await vi.waitFor(async () => expect((await versions(Bucket)).versions).not.toContain(`z-free@${free}`), POLL);
    expect((await versions(Bucket)).versions).toEqual([`a-held@${held}`, `b-retained@${retained}`]);
  });
});

describe('restarts', () => {
  let base = '';
  afterAll(async () => {
    if (base) await rm(base, { recursive: true, force: true });
  });

  it('a rule set before a restart is applied after it', async () => {
    base = await mkdtemp(join(tmpdir(), 'cairn-lifecycle-'));
    const drives = [1, 2, 3, 4].map((i) => join(base, `d${i}`));
    const common = { address: '127.0.0.1:0', drives, credentials: { root: ROOT, users: [ALT] } };
    // First run: no background work at all, so nothing can be applied before the restart.
    const first = await startServer({ ...common, storage: { background: false } });
    const c1 = makeClient(first.url);
    const Bucket = 'restart';
    try {
      await c1.send(new CreateBucketCommand({ Bucket }));
      await c1.send(new PutObjectCommand({ Bucket, Key: 'a-keep', Body: 'x' }));
      await c1.send(new PutObjectCommand({ Bucket, Key: 'z-expire', Body: 'x' }));
      await setRules(c1, Bucket, [{ ID: 'r', Filter: { Prefix: 'z-' }, Status: 'Enabled', Expiration: { Days: 1 } }]);
    } finally {
      await first.close();
    }
    const second = await startServer({ ...common, ...LIFECYCLE });
    try {
      const c2 = makeClient(second.url);
      const listed = async () =>
        ((await c2.send(new ListObjectsV2Command({ Bucket }))).Contents ?? []).map((o) => o.Key);
      await vi.waitFor(async () => expect(await listed()).toEqual(['a-keep']), POLL);
    } finally {
      await second.close();
    }
  });
});
