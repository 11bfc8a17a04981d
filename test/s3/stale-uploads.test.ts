// The background removal of stale multipart uploads over HTTP: with an expiry of 0 and a short interval, an
// unfinished upload disappears from ListMultipartUploads by itself, its parts can no longer be used, and
// completed objects are untouched.
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { s3Error, startWithBucket, type TestServer } from '../helpers/cairn.js';

let server: TestServer;
let s3: S3Client;
const Bucket = 'stale';
beforeAll(async () => {
  ({ server, s3 } = await startWithBucket(Bucket, {
    storage: { background: true, staleUploadsExpiryMs: 0, staleUploadsCleanupIntervalMs: 20 },
  }));
});
afterAll(() => server?.close());

it('an unfinished upload is removed in the background; objects stay', async () => {
  await s3.send(new PutObjectCommand({ Bucket, Key: 'done', Body: 'kept' }));
  const up = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'forgotten' }));
  await vi.waitFor(
    async () => {
      const list = await s3.send(new ListMultipartUploadsCommand({ Bucket }));
      expect(list.Uploads ?? []).toEqual([]);
    },
    { timeout: 30_000, interval: 20 },
  );
  const part = new UploadPartCommand({ Bucket, Key: 'forgotten', UploadId: up.UploadId, PartNumber: 1, Body: 'x' });
  expect(await s3Error(s3.send(part))).toMatchObject({ name: 'NoSuchUpload' });
  const complete = new CompleteMultipartUploadCommand({
    Bucket,
    Key: 'forgotten',
    UploadId: up.UploadId,
    MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"x"' }] },
  });
  expect(await s3Error(s3.send(complete))).toMatchObject({ name: 'NoSuchUpload' });
  const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'done' }));
  expect(await got.Body?.transformToString()).toBe('kept');
});
