// Multipart checksums (composite and full-object), suspended versioning and null versions, storage
// classes, and virtual-host-style addressing.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { s3Error, startWithBucket, type TestServer } from '../helpers/cairn.js';
import { checksumOf, compositeOf, crc64nvme } from '../helpers/checksums.js';
import { signRequest } from '../helpers/signed-request.js';

let server: TestServer;
let s3: S3Client;
const bucket = 'versions-checksums';
const MiB = 1024 * 1024;
beforeAll(async () => {
  ({ server, s3 } = await startWithBucket(bucket, { domains: ['s3.cairn.test'] }));
});
afterAll(() => server?.close());

describe('multipart checksums', () => {
  it('the independent CRC-64/NVME gives its published check value', () => {
    expect(crc64nvme(Buffer.from('123456789')).toString('hex')).toBe('ae8b14860a799888');
  });

  for (const [alg, type] of [
    ['CRC32', 'COMPOSITE'],
    ['CRC64NVME', 'FULL_OBJECT'],
    ['SHA256', 'COMPOSITE'],
  ] as const) {
    it(`${alg} ${type}`, async () => {
      const key = `mp-${alg}`;
      const { UploadId, ChecksumAlgorithm } = await s3.send(
        new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ChecksumAlgorithm: alg, ChecksumType: type }),
      );
      expect(ChecksumAlgorithm).toBe(alg);
      const parts = [Buffer.alloc(5 * MiB, 1), Buffer.from('end')];
      const done = [];
      for (const [i, p] of parts.entries()) {
        const r = await s3.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: key,
            UploadId,
            PartNumber: i + 1,
            Body: p,
            ChecksumAlgorithm: alg,
          }),
        );
        const value = r[`Checksum${alg}`];
        expect(value).toBe(checksumOf(alg, p));
        done.push({ PartNumber: i + 1, ETag: r.ETag, [`Checksum${alg}`]: value });
      }
      const c = await s3.send(
        new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: done } }),
      );
      // COMPOSITE: the checksum of the part checksums, "-2"; FULL_OBJECT: the checksum of all the bytes.
      const whole = type === 'COMPOSITE' ? compositeOf(alg, parts) : checksumOf(alg, Buffer.concat(parts));
      expect(c[`Checksum${alg}`]).toBe(whole);
      expect(c.ChecksumType).toBe(type);
      const attrs = await s3.send(
        new GetObjectAttributesCommand({ Bucket: bucket, Key: key, ObjectAttributes: ['Checksum', 'ObjectParts'] }),
      );
      // GetObjectAttributes gives a composite checksum without its -N part count, as S3 does.
      expect(attrs.Checksum?.[`Checksum${alg}`]).toBe(whole!.replace(/-\d+$/, ''));
      expect(attrs.Checksum?.ChecksumType).toBe(type);
      expect(attrs.ObjectParts?.TotalPartsCount).toBe(2);
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
      expect(head[`Checksum${alg}`]).toBe(whole);
      expect(head.ChecksumType).toBe(type);
    });
  }
});

describe('suspended versioning', () => {
  it('null versions replace each other; older versions stay', async () => {
    const vb = 'suspended-versions';
    await s3.send(new CreateBucketCommand({ Bucket: vb }));
    await s3.send(new PutObjectCommand({ Bucket: vb, Key: 'k', Body: 'unversioned' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: vb, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = await s3.send(new PutObjectCommand({ Bucket: vb, Key: 'k', Body: 'versioned' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: vb, VersioningConfiguration: { Status: 'Suspended' } }));
    await s3.send(new PutObjectCommand({ Bucket: vb, Key: 'k', Body: 'null-1' }));
    await s3.send(new PutObjectCommand({ Bucket: vb, Key: 'k', Body: 'null-2' }));
    const lv = await s3.send(new ListObjectVersionsCommand({ Bucket: vb }));
    expect(lv.Versions?.map((v) => v.VersionId).sort()).toEqual([v1.VersionId, 'null'].sort());
    expect(
      await (
        await s3.send(new GetObjectCommand({ Bucket: vb, Key: 'k', VersionId: 'null' }))
      ).Body!.transformToString(),
    ).toBe('null-2');
    expect(
      await (
        await s3.send(new GetObjectCommand({ Bucket: vb, Key: 'k', VersionId: v1.VersionId }))
      ).Body!.transformToString(),
    ).toBe('versioned');
    const del = await s3.send(new DeleteObjectCommand({ Bucket: vb, Key: 'k' }));
    expect(del.DeleteMarker).toBe(true);
    expect(
      await s3Error(s3.send(new GetObjectCommand({ Bucket: vb, Key: 'k', VersionId: 'nonexistent-version' }))),
    ).toMatchObject({ status: 404 });
  });
});

describe('storage classes', () => {
  it('REDUCED_REDUNDANCY round trip; unknown classes refused', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'rrs', Body: 'r', StorageClass: 'REDUCED_REDUNDANCY' }));
    expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'rrs' }))).StorageClass).toBe(
      'REDUCED_REDUNDANCY',
    );
    expect(
      await s3Error(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'rrs2', Body: 'r', StorageClass: 'GLACIER' }))),
    ).toMatchObject({ name: 'InvalidStorageClass', status: 400 });
  });
});

describe('virtual-host-style addressing', () => {
  it('bucket.<domain> addresses the bucket', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'vhost/file.txt', Body: 'by host' }));
    const u = new URL(server.url);
    const host = `${bucket}.s3.cairn.test:${u.port}`;
    const { headers, target } = await signRequest(server.url, {
      method: 'GET',
      path: '/vhost/file.txt',
      headers: { host },
    });
    const text = await new Promise<string>((resolve, reject) => {
      const req = request({ host: u.hostname, port: u.port, path: target, method: 'GET', headers }, (res) => {
        let out = '';
        res.on('data', (d) => (out += d));
        res.on('end', () => resolve(`${res.statusCode} ${out}`));
      });
      req.on('error', reject);
      req.end();
    });
    expect(text).toBe('200 by host');
  });
});
