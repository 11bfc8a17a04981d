// Listing (v1, v2, versions, uploads) and multipart uploads, through @aws-sdk/client-s3.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  GetObjectAttributesCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { s3Error, startWithBucket, type TestServer } from '../helpers/cairn.js';

let server: TestServer;
let s3: S3Client;
const bucket = 'lists';
beforeAll(async () => {
  ({ server, s3 } = await startWithBucket(bucket));
  for (const k of ['a', 'a/b', 'a/c/d', 'b/1', 'b/2', 'b/3', 'c d', 'e+f'])
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: k }));
});
afterAll(() => server?.close());

describe('listing', () => {
  it('ListObjectsV2 with delimiter, prefix and paging', async () => {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: '/' }));
    expect(r.Contents?.map((o) => o.Key)).toEqual(['a', 'c d', 'e+f']);
    expect(r.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['a/', 'b/']);
    expect(r.IsTruncated).toBe(false);
    expect(r.KeyCount).toBe(5);
    const keys: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 3, ContinuationToken: token }));
      keys.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.NextContinuationToken;
      pages++;
      if (page.IsTruncated) expect(token).toBeDefined();
    } while (token);
    expect(keys).toEqual(['a', 'a/b', 'a/c/d', 'b/1', 'b/2', 'b/3', 'c d', 'e+f']);
    expect(pages).toBe(3);
    const sa = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'b/', StartAfter: 'b/1' }));
    expect(sa.Contents?.map((o) => o.Key)).toEqual(['b/2', 'b/3']);
    const e = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'zzz' }));
    expect(e.KeyCount).toBe(0);
    expect(e.Contents).toBeUndefined();
    const owner = await s3.send(new ListObjectsV2Command({ Bucket: bucket, FetchOwner: true, MaxKeys: 1 }));
    expect(owner.Contents?.[0].Owner?.ID).toBeDefined();
  });

  it('ListObjects v1 with marker and url encoding', async () => {
    const r = await s3.send(new ListObjectsCommand({ Bucket: bucket, Marker: 'b/3' }));
    expect(r.Contents?.map((o) => o.Key)).toEqual(['c d', 'e+f']);
    const d = await s3.send(new ListObjectsCommand({ Bucket: bucket, Delimiter: '/', MaxKeys: 2 }));
    expect(d.IsTruncated).toBe(true);
    expect(d.NextMarker).toBeDefined();
    const enc = await s3.send(new ListObjectsCommand({ Bucket: bucket, Prefix: 'c', EncodingType: 'url' }));
    // S3 percent-encodes (space as %20); the JS SDK hands the encoded key through.
    expect(enc.Contents?.map((o) => o.Key)).toEqual(['c%20d']);
    expect(enc.EncodingType).toBe('url');
  });

  it('rejects bad parameters', async () => {
    expect(
      await s3Error(s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: '!!!' }))),
    ).toMatchObject({ name: 'InvalidArgument' });
    expect(await s3Error(s3.send(new ListObjectsV2Command({ Bucket: 'nope-bucket' })))).toMatchObject({
      name: 'NoSuchBucket',
    });
  });
});

describe('multipart', () => {
  const MiB = 1024 * 1024;
  it('create, upload parts, list, complete: ETag -N and byte-exact data', async () => {
    const key = 'mp/object.bin';
    const parts = [Buffer.alloc(5 * MiB, 1), Buffer.alloc(5 * MiB, 2), Buffer.from('tail')];
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: 'application/x-test' }),
    );
    expect(UploadId).toBeDefined();
    const ups = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'mp/' }));
    expect(ups.Uploads?.map((u) => u.UploadId)).toContain(UploadId);
    // Invisible until completed.
    expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })))).status).toBe(404);
    const etags: string[] = [];
    for (const [i, p] of parts.entries()) {
      const r = await s3.send(
        new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body: p }),
      );
      etags.push(r.ETag!);
    }
    const lp = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId }));
    expect(lp.Parts?.map((p) => p.PartNumber)).toEqual([1, 2, 3]);
    expect(lp.Parts?.map((p) => p.Size)).toEqual([5 * MiB, 5 * MiB, 4]);
    // Out of order parts are refused.
    expect(
      await s3Error(
        s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: key,
            UploadId,
            MultipartUpload: {
              Parts: [
                { PartNumber: 2, ETag: etags[1] },
                { PartNumber: 1, ETag: etags[0] },
              ],
            },
          }),
        ),
      ),
    ).toMatchObject({ name: 'InvalidPartOrder', status: 400 });
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ PartNumber: i + 1, ETag })) },
      }),
    );
    const md5s = parts.map((p) => createHash('md5').update(p).digest());
    const expected = `"${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-3"`;
    expect(done.ETag).toBe(expected);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const data = Buffer.from(await got.Body!.transformToByteArray());
    expect(data.equals(Buffer.concat(parts))).toBe(true);
    expect(got.ContentType).toBe('application/x-test');
    const part2 = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, PartNumber: 2 }));
    expect(part2.ContentLength).toBe(5 * MiB);
    expect(part2.PartsCount).toBe(3);
    expect((await part2.Body!.transformToByteArray()).length).toBe(5 * MiB);
    const attrs = await s3.send(
      new GetObjectAttributesCommand({
        Bucket: bucket,
        Key: key,
        ObjectAttributes: ['ObjectParts', 'ObjectSize', 'ETag'],
      }),
    );
    expect(attrs.ObjectSize).toBe(10 * MiB + 4);
    expect(attrs.ObjectParts?.TotalPartsCount).toBe(3);
  });

  it('too small parts, unknown uploads, abort', async () => {
    const key = 'mp/small';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const a = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: 'tiny' }));
    const b = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 2, Body: 'tiny' }));
    expect(
      await s3Error(
        s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: key,
            UploadId,
            MultipartUpload: {
              Parts: [
                { PartNumber: 1, ETag: a.ETag },
                { PartNumber: 2, ETag: b.ETag },
              ],
            },
          }),
        ),
      ),
    ).toMatchObject({ name: 'EntityTooSmall', status: 400 });
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId }));
    expect(
      await s3Error(s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: 'x' }))),
    ).toMatchObject({ name: 'NoSuchUpload', status: 404 });
    expect(
      await s3Error(s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: 'nonexistent' }))),
    ).toMatchObject({ name: 'NoSuchUpload', status: 404 });
  });

  it('UploadPartCopy with a range', async () => {
    const src = Buffer.alloc(6 * MiB, 7);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'mp/src', Body: src }));
    const key = 'mp/copied';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const p1 = await s3.send(
      new UploadPartCopyCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        PartNumber: 1,
        CopySource: `${bucket}/mp/src`,
        CopySourceRange: `bytes=0-${5 * MiB - 1}`,
      }),
    );
    const p2 = await s3.send(
      new UploadPartCopyCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        PartNumber: 2,
        CopySource: `${bucket}/mp/src`,
        CopySourceRange: `bytes=${5 * MiB}-${6 * MiB - 1}`,
      }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: p1.CopyPartResult!.ETag },
            { PartNumber: 2, ETag: p2.CopyPartResult!.ETag },
          ],
        },
      }),
    );
    const got = Buffer.from(
      await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray(),
    );
    expect(got.equals(src)).toBe(true);
  });

  it('lib-storage Upload (parallel parts, default checksums)', async () => {
    const data = Buffer.alloc(11 * MiB);
    for (let i = 0; i < data.length; i += 4096) data.writeUInt32BE(i, i);
    const up = new Upload({
      client: s3,
      params: { Bucket: bucket, Key: 'mp/lib-storage', Body: data },
      partSize: 5 * MiB,
      queueSize: 2,
    });
    await up.done();
    const got = Buffer.from(
      await (
        await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp/lib-storage' }))
      ).Body!.transformToByteArray(),
    );
    expect(got.equals(data)).toBe(true);
  });
});

describe('multipart retries', () => {
  it('completing an upload again answers with the object it created', async () => {
    const key = 'mp/twice';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const p = await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: 'only part' }),
    );
    const req = { Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p.ETag }] } };
    const first = await s3.send(new CompleteMultipartUploadCommand(req));
    const again = await s3.send(new CompleteMultipartUploadCommand(req));
    expect(again.ETag).toBe(first.ETag);
    const wrong = {
      ...req,
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"00000000000000000000000000000000"' }] },
    };
    expect(await s3Error(s3.send(new CompleteMultipartUploadCommand(wrong)))).toMatchObject({
      name: 'NoSuchUpload',
      status: 404,
    });
  });
});
