// Random bucket policies (wildcard actions and resources, StringLike / StringNotLike / ArnLike conditions)
// evaluated against random requests, compared with a reference evaluator built on a plain dynamic-programming
// glob matcher. Seeded: the seed is printed, CAIRN_TEST_SEED replays a run.
import { describe, expect, it } from 'vitest';
import { evaluatePolicy, parsePolicy } from '../../src/api/bucket-policy.js';
import { seededRandom } from '../../../test/helpers/random.js';

/** Reference glob (* any run, ? one character), O(pattern * text), over code points. */
function glob(pattern: string, text: string): boolean {
  const p = [...pattern];
  const t = [...text];
  let row = new Array<boolean>(t.length + 1).fill(false);
  row[0] = true;
  for (const c of p) {
    const next = new Array<boolean>(t.length + 1).fill(false);
    if (c === '*') {
      next[0] = row[0];
      for (let j = 1; j <= t.length; j++) next[j] = row[j] || next[j - 1];
    } else {
      for (let j = 1; j <= t.length; j++) next[j] = row[j - 1] && (c === '?' || c === t[j - 1]);
    }
    row = next;
  }
  return row[t.length];
}

/** ArnLike: the six colon-separated components matched one by one (the last keeps its colons). */
function arnLike(pattern: string, arn: string): boolean {
  const split = (s: string) => {
    const parts = s.split(':');
    return parts.length < 6 ? undefined : [...parts.slice(0, 5), parts.slice(5).join(':')];
  };
  const p = split(pattern);
  const a = split(arn);
  return !!p && !!a && p.every((x, i) => glob(x, a[i]));
}

interface Stmt {
  Effect: 'Allow' | 'Deny';
  Principal: '*' | { AWS: string[] };
  Action?: string[];
  NotAction?: string[];
  Resource?: string[];
  NotResource?: string[];
  Condition?: Record<string, Record<string, string[]>>;
}

type Ctx = Record<string, string | undefined>;

function reference(
  statements: Stmt[],
  principal: string,
  action: string,
  arn: string,
  ctx: Ctx,
): 'Allow' | 'Deny' | 'None' {
  let allowed = false;
  for (const s of statements) {
    const principalOk = s.Principal === '*' || s.Principal.AWS.includes('*') || s.Principal.AWS.includes(principal);
    const actionOk = s.Action
      ? s.Action.some((a) => glob(a.toLowerCase(), action.toLowerCase()))
      : !s.NotAction!.some((a) => glob(a.toLowerCase(), action.toLowerCase()));
    const resourceOk = s.Resource ? s.Resource.some((r) => glob(r, arn)) : !s.NotResource!.some((r) => glob(r, arn));
    const conditionsOk = Object.entries(s.Condition ?? {}).every(([op, block]) =>
      Object.entries(block).every(([key, values]) => {
        const v = ctx[key.toLowerCase()];
        // An absent key satisfies the negated operators only (IAM's rule; no ...IfExists here).
        if (v === undefined) return op === 'StringNotLike' || op === 'ArnNotLike';
        if (op === 'StringLike') return values.some((x) => glob(x, v));
        if (op === 'StringNotLike') return !values.some((x) => glob(x, v));
        if (op === 'ArnLike') return values.some((x) => arnLike(x, v));
        if (op === 'ArnNotLike') return !values.some((x) => arnLike(x, v));
        return values.includes(v); // StringEquals
      }),
    );
    if (!(principalOk && actionOk && resourceOk && conditionsOk)) continue;
    if (s.Effect === 'Deny') return 'Deny';
    allowed = true;
  }
  return allowed ? 'Allow' : 'None';
}

describe('bucket policy fuzz', () => {
  it('compiled policies agree with a reference evaluator (seeded)', () => {
    const random = seededRandom();
    const seed = random.seed;
    console.log(`policy fuzz seed: ${seed} (CAIRN_TEST_SEED=${seed} replays it)`);
    const r = random.next;
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
    const word = (chars: string, max: number) =>
      Array.from({ length: Math.floor(r() * max) }, () => pick([...chars])).join('');
    // `/` in resources and keys: policy-document.ts files statements by the literal start of their resources
    // cut at a `/` (StatementIndex), which this comparison checks too.
    const pattern = (max: number) => word('ab/😀*?*?', max);
    const actions = ['s3:GetObject', 's3:PutObject', 's3:ListBucket', 's3:DeleteObjectVersion', 's3:GetObjectAcl'];
    const actionPattern = () =>
      pick(['*', 's3:*', 's3:Get*', 's3:*Object', 's3:?etObject', 's3:getobject', 's3:LISTBUCKET', ...actions]);
    const users = ['alice', 'bob', '*'];
    const seen = { Allow: 0, Deny: 0, None: 0 };
    for (let round = 0; round < 1500; round++) {
      const statements: Stmt[] = Array.from({ length: 1 + Math.floor(r() * 3) }, () => {
        const s: Stmt = { Effect: r() < 0.3 ? 'Deny' : 'Allow', Principal: r() < 0.5 ? '*' : { AWS: [pick(users)] } };
        if (r() < 0.8) s.Action = [actionPattern(), actionPattern()].slice(0, 1 + Math.floor(r() * 2));
        else s.NotAction = [actionPattern()];
        const res = () => `arn:aws:s3:::bkt${r() < 0.7 ? `/${pattern(8)}` : ''}`;
        if (r() < 0.8) s.Resource = [res(), res()].slice(0, 1 + Math.floor(r() * 2));
        else s.NotResource = [res()];
        if (r() < 0.5) {
          const op = pick(['StringLike', 'StringNotLike', 'StringEquals', 'ArnLike', 'ArnNotLike']);
          const values = op.startsWith('Arn')
            ? [`arn:aws:s3:::${word('ab:*?', 5)}`, `arn:${pattern(3)}:s3:${pattern(2)}::${pattern(4)}`]
            : [pattern(6), word('ab😀', 4)];
          const key = op.startsWith('Arn') ? 'aws:SourceArn' : pick(['s3:prefix', 'aws:SourceArn', 'aws:Referer']);
          s.Condition = { [op]: { [key]: values.slice(0, 1 + Math.floor(r() * 2)) } };
        }
        return s;
      });
      const policy = parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: statements }), 'bkt');
      for (let q = 0; q < 8; q++) {
        const key = r() < 0.2 ? undefined : word('ab/😀', 10);
        const ctx: Ctx = {
          's3:prefix': r() < 0.8 ? word('ab😀', 7) : undefined,
          'aws:sourcearn': r() < 0.8 ? `arn:aws:s3:::${word('ab😀::', 6)}` : undefined,
          'aws:referer': r() < 0.5 ? word('ab', 5) : undefined,
        };
        const principal = pick(['alice', 'bob', '*']);
        const action = pick(actions);
        const arn = key === undefined ? 'arn:aws:s3:::bkt' : `arn:aws:s3:::bkt/${key}`;
        const want = reference(statements, principal, action, arn, ctx);
        const got = evaluatePolicy(policy, { principal, action, bucket: 'bkt', key, conditions: ctx });
        expect(got, `seed ${seed}: ${JSON.stringify({ statements, principal, action, key, ctx })}`).toBe(want);
        seen[got]++;
      }
    }
    // Every verdict occurs often enough for the comparison to mean something.
    for (const v of ['Allow', 'Deny', 'None'] as const) expect(seen[v]).toBeGreaterThan(500);
  });
});
