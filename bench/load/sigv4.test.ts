// Known-answer tests of the load generator's signer: the worked examples of the Amazon S3 documentation
// ("Signature Calculations for the Authorization Header", examplebucket, 2013-05-24).
import { describe, expect, it } from 'vitest';
import { SigV4Signer, amzDateOf, canonicalQueryString, uriEncode } from './sigv4.js';

const signer = new SigV4Signer({
  accessKey: 'AKIAIOSFODNN7EXAMPLE',
  secretKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  region: 'us-east-1',
});
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const DATE = '20130524T000000Z';
const host = 'examplebucket.s3.amazonaws.com';

describe('SigV4 signer (AWS S3 documentation vectors)', () => {
  it('GET object with a Range header', () => {
    const auth = signer.authorization({
      method: 'GET',
      path: '/test.txt',
      payloadHash: EMPTY,
      amzDate: DATE,
      headers: { host, range: 'bytes=0-9', 'x-amz-content-sha256': EMPTY, 'x-amz-date': DATE },
    });
    expect(auth).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,' +
        'SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,' +
        'Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    );
  });

  it('GET bucket lifecycle (a query parameter without value)', () => {
    const auth = signer.authorization({
      method: 'GET',
      path: '/',
      query: [['lifecycle', '']],
      payloadHash: EMPTY,
      amzDate: DATE,
      headers: { host, 'x-amz-content-sha256': EMPTY, 'x-amz-date': DATE },
    });
    expect(auth).toMatch(/Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543$/);
  });

  it('GET bucket (list objects) with sorted query parameters', () => {
    const auth = signer.authorization({
      method: 'GET',
      path: '/',
      query: [
        ['prefix', 'J'],
        ['max-keys', '2'],
      ],
      payloadHash: EMPTY,
      amzDate: DATE,
      headers: { host, 'x-amz-content-sha256': EMPTY, 'x-amz-date': DATE },
    });
    expect(auth).toMatch(/Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7$/);
  });

  it('PUT object with a signed payload and extra headers', () => {
    const payloadHash = '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072'; // "Welcome to Amazon S3."
    const auth = signer.authorization({
      method: 'PUT',
      path: '/test%24file.text',
      payloadHash,
      amzDate: DATE,
      headers: {
        date: 'Fri, 24 May 2013 00:00:00 GMT',
        host,
        'x-amz-content-sha256': payloadHash,
        'x-amz-date': DATE,
        'x-amz-storage-class': 'REDUCED_REDUNDANCY',
      },
    });
    expect(auth).toMatch(/SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,/);
    expect(auth).toMatch(/Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd$/);
    expect(uriEncode('test$file.text', true)).toBe('test%24file.text');
  });

  it('encodes keys and queries as SigV4 wants', () => {
    expect(uriEncode("a b/c*d(e)!'~", true)).toBe('a%20b/c%2Ad%28e%29%21%27~');
    expect(
      canonicalQueryString([
        ['prefix', 'a/b c'],
        ['list-type', '2'],
      ]),
    ).toBe('list-type=2&prefix=a%2Fb%20c');
    expect(amzDateOf(Date.UTC(2013, 4, 24))).toBe(DATE);
  });
});
