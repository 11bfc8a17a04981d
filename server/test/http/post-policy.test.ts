// The POST policy document and its conditions as functions, after AWS's "Creating a POST policy" (Amazon S3
// API reference, sigv4-HTTPPOSTConstructPolicy): expiration in ISO 8601 UTC, conditions as exact matches
// ({"field": "value"} or ["eq", "$field", "value"]), "starts-with" and "content-length-range", every form
// field covered by a condition except those the page exempts. The uploads themselves: test/s3/post-object.test.ts.
import { describe, expect, it } from 'vitest';
import { checkPostPolicy, parsePostPolicy } from '../../src/http/post-object.js';
import { thrownCode } from '../thrown-code.js';

const NOW = Date.parse('2030-01-01T00:00:00Z');
const LATER = '2030-01-01T01:00:00Z';
const b64 = (doc: unknown) => Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc)).toString('base64');
const parse = (conditions: unknown, expiration: unknown = LATER) =>
  parsePostPolicy(b64({ expiration, conditions }), NOW);
const parseCode = (conditions: unknown, expiration: unknown = LATER) => thrownCode(() => parse(conditions, expiration));

describe('POST policy document', () => {
  it('must be base64 of a JSON object', () => {
    for (const text of ['not json', '"a string"', 'null', '42', '']) {
      expect(
        thrownCode(() => parsePostPolicy(b64(text), NOW)),
        text,
      ).toBe('InvalidPolicyDocument');
    }
  });

  it('nests no deeper than a condition holding scalars', () => {
    expect(parse([['eq', '$key', 'a']])).toEqual([{ op: 'eq', field: 'key', value: 'a' }]);
    expect(parseCode([['eq', '$key', ['a']]])).toBe('InvalidPolicyDocument');
    expect(parseCode([{ key: { a: 1 } }])).toBe('InvalidPolicyDocument');
    expect(parseCode([{ key: ['a'] }])).toBe('InvalidPolicyDocument');
  });

  it('expiration: an ISO 8601 UTC date-time, fractional seconds allowed', () => {
    expect(parse([], '2030-01-01T01:00:00Z')).toEqual([]);
    expect(parse([], '2030-01-01T01:00:00.123Z')).toEqual([]);
    expect(thrownCode(() => parsePostPolicy(b64({ conditions: [] }), NOW))).toBe('InvalidPolicyDocument');
    for (const bad of [
      null,
      12345,
      '2030-01-01',
      '2030-01-01T01:00:00',
      '2030-01-01T01:00:00+01:00',
      'x2030-01-01T01:00:00Z',
      '2030-01-01T01:00:00Zx',
      '2030-01-01T01:00:00.Z',
      '2030-13-45T01:00:00Z',
      '+002030-01-01T01:00:00Z', // an expanded year: Date.parse takes it, ISO 8601's basic profile does not
    ]) {
      expect(parseCode([], bad), String(bad)).toBe('InvalidPolicyDocument');
    }
  });

  it('an expired policy is AccessDenied; one expiring this very millisecond still holds', () => {
    expect(parseCode([], '2029-12-31T23:59:59Z')).toBe('AccessDenied');
    expect(parse([], '2030-01-01T00:00:00Z')).toEqual([]);
    expect(parseCode([], '2029-12-31T23:59:59.999Z')).toBe('AccessDenied');
  });

  it('conditions: a list', () => {
    for (const bad of [undefined, {}, 'key', 1]) expect(parseCode(bad), String(bad)).toBe('InvalidPolicyDocument');
  });

  it('exact matches in both forms; field names are case-insensitive, values are not', () => {
    expect(
      parse([{ Bucket: 'Photos' }, ['EQ', '$Key', 'A.txt'], ['eq', '$acl', 7], { n: true }, ['eq', '$b', false]]),
    ).toEqual([
      { op: 'eq', field: 'bucket', value: 'Photos' },
      { op: 'eq', field: 'key', value: 'A.txt' },
      { op: 'eq', field: 'acl', value: '7' },
      { op: 'eq', field: 'n', value: 'true' },
      { op: 'eq', field: 'b', value: 'false' },
    ]);
    // A missing value compares with the empty string.
    expect(parse([['starts-with', '$key']])).toEqual([{ op: 'starts-with', field: 'key', value: '' }]);
    expect(parse([['Starts-With', '$Key', 'user/']])).toEqual([{ op: 'starts-with', field: 'key', value: 'user/' }]);
  });

  it('refuses conditions it does not know instead of ignoring them', () => {
    for (const bad of [
      ['ne', '$key', 'a'], // no such operator
      ['eq', 'key', 'a'], // the field must be named with $
      ['eq', 7, 'a'],
      ['eq', '$key', { a: 1 }],
      [{ a: 1 }, '$key', 'a'],
      [],
      { a: 1, b: 2 }, // one field per simple condition
      {},
      'key',
      'k', // a one-character string is no one-field object either
      7,
      null,
      ['eq', '$key', null], // null is no value
      { key: null },
    ]) {
      expect(parseCode([bad]), JSON.stringify(bad)).toBe('InvalidPolicyDocument');
    }
  });

  it('content-length-range: two whole numbers, 0 <= min <= max', () => {
    expect(parse([['content-length-range', 1, 10]])).toEqual([{ op: 'range', min: 1, max: 10 }]);
    expect(parse([['Content-Length-Range', '0', '0']])).toEqual([{ op: 'range', min: 0, max: 0 }]);
    for (const bad of [
      ['content-length-range', 1],
      ['content-length-range', 1, 10, 20],
      ['content-length-range', 1.5, 10],
      ['content-length-range', 1, 'ten'],
      ['content-length-range', -1, 10],
      ['content-length-range', 10, 9],
    ]) {
      expect(parseCode([bad]), JSON.stringify(bad)).toBe('InvalidPolicyDocument');
    }
  });
});

describe('POST policy conditions against the form', () => {
  const fields = (o: Record<string, string>) => new Map(Object.entries(o));
  const check = (conditions: unknown[], form: Record<string, string>) =>
    thrownCode(() => checkPostPolicy(parse(conditions), fields(form))) ?? 'ok';

  it('eq is an exact match, a missing field being the empty string', () => {
    expect(check([{ key: 'a' }], { key: 'a' })).toBe('ok');
    expect(check([{ key: 'a' }], { key: 'ab' })).toBe('AccessDenied');
    expect(check([{ key: 'a' }], { key: 'A' })).toBe('AccessDenied');
    expect(check([{ key: 'a' }], {})).toBe('AccessDenied');
    expect(check([{ key: '' }], {})).toBe('ok');
  });

  it('starts-with is a prefix; the empty prefix takes any value', () => {
    expect(check([['starts-with', '$key', 'user/']], { key: 'user/a' })).toBe('ok');
    expect(check([['starts-with', '$key', 'user/']], { key: 'other/user/a' })).toBe('AccessDenied');
    expect(check([['starts-with', '$key', '']], { key: 'anything' })).toBe('ok');
  });

  it('Content-Type may list several types, each with the prefix; other fields are not lists', () => {
    const cond = [['starts-with', '$Content-Type', 'image/']];
    expect(check(cond, { 'content-type': 'image/png, image/jpeg' })).toBe('ok');
    expect(check(cond, { 'content-type': 'image/png, text/html' })).toBe('AccessDenied');
    const meta = [['starts-with', '$x-amz-meta-a', 'ab']];
    expect(check(meta, { 'x-amz-meta-a': 'ab,cd' })).toBe('ok');
    expect(check(meta, { 'x-amz-meta-a': 'cd,ab' })).toBe('AccessDenied');
  });

  it('every field needs a condition, except the signature fields, x-ignore-* and checksums', () => {
    const base = [['starts-with', '$key', '']];
    expect(check(base, { key: 'k', 'x-amz-meta-a': '1' })).toBe('AccessDenied');
    expect(check(base, { key: 'k', acl: 'public-read' })).toBe('AccessDenied');
    expect(check([...base, ['starts-with', '$x-amz-meta-a', '']], { key: 'k', 'x-amz-meta-a': '1' })).toBe('ok');
    const exempt = {
      key: 'k',
      policy: 'p',
      'x-amz-signature': 's',
      signature: 's',
      awsaccesskeyid: 'a',
      file: 'f',
      'x-amz-security-token': 't',
      'x-ignore-anything': '1',
      'x-amz-checksum-crc32': 'AAAAAA==',
    };
    expect(check(base, exempt)).toBe('ok');
    // The other authentication fields are no exception: a policy names its algorithm, credential and date.
    for (const f of ['x-amz-algorithm', 'x-amz-credential', 'x-amz-date']) {
      expect(check(base, { key: 'k', [f]: 'v' }), f).toBe('AccessDenied');
    }
  });

  it('gives the content-length-range, the last one when several', () => {
    expect(checkPostPolicy(parse([]), fields({}))).toBeUndefined();
    expect(checkPostPolicy(parse([['content-length-range', 1, 10]]), fields({}))).toEqual({ min: 1, max: 10 });
    const two = parse([
      ['content-length-range', 1, 10],
      ['content-length-range', 5, 6],
    ]);
    expect(checkPostPolicy(two, fields({}))).toEqual({ min: 5, max: 6 });
  });
});
