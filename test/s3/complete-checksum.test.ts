// CompleteMultipartUpload with x-amz-checksum-<alg>: the whole object's checksum must match what the parts
// add up to, else BadDigest and the upload stays open (nothing is committed).
import { createHash } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Error, startWithBucket, type TestServer } from '../helpers/cairn.js';

describe('CompleteMultipartUpload checksum', () => {
  let srv: TestServer;
  let s3: S3Client;
  beforeAll(async () => {
    ({ server: srv, s3 } = await startWithBucket('ck-sum', { client: { checksums: 'WHEN_REQUIRED' } }));
  });
  afterAll(() => srv?.close());

  it('refuses a wrong composite SHA256 and accepts the right one (with or without -N)', async () => {
    const body = Buffer.alloc(1024, 'A');
    const partSum = createHash('sha256').update(body).digest();
    const composite = createHash('sha256').update(partSum).digest('base64');
    expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket: 'ck-sum', Key: 'k' })))).status).toBe(404);
    for (const want of [`${composite}-1`, composite]) {
      const up = await s3.send(
        new CreateMultipartUploadCommand({ Bucket: 'ck-sum', Key: 'k', ChecksumAlgorithm: 'SHA256' }),
      );
      const part = await s3.send(
        new UploadPartCommand({
          Bucket: 'ck-sum',
          Key: 'k',
          UploadId: up.UploadId,
          PartNumber: 1,
          Body: body,
          ChecksumSHA256: partSum.toString('base64'),
        }),
      );
      const parts = { Parts: [{ ETag: part.ETag, PartNumber: 1, ChecksumSHA256: part.ChecksumSHA256 }] };
      const bad = await s3Error(
        s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: 'ck-sum',
            Key: 'k',
            UploadId: up.UploadId,
            ChecksumSHA256: 'bad',
            MultipartUpload: parts,
          }),
        ),
      );
      expect(bad).toEqual({ name: 'BadDigest', status: 400 });
      // The first round: nothing was committed by the refused completion.
      if (want !== composite)
        expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket: 'ck-sum', Key: 'k' })))).status).toBe(404);

      const done = await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'ck-sum',
          Key: 'k',
          UploadId: up.UploadId,
          ChecksumSHA256: want,
          MultipartUpload: parts,
        }),
      );
      expect(done.ChecksumSHA256).toBe(`${composite}-1`);
    }
  });
});
