// Remote tiers with `cairn server --workers 2` and the test clock: a tier added through one worker is known to
// both (each accepts a rule naming it), the leader moves the object, both workers read it back from the tier,
// and a delete through worker 2 removes the remote copy. The tier is a second Cairn in this process.
import { randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketLifecycleConfigurationCommand,
  PutObjectCommand,
  type S3Client,
  type TransitionStorageClass,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { adminCall } from '../../server/src/cli/admin-client.js';
import { ROOT, startTestServer, type TestServer } from '../helpers/cairn.js';
import { WORKERS_ROOT, startWorkers, type WorkersServer } from '../helpers/workers.js';

const POLL = { timeout: 45_000, interval: 100 };
let server: WorkersServer;
let tier: TestServer;
let s3: S3Client[];

beforeAll(async () => {
  tier = await startTestServer();
  await tier.client().send(new CreateBucketCommand({ Bucket: 'warm' }));
  server = await startWorkers(2, { CAIRN_LIFECYCLE_DAY_SECONDS: '1' });
  s3 = await Promise.all([1, 2].map((w) => server.client(w)));
});
afterAll(async () => {
  await server?.close();
  await tier?.close();
});

describe('remote tiers across workers', () => {
  it('are known to every worker; the leader moves, every worker reads, a delete removes the remote copy', async () => {
    const body = {
      Version: 'v1',
      Type: 'minio',
      Name: 'WARM',
      MinIO: { Endpoint: tier.url, AccessKey: ROOT.accessKey, SecretKey: ROOT.secretKey, Bucket: 'warm', Prefix: 'w' },
    };
    await adminCall(
      { endpoint: server.url, ...WORKERS_ROOT, region: 'us-east-1' },
      { method: 'PUT', path: 'tier', body, encrypt: true },
    );
    const Bucket = 'tiered';
    await s3[0].send(new CreateBucketCommand({ Bucket }));
    const data = randomBytes(1_500_000);
    await s3[1].send(new PutObjectCommand({ Bucket, Key: 'k', Body: data }));
    // Each worker checks the rule's tier against the configuration as stored.
    for (const c of s3)
      await c.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket,
          LifecycleConfiguration: {
            Rules: [
              {
                ID: 't',
                Filter: { Prefix: '' },
                Status: 'Enabled',
                Transitions: [{ Days: 1, StorageClass: 'WARM' as TransitionStorageClass }],
              },
            ],
          },
        }),
      );
    await vi.waitFor(
      async () => expect((await s3[1].send(new HeadObjectCommand({ Bucket, Key: 'k' }))).StorageClass).toBe('WARM'),
      POLL,
    );
    for (const c of s3) {
      const got = await c.send(new GetObjectCommand({ Bucket, Key: 'k', Range: 'bytes=1000-1999' }));
      expect(Buffer.from(await got.Body!.transformToByteArray()).equals(data.subarray(1000, 2000))).toBe(true);
    }
    const remoteKeys = async () =>
      ((await tier.client().send(new ListObjectsV2Command({ Bucket: 'warm' }))).Contents ?? []).map((o) => o.Key);
    expect(await remoteKeys()).toHaveLength(1);
    await s3[1].send(new DeleteObjectCommand({ Bucket, Key: 'k' }));
    await vi.waitFor(async () => expect(await remoteKeys()).toEqual([]), POLL);
  });
});
