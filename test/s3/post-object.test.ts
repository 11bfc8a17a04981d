// POST policy form uploads (what browsers send): SigV4 and SigV2 signed policies, conditions, limits.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ROOT, s3Error, startWithBucket, type TestServer } from '../helpers/cairn.js';

let server: TestServer;
let s3: S3Client;
const bucket = 'post-uploads';
beforeAll(async () => {
  ({ server, s3 } = await startWithBucket(bucket));
});
afterAll(() => server?.close());

const hmac = (k: Buffer | string, d: string) => createHmac('sha256', k).update(d).digest();

function v4Form(
  conditions: unknown[],
  fields: Record<string, string>,
  opts: { expiresInMs?: number; secret?: string } = {},
): Record<string, string> {
  const now = new Date();
  const date = now.toISOString().slice(0, 10).replace(/-/g, '');
  const amzDate = `${date}T000000Z`;
  const credential = `${ROOT.accessKey}/${date}/us-east-1/s3/aws4_request`;
  const policy = Buffer.from(
    JSON.stringify({
      expiration: new Date(now.getTime() + (opts.expiresInMs ?? 60_000)).toISOString(),
      conditions: [
        ...conditions,
        { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' },
        { 'x-amz-credential': credential },
        { 'x-amz-date': amzDate },
      ],
    }),
  ).toString('base64');
  const key = hmac(hmac(hmac(hmac(`AWS4${opts.secret ?? ROOT.secretKey}`, date), 'us-east-1'), 's3'), 'aws4_request');
  return {
    ...fields,
    'x-amz-algorithm': 'AWS4-HMAC-SHA256',
    'x-amz-credential': credential,
    'x-amz-date': amzDate,
    policy,
    'x-amz-signature': hmac(key, policy).toString('hex'),
  };
}

async function post(fields: Record<string, string>, file: string | Buffer, fileName = 'upload.txt'): Promise<Response> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', new Blob([file]), fileName);
  return fetch(`${server.url}/${bucket}`, { method: 'POST', body: form });
}

describe('POST policy uploads', () => {
  it('uploads with a SigV4 policy, ${filename}, metadata and success_action_status 201', async () => {
    const fields = v4Form(
      [
        { bucket },
        ['starts-with', '$key', 'user/'],
        ['starts-with', '$Content-Type', 'text/'],
        ['content-length-range', 1, 1000],
        { success_action_status: '201' },
        ['starts-with', '$x-amz-meta-tag', ''],
      ],
      {
        key: 'user/${filename}',
        'Content-Type': 'text/plain',
        success_action_status: '201',
        'x-amz-meta-tag': 'browser',
      },
    );
    const r = await post(fields, 'form data', 'hello.txt');
    const body = await r.text();
    expect(r.status).toBe(201);
    expect(body).toContain('<Key>user/hello.txt</Key>');
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'user/hello.txt' }));
    expect(await got.Body!.transformToString()).toBe('form data');
    expect([got.ContentType, got.Metadata]).toEqual(['text/plain', { tag: 'browser' }]);
  });

  it('large files stream through (delimiter split across reads)', async () => {
    const data = Buffer.alloc(3 * 1024 * 1024 + 7);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
    const r = await post(v4Form([{ bucket }, ['starts-with', '$key', '']], { key: 'big.bin' }), data);
    expect(r.status).toBe(204);
    const got = Buffer.from(
      await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big.bin' }))).Body!.transformToByteArray(),
    );
    expect(got.equals(data)).toBe(true);
  });

  it('SigV2 policies work too', async () => {
    const policy = Buffer.from(
      JSON.stringify({
        expiration: new Date(Date.now() + 60_000).toISOString(),
        conditions: [{ bucket }, { key: 'v2.txt' }],
      }),
    ).toString('base64');
    const signature = createHmac('sha1', ROOT.secretKey).update(policy).digest('base64');
    const r = await post({ key: 'v2.txt', AWSAccessKeyId: ROOT.accessKey, policy, signature }, 'v2');
    expect(r.status).toBe(204);
    expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'v2.txt' }))).ContentLength).toBe(2);
  });

  it('refuses failed conditions, extra fields, expired policies, bad signatures, sizes out of range; stores nothing', async () => {
    const cases: [Record<string, string>, number, string][] = [
      [v4Form([{ bucket }, ['starts-with', '$key', 'user/']], { key: 'other/x' }), 403, 'AccessDenied'],
      [v4Form([{ bucket }, ['starts-with', '$key', '']], { key: 'x', 'x-amz-meta-extra': '1' }), 403, 'AccessDenied'],
      [v4Form([{ bucket }, ['starts-with', '$key', '']], { key: 'x' }, { expiresInMs: -1000 }), 403, 'AccessDenied'],
      [
        v4Form([{ bucket }, ['starts-with', '$key', '']], { key: 'x' }, { secret: 'wrong' }),
        403,
        'SignatureDoesNotMatch',
      ],
      [
        v4Form([{ bucket }, ['starts-with', '$key', ''], ['content-length-range', 0, 3]], { key: 'x' }),
        400,
        'EntityTooLarge',
      ],
      [
        v4Form([{ bucket }, ['starts-with', '$key', ''], ['content-length-range', 100, 300]], { key: 'x' }),
        400,
        'EntityTooSmall',
      ],
      [{ key: 'x' }, 403, 'AccessDenied'],
      // A form field that would become a broken response header is refused, not stored.
      [
        v4Form([{ bucket }, ['starts-with', '$key', ''], ['starts-with', '$Content-Type', '']], {
          key: 'x',
          'Content-Type': 'text/plain\r\nx-injected: 1',
        }),
        400,
        'InvalidArgument',
      ],
    ];
    for (const [fields, status, code] of cases) {
      const r = await post(fields, 'too long');
      expect([r.status, /<Code>([^<]+)/.exec(await r.text())?.[1]]).toEqual([status, code]);
    }
    expect(await s3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'x' })))).toMatchObject({ status: 404 });
    expect(await s3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'other/x' })))).toMatchObject({
      status: 404,
    });
  });
});
