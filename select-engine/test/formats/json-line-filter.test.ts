// The native JSON LINES line filter (formats/line-filter.ts, native/src/select_json.rs): lines where WHERE's first
// conjunct (a top-level field compared with a number, equal to a text or LIKE a prefix) is certainly false are
// dropped before decoding. Checked against the reader alone: `WHERE 1 = 1 AND <the same WHERE>` starts with a
// conjunct the filter does not take, so it runs without it, and both must give the same records and the same
// error over random JSON lines (nested objects holding the key, escaped keys and values, non-ASCII, duplicate
// keys, keys differing in case, numbers as text, decimals such as 2.50, null, arrays, bad lines, blank lines, a
// byte order mark, CRLF), LIMIT, ScanRange and chunk sizes that cut lines anywhere.
import { describe, expect, it } from 'vitest';
import { bufferSource, scanJson } from '../../src/formats/index.js';
import { collect, newStats } from './helpers.js';
import type { SelectRequest } from '../../src/request.js';
import { parseSql } from '../../src/sql/to-ast.js';
import { jsonLineTest } from '../../src/plan/conjuncts.js';
import { runToEnd } from '../helpers.js';
import { MAX_JSON_DEPTH } from '../../src/formats/errors.js';
import { seededRandom, type Random } from '../../../test/helpers/random.js';

const WORDS = ['red', 'reddish', 'Red', 'blue', 'bl', '', 'réd', 'r\\u0065d', 'a\\"b', 'x\\ny'];

function value(r: Random): string {
  const n = `${r.int(-5, 30)}${r.int(0, 2) ? `.${r.int(0, 100)}` : ''}`;
  const forms = [
    () => n,
    () => n,
    () => n,
    () => '2.5',
    () => '2.50',
    () => '10',
    () => '1e1',
    () => '1.0E1',
    () => '-0',
    () => '9'.repeat(r.int(15, 25)),
    () => `"${n}"`,
    () => `"${WORDS[r.int(0, WORDS.length)]}"`,
    () => `"${WORDS[r.int(0, WORDS.length)]}"`,
    () => `"${WORDS[r.int(0, WORDS.length)]}"`,
    () => 'null',
    () => 'true',
    () => `[${n}]`,
    () => `{"v":${n}}`,
  ];
  return forms[r.int(0, forms.length)]();
}

const KEYS = ['v', 'v', 'v', 'V', 'w', '\\u0076', 'vé', 'x'];

function line(r: Random, bad: boolean): string {
  const kind = r.int(bad ? 0 : 5, 30);
  if (kind === 0) return '{"v":1,}';
  if (kind === 1) return '{v:1}';
  if (kind === 2) return `{"v":${value(r)}`; // not JSON: an error, unless LIMIT comes first
  if (kind === 3) return `[{"v":${value(r)}}]`;
  if (kind === 4) return `{"v":${value(r)}} {"v":1}`;
  if (kind === 5) return '';
  if (kind === 6) return '  ';
  const fields = Array.from({ length: r.int(0, 4) }, () => `"${KEYS[r.int(0, KEYS.length)]}":${value(r)}`);
  if (r.int(0, 4) === 0) fields.push(`"n":{"v":${value(r)},"deep":[{"v":${value(r)}}]}`);
  return `{${fields.join(r.int(0, 5) === 0 ? ' , ' : ',')}}`;
}

const OPS = ['=', '<>', '<', '<=', '>', '>='];
const TESTS = [
  (c: string, r: Random) =>
    `s.${c} ${OPS[r.int(0, OPS.length)]} ${['2.5', '10', '0', '-3', '25.25', '1e1'][r.int(0, 6)]}`,
  (c: string, r: Random) => `${['2.50', '7', '0.5'][r.int(0, 3)]} ${OPS[r.int(0, OPS.length)]} s.${c}`,
  (c: string, r: Random) => `s.${c} = '${['red', 'blue', '', 'réd', 'a"b', '10'][r.int(0, 6)]}'`,
  (c: string, r: Random) => `'${['red', 'bl'][r.int(0, 2)]}' = s.${c}`,
  (c: string, r: Random) => `s.${c} LIKE '${['red', 'bl', '', 'r_d', 'ré'][r.int(0, 5)]}%'`,
];

describe('JSON LINES line filter', () => {
  it('answers as the reader alone does, errors included', async () => {
    const r = seededRandom();
    for (let round = 0; round < 300; round++) {
      const bad = r.int(0, 5) === 0;
      const lines = Array.from({ length: r.int(1, 60) }, () => line(r, bad));
      const eol = r.int(0, 4) === 0 ? '\r\n' : '\n';
      const text = (r.int(0, 8) === 0 ? '\ufeff' : '') + lines.join(eol) + (r.int(0, 2) ? eol : '');
      const col = ['v', 'v', 'V', '"v"', '"V"', 'w'][r.int(0, 6)];
      const test = TESTS[r.int(0, TESTS.length)](col, r);
      const later = r.int(0, 3) === 0 ? ' AND CAST(s.x AS INT) > 5' : '';
      const limit = r.int(0, 4) === 0 ? ` LIMIT ${r.int(0, 5)}` : '';
      const bytes = Buffer.from(text);
      const scanRange =
        r.int(0, 5) === 0 ? { start: r.int(0, bytes.length), end: r.int(0, 2) ? undefined : bytes.length } : undefined;
      const request = (where: string): SelectRequest => ({
        expression: `SELECT * FROM S3Object s WHERE ${where}${limit}`,
        input: { json: { type: 'LINES' } },
        output: { json: {} },
        ...(scanRange && { scanRange }),
      });
      const chunk = [3, 17, 64, 4096][r.int(0, 4)];
      const filtered = await runToEnd(request(test + later), bufferSource(bytes, chunk));
      const plain = await runToEnd(request(`1 = 1 AND ${test}${later}`), bufferSource(bytes, chunk));
      const what = `${request(test + later).expression} chunk ${chunk} range ${JSON.stringify(scanRange)}\n${text}`;
      expect(filtered.error, what).toBe(plain.error);
      if (plain.error === undefined) expect(filtered.records, what).toBe(plain.records);
      else {
        // Records before an error are sent as far as the batches reached when it came: either may have sent more.
        const [short, long] = [filtered.records, plain.records].sort((a, b) => a.length - b.length);
        expect(long.startsWith(short), what).toBe(true);
      }
    }
  });

  it('leaves a line nested deeper than the reader allows to the reader, whose error stays', async () => {
    // The filter skips the other fields' values: one nested past MAX_JSON_DEPTH must still fail the query, as it
    // does without the filter (the line's own field, 2000, fails the test).
    const n = MAX_JSON_DEPTH + 1;
    const deep = [
      `{"v":2000,"n":${'['.repeat(n)}${']'.repeat(n)}}`,
      `{"v":2000,"n":${'{"m":'.repeat(n)}1${'}'.repeat(n)}}`,
    ];
    for (const line of deep) {
      const bytes = Buffer.from(`{"v":1}\n${line}\n{"v":2}\n`);
      for (const where of ['s.v < 1000', '1 = 1 AND s.v < 1000']) {
        const request: SelectRequest = {
          expression: `SELECT * FROM S3Object s WHERE ${where}`,
          input: { json: { type: 'LINES' } },
          output: { json: {} },
        };
        const { error } = await runToEnd(request, bufferSource(bytes, 4096));
        expect(error, `${where}: ${line.slice(0, 30)}`).toBe('JSONParsingError');
      }
    }
  });

  it('drops the lines it is sure of, and only those', async () => {
    // Two chunks: the first line of the second is the one the first chunk's end began (joined, then judged).
    const chunks = [
      '{"id":0,"v":1}\n{"id":1,',
      [
        '"v":2000}',
        '{"id":2,"v":2000}',
        '{"id":3,"v":"2000"}',
        '{"id":4,"v":5,"v":2000}',
        '{"id":5,"v":2000,"v":5}',
        '{"id":6,"n":{"v":1},"v":2000}',
        '{"id":7,"\\u0076":2000}',
        '{"id":8,"V":2000}',
        '{"id":9,"v":null}',
        '{"id":10,"v":999.99}',
        '{"id":11,"v":"red"}',
        '{"id":12,"v":"reddish"}',
        '{"id":13,"v":"r\\u0065d"}',
        '',
      ].join('\n'),
    ].map((c) => Buffer.from(c));
    const source = {
      size: chunks.reduce((n, c) => n + c.length, 0),
      read: async () => new Uint8Array(0),
      async *stream() {
        yield* chunks;
      },
    };
    const seen = async (where: string) => {
      const kept: number[] = [];
      const stmt = parseSql(`SELECT * FROM S3Object s WHERE ${where}`);
      const test = jsonLineTest(stmt.where, stmt.from.alias);
      expect(test, where).toBeDefined();
      const result = await scanJson(
        source,
        { type: 'LINES' },
        {
          stats: newStats(),
          filter: (rec) => (kept.push((rec as { id: number }).id), false),
          jsonLineTest: test,
        },
      );
      await collect(result);
      return kept.join(' ');
    };
    // 3: a string; 5: the last of duplicates passes; 8: no exact key (an unquoted name may match it); 9: null;
    // 11-13: strings. 1, 2, 4, 6, 7 are numbers beyond the bound (7's key is `v` once unescaped).
    expect(await seen('s.v < 1000')).toBe('0 3 5 8 9 10 11 12 13');
    // Text: numbers are left to the evaluator (AWS's rules compare a number with a text); 3 and 12 are other text.
    expect(await seen("s.v = 'red'")).toBe('0 1 2 4 5 6 7 8 9 10 11 13');
    expect(await seen("s.v LIKE 're%'")).toBe('0 1 2 4 5 6 7 8 9 10 11 12 13');
    expect(await seen("'red' = s.v")).toBe('0 1 2 4 5 6 7 8 9 10 11 13');
    expect(await seen('1000 > s.v')).toBe('0 3 5 8 9 10 11 12 13');
  });

  it('takes only a top-level field compared with a literal', () => {
    const of = (where: string) => {
      const stmt = parseSql(`SELECT * FROM S3Object s WHERE ${where}`);
      return jsonLineTest(stmt.where, stmt.from.alias);
    };
    expect(of('s.v < 10 AND s.w > 2')).toEqual({ name: 'v', judge: { kind: 'number', op: '<', bound: 10 } });
    expect(of('10 < s."V"')).toEqual({ name: 'V', judge: { kind: 'number', op: '>', bound: 10 } });
    expect(of("s.v LIKE 'a%'")).toEqual({ name: 'v', judge: { kind: 'prefix', text: 'a' } });
    for (const w of ['s.a.b < 10', "s.v <> 'x'", "s.v LIKE '%a'", "s.v LIKE 'a_%'", 's.v < s.w', '1 = 1 AND s.v < 3'])
      expect(of(w), w).toBeUndefined();
  });
});
