// SigV4 corners the SDKs never send, signed by hand with test/helpers/sigv4.ts (written from AWS's pages,
// not Cairn's code): a credential date other than the request's, SignedHeaders without host, presigned
// expiries past a week, and signed aws-chunked uploads (chunk signatures, signed trailers) end to end.
// Every refusal is checked to have stored nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { s3Error, startWithBucket, type TestServer } from '../helpers/cairn.js';
import { checksumOf } from '../helpers/checksums.js';
import {
  amzDate,
  authorization,
  presignV4,
  queryString,
  signedChunkedBody,
  signV4,
  type V4Request,
} from '../helpers/sigv4.js';
import { createHash } from 'node:crypto';

let server: TestServer;
let s3: S3Client;
let host: string;
const bucket = 'sigv4';
const code = (xml: string) => /<Code>([^<]+)<\/Code>/.exec(xml)?.[1];
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  ({ server, s3 } = await startWithBucket());
  host = new URL(server.url).host;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'keep', Body: 'original' }));
});
afterAll(() => server?.close());

/** Sends a request signed in the Authorization header; `mutate` may change the signed headers afterwards. */
type Unsigned = Omit<V4Request, 'headers' | 'payloadHash'> & { headers?: Record<string, string>; body?: string };

async function send(r: Unsigned) {
  const body = r.body === undefined ? undefined : Buffer.from(r.body);
  const payloadHash = sha256(body ?? '');
  const headers = { host, 'x-amz-date': amzDate(r.time), 'x-amz-content-sha256': payloadHash, ...r.headers };
  const s = signV4({ ...r, headers, payloadHash });
  const { host: _h, ...sent } = headers;
  const res = await fetch(server.url + r.path + (r.query?.length ? `?${queryString(r.query)}` : ''), {
    method: r.method,
    headers: { ...sent, authorization: authorization(s) },
    body,
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

async function unchanged(key = 'keep', want = 'original'): Promise<void> {
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  expect(await got.Body!.transformToString()).toBe(want);
}

async function absent(key: string): Promise<void> {
  expect(await s3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })))).toMatchObject({ status: 404 });
}

describe('the signature itself', () => {
  it('the hand signer is right: a request it signs is accepted', async () => {
    const r = await send({ method: 'PUT', path: `/${bucket}/hand-signed`, time: new Date(), body: 'by hand' });
    expect(r.status).toBe(200);
    await unchanged('hand-signed', 'by hand');
  });

  it('a credential date other than the x-amz-date is AuthorizationHeaderMalformed', async () => {
    // AWS: 400 AuthorizationHeaderMalformed, "Invalid credential date. Date is not the same as X-Amz-Date."
    // The signature is right for the scope it names: only the dates disagree.
    const now = new Date();
    const yesterday = amzDate(new Date(now.getTime() - 86400_000)).slice(0, 8);
    const r = await send({ method: 'PUT', path: `/${bucket}/keep`, time: now, scopeDate: yesterday, body: 'evil' });
    expect([r.status, code(r.text)]).toEqual([400, 'AuthorizationHeaderMalformed']);
    expect(r.text).toContain('Invalid credential date');
    await unchanged();
  });

  it('SignedHeaders without host is AccessDenied naming host as not signed', async () => {
    // SigV4: host must be signed. AWS answers 403 AccessDenied "There were headers present in the request
    // which were not signed" with <HeadersNotSigned>host</HeadersNotSigned>.
    const signed = ['x-amz-content-sha256', 'x-amz-date'];
    const r = await send({ method: 'PUT', path: `/${bucket}/keep`, time: new Date(), body: 'evil', signed });
    expect([r.status, code(r.text)]).toEqual([403, 'AccessDenied']);
    expect(r.text).toContain('<HeadersNotSigned>host</HeadersNotSigned>');
    await unchanged();
  });
});

describe('presigned URLs', () => {
  const presigned = (key: string, method: string, expires: number, o: Partial<V4Request> = {}) => {
    const query = presignV4({ method, path: `/${bucket}/${key}`, headers: { host }, time: new Date(), ...o }, expires);
    return `${server.url}/${bucket}/${key}?${queryString(query)}`;
  };

  it('the hand presigner is right; X-Amz-Expires of exactly 7 days is accepted', async () => {
    const r = await fetch(presigned('keep', 'GET', 604800));
    expect([r.status, await r.text()]).toEqual([200, 'original']);
  });

  it('X-Amz-Expires over 7 days or negative is AuthorizationQueryParametersError and stores nothing', async () => {
    // AWS: AuthorizationQueryParametersError, "X-Amz-Expires must be less than a week (in seconds) that
    // is; the maximum expires is 604800 seconds"; a negative value: "X-Amz-Expires must be non-negative"; both
    // with status 403 (ceph/s3-tests test_object_raw_get_x_amz_expires_out_*, checked against AWS: #454).
    for (const expires of [604801, -1]) {
      const r = await fetch(presigned('keep', 'PUT', expires), { method: 'PUT', body: 'evil' });
      const text = await r.text();
      expect([r.status, code(text)], String(expires)).toEqual([403, 'AuthorizationQueryParametersError']);
    }
    await unchanged();
  });

  it('a credential date other than X-Amz-Date is AuthorizationQueryParametersError', async () => {
    const now = new Date();
    const yesterday = amzDate(new Date(now.getTime() - 86400_000)).slice(0, 8);
    const url = presigned('presigned-date', 'PUT', 3600, { time: now, scopeDate: yesterday });
    const r = await fetch(url, { method: 'PUT', body: 'evil' });
    const text = await r.text();
    expect([r.status, code(text)]).toEqual([400, 'AuthorizationQueryParametersError']);
    expect(text).toContain('Invalid credential date');
    await absent('presigned-date');
  });

  it('X-Amz-SignedHeaders without host is AccessDenied', async () => {
    const date = amzDate(new Date());
    const headers = { host, 'x-amz-date': date };
    const url = presigned('presigned-nohost', 'PUT', 3600, { signed: ['x-amz-date'], headers });
    const r = await fetch(url, { method: 'PUT', body: 'evil', headers: { 'x-amz-date': date } });
    const text = await r.text();
    expect([r.status, code(text)]).toEqual([403, 'AccessDenied']);
    expect(text).toContain('<HeadersNotSigned>host</HeadersNotSigned>');
    await absent('presigned-nohost');
  });
});

describe('signed aws-chunked uploads', () => {
  const chunks = [Buffer.alloc(65536, 'a'), Buffer.alloc(65536, 'b'), Buffer.from('tail')];
  const whole = Buffer.concat(chunks);

  /** PUT of `key` with a STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER] body built from `chunks`. */
  interface Framing {
    trailer?: [string, string];
    tamper?: (i: number, c: Buffer) => Buffer;
    /** Send only this many bytes of the framed body. */
    cut?: number;
    /** The x-amz-decoded-content-length to declare. */
    decoded?: number;
    /** The chunks to send instead of `chunks`. */
    body?: Buffer[];
  }

  async function chunkedPut(key: string, o: Framing = {}) {
    const time = new Date();
    const payloadHash = o.trailer ? 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER' : 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
    const headers: Record<string, string> = {
      host,
      'x-amz-date': amzDate(time),
      'x-amz-content-sha256': payloadHash,
      'content-encoding': 'aws-chunked',
      'x-amz-decoded-content-length': String(o.decoded ?? Buffer.concat(o.body ?? chunks).length),
      ...(o.trailer ? { 'x-amz-trailer': o.trailer[0] } : {}),
    };
    const s = signV4({ method: 'PUT', path: `/${bucket}/${key}`, headers, payloadHash, time });
    let body = signedChunkedBody(s, time, o.body ?? chunks, o.trailer ? [o.trailer] : undefined, o.tamper);
    if (o.cut !== undefined) body = body.subarray(0, o.cut);
    const { host: _h, ...sent } = headers;
    const init = { method: 'PUT', headers: { ...sent, authorization: authorization(s) }, body };
    const res = await fetch(`${server.url}/${bucket}/${key}`, init);
    return { status: res.status, text: await res.text(), headers: res.headers };
  }

  it('chunk signatures chained from the seed: stored byte for byte, without the framing', async () => {
    const r = await chunkedPut('chunked');
    expect(r.status).toBe(200);
    expect(r.headers.get('etag')).toBe(`"${createHash('md5').update(whole).digest('hex')}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'chunked' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(whole)).toBe(true);
    expect(got.ContentEncoding).toBeUndefined();
  });

  it('with a signed trailing checksum: stored with that checksum', async () => {
    const crc = checksumOf('CRC32', whole);
    const r = await chunkedPut('chunked-trailer', { trailer: ['x-amz-checksum-crc32', crc] });
    expect(r.status).toBe(200);
    const head = await s3.send(
      new HeadObjectCommand({
        Bucket: bucket,
        Key: 'chunked-trailer',
        ChecksumMode: 'ENABLED',
      }),
    );
    expect([head.ContentLength, head.ChecksumCRC32]).toEqual([whole.length, crc]);
  });

  it('a chunk changed after signing, a wrong trailer value or a truncated body store nothing', async () => {
    // A flipped byte in the second chunk: its signature no longer matches (403 SignatureDoesNotMatch).
    const flipSecond = (i: number, c: Buffer) => (i === 1 ? Buffer.concat([Buffer.from('X'), c.subarray(1)]) : c);
    const forged = await chunkedPut('keep', { tamper: flipSecond });
    expect([forged.status, code(forged.text)]).toEqual([403, 'SignatureDoesNotMatch']);
    // A trailing checksum that is signed but wrong for the data: BadDigest.
    const other = checksumOf('CRC32', Buffer.from('other'));
    const wrongSum = await chunkedPut('keep', { trailer: ['x-amz-checksum-crc32', other] });
    expect([wrongSum.status, code(wrongSum.text)]).toEqual([400, 'BadDigest']);
    // The body ends inside the second chunk: IncompleteBody.
    const cut = await chunkedPut('keep', { cut: 70_000 });
    expect([cut.status, code(cut.text)]).toEqual([400, 'IncompleteBody']);
    // The decoded length declared is not what the chunks hold: IncompleteBody.
    const lying = await chunkedPut('keep', { decoded: whole.length + 1 });
    expect([lying.status, code(lying.text)]).toEqual([400, 'IncompleteBody']);
    await unchanged();
  });

  it('a multi-MiB body is verified a MiB of chunks at a time: a forged chunk in any run stores nothing', async () => {
    // 48 chunks of 64 KiB: three runs verified on the libuv pool; the forged chunk sits in the first, the middle
    // and the last run (the one the final empty chunk closes).
    const big = Array.from({ length: 48 }, (_, i) => Buffer.alloc(65536, i));
    for (const at of [2, 24, 47]) {
      const flip = (i: number, c: Buffer) =>
        i === at ? Buffer.concat([c.subarray(0, 100), Buffer.from('!'), c.subarray(101)]) : c;
      const forged = await chunkedPut('keep', { body: big, tamper: flip });
      expect([forged.status, code(forged.text)]).toEqual([403, 'SignatureDoesNotMatch']);
    }
    await unchanged();
    const r = await chunkedPut('big-chunked', { body: big });
    expect(r.status).toBe(200);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big-chunked' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat(big))).toBe(true);
  });
});
