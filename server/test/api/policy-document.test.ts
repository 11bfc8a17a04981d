// The IAM policy language's compiler and evaluator (policy-document.ts), without a server: what each element
// means (Effect, Action/NotAction, Resource/NotResource, Principal/NotPrincipal, Condition, policy variables),
// what a document may not say (each refusal is MalformedPolicy naming the statement), the bounds on its size
// and depth, and the resource index that must give the same verdict as looking at every statement.
import { describe, expect, it } from 'vitest';
import { isS3Error } from '../../src/errors.js';
import type { ConditionContext } from '../../src/api/policy-conditions.js';
import {
  type CompiledPolicy,
  compilePolicy,
  evaluate,
  evaluateStatements,
  MAX_POLICY_CHARS,
  type PolicyKind,
  StatementIndex,
  unionOf,
} from '../../src/api/policy-document.js';
import { seededRandom } from '../../../test/helpers/random.js';

type Statement = Record<string, unknown>;
const doc = (statements: Statement | Statement[], version = '2012-10-17') =>
  JSON.stringify({ Version: version, Statement: statements });
const identity = (statements: Statement | Statement[], version?: string) =>
  compilePolicy(doc(statements, version), { kind: 'identity' });
const bucketPolicy = (statements: Statement | Statement[]) =>
  compilePolicy(doc(statements), { kind: 'bucket', bucket: 'b' });

/** A context that fails the test if read: statements without conditions or variables must not build it. */
const unread = (): ConditionContext => {
  throw new Error('the condition context was read');
};

function verdict(
  policy: CompiledPolicy,
  action: string,
  resource: string,
  o: { ctx?: ConditionContext; principals?: string[] } = {},
) {
  return evaluate(policy, {
    action: action.toLowerCase(),
    resource,
    context: o.ctx ? () => o.ctx! : unread,
    principals: o.principals && new Set(['*', ...o.principals]),
  });
}

/** The MalformedPolicy message a document is refused with (the test fails if it compiles, or fails otherwise). */
function refusal(text: string, kind: PolicyKind = 'identity', bucket?: string): string {
  try {
    compilePolicy(text, { kind, bucket });
  } catch (e) {
    if (isS3Error(e) && e.code === 'MalformedPolicy') return e.message;
    throw e;
  }
  throw new Error(`compiled: ${text}`);
}

const allowGet = { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' };

describe('evaluation', () => {
  it('Allow applies to its actions and resources only; a Deny anywhere wins', () => {
    const p = identity(allowGet);
    expect(verdict(p, 's3:GetObject', 'arn:aws:s3:::b/k')).toBe('Allow');
    expect(verdict(p, 's3:PutObject', 'arn:aws:s3:::b/k')).toBe('None');
    expect(verdict(p, 's3:GetObject', 'arn:aws:s3:::c/k')).toBe('None');
    const deny = { Effect: 'Deny', Action: 's3:*', Resource: 'arn:aws:s3:::b/secret/*' };
    for (const order of [
      [allowGet, deny],
      [deny, allowGet],
    ]) {
      const q = identity(order);
      expect(verdict(q, 's3:GetObject', 'arn:aws:s3:::b/secret/k')).toBe('Deny');
      expect(verdict(q, 's3:GetObject', 'arn:aws:s3:::b/open/k')).toBe('Allow');
      expect(verdict(q, 's3:PutObject', 'arn:aws:s3:::b/open/k')).toBe('None');
    }
  });

  it('actions compare case-insensitively and take wildcards', () => {
    const p = identity({ Effect: 'Allow', Action: ['S3:get*', 's3:List?ucket'], Resource: '*' });
    expect(verdict(p, 's3:GetObjectTagging', 'arn:aws:s3:::b/k')).toBe('Allow');
    expect(verdict(p, 's3:ListBucket', 'arn:aws:s3:::b')).toBe('Allow');
    expect(verdict(p, 's3:ListBuckets', 'arn:aws:s3:::b')).toBe('None');
    expect(verdict(p, 's3:PutObject', 'arn:aws:s3:::b/k')).toBe('None');
  });

  it('NotAction: every action but those; NotResource: every resource but those', () => {
    const p = identity({ Effect: 'Allow', NotAction: ['s3:DeleteObject', 's3:PutObject*'], Resource: '*' });
    expect(verdict(p, 's3:GetObject', 'arn:aws:s3:::b/k')).toBe('Allow');
    expect(verdict(p, 's3:DeleteObject', 'arn:aws:s3:::b/k')).toBe('None');
    expect(verdict(p, 's3:PutObjectTagging', 'arn:aws:s3:::b/k')).toBe('None');
    const q = identity([
      { Effect: 'Allow', Action: 's3:GetObject', NotResource: ['arn:aws:s3:::b/private/*', 'arn:aws:s3:::c/*'] },
      { Effect: 'Deny', Action: 's3:PutObject', NotResource: 'arn:aws:s3:::b/uploads/*' },
      { Effect: 'Allow', Action: 's3:PutObject', Resource: '*' },
    ]);
    expect(verdict(q, 's3:GetObject', 'arn:aws:s3:::b/public/k')).toBe('Allow');
    expect(verdict(q, 's3:GetObject', 'arn:aws:s3:::b/private/k')).toBe('None');
    expect(verdict(q, 's3:GetObject', 'arn:aws:s3:::c/k')).toBe('None');
    expect(verdict(q, 's3:PutObject', 'arn:aws:s3:::b/uploads/k')).toBe('Allow');
    expect(verdict(q, 's3:PutObject', 'arn:aws:s3:::b/other/k')).toBe('Deny');
  });

  it('conditions must all hold; numbers and booleans in them are read as text', () => {
    const p = identity({
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::b/*',
      Condition: { Bool: { 'aws:SecureTransport': true }, NumericLessThan: { 's3:max-keys': 10 } },
    });
    expect(p.statements[0].contextual).toBe(true);
    const ctx = (secure: string, maxKeys: string) => ({ 'aws:securetransport': secure, 's3:max-keys': maxKeys });
    expect(verdict(p, 's3:GetObject', 'arn:aws:s3:::b/k', { ctx: ctx('true', '9') })).toBe('Allow');
    expect(verdict(p, 's3:GetObject', 'arn:aws:s3:::b/k', { ctx: ctx('false', '9') })).toBe('None');
    expect(verdict(p, 's3:GetObject', 'arn:aws:s3:::b/k', { ctx: ctx('true', '10') })).toBe('None');
    // The context is read only by a statement that applies otherwise.
    expect(verdict(p, 's3:GetObject', 'arn:aws:s3:::c/k')).toBe('None');
    expect(verdict(p, 's3:PutObject', 'arn:aws:s3:::b/k')).toBe('None');
    const denyInsecure = identity([
      allowGet,
      { Effect: 'Deny', Action: '*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
    ]);
    expect(verdict(denyInsecure, 's3:GetObject', 'arn:aws:s3:::b/k', { ctx: { 'aws:securetransport': 'false' } })).toBe(
      'Deny',
    );
    expect(verdict(denyInsecure, 's3:GetObject', 'arn:aws:s3:::b/k', { ctx: { 'aws:securetransport': 'true' } })).toBe(
      'Allow',
    );
  });

  it('policy variables in resources are read in Version 2012-10-17 only; 2008-10-17 takes ${ literally', () => {
    const stmt = { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/${aws:username}/*' };
    const p = identity(stmt);
    expect(p.statements[0].contextual).toBe(true);
    const alice = { 'aws:username': 'alice' };
    expect(verdict(p, 's3:GetObject', 'arn:aws:s3:::b/alice/k', { ctx: alice })).toBe('Allow');
    expect(verdict(p, 's3:GetObject', 'arn:aws:s3:::b/bob/k', { ctx: alice })).toBe('None');
    const old = identity(stmt, '2008-10-17');
    expect(old.statements[0].contextual).toBe(false);
    expect(verdict(old, 's3:GetObject', 'arn:aws:s3:::b/${aws:username}/k')).toBe('Allow');
    expect(verdict(old, 's3:GetObject', 'arn:aws:s3:::b/alice/k')).toBe('None');
    // No Version: as 2008-10-17.
    const none = compilePolicy(JSON.stringify({ Statement: stmt }), { kind: 'identity' });
    expect(verdict(none, 's3:GetObject', 'arn:aws:s3:::b/${aws:username}/k')).toBe('Allow');
    expect(none.statements[0].contextual).toBe(false);
    // A statement without conditions or variables never reads the context.
    expect(identity(allowGet).statements[0].contextual).toBe(false);
  });

  it('Principal names the callers a bucket policy speaks to; NotPrincipal (Deny only) everyone but them', () => {
    const p = bucketPolicy([
      {
        Effect: 'Allow',
        Principal: { AWS: ['alice', 'arn:aws:iam:::user/carol'] },
        Action: 's3:GetObject',
        Resource: 'arn:aws:s3:::b/*',
      },
      { Effect: 'Deny', NotPrincipal: { AWS: 'alice' }, Action: 's3:PutObject', Resource: 'arn:aws:s3:::b/*' },
      { Effect: 'Allow', Principal: '*', Action: 's3:PutObject', Resource: 'arn:aws:s3:::b/*' },
    ]);
    const get = (principals?: string[]) => verdict(p, 's3:GetObject', 'arn:aws:s3:::b/k', { principals });
    const put = (principals?: string[]) => verdict(p, 's3:PutObject', 'arn:aws:s3:::b/k', { principals });
    expect(get(['key:alice'])).toBe('Allow');
    expect(get(['user:carol'])).toBe('Allow');
    expect(get(['key:bob'])).toBe('None');
    expect(get()).toBe('None'); // anonymous
    expect(put(['key:alice'])).toBe('Allow');
    expect(put(['key:bob'])).toBe('Deny');
    expect(put()).toBe('Deny');
    expect(p.isPublic).toBe(true);
  });

  it('isPublic: an Allow to everyone without conditions', () => {
    const stmt = (over: Statement) => ({ ...allowGet, Principal: '*', ...over });
    expect(bucketPolicy(stmt({})).isPublic).toBe(true);
    expect(bucketPolicy(stmt({ Principal: { AWS: '*' } })).isPublic).toBe(true);
    expect(bucketPolicy(stmt({ Principal: { AWS: 'alice' } })).isPublic).toBe(false);
    expect(bucketPolicy(stmt({ Effect: 'Deny' })).isPublic).toBe(false);
    expect(bucketPolicy(stmt({ Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } })).isPublic).toBe(false);
    expect(identity(allowGet).isPublic).toBe(false);
  });

  it('readsObjectTags: some condition reads s3:ExistingObjectTag/<key>', () => {
    const tagged = identity({
      ...allowGet,
      Condition: { StringEquals: { 's3:ExistingObjectTag/Team': 'blue' } },
    });
    expect(tagged.readsObjectTags).toBe(true);
    expect(verdict(tagged, 's3:GetObject', 'arn:aws:s3:::b/k', { ctx: { 's3:existingobjecttag/team': 'blue' } })).toBe(
      'Allow',
    );
    expect(verdict(tagged, 's3:GetObject', 'arn:aws:s3:::b/k', { ctx: { 's3:existingobjecttag/team': 'red' } })).toBe(
      'None',
    );
    const other = identity({ ...allowGet, Condition: { StringEquals: { 's3:RequestObjectTag/Team': 'blue' } } });
    expect(other.readsObjectTags).toBe(false);
    expect(identity(allowGet).readsObjectTags).toBe(false);
  });

  it('MinIO admin-only statements need no Resource and apply to anything', () => {
    const p = identity({ Effect: 'Allow', Action: ['admin:ServerInfo', 'admin:*'] });
    expect(p.statements[0].resources).toBeUndefined();
    expect(verdict(p, 'admin:ServerInfo', 'arn:aws:s3:::*')).toBe('Allow');
    expect(verdict(p, 'admin:ServerInfo', 'anything')).toBe('Allow');
    expect(refusal(doc({ Effect: 'Allow', Action: ['admin:ServerInfo', 's3:GetObject'] }))).toMatch(/Resource/);
    expect(refusal(doc({ Effect: 'Allow', NotAction: 'admin:ServerInfo' }))).toMatch(/Resource/);
  });

  it('forAction keeps the statements of one action, computed once', () => {
    const p = identity([allowGet, { Effect: 'Allow', NotAction: 's3:GetObject', Resource: '*' }]);
    const get = p.forAction('s3:getobject');
    expect(p.forAction('s3:getobject')).toBe(get);
    expect(get.size).toBe(1);
    expect(get.statements[0].actions).toBeDefined();
    expect(p.forAction('s3:putobject').size).toBe(1);
    expect(p.forAction('s3:putobject').statements[0].notActions).toBeDefined();
  });

  it('unionOf: the policies as one set (a Deny in any wins, an Allow in any allows)', () => {
    const a = identity(allowGet);
    expect(unionOf('session', [a])).toBe(a);
    const b = compilePolicy(
      doc({
        ...allowGet,
        Effect: 'Deny',
        Resource: 'arn:aws:s3:::b/x/*',
        Condition: { StringEquals: { 's3:ExistingObjectTag/t': 'v' } },
      }),
      { kind: 'session' },
    );
    const c = bucketPolicy({ ...allowGet, Principal: '*', Action: 's3:PutObject' });
    const u = unionOf('session', [a, b, c]);
    expect(u.kind).toBe('session');
    expect(u.statements).toHaveLength(3);
    expect(u.isPublic).toBe(true);
    expect(u.readsObjectTags).toBe(true);
    expect(unionOf('session', [a, a]).isPublic).toBe(false);
    expect(unionOf('session', [a, a]).readsObjectTags).toBe(false);
    expect(verdict(u, 's3:GetObject', 'arn:aws:s3:::b/y/k')).toBe('Allow');
    expect(verdict(u, 's3:PutObject', 'arn:aws:s3:::b/y/k')).toBe('Allow');
    expect(verdict(u, 's3:GetObject', 'arn:aws:s3:::b/x/k', { ctx: { 's3:existingobjecttag/t': 'v' } })).toBe('Deny');
    expect(verdict(u, 's3:GetObject', 'arn:aws:s3:::b/x/k', { ctx: {} })).toBe('Allow');
  });
});

describe('refused documents: MalformedPolicy naming the statement', () => {
  it('the document: JSON, an object, known top-level fields and versions, some statement', () => {
    expect(refusal('{"Version": "2012-10-17",\n  "Statement": [}')).toMatch(/syntax error at line 2, column 17/);
    expect(refusal('{"Version"')).toMatch(/syntax error at line 1, column 11/);
    for (const text of ['[]', '"x"', 'null', '1']) expect(refusal(text)).toMatch(/first byte must be '\{'/);
    expect(refusal(JSON.stringify({ Statement: [allowGet], Other: 1 }))).toMatch(/Unknown field Other/);
    expect(refusal(doc(allowGet, '2012-10-18'))).toMatch(/Invalid policy version/);
    expect(refusal(JSON.stringify({ Version: '2012-10-17' }))).toMatch(/Missing required field Statement/);
    expect(refusal(doc([]))).toMatch(/Missing required field Statement/);
    expect(
      compilePolicy(JSON.stringify({ Id: 'x', Statement: allowGet }), { kind: 'identity' }).statements,
    ).toHaveLength(1);
    expect(refusal(doc(['x' as unknown as Statement]))).toMatch(/^Statement 1: Invalid statement/);
  });

  it('each refusal names the statement, by number and Sid', () => {
    expect(refusal(doc([allowGet, { ...allowGet, Effect: 'allow' }]))).toBe('Statement 2: Invalid effect');
    expect(refusal(doc([allowGet, { ...allowGet, Sid: 'Two', Effect: 'Maybe' }]))).toBe(
      'Statement 2 (Sid Two): Invalid effect',
    );
    const long = 'S'.repeat(100);
    expect(refusal(doc({ ...allowGet, Sid: long, Effect: 'No' }))).toBe(
      `Statement 1 (Sid ${'S'.repeat(64)}): Invalid effect`,
    );
    expect(refusal(doc({ ...allowGet, Sid: 7, Effect: 'No' }))).toMatch(/^Statement 1: /);
  });

  it('statement fields: known names, Effect, Sid (unique, of the allowed characters)', () => {
    expect(refusal(doc({ ...allowGet, Actions: 's3:GetObject' }))).toMatch(/Unknown field Actions/);
    expect(refusal(doc({ ...allowGet, Effect: undefined }))).toMatch(/Invalid effect/);
    expect(refusal(doc({ ...allowGet, Sid: 'a!' }))).toMatch(/Invalid Sid/);
    expect(refusal(doc({ ...allowGet, Sid: 3 }))).toMatch(/Invalid Sid/);
    // A Sid of the allowed characters is accepted (it names the statement in refusals; evaluation ignores it).
    expect(identity({ ...allowGet, Sid: 'A b_.:-9' }).statements).toHaveLength(1);
    expect(
      refusal(
        doc([
          { ...allowGet, Sid: 'x' },
          { ...allowGet, Sid: 'y' },
          { ...allowGet, Sid: 'x' },
        ]),
      ),
    ).toMatch(/^Statement 3 \(Sid x\): Statement ids \(Sid\) must be unique: x/);
    // Empty Sids are no ids: several may appear.
    expect(
      identity([
        { ...allowGet, Sid: '' },
        { ...allowGet, Sid: '' },
      ]).statements,
    ).toHaveLength(2);
  });

  it('Principal: required in bucket and trust policies, refused elsewhere; NotPrincipal only with Deny', () => {
    for (const kind of ['identity', 'session'] as const) {
      expect(refusal(doc({ ...allowGet, Principal: '*' }), kind)).toMatch(/should not specify a principal/);
      expect(refusal(doc({ ...allowGet, Effect: 'Deny', NotPrincipal: '*' }), kind)).toMatch(/should not specify/);
    }
    expect(refusal(doc(allowGet), 'bucket', 'b')).toMatch(/Missing required field Principal/);
    const trust = (st: Statement) => doc({ Effect: 'Allow', Action: 'sts:AssumeRole', ...st });
    expect(refusal(trust({}), 'trust')).toMatch(/Missing required field Principal/);
    expect(compilePolicy(trust({ Principal: { AWS: 'alice' } }), { kind: 'trust' }).statements[0].principals).toEqual(
      new Set(['key:alice']),
    );
    expect(refusal(doc({ ...allowGet, NotPrincipal: { AWS: 'alice' } }), 'bucket', 'b')).toMatch(
      /NotPrincipal is not allowed with Effect Allow/,
    );
    const notP = bucketPolicy({ ...allowGet, Effect: 'Deny', NotPrincipal: { AWS: 'alice' } });
    expect(notP.statements[0].notPrincipals).toEqual(new Set(['key:alice']));
    expect(notP.statements[0].principals).toBeUndefined();
  });

  it('Action or NotAction, not both, each a string or a non-empty list of strings, of the services of the kind', () => {
    const { Action: _a, ...noAction } = allowGet;
    expect(refusal(doc(noAction))).toMatch(/Missing required field Action/);
    expect(refusal(doc({ ...allowGet, NotAction: 's3:PutObject' }))).toMatch(/cannot be given together/);
    expect(refusal(doc({ ...allowGet, Action: [] }))).toMatch(/non-empty list of strings/);
    expect(refusal(doc({ ...allowGet, Action: ['s3:GetObject', 1] }))).toMatch(/non-empty list of strings/);
    expect(refusal(doc({ ...allowGet, Action: { s3: 'GetObject' } }))).toMatch(/non-empty list of strings/);
    expect(refusal(doc({ ...allowGet, NotAction: 3, Action: undefined }))).toMatch(/NotAction must be/);
    // A bucket policy speaks of S3 only; identity policies also of IAM, STS and admin; trust policies of STS.
    expect(refusal(doc({ ...allowGet, Principal: '*', Action: 'iam:CreateUser' }), 'bucket', 'b')).toBe(
      'Statement 1: Policy has invalid action',
    );
    expect(refusal(doc({ ...allowGet, Principal: '*', NotAction: 'iam:*', Action: undefined }), 'bucket', 'b')).toBe(
      'Statement 1: Policy has invalid action',
    );
    expect(identity({ ...allowGet, Action: ['iam:CreateUser', 'sts:AssumeRole', 'admin:*'] }).statements).toHaveLength(
      1,
    );
    expect(refusal(doc({ ...allowGet, Action: 's3:GetObjekt' }))).toMatch(/^Statement 1: Policy has unknown action/);
    expect(refusal(doc({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject' }), 'trust')).toMatch(
      /not valid here/,
    );
  });

  it('Resource or NotResource, not both; none in trust policies; ARNs of the right shape', () => {
    expect(refusal(doc({ ...allowGet, NotResource: 'arn:aws:s3:::c/*' }))).toMatch(/cannot be given together/);
    const { Resource: _r, ...noResource } = allowGet;
    expect(refusal(doc(noResource))).toMatch(/Missing required field Resource/);
    expect(refusal(doc({ ...allowGet, Resource: [] }))).toMatch(/Resource must be/);
    expect(refusal(doc({ ...noResource, NotResource: [] }))).toMatch(/NotResource must be/);
    const trust = { Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRole' };
    expect(refusal(doc({ ...trust, Resource: '*' }), 'trust')).toMatch(/Has prohibited field Resource/);
    expect(refusal(doc({ ...trust, NotResource: '*' }), 'trust')).toMatch(/Has prohibited field Resource/);
    // Identity policies: `*` or an ARN of six parts, the last not empty.
    for (const r of ['*', 'arn:aws:s3:::b', 'arn:aws:iam:::user/x', 'arn::::x:y']) {
      expect(identity({ ...allowGet, Resource: r }).statements).toHaveLength(1);
    }
    for (const r of ['arn:aws:s3:::', 'arn:aws:s3', 'b/k', ' arn:aws:s3:::b', '**']) {
      expect(refusal(doc({ ...allowGet, Resource: r }))).toMatch(/Invalid resource/);
    }
    // Bucket policies: S3 ARNs in their own bucket (a bucket pattern must match its name).
    const inBucket = (r: string, bucket = 'b') =>
      compilePolicy(doc({ ...allowGet, Principal: '*', Resource: r }), { kind: 'bucket', bucket });
    for (const r of ['arn:aws:s3:::b', 'arn:aws:s3:::b/', 'arn:aws:s3:::b/k/*', 'arn:aws:s3:::?', 'arn:aws:s3:::*/x']) {
      expect(inBucket(r).statements).toHaveLength(1);
    }
    for (const r of [
      'arn:aws:s3:::c/*',
      'arn:aws:s3:::bb/*',
      '*',
      'arn:aws:s3:::',
      'xarn:aws:s3:::b',
      'arn:aws:iam:::b',
    ]) {
      expect(refusal(doc({ ...allowGet, Principal: '*', Resource: r }), 'bucket', 'b')).toMatch(/invalid resource/);
    }
    expect(
      refusal(
        doc({ ...allowGet, Principal: '*', NotResource: 'arn:aws:s3:::c/*', Resource: undefined }),
        'bucket',
        'b',
      ),
    ).toMatch(/invalid resource/);
    // Without a bucket to compare with, only a pattern that matches the empty name passes.
    expect(refusal(doc({ ...allowGet, Principal: '*' }), 'bucket')).toMatch(/invalid resource/);
    expect(
      compilePolicy(doc({ ...allowGet, Principal: '*', Resource: 'arn:aws:s3:::*' }), { kind: 'bucket' }).kind,
    ).toBe('bucket');
  });

  it('Condition: an object of operator blocks, each an object of keys to values', () => {
    const cond = (c: unknown) => doc({ ...allowGet, Condition: c });
    expect(refusal(cond([]))).toMatch(/^Statement 1: Invalid Condition$/);
    expect(refusal(cond('x'))).toMatch(/^Statement 1: Invalid Condition$/);
    expect(refusal(cond(null))).toMatch(/^Statement 1: Invalid Condition$/);
    expect(refusal(cond({ StringEquals: 'x' }))).toMatch(/Invalid Condition StringEquals/);
    expect(refusal(cond({ StringEquals: ['x'] }))).toMatch(/Invalid Condition StringEquals/);
    expect(refusal(cond({ StringEquals: { 'aws:username': { a: 'x' } } }))).toMatch(
      /Invalid Condition value for aws:username/,
    );
    expect(refusal(cond({ StringEquals: { 'aws:username': [null] } }))).toMatch(/Invalid Condition value/);
    const p = identity({ ...allowGet, Condition: { StringEquals: { 'aws:username': ['alice', 'bob'] }, Null: {} } });
    expect(p.statements[0].conditions).toHaveLength(1);
    expect(verdict(p, 's3:GetObject', 'arn:aws:s3:::b/k', { ctx: { 'aws:username': 'bob' } })).toBe('Allow');
    expect(verdict(p, 's3:GetObject', 'arn:aws:s3:::b/k', { ctx: { 'aws:username': 'carol' } })).toBe('None');
    // An empty Condition object: no conditions, the statement is not contextual.
    expect(identity({ ...allowGet, Condition: {} }).statements[0].contextual).toBe(false);
  });

  it('size: at most MAX_POLICY_CHARS characters other than white space; depth: at most 8 levels', () => {
    const withKey = (n: number) => {
      const base = doc({ ...allowGet, Resource: 'arn:aws:s3:::b/' });
      const text = doc({ ...allowGet, Resource: `arn:aws:s3:::b/${'k'.repeat(n - base.length)}` });
      expect(text).toHaveLength(n);
      return text;
    };
    expect(compilePolicy(withKey(MAX_POLICY_CHARS), { kind: 'identity' }).statements).toHaveLength(1);
    expect(refusal(withKey(MAX_POLICY_CHARS + 1))).toMatch(/longer than 20480 characters/);
    // White space around the JSON is not counted: spaces, tabs, line feeds and carriage returns.
    const padded = `${' \t\n\r'.repeat(MAX_POLICY_CHARS)}${withKey(MAX_POLICY_CHARS)}\r\n\t `;
    expect(compilePolicy(padded, { kind: 'identity' }).statements).toHaveLength(1);
    // Other characters are (a form feed is not JSON white space either, but it is counted first).
    expect(refusal(`${withKey(MAX_POLICY_CHARS)}\f`)).toMatch(/longer than/);
    // Nesting: condition values nested to level 8 reach the value check, to level 9 are refused before it.
    const nested = (levels: number) =>
      doc([{ ...allowGet, Condition: { StringEquals: { 'aws:username': 'V' } } }]).replace(
        '"V"',
        `${'['.repeat(levels)}"x"${']'.repeat(levels)}`,
      );
    expect(refusal(nested(3))).toMatch(/Invalid Condition value/);
    expect(refusal(nested(4))).toBe('Policy is nested too deeply');
    expect(refusal(nested(5000))).toBe('Policy is nested too deeply');
  });
});

describe('the resource index', () => {
  it('files each statement under the literal start of its resources, cut back to a /', () => {
    const keys = (...resources: string[]) => identity({ ...allowGet, Resource: resources }).statements[0].resourceKeys;
    expect(keys('arn:aws:s3:::b/team-1/*')).toEqual(['arn:aws:s3:::b/team-1']);
    expect(keys('arn:aws:s3:::b/team-1/k')).toEqual(['arn:aws:s3:::b/team-1/k']);
    expect(keys('arn:aws:s3:::b/team-1/k?')).toEqual(['arn:aws:s3:::b/team-1']);
    expect(keys('arn:aws:s3:::b/a*/x')).toEqual(['arn:aws:s3:::b']);
    expect(keys('arn:aws:s3:::b/${aws:username}/x')).toEqual(['arn:aws:s3:::b']);
    expect(keys('arn:aws:s3:::b/a/*', 'arn:aws:s3:::b/a/?', 'arn:aws:s3:::c')).toEqual([
      'arn:aws:s3:::b/a',
      'arn:aws:s3:::c',
    ]);
    expect(keys('arn:aws:s3:::b*')).toBeUndefined();
    expect(keys('*')).toBeUndefined();
    expect(keys('arn:aws:s3:::b/a/*', 'arn:aws:s3:::*')).toBeUndefined();
    expect(
      identity({ ...allowGet, Resource: undefined, NotResource: 'arn:aws:s3:::b/a' }).statements[0].resourceKeys,
    ).toBeUndefined();
  });

  it('finds statements filed deep in the tree, for ARNs deeper still, and exact ARNs', () => {
    const p = identity([
      { ...allowGet, Resource: 'arn:aws:s3:::b/a/b/c/d/*' },
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::b' },
      { Effect: 'Deny', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/a/b/c/d/e/f/no' },
    ]);
    expect(verdict(p, 's3:GetObject', 'arn:aws:s3:::b/a/b/c/d/e')).toBe('Allow');
    expect(verdict(p, 's3:GetObject', 'arn:aws:s3:::b/a/b/c/d/e/f/g/h')).toBe('Allow');
    expect(verdict(p, 's3:GetObject', 'arn:aws:s3:::b/a/b/c/d/e/f/no')).toBe('Deny');
    expect(verdict(p, 's3:GetObject', 'arn:aws:s3:::b/a/b/c/x')).toBe('None');
    expect(verdict(p, 's3:ListBucket', 'arn:aws:s3:::b')).toBe('Allow');
    expect(verdict(p, 's3:ListBucket', 'arn:aws:s3:::b/')).toBe('None');
    // A Deny among the statements looked at always wins over an Allow filed under a key, and the reverse.
    const q = identity([
      { Effect: 'Deny', Action: 's3:GetObject', NotResource: 'arn:aws:s3:::b/open/*' },
      { ...allowGet, Resource: 'arn:aws:s3:::b/open/*' },
      { ...allowGet, Resource: 'arn:aws:s3:::b/closed/*' },
    ]);
    expect(verdict(q, 's3:GetObject', 'arn:aws:s3:::b/open/k')).toBe('Allow');
    expect(verdict(q, 's3:GetObject', 'arn:aws:s3:::b/closed/k')).toBe('Deny');
    const r = identity([
      { Effect: 'Allow', Action: 's3:GetObject', NotResource: 'arn:aws:s3:::b/closed/*' },
      { Effect: 'Deny', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/open/secret/*' },
    ]);
    expect(verdict(r, 's3:GetObject', 'arn:aws:s3:::b/open/k')).toBe('Allow');
    expect(verdict(r, 's3:GetObject', 'arn:aws:s3:::b/open/secret/k')).toBe('Deny');
  });

  it('gives the verdict of every statement looked at, for random statements and requests', () => {
    const rng = seededRandom();
    const random = rng.next;
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
    const segments = ['a', 'b', 'ab', '', 'x'];
    const path = (n: number) => Array.from({ length: n }, () => pick(segments)).join('/');
    const pattern = () => {
      const p = `arn:aws:s3:::${pick(['b', 'c'])}${random() < 0.8 ? `/${path(1 + Math.floor(random() * 4))}` : ''}`;
      const cut = 13 + Math.floor(random() * (p.length - 12)); // after arn:aws:s3:::
      const wild = pick(['', '*', '?', '${aws:username}', '/*']);
      return wild && random() < 0.7 ? p.slice(0, cut) + wild + p.slice(cut) : p;
    };
    const actions = ['s3:GetObject', 's3:PutObject', 's3:*'];
    for (let round = 0; round < 300; round++) {
      const statements = Array.from({ length: 1 + Math.floor(random() * 6) }, () => {
        const resources = Array.from({ length: 1 + Math.floor(random() * 3) }, pattern);
        return {
          Effect: random() < 0.3 ? 'Deny' : 'Allow',
          Action: pick(actions),
          ...(random() < 0.15 ? { NotResource: resources } : { Resource: resources }),
        };
      });
      const p = identity(statements);
      for (let i = 0; i < 20; i++) {
        const arn = `arn:aws:s3:::${pick(['b', 'c'])}${random() < 0.9 ? `/${path(1 + Math.floor(random() * 6))}` : ''}`;
        const ctx = { 'aws:username': pick(segments) };
        const q = { action: 's3:getobject', resource: arn, context: () => ctx };
        const all = p.statements.filter((st) => st.actions!.some((m) => m('s3:getobject')));
        expect(new StatementIndex(all).verdict(q), `${JSON.stringify(statements)} ${arn}`).toBe(
          evaluateStatements(all, q),
        );
        expect(evaluate(p, q)).toBe(evaluateStatements(all, q));
      }
    }
  });
});

describe('what mutation testing found untested', () => {
  it('a refusal that is not MalformedPolicy (a condition key Cairn does not implement) keeps its code', () => {
    try {
      identity({ ...allowGet, Condition: { StringEquals: { 's3:LocationConstraint': 'x' } } });
      expect.unreachable('compiled');
    } catch (e) {
      expect(isS3Error(e) && e.code).toBe('NotImplemented');
    }
  });

  it('one Allow is enough: later Allow statements are not looked at (their conditions never read)', () => {
    const p = identity([allowGet, { ...allowGet, Condition: { StringEquals: { 'aws:username': 'alice' } } }]);
    expect(verdict(p, 's3:GetObject', 'arn:aws:s3:::b/k')).toBe('Allow');
  });

  it('session policies may name S3, IAM, STS and admin actions', () => {
    for (const action of ['s3:GetObject', 'iam:CreateUser', 'sts:AssumeRole', 'admin:ServerInfo']) {
      const p = compilePolicy(doc({ Effect: 'Allow', Action: action, Resource: '*' }), { kind: 'session' });
      expect(verdict(p, action, 'arn:aws:s3:::b/k'), action).toBe('Allow');
    }
  });

  it('every condition value must be a string, number or boolean', () => {
    expect(refusal(doc({ ...allowGet, Condition: { StringEquals: { 'aws:username': ['alice', null] } } }))).toMatch(
      /Invalid Condition value/,
    );
  });

  it('resources: an account and region in an ARN; a bucket pattern must match when no bucket is given', () => {
    const p = identity({ ...allowGet, Resource: 'arn:aws:s3:us-east-1:123456789012:accesspoint/ap/*' });
    expect(verdict(p, 's3:GetObject', 'arn:aws:s3:us-east-1:123456789012:accesspoint/ap/k')).toBe('Allow');
    expect(refusal(doc({ ...allowGet, Principal: '*', Resource: 'arn:aws:s3:::?*' }), 'bucket')).toMatch(
      /invalid resource/,
    );
    // An object key may hold a line break: a bucket policy may name it.
    const keyed = bucketPolicy({ ...allowGet, Principal: '*', Resource: 'arn:aws:s3:::b/line\nbreak' });
    expect(verdict(keyed, 's3:GetObject', 'arn:aws:s3:::b/line\nbreak')).toBe('Allow');
    expect(verdict(keyed, 's3:GetObject', 'arn:aws:s3:::b/line')).toBe('None');
  });

  it('contextual and readsObjectTags look at every resource and statement, not only the first', () => {
    const vars = identity({ ...allowGet, Resource: ['arn:aws:s3:::c/*', 'arn:aws:s3:::b/${aws:username}/*'] });
    expect(vars.statements[0].contextual).toBe(true);
    const tags = identity([
      allowGet,
      { ...allowGet, Condition: { StringEquals: { 's3:ExistingObjectTag/team': 'blue' } } },
    ]);
    expect(tags.readsObjectTags).toBe(true);
  });
});
