// Beyond AWS (the cairn dialect): what GROUP BY, ORDER BY and DISTINCT hold is bounded, and ORDER BY ... LIMIT
// picks the right rows out of many (checked against a full sort). Output semantics are in golden/beyond-aws.case.
import { describe, expect, it } from 'vitest';
import { bufferSource, type SelectRequest } from '../src/index.js';
import { MAX_HELD_ROWS } from '../src/exec/ordering.js';
import { runToEnd } from './helpers.js';
import { seededRandom } from '../../test/helpers/random.js';

function request(expression: string): SelectRequest {
  return { expression, dialect: 'cairn', input: { json: { type: 'LINES' } }, output: { json: {} } };
}

function lines(n: number, row: (i: number) => object): Buffer {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(JSON.stringify(row(i)));
  return Buffer.from(`${out.join('\n')}\n`);
}

describe('beyond AWS: bounded state', () => {
  const many = lines(MAX_HELD_ROWS + 1, (i) => ({ k: i }));

  it('GROUP BY over more groups than the bound fails with UnsupportedSqlOperation', async () => {
    const r = await runToEnd(request('SELECT s.k, COUNT(*) FROM S3Object s GROUP BY s.k'), bufferSource(many));
    expect(r.error).toBe('UnsupportedSqlOperation');
    // The same rows in fewer groups are fine.
    const ok = await runToEnd(request('SELECT COUNT(*) AS n FROM S3Object s GROUP BY s.k % 7'), bufferSource(many));
    expect(ok.error).toBeUndefined();
    expect(ok.records.trim().split('\n').length).toBe(7);
  });

  it('DISTINCT and ORDER BY without LIMIT over more rows than the bound fail', async () => {
    for (const sql of ['SELECT DISTINCT s.k FROM S3Object s', 'SELECT s.k FROM S3Object s ORDER BY s.k']) {
      const r = await runToEnd(request(sql), bufferSource(many));
      expect(r.error, sql).toBe('UnsupportedSqlOperation');
    }
  });

  it('ORDER BY ... LIMIT k holds k rows: the top 10 of the rows, ties in input order', async () => {
    const random = seededRandom();
    const values = Array.from({ length: MAX_HELD_ROWS * 2 }, () => random.int(0, 1000));
    const data = lines(values.length, (i) => ({ i, v: values[i] }));
    const r = await runToEnd(request('SELECT s.i, s.v FROM S3Object s ORDER BY s.v DESC LIMIT 10'), bufferSource(data));
    expect(r.error).toBeUndefined();
    const want = values
      .map((v, i) => ({ i, v }))
      .sort((a, b) => b.v - a.v || a.i - b.i)
      .slice(0, 10)
      .map((x) => JSON.stringify(x));
    expect(r.records.trim().split('\n')).toEqual(want);
  });
});
