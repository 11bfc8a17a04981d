// Lifecycle rules with `cairn server --workers 2` and the test clock (CAIRN_LIFECYCLE_DAY_SECONDS=1): a rule set
// through worker 2 is applied by the leader (worker 1) alone, and every worker answers x-amz-expiration by the
// test clock (the setting reaches the workers). The scanner logs each pass that acted ('lifecycle scan').
import {
  CreateBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketLifecycleConfigurationCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startWorkers, type WorkersServer } from '../helpers/workers.js';

let server: WorkersServer;
let s3: S3Client[];

beforeAll(async () => {
  server = await startWorkers(2, { CAIRN_LIFECYCLE_DAY_SECONDS: '1' });
  s3 = await Promise.all([1, 2].map((w) => server.client(w)));
});
afterAll(() => server?.close());

describe('lifecycle rules across workers', () => {
  it('are applied by the leader only, and every worker answers x-amz-expiration by the test clock', async () => {
    const Bucket = 'life';
    await s3[1].send(new CreateBucketCommand({ Bucket }));
    await s3[1].send(new PutObjectCommand({ Bucket, Key: 'a-keep', Body: 'x' }));
    await s3[1].send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket,
        LifecycleConfiguration: {
          Rules: [{ ID: 'tmp', Filter: { Prefix: 'tmp/' }, Status: 'Enabled', Expiration: { Days: 1 } }],
        },
      }),
    );
    await s3[1].send(new PutObjectCommand({ Bucket, Key: 'tmp/x', Body: 'x' }));
    for (const c of s3) {
      const head = await c.send(new HeadObjectCommand({ Bucket, Key: 'tmp/x' }));
      const due = new Date(head.LastModified!.getTime() + 1000).toUTCString();
      expect(head.Expiration).toBe(`expiry-date="${due}", rule-id="tmp"`);
    }
    const scan = await server.logLine((l) => l.msg === 'lifecycle scan');
    expect(scan.worker).toBe(1);
    const listed = async (c: S3Client) =>
      ((await c.send(new ListObjectsV2Command({ Bucket }))).Contents ?? []).map((o) => o.Key);
    await vi.waitFor(async () => expect(await listed(s3[1])).toEqual(['a-keep']), { timeout: 30_000, interval: 100 });
    expect(await listed(s3[0])).toEqual(['a-keep']);
    expect(server.logs.filter((l) => l.msg === 'lifecycle scan' && l.worker !== 1)).toEqual([]);
  });
});
