// Object and bucket basics through @aws-sdk/client-s3, at the SDK's default settings (CRC32 trailers on
// aws-chunked bodies) and with checksums only when required.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ALT, s3Error, startTestServer, type TestServer } from '../helpers/cairn.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.close());

for (const checksums of ['WHEN_SUPPORTED', 'WHEN_REQUIRED'] as const) {
  describe(`objects (checksums ${checksums})`, () => {
    let s3: S3Client;
    const bucket = `objects-${checksums.toLowerCase().replace('_', '-')}`;
    beforeAll(async () => {
      s3 = server.client({ checksums });
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    });

    it('put, get, head, delete round trip with metadata', async () => {
      const body = Buffer.from('hello, cairn\n'.repeat(1000));
      const put = await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'dir/hello.txt',
          Body: body,
          ContentType: 'text/plain',
          Metadata: { color: 'blue' },
          CacheControl: 'max-age=60',
        }),
      );
      expect(put.ETag).toMatch(/^"[0-9a-f]{32}"$/);
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'dir/hello.txt' }));
      expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
      expect(got.ContentType).toBe('text/plain');
      expect(got.Metadata).toEqual({ color: 'blue' });
      expect(got.CacheControl).toBe('max-age=60');
      expect(got.ETag).toBe(put.ETag);
      expect(got.ContentLength).toBe(body.length);
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dir/hello.txt' }));
      expect(head.ContentLength).toBe(body.length);
      expect(head.LastModified).toBeInstanceOf(Date);
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'dir/hello.txt' }));
      expect(await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'dir/hello.txt' })))).toEqual({
        name: 'NoSuchKey',
        status: 404,
      });
      expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dir/hello.txt' })))).status).toBe(
        404,
      );
    });

    it('empty objects and odd keys', async () => {
      for (const key of ['empty', 'a b/c+d=e&f', 'ünïcødé/✓', 'trailing/', 'a', 'a/b']) {
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key === 'empty' ? '' : key }));
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        expect(await got.Body!.transformToString()).toBe(key === 'empty' ? '' : key);
      }
    });
  });
}

describe('buckets', () => {
  it('create, head, list, location, delete; errors', async () => {
    const s3 = server.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'bucket-basics' }));
    await s3.send(new HeadBucketCommand({ Bucket: 'bucket-basics' }));
    const list = await s3.send(new ListBucketsCommand({}));
    expect(list.Buckets?.map((b) => b.Name)).toContain('bucket-basics');
    const loc = await s3.send(new GetBucketLocationCommand({ Bucket: 'bucket-basics' }));
    expect(loc.LocationConstraint ?? '').toBe('');
    // us-east-1: the owner re-creating a bucket is a no-op success; another user learns the name is taken.
    await s3.send(new CreateBucketCommand({ Bucket: 'bucket-basics' }));
    expect(
      await s3Error(server.client({ credentials: ALT }).send(new CreateBucketCommand({ Bucket: 'bucket-basics' }))),
    ).toMatchObject({ name: 'BucketAlreadyExists', status: 409 });
    expect(await s3Error(s3.send(new CreateBucketCommand({ Bucket: 'Bad_Name' })))).toMatchObject({
      name: 'InvalidBucketName',
      status: 400,
    });
    await s3.send(new PutObjectCommand({ Bucket: 'bucket-basics', Key: 'x', Body: 'x' }));
    expect(await s3Error(s3.send(new DeleteBucketCommand({ Bucket: 'bucket-basics' })))).toEqual({
      name: 'BucketNotEmpty',
      status: 409,
    });
    await s3.send(new DeleteObjectCommand({ Bucket: 'bucket-basics', Key: 'x' }));
    await s3.send(new DeleteBucketCommand({ Bucket: 'bucket-basics' }));
    expect((await s3Error(s3.send(new HeadBucketCommand({ Bucket: 'bucket-basics' })))).status).toBe(404);
    expect(await s3Error(s3.send(new GetObjectCommand({ Bucket: 'no-such-bucket', Key: 'k' })))).toEqual({
      name: 'NoSuchBucket',
      status: 404,
    });
  });
});
