// `cairn gateway s3`: a second real Cairn behind the gateway, read and written with the AWS SDK on both
// sides. What is written through the gateway is on the backend and the other way round; ranges, conditions,
// multipart (the backend's upload ids), copies, tags, metadata, deletes, listings with paging.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALT, s3Error, type TestServer } from '../helpers/cairn.js';
import { seededRandom } from '../helpers/random.js';
import { backendClient, type S3Gateway, startBackend, startS3Gateway } from '../helpers/s3gw.js';

let backend: TestServer;
let gw: S3Gateway;
let s3: S3Client;
let be: S3Client;
const rnd = seededRandom();
const md5 = (b: string | Buffer) => createHash('md5').update(b).digest('hex');

beforeAll(async () => {
  backend = await startBackend();
  be = backendClient(backend);
  await be.send(new CreateBucketCommand({ Bucket: 'data' }));
  gw = await startS3Gateway(backend.url);
  s3 = gw.client();
});
afterAll(async () => {
  await gw?.close();
  await backend?.close();
});

describe('buckets are the backend’s', () => {
  it('lists, makes and removes buckets on the backend', async () => {
    expect((await s3.send(new ListBucketsCommand({}))).Buckets!.map((b) => b.Name)).toContain('data');
    await s3.send(new CreateBucketCommand({ Bucket: 'made-by-gw' }));
    expect((await be.send(new ListBucketsCommand({}))).Buckets!.map((b) => b.Name)).toContain('made-by-gw');
    // As Cairn and S3 in us-east-1 answer: the owner's re-create is a 200, another user learns the name is taken.
    await s3.send(new CreateBucketCommand({ Bucket: 'made-by-gw' }));
    const alt = gw.client({ credentials: ALT });
    expect(await s3Error(alt.send(new CreateBucketCommand({ Bucket: 'made-by-gw' })))).toMatchObject({
      name: 'BucketAlreadyExists',
      status: 409,
    });
    await s3.send(new DeleteBucketCommand({ Bucket: 'made-by-gw' }));
    expect((await be.send(new ListBucketsCommand({}))).Buckets!.map((b) => b.Name)).not.toContain('made-by-gw');
    expect(await s3Error(s3.send(new DeleteBucketCommand({ Bucket: 'made-by-gw' })))).toMatchObject({
      name: 'NoSuchBucket',
      status: 404,
    });
  });

  it('a bucket that holds objects is not removed', async () => {
    await be.send(new PutObjectCommand({ Bucket: 'data', Key: 'keep', Body: 'k' }));
    expect(await s3Error(s3.send(new DeleteBucketCommand({ Bucket: 'data' })))).toMatchObject({
      name: 'BucketNotEmpty',
      status: 409,
    });
  });

  it('the gateway’s clients are Cairn’s users: the backend’s own key means nothing to the gateway', async () => {
    const { BACKEND_ROOT } = await import('../helpers/s3gw.js');
    const stranger = gw.client({ credentials: BACKEND_ROOT });
    expect(await s3Error(stranger.send(new ListBucketsCommand({})))).toMatchObject({ name: 'InvalidAccessKeyId' });
  });
});

describe('objects both ways', () => {
  it('written through the gateway, read on the backend (metadata, content type, tags)', async () => {
    const body = rnd.bytes(300_000);
    await s3.send(
      new PutObjectCommand({
        Bucket: 'data',
        Key: 'dir/through-gw.bin',
        Body: body,
        ContentType: 'application/x-test',
        Metadata: { colour: 'blue' },
        Tagging: 'a=1&b=two',
      }),
    );
    const g = await be.send(new GetObjectCommand({ Bucket: 'data', Key: 'dir/through-gw.bin' }));
    expect(Buffer.from(await g.Body!.transformToByteArray()).equals(body)).toBe(true);
    expect(g.ContentType).toBe('application/x-test');
    expect(g.Metadata).toEqual({ colour: 'blue' });
    expect(g.ETag).toBe(`"${md5(body)}"`);
    const tags = await be.send(new GetObjectTaggingCommand({ Bucket: 'data', Key: 'dir/through-gw.bin' }));
    expect(tags.TagSet).toEqual([
      { Key: 'a', Value: '1' },
      { Key: 'b', Value: 'two' },
    ]);
  });

  it('written on the backend, read through the gateway, with ranges and conditions', async () => {
    const body = rnd.bytes(100_000);
    const put = await be.send(
      new PutObjectCommand({ Bucket: 'data', Key: 'on-backend', Body: body, Metadata: { k: 'v' } }),
    );
    const g = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'on-backend' }));
    expect(Buffer.from(await g.Body!.transformToByteArray()).equals(body)).toBe(true);
    expect(g.ETag).toBe(put.ETag);
    expect(g.Metadata).toEqual({ k: 'v' });
    const r = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'on-backend', Range: 'bytes=1000-1999' }));
    expect(r.ContentRange).toBe('bytes 1000-1999/100000');
    expect(Buffer.from(await r.Body!.transformToByteArray()).equals(body.subarray(1000, 2000))).toBe(true);
    const tail = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'on-backend', Range: 'bytes=-10' }));
    expect(Buffer.from(await tail.Body!.transformToByteArray()).equals(body.subarray(-10))).toBe(true);
    expect(
      await s3Error(s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'on-backend', Range: 'bytes=200000-' }))),
    ).toMatchObject({ name: 'InvalidRange', status: 416 });
    expect(
      await s3Error(s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'on-backend', IfMatch: '"0000"' }))),
    ).toMatchObject({ name: 'PreconditionFailed', status: 412 });
    expect(
      await s3Error(s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'on-backend', IfNoneMatch: put.ETag }))),
    ).toMatchObject({ status: 304 });
    const h = await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'on-backend' }));
    expect(h.ContentLength).toBe(100_000);
  });

  it('missing keys and buckets are the backend’s answers', async () => {
    expect(await s3Error(s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'nope' })))).toMatchObject({
      name: 'NoSuchKey',
      status: 404,
    });
    expect(await s3Error(s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'nope' })))).toMatchObject({
      status: 404,
    });
    expect(await s3Error(s3.send(new GetObjectCommand({ Bucket: 'no-bucket', Key: 'x' })))).toMatchObject({
      name: 'NoSuchBucket',
      status: 404,
    });
  });

  it('a missing bucket is NoSuchBucket for anonymous callers too, an existing private one AccessDenied', async () => {
    const code = async (method: string, path: string) => {
      const res = await fetch(`${gw.url}${path}`, { method });
      return [res.status, /<Code>(\w+)<\/Code>/.exec(await res.text())?.[1]];
    };
    await s3.send(new CreateBucketCommand({ Bucket: 'gone-soon' }));
    await s3.send(new DeleteBucketCommand({ Bucket: 'gone-soon' }));
    for (const [method, path] of [
      ['DELETE', '/gone-soon/foo'],
      ['PUT', '/gone-soon/foo'],
      ['DELETE', '/never-made/foo'],
      ['GET', '/never-made/foo'],
      ['DELETE', '/never-made'],
    ])
      expect([method, path, ...(await code(method, path))]).toEqual([method, path, 404, 'NoSuchBucket']);
    // The bucket made on the backend (no configuration kept by Cairn) exists: the anonymous caller is refused.
    expect(await code('DELETE', '/data/foo')).toEqual([403, 'AccessDenied']);
    expect(await s3Error(be.send(new HeadObjectCommand({ Bucket: 'data', Key: 'foo' })))).toMatchObject({
      status: 404,
    });
  });

  it('a PUT of unknown length (chunked transfer, no declared size) is stored whole', async () => {
    const body = rnd.bytes(9 * 1024 * 1024 + 17);
    const plain = gw.client({ checksums: 'WHEN_REQUIRED' });
    const url = await getSignedUrl(plain, new PutObjectCommand({ Bucket: 'data', Key: 'chunked' }));
    // A stream body: fetch sends it with Transfer-Encoding: chunked and no Content-Length.
    const parts = [body.subarray(0, 5_000_000), body.subarray(5_000_000)];
    const res = await fetch(url, {
      method: 'PUT',
      body: Readable.toWeb(Readable.from(parts)) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    expect([res.status, res.status === 200 || (await res.text())]).toEqual([200, true]);
    const g = await be.send(new GetObjectCommand({ Bucket: 'data', Key: 'chunked' }));
    expect(md5(Buffer.from(await g.Body!.transformToByteArray()))).toBe(md5(body));
  });

  it('a bad Content-MD5 stores nothing', async () => {
    expect(
      await s3Error(
        s3.send(
          new PutObjectCommand({
            Bucket: 'data',
            Key: 'bad-md5',
            Body: 'hello',
            ContentMD5: Buffer.alloc(16).toString('base64'),
          }),
        ),
      ),
    ).toMatchObject({ name: 'BadDigest', status: 400 });
    expect(await s3Error(be.send(new HeadObjectCommand({ Bucket: 'data', Key: 'bad-md5' })))).toMatchObject({
      status: 404,
    });
  });

  it('If-None-Match: * refuses to overwrite', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'once', Body: 'first' }));
    expect(
      await s3Error(s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'once', Body: 'second', IfNoneMatch: '*' }))),
    ).toMatchObject({ name: 'PreconditionFailed', status: 412 });
    const g = await be.send(new GetObjectCommand({ Bucket: 'data', Key: 'once' }));
    expect(await g.Body!.transformToString()).toBe('first');
  });

  it('copies, tagging and deletes (single and multi)', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'src', Body: 'copy me', Metadata: { m: '1' } }));
    await s3.send(new CopyObjectCommand({ Bucket: 'data', Key: 'dst', CopySource: 'data/src' }));
    const g = await be.send(new GetObjectCommand({ Bucket: 'data', Key: 'dst' }));
    expect(await g.Body!.transformToString()).toBe('copy me');
    expect(g.Metadata).toEqual({ m: '1' });
    await s3.send(
      new CopyObjectCommand({
        Bucket: 'data',
        Key: 'dst',
        CopySource: 'data/dst',
        MetadataDirective: 'REPLACE',
        Metadata: { m: '2' },
      }),
    );
    expect((await be.send(new HeadObjectCommand({ Bucket: 'data', Key: 'dst' }))).Metadata).toEqual({ m: '2' });
    await s3.send(
      new PutObjectTaggingCommand({ Bucket: 'data', Key: 'dst', Tagging: { TagSet: [{ Key: 't', Value: 'x' }] } }),
    );
    expect((await be.send(new GetObjectTaggingCommand({ Bucket: 'data', Key: 'dst' }))).TagSet).toEqual([
      { Key: 't', Value: 'x' },
    ]);
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: 'data', Key: 'dst' }))).TagSet).toEqual([
      { Key: 't', Value: 'x' },
    ]);
    await s3.send(new DeleteObjectCommand({ Bucket: 'data', Key: 'src' }));
    const multi = await s3.send(
      new DeleteObjectsCommand({ Bucket: 'data', Delete: { Objects: [{ Key: 'dst' }, { Key: 'never-was' }] } }),
    );
    expect(multi.Deleted!.map((d) => d.Key).sort()).toEqual(['dst', 'never-was']);
    for (const Key of ['src', 'dst'])
      expect(await s3Error(be.send(new HeadObjectCommand({ Bucket: 'data', Key })))).toMatchObject({ status: 404 });
  });
});

describe('object ACLs', () => {
  it('are kept in the backend object’s metadata, read back by the gateway, never shown as metadata', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'acl/public', Body: 'for all', ACL: 'public-read' }));
    const onBackend = await be.send(new HeadObjectCommand({ Bucket: 'data', Key: 'acl/public' }));
    expect(JSON.parse(decodeURIComponent(onBackend.Metadata!['cairn-gw-acl'])).grants).toContainEqual(
      expect.objectContaining({ uri: 'http://acs.amazonaws.com/groups/global/AllUsers', permission: 'READ' }),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'acl/public' }));
    expect(head.Metadata).toEqual({});
    // Anonymous reads are allowed by the object's ACL alone (the bucket is private).
    const anonymous = await fetch(`${gw.url}/data/acl/public`);
    expect(anonymous.status).toBe(200);
    expect(await anonymous.text()).toBe('for all');
    const acl = await s3.send(new GetObjectAclCommand({ Bucket: 'data', Key: 'acl/public' }));
    expect(acl.Grants!.some((g) => g.Grantee?.URI?.endsWith('/AllUsers') && g.Permission === 'READ')).toBe(true);
    await s3.send(new PutObjectAclCommand({ Bucket: 'data', Key: 'acl/public', ACL: 'private' }));
    expect((await fetch(`${gw.url}/data/acl/public`)).status).toBe(403);
    expect(
      await (await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'acl/public' }))).Body!.transformToString(),
    ).toBe('for all');
  });

  it('a client’s own x-amz-meta-cairn-gw-* is refused, and nothing is stored', async () => {
    expect(
      await s3Error(
        s3.send(
          new PutObjectCommand({ Bucket: 'data', Key: 'acl/forged', Body: 'x', Metadata: { 'cairn-gw-acl': '{}' } }),
        ),
      ),
    ).toMatchObject({ name: 'InvalidArgument', status: 400 });
    expect(await s3Error(be.send(new HeadObjectCommand({ Bucket: 'data', Key: 'acl/forged' })))).toMatchObject({
      status: 404,
    });
    expect(
      await s3Error(
        s3.send(
          new CreateMultipartUploadCommand({ Bucket: 'data', Key: 'acl/forged', Metadata: { 'Cairn-GW-x': '1' } }),
        ),
      ),
    ).toMatchObject({ name: 'InvalidArgument', status: 400 });
    expect(
      (await be.send(new ListMultipartUploadsCommand({ Bucket: 'data', Prefix: 'acl/' }))).Uploads,
    ).toBeUndefined();
  });
});

describe('multipart uploads are the backend’s', () => {
  it('parts through the gateway, upload id and listing on the backend, completed object read back', async () => {
    const part1 = rnd.bytes(5 * 1024 * 1024);
    const part2 = rnd.bytes(1234);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'data', Key: 'mp' }));
    const onBackend = await be.send(new ListMultipartUploadsCommand({ Bucket: 'data' }));
    expect(onBackend.Uploads!.map((u) => u.UploadId)).toContain(UploadId);
    const e1 = await s3.send(
      new UploadPartCommand({ Bucket: 'data', Key: 'mp', UploadId, PartNumber: 1, Body: part1 }),
    );
    const e2 = await s3.send(
      new UploadPartCommand({ Bucket: 'data', Key: 'mp', UploadId, PartNumber: 2, Body: part2 }),
    );
    expect(e1.ETag).toBe(`"${md5(part1)}"`);
    const parts = await s3.send(new ListPartsCommand({ Bucket: 'data', Key: 'mp', UploadId }));
    expect(parts.Parts!.map((p) => [p.PartNumber, p.Size])).toEqual([
      [1, part1.length],
      [2, part2.length],
    ]);
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'data',
        Key: 'mp',
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: e1.ETag },
            { PartNumber: 2, ETag: e2.ETag },
          ],
        },
      }),
    );
    const g = await be.send(new GetObjectCommand({ Bucket: 'data', Key: 'mp' }));
    expect(md5(Buffer.from(await g.Body!.transformToByteArray()))).toBe(md5(Buffer.concat([part1, part2])));
    expect(g.ETag).toMatch(/-2"$/);
  });

  it('lib-storage Upload through the gateway; an aborted upload is gone from the backend', async () => {
    const body = rnd.bytes(11 * 1024 * 1024);
    await new Upload({
      client: s3,
      params: { Bucket: 'data', Key: 'lib-upload', Body: body },
      partSize: 5 << 20,
    }).done();
    const g = await s3.send(
      new GetObjectCommand({ Bucket: 'data', Key: 'lib-upload', Range: 'bytes=6000000-6000099' }),
    );
    expect(Buffer.from(await g.Body!.transformToByteArray()).equals(body.subarray(6_000_000, 6_000_100))).toBe(true);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'data', Key: 'aborted' }));
    await s3.send(new AbortMultipartUploadCommand({ Bucket: 'data', Key: 'aborted', UploadId }));
    expect(await s3Error(be.send(new ListPartsCommand({ Bucket: 'data', Key: 'aborted', UploadId })))).toMatchObject({
      name: 'NoSuchUpload',
    });
    expect(
      await s3Error(
        s3.send(new UploadPartCommand({ Bucket: 'data', Key: 'aborted', UploadId, PartNumber: 1, Body: 'x' })),
      ),
    ).toMatchObject({ name: 'NoSuchUpload', status: 404 });
  });
});

describe('listings pass through with paging', () => {
  beforeAll(async () => {
    await be.send(new CreateBucketCommand({ Bucket: 'list' }));
    const keys = ['a', 'b/1', 'b/2', 'b/3', 'c/1', 'd', 'e/x/1', 'f'];
    for (const Key of keys) await be.send(new PutObjectCommand({ Bucket: 'list', Key, Body: Key }));
  });

  it('v2 with a delimiter, one entry a page, gives each key and prefix once in order', async () => {
    const seen: string[] = [];
    let ContinuationToken: string | undefined;
    for (let i = 0; i < 20; i++) {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: 'list', Delimiter: '/', MaxKeys: 1, ContinuationToken }),
      );
      for (const c of page.Contents ?? []) seen.push(c.Key!);
      for (const p of page.CommonPrefixes ?? []) seen.push(p.Prefix!);
      if (!page.IsTruncated) break;
      ContinuationToken = page.NextContinuationToken;
    }
    expect(seen).toEqual(['a', 'b/', 'c/', 'd', 'e/', 'f']);
  });

  it('v1 with a marker and a prefix, two a page', async () => {
    const seen: string[] = [];
    let Marker: string | undefined;
    for (let i = 0; i < 20; i++) {
      const page = await s3.send(new ListObjectsCommand({ Bucket: 'list', Prefix: 'b/', MaxKeys: 2, Marker }));
      seen.push(...(page.Contents ?? []).map((c) => c.Key!));
      if (!page.IsTruncated) break;
      Marker = page.NextMarker ?? page.Contents!.at(-1)!.Key;
    }
    expect(seen).toEqual(['b/1', 'b/2', 'b/3']);
    const all = await s3.send(new ListObjectsV2Command({ Bucket: 'list' }));
    expect(all.Contents!.map((c) => [c.Key, c.Size])).toEqual(
      ['a', 'b/1', 'b/2', 'b/3', 'c/1', 'd', 'e/x/1', 'f'].map((k) => [k, k.length]),
    );
  });
});
