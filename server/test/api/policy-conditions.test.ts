// Policy conditions as compiled from a policy: the Date and Binary operators, set operators and IfExists on
// single-valued keys, and the refusals (operators IAM does not define, values an operator cannot read, keys
// S3 refuses or Cairn cannot supply). Semantics from the IAM User Guide ("Condition operators").
import { describe, expect, it } from 'vitest';
import { thrownCode } from '../thrown-code.js';
import { conditionContext } from '../../src/api/authorize.js';
import { compileCondition, dateOf, type ConditionContext } from '../../src/api/policy-conditions.js';
import { CONDITION_HEADERS, REQUEST_KEYS } from '../../src/api/policy-keys.js';
import type { ApiContext } from '../../src/api/types.js';
import { staticCaller } from '../../src/api/iam/principal.js';

const holds = (op: string, key: string, values: string[], ctx: ConditionContext) =>
  compileCondition(op, key, values).holds(ctx);

describe('dates', () => {
  it('reads ISO 8601 (the W3C profile) and epoch seconds, and nothing else', () => {
    expect(dateOf('2020-04-01T00:00:00Z')).toBe(Date.UTC(2020, 3, 1));
    expect(dateOf('2020-04-01')).toBe(Date.UTC(2020, 3, 1));
    expect(dateOf('2020-04')).toBe(Date.UTC(2020, 3, 1));
    expect(dateOf('2020')).toBe(Date.UTC(2020, 0, 1));
    expect(dateOf('2020-04-01T12:30Z')).toBe(Date.UTC(2020, 3, 1, 12, 30));
    expect(dateOf('2020-04-01T12:30:15.25Z')).toBe(Date.UTC(2020, 3, 1, 12, 30, 15, 250));
    expect(dateOf('2020-04-01T02:00:00+02:00')).toBe(Date.UTC(2020, 3, 1));
    expect(dateOf('2020-03-31T22:00:00-02:00')).toBe(Date.UTC(2020, 3, 1));
    expect(dateOf('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
    expect(dateOf('1585699200')).toBe(Date.UTC(2020, 3, 1));
    expect(dateOf('86400')).toBe(Date.UTC(1970, 0, 2));
    const bad = [
      '',
      'tomorrow',
      '2023-02-29',
      '2020-13-01',
      '2020-04-31',
      '2020-04-01T24:00:00Z',
      '2020-04-01T12:00:00',
      '2020-04-01 12:00:00Z',
      '2020-04-01T12:00:00+25:00',
      '1585699200.5',
      '-1',
      '2020-4-1',
      ' 2020-04-01',
    ];
    for (const s of bad) expect(dateOf(s), s).toBeNaN();
  });

  it('compares the request time with ISO and epoch values, both ways', () => {
    const ctx = { 'aws:currenttime': '2020-04-01T12:00:00.000Z', 'aws:epochtime': '1585742400' };
    for (const key of ['aws:CurrentTime', 'aws:EpochTime']) {
      expect(holds('DateEquals', key, ['2020-04-01T12:00:00Z'], ctx)).toBe(true);
      expect(holds('DateEquals', key, ['1585742400'], ctx)).toBe(true);
      expect(holds('DateNotEquals', key, ['2020-04-01T12:00:00Z'], ctx)).toBe(false);
      expect(holds('DateNotEquals', key, ['2020-04-01'], ctx)).toBe(true);
      expect(holds('DateLessThan', key, ['2020-04-01T12:00:01Z'], ctx)).toBe(true);
      expect(holds('DateLessThan', key, ['2020-04-01T12:00:00Z'], ctx)).toBe(false);
      expect(holds('DateLessThanEquals', key, ['2020-04-01T12:00:00Z'], ctx)).toBe(true);
      expect(holds('DateGreaterThan', key, ['2020-04-01T11:59:59Z'], ctx)).toBe(true);
      expect(holds('DateGreaterThan', key, ['2020-04-01T12:00:00Z'], ctx)).toBe(false);
      expect(holds('DateGreaterThanEquals', key, ['2020-04-01T14:00:00+02:00'], ctx)).toBe(true);
      // Several values are ORed.
      expect(holds('DateLessThan', key, ['2000-01-01', '2100-01-01'], ctx)).toBe(true);
    }
    // A key without a value: false, except for DateNotEquals and ...IfExists.
    expect(holds('DateLessThan', 'aws:CurrentTime', ['2100-01-01'], {})).toBe(false);
    expect(holds('DateNotEquals', 'aws:CurrentTime', ['2100-01-01'], {})).toBe(true);
    expect(holds('DateLessThanIfExists', 'aws:CurrentTime', ['2000-01-01'], {})).toBe(true);
  });
});

describe('operators', () => {
  it('BinaryEquals compares the bytes of the value with base64 in the policy', () => {
    const ua = Buffer.from('Tester/1.0').toString('base64');
    expect(holds('BinaryEquals', 'aws:UserAgent', [ua], { 'aws:useragent': 'Tester/1.0' })).toBe(true);
    expect(holds('BinaryEquals', 'aws:UserAgent', [ua], { 'aws:useragent': 'tester/1.0' })).toBe(false);
    expect(holds('BinaryEqualsIfExists', 'aws:UserAgent', [ua], {})).toBe(true);
  });

  it('set operators on single-valued keys: ForAnyValue needs the value, ForAllValues holds without it', () => {
    for (const op of ['StringEquals', 'StringNotEquals', 'StringLike', 'NumericLessThan', 'DateGreaterThan']) {
      expect(holds(`ForAnyValue:${op}`, 's3:prefix', ['1'], {}), op).toBe(false);
      expect(holds(`ForAllValues:${op}`, 's3:prefix', ['1'], {}), op).toBe(true);
      expect(holds(`ForAnyValue:${op}IfExists`, 's3:prefix', ['1'], {}), op).toBe(true);
    }
    expect(holds('ForAnyValue:StringNotEquals', 's3:prefix', ['a'], { 's3:prefix': 'b' })).toBe(true);
    expect(holds('ForAllValues:StringLike', 's3:prefix', ['a*'], { 's3:prefix': 'b' })).toBe(false);
  });

  it('Null tests presence, one value or several', () => {
    expect(holds('Null', 's3:prefix', ['true'], {})).toBe(true);
    expect(holds('Null', 's3:prefix', ['True'], { 's3:prefix': 'a' })).toBe(false);
    expect(holds('Null', 's3:prefix', ['false'], { 's3:prefix': '' })).toBe(true);
    expect(holds('Null', 's3:prefix', ['true', 'false'], {})).toBe(true);
  });

  it('numbers are decimals as written; a request value that is not one matches nothing', () => {
    expect(holds('NumericLessThan', 's3:max-keys', ['10.5'], { 's3:max-keys': '10' })).toBe(true);
    expect(holds('NumericEquals', 's3:max-keys', ['-1'], { 's3:max-keys': '-1' })).toBe(true);
    expect(holds('NumericGreaterThan', 's3:max-keys', ['1'], { 's3:max-keys': '1e3' })).toBe(false);
    expect(holds('NumericNotEquals', 's3:max-keys', ['1'], { 's3:max-keys': 'x' })).toBe(false);
  });
});

describe('refused when the policy is stored', () => {
  const code = (op: string, key: string, values: string[]) => thrownCode(() => compileCondition(op, key, values));
  it('operators IAM does not define, and combinations it does not allow: Invalid Condition type', () => {
    const invalid = [
      'StringEqual',
      'stringequals',
      'DateEqualsIfExist',
      'DateBefore',
      'NullIfExists',
      'ForAnyValue:Null',
      'ForAllValues:Null',
      'ForAnyValue:ForAllValues:StringEquals',
      'ForSomeValues:StringEquals',
      'IfExists',
      'BinaryNotEquals',
      'NumericBetween',
      'DatetoString',
      'Numeric',
      'Date',
      'String',
    ];
    for (const op of invalid) expect(code(op, 's3:prefix', ['1']), op).toBe('MalformedPolicy');
    const dateAfter = () => compileCondition('DateAfter', 'aws:CurrentTime', ['2020']);
    expect(dateAfter).toThrow('Invalid Condition type : DateAfter');
  });

  it('values the operator cannot read', () => {
    const bad: [string, string, string][] = [
      ['DateLessThan', 'aws:CurrentTime', 'now'],
      ['DateEquals', 'aws:CurrentTime', '2021-02-29'],
      ['NumericLessThan', 's3:max-keys', ''],
      ['NumericLessThan', 's3:max-keys', '0x10'],
      ['NumericEqualsIfExists', 's3:max-keys', 'ten'],
      ['Bool', 'aws:SecureTransport', 'yes'],
      ['Null', 's3:prefix', 'absent'],
      ['BinaryEquals', 'aws:UserAgent', 'abc'],
      ['IpAddress', 'aws:SourceIp', '10.0.0.0/33'],
      ['NotIpAddress', 'aws:SourceIp', 'example.com'],
      ['IpAddress', 'aws:SourceIp', '::1/129'],
    ];
    for (const [op, key, value] of bad) expect(code(op, key, [value]), `${op} ${value}`).toBe('MalformedPolicy');
  });

  it('keys: S3 refuses unknown ones except aws:*; Cairn refuses those it has no value for', () => {
    expect(code('StringEquals', 's3:NoSuchKey', ['a'])).toBe('MalformedPolicy');
    expect(code('StringEquals', 'ec2:Region', ['a'])).toBe('MalformedPolicy');
    expect(code('StringEquals', 'prefix', ['a'])).toBe('MalformedPolicy');
    expect(code('StringEquals', 'aws:', ['a'])).toBe('MalformedPolicy');
    expect(code('Null', 's3:x-amz-acls', ['true'])).toBe('MalformedPolicy');
    for (const key of [
      's3:locationconstraint',
      's3:RequestObjectTagKeys',
      's3:ResourceAccount',
      's3:BucketTag/team',
      'aws:PrincipalAccount',
      'aws:ResourceAccount',
    ]) {
      expect(code('StringEquals', key, ['a']), key).toBe('NotImplemented');
    }
    for (const key of [
      's3:prefix',
      's3:signatureversion',
      's3:authType',
      's3:signatureAge',
      's3:TlsVersion',
      's3:object-lock-mode',
      's3:object-lock-remaining-retention-days',
      's3:ExistingObjectTag/team',
      's3:RequestObjectTag/team',
      's3:x-amz-server-side-encryption',
      'aws:SourceVpce',
      'aws:PrincipalOrgID',
      'aws:SomethingNew',
      'AWS:SourceIp',
      'aws:PrincipalType',
      'aws:PrincipalArn',
      'aws:PrincipalTag/team',
      'sts:ExternalId',
      'jwt:groups',
      'ldap:username',
      // Web identity logins through an IAM OIDC provider: `<url>:<claim>` for the claims STS fills in.
      'localhost:8080/auth/realms/demo:sub',
      'token.example.com:aud',
      'idp.example.com/tenant-1:AMR',
      '127.0.0.1:9999:azp',
      'localhost:8080/auth/realms/demo:app_id',
    ]) {
      expect(code('StringEquals', key, ['a']), key).toBeUndefined();
    }
    // A claim STS does not fill in, a service's prefix, a URL that is not one: invalid keys.
    for (const key of ['idp.example.com:groups', 's3:sub', 'sts:sub', 'a b:sub', ':sub', 'idp.example.com:']) {
      expect(code('StringEquals', key, ['a']), key).toBe('MalformedPolicy');
    }
  });
});

describe('the condition context', () => {
  it('sets every key policy-keys.ts says Cairn supplies', () => {
    const ctx = { now: () => Date.UTC(2020, 3, 1), region: 'us-east-1' } as unknown as ApiContext;
    const headers = {
      ...Object.fromEntries(CONDITION_HEADERS.map((h) => [h, `value of ${h}`])),
      referer: 'r',
      'user-agent': 'ua',
      'x-amz-object-lock-mode': 'GOVERNANCE',
      'x-amz-object-lock-retain-until-date': '2020-04-03T00:00:00.001Z',
      'x-amz-object-lock-legal-hold': 'ON',
    };
    const req = {
      caller: staticCaller('alice', 'alice-id'),
      headers,
      sourceIp: '127.0.0.1',
      secure: true,
      auth: {
        signature: {
          version: 'AWS4-HMAC-SHA256' as const,
          type: 'REST-QUERY-STRING' as const,
          signedAt: 1585699190000,
        },
        tlsVersion: '1.3',
      },
      query: new URLSearchParams({ prefix: 'p', delimiter: '/', 'max-keys': '5', versionId: 'v' }),
    };
    const got = conditionContext(ctx, req, { bucket: 'b', key: 'k' });
    for (const h of CONDITION_HEADERS) expect(got[`s3:${h}`], h).toBe(`value of ${h}`);
    for (const k of REQUEST_KEYS) expect(got[k], k).toBeDefined();
    expect(got['aws:principaltype']).toBe('User');
    expect(got['aws:epochtime']).toBe('1585699200');
    expect(dateOf(got['aws:currenttime'] as string)).toBe(Date.UTC(2020, 3, 1));
    expect(got['aws:principalarn']).toBe('arn:aws:iam:::user/alice');
    const anonymous = conditionContext(ctx, { ...req, caller: undefined }, { bucket: 'b' });
    expect([anonymous['aws:principaltype'], anonymous['aws:username']]).toEqual(['Anonymous', undefined]);
    // What authentication saw: SigV4 signed ten seconds before now; SigV2 has no signing time (its age is 0).
    const signed = ['s3:signatureversion', 's3:authtype', 's3:signatureage', 's3:tlsversion'].map((k) => got[k]);
    expect(signed).toEqual(['AWS4-HMAC-SHA256', 'REST-QUERY-STRING', '10000', '1.3']);
    const v2 = conditionContext(
      ctx,
      { ...req, auth: { signature: { version: 'AWS', type: 'REST-HEADER' } } },
      {
        bucket: 'b',
      },
    );
    expect([v2['s3:signatureversion'], v2['s3:signatureage'], v2['s3:tlsversion']]).toEqual(['AWS', '0', undefined]);
    // The lock asked: two days and a millisecond left count as three days.
    const lockKeys = ['mode', 'retain-until-date', 'remaining-retention-days', 'legal-hold'];
    const asked = lockKeys.map((k) => got[`s3:object-lock-${k}`]);
    expect(asked).toEqual(['GOVERNANCE', '2020-04-03T00:00:00.001Z', '3', 'ON']);
    // A PutObjectRetention body's values replace the headers.
    const retention = { mode: 'COMPLIANCE', retainUntil: new Date(Date.UTC(2020, 3, 1, 12)) };
    const fromBody = conditionContext(ctx, { ...req, lock: retention }, { bucket: 'b' });
    expect(lockKeys.map((k) => fromBody[`s3:object-lock-${k}`])).toEqual([
      'COMPLIANCE',
      '2020-04-01T12:00:00.000Z',
      '1',
      undefined,
    ]);
    const unsigned = conditionContext(ctx, { ...req, auth: {} }, { bucket: 'b' });
    expect([unsigned['s3:signatureversion'], unsigned['s3:authtype'], unsigned['s3:signatureage']]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    // The fixed keys are computed when asked (condition-context.ts); a write or Object.assign (an IAM action's
    // extra keys, the object's tags) replaces them and adds others, on that context only.
    const tagged = { ...req, headers: { ...headers, 'x-amz-tagging': 'Team=blue&b=2' } };
    const written = Object.assign(conditionContext(ctx, tagged, { bucket: 'b' }), {
      'aws:username': 'bob',
      'aws:tagkeys': ['a', 'b'],
    });
    written['s3:prefix'] = 'q';
    written['s3:existingobjecttag/x'] = 'y';
    expect([
      written['aws:username'],
      written['aws:tagkeys'],
      written['s3:prefix'],
      written['s3:existingobjecttag/x'],
    ]).toEqual(['bob', ['a', 'b'], 'q', 'y']);
    expect([written['s3:requestobjecttag/team'], written['s3:requestobjecttag/b']]).toEqual(['blue', '2']);
    expect([got['aws:username'], got['s3:prefix'], got['s3:requestobjecttag/team']]).toEqual(['alice', 'p', undefined]);
  });
});
