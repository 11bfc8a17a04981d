// A transition to a real MinIO server as the remote tier (when /work/ext/bin/minio or CAIRN_TEST_MINIO names a
// binary; skipped with the reason otherwise), with the test clock: the tier is added and probed through MinIO's
// admin tier API, a lifecycle rule moves the object's data into MinIO's bucket, GET reads it back whole and in
// ranges, tier-stats counts it, and deleting the object removes MinIO's copy.
import { type ChildProcess, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
import { makeClient, ROOT, startWithBucket, type TestServer } from '../helpers/cairn.js';
import { freePort, MINIO } from '../helpers/replication.js';

const haveMinio = existsSync(MINIO);
const MINIO_ROOT = { accessKey: 'miniotier', secretKey: 'minio-tier-secret' };
const POLL = { timeout: 45_000, interval: 100 };
let dir: string;
let proc: ChildProcess | undefined;
let minio: S3Client;
let minioUrl: string;
let hot: TestServer;
let s3: S3Client;

describe.skipIf(!haveMinio)(`MinIO as the remote tier${haveMinio ? '' : ` (no MinIO binary at ${MINIO})`}`, () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cairn-tier-minio-'));
    const port = await freePort();
    proc = execFile(MINIO, ['server', '--address', `127.0.0.1:${port}`, '--quiet', dir], {
      env: { ...process.env, MINIO_ROOT_USER: MINIO_ROOT.accessKey, MINIO_ROOT_PASSWORD: MINIO_ROOT.secretKey },
    });
    minioUrl = `http://127.0.0.1:${port}`;
    minio = makeClient(minioUrl, { credentials: MINIO_ROOT, checksums: 'WHEN_REQUIRED' });
    await vi.waitFor(() => minio.send(new CreateBucketCommand({ Bucket: 'warm' })), { timeout: 30_000, interval: 100 });
    ({ server: hot, s3 } = await startWithBucket(undefined, {
      lifecycleDaySeconds: 1,
      storage: { background: true, staleUploadsCleanupIntervalMs: 250, gcGraceMs: 100 },
    }));
  }, 60_000);
  afterAll(async () => {
    await hot?.close();
    proc?.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('moves data to MinIO, reads it back (ranges too), counts it, and removes it with the object', async () => {
    const admin = { endpoint: hot.url, ...ROOT, region: 'us-east-1' };
    const tier = {
      Version: 'v1',
      Type: 'minio',
      Name: 'WARM',
      MinIO: {
        Endpoint: minioUrl,
        ...{ AccessKey: MINIO_ROOT.accessKey, SecretKey: MINIO_ROOT.secretKey },
        Bucket: 'warm',
        Prefix: 'cairn/',
      },
    };
    await adminCall(admin, { method: 'PUT', path: 'tier', body: tier, encrypt: true });
    await adminCall(admin, { method: 'GET', path: 'tier/WARM' }); // verify: a probe written, read and removed
    const Bucket = 'moved';
    await s3.send(new CreateBucketCommand({ Bucket }));
    const data = randomBytes(3 * 1024 * 1024 + 17);
    await s3.send(new PutObjectCommand({ Bucket, Key: 'cold/k', Body: data, Metadata: { m: '1' } }));
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket,
        LifecycleConfiguration: {
          Rules: [
            {
              ID: 'to-minio',
              Filter: { Prefix: 'cold/' },
              Status: 'Enabled',
              Transitions: [{ Days: 1, StorageClass: 'WARM' as TransitionStorageClass }],
            },
          ],
        },
      }),
    );
    await vi.waitFor(async () => {
      expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'cold/k' }))).StorageClass).toBe('WARM');
    }, POLL);
    const onMinio = async () =>
      ((await minio.send(new ListObjectsV2Command({ Bucket: 'warm' }))).Contents ?? []).map((o) => [o.Key, o.Size]);
    const stored = await onMinio();
    expect(stored).toHaveLength(1);
    expect(stored[0][0]).toMatch(/^cairn\//);
    expect(stored[0][1]).toBe(data.length);
    const whole = await s3.send(new GetObjectCommand({ Bucket, Key: 'cold/k' }));
    expect(Buffer.from(await whole.Body!.transformToByteArray()).equals(data)).toBe(true);
    expect(whole.Metadata).toEqual({ m: '1' });
    const range = await s3.send(new GetObjectCommand({ Bucket, Key: 'cold/k', Range: 'bytes=1048570-2097160' }));
    expect(Buffer.from(await range.Body!.transformToByteArray()).equals(data.subarray(1048570, 2097161))).toBe(true);
    type Stats = { totalSize: number; numVersions: number };
    await vi.waitFor(async () => {
      const infos = (await adminCall(admin, { method: 'GET', path: 'tier-stats' })) as {
        Name: string;
        DailyStats: { Bins: Stats[] };
      }[];
      const bins = infos.find((i) => i.Name === 'WARM')!.DailyStats.Bins;
      expect(bins.reduce((n, b) => [n[0] + b.totalSize, n[1] + b.numVersions], [0, 0])).toEqual([data.length, 1]);
    }, POLL);
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'cold/k' }));
    await vi.waitFor(async () => expect(await onMinio()).toEqual([]), POLL);
  });
});
