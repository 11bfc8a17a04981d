// Whoever holds a signed request (a presigned URL above all) must not be able to change what it does by
// adding x-amz-* headers: S3 refuses any x-amz-* header the signature does not cover with 403 AccessDenied
// (HeadersNotSigned). End to end with the SDK's presigner and signer; every refused request stores nothing.
// Also: a credential scope naming another region is refused with the region expected.
import {
  CreateBucketCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClient, s3Error, startTestServer, startWithBucket, type TestServer } from '../helpers/cairn.js';
import { signRequest } from '../helpers/signed-request.js';

const BUCKET = 'signed-hdrs';

describe('every x-amz-* header must be signed', () => {
  let srv: TestServer;
  let s3: S3Client;
  let anon: S3Client;
  // Presigns without the SDK's default request checksum: at signing time a PUT has no body, so the SDK would
  // sign the CRC32 of an empty body into the URL (the last test shows what S3 then does with a real body).
  let presigner: S3Client;
  beforeAll(async () => {
    ({ server: srv, s3 } = await startWithBucket());
    presigner = srv.client({ checksums: 'WHEN_REQUIRED' });
    anon = srv.client({ extra: { signer: { sign: async (r) => r } } });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'secret', Body: 'top secret' }));
  });
  afterAll(() => srv?.close());

  const keys = async () =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }))).Contents ?? []).map((o) => o.Key).sort();

  it('a presigned PUT cannot be turned into a public copy of another object', async () => {
    const url = await getSignedUrl(presigner, new PutObjectCommand({ Bucket: BUCKET, Key: 'upload' }), {
      expiresIn: 60,
    });
    const res = await fetch(url, {
      method: 'PUT',
      body: '',
      headers: { 'x-amz-copy-source': `/${BUCKET}/secret`, 'x-amz-acl': 'public-read' },
    });
    const text = await res.text();
    expect(res.status).toBe(403);
    expect(text).toContain('<Code>AccessDenied</Code>');
    expect(text).toContain('<HeadersNotSigned>x-amz-acl, x-amz-copy-source</HeadersNotSigned>');
    expect(await keys()).toEqual(['secret']);
    expect((await s3Error(anon.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'upload' })))).status).toBe(403);
  });

  it('a presigned PUT refuses injected metadata, tags, grants, storage class; the plain upload works', async () => {
    const url = await getSignedUrl(presigner, new PutObjectCommand({ Bucket: BUCKET, Key: 'plain' }), {
      expiresIn: 60,
    });
    for (const [name, value] of [
      ['x-amz-meta-owner', 'mallory'],
      ['x-amz-tagging', 'public=yes'],
      ['x-amz-storage-class', 'REDUCED_REDUNDANCY'],
      ['x-amz-grant-read', 'uri="http://acs.amazonaws.com/groups/global/AllUsers"'],
      ['x-amz-grant-full-control', 'id="x"'],
    ]) {
      const res = await fetch(url, { method: 'PUT', body: 'injected', headers: { [name]: value } });
      expect([res.status, await res.text()], name).toEqual([
        403,
        expect.stringContaining(`<HeadersNotSigned>${name}</HeadersNotSigned>`),
      ]);
    }
    expect(await keys()).toEqual(['secret']);
    // What a browser or curl adds is no x-amz-* header: the same URL uploads.
    const ok = await fetch(url, {
      method: 'PUT',
      body: 'fine',
      headers: { 'content-type': 'text/plain', origin: 'https://app.example', referer: 'https://app.example/x' },
    });
    expect(ok.status).toBe(200);
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'plain' }));
    expect([head.ContentLength, head.ContentType, head.Metadata]).toEqual([4, 'text/plain', {}]);
  });

  it("a presigned PUT refuses MinIO's replication headers added to it (they would name version ids and times)", async () => {
    const url = await getSignedUrl(presigner, new PutObjectCommand({ Bucket: BUCKET, Key: 'replica' }), {
      expiresIn: 60,
    });
    const res = await fetch(url, {
      method: 'PUT',
      body: 'forged',
      headers: { 'x-minio-source-replication-request': 'true', 'x-minio-source-mtime': '2001-01-01T00:00:00Z' },
    });
    expect([res.status, await res.text()]).toEqual([
      403,
      expect.stringContaining(
        '<HeadersNotSigned>x-minio-source-mtime, x-minio-source-replication-request</HeadersNotSigned>',
      ),
    ]);
    expect(await keys()).not.toContain('replica');
  });

  it('a presigned PUT whose signer chose an x-amz-* header takes it', async () => {
    // unhoistableHeaders keeps the header a header (signed), as a browser upload with a fixed ACL does.
    const url = await getSignedUrl(
      presigner,
      new PutObjectCommand({ Bucket: BUCKET, Key: 'chosen', ACL: 'public-read' }),
      {
        expiresIn: 60,
        unhoistableHeaders: new Set(['x-amz-acl']),
      },
    );
    expect(new URL(url).searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-amz-acl');
    const res = await fetch(url, { method: 'PUT', body: 'public', headers: { 'x-amz-acl': 'public-read' } });
    expect(res.status).toBe(200);
    expect(
      await (await anon.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'chosen' }))).Body!.transformToString(),
    ).toBe('public');
    // Changing the signed value breaks the signature.
    const changed = await fetch(url, { method: 'PUT', body: 'x', headers: { 'x-amz-acl': 'public-read-write' } });
    expect([changed.status, await changed.text()]).toEqual([403, expect.stringContaining('SignatureDoesNotMatch')]);
  });

  it('a presigned PUT takes the x-amz-* headers its signer hoisted into the query as headers', async () => {
    // The JS SDK's presigner moves x-amz-acl, x-amz-meta-* and x-amz-tagging into the (signed) query string.
    const url = await getSignedUrl(
      presigner,
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'hoisted',
        ACL: 'public-read',
        Metadata: { team: 'blue' },
        Tagging: 'k=v',
      }),
      { expiresIn: 60 },
    );
    const q = new URL(url).searchParams;
    expect([q.get('x-amz-acl'), q.get('x-amz-meta-team'), q.get('x-amz-tagging')]).toEqual([
      'public-read',
      'blue',
      'k=v',
    ]);
    expect((await fetch(url, { method: 'PUT', body: 'hoisted' })).status).toBe(200);
    expect(
      await (await anon.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'hoisted' }))).Body!.transformToString(),
    ).toBe('hoisted');
    expect((await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'hoisted' }))).Metadata).toEqual({
      team: 'blue',
    });
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: 'hoisted' }))).TagSet).toEqual([
      { Key: 'k', Value: 'v' },
    ]);
    // A parameter added to the URL after signing breaks the signature; the same name as a header too is refused.
    const added = await fetch(`${url}&x-amz-grant-read=${encodeURIComponent('id="x"')}`, { method: 'PUT', body: 'x' });
    expect([added.status, await added.text()]).toEqual([403, expect.stringContaining('SignatureDoesNotMatch')]);
    // Sent as a header too: unsigned, it is refused as any unsigned header is.
    const twice = await fetch(url, { method: 'PUT', body: 'x', headers: { 'x-amz-acl': 'private' } });
    expect([twice.status, await twice.text()]).toEqual([
      403,
      expect.stringContaining('<HeadersNotSigned>x-amz-acl</HeadersNotSigned>'),
    ]);
    expect(
      await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'hoisted' }))).Body!.transformToString(),
    ).toBe('hoisted');
  });

  it('a checksum the presigner signed into the URL is checked against the body', async () => {
    // The SDK's default (WHEN_SUPPORTED) signs x-amz-checksum-crc32 of the empty body (AAAAAA==) into a presigned
    // PUT; the body must then match it, as with the header (a known trap: aws/aws-sdk-js-v3#6994).
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: BUCKET, Key: 'crc-baked' }), { expiresIn: 60 });
    expect(new URL(url).searchParams.get('x-amz-checksum-crc32')).toBe('AAAAAA==');
    const mismatch = await fetch(url, { method: 'PUT', body: 'not empty' });
    expect([mismatch.status, await mismatch.text()]).toEqual([400, expect.stringContaining('<Code>BadDigest</Code>')]);
    expect(await keys()).not.toContain('crc-baked');
    expect((await fetch(url, { method: 'PUT', body: '' })).status).toBe(200);
    expect(await keys()).toContain('crc-baked');
  });

  it('a presigned GET works with the headers browsers and curl send', async () => {
    const url = await getSignedUrl(presigner, new GetObjectCommand({ Bucket: BUCKET, Key: 'secret' }), {
      expiresIn: 60,
    });
    const res = await fetch(url, {
      headers: { origin: 'https://app.example', 'user-agent': 'curl/8.5.0', accept: '*/*', range: 'bytes=0-2' },
    });
    expect([res.status, await res.text()]).toEqual([206, 'top']);
    const tampered = await fetch(url, { headers: { 'x-amz-checksum-mode': 'ENABLED' } });
    expect([tampered.status, await tampered.text()]).toEqual([
      403,
      expect.stringContaining('<HeadersNotSigned>x-amz-checksum-mode</HeadersNotSigned>'),
    ]);
  });

  it('a header-signed request refuses x-amz-* headers added after signing; nothing is stored', async () => {
    const signed = await signRequest(srv.url, {
      method: 'PUT',
      path: `/${BUCKET}/hdr`,
      body: 'data',
      headers: { 'x-amz-meta-a': '1' },
    });
    const send = (extra: Record<string, string>) => {
      const headers = { ...signed.headers, ...extra };
      delete headers.host;
      return fetch(srv.url + signed.target, { method: 'PUT', headers, body: 'data' });
    };
    const injected: Record<string, string>[] = [
      { 'x-amz-acl': 'public-read' },
      { 'x-amz-copy-source': `/${BUCKET}/secret` },
      { 'x-amz-tagging': 'a=1' },
    ];
    for (const extra of injected) {
      const res = await send(extra);
      expect([res.status, await res.text()]).toEqual([
        403,
        expect.stringContaining(`<HeadersNotSigned>${Object.keys(extra)[0]}</HeadersNotSigned>`),
      ]);
    }
    expect(await keys()).not.toContain('hdr');
    expect((await send({})).status).toBe(200);
    expect((await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'hdr' }))).Metadata).toEqual({ a: '1' });
  });
});

describe('credential scope region', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ region: 'eu-west-3' });
    await srv.client({ extra: { region: 'eu-west-3' } }).send(new CreateBucketCommand({ Bucket: 'regional' }));
  });
  afterAll(() => srv?.close());

  it('a request signed for another region is refused, naming the region expected', async () => {
    const mars = makeClient(srv.url, { extra: { region: 'mars-west-9' } });
    const err = await mars.send(new ListObjectsV2Command({ Bucket: 'regional' })).then(
      () => undefined,
      (e: { name: string; message: string; $metadata: { httpStatusCode: number }; Region?: string }) => e,
    );
    expect(err?.name).toBe('AuthorizationHeaderMalformed');
    expect(err?.$metadata.httpStatusCode).toBe(400);
    expect(err?.message).toBe(
      "The authorization header is malformed; the region 'mars-west-9' is wrong; expecting 'eu-west-3'",
    );
    expect(err?.Region).toBe('eu-west-3');

    const url = await getSignedUrl(mars, new GetObjectCommand({ Bucket: 'regional', Key: 'k' }), { expiresIn: 60 });
    const res = await fetch(url);
    const text = await res.text();
    expect(res.status).toBe(400);
    expect(text).toContain('<Code>AuthorizationQueryParametersError</Code>');
    expect(text).toContain('<Region>eu-west-3</Region>');
    // A client set for the server's region is fine.
    const ok = makeClient(srv.url, { extra: { region: 'eu-west-3' } });
    expect((await ok.send(new ListObjectsV2Command({ Bucket: 'regional' }))).KeyCount).toBe(0);
  });
});
