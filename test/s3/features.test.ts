// Copy, tagging, versioning, conditional requests, ranges, checksums, presigned URLs, CORS and bucket
// policies (anonymous access), through @aws-sdk/client-s3 and plain fetch.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketCorsCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketCorsCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { s3Error, startWithBucket, type TestServer } from '../helpers/cairn.js';
import { checksumOf, crc32c, crc64nvme } from '../helpers/checksums.js';

let server: TestServer;
let s3: S3Client;
const bucket = 'features';
beforeAll(async () => {
  ({ server, s3 } = await startWithBucket(bucket));
});
afterAll(() => server?.close());

const text = async (p: Promise<{ Body?: { transformToString(): Promise<string> } }>) =>
  (await p).Body!.transformToString();

describe('copy', () => {
  it('copies with metadata directives and onto itself', async () => {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'src',
        Body: 'source',
        ContentType: 'text/a',
        Metadata: { m: '1' },
        Tagging: 't=1',
      }),
    );
    const c = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'dst', CopySource: `${bucket}/src` }));
    expect(c.CopyObjectResult?.ETag).toBe(`"${createHash('md5').update('source').digest('hex')}"`);
    const h = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dst' }));
    expect(h.ContentType).toBe('text/a');
    expect(h.Metadata).toEqual({ m: '1' });
    await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'dst2',
        CopySource: `${bucket}/src`,
        MetadataDirective: 'REPLACE',
        ContentType: 'text/b',
        Metadata: { n: '2' },
      }),
    );
    const h2 = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dst2' }));
    expect([h2.ContentType, h2.Metadata]).toEqual(['text/b', { n: '2' }]);
    expect(
      await s3Error(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'src', CopySource: `${bucket}/src` }))),
    ).toMatchObject({ name: 'InvalidRequest', status: 400 });
    await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'src',
        CopySource: `${bucket}/src`,
        MetadataDirective: 'REPLACE',
        Metadata: { changed: 'yes' },
      }),
    );
    expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'src' }))).Metadata).toEqual({ changed: 'yes' });
    expect(await text(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'src' })))).toBe('source');
    expect(
      await s3Error(
        s3.send(
          new CopyObjectCommand({ Bucket: bucket, Key: 'x', CopySource: `${bucket}/src`, CopySourceIfMatch: '"nope"' }),
        ),
      ),
    ).toMatchObject({ name: 'PreconditionFailed', status: 412 });
    expect(
      await s3Error(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'x', CopySource: `${bucket}/missing` }))),
    ).toMatchObject({ name: 'NoSuchKey', status: 404 });
    // Neither failed copy left anything at the destination, and a failed copy onto an existing key keeps it.
    expect(await s3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'x' })))).toMatchObject({ status: 404 });
    const etag = c.CopyObjectResult?.ETag;
    const ifNone = { Bucket: bucket, Key: 'dst', CopySource: `${bucket}/src`, CopySourceIfNoneMatch: etag };
    const onto = s3.send(new CopyObjectCommand(ifNone));
    expect(await s3Error(onto)).toMatchObject({ name: 'PreconditionFailed', status: 412 });
    expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dst' }))).ETag).toBe(etag);
    expect(await text(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'dst' })))).toBe('source');
  });
});

describe('tagging', () => {
  it('object and bucket tag sets', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'tagged', Body: 'x', Tagging: 'a=1&b=2' }));
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tagged' }))).TagSet).toEqual([
      { Key: 'a', Value: '1' },
      { Key: 'b', Value: '2' },
    ]);
    expect((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'tagged' }))).TagCount).toBe(2);
    await s3.send(
      new PutObjectTaggingCommand({ Bucket: bucket, Key: 'tagged', Tagging: { TagSet: [{ Key: 'c', Value: '3' }] } }),
    );
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tagged' }))).TagSet).toEqual([
      { Key: 'c', Value: '3' },
    ]);
    // AWS: a repeated key is InvalidTag ("Cannot provide multiple Tags with the same key"); nothing changes.
    const invalidTag = { name: 'InvalidTag', status: 400 };
    const noTagSet = { name: 'NoSuchTagSet', status: 404 };
    const objectTags = async () =>
      (await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tagged' }))).TagSet;
    const bucketTags = () => s3.send(new GetBucketTaggingCommand({ Bucket: bucket }));
    const putBucketTags = (TagSet: { Key: string; Value: string }[]) =>
      s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet } }));
    const repeated = [
      { Key: 'c', Value: '3' },
      { Key: 'c', Value: '4' },
    ];
    const tagged = { Bucket: bucket, Key: 'tagged', Tagging: { TagSet: repeated } };
    const putRepeated = s3.send(new PutObjectTaggingCommand(tagged));
    expect(await s3Error(putRepeated)).toMatchObject(invalidTag);
    expect(await objectTags()).toEqual([{ Key: 'c', Value: '3' }]);
    expect(await s3Error(bucketTags())).toMatchObject(noTagSet);
    const dup = [
      { Key: 'team', Value: 'a' },
      { Key: 'team', Value: 'b' },
    ];
    expect(await s3Error(putBucketTags(dup))).toMatchObject(invalidTag);
    expect(await s3Error(bucketTags())).toMatchObject(noTagSet);
    await putBucketTags([{ Key: 'team', Value: 'data' }]);
    expect((await bucketTags()).TagSet).toEqual([{ Key: 'team', Value: 'data' }]);
    expect(await s3Error(putBucketTags(dup))).toMatchObject(invalidTag);
    expect((await bucketTags()).TagSet).toEqual([{ Key: 'team', Value: 'data' }]);
  });
});

describe('versioning', () => {
  it('versions, delete markers, listing versions', async () => {
    const vb = 'versioned-bucket';
    await s3.send(new CreateBucketCommand({ Bucket: vb }));
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: vb }))).Status).toBeUndefined();
    await s3.send(new PutBucketVersioningCommand({ Bucket: vb, VersioningConfiguration: { Status: 'Enabled' } }));
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: vb }))).Status).toBe('Enabled');
    const v1 = await s3.send(new PutObjectCommand({ Bucket: vb, Key: 'k', Body: 'one' }));
    const v2 = await s3.send(new PutObjectCommand({ Bucket: vb, Key: 'k', Body: 'two' }));
    expect(v1.VersionId).toBeDefined();
    expect(v1.VersionId).not.toBe(v2.VersionId);
    expect(await text(s3.send(new GetObjectCommand({ Bucket: vb, Key: 'k', VersionId: v1.VersionId })))).toBe('one');
    const del = await s3.send(new DeleteObjectCommand({ Bucket: vb, Key: 'k' }));
    expect(del.DeleteMarker).toBe(true);
    expect(await s3Error(s3.send(new GetObjectCommand({ Bucket: vb, Key: 'k' })))).toMatchObject({ name: 'NoSuchKey' });
    const lv = await s3.send(new ListObjectVersionsCommand({ Bucket: vb }));
    expect(lv.Versions?.length).toBe(2);
    expect(lv.DeleteMarkers?.length).toBe(1);
    expect(lv.IsTruncated).toBe(false);
    await s3.send(new DeleteObjectCommand({ Bucket: vb, Key: 'k', VersionId: del.VersionId }));
    expect(await text(s3.send(new GetObjectCommand({ Bucket: vb, Key: 'k' })))).toBe('two');
    // AWS: a Status other than Enabled or Suspended is MalformedXML (the schema's enumeration); nothing changes.
    const bogusStatus = { Status: 'Bogus' as never };
    const bogus = s3.send(new PutBucketVersioningCommand({ Bucket: vb, VersioningConfiguration: bogusStatus }));
    expect(await s3Error(bogus)).toMatchObject({ name: 'MalformedXML', status: 400 });
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: vb }))).Status).toBe('Enabled');
  });
});

describe('conditional requests and ranges', () => {
  it('If-Match / If-None-Match / If-Modified-Since, ranges clamped, 416', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'range', Body: '0123456789' }));
    expect(await text(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range', Range: 'bytes=2-4' })))).toBe('234');
    expect(await text(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range', Range: 'bytes=-3' })))).toBe('789');
    expect(await text(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range', Range: 'bytes=7-' })))).toBe('789');
    const clamped = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range', Range: 'bytes=5-262143' }));
    expect(clamped.ContentRange).toBe('bytes 5-9/10');
    expect(await clamped.Body!.transformToString()).toBe('56789');
    expect(
      await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range', Range: 'bytes=10-' }))),
    ).toMatchObject({ name: 'InvalidRange', status: 416 });
    expect(
      await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range', IfMatch: '"nope"' }))),
    ).toMatchObject({ status: 412 });
    expect(
      await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range', IfNoneMatch: put.ETag }))),
    ).toMatchObject({ status: 304 });
    expect(
      await s3Error(
        s3.send(
          new GetObjectCommand({ Bucket: bucket, Key: 'range', IfModifiedSince: new Date(Date.now() + 3600_000) }),
        ),
      ),
    ).toMatchObject({ status: 304 });
    expect(await text(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range', IfMatch: put.ETag })))).toBe(
      '0123456789',
    );
    const over = await s3.send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: 'range',
        ResponseContentType: 'x/y',
        ResponseContentDisposition: 'attachment',
      }),
    );
    expect([over.ContentType, over.ContentDisposition]).toEqual(['x/y', 'attachment']);
  });

  it('conditional writes: If-None-Match * and If-Match', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond', Body: 'first', IfNoneMatch: '*' }));
    expect(
      await s3Error(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond', Body: 'second', IfNoneMatch: '*' }))),
    ).toMatchObject({ name: 'PreconditionFailed', status: 412 });
    expect(
      await s3Error(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond', Body: 'third', IfMatch: '"0000"' }))),
    ).toMatchObject({ status: 412 });
    expect(await text(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond' })))).toBe('first');
  });
});

describe('checksums', () => {
  it('stores CRC32/SHA256 checksums and returns them with checksum mode', async () => {
    // The independent CRCs give their published check values.
    const check = Buffer.from('123456789');
    expect([crc32c(check).toString('hex'), crc64nvme(check).toString('hex')]).toEqual(['e3069283', 'ae8b14860a799888']);
    for (const alg of ['CRC32', 'CRC32C', 'SHA1', 'SHA256', 'CRC64NVME'] as const) {
      const put = await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: `ck-${alg}`, Body: 'checksum me', ChecksumAlgorithm: alg }),
      );
      const field = `Checksum${alg}` as const;
      expect(put[field]).toBe(checksumOf(alg, Buffer.from('checksum me')));
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `ck-${alg}`, ChecksumMode: 'ENABLED' }));
      expect(head[field]).toBe(put[field]);
    }
    const sha = createHash('sha256').update('checksum me').digest('base64');
    expect(
      (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'ck-SHA256', ChecksumMode: 'ENABLED' })))
        .ChecksumSHA256,
    ).toBe(sha);
  });

  it('a wrong checksum or Content-MD5 is BadDigest and stores nothing', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'guarded', Body: 'original' }));
    const wrong = createHash('sha256').update('other').digest('base64');
    expect(
      await s3Error(
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'guarded', Body: 'replacement', ChecksumSHA256: wrong })),
      ),
    ).toMatchObject({ name: 'BadDigest', status: 400 });
    expect(
      await s3Error(
        s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: 'guarded',
            Body: 'replacement',
            ContentMD5: createHash('md5').update('x').digest('base64'),
          }),
        ),
      ),
    ).toMatchObject({ name: 'BadDigest', status: 400 });
    expect(await text(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'guarded' })))).toBe('original');
  });
});

describe('DeleteObjects', () => {
  it('deletes a batch, quiet and verbose', async () => {
    for (const k of ['d1', 'd2', 'd3'])
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `batch/${k}`, Body: k }));
    const r = await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: [{ Key: 'batch/d1' }, { Key: 'batch/d2' }, { Key: 'batch/missing' }] },
      }),
    );
    expect(r.Deleted?.map((d) => d.Key).sort()).toEqual(['batch/d1', 'batch/d2', 'batch/missing']);
    const q = await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'batch/d3' }], Quiet: true } }),
    );
    expect(q.Deleted ?? []).toEqual([]);
    expect((await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'batch/' }))).KeyCount).toBe(0);
  });
});

describe('presigned URLs', () => {
  it('GET and PUT through presigned URLs; expired and tampered ones fail', async () => {
    // Without the SDK's default request checksum: it would sign the CRC32 of the empty body into the URL.
    const presigner = server.client({ checksums: 'WHEN_REQUIRED' });
    const putUrl = await getSignedUrl(presigner, new PutObjectCommand({ Bucket: bucket, Key: 'presigned' }), {
      expiresIn: 60,
    });
    const put = await fetch(putUrl, { method: 'PUT', body: 'via presign' });
    expect(put.status).toBe(200);
    const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'presigned' }), {
      expiresIn: 60,
    });
    const got = await fetch(getUrl);
    expect([got.status, await got.text()]).toEqual([200, 'via presign']);
    const tampered = await fetch(getUrl.replace('presigned', 'presigneX'));
    expect(tampered.status).toBe(403);
    expect(await tampered.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
    const old = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'presigned' }), {
      expiresIn: 1,
      signingDate: new Date(Date.now() - 10_000),
    });
    const expired = await fetch(old);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain('expired');
  });
});

describe('CORS', () => {
  it('configuration, preflight and response headers', async () => {
    expect(await s3Error(s3.send(new GetBucketCorsCommand({ Bucket: bucket })))).toMatchObject({
      name: 'NoSuchCORSConfiguration',
      status: 404,
    });
    await s3.send(
      new PutBucketCorsCommand({
        Bucket: bucket,
        CORSConfiguration: {
          CORSRules: [
            {
              AllowedOrigins: ['https://app.example'],
              AllowedMethods: ['GET', 'PUT'],
              AllowedHeaders: ['*'],
              MaxAgeSeconds: 600,
              ExposeHeaders: ['ETag'],
            },
          ],
        },
      }),
    );
    expect((await s3.send(new GetBucketCorsCommand({ Bucket: bucket }))).CORSRules?.[0].AllowedOrigins).toEqual([
      'https://app.example',
    ]);
    const ok = await fetch(`${server.url}/${bucket}/range`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(ok.headers.get('access-control-max-age')).toBe('600');
    const bad = await fetch(`${server.url}/${bucket}/range`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    expect(bad.status).toBe(403);
    expect(await bad.text()).toContain('<Code>AccessForbidden</Code>');
    expect(bad.headers.get('access-control-allow-origin')).toBeNull();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cors-object', Body: 'shared' }));
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'cors-object' }));
    const actual = await fetch(url, { headers: { origin: 'https://app.example' } });
    expect(actual.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(actual.headers.get('access-control-expose-headers')).toBe('ETag');
    expect([actual.status, await actual.text()]).toEqual([200, 'shared']);
  });
});

describe('bucket policy and anonymous access', () => {
  it('anonymous access only where the policy allows it', async () => {
    const pb = 'public-bucket';
    await s3.send(new CreateBucketCommand({ Bucket: pb }));
    await s3.send(new PutObjectCommand({ Bucket: pb, Key: 'pub/file', Body: 'public data' }));
    await s3.send(new PutObjectCommand({ Bucket: pb, Key: 'private/file', Body: 'secret' }));
    expect((await fetch(`${server.url}/${pb}/pub/file`)).status).toBe(403);
    expect(await s3Error(s3.send(new GetBucketPolicyCommand({ Bucket: pb })))).toMatchObject({
      name: 'NoSuchBucketPolicy',
      status: 404,
    });
    const policy = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${pb}/pub/*` }],
    };
    await s3.send(new PutBucketPolicyCommand({ Bucket: pb, Policy: JSON.stringify(policy) }));
    expect(JSON.parse((await s3.send(new GetBucketPolicyCommand({ Bucket: pb }))).Policy!)).toEqual(policy);
    expect((await s3.send(new GetBucketPolicyStatusCommand({ Bucket: pb }))).PolicyStatus?.IsPublic).toBe(true);
    const anon = await fetch(`${server.url}/${pb}/pub/file`);
    expect([anon.status, await anon.text()]).toEqual([200, 'public data']);
    const denied = await fetch(`${server.url}/${pb}/private/file`);
    expect(denied.status).toBe(403);
    expect(await denied.text()).toContain('<Code>AccessDenied</Code>');
    expect((await fetch(`${server.url}/${pb}/pub/new`, { method: 'PUT', body: 'x' })).status).toBe(403);
    expect((await fetch(`${server.url}/${pb}`)).status).toBe(403);
    expect(
      await s3Error(s3.send(new PutBucketPolicyCommand({ Bucket: pb, Policy: '{"Statement": "nonsense"' }))),
    ).toMatchObject({ name: 'MalformedPolicy', status: 400 });
    const noEffect = { Principal: '*', Action: 's3:*', Resource: `arn:aws:s3:::${pb}/*` };
    const noEffectPolicy = JSON.stringify({ Version: '2012-10-17', Statement: [noEffect] });
    const putNoEffect = s3.send(new PutBucketPolicyCommand({ Bucket: pb, Policy: noEffectPolicy }));
    expect(await s3Error(putNoEffect)).toMatchObject({ name: 'MalformedPolicy', status: 400 });
    // The rejected documents changed nothing: the policy before them is still the one in force.
    expect(JSON.parse((await s3.send(new GetBucketPolicyCommand({ Bucket: pb }))).Policy!)).toEqual(policy);
    expect((await fetch(`${server.url}/${pb}/pub/file`)).status).toBe(200);
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: pb }));
    expect((await fetch(`${server.url}/${pb}/pub/file`)).status).toBe(403);
    // Conditions on the object's own tags.
    await s3.send(new PutObjectCommand({ Bucket: pb, Key: 'tagged-public', Body: 'tp', Tagging: 'security=public' }));
    await s3.send(new PutObjectCommand({ Bucket: pb, Key: 'tagged-private', Body: 'tq', Tagging: 'security=private' }));
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: pb,
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: '*',
              Action: 's3:GetObject',
              Resource: `arn:aws:s3:::${pb}/*`,
              Condition: { StringEquals: { 's3:ExistingObjectTag/security': 'public' } },
            },
          ],
        }),
      }),
    );
    expect((await fetch(`${server.url}/${pb}/tagged-public`)).status).toBe(200);
    expect((await fetch(`${server.url}/${pb}/tagged-private`)).status).toBe(403);
    // Missing objects: 404 for a caller allowed to list (that prefix), 403 for others.
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: pb,
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: '*',
              Action: 's3:ListBucket',
              Resource: `arn:aws:s3:::${pb}`,
              Condition: { StringLike: { 's3:prefix': 'pub/*' } },
            },
          ],
        }),
      }),
    );
    expect((await fetch(`${server.url}/${pb}/pub/missing`, { method: 'HEAD' })).status).toBe(404);
    expect((await fetch(`${server.url}/${pb}/private/missing`, { method: 'HEAD' })).status).toBe(403);
    expect((await fetch(`${server.url}/${pb}/pub/file`, { method: 'HEAD' })).status).toBe(403);
  });
});
