// Pure parts of the API layer: ranges, conditional reads, tag sets, bucket names, bucket policies, CORS.
import { describe, expect, it } from 'vitest';
import { thrownCode } from '../thrown-code.js';
import { checkConditions, parseRange } from '../../src/api/object-headers.js';
import { parseTagQuery, parseTaggingXml } from '../../src/api/tags.js';
import { checkBucketName } from '../../src/api/names.js';
import { evaluatePolicy, isPublic, parsePolicy } from '../../src/api/bucket-policy.js';
import { matchRule, parseCors } from '../../src/api/cors.js';
import { encoder } from '../../src/api/list.js';
import type { ObjectInfo } from '../../src/storage/object-layer.js';

const code = thrownCode;

describe('ranges', () => {
  it.each([
    ['bytes=0-9', 100, { start: 0, end: 9 }],
    ['bytes=90-', 100, { start: 90, end: 99 }],
    ['bytes=-10', 100, { start: 90, end: 99 }],
    ['bytes=-500', 100, { start: 0, end: 99 }],
    ['bytes=50-5000', 100, { start: 50, end: 99 }],
    ['bytes=0-262143', 1000, { start: 0, end: 999 }],
    ['bytes=5-2', 100, undefined],
    ['bytes=0-1,5-6', 100, undefined],
    ['items=0-1', 100, undefined],
  ] as const)('%s of %d', (h, size, want) => {
    expect(parseRange(h, size)).toEqual(want);
  });
  it('unsatisfiable ranges are InvalidRange', () => {
    expect(code(() => parseRange('bytes=100-', 100))).toBe('InvalidRange');
    expect(code(() => parseRange('bytes=-0', 100))).toBe('InvalidRange');
    expect(code(() => parseRange('bytes=0-', 0))).toBe('InvalidRange');
  });
});

describe('conditional reads', () => {
  const info = { etag: 'abc', lastModified: new Date('2024-01-01T00:00:00Z') } as ObjectInfo;
  const before = 'Sun, 31 Dec 2023 00:00:00 GMT';
  const after = 'Tue, 02 Jan 2024 00:00:00 GMT';
  it('follows the RFC 7232 order S3 uses', () => {
    expect(checkConditions({ 'if-match': '"abc"' }, info)).toBeUndefined();
    expect(code(() => checkConditions({ 'if-match': '"zzz"' }, info))).toBe('PreconditionFailed');
    expect(checkConditions({ 'if-none-match': '"abc"' }, info)).toBe(304);
    expect(checkConditions({ 'if-none-match': '"zzz"', 'if-modified-since': after }, info)).toBeUndefined();
    expect(checkConditions({ 'if-modified-since': after }, info)).toBe(304);
    expect(checkConditions({ 'if-modified-since': before }, info)).toBeUndefined();
    expect(code(() => checkConditions({ 'if-unmodified-since': before }, info))).toBe('PreconditionFailed');
    // If-Match true wins over a failing If-Unmodified-Since.
    expect(checkConditions({ 'if-match': '"abc"', 'if-unmodified-since': before }, info)).toBeUndefined();
    // copy-source conditions fail with 412 rather than 304.
    expect(
      code(() => checkConditions({ 'x-amz-copy-source-if-none-match': '"abc"' }, info, 'x-amz-copy-source-')),
    ).toBe('PreconditionFailed');
  });
});

describe('tags', () => {
  it('validates header and XML tag sets', () => {
    expect(parseTagQuery('a=1&b=x%20y', 'object')).toBe('a=1&b=x+y');
    expect(code(() => parseTagQuery('a=1&a=2', 'object'))).toBe('InvalidTag');
    const eleven = Array.from({ length: 11 }, (_, i) => `k${i}=v`).join('&');
    expect(code(() => parseTagQuery(eleven, 'object'))).toBe('BadRequest');
    expect(code(() => parseTagQuery(`${'k'.repeat(129)}=v`, 'object'))).toBe('InvalidTag');
    const one = '<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag></TagSet></Tagging>';
    expect(parseTaggingXml(one, 'object')).toEqual([{ Key: 'a', Value: '1' }]);
    expect(code(() => parseTaggingXml('<Tagging><TagSet><Tag><Key>a</Key>', 'object'))).toBe('MalformedXML');
    expect(code(() => parseTaggingXml('<Other/>', 'object'))).toBe('MalformedXML');
  });
});

describe('bucket names', () => {
  it.each(['abc', 'my-bucket.data', 'a'.repeat(63), '123'])('accepts %s', (n) =>
    expect(code(() => checkBucketName(n))).toBeUndefined(),
  );
  it.each([
    'ab',
    'a'.repeat(64),
    'Upper',
    'under_score',
    '-start',
    'end-',
    'a..b',
    '192.168.1.1',
    'xn--abc',
    'x-s3alias',
    'a.-b',
  ])('rejects %s', (n) => expect(code(() => checkBucketName(n))).toBe('InvalidBucketName'));
});

describe('bucket policy', () => {
  const doc = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: '*', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::pub/public/*' },
      {
        Effect: 'Allow',
        Principal: { AWS: ['*'] },
        Action: 's3:ListBucket',
        Resource: 'arn:aws:s3:::pub',
        Condition: { StringLike: { 's3:prefix': 'public/*' } },
      },
      { Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::pub/public/secret*' },
      {
        Effect: 'Allow',
        Principal: '*',
        Action: 's3:PutObject',
        Resource: 'arn:aws:s3:::pub/in/*',
        Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } },
      },
    ],
  });
  const p = parsePolicy(doc, 'pub');
  const req = (action: string, key?: string, conditions: Record<string, string> = {}) =>
    evaluatePolicy(p, { principal: '*', action, bucket: 'pub', key, conditions });
  it('evaluates Allow, Deny, wildcards and conditions', () => {
    expect(req('s3:GetObject', 'public/a.txt')).toBe('Allow');
    expect(req('s3:GetObject', 'private/a.txt')).toBe('None');
    expect(req('s3:GetObject', 'public/secret.txt')).toBe('Deny');
    expect(req('s3:ListBucket', undefined, { 's3:prefix': 'public/x' })).toBe('Allow');
    expect(req('s3:ListBucket', undefined, { 's3:prefix': 'other/' })).toBe('None');
    expect(req('s3:PutObject', 'in/x', { 'aws:sourceip': '10.1.2.3' })).toBe('Allow');
    expect(req('s3:PutObject', 'in/x', { 'aws:sourceip': '192.168.0.1' })).toBe('None');
    expect(isPublic(p)).toBe(true);
  });
  it('rejects malformed policies', () => {
    expect(code(() => parsePolicy('{not json', 'pub'))).toBe('MalformedPolicy');
    expect(
      code(() =>
        parsePolicy(
          JSON.stringify({
            Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::other/*' }],
          }),
          'pub',
        ),
      ),
    ).toBe('MalformedPolicy');
    expect(
      code(() =>
        parsePolicy(
          JSON.stringify({
            Statement: [{ Effect: 'Maybe', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::pub/*' }],
          }),
          'pub',
        ),
      ),
    ).toBe('MalformedPolicy');
    expect(code(() => parsePolicy(JSON.stringify({ Statement: [] }), 'pub'))).toBe('MalformedPolicy');
    expect(
      code(() =>
        parsePolicy(
          JSON.stringify({
            Statement: [
              { Effect: 'Allow', NotPrincipal: { AWS: 'x' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::pub/*' },
            ],
          }),
          'pub',
        ),
      ),
    ).toBe('MalformedPolicy');
    // Fields hold strings or lists of strings, nothing else (a nested list would be walked recursively).
    const st = { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::pub/*' };
    const bads = [
      { Action: 5 },
      { Action: [['s3:GetObject']] },
      { Resource: [{}] },
      { Principal: { AWS: [['x']] } },
      { Condition: { StringLike: { 's3:prefix': [['a']] } } },
    ];
    for (const bad of bads) {
      const policy = JSON.stringify({ Statement: [{ ...st, ...bad }] });
      expect(
        code(() => parsePolicy(policy, 'pub')),
        JSON.stringify(bad),
      ).toBe('MalformedPolicy');
    }
    // Condition values may be numbers and booleans.
    const typed = { Bool: { 'aws:SecureTransport': false }, NumericLessThan: { 's3:max-keys': 10 } };
    const withTyped = JSON.stringify({ Statement: [{ ...st, Condition: typed }] });
    expect(code(() => parsePolicy(withTyped, 'pub'))).toBeUndefined();
  });
  it('matches ? as one character, actions case-insensitively, NotAction and NotResource, ArnLike per component', () => {
    const policy = parsePolicy(
      JSON.stringify({
        Statement: [
          { Effect: 'Allow', Principal: '*', Action: 's3:getobject', Resource: 'arn:aws:s3:::pub/??/x' },
          {
            Effect: 'Allow',
            Principal: '*',
            NotAction: ['s3:Delete*', 's3:List*'],
            NotResource: 'arn:aws:s3:::pub/private/*',
          },
          {
            Effect: 'Allow',
            Principal: '*',
            Action: 's3:ListBucket',
            Resource: 'arn:aws:s3:::pub',
            Condition: { ArnLike: { 'aws:SourceArn': 'arn:aws:s3:::pub/*:v?' } },
          },
        ],
      }),
      'pub',
    );
    const ev = (action: string, key: string | undefined, conditions: Record<string, string> = {}) =>
      evaluatePolicy(policy, { principal: '*', action, bucket: 'pub', key, conditions });
    expect(ev('s3:GetObject', '😀b/x')).toBe('Allow');
    expect(ev('s3:GetObjectAcl', 'abc/x')).toBe('Allow'); // through the NotAction statement
    expect(ev('s3:DeleteObject', 'ab/x')).toBe('None');
    expect(ev('s3:PutObject', 'private/k')).toBe('None');
    expect(ev('s3:PutObject', 'public/k')).toBe('Allow');
    expect(ev('s3:ListBucket', undefined, { 'aws:sourcearn': 'arn:aws:s3:::pub/a:b:v1' })).toBe('Allow');
    expect(ev('s3:ListBucket', undefined, { 'aws:sourcearn': 'arn:aws:s3:::pub/a:b:v12' })).toBe('None');
    expect(ev('s3:ListBucket', undefined, { 'aws:sourcearn': 'arn:aws:s4:::pub/a:v1' })).toBe('None');
    // A wildcard never crosses a component's colon: '*' in the account part cannot swallow the region's.
    const arn = parsePolicy(
      JSON.stringify({
        Statement: [
          {
            Effect: 'Allow',
            Principal: '*',
            Action: 's3:ListBucket',
            Resource: 'arn:aws:s3:::pub',
            Condition: { ArnLike: { 'aws:SourceArn': 'arn:aws:*:::pub' } },
          },
        ],
      }),
      'pub',
    );
    expect(
      evaluatePolicy(arn, {
        principal: '*',
        action: 's3:ListBucket',
        bucket: 'pub',
        conditions: { 'aws:sourcearn': 'arn:aws:s3:::pub' },
      }),
    ).toBe('Allow');
    expect(
      evaluatePolicy(arn, {
        principal: '*',
        action: 's3:ListBucket',
        bucket: 'pub',
        conditions: { 'aws:sourcearn': 'arn:aws:s3:x::pub' },
      }),
    ).toBe('None');
  });
});

describe('CORS', () => {
  const rules = parseCors(
    `<CORSConfiguration><CORSRule><AllowedOrigin>https://*.example.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedHeader>x-amz-*</AllowedHeader><MaxAgeSeconds>300</MaxAgeSeconds></CORSRule></CORSConfiguration>`,
  );
  it('matches origin, method and headers', () => {
    expect(matchRule(rules, 'https://app.example.com', 'GET', [])).toBeDefined();
    expect(matchRule(rules, 'https://app.example.com', 'PUT', ['x-amz-meta-a'])).toBeDefined();
    expect(matchRule(rules, 'https://app.example.com', 'PUT', ['authorization'])).toBeUndefined();
    expect(matchRule(rules, 'https://evil.com', 'GET', [])).toBeUndefined();
    expect(matchRule(rules, 'https://app.example.com', 'DELETE', [])).toBeUndefined();
  });
  it('rejects bad configurations', () => {
    expect(
      code(() =>
        parseCors(
          '<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod></CORSRule></CORSConfiguration>',
        ),
      ),
    ).toBe('InvalidRequest');
    expect(code(() => parseCors('<CORSConfiguration></CORSConfiguration>'))).toBe('MalformedXML');
  });
});

it('encoding-type=url encodes like S3', () => {
  expect(encoder('url')('a b/c+d&é\n')).toBe('a%20b/c%2Bd%26%C3%A9%0A');
  expect(encoder(undefined)('a b')).toBe('a b');
});
