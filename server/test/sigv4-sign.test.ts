// The signing side of SigV4 (server/src/sigv4-sign.ts, used by the S3 gateway and `cairn admin`): AWS's published
// examples, and requests it signs accepted by Cairn's own verifier (and refused once anything signed changes).
import { describe, expect, it } from 'vitest';
import { thrownCode } from './thrown-code.js';
import { canonicalQuery, canonicalUri, queryPairs } from '../src/http/auth/canonical.js';
import { credentialStore } from '../src/http/auth/credentials.js';
import { verifyHeaderV4 } from '../src/http/auth/sigv4.js';
import { amzDate, authorizationV4, deriveSigningKey, uriEncode } from '../src/sigv4-sign.js';

const AK = 'AKIAIOSFODNN7EXAMPLE';
const SK = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const signature = (auth: string) => auth.slice(auth.indexOf('Signature=') + 'Signature='.length);

describe('SigV4 signing', () => {
  it("signs AWS's GET Object example (Authorization header, Range signed)", () => {
    const auth = authorizationV4({
      method: 'GET',
      canonicalUri: '/test.txt',
      canonicalQuery: '',
      headers: {
        host: 'examplebucket.s3.amazonaws.com',
        range: 'bytes=0-9',
        'x-amz-content-sha256': EMPTY,
        'x-amz-date': '20130524T000000Z',
      },
      payloadHash: EMPTY,
      accessKey: AK,
      region: 'us-east-1',
      service: 's3',
      signingKey: deriveSigningKey(SK, '20130524', 'us-east-1', 's3'),
    });
    expect(auth).toBe(
      `AWS4-HMAC-SHA256 Credential=${AK}/20130524/us-east-1/s3/aws4_request, ` +
        'SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, ' +
        'Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    );
  });

  it("signs AWS's chunked-upload example's seed request", () => {
    const auth = authorizationV4({
      method: 'PUT',
      canonicalUri: '/examplebucket/chunkObject.txt',
      canonicalQuery: '',
      headers: {
        host: 's3.amazonaws.com',
        'x-amz-date': '20130524T000000Z',
        'x-amz-storage-class': 'REDUCED_REDUNDANCY',
        'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
        'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': '66560',
        'content-length': '66824',
      },
      payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      accessKey: AK,
      region: 'us-east-1',
      service: 's3',
      signingKey: deriveSigningKey(SK, '20130524', 'us-east-1', 's3'),
    });
    expect(signature(auth)).toBe('4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9');
  });

  it('needs host and x-amz-date among the signed headers', () => {
    const base = {
      method: 'GET',
      canonicalUri: '/',
      canonicalQuery: '',
      payloadHash: EMPTY,
      accessKey: AK,
      region: 'us-east-1',
      service: 's3',
      signingKey: deriveSigningKey(SK, '20130524', 'us-east-1', 's3'),
    };
    expect(() => authorizationV4({ ...base, headers: { host: 'h' } })).toThrow(/x-amz-date/);
    expect(() => authorizationV4({ ...base, headers: { 'x-amz-date': '20130524T000000Z' } })).toThrow(/host/);
  });

  it("is accepted by Cairn's verifier for awkward keys and queries, and refused once a signed part changes", () => {
    const now = new Date('2026-12-06T05:00:00Z');
    const ctx = {
      credentials: credentialStore({ root: { accessKey: AK, secretKey: SK } }),
      region: 'eu-west-3',
      now: () => now.getTime(),
      keyCache: new Map(),
    };
    const key = "dir/a b+c(1)!*'~ü%2F.parquet";
    const rawPath = `/bucket/${uriEncode(key, true)}`;
    const rawQuery = 'versionId=3%2Bx&response-content-type=text%2Fplain&a=';
    const date = amzDate(now);
    expect(date).toBe('20261206T050000Z');
    const headers: Record<string, string> = {
      host: '127.0.0.1:9000',
      range: '  bytes=0-99  ',
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      'x-amz-date': date,
      'x-amz-meta-note': 'two  spaces',
    };
    const authorization = authorizationV4({
      method: 'GET',
      canonicalUri: canonicalUri(rawPath),
      canonicalQuery: canonicalQuery(queryPairs(rawQuery)),
      headers,
      payloadHash: 'UNSIGNED-PAYLOAD',
      accessKey: AK,
      region: 'eu-west-3',
      service: 's3',
      signingKey: deriveSigningKey(SK, date.slice(0, 8), 'eu-west-3', 's3'),
    });
    const request = { method: 'GET', rawPath, rawQuery, headers };
    expect(verifyHeaderV4(ctx, request, authorization).identity.accessKey).toBe(AK);
    for (const changed of [
      { ...request, method: 'HEAD' },
      { ...request, rawPath: `${rawPath}x` },
      { ...request, rawQuery: rawQuery.replace('3%2Bx', '3%2By') },
      { ...request, headers: { ...headers, range: 'bytes=0-98' } },
      { ...request, headers: { ...headers, 'x-amz-meta-note': 'two spaces!' } },
    ]) {
      expect(thrownCode(() => verifyHeaderV4(ctx, changed, authorization))).toBe('SignatureDoesNotMatch');
    }
  });
});
