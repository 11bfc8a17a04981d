// Remote tiers with `cairn server --workers 2` and the test clock: a tier added through one worker is known to
// both (each accepts a rule naming it), the leader moves the object, both workers read it back from the tier,
// and a delete through worker 2 removes the remote copy; both workers' tier-stats count the transition in their
// DailyStats (the leader moved it). The tier is a second Cairn in this process.
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
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
import { signRequest } from '../helpers/signed-request.js';
import { WORKERS_ROOT, startWorkers, type WorkersServer } from '../helpers/workers.js';

type Stats = { totalSize: number; numVersions: number; numObjects: number };
type Info = { Name: string; DailyStats: { Bins: Stats[] } };

/** tier-stats as worker `slot` answers it. */
async function tierStats(slot: number): Promise<Info[]> {
  const path = '/minio/admin/v3/tier-stats';
  const { headers } = await signRequest(server.url, { method: 'GET', path, credentials: WORKERS_ROOT });
  const agent = await server.agent(slot);
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, { headers, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.once('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text) as Info[]) : reject(new Error(text))));
    });
    req.once('error', reject);
    req.end();
  });
}

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
    // The leader moved it; the other worker was told: both answer one transition of its bytes in the last day.
    for (const slot of [1, 2])
      await vi.waitFor(async () => {
        const warm = (await tierStats(slot)).find((i) => i.Name === 'WARM')!;
        const moved = warm.DailyStats.Bins.reduce((n, b) => [n[0] + b.totalSize, n[1] + b.numVersions], [0, 0]);
        expect(moved, `worker ${slot}`).toEqual([data.length, 1]);
      }, POLL);
    await s3[1].send(new DeleteObjectCommand({ Bucket, Key: 'k' }));
    await vi.waitFor(async () => expect(await remoteKeys()).toEqual([]), POLL);
  });
});
