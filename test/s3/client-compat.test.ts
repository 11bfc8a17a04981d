// What the MinIO SDK suites and mint found against Cairn (issue 12), reproduced with the clients that found
// it: the `minio` npm package (minio-js) and @aws-sdk/client-s3. The Go clients' cases (signed trailers with
// bare \n, repeated headers) are in test/go; the Python ones in test/python/test_client_compat.py.
import { createHash } from 'node:crypto';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketCorsCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectVersionsCommand,
  PutBucketCorsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type * as Minio from 'minio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALT, ROOT, minioClient, s3Error, startWithBucket, type TestServer } from '../helpers/cairn.js';
import { signedFetch } from '../helpers/signed-request.js';

let server: TestServer;
let s3: S3Client;
let plain: S3Client; // no default request checksums: objects stored without one
let minio: Minio.Client;
beforeAll(async () => {
  ({ server, s3 } = await startWithBucket());
  plain = server.client({ checksums: 'WHEN_REQUIRED' });
  minio = minioClient(server);
});
afterAll(() => server?.close());

async function newBucket(name: string): Promise<string> {
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

const head = (Bucket: string, Key: string) => s3.send(new HeadObjectCommand({ Bucket, Key, ChecksumMode: 'ENABLED' }));

describe('minio-js', () => {
  it('tags a bucket (PutBucketTagging answers 200, which minio-js requires)', async () => {
    const b = await newBucket('mjs-tags');
    await minio.setBucketTagging(b, { team: 'data', tier: 'hot' });
    expect(await minio.getBucketTagging(b)).toEqual([
      { Key: 'team', Value: 'data' },
      { Key: 'tier', Value: 'hot' },
    ]);
  });

  it('gets metadata with characters below U+0100 back as it was put', async () => {
    // Node's HTTP client sends them as latin1 bytes (and refuses anything above U+00FF); Go clients send
    // UTF-8 bytes (test/go). Either way the bytes come back as they went.
    const b = await newBucket('mjs-meta');
    await minio.putObject(b, 'k', Buffer.from('x'), 1, { 'X-Amz-Meta-Greeting': 'Olá', 'X-Amz-Meta-City': 'Zürich' });
    const st = await minio.statObject(b, 'k');
    expect([st.metaData.greeting, st.metaData.city]).toEqual(['Olá', 'Zürich']);
  });

  it('gives CORS AllowedHeader values back as put', async () => {
    const b = await newBucket('mjs-cors');
    await s3.send(
      new PutBucketCorsCommand({
        Bucket: b,
        CORSConfiguration: {
          CORSRules: [
            {
              AllowedOrigins: ['https://app.example'],
              AllowedMethods: ['POST'],
              AllowedHeaders: ['X-My-Special-Header'],
            },
          ],
        },
      }),
    );
    const cors = await s3.send(new GetBucketCorsCommand({ Bucket: b }));
    expect(cors.CORSRules?.[0].AllowedHeaders).toEqual(['X-My-Special-Header']);
    const pre = await fetch(`${server.url}/${b}/k`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://app.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'X-My-Special-Header',
      },
    });
    expect(pre.status).toBe(200);
    expect(pre.headers.get('access-control-allow-headers')).toBe('x-my-special-header');
  });

  it('matches an actual request that carries Access-Control-Request-Method on that method, as S3 does', async () => {
    const b = await newBucket('mjs-cors-actual');
    await s3.send(
      new PutBucketCorsCommand({
        Bucket: b,
        CORSConfiguration: {
          CORSRules: [
            {
              AllowedOrigins: ['https://app.example'],
              AllowedMethods: ['PUT'],
              AllowedHeaders: ['*'],
              ExposeHeaders: ['x-amz-request-id'],
            },
            { AllowedOrigins: ['*'], AllowedMethods: ['GET'] },
          ],
        },
      }),
    );
    // Anonymous GETs (403), which still get the CORS headers of the rule that matches.
    const get = (headers: Record<string, string>) =>
      fetch(`${server.url}/${b}/k`, { headers: { Origin: 'https://app.example', ...headers } });
    const plainGet = await get({});
    expect([
      plainGet.headers.get('access-control-allow-origin'),
      plainGet.headers.get('access-control-allow-credentials'),
    ]).toEqual(['*', null]);
    const asking = await get({
      'Access-Control-Request-Method': 'PUT',
      'Access-Control-Request-Headers': 'x-another-header',
    });
    expect([
      asking.headers.get('access-control-allow-origin'),
      asking.headers.get('access-control-allow-credentials'),
      asking.headers.get('access-control-expose-headers'),
    ]).toEqual(['https://app.example', 'true', 'x-amz-request-id']);
  });

  it('answers a POST upload with the absolute Location', async () => {
    const b = await newBucket('mjs-post');
    const policy = minio.newPostPolicy();
    policy.setBucket(b);
    policy.setKey('dir/a b.txt');
    policy.setExpires(new Date(Date.now() + 3_600_000));
    const { postURL, formData } = await minio.presignedPostPolicy(policy);
    const form = new FormData();
    for (const [k, v] of Object.entries(formData)) form.append(k, v);
    form.append('file', new Blob(['posted']), 'a.txt');
    const res = await fetch(postURL, { method: 'POST', body: form });
    expect(res.status).toBe(204);
    expect(res.headers.get('location')).toBe(`${server.url}/${b}/dir/a%20b.txt`);
  });
});

describe('errors as S3 words them', () => {
  it('NoSuchBucket without a final period, NoSuchVersion for a missing key, BadRequest for 11 tags', async () => {
    const res = await fetch(`${server.url}/no-such-bucket-here`, { method: 'DELETE' });
    expect(await res.text()).toContain('<Message>The specified bucket does not exist</Message>');
    const b = await newBucket('errors-words');
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    expect(
      await s3Error(
        s3.send(
          new GetObjectAttributesCommand({
            Bucket: b,
            Key: 'missing',
            VersionId: 'f5a0c0e2-3d1e-4b8e-a9b8-0c2f1d3e4a5b',
            ObjectAttributes: ['ETag'],
          }),
        ),
      ),
    ).toMatchObject({ name: 'NoSuchVersion', status: 404 });
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', Tagging: 'a=1' }));
    const TagSet = Array.from({ length: 11 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    expect(
      await s3Error(s3.send(new PutObjectTaggingCommand({ Bucket: b, Key: 'k', Tagging: { TagSet } }))),
    ).toMatchObject({ name: 'BadRequest', status: 400 });
    expect((await head(b, 'k')).TagCount).toBe(1);
  });
});

describe('CopyObject checksums', () => {
  it('a copy of an object without a checksum gets CRC64NVME; an asked-for algorithm wins', async () => {
    const b = await newBucket('copy-checksums');
    await plain.send(new PutObjectCommand({ Bucket: b, Key: 'src', Body: 'copy me' }));
    expect((await head(b, 'src')).ChecksumType).toBeUndefined();
    const c = await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'dst', CopySource: `${b}/src` }));
    expect(c.CopyObjectResult?.ChecksumCRC64NVME).toBeDefined();
    const h = await head(b, 'dst');
    expect([h.ChecksumCRC64NVME, h.ChecksumType]).toEqual([c.CopyObjectResult?.ChecksumCRC64NVME, 'FULL_OBJECT']);
    await s3.send(
      new CopyObjectCommand({ Bucket: b, Key: 'dst-sha', CopySource: `${b}/src`, ChecksumAlgorithm: 'SHA256' }),
    );
    expect((await head(b, 'dst-sha')).ChecksumSHA256).toBe(createHash('sha256').update('copy me').digest('base64'));
  });

  it('onto itself with REPLACE and an algorithm, the object gets that checksum and keeps its bytes', async () => {
    const b = await newBucket('copy-self-checksum');
    await plain.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'same bytes' }));
    await s3.send(
      new CopyObjectCommand({
        Bucket: b,
        Key: 'k',
        CopySource: `${b}/k`,
        MetadataDirective: 'REPLACE',
        Metadata: { new: 'meta' },
        ChecksumAlgorithm: 'SHA1',
      }),
    );
    const h = await head(b, 'k');
    expect([h.ChecksumSHA1, h.ChecksumType, h.Metadata]).toEqual([
      createHash('sha1').update('same bytes').digest('base64'),
      'FULL_OBJECT',
      { new: 'meta' },
    ]);
    expect(await (await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }))).Body!.transformToString()).toBe(
      'same bytes',
    );
    // Only the checksum changes: a copy onto itself that asks for a new algorithm is legal.
    await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'k', CopySource: `${b}/k`, ChecksumAlgorithm: 'CRC32C' }));
    expect((await head(b, 'k')).ChecksumCRC32C).toBeDefined();
  });
});

describe('conditional deletes', () => {
  it('If-Match: another ETag is 412 and deletes nothing; a missing object 404; * and the ETag delete', async () => {
    const b = await newBucket('cond-delete');
    const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' }));
    expect(
      await s3Error(
        s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', IfMatch: '"0123456789abcdef0123456789abcdef"' })),
      ),
    ).toMatchObject({ name: 'PreconditionFailed', status: 412 });
    expect((await head(b, 'k')).ETag).toBe(put.ETag);
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', IfMatch: put.ETag }));
    expect((await s3Error(head(b, 'k'))).status).toBe(404);
    expect(await s3Error(s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', IfMatch: '*' })))).toMatchObject({
      name: 'NoSuchKey',
      status: 404,
    });
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k2', Body: 'y' }));
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k2', IfMatch: '*' }));
    expect((await s3Error(head(b, 'k2'))).status).toBe(404);
  });

  it('DeleteObjects with an ETag per object deletes only those that match', async () => {
    const b = await newBucket('cond-delete-many');
    const one = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'one', Body: '1' }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'two', Body: '2' }));
    const r = await s3.send(
      new DeleteObjectsCommand({
        Bucket: b,
        Delete: {
          Objects: [
            { Key: 'one', ETag: one.ETag },
            { Key: 'two', ETag: '"0123456789abcdef0123456789abcdef"' },
          ],
        },
      }),
    );
    expect(r.Deleted?.map((d) => d.Key)).toEqual(['one']);
    expect(r.Errors?.map((e) => [e.Key, e.Code])).toEqual([['two', 'PreconditionFailed']]);
    expect((await s3Error(head(b, 'one'))).status).toBe(404);
    expect((await head(b, 'two')).ContentLength).toBe(1);
  });
});

describe('ListBuckets with bucket-region', () => {
  it("lists the buckets of the server's region, and none of another", async () => {
    await newBucket('region-listed');
    expect(
      (await s3.send(new ListBucketsCommand({ BucketRegion: 'us-east-1' }))).Buckets?.map((b) => b.Name),
    ).toContain('region-listed');
    expect((await s3.send(new ListBucketsCommand({ BucketRegion: 'eu-west-1' }))).Buckets ?? []).toEqual([]);
  });
});

describe('expected bucket owner', () => {
  it("x-amz-expected-bucket-owner and x-amz-source-expected-bucket-owner compare the bucket's own owner", async () => {
    const alt = server.client({ credentials: ALT });
    await alt.send(new CreateBucketCommand({ Bucket: 'owned-by-alt' }));
    const altId = createHash('sha256').update(ALT.accessKey).digest('hex');
    const rootId = createHash('sha256').update(ROOT.accessKey).digest('hex');
    await alt.send(new PutObjectCommand({ Bucket: 'owned-by-alt', Key: 'k', Body: 'x', ExpectedBucketOwner: altId }));
    expect(
      await s3Error(
        alt.send(new PutObjectCommand({ Bucket: 'owned-by-alt', Key: 'k2', Body: 'x', ExpectedBucketOwner: rootId })),
      ),
    ).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect((await s3Error(alt.send(new HeadObjectCommand({ Bucket: 'owned-by-alt', Key: 'k2' })))).status).toBe(404);
    expect(
      await s3Error(
        alt.send(
          new CopyObjectCommand({
            Bucket: 'owned-by-alt',
            Key: 'k3',
            CopySource: 'owned-by-alt/k',
            ExpectedSourceBucketOwner: rootId,
          }),
        ),
      ),
    ).toMatchObject({ name: 'AccessDenied', status: 403 });
    await alt.send(
      new CopyObjectCommand({
        Bucket: 'owned-by-alt',
        Key: 'k3',
        CopySource: 'owned-by-alt/k',
        ExpectedSourceBucketOwner: altId,
      }),
    );
  });
});

describe('checksums of request documents', () => {
  it('DeleteObjects whose x-amz-checksum-crc32 does not match its body is BadDigest and deletes nothing', async () => {
    const b = await newBucket('doc-checksum');
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' }));
    const body = '<Delete><Object><Key>k</Key></Object></Delete>';
    const r = await signedFetch(server.url, {
      method: 'POST',
      path: `/${b}`,
      query: { delete: '' },
      headers: { 'x-amz-checksum-crc32': 'AAAAAA==' },
      body,
    });
    expect([r.status, /<Code>(\w+)</.exec(r.text)?.[1]]).toEqual([400, 'BadDigest']);
    expect((await head(b, 'k')).ContentLength).toBe(1);
    // The SDK's own request (with its CRC32 of the document) goes through.
    await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'k' }] } }));
    expect((await s3Error(head(b, 'k'))).status).toBe(404);
  });
});

describe('CompleteMultipartUpload headers', () => {
  it('another size refuses the completion and stores nothing', async () => {
    const b = await newBucket('mp-size');
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'k' }));
    const p = await s3.send(new UploadPartCommand({ Bucket: b, Key: 'k', UploadId, PartNumber: 1, Body: 'abc' }));
    // The JS SDK leaves MpObjectSize out of the request, so the header is sent by hand.
    const complete = (size: string) =>
      signedFetch(server.url, {
        method: 'POST',
        path: `/${b}/k`,
        query: { uploadId: UploadId! },
        headers: { 'x-amz-mp-object-size': size },
        body:
          `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${p.ETag}</ETag></Part>` +
          '</CompleteMultipartUpload>',
      });
    const wrong = await complete('4');
    expect([wrong.status, /<Code>(\w+)</.exec(wrong.text)?.[1]]).toEqual([400, 'InvalidRequest']);
    expect((await s3Error(head(b, 'k'))).status).toBe(404);
    expect((await complete('3')).status).toBe(200);
    expect((await head(b, 'k')).ContentLength).toBe(3);
  });

  it("an x-amz-checksum-type other than the upload's refuses the completion", async () => {
    const b = await newBucket('mp-type');
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: b, Key: 'k', ChecksumAlgorithm: 'CRC32', ChecksumType: 'COMPOSITE' }),
    );
    const p = await s3.send(
      new UploadPartCommand({ Bucket: b, Key: 'k', UploadId, PartNumber: 1, Body: 'abc', ChecksumAlgorithm: 'CRC32' }),
    );
    const complete = (type: string) =>
      signedFetch(server.url, {
        method: 'POST',
        path: `/${b}/k`,
        query: { uploadId: UploadId! },
        headers: { 'x-amz-checksum-type': type },
        body:
          `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${p.ETag}</ETag>` +
          `<ChecksumCRC32>${p.ChecksumCRC32}</ChecksumCRC32></Part></CompleteMultipartUpload>`,
      });
    const wrong = await complete('FULL_OBJECT');
    expect([wrong.status, /<Code>(\w+)</.exec(wrong.text)?.[1]]).toEqual([400, 'BadDigest']);
    expect((await s3Error(head(b, 'k'))).status).toBe(404);
    expect((await complete('COMPOSITE')).status).toBe(200);
    expect((await head(b, 'k')).ChecksumType).toBe('COMPOSITE');
  });
});

describe('ListObjectVersions', () => {
  it('puts each delete marker in its key/version place', async () => {
    const b = await newBucket('versions-order');
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'a', Body: '1' }));
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'a' }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'b', Body: '2' }));
    // Document order is what minio-js and minio-go read: marker of a, then a's version, then b.
    const res = await signedFetch(server.url, { method: 'GET', path: `/${b}`, query: { versions: '' } });
    const order = [...res.text.matchAll(/<(Version|DeleteMarker)><Key>(\w+)<\/Key>/g)].map((m) => `${m[1]} ${m[2]}`);
    expect(order).toEqual(['DeleteMarker a', 'Version a', 'Version b']);
    const r = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    expect(r.DeleteMarkers?.map((m) => m.Key)).toEqual(['a']);
    expect(r.Versions?.map((v) => v.Key)).toEqual(['a', 'b']);
  });
});
