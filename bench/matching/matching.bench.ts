// Wildcard matching on adversarial input: bucket-policy globs against keys up to 1,024 bytes and S3 Select
// LIKE against fields up to 1 MB. Prints, per pattern, the time for each input size, its growth over the
// size before (linear matching doubles, x2.0, when the input doubles; the machine's noise shows too) and the
// time per input byte, which stays flat when the growth is linear. The RegExp translation the matchers
// replaced is timed beside them on small inputs only (it grows polynomially: seconds are reached fast).
//
//   npm run -w bench matching
//   MATCHING_BENCH_RUNS=9 npm run -w bench matching   (best of N, default 5)

import { ANY, ONE, compileWildcard, globParts, runSelect, type WildcardPart } from '../../select-engine/src/index.js';
import { bufferSource } from '../../select-engine/src/formats/index.js';
import { evaluatePolicy, parsePolicy } from '../../server/src/api/bucket-policy.js';

const RUNS = Number(process.env.MATCHING_BENCH_RUNS ?? 5);

/** Best of RUNS (after one warm-up round): milliseconds for `reps` calls of f. */
function time(f: () => unknown, reps: number, runs = RUNS): number {
  let best = Infinity;
  for (let i = 0; i < Math.min(reps, 100); i++) f();
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) f();
    best = Math.min(best, performance.now() - t0);
  }
  return best / reps;
}

interface Row {
  table: string;
  pattern: string;
  size: number;
  ms: number;
  growth: string;
}
const rows: Row[] = [];

function add(table: string, pattern: string, size: number, ms: number) {
  const prev = rows.findLast((r) => r.table === table && r.pattern === pattern);
  rows.push({ table, pattern, size, ms, growth: prev ? `x${(ms / prev.ms).toFixed(1)}` : '' });
}

/** The RegExp the old policy code built from a glob (kept here only to time it). */
function oldGlobRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 's');
}

/** The RegExp the old LIKE code built (patterns with a wildcard in the middle). */
function oldLikeRegExp(pattern: string): RegExp {
  let src = '^';
  for (const ch of pattern) {
    src += ch === '%' ? '[\\s\\S]*' : ch === '_' ? '[\\s\\S]' : ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`${src}$`, 'u');
}

function likeParts(pattern: string): WildcardPart[] {
  return [...pattern].map((ch) => (ch === '%' ? ANY : ch === '_' ? ONE : ch));
}

/** Old RegExp timings on growing inputs, one run each, stopping once one takes over half a second. */
function oldRegExp(table: string, label: string, re: RegExp) {
  for (const size of [8, 16, 24, 32, 40, 48, 56, 64]) {
    const text = 'a'.repeat(size);
    const t0 = performance.now();
    re.test(text);
    const ms = performance.now() - t0;
    add(table, label, size, ms);
    if (ms > 500) break;
  }
}

function policyTable() {
  // [label, pattern]: what a backtracking matcher dies on, ONE-heavy segments, a long literal segment.
  const patterns: [string, string][] = [
    ['*a*a*a*a*a*a*a*ab', '*a*a*a*a*a*a*a*ab'],
    ['*a*a*a*a*a*a*a*b*', '*a*a*a*a*a*a*a*b*'],
    ['*a?a?a?a?a?a?ab*', '*a?a?a?a?a?a?ab*'],
    ['*(a?)x40 b*', `*${'a?'.repeat(40)}b*`],
    ['*a{300}b*', `*${'a'.repeat(300)}b*`],
  ];
  const policy = parsePolicy(
    JSON.stringify({
      Version: '2012-10-17',
      Statement: patterns.map(([, p]) => ({
        Effect: 'Allow',
        Principal: '*',
        Action: 's3:GetObject',
        Resource: `arn:aws:s3:::bkt/${p}`,
      })),
    }),
    'bkt',
  );
  for (const size of [128, 256, 512, 1024]) {
    const key = 'a'.repeat(size);
    const arn = `arn:aws:s3:::bkt/${key}`;
    for (const [label, p] of patterns) {
      const m = compileWildcard(globParts(`arn:aws:s3:::bkt/${p}`));
      add(
        'policy glob (one pattern)',
        label,
        size,
        time(() => m(arn), 5000),
      );
    }
    // The whole policy, as authorization evaluates it per request (every statement misses).
    const request = { principal: '*', action: 's3:GetObject', bucket: 'bkt', key, conditions: {} };
    const table = `policy evaluation (${patterns.length} statements)`;
    add(
      table,
      'all of the above',
      size,
      time(() => evaluatePolicy(policy, request), 2000),
    );
  }
  oldRegExp('old RegExp, same glob', '*a*a*a*a*a*a*a*ab', oldGlobRegExp('*a*a*a*a*a*a*a*ab'));

  // The worst a condition can cost: one StringLike value filling a 20 KB policy with a ?-run (625 machine
  // words per character) against a header value up to Node's 16 KB header limit, on every request.
  const run = `*${'a?'.repeat(9_900)}b*`;
  const conditioned = parsePolicy(
    JSON.stringify({
      Statement: [
        {
          Effect: 'Allow',
          Principal: '*',
          Action: 's3:GetObject',
          Resource: 'arn:aws:s3:::bkt/*',
          Condition: { StringLike: { 'aws:UserAgent': run } },
        },
      ],
    }),
    'bkt',
  );
  for (const size of [2048, 4096, 8192, 16384]) {
    const conditions = { 'aws:useragent': 'a'.repeat(size) };
    const request = { principal: '*', action: 's3:GetObject', bucket: 'bkt', key: 'k', conditions };
    const ms = time(() => evaluatePolicy(conditioned, request), 5);
    add('policy condition (20 KB policy)', 'StringLike *(a?)x9900 b*', size, ms);
  }
}

async function likeTable() {
  const patterns: [string, string][] = [
    ['%a%a%a%a%a%a%a%b', '%a%a%a%a%a%a%a%b'],
    ['%a%a%a%a%a%a%a%b%', '%a%a%a%a%a%a%a%b%'],
    ['%a_a_a_a_a_a_ab%', '%a_a_a_a_a_a_ab%'],
    // The longest run with _ LIKE accepts (MAX_LIKE_RUN_WITH_ONE, 128 characters: 4 machine words).
    ['%(a{31}_)x3 a{31}b%', `%${`${'a'.repeat(31)}_`.repeat(3)}${'a'.repeat(31)}b%`],
    ['%a{1000}b%', `%${'a'.repeat(1000)}b%`],
    ['%a{500}ba{500}%', `%${'a'.repeat(500)}b${'a'.repeat(500)}%`],
  ];
  for (const kib of [128, 256, 512, 1024]) {
    const field = 'a'.repeat(kib * 1024);
    for (const [label, p] of patterns) {
      const m = compileWildcard(likeParts(p));
      add(
        'LIKE (one field)',
        label,
        kib * 1024,
        time(() => m(field), 5),
      );
    }
    // End to end: one CSV record holding the field, through the SQL engine.
    const csv = Buffer.from(`${field}\n`);
    const sql = "SELECT COUNT(*) FROM S3Object WHERE _1 LIKE '%a%a%a%a%a%a%a%b%'";
    let best = Infinity;
    for (let r = 0; r < RUNS; r++) {
      const t0 = performance.now();
      const request = { expression: sql, expressionType: 'SQL', input: { csv: {} }, output: { csv: {} } } as const;
      const frames = await runSelect(request, bufferSource(csv));
      for await (const _ of frames);
      best = Math.min(best, performance.now() - t0);
    }
    add('SELECT ... LIKE (runSelect, 1 record)', '%a%a%a%a%a%a%a%b%', kib * 1024, best);
  }
  oldRegExp('old RegExp, same LIKE', '%a%a%a%a%a%a%a%b', oldLikeRegExp('%a%a%a%a%a%a%a%b'));
}

function print() {
  const fmt = (ms: number) => {
    if (ms < 0.01) return `${(ms * 1000).toFixed(2)} us`;
    return ms < 10 ? `${ms.toFixed(3)} ms` : `${ms.toFixed(0)} ms`;
  };
  const header = ['table', 'pattern', 'input bytes', 'time', 'growth', 'ns/byte'];
  const lines = rows.map((r) => [
    r.table,
    r.pattern,
    String(r.size),
    fmt(r.ms),
    r.growth,
    ((r.ms * 1e6) / r.size).toFixed(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  lines.sort((a, b) => a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]) || Number(a[2]) - Number(b[2]));
  for (const l of lines) console.log(line(l));
}

console.error(`matching bench: best of ${RUNS}`);
policyTable();
await likeTable();
print();
