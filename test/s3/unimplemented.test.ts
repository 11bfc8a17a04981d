// "Never accept what is ignored": requests asking for a protection or a behaviour Cairn does not provide
// (object lock, server-side encryption, website redirects, appends, MinIO's extensions, checksums it does
// not compute) are refused with NotImplemented, and each test reads back that nothing was stored.
import {
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type * as Minio from 'minio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { minioClient, s3Error, startWithBucket, type TestServer } from '../helpers/cairn.js';
import { signedFetch } from '../helpers/signed-request.js';

let server: TestServer;
let s3: S3Client;
let minio: Minio.Client;
const bucket = 'refusals';
const SSE_C = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: Buffer.alloc(32, 7).toString('base64') };
beforeAll(async () => {
  ({ server, s3 } = await startWithBucket());
  minio = minioClient(server);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'existing', Body: 'kept as it is' }));
});
afterAll(() => server?.close());

const refused = { name: 'NotImplemented', status: 501 };
const absent = async (Key: string) =>
  expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key })))).status).toBe(404);
const codeOf = (xml: string) => /<Code>([^<]+)<\/Code>/.exec(xml)?.[1];

describe('object lock', () => {
  // Object lock itself is implemented (test/s3/object-lock.test.ts); its headers on requests that make no
  // version cannot be honoured there.
  it('lock headers on an operation that makes no version are refused; an explicit "false" bucket is fine', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'not-locked', ObjectLockEnabledForBucket: false }));
    await s3.send(new HeadBucketCommand({ Bucket: 'not-locked' }));
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'lock-part' }));
    const r = await signedFetch(server.url, {
      method: 'PUT',
      path: `/${bucket}/lock-part`,
      query: { uploadId: up.UploadId!, partNumber: '1' },
      body: 'x',
      headers: { 'x-amz-object-lock-legal-hold': 'ON' },
    });
    expect(r.status).toBe(501);
    expect(codeOf(r.text)).toBe('NotImplemented');
    const parts = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'lock-part', UploadId: up.UploadId }));
    expect(parts.Parts ?? []).toEqual([]);
    const lockedBucket = await signedFetch(server.url, {
      method: 'PUT',
      path: `/${bucket}`,
      query: { versioning: '' },
      body: '<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>',
      headers: { 'x-amz-bucket-object-lock-enabled': 'true' },
    });
    expect(codeOf(lockedBucket.text)).toBe('NotImplemented');
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status).toBeUndefined();
  });
});

describe('server-side encryption', () => {
  it('SSE-S3 and SSE-KMS on writes are refused, SSE-C over plain HTTP too (400), and nothing is stored', async () => {
    const put = (Key: string, extra: object) =>
      s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'secret', ...extra }));
    expect(await s3Error(put('sse', { ServerSideEncryption: 'AES256' }))).toMatchObject(refused);
    expect(await s3Error(put('sse', { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'key-1' }))).toMatchObject(refused);
    // SSE-C is built (test/s3/sse-c.test.ts) but needs TLS, as in S3.
    expect(await s3Error(put('sse', SSE_C))).toMatchObject({ name: 'InvalidRequest', status: 400 });
    await absent('sse');
    expect(
      await s3Error(
        s3.send(
          new CopyObjectCommand({
            Bucket: bucket,
            Key: 'sse-copy',
            CopySource: `${bucket}/existing`,
            ServerSideEncryption: 'AES256',
          }),
        ),
      ),
    ).toMatchObject(refused);
    expect(
      await s3Error(
        s3.send(
          new CopyObjectCommand({
            Bucket: bucket,
            Key: 'sse-copy',
            CopySource: `${bucket}/existing`,
            CopySourceSSECustomerAlgorithm: 'AES256',
            CopySourceSSECustomerKey: SSE_C.SSECustomerKey,
          }),
        ),
      ),
    ).toMatchObject({ name: 'InvalidRequest', status: 400 });
    await absent('sse-copy');
    expect(
      await s3Error(
        s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'sse-mp', ServerSideEncryption: 'aws:kms' })),
      ),
    ).toMatchObject(refused);
  });

  it('SSE-C on a part or a read over plain HTTP is 400 (TLS needed)', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'parts' }));
    expect(
      await s3Error(
        s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'parts', UploadId, PartNumber: 1, Body: 'x', ...SSE_C })),
      ),
    ).toMatchObject({ name: 'InvalidRequest', status: 400 });
    expect((await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'parts', UploadId }))).Parts ?? []).toEqual([]);
    expect(await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'existing', ...SSE_C })))).toMatchObject({
      name: 'InvalidRequest',
      status: 400,
    });
  });

  it('a POST form asking for encryption is refused and stores nothing', async () => {
    const policy = minio.newPostPolicy();
    policy.setBucket(bucket);
    policy.setKey('posted-sse');
    policy.setExpires(new Date(Date.now() + 3_600_000));
    policy.policy.conditions.push(['eq', '$x-amz-server-side-encryption', 'AES256']);
    policy.formData['x-amz-server-side-encryption'] = 'AES256';
    const { postURL, formData } = await minio.presignedPostPolicy(policy);
    const form = new FormData();
    for (const [k, v] of Object.entries(formData)) form.append(k, v);
    form.append('file', new Blob(['secret']), 'a.txt');
    const res = await fetch(postURL, { method: 'POST', body: form });
    expect([res.status, codeOf(await res.text())]).toEqual([501, 'NotImplemented']);
    await absent('posted-sse');
  });
});

describe('other behaviours Cairn does not have', () => {
  it('website redirects, appends and checksum algorithms Cairn does not compute', async () => {
    expect(
      await s3Error(
        s3.send(
          new PutObjectCommand({ Bucket: bucket, Key: 'redirect', Body: 'x', WebsiteRedirectLocation: '/elsewhere' }),
        ),
      ),
    ).toMatchObject(refused);
    await absent('redirect');
    const asks: Record<string, string>[] = [
      { 'x-amz-write-offset-bytes': '0' },
      { 'x-amz-checksum-algorithm': 'SHA512' },
      { 'x-amz-checksum-xxhash64': 'AAAAAAAAAAA=' },
    ];
    for (const headers of asks) {
      const r = await signedFetch(server.url, { method: 'PUT', path: `/${bucket}/odd`, headers, body: 'x' });
      expect([r.status, codeOf(r.text)]).toEqual([501, 'NotImplemented']);
    }
    await absent('odd');
  });

  it('conditional deletes on size or time, and of a named version', async () => {
    const r = await signedFetch(server.url, {
      method: 'DELETE',
      path: `/${bucket}/existing`,
      headers: { 'x-amz-if-match-size': '13' },
    });
    expect([r.status, codeOf(r.text)]).toEqual([501, 'NotImplemented']);
    const body = '<Delete><Object><Key>existing</Key><Size>13</Size></Object></Delete>';
    const md5 = (await import('node:crypto')).createHash('md5').update(body).digest('base64');
    const many = await signedFetch(server.url, {
      method: 'POST',
      path: `/${bucket}`,
      query: { delete: '' },
      headers: { 'content-md5': md5 },
      body,
    });
    expect([many.status, codeOf(many.text)]).toEqual([501, 'NotImplemented']);
    expect(
      await s3Error(
        s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'existing', VersionId: 'null', IfMatch: '*' })),
      ),
    ).toMatchObject(refused);
    expect(
      await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'existing' }))).Body!.transformToString(),
    ).toBe('kept as it is');
  });

  it("MinIO's extensions: force delete, versioning exclusions, snowball extraction", async () => {
    await expect(minio.removeObject(bucket, 'existing', { forceDelete: true })).rejects.toMatchObject({
      code: 'NotImplemented',
    });
    await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'existing' }))).Body!.transformToString();
    const del = await signedFetch(server.url, {
      method: 'DELETE',
      path: `/${bucket}`,
      headers: { 'x-minio-force-delete': 'true' },
    });
    expect([del.status, codeOf(del.text)]).toEqual([501, 'NotImplemented']);
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));

    await expect(
      minio.setBucketVersioning(bucket, {
        Status: 'Enabled',
        ExcludedPrefixes: [{ Prefix: 'tmp/' }],
        ExcludeFolders: true,
      }),
    ).rejects.toMatchObject({ code: 'NotImplemented' });
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status).toBeUndefined();

    expect(
      await s3Error(
        s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: 'archive.tar',
            Body: 'x',
            Metadata: { 'snowball-auto-extract': 'true' },
          }),
        ),
      ),
    ).toMatchObject(refused);
    await absent('archive.tar');
  });

  // GET / answers ListBuckets; parameters asking for something else are refused, never ignored.
  it('ListDirectoryBuckets at the service root', async () => {
    const asks: Record<string, string>[] = [{ 'max-directory-buckets': '10' }];
    for (const query of asks) {
      const r = await signedFetch(server.url, { method: 'GET', path: '/', query });
      expect(r.status).toBe(501);
      expect(codeOf(r.text)).toBe('NotImplemented');
      expect(r.text).not.toContain('<ListAllMyBucketsResult');
    }
    const anonymous = await fetch(`${server.url}/?max-directory-buckets=10`);
    expect(anonymous.status).toBe(403); // who may not list buckets learns nothing more
    // ListBuckets itself, with the parameters it takes, is still answered.
    const list = await signedFetch(server.url, {
      method: 'GET',
      path: '/',
      query: { 'x-id': 'ListBuckets', prefix: 'ref' },
    });
    expect(list.status).toBe(200);
    expect(list.text).toContain(`<Name>${bucket}</Name>`);
  });

  it('directory-bucket settings in CreateBucketConfiguration', async () => {
    const cfg = {
      Location: { Type: 'AvailabilityZone' as const, Name: 'use1-az4' },
      Bucket: { Type: 'Directory' as const, DataRedundancy: 'SingleAvailabilityZone' as const },
    };
    expect(
      await s3Error(s3.send(new CreateBucketCommand({ Bucket: 'directory-like', CreateBucketConfiguration: cfg }))),
    ).toMatchObject(refused);
    expect((await s3Error(s3.send(new HeadBucketCommand({ Bucket: 'directory-like' })))).status).toBe(404);
  });
});
