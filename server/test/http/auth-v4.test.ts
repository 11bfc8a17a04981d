// SigV4 and aws-chunked against AWS's published examples (Signature Version 4 documentation) and against
// requests signed by the AWS SDK's own signer (@smithy/signature-v4).
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { thrownCode } from '../thrown-code.js';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../../../test/helpers/sha256.js';
import { credentialStore } from '../../src/http/auth/credentials.js';
import { verifyHeaderV4, verifyPresignedV4, type SigV4Context } from '../../src/http/auth/sigv4.js';
import { AwsChunkedDecoder, Sha256Verifier } from '../../src/http/auth/aws-chunked.js';
import { S3Error } from '../../src/errors.js';
import { EMPTY_SHA256 as EMPTY } from '../../src/http/auth/canonical.js';
import { seededRandom } from '../../../test/helpers/random.js';
import { signedChunkedBody, signingKey } from '../../../test/helpers/sigv4.js';

const AK = 'AKIAIOSFODNN7EXAMPLE';
const SK = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const at = (iso: string): SigV4Context => ({
  credentials: credentialStore({ root: { accessKey: AK, secretKey: SK } }),
  region: 'us-east-1',
  now: () => Date.parse(iso),
  keyCache: new Map(),
});
const ctx2013 = at('2013-05-24T00:05:00Z');

const code = thrownCode;

async function codeAsync(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return e instanceof S3Error ? e.code : String(e);
  }
  return undefined;
}

// AWS docs, "Signature Calculations for the Authorization Header: Transferring Payload in Multiple Chunks".
const chunkedExample = {
  method: 'PUT',
  rawPath: '/examplebucket/chunkObject.txt',
  rawQuery: '',
  headers: {
    host: 's3.amazonaws.com',
    'x-amz-date': '20130524T000000Z',
    'x-amz-storage-class': 'REDUCED_REDUNDANCY',
    'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': '66560',
    'content-length': '66824',
  },
};
const exampleAuth = `AWS4-HMAC-SHA256 Credential=${AK}/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9`;

function exampleBody(tamper = false): Buffer {
  const a = Buffer.alloc(65536, 'a');
  const b = Buffer.alloc(1024, tamper ? 'b' : 'a');
  return Buffer.concat([
    Buffer.from('10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n'),
    a,
    Buffer.from('\r\n'),
    Buffer.from('400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n'),
    b,
    Buffer.from('\r\n'),
    Buffer.from('0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n'),
  ]);
}

/** Feeds a body in small pieces to exercise framing split across reads. */
function pieces(buf: Buffer, size = 777): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) parts.push(buf.subarray(i, i + size));
  return Readable.from(parts);
}

describe('SigV4 header', () => {
  it('verifies the AWS documentation example and its chunk signature chain', async () => {
    const out = verifyHeaderV4(ctx2013, chunkedExample, exampleAuth);
    expect(out.identity.accessKey).toBe(AK);
    expect(out.payload).toMatchObject({ kind: 'streaming', signed: true, trailer: false });
    const payload = out.payload as { chain?: never };
    const dec = new AwsChunkedDecoder({ chain: payload.chain, decodedLength: 66560 });
    const data = await buffer(pieces(exampleBody()).pipe(dec));
    expect(data.equals(Buffer.alloc(66560, 'a'))).toBe(true);
  });

  it('fails a tampered chunk with SignatureDoesNotMatch', async () => {
    const out = verifyHeaderV4(ctx2013, chunkedExample, exampleAuth);
    const dec = new AwsChunkedDecoder({ chain: (out.payload as { chain?: never }).chain });
    expect(
      await codeAsync(
        pipeline(pieces(exampleBody(true)), dec, async function* (s) {
          for await (const _ of s);
        }),
      ),
    ).toBe('SignatureDoesNotMatch');
  });

  it('rejects a truncated chunked body with IncompleteBody', async () => {
    const out = verifyHeaderV4(ctx2013, chunkedExample, exampleAuth);
    const dec = new AwsChunkedDecoder({ chain: (out.payload as { chain?: never }).chain });
    expect(
      await codeAsync(
        pipeline(pieces(exampleBody().subarray(0, 40000)), dec, async function* (s) {
          for await (const _ of s);
        }),
      ),
    ).toBe('IncompleteBody');
  });

  it('rejects wrong signature, unknown key, skewed clock, malformed header', () => {
    expect(
      code(() => verifyHeaderV4(ctx2013, chunkedExample, exampleAuth.replace('Signature=4f', 'Signature=5f'))),
    ).toBe('SignatureDoesNotMatch');
    expect(
      code(() =>
        verifyHeaderV4(
          ctx2013,
          { ...chunkedExample, headers: { ...chunkedExample.headers, 'x-amz-storage-class': 'STANDARD' } },
          exampleAuth,
        ),
      ),
    ).toBe('SignatureDoesNotMatch');
    expect(code(() => verifyHeaderV4(ctx2013, chunkedExample, exampleAuth.replace(AK, 'NOBODY')))).toBe(
      'InvalidAccessKeyId',
    );
    expect(code(() => verifyHeaderV4(at('2013-05-24T00:20:00Z'), chunkedExample, exampleAuth))).toBe(
      'RequestTimeTooSkewed',
    );
    expect(code(() => verifyHeaderV4(ctx2013, chunkedExample, 'AWS4-HMAC-SHA256 Credential=x'))).toBe(
      'AuthorizationHeaderMalformed',
    );
  });
});

describe('signed aws-chunked bodies verified a run of chunks at a time', () => {
  // 40 chunks of 64 KiB: runs of 1 MiB (16 chunks) go to the native kernel on the libuv pool; the final empty
  // chunk closes the third run.
  const time = new Date('2026-01-02T03:04:05Z');
  const scope = '20260102/us-east-1/s3/aws4_request';
  const key = signingKey(SK, '20260102');
  const seed = 'c0ffee'.repeat(11).slice(0, 64);
  const sig = { signature: seed, scope, key, credential: `${AK}/${scope}`, signedHeaders: 'host' };
  const chain = { signingKey: key, amzDate: '20260102T030405Z', scope, seedSignature: seed };
  const rnd = seededRandom();
  const chunks = Array.from({ length: 40 }, () => rnd.bytes(65536));
  const whole = Buffer.concat(chunks);

  /** The framed body cut in reads of random sizes, many of them tiny (framing lines split everywhere). */
  function reads(body: Buffer): Readable {
    const parts: Buffer[] = [];
    for (let at = 0; at < body.length; ) {
      const n = rnd.next() < 0.3 ? rnd.int(1, 100) : rnd.int(1, 200_000);
      parts.push(body.subarray(at, at + n));
      at += n;
    }
    return Readable.from(parts);
  }
  const drain = async function* (s: AsyncIterable<Buffer>) {
    for await (const _ of s);
  };

  it('decodes and verifies a multi-run body whatever the reads', async () => {
    for (let round = 0; round < 3; round++) {
      const dec = new AwsChunkedDecoder({ chain, decodedLength: whole.length });
      const data = await buffer(reads(signedChunkedBody(sig, time, chunks)).pipe(dec));
      expect(data.equals(whole)).toBe(true);
    }
  });

  it('fails a forged chunk in the first, a middle or the last run, and a forged final chunk', async () => {
    const flip = (at: number) => (i: number, c: Buffer) => {
      if (i !== at) return c;
      const f = Buffer.from(c);
      f[rnd.int(0, f.length)] ^= 0x20;
      return f;
    };
    for (const at of [0, 3, 17, 20, 31, 39]) {
      const dec = new AwsChunkedDecoder({ chain, decodedLength: whole.length });
      let ended = false;
      dec.on('end', () => (ended = true));
      expect(
        await codeAsync(pipeline(reads(signedChunkedBody(sig, time, chunks, undefined, flip(at))), dec, drain)),
      ).toBe('SignatureDoesNotMatch');
      expect(ended).toBe(false);
    }
    const body = signedChunkedBody(sig, time, chunks);
    const last = body.lastIndexOf('0;chunk-signature=');
    const forgedFinal = Buffer.concat([
      body.subarray(0, last + 18),
      Buffer.from('0'.repeat(64)),
      body.subarray(last + 82),
    ]);
    expect(await codeAsync(pipeline(reads(forgedFinal), new AwsChunkedDecoder({ chain }), drain))).toBe(
      'SignatureDoesNotMatch',
    );
  });

  it('fails a forged chunk of a small body, verified on the event loop', async () => {
    const small = [rnd.bytes(4096)];
    const forged = signedChunkedBody(sig, time, small, undefined, (_i, c) =>
      Buffer.concat([c.subarray(1), Buffer.from('x')]),
    );
    expect(await codeAsync(pipeline(reads(forged), new AwsChunkedDecoder({ chain }), drain))).toBe(
      'SignatureDoesNotMatch',
    );
    const data = await buffer(reads(signedChunkedBody(sig, time, small)).pipe(new AwsChunkedDecoder({ chain })));
    expect(data.equals(small[0])).toBe(true);
  });

  it('a chunk signature that is not 64 hex characters fails at once', async () => {
    const body = signedChunkedBody(sig, time, [rnd.bytes(10)]);
    const bad = Buffer.from(
      body.toString('latin1').replace(/chunk-signature=([0-9a-f]{64})/, 'chunk-signature=$1ab'),
      'latin1',
    );
    expect(await codeAsync(pipeline(reads(bad), new AwsChunkedDecoder({ chain }), drain))).toBe(
      'SignatureDoesNotMatch',
    );
  });
});

describe('unsigned aws-chunked with trailer', () => {
  const body = Buffer.concat([Buffer.from('5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n')]);
  it('decodes data and collects trailers, across every split point', async () => {
    for (let size = 1; size <= body.length; size += 3) {
      const dec = new AwsChunkedDecoder({ decodedLength: 11 });
      const data = await buffer(pieces(body, size).pipe(dec));
      expect(data.toString()).toBe('hello world');
      expect(dec.trailers.get('x-amz-checksum-crc32')).toBe('DUoRhQ==');
    }
  });
  it('fails on a length mismatch and on malformed framing', async () => {
    const drain = async function* (s: AsyncIterable<Buffer>) {
      for await (const _ of s);
    };
    expect(await codeAsync(pipeline(pieces(body), new AwsChunkedDecoder({ decodedLength: 12 }), drain))).toBe(
      'IncompleteBody',
    );
    expect(
      await codeAsync(pipeline(Readable.from([Buffer.from('zz\r\nhello\r\n')]), new AwsChunkedDecoder(), drain)),
    ).toBe('IncompleteBody');
    expect(
      await codeAsync(
        pipeline(Readable.from([Buffer.from('3\r\nhello\r\n0\r\n\r\n')]), new AwsChunkedDecoder(), drain),
      ),
    ).toBe('IncompleteBody');
  });
});

describe('SigV4 signed by the AWS SDK signer', () => {
  const signer = new SignatureV4({
    credentials: { accessKeyId: AK, secretAccessKey: SK },
    region: 'eu-west-3',
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  const now = new Date();
  const live: SigV4Context = { ...ctx2013, region: 'eu-west-3', now: () => now.getTime() };

  it('header auth with query parameters, odd keys and a hex payload hash', async () => {
    const body = 'some body';
    const signed = await signer.sign(
      {
        method: 'PUT',
        protocol: 'http:',
        hostname: '127.0.0.1',
        port: 9000,
        path: '/bucket/a%20b/%E2%9C%93%2B%281%29.txt',
        query: { 'x-id': 'PutObject', tagging: '' },
        headers: {
          host: '127.0.0.1:9000',
          'x-amz-content-sha256': '5f483264496cf1440c6ef569cc4fb9785d3bed896efdadfc998e9cb1badcec81',
          'x-amz-meta-a': ' spaced   value ',
        },
        body,
      },
      { signingDate: now },
    );
    const headers = Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), v]));
    const out = verifyHeaderV4(
      live,
      { method: 'PUT', rawPath: signed.path, rawQuery: 'tagging&x-id=PutObject', headers },
      headers.authorization,
    );
    expect(out.payload).toEqual({
      kind: 'sha256',
      expected: '5f483264496cf1440c6ef569cc4fb9785d3bed896efdadfc998e9cb1badcec81',
    });
    // The body check is the verifier's job.
    const ok = await buffer(
      Readable.from([Buffer.from(body)]).pipe(
        new Sha256Verifier('5f483264496cf1440c6ef569cc4fb9785d3bed896efdadfc998e9cb1badcec81'),
      ),
    );
    expect(ok.toString()).toBe(body);
    const drain = async function* (s: AsyncIterable<Buffer>) {
      for await (const _ of s);
    };
    expect(
      await codeAsync(
        pipeline(
          Readable.from([Buffer.from('other')]),
          new Sha256Verifier('5f483264496cf1440c6ef569cc4fb9785d3bed896efdadfc998e9cb1badcec81'),
          drain,
        ),
      ),
    ).toBe('XAmzContentSHA256Mismatch');
  });

  it('presigned URLs verify, expire, and refuse tampering', async () => {
    const req = {
      method: 'GET',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 9000,
      path: '/bucket/key%20x',
      query: {},
      headers: { host: '127.0.0.1:9000', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    };
    const p = await signer.presign(req, {
      expiresIn: 60,
      signingDate: now,
      unhoistableHeaders: new Set(['x-amz-content-sha256']),
    });
    const rawQuery = Object.entries(p.query ?? {})
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
      .join('&');
    const sreq = {
      method: 'GET',
      rawPath: '/bucket/key%20x',
      rawQuery,
      headers: { host: '127.0.0.1:9000', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    };
    expect(verifyPresignedV4(live, sreq).identity.accessKey).toBe(AK);
    expect(code(() => verifyPresignedV4({ ...live, now: () => now.getTime() + 61_000 }, sreq))).toBe('AccessDenied');
    expect(code(() => verifyPresignedV4(live, { ...sreq, rawPath: '/bucket/other' }))).toBe('SignatureDoesNotMatch');
    expect(
      code(() =>
        verifyPresignedV4(live, { ...sreq, rawQuery: rawQuery.replace('X-Amz-Expires=60', 'X-Amz-Expires=6000') }),
      ),
    ).toBe('SignatureDoesNotMatch');
  });
});

// AWS docs, "Signature calculations ... including trailing headers" (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER).
describe('signed aws-chunked with a signed trailer', () => {
  const headers = {
    host: 's3.amazonaws.com',
    'x-amz-date': '20130524T000000Z',
    'x-amz-storage-class': 'REDUCED_REDUNDANCY',
    'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': '66560',
    'x-amz-trailer': 'x-amz-checksum-crc32c',
  };
  const auth = `AWS4-HMAC-SHA256 Credential=${AK}/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer,Signature=106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e`;
  const chunks = Buffer.concat([
    Buffer.from('10000;chunk-signature=b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2\r\n'),
    Buffer.alloc(65536, 'a'),
    Buffer.from('\r\n'),
    Buffer.from('400;chunk-signature=1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7\r\n'),
    Buffer.alloc(1024, 'a'),
    Buffer.from('\r\n'),
    Buffer.from('0;chunk-signature=2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992\r\n'),
  ]);
  const withTrailer = (text: string) => Buffer.concat([chunks, Buffer.from(text)]);
  const crc = 'x-amz-checksum-crc32c:sOO8/Q==\r\n';
  const body = (trailerSig: string) => withTrailer(`${crc}x-amz-trailer-signature:${trailerSig}\r\n\r\n`);
  const goodSig = 'd81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435';
  // minio-go writes the trailer block as the very bytes it signs (`name:value\n`), closes it with \r\n, then the
  // signature line (pkg/signer/request-signature-streaming.go, addSignedTrailer). Same signature as AWS's example.
  const minioGoBody = (trailerLines: string, trailerSig: string) =>
    Buffer.concat([chunks, Buffer.from(`${trailerLines}\r\nx-amz-trailer-signature:${trailerSig}\r\n\r\n`)]);
  const drain = async function* (s: AsyncIterable<Buffer>) {
    for await (const _ of s);
  };
  const chain = () => (verifyHeaderV4(ctx2013, req, auth).payload as { chain?: never }).chain;
  const decoder = () => new AwsChunkedDecoder({ chain: chain(), decodedLength: 66560 });
  const failure = (wire: Buffer) => codeAsync(pipeline(pieces(wire), decoder(), drain));
  const req = { method: 'PUT', rawPath: '/examplebucket/chunkObject.txt', rawQuery: '', headers };

  it('verifies seed, chunks and trailer signatures and exposes the trailer', async () => {
    const dec = decoder();
    const data = await buffer(pieces(body(goodSig), 1000).pipe(dec));
    expect(data.length).toBe(66560);
    expect(dec.trailers.get('x-amz-checksum-crc32c')).toBe('sOO8/Q==');
  });

  it('a forged trailer signature fails', async () => {
    expect(await codeAsync(pipeline(pieces(body('0'.repeat(64))), decoder(), drain))).toBe('SignatureDoesNotMatch');
  });

  it("accepts minio-go's bare-\\n trailer block, split at every point", async () => {
    const wire = minioGoBody('x-amz-checksum-crc32c:sOO8/Q==\n', goodSig);
    // The chunks in one piece, then the last chunk's lines and the trailer block in pieces of `size` bytes:
    // every split point of the framing that follows the data (the data's own splits: the tests above).
    const tailAt = chunks.length - 200;
    const split = (size: number) => {
      const parts = [wire.subarray(0, tailAt)];
      for (let i = tailAt; i < wire.length; i += size) parts.push(wire.subarray(i, i + size));
      return Readable.from(parts);
    };
    for (const size of [1, 2, 3, 7, 100, 65539, wire.length]) {
      const dec = decoder();
      const data = await buffer(split(size).pipe(dec));
      expect(data.length).toBe(66560);
      expect(dec.trailers.get('x-amz-checksum-crc32c')).toBe('sOO8/Q==');
    }
  });

  it("refuses minio-go's format with a forged signature or a changed trailer value", async () => {
    const forged = '1'.repeat(64);
    expect(await failure(minioGoBody('x-amz-checksum-crc32c:sOO8/Q==\n', forged))).toBe('SignatureDoesNotMatch');
    expect(await failure(minioGoBody('x-amz-checksum-crc32c:AAAAAA==\n', goodSig))).toBe('SignatureDoesNotMatch');
    // A trailer the signature does not cover, smuggled in either line style.
    const smuggled = 'x-amz-checksum-crc32c:sOO8/Q==\nx-amz-meta-x:1\n';
    expect(await failure(minioGoBody(smuggled, goodSig))).toBe('SignatureDoesNotMatch');
  });

  it('refuses a signed trailer without its signature, a trailer sent twice and lines after the signature', async () => {
    const noSig = Buffer.concat([chunks, Buffer.from('x-amz-checksum-crc32c:sOO8/Q==\r\n\r\n')]);
    expect(await codeAsync(pipeline(pieces(noSig), decoder(), drain))).toBe('SignatureDoesNotMatch');
    const twice = withTrailer(`${crc}${crc}x-amz-trailer-signature:${goodSig}\r\n\r\n`);
    expect(await codeAsync(pipeline(pieces(twice), decoder(), drain))).toBe('MalformedTrailerError');
    const after = withTrailer(`${crc}x-amz-trailer-signature:${goodSig}\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n`);
    expect(await codeAsync(pipeline(pieces(after), decoder(), drain))).toBe('MalformedTrailerError');
  });
});

describe('unsigned aws-chunked trailers as minio-go writes them', () => {
  it('`name:value\\n` closed by \\r\\n, then the final \\r\\n', async () => {
    const wire = Buffer.from('5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\n\r\n\r\n');
    for (let size = 1; size <= wire.length; size += 2) {
      const dec = new AwsChunkedDecoder({ decodedLength: 11 });
      expect((await buffer(pieces(wire, size).pipe(dec))).toString()).toBe('hello world');
      expect(dec.trailers.get('x-amz-checksum-crc32')).toBe('DUoRhQ==');
    }
  });
});

describe('SigV4 with a header sent several times', () => {
  // aws-sdk-go-v2 sends X-Amz-Object-Attributes once per attribute and signs the values joined with ','.
  // Node joins them with ', ' in `headers`; the canonical request needs each value as sent (valuesOf).
  const signer = new SignatureV4({
    credentials: { accessKeyId: AK, secretAccessKey: SK },
    region: 'us-east-1',
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  it('joins the values with "," after trimming each, as the SDKs sign them', async () => {
    const now = new Date();
    const live: SigV4Context = { ...ctx2013, now: () => now.getTime() };
    const signed = await signer.sign(
      {
        method: 'GET',
        protocol: 'http:',
        hostname: '127.0.0.1',
        port: 9000,
        path: '/b/k',
        query: { attributes: '' },
        headers: {
          host: '127.0.0.1:9000',
          'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
          'x-amz-object-attributes': 'ETag,Checksum,ObjectParts',
        },
      },
      { signingDate: now },
    );
    const headers: Record<string, string> = {
      ...Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), v])),
      'x-amz-object-attributes': 'ETag, Checksum, ObjectParts',
    };
    const sent = ['ETag', ' Checksum', 'ObjectParts '];
    const valuesOf = (n: string) => (n === 'x-amz-object-attributes' ? sent : undefined);
    const req = { method: 'GET', rawPath: '/b/k', rawQuery: 'attributes', headers, valuesOf };
    expect(verifyHeaderV4(live, req, headers.authorization).identity.accessKey).toBe(AK);
    // Node's own join is not what was signed.
    const auth = headers.authorization;
    expect(code(() => verifyHeaderV4(live, { ...req, valuesOf: undefined }, auth))).toBe('SignatureDoesNotMatch');
    // Values in another order are another request.
    const reordered = () => ['Checksum', 'ETag', 'ObjectParts'];
    expect(code(() => verifyHeaderV4(live, { ...req, valuesOf: reordered }, auth))).toBe('SignatureDoesNotMatch');
  });
});

describe('every x-amz-* header signed, and the region', () => {
  const signer = new SignatureV4({
    credentials: { accessKeyId: AK, secretAccessKey: SK },
    region: 'us-east-1',
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  const now = new Date();
  const live: SigV4Context = { ...ctx2013, now: () => now.getTime() };
  const lower = (h: Record<string, string>) =>
    Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
  // What an attacker adds to a request it holds: each would change what the request does.
  const injected: Record<string, string>[] = [
    { 'x-amz-copy-source': '/bucket/secret' },
    { 'x-amz-acl': 'public-read' },
    { 'x-amz-grant-read': 'uri="http://acs.amazonaws.com/groups/global/AllUsers"' },
    { 'x-amz-meta-owner': 'mallory' },
    { 'x-amz-tagging': 'public=yes' },
    { 'x-amz-storage-class': 'REDUCED_REDUNDANCY' },
    { 'x-amz-server-side-encryption': 'AES256' },
    { 'x-amz-checksum-crc32': 'AAAAAA==' },
  ];

  async function headerSigned(extraSigned: Record<string, string> = {}) {
    const signed = await signer.sign(
      {
        method: 'PUT',
        protocol: 'http:',
        hostname: '127.0.0.1',
        port: 9000,
        path: '/bucket/key',
        query: {},
        headers: { host: '127.0.0.1:9000', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...extraSigned },
      },
      { signingDate: now },
    );
    const headers = lower(signed.headers);
    return { req: { method: 'PUT', rawPath: '/bucket/key', rawQuery: '', headers }, auth: headers.authorization };
  }

  async function presigned(extraSigned: Record<string, string> = {}) {
    const p = await signer.presign(
      {
        method: 'PUT',
        protocol: 'http:',
        hostname: '127.0.0.1',
        port: 9000,
        path: '/bucket/key',
        query: {},
        // As @aws-sdk/s3-request-presigner does: UNSIGNED-PAYLOAD, hoisted into the query with other x-amz-*.
        headers: { host: '127.0.0.1:9000', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...extraSigned },
      },
      { expiresIn: 60, signingDate: now, unhoistableHeaders: new Set(Object.keys(extraSigned)) },
    );
    const rawQuery = Object.entries(p.query ?? {})
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
      .join('&');
    return { method: 'PUT', rawPath: '/bucket/key', rawQuery, headers: { host: '127.0.0.1:9000', ...extraSigned } };
  }

  function refusal(f: () => unknown): { code?: string; extra?: Record<string, string> } {
    try {
      f();
    } catch (e) {
      if (e instanceof S3Error) return { code: e.code, extra: e.extra };
      throw e;
    }
    return {};
  }

  it('header-signed: an x-amz-* header left out of SignedHeaders is AccessDenied naming it', async () => {
    const { req, auth } = await headerSigned({ 'x-amz-meta-signed': 'yes' });
    expect(verifyHeaderV4(live, req, auth).identity.accessKey).toBe(AK);
    for (const extra of injected) {
      const name = Object.keys(extra)[0];
      const r = refusal(() => verifyHeaderV4(live, { ...req, headers: { ...req.headers, ...extra } }, auth));
      expect(r, name).toEqual({ code: 'AccessDenied', extra: { HeadersNotSigned: name } });
    }
    const two = refusal(() =>
      verifyHeaderV4(live, { ...req, headers: { ...req.headers, 'x-amz-meta-a': '1', 'x-amz-tagging': 'a=1' } }, auth),
    );
    expect(two.extra?.HeadersNotSigned).toBe('x-amz-meta-a, x-amz-tagging');
    // Headers that are not x-amz-* may go unsigned, as with AWS (browsers and proxies add them).
    const browserish = {
      'user-agent': 'Mozilla/5.0',
      accept: '*/*',
      origin: 'https://app.example',
      referer: 'https://app.example/',
      'x-forwarded-for': '10.0.0.1',
    };
    expect(verifyHeaderV4(live, { ...req, headers: { ...req.headers, ...browserish } }, auth).identity.accessKey).toBe(
      AK,
    );
  });

  // Its value is the canonical request's payload line, so it is covered anyway.
  it('header-signed: x-amz-content-sha256 may be left out of SignedHeaders', async () => {
    const signed = await signer.sign(
      {
        method: 'GET',
        protocol: 'http:',
        hostname: '127.0.0.1',
        port: 9000,
        path: '/bucket/key',
        query: {},
        headers: { host: '127.0.0.1:9000' },
      },
      { signingDate: now, unsignableHeaders: new Set(['x-amz-content-sha256']) },
    );
    const headers: Record<string, string> = { ...lower(signed.headers), 'x-amz-content-sha256': EMPTY };
    expect(headers.authorization).not.toContain('x-amz-content-sha256');
    expect(
      verifyHeaderV4(live, { method: 'GET', rawPath: '/bucket/key', rawQuery: '', headers }, headers.authorization)
        .identity.accessKey,
    ).toBe(AK);
    // A different value than the one signed still fails the signature.
    const other = { ...headers, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' };
    expect(
      code(() =>
        verifyHeaderV4(
          live,
          { method: 'GET', rawPath: '/bucket/key', rawQuery: '', headers: other },
          headers.authorization,
        ),
      ),
    ).toBe('SignatureDoesNotMatch');
  });

  it('presigned: x-amz-* headers the signer included work; any other is AccessDenied', async () => {
    const plain = await presigned();
    expect(verifyPresignedV4(live, plain).identity.accessKey).toBe(AK);
    const withAcl = await presigned({ 'x-amz-acl': 'public-read' });
    expect(verifyPresignedV4(live, withAcl).identity.accessKey).toBe(AK);
    for (const extra of injected) {
      const name = Object.keys(extra)[0];
      expect(
        refusal(() => verifyPresignedV4(live, { ...plain, headers: { ...plain.headers, ...extra } })),
        name,
      ).toEqual({ code: 'AccessDenied', extra: { HeadersNotSigned: name } });
    }
    // What browsers and curl add (no x-amz-* header among them), Content-Type and Content-MD5 included: S3
    // leaves those to the signer's choice with SigV4.
    const added = {
      'user-agent': 'curl/8.5.0',
      accept: '*/*',
      'content-type': 'image/png',
      'content-md5': '1B2M2Y8AsgTpgAmY7PhCfg==',
      origin: 'https://a.example',
      expect: '100-continue',
    };
    expect(verifyPresignedV4(live, { ...plain, headers: { ...plain.headers, ...added } }).identity.accessKey).toBe(AK);
    // A Content-Type the signer included must be the one sent.
    const typed = await presigned({ 'content-type': 'image/png' });
    expect(verifyPresignedV4(live, typed).identity.accessKey).toBe(AK);
    expect(
      code(() => verifyPresignedV4(live, { ...typed, headers: { ...typed.headers, 'content-type': 'text/html' } })),
    ).toBe('SignatureDoesNotMatch');
  });

  it('presigned: host must be signed', async () => {
    const plain = await presigned();
    const noHost = plain.rawQuery.replace('X-Amz-SignedHeaders=host', 'X-Amz-SignedHeaders=x-amz-date');
    const r = refusal(() => verifyPresignedV4(live, { ...plain, rawQuery: noHost }));
    expect(r).toEqual({ code: 'AccessDenied', extra: { HeadersNotSigned: 'host' } });
    // With an unsigned x-amz-* header too, both are named.
    const withAcl = { ...plain, rawQuery: noHost, headers: { ...plain.headers, 'x-amz-acl': 'private' } };
    const both = refusal(() => verifyPresignedV4(live, withAcl));
    expect(both.extra).toEqual({ HeadersNotSigned: 'host, x-amz-acl' });
  });

  it('a credential scope for another region is refused, naming the region expected', async () => {
    const mars = new SignatureV4({
      credentials: { accessKeyId: AK, secretAccessKey: SK },
      region: 'mars-west-9',
      service: 's3',
      sha256: Sha256,
      uriEscapePath: false,
      applyChecksum: false,
    });
    const signed = await mars.sign(
      {
        method: 'GET',
        protocol: 'http:',
        hostname: 'h',
        path: '/b/k',
        query: {},
        headers: { host: 'h', 'x-amz-content-sha256': EMPTY },
      },
      { signingDate: now },
    );
    const headers = lower(signed.headers);
    const header = refusal(() =>
      verifyHeaderV4(live, { method: 'GET', rawPath: '/b/k', rawQuery: '', headers }, headers.authorization),
    );
    expect(header).toEqual({ code: 'AuthorizationHeaderMalformed', extra: { Region: 'us-east-1' } });
    const p = await mars.presign(
      { method: 'GET', protocol: 'http:', hostname: 'h', path: '/b/k', query: {}, headers: { host: 'h' } },
      { expiresIn: 60, signingDate: now },
    );
    const rawQuery = Object.entries(p.query ?? {})
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
      .join('&');
    const query = refusal(() =>
      verifyPresignedV4(live, { method: 'GET', rawPath: '/b/k', rawQuery, headers: { host: 'h' } }),
    );
    expect(query).toEqual({ code: 'AuthorizationQueryParametersError', extra: { Region: 'us-east-1' } });
    // The same requests are fine for a server in that region.
    expect(
      verifyHeaderV4(
        { ...live, region: 'mars-west-9' },
        { method: 'GET', rawPath: '/b/k', rawQuery: '', headers },
        headers.authorization,
      ).identity.accessKey,
    ).toBe(AK);
    // Parsed scopes are kept by their text: the one just accepted for mars-west-9 is still refused here.
    expect(
      refusal(() =>
        verifyHeaderV4(live, { method: 'GET', rawPath: '/b/k', rawQuery: '', headers }, headers.authorization),
      ),
    ).toEqual({ code: 'AuthorizationHeaderMalformed', extra: { Region: 'us-east-1' } });
  });

  it("a scope's day is each request's own: around midnight UTC, yesterday's scope is refused a second later", async () => {
    const sign = async (iso: string, scopeIso = iso) => {
      const signed = await signer.sign(
        { method: 'GET', protocol: 'http:', hostname: 'h', path: '/b/k', query: {}, headers: { host: 'h' } },
        { signingDate: new Date(scopeIso) },
      );
      const headers = lower(signed.headers);
      // x-amz-date of the request itself (the scope keeps the signing day): a scope of another day.
      headers['x-amz-date'] = iso.replace(/[-:]/g, '').replace(/\.\d{3}/, '');
      const ctx = { ...live, now: () => Date.parse(iso) };
      return () =>
        verifyHeaderV4(ctx, { method: 'GET', rawPath: '/b/k', rawQuery: '', headers }, headers.authorization);
    };
    expect((await sign('2026-12-06T23:59:59Z'))().identity.accessKey).toBe(AK);
    expect((await sign('2026-12-07T00:00:01Z'))().identity.accessKey).toBe(AK);
    // Signed on the 6th, sent as of the 7th (and the other way): the day differs, whatever was asked before.
    expect(refusal(await sign('2026-12-07T00:00:01Z', '2026-12-06T23:59:59Z')).code).toBe(
      'AuthorizationHeaderMalformed',
    );
    expect(refusal(await sign('2026-12-06T23:59:59Z', '2026-12-07T00:00:01Z')).code).toBe(
      'AuthorizationHeaderMalformed',
    );
    expect((await sign('2026-12-06T23:59:58Z'))().identity.accessKey).toBe(AK);
  });
});
