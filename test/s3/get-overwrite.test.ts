// GET while the same key is overwritten: each answer is one version, whole, and its headers (ETag,
// Content-Length, Content-Range) describe that same version. GET reads the metadata once and plans
// headers and range from it, so headers and body cannot come from two different versions.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../helpers/cairn.js';

let server: TestServer;
let s3: S3Client;
const bucket = 'get-overwrite';

beforeAll(async () => {
  server = await startTestServer();
  s3 = server.client({ checksums: 'WHEN_REQUIRED' });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});
afterAll(async () => {
  await server?.close();
});

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

describe('GET during overwrites', () => {
  // Different sizes and block counts, so a header of one version with the body of the other shows.
  const versions = [Buffer.alloc(300 * 1024, 'a'), Buffer.alloc(1536 * 1024, 'b')];
  const etags = versions.map((v) => `"${md5(v)}"`);

  it('whole and ranged GETs see one version, with its own headers', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: versions[0] }));
    let stop = false;
    const writer = (async () => {
      for (let i = 1; !stop; i++) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: versions[i % 2] }));
    })();
    const seen = new Set<string>();
    const reader = async (ranged: boolean) => {
      for (let i = 0; i < 25; i++) {
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', Range: ranged ? 'bytes=100000-' : undefined }));
        const body = Buffer.from(await got.Body!.transformToByteArray());
        const which = etags.indexOf(got.ETag!);
        expect(which).toBeGreaterThanOrEqual(0);
        const want = ranged ? versions[which].subarray(100000) : versions[which];
        expect(body.length).toBe(want.length);
        expect(got.ContentLength).toBe(want.length);
        expect(body.equals(want)).toBe(true);
        if (ranged) expect(got.ContentRange).toBe(`bytes 100000-${versions[which].length - 1}/${versions[which].length}`);
        seen.add(got.ETag!);
      }
    };
    try {
      await Promise.all([reader(false), reader(false), reader(true), reader(true)]);
    } finally {
      stop = true;
      await writer;
    }
    expect(seen.size).toBeGreaterThan(0);
  });

  it('conditional GET answers 304 and 412 from the same read as the data', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'c', Body: versions[0] }));
    const notModified = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'c', IfNoneMatch: etags[0] })).then(
      () => 200,
      (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode,
    );
    expect(notModified).toBe(304);
    const failed = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'c', IfMatch: etags[1] })).then(
      () => 200,
      (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode,
    );
    expect(failed).toBe(412);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'c', IfMatch: etags[0], Range: 'bytes=0-9' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(versions[0].subarray(0, 10))).toBe(true);
  });
});
