// A bucket's hard quota (api/quota.ts) holds when the writes go through different workers of one server: each
// worker's own count of the bucket's bytes must not let it take bytes another worker has already taken, nor may
// two writes at once through both take the last bytes; a quota set through one worker makes the other count the
// bucket anew (what was written while there was none was counted nowhere). The realtime metrics
// (admin/v3/metrics) count the requests of both workers.
import {
  CreateBucketCommand,
  ListBucketsCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { type IncomingMessage, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { adminCall, adminStream, type AdminTarget } from '../../server/src/cli/admin-client.js';
import { s3Error } from '../helpers/cairn.js';
import { signRequest } from '../helpers/signed-request.js';
import { startWorkers, WORKERS_ROOT, type WorkersServer } from '../helpers/workers.js';

let server: WorkersServer;
let one: S3Client;
let two: S3Client;
let root: AdminTarget;
const KiB = 1024;

beforeAll(async () => {
  server = await startWorkers(2);
  root = { endpoint: server.url, region: 'us-east-1', ...WORKERS_ROOT };
  [one, two] = await Promise.all([server.client(1), server.client(2)]);
});
afterAll(() => server?.close());

/** set-bucket-quota answered by worker `slot` (a signed request over a connection that worker serves). */
async function quotaVia(slot: number, bucket: string, size: number): Promise<void> {
  const body = JSON.stringify({ size, quotatype: 'hard' });
  const { headers, target } = await signRequest(server.url, {
    method: 'PUT',
    path: '/minio/admin/v3/set-bucket-quota',
    query: { bucket },
    body,
    credentials: WORKERS_ROOT,
  });
  const agent = await server.agent(slot);
  const res = await new Promise<IncomingMessage>((resolve, reject) =>
    request(`${server.url}${target}`, { method: 'PUT', headers, agent }, resolve).on('error', reject).end(body),
  );
  res.resume();
  expect([res.statusCode, res.headers['x-cairn-worker']]).toEqual([200, String(slot)]);
}

const put = (c: S3Client, Key: string, size: number) =>
  c.send(new PutObjectCommand({ Bucket: 'capped', Key, Body: Buffer.alloc(size, 1) }));
const stored = async () => {
  const out = await one.send(new ListObjectVersionsCommand({ Bucket: 'capped' }));
  return (out.Versions ?? []).reduce((a, v) => a + (v.Size ?? 0), 0);
};

describe('bucket quota with two workers', () => {
  it('refuses on one worker the bytes the other has taken', async () => {
    await one.send(new CreateBucketCommand({ Bucket: 'capped' }));
    await adminCall(root, {
      method: 'PUT',
      path: 'set-bucket-quota',
      query: { bucket: 'capped' },
      body: { size: 256 * KiB, quotatype: 'hard' },
    });
    // Bodies refused stay under the server's DISCARD_LIMIT (http/body.ts), so a pinned connection survives an early
    // refusal (a larger unread rest closes it, and the client's next connection may reach the other worker).
    // Worker 1 counts the bucket (empty) and takes half; worker 2 counts it and takes the other half.
    await put(one, 'a', 128 * KiB);
    await put(two, 'b', 128 * KiB);
    // Full: worker 1 must not take more, though its own count says half.
    expect(await s3Error(put(one, 'c', 128 * KiB))).toEqual({ name: 'XMinioAdminBucketQuotaExceeded', status: 400 });
    expect(await s3Error(put(two, 'd', 1))).toEqual({ name: 'XMinioAdminBucketQuotaExceeded', status: 400 });
    expect(await stored()).toBe(256 * KiB);
  });

  it('concurrent writes through both workers cannot both take the last bytes', async () => {
    await one.send(new CreateBucketCommand({ Bucket: 'raced' }));
    await adminCall(root, {
      method: 'PUT',
      path: 'set-bucket-quota',
      query: { bucket: 'raced' },
      body: { size: 256 * KiB, quotatype: 'hard' },
    });
    // Six writes of 128 KiB at once, three through each worker: two fit.
    const writes = ['a', 'b', 'c', 'd', 'e', 'f'].map((k, i) =>
      (i % 2 ? one : two)
        .send(new PutObjectCommand({ Bucket: 'raced', Key: k, Body: Buffer.alloc(128 * KiB, 2) }))
        .then(
          () => 'stored',
          (e: Error) => e.name,
        ),
    );
    const outcomes = await Promise.all(writes);
    expect(outcomes.filter((o) => o === 'stored')).toHaveLength(2);
    expect(outcomes.filter((o) => o !== 'stored')).toEqual(Array(4).fill('XMinioAdminBucketQuotaExceeded'));
    const out = await two.send(new ListObjectVersionsCommand({ Bucket: 'raced' }));
    expect((out.Versions ?? []).reduce((a, v) => a + (v.Size ?? 0), 0)).toBe(256 * KiB);
  });

  it('a quota set through one worker has the other count the bucket anew', async () => {
    await one.send(new CreateBucketCommand({ Bucket: 'reset' }));
    await quotaVia(1, 'reset', 256 * KiB);
    // Worker 2 counts the bucket (empty) and takes 25 KiB.
    await two.send(new PutObjectCommand({ Bucket: 'reset', Key: 'small', Body: Buffer.alloc(25 * KiB, 3) }));
    // Without a quota, 225 KiB through worker 1 are counted nowhere; then the quota again, through worker 1.
    await quotaVia(1, 'reset', 0);
    await one.send(new PutObjectCommand({ Bucket: 'reset', Key: 'big', Body: Buffer.alloc(225 * KiB, 4) }));
    await quotaVia(1, 'reset', 256 * KiB);
    // Worker 2's own count (25 KiB, fresh) would let 128 KiB in: the quota set made it count again first.
    const over = two.send(new PutObjectCommand({ Bucket: 'reset', Key: 'over', Body: Buffer.alloc(128 * KiB, 5) }));
    expect(await s3Error(over)).toEqual({ name: 'XMinioAdminBucketQuotaExceeded', status: 400 });
    const out = await one.send(new ListObjectVersionsCommand({ Bucket: 'reset' }));
    expect((out.Versions ?? []).map((v) => [v.Key, v.Size])).toEqual([
      ['big', 225 * KiB],
      ['small', 25 * KiB],
    ]);
  });

  it('the realtime metrics count the requests of both workers', async () => {
    const requests = async () => {
      for await (const doc of await adminStream(root, {
        method: 'GET',
        path: 'metrics',
        query: { types: '1024', n: '1' },
      }))
        return (doc as { aggregated: { api: { since_start: { requests: number } } } }).aggregated.api.since_start
          .requests;
      return 0;
    };
    const before = await requests();
    for (let i = 0; i < 3; i++) {
      await one.send(new ListBucketsCommand({}));
      await two.send(new ListBucketsCommand({}));
    }
    await vi.waitFor(async () => expect(await requests()).toBeGreaterThanOrEqual(before + 6), {
      timeout: 60_000,
      interval: 250,
    });
  });
});
