// Bad input gets the S3 error a client expects, and the stored data is unchanged afterwards: wrong and
// expired signatures, wrong payload hashes and checksums, truncated bodies, malformed XML, oversized
// headers and metadata, invalid names.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  GetBucketCorsCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutBucketCorsCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ALT, handlerSettled, s3Error, startWithBucket, type TestServer } from '../helpers/cairn.js';
import { connect } from 'node:net';
import { sendTruncated, signRequest, signedFetch } from '../helpers/signed-request.js';

let server: TestServer;
let s3: S3Client;
const bucket = 'bad-input';
const code = (xml: string) => /<Code>([^<]+)<\/Code>/.exec(xml)?.[1];

beforeAll(async () => {
  ({ server, s3 } = await startWithBucket(bucket));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'keep', Body: 'original' }));
});
afterAll(() => server?.close());

async function unchanged(): Promise<void> {
  expect(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'keep' }))).Body!.transformToString()).toBe(
    'original',
  );
}

describe('signatures', () => {
  it('wrong secret, unknown key, skewed clock', async () => {
    const wrong = await signedFetch(server.url, {
      method: 'PUT',
      path: `/${bucket}/keep`,
      body: 'evil',
      credentials: { accessKey: 'cairntestroot', secretKey: 'wrong-secret' },
    });
    expect([wrong.status, code(wrong.text)]).toEqual([403, 'SignatureDoesNotMatch']);
    expect(wrong.headers.get('x-amz-request-id')).toMatch(/^[0-9A-F]{16}$/);
    const unknown = await signedFetch(server.url, {
      method: 'PUT',
      path: `/${bucket}/keep`,
      body: 'evil',
      credentials: { accessKey: 'nobody', secretKey: 'x' },
    });
    expect([unknown.status, code(unknown.text)]).toEqual([403, 'InvalidAccessKeyId']);
    const skewed = server.client({ extra: { systemClockOffset: -20 * 60 * 1000 } });
    expect(
      await s3Error(skewed.send(new PutObjectCommand({ Bucket: bucket, Key: 'keep', Body: 'evil' }))),
    ).toMatchObject({ name: 'RequestTimeTooSkewed', status: 403 });
    await unchanged();
  });

  it('a second static user owns its own buckets and needs a policy for others', async () => {
    const alt = server.client({ credentials: ALT });
    await alt.send(new CreateBucketCommand({ Bucket: 'alt-bucket' }));
    await alt.send(new PutObjectCommand({ Bucket: 'alt-bucket', Key: 'alt-object', Body: 'alt' }));
    expect(
      await (
        await alt.send(new GetObjectCommand({ Bucket: 'alt-bucket', Key: 'alt-object' }))
      ).Body!.transformToString(),
    ).toBe('alt');
    expect((await alt.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)).toEqual(['alt-bucket']);
    expect(await s3Error(alt.send(new GetObjectCommand({ Bucket: bucket, Key: 'keep' })))).toMatchObject({
      name: 'AccessDenied',
      status: 403,
    });
    expect(await s3Error(alt.send(new PutObjectCommand({ Bucket: bucket, Key: 'keep', Body: 'evil' })))).toMatchObject({
      name: 'AccessDenied',
      status: 403,
    });
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: bucket,
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: [ALT.accessKey] },
              Action: 's3:GetObject',
              Resource: `arn:aws:s3:::${bucket}/*`,
            },
          ],
        }),
      }),
    );
    expect(
      await (await alt.send(new GetObjectCommand({ Bucket: bucket, Key: 'keep' }))).Body!.transformToString(),
    ).toBe('original');
    expect(await s3Error(alt.send(new PutObjectCommand({ Bucket: bucket, Key: 'keep', Body: 'evil' })))).toMatchObject({
      name: 'AccessDenied',
    });
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
    // The root user reaches every bucket.
    expect(
      await (
        await s3.send(new GetObjectCommand({ Bucket: 'alt-bucket', Key: 'alt-object' }))
      ).Body!.transformToString(),
    ).toBe('alt');
    await unchanged();
  });
});

describe('bodies', () => {
  it('a payload that does not match its signed SHA-256 stores nothing', async () => {
    const r = await signedFetch(server.url, {
      method: 'PUT',
      path: `/${bucket}/keep`,
      body: 'evil',
      contentSha256: 'a'.repeat(64),
    });
    expect([r.status, code(r.text)]).toEqual([400, 'XAmzContentSHA256Mismatch']);
    await unchanged();
  });

  it('a truncated body stores nothing', async () => {
    // Checked once the server has finished with each request (not after a pause that might be too short).
    for (const [key, sent] of [
      ['keep', 50_000],
      ['truncated-new', 1000],
    ] as const) {
      const done = handlerSettled('PUT', `/${bucket}/${key}`);
      const body = Buffer.alloc(200_000, 1);
      const request = { method: 'PUT', path: `/${bucket}/${key}`, body, contentSha256: 'UNSIGNED-PAYLOAD' };
      await sendTruncated(server.url, request, sent);
      await done;
    }
    await unchanged();
    expect(await s3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'truncated-new' })))).toMatchObject({
      status: 404,
    });
  });

  it('aws-chunked with a wrong trailing checksum is BadDigest; a right one is stored', async () => {
    const framed = (crc: string) => `5\r\nhello\r\n0\r\nx-amz-checksum-crc32:${crc}\r\n\r\n`;
    const headers = {
      'content-encoding': 'aws-chunked',
      'x-amz-decoded-content-length': '5',
      'x-amz-trailer': 'x-amz-checksum-crc32',
    };
    const bad = await signedFetch(server.url, {
      method: 'PUT',
      path: `/${bucket}/keep`,
      headers,
      body: framed('AAAAAA=='),
      contentSha256: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
    });
    expect([bad.status, code(bad.text)]).toEqual([400, 'BadDigest']);
    await unchanged();
    const good = await signedFetch(server.url, {
      method: 'PUT',
      path: `/${bucket}/chunked`,
      headers,
      body: framed('NhCmhg=='),
      contentSha256: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
    });
    expect(good.status).toBe(200);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'chunked', ChecksumMode: 'ENABLED' }));
    expect([head.ContentLength, head.ChecksumCRC32, head.ContentEncoding]).toEqual([5, 'NhCmhg==', undefined]);
    const broken = await signedFetch(server.url, {
      method: 'PUT',
      path: `/${bucket}/keep`,
      headers,
      body: '5\r\nhello world\r\n0\r\n\r\n',
      contentSha256: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
    });
    expect([broken.status, code(broken.text)]).toEqual([400, 'IncompleteBody']);
    await unchanged();
  });

  it('a PUT without a length is MissingContentLength', async () => {
    const r = await signedFetch(server.url, {
      method: 'PUT',
      path: `/${bucket}/keep`,
      headers: { 'content-encoding': 'aws-chunked' },
      body: '0\r\n\r\n',
      contentSha256: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
    });
    expect([r.status, code(r.text)]).toEqual([411, 'MissingContentLength']);
  });
});

describe('Expect: 100-continue', () => {
  /** Sends the head only, then the body once "100 Continue" arrives; returns everything the server said. */
  async function expectContinue(credentials?: { accessKey: string; secretKey: string }): Promise<string> {
    const body = Buffer.from('continued body');
    const { headers, target } = await signRequest(server.url, {
      method: 'PUT',
      path: `/${bucket}/continued`,
      body,
      contentSha256: 'UNSIGNED-PAYLOAD',
      credentials,
    });
    const u = new URL(server.url);
    return new Promise((resolve) => {
      const sock = connect(Number(u.port), u.hostname, () => {
        sock.write(
          [
            `PUT ${target} HTTP/1.1`,
            ...Object.entries({
              ...headers,
              'content-length': String(body.length),
              expect: '100-continue',
              connection: 'close',
            }).map(([k, v]) => `${k}: ${v}`),
            '',
            '',
          ].join('\r\n'),
        );
      });
      let out = '';
      sock.on('data', (d) => {
        out += d;
        if (out.startsWith('HTTP/1.1 100 Continue\r\n\r\n') && !out.includes('200 OK')) sock.write(body);
      });
      sock.on('close', () => resolve(out));
    });
  }

  it('refuses a bad signature without asking for the body, and continues a good one', async () => {
    const refused = await expectContinue({ accessKey: 'cairntestroot', secretKey: 'wrong' });
    expect(refused.split('\r\n')[0]).toBe('HTTP/1.1 403 Forbidden');
    expect(refused).not.toContain('100 Continue');
    const before = await s3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'continued' })));
    expect(before).toMatchObject({ status: 404 });
    const ok = await expectContinue();
    expect(ok.startsWith('HTTP/1.1 100 Continue')).toBe(true);
    expect(ok).toContain('HTTP/1.1 200 OK');
    expect(
      await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'continued' }))).Body!.transformToString(),
    ).toBe('continued body');
  });
});

describe('documents and names', () => {
  it('malformed XML changes no configuration', async () => {
    // Configuration set first, so a rejected write that replaced or removed it would show.
    const cb = 'bad-input-config';
    await s3.send(new CreateBucketCommand({ Bucket: cb }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: cb, VersioningConfiguration: { Status: 'Enabled' } }));
    await s3.send(new PutBucketTaggingCommand({ Bucket: cb, Tagging: { TagSet: [{ Key: 'team', Value: 'data' }] } }));
    const rules = [{ AllowedMethods: ['GET'], AllowedOrigins: ['https://app.example'] }];
    await s3.send(new PutBucketCorsCommand({ Bucket: cb, CORSConfiguration: { CORSRules: rules } }));
    const read = async () => [
      (await s3.send(new GetBucketVersioningCommand({ Bucket: cb }))).Status,
      (await s3.send(new GetBucketTaggingCommand({ Bucket: cb }))).TagSet,
      (await s3.send(new GetBucketCorsCommand({ Bucket: cb }))).CORSRules?.map((r) => [
        r.AllowedMethods,
        r.AllowedOrigins,
      ]),
    ];
    const before = await read();
    expect(before).toEqual(['Enabled', [{ Key: 'team', Value: 'data' }], [[['GET'], ['https://app.example']]]]);
    for (const sub of ['versioning', 'tagging', 'cors']) {
      const body = '<VersioningConfiguration><Status>Suspended</Status>'; // not closed
      const r = await signedFetch(server.url, { method: 'PUT', path: `/${cb}`, query: { [sub]: '' }, body });
      expect([r.status, code(r.text)]).toEqual([400, 'MalformedXML']);
    }
    expect(await read()).toEqual(before);
    const del = await signedFetch(server.url, {
      method: 'POST',
      path: `/${bucket}`,
      query: { delete: '' },
      body: '<Delete><Object><Key>keep</Key></Object>',
    });
    expect([del.status, code(del.text)]).toEqual([400, 'MalformedXML']);
    await unchanged();
  });

  it('more elements than the operation may have: MalformedXML before parsing, nothing changes', async () => {
    // 69,000 keys in 2 MiB (S3 deletes at most 1,000 a request), 'keep' first among them.
    const objects = ['keep', ...Array.from({ length: 68_999 }, (_, i) => `k${i % 10}`)];
    const body = `<Delete>${objects.map((k) => `<Object><Key>${k}</Key></Object>`).join('')}</Delete>`;
    expect(body.length).toBeLessThan(2 * 1024 * 1024);
    const del = await signedFetch(server.url, { method: 'POST', path: `/${bucket}`, query: { delete: '' }, body });
    expect([del.status, code(del.text)]).toEqual([400, 'MalformedXML']);
    await unchanged();
    // 1,001 keys: within the element limit, over S3's key limit.
    const many = `<Delete>${Array.from({ length: 1001 }, () => '<Object><Key>keep</Key></Object>').join('')}</Delete>`;
    const deleteMany = { method: 'POST', path: `/${bucket}`, query: { delete: '' }, body: many };
    const over = await signedFetch(server.url, deleteMany);
    expect([over.status, code(over.text)]).toEqual([400, 'MalformedXML']);
    await unchanged();
    // A tagging document of 20,000 tags (S3 allows 50 on a bucket): the tags stay as they were.
    await s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: [{ Key: 'a', Value: 'b' }] } }));
    const tags = Array.from({ length: 20_000 }, (_, i) => `<Tag><Key>k${i}</Key><Value>v</Value></Tag>`).join('');
    const tagging = `<Tagging><TagSet>${tags}</TagSet></Tagging>`;
    const putTagging = { method: 'PUT', path: `/${bucket}`, query: { tagging: '' }, body: tagging };
    const t = await signedFetch(server.url, putTagging);
    expect([t.status, code(t.text)]).toEqual([400, 'MalformedXML']);
    expect((await s3.send(new GetBucketTaggingCommand({ Bucket: bucket }))).TagSet).toEqual([{ Key: 'a', Value: 'b' }]);
  });

  it('oversized metadata, long keys, oversized headers, invalid bucket names', async () => {
    expect(
      await s3Error(
        s3.send(
          new PutObjectCommand({ Bucket: bucket, Key: 'keep', Body: 'evil', Metadata: { big: 'x'.repeat(2100) } }),
        ),
      ),
    ).toMatchObject({ name: 'MetadataTooLarge', status: 400 });
    expect(
      await s3Error(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k'.repeat(1025), Body: 'x' }))),
    ).toMatchObject({ name: 'KeyTooLongError', status: 400 });
    const huge = await signedFetch(server.url, {
      method: 'PUT',
      path: `/${bucket}/keep`,
      body: 'evil',
      headers: { 'x-amz-meta-huge': 'y'.repeat(20_000) },
    });
    expect([huge.status, code(huge.text)]).toEqual([400, 'RequestHeaderSectionTooLarge']);
    const buckets = async () => (await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name);
    const before = await buckets();
    for (const name of ['ab', 'UPPER', 'under_score', 'a..b', '192.168.0.1']) {
      expect(await s3Error(s3.send(new CreateBucketCommand({ Bucket: name })))).toMatchObject({
        name: 'InvalidBucketName',
        status: 400,
      });
    }
    expect(await buckets()).toEqual(before);
    await unchanged();
    const keys = (await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents?.map((o) => o.Key);
    expect(keys).not.toContain('k'.repeat(1025));
  });

  it('error bodies carry the code and no stack trace', async () => {
    // A GET of a key under a missing bucket is a normal error; the XML must never carry a stack.
    const r = await signedFetch(server.url, { method: 'GET', path: '/no-such-bucket-x/k' });
    expect([r.status, code(r.text)]).toEqual([404, 'NoSuchBucket']);
    expect(r.text).not.toMatch(/at .*\.ts:\d+/);
  });
});
