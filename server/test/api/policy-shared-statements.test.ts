// Statements identical but for their Sid are compiled once and shared between policies (policy-document.ts
// internStatement), and a StatementIndex over policies that repeat one evaluates it once. Sharing must never
// skip a check that depends on where the statement is (the policy's kind, a bucket policy's bucket) or change
// what it means (policy variables are read in Version 2012-10-17 documents only).
import { describe, expect, it } from 'vitest';
import type { ConditionContext } from '../../src/api/policy-conditions.js';
import {
  compilePolicy,
  evaluate,
  type PolicyKind,
  type PolicyQuery,
  StatementIndex,
} from '../../src/api/policy-document.js';

const doc = (Statement: object[], Version = '2012-10-17') => JSON.stringify({ Version, Statement });
const compile = (kind: PolicyKind, text: string, bucket?: string) => compilePolicy(text, { kind, bucket });
const query = (action: string, resource: string, values: ConditionContext = {}): PolicyQuery => ({
  action: action.toLowerCase(),
  resource,
  context: () => values,
});
const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return 'none';
};

const home = { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/${aws:username}/*' };
const locked = { Effect: 'Deny', Action: 's3:*', Resource: 'arn:aws:s3:::b/locked/*' };

describe('statements shared between policies', () => {
  it('one statement in several policies (any Sid) is one object, evaluated once, with the same verdicts', () => {
    const a = compile('identity', doc([{ Sid: 'Home', ...home }, locked]));
    const b = compile('identity', doc([{ ...home, Sid: 'Other' }]));
    const c = compile('identity', doc([home, home, { Sid: 'X', ...locked }]));
    expect(b.statements[0]).toBe(a.statements[0]);
    expect(c.statements[0]).toBe(a.statements[0]);
    expect(c.statements[2]).toBe(a.statements[1]);
    const all = new StatementIndex([...a.statements, ...b.statements, ...c.statements]);
    expect(all.size).toBe(2);
    const alice = { 'aws:username': 'alice' };
    expect(all.verdict(query('s3:GetObject', 'arn:aws:s3:::b/alice/f', alice))).toBe('Allow');
    expect(all.verdict(query('s3:GetObject', 'arn:aws:s3:::b/bob/f', alice))).toBe('None');
    expect(all.verdict(query('s3:GetObject', 'arn:aws:s3:::b/locked/f', { 'aws:username': 'locked' }))).toBe('Deny');
    expect(evaluate(c, query('s3:GetObject', 'arn:aws:s3:::b/alice/f', alice))).toBe('Allow');
    // Sids still have to be unique within a policy, shared statement or not.
    expect(
      code(() =>
        compile(
          'identity',
          doc([
            { Sid: 'S', ...home },
            { Sid: 'S', ...locked },
          ]),
        ),
      ),
    ).toBe('MalformedPolicy');
  });

  it('is not shared across versions: ${aws:username} is a variable in 2012-10-17 only', () => {
    const current = compile('identity', doc([home]));
    const old = compile('identity', doc([home], '2008-10-17'));
    expect(old.statements[0]).not.toBe(current.statements[0]);
    const alice = { 'aws:username': 'alice' };
    expect(evaluate(current, query('s3:GetObject', 'arn:aws:s3:::b/alice/f', alice))).toBe('Allow');
    expect(evaluate(old, query('s3:GetObject', 'arn:aws:s3:::b/alice/f', alice))).toBe('None');
    expect(evaluate(old, query('s3:GetObject', 'arn:aws:s3:::b/${aws:username}/f', alice))).toBe('Allow');
  });

  it("is not shared across kinds or buckets: each policy's own checks still run", () => {
    const assume = { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' };
    compile('identity', doc([assume]));
    expect(code(() => compile('trust', doc([assume])))).toBe('MalformedPolicy');
    const read = { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::one/*' };
    compile('bucket', doc([read]), 'one');
    expect(code(() => compile('bucket', doc([read]), 'two'))).toBe('MalformedPolicy');
  });
});
