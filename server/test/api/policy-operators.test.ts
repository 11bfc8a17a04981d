// Every condition operator of the IAM User Guide ("IAM JSON policy elements: Condition operators") as a
// compiled condition decides it: matching and non-matching values, several policy values (ORed), an absent key
// (false, except for the negated operators, ...IfExists and ForAllValues), multi-valued keys with and without a
// set operator, and policy variables in string and ARN values. The Date, Binary and Null operators and the
// refusals: policy-conditions.test.ts.
import { describe, expect, it } from 'vitest';
import { compileCondition, type ConditionContext } from '../../src/api/policy-conditions.js';
import { thrownCode } from '../thrown-code.js';

const holds = (op: string, key: string, values: string[], ctx: ConditionContext, variables = false) =>
  compileCondition(op, key, values, variables).holds(ctx);

/** [operator, key, policy values, request value, holds] */
type Row = [string, string, string[], string, boolean];

function table(rows: Row[]) {
  for (const [op, key, values, value, want] of rows) {
    const ctx = { [key.toLowerCase()]: value };
    expect(holds(op, key, values, ctx), `${op} ${JSON.stringify(values)} ${JSON.stringify(value)}`).toBe(want);
  }
}

describe('string operators', () => {
  it('StringEquals, StringNotEquals: exact and case-sensitive, any of the values', () => {
    table([
      ['StringEquals', 's3:prefix', ['home/'], 'home/', true],
      ['StringEquals', 's3:prefix', ['home/'], 'Home/', false],
      ['StringEquals', 's3:prefix', ['home/'], 'home/x', false],
      ['StringEquals', 's3:prefix', ['a', 'b'], 'b', true],
      ['StringEquals', 's3:prefix', ['a*'], 'ab', false],
      ['StringNotEquals', 's3:prefix', ['home/'], 'home/', false],
      ['StringNotEquals', 's3:prefix', ['home/'], 'Home/', true],
      ['StringNotEquals', 's3:prefix', ['a', 'b'], 'b', false],
      ['StringNotEquals', 's3:prefix', ['a', 'b'], 'c', true],
    ]);
  });

  it('StringEqualsIgnoreCase, StringNotEqualsIgnoreCase', () => {
    table([
      ['StringEqualsIgnoreCase', 's3:prefix', ['Home/'], 'hOME/', true],
      ['StringEqualsIgnoreCase', 's3:prefix', ['Home/', 'X'], 'x', true],
      ['StringEqualsIgnoreCase', 's3:prefix', ['Home/'], 'home/x', false],
      ['StringNotEqualsIgnoreCase', 's3:prefix', ['Home/'], 'hOME/', false],
      ['StringNotEqualsIgnoreCase', 's3:prefix', ['Home/', 'X'], 'x', false],
      ['StringNotEqualsIgnoreCase', 's3:prefix', ['Home/'], 'home/x', true],
    ]);
  });

  it('StringLike, StringNotLike: * any run, ? one character, anchored at both ends', () => {
    table([
      ['StringLike', 's3:prefix', ['home/*'], 'home/a/b', true],
      ['StringLike', 's3:prefix', ['home/*'], 'home/', true],
      ['StringLike', 's3:prefix', ['home/*'], 'x/home/a', false],
      ['StringLike', 's3:prefix', ['h?me'], 'home', true],
      ['StringLike', 's3:prefix', ['h?me'], 'hoome', false],
      ['StringLike', 's3:prefix', ['a', '*z'], 'xyz', true],
      ['StringLike', 's3:prefix', ['A*'], 'ab', false],
      ['StringNotLike', 's3:prefix', ['home/*'], 'home/a', false],
      ['StringNotLike', 's3:prefix', ['home/*'], 'other', true],
      ['StringNotLike', 's3:prefix', ['a', '*z'], 'xyz', false],
    ]);
  });
});

describe('numeric operators', () => {
  it('each relation, at, below and above the value; several values ORed', () => {
    const rows: Row[] = [];
    const expectations: Record<string, [below: boolean, at: boolean, above: boolean]> = {
      NumericEquals: [false, true, false],
      NumericNotEquals: [true, false, true],
      NumericLessThan: [true, false, false],
      NumericLessThanEquals: [true, true, false],
      NumericGreaterThan: [false, false, true],
      NumericGreaterThanEquals: [false, true, true],
    };
    for (const [op, [below, at, above]] of Object.entries(expectations)) {
      rows.push([op, 's3:max-keys', ['10'], '9', below], [op, 's3:max-keys', ['10'], '10', at]);
      rows.push([op, 's3:max-keys', ['10'], '11', above], [op, 's3:max-keys', ['10'], '10.0', at]);
    }
    rows.push(
      ['NumericLessThan', 's3:max-keys', ['5', '20'], '10', true],
      ['NumericGreaterThan', 's3:max-keys', ['5', '20'], '10', true],
      ['NumericEquals', 's3:max-keys', ['5', '10'], '10', true],
      ['NumericNotEquals', 's3:max-keys', ['5', '10'], '10', false],
      ['NumericNotEquals', 's3:max-keys', ['5', '10'], '7', true],
      ['NumericLessThan', 's3:max-keys', ['10'], 'ten', false],
      ['NumericGreaterThan', 's3:max-keys', ['10'], 'ten', false],
      ['NumericGreaterThanEquals', 's3:max-keys', ['-2.5'], '-2.5', true],
    );
    table(rows);
  });

  it('policy values that are no decimal numbers are refused', () => {
    for (const bad of ['', 'ten', '0x10', '1e3', '1.', '.5', '--1']) {
      expect(
        thrownCode(() => compileCondition('NumericEquals', 's3:max-keys', [bad])),
        bad,
      ).toBe('MalformedPolicy');
    }
    expect(thrownCode(() => compileCondition('NumericNotEquals', 's3:max-keys', ['1', 'x']))).toBe('MalformedPolicy');
    expect(thrownCode(() => compileCondition('NumericAbout', 's3:max-keys', ['1']))).toBe('MalformedPolicy');
  });
});

describe('Bool', () => {
  it('true or false, case-insensitively', () => {
    table([
      ['Bool', 'aws:SecureTransport', ['true'], 'true', true],
      ['Bool', 'aws:SecureTransport', ['true'], 'false', false],
      ['Bool', 'aws:SecureTransport', ['TRUE'], 'True', true],
      ['Bool', 'aws:SecureTransport', ['false'], 'false', true],
      ['Bool', 'aws:SecureTransport', ['false'], 'true', false],
      ['Bool', 'aws:SecureTransport', ['true'], 'yes', false],
    ]);
    expect(thrownCode(() => compileCondition('Bool', 'aws:SecureTransport', ['yes']))).toBe('MalformedPolicy');
    expect(holds('Bool', 'aws:SecureTransport', ['true'], {})).toBe(false);
  });
});

describe('IP address operators', () => {
  it('IpAddress, NotIpAddress: IPv4 and IPv6 ranges, single addresses, IPv4-mapped IPv6 request addresses', () => {
    table([
      ['IpAddress', 'aws:SourceIp', ['192.168.1.0/24'], '192.168.1.77', true],
      ['IpAddress', 'aws:SourceIp', ['192.168.1.0/24'], '192.168.2.1', false],
      ['IpAddress', 'aws:SourceIp', ['192.168.1.0/24'], '::ffff:192.168.1.77', true],
      ['IpAddress', 'aws:SourceIp', ['10.0.0.1'], '10.0.0.1', true],
      ['IpAddress', 'aws:SourceIp', ['10.0.0.1'], '10.0.0.2', false],
      ['IpAddress', 'aws:SourceIp', ['10.0.0.0/8', '2001:db8::/32'], '2001:db8::5', true],
      ['IpAddress', 'aws:SourceIp', ['2001:db8::/32'], '2001:db9::5', false],
      ['IpAddress', 'aws:SourceIp', ['2001:db8::1'], '2001:db8::1', true],
      ['IpAddress', 'aws:SourceIp', ['0.0.0.0/0'], '8.8.8.8', true],
      ['IpAddress', 'aws:SourceIp', ['0.0.0.0/0'], 'not an address', false],
      ['NotIpAddress', 'aws:SourceIp', ['192.168.1.0/24'], '192.168.1.77', false],
      ['NotIpAddress', 'aws:SourceIp', ['192.168.1.0/24'], '192.168.2.1', true],
      ['NotIpAddress', 'aws:SourceIp', ['10.0.0.0/8', '192.168.0.0/16'], '192.168.5.5', false],
    ]);
  });

  it('refuses what is no address or prefix length', () => {
    for (const bad of ['1.2.3', '1.2.3.4/33', '1.2.3.4/', '1.2.3.4/x', '::1/129', '::1/1234', 'host/8', '']) {
      expect(
        thrownCode(() => compileCondition('IpAddress', 'aws:SourceIp', [bad])),
        bad,
      ).toBe('MalformedPolicy');
    }
    expect(holds('IpAddress', 'aws:SourceIp', ['1.2.3.4/32', '::/0'], { 'aws:sourceip': '::1' })).toBe(true);
    expect(holds('IpAddress', 'aws:SourceIp', ['1.2.3.0/0'], { 'aws:sourceip': '200.1.1.1' })).toBe(true);
  });
});

describe('ARN operators', () => {
  const role = 'arn:aws:iam::123456789012:role/a:b';
  it('ArnEquals, ArnLike, ArnNotEquals, ArnNotLike: six components, wildcards within one, the last may hold colons', () => {
    table([
      ['ArnEquals', 'aws:PrincipalArn', [role], role, true],
      ['ArnEquals', 'aws:PrincipalArn', ['arn:aws:iam::123456789012:role/*'], role, true],
      ['ArnLike', 'aws:PrincipalArn', ['arn:aws:iam::*:role/a:*'], role, true],
      ['ArnLike', 'aws:PrincipalArn', ['arn:aws:iam::1234*:role/?:b'], role, true],
      ['ArnLike', 'aws:PrincipalArn', ['arn:aws:*'], role, false], // * does not cross a colon
      ['ArnLike', 'aws:PrincipalArn', ['arn:aws:iam::123456789012:user/*'], role, false],
      ['ArnLike', 'aws:PrincipalArn', ['arn:aws:iam::123456789012:role/x', role], role, true],
      ['ArnLike', 'aws:PrincipalArn', ['not an arn'], 'not an arn', false],
      ['ArnLike', 'aws:PrincipalArn', ['arn:aws:iam::*:*'], 'arn:aws:iam:', false],
      ['ArnLike', 'aws:PrincipalArn', ['arn:aws:s3:::b*'], 'arn:aws:s3:::bucket', true],
      ['ArnLike', 'aws:PrincipalArn', ['arn:aws:s3:::b*'], 'arn:aws:s3::x:bucket', false],
      ['ArnNotEquals', 'aws:PrincipalArn', [role], role, false],
      ['ArnNotEquals', 'aws:PrincipalArn', [role], `${role}x`, true],
      ['ArnNotLike', 'aws:PrincipalArn', ['arn:aws:iam::*:role/*'], role, false],
      ['ArnNotLike', 'aws:PrincipalArn', ['arn:aws:iam::*:user/*'], role, true],
    ]);
  });
});

describe('absent keys', () => {
  it('the negated operators hold, the others do not; ...IfExists holds for both', () => {
    const cases: [string, string, string[]][] = [
      ['StringEquals', 's3:prefix', ['a']],
      ['StringNotEquals', 's3:prefix', ['a']],
      ['StringEqualsIgnoreCase', 's3:prefix', ['a']],
      ['StringNotEqualsIgnoreCase', 's3:prefix', ['a']],
      ['StringLike', 's3:prefix', ['*']],
      ['StringNotLike', 's3:prefix', ['a']],
      ['NumericEquals', 's3:max-keys', ['1']],
      ['NumericNotEquals', 's3:max-keys', ['1']],
      ['NumericLessThan', 's3:max-keys', ['1']],
      ['DateEquals', 'aws:CurrentTime', ['2020-01-01']],
      ['DateNotEquals', 'aws:CurrentTime', ['2020-01-01']],
      ['Bool', 'aws:SecureTransport', ['false']],
      ['IpAddress', 'aws:SourceIp', ['0.0.0.0/0']],
      ['NotIpAddress', 'aws:SourceIp', ['10.0.0.0/8']],
      ['ArnLike', 'aws:PrincipalArn', ['*']],
      ['ArnEquals', 'aws:PrincipalArn', ['arn:aws:iam::1:root']],
      ['ArnNotEquals', 'aws:PrincipalArn', ['arn:aws:iam::1:root']],
      ['ArnNotLike', 'aws:PrincipalArn', ['arn:*']],
    ];
    for (const [op, key, values] of cases) {
      const negated = /Not/.test(op);
      expect(holds(op, key, values, {}), op).toBe(negated);
      expect(holds(`${op}IfExists`, key, values, {}), `${op}IfExists`).toBe(true);
      expect(holds(`ForAnyValue:${op}`, key, values, {}), `ForAnyValue:${op}`).toBe(false);
      expect(holds(`ForAllValues:${op}`, key, values, {}), `ForAllValues:${op}`).toBe(true);
    }
  });

  it('...IfExists tests a present key like its operator', () => {
    table([
      ['StringEqualsIfExists', 's3:prefix', ['a'], 'a', true],
      ['StringEqualsIfExists', 's3:prefix', ['a'], 'b', false],
      ['StringNotEqualsIfExists', 's3:prefix', ['a'], 'a', false],
      ['NumericLessThanIfExists', 's3:max-keys', ['10'], '11', false],
      ['IpAddressIfExists', 'aws:SourceIp', ['10.0.0.0/8'], '11.0.0.1', false],
    ]);
  });
});

describe('multi-valued keys', () => {
  const tags = (...keys: string[]) => ({ 'aws:tagkeys': keys });

  it('ForAnyValue: some value passes; ForAllValues: every value passes', () => {
    const any = (values: string[], ctx: ConditionContext) =>
      holds('ForAnyValue:StringEquals', 'aws:TagKeys', values, ctx);
    const all = (values: string[], ctx: ConditionContext) =>
      holds('ForAllValues:StringEquals', 'aws:TagKeys', values, ctx);
    expect(any(['a'], tags('a', 'b'))).toBe(true);
    expect(any(['c'], tags('a', 'b'))).toBe(false);
    expect(all(['a', 'b', 'c'], tags('a', 'b'))).toBe(true);
    expect(all(['a'], tags('a', 'b'))).toBe(false);
    expect(holds('ForAllValues:StringLike', 'aws:TagKeys', ['team-*'], tags('team-a', 'team-b'))).toBe(true);
    expect(holds('ForAllValues:StringLike', 'aws:TagKeys', ['team-*'], tags('team-a', 'x'))).toBe(false);
    expect(holds('ForAnyValue:StringNotEquals', 'aws:TagKeys', ['a'], tags('a', 'b'))).toBe(true);
    expect(holds('ForAllValues:StringNotEquals', 'aws:TagKeys', ['a'], tags('a', 'b'))).toBe(false);
  });

  it('an empty list: ForAllValues holds, ForAnyValue does not; without a set operator, as an absent key', () => {
    expect(holds('ForAllValues:StringEquals', 'aws:TagKeys', ['a'], tags())).toBe(true);
    expect(holds('ForAnyValue:StringEquals', 'aws:TagKeys', ['a'], tags())).toBe(false);
    expect(holds('ForAnyValue:StringEqualsIfExists', 'aws:TagKeys', ['a'], tags())).toBe(false);
    expect(holds('StringEquals', 'aws:TagKeys', ['a'], tags())).toBe(false);
    expect(holds('StringNotEquals', 'aws:TagKeys', ['a'], tags())).toBe(true);
    expect(holds('StringEqualsIfExists', 'aws:TagKeys', ['a'], tags())).toBe(true);
  });

  it('without a set operator: some value passes', () => {
    expect(holds('StringEquals', 'aws:TagKeys', ['b'], tags('a', 'b'))).toBe(true);
    expect(holds('StringEquals', 'aws:TagKeys', ['c'], tags('a', 'b'))).toBe(false);
    expect(holds('StringNotEquals', 'aws:TagKeys', ['a'], tags('a', 'b'))).toBe(true);
    expect(holds('StringNotEquals', 'aws:TagKeys', ['a'], tags('a'))).toBe(false);
  });
});

describe('operator names', () => {
  it('set operator prefixes and IfExists are parsed exactly; anything else is refused', () => {
    for (const bad of [
      'ForSomeValues:StringEquals',
      'forAnyValue:StringEquals',
      'ForAnyValue:',
      'ForAllValues:Null',
      'NullIfExists',
      'StringEqualsIfexists',
      'IfExists',
      'StringEquals ',
      'Numeric',
      'Date',
      'DateBefore',
      'NumericEqualsIgnoreCase',
      'ForAnyValue:ForAllValues:StringEquals',
    ]) {
      expect(
        thrownCode(() => compileCondition(bad, 's3:prefix', ['1'])),
        bad,
      ).toBe('MalformedPolicy');
    }
    expect(compileCondition('ForAnyValue:StringLikeIfExists', 's3:prefix', ['a*']).key).toBe('s3:prefix');
    expect(compileCondition('StringEquals', 'S3:Prefix', ['a']).key).toBe('s3:prefix');
  });
});

describe('policy variables', () => {
  const ctx = { 'aws:username': 'alice', 's3:prefix': 'home/alice/x' };

  it('fill string and ARN values from the request, when the document allows variables', () => {
    expect(holds('StringLike', 's3:prefix', ['home/${aws:username}/*'], ctx, true)).toBe(true);
    expect(holds('StringLike', 's3:prefix', ['home/${aws:username}/*'], { ...ctx, 'aws:username': 'bob' }, true)).toBe(
      false,
    );
    expect(holds('StringNotLike', 's3:prefix', ['home/${aws:username}/*'], ctx, true)).toBe(false);
    expect(holds('StringEquals', 's3:prefix', ['home/${aws:username}/x'], ctx, true)).toBe(true);
    // Without variables (an old Version), the text is literal.
    expect(holds('StringLike', 's3:prefix', ['home/${aws:username}/*'], ctx, false)).toBe(false);
    expect(holds('StringEquals', 's3:prefix', ['${aws:username}'], { 's3:prefix': '${aws:username}' }, false)).toBe(
      true,
    );
    const arn = { 'aws:principalarn': 'arn:aws:iam::1:user/alice', 'aws:username': 'alice' };
    expect(holds('ArnLike', 'aws:PrincipalArn', ['arn:aws:iam::*:user/${aws:username}'], arn, true)).toBe(true);
    expect(
      holds(
        'ArnLike',
        'aws:PrincipalArn',
        ['arn:aws:iam::*:user/${aws:username}'],
        { ...arn, 'aws:username': 'x' },
        true,
      ),
    ).toBe(false);
  });

  it('a value whose variable has no value matches nothing; the others still count', () => {
    const none = { 's3:prefix': 'home/alice/x' };
    expect(holds('StringLike', 's3:prefix', ['home/${aws:username}/*'], none, true)).toBe(false);
    expect(holds('StringLike', 's3:prefix', ['home/${aws:username}/*', 'home/*'], none, true)).toBe(true);
  });

  it('numbers are not filled in: a ${...} there is no number', () => {
    expect(thrownCode(() => compileCondition('NumericEquals', 's3:max-keys', ['${aws:username}'], true))).toBe(
      'MalformedPolicy',
    );
  });

  it('many different fillings are each right (the compiled fillings are kept in a bounded cache)', () => {
    const c = compileCondition('StringEquals', 's3:prefix', ['home/${aws:username}'], true);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 150; i++) {
        expect(c.holds({ 'aws:username': `u${i}`, 's3:prefix': `home/u${i}` })).toBe(true);
        expect(c.holds({ 'aws:username': `u${i}`, 's3:prefix': `home/u${i + 1}` })).toBe(false);
      }
    }
  });
});
