// Beyond AWS (the cairn dialect): what GROUP BY, ORDER BY and DISTINCT hold is bounded, and ORDER BY ... LIMIT
// picks the right rows out of many (checked against a full sort). Output semantics are in golden/beyond-aws.case.
import { describe, expect, it } from 'vitest';
import { bufferSource, type SelectRequest } from '../src/index.js';
import { HeldBudget, heldKey, MAX_HELD_BYTES, MAX_HELD_ROWS, TopK } from '../src/exec/ordering.js';
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

  it('DISTINCT holds exactly MAX_HELD_ROWS rows', async () => {
    const most = lines(MAX_HELD_ROWS, (i) => ({ k: i }));
    const r = await runToEnd(request('SELECT DISTINCT s.k FROM S3Object s'), bufferSource(most));
    expect(r.error).toBeUndefined();
    expect(r.records.trim().split('\n').length).toBe(MAX_HELD_ROWS);
  });

  // Each line is {"t":"<16347 characters>"} and its newline: 16356 characters, which the bound counts as
  // 2 * 16356 + 64 = 32776 bytes. 2047 of them fit in 64 MiB, 2048 do not. (Lines under 16384 characters:
  // V8 hashes longer strings by their length alone, see the DISTINCT case below.)
  const wide = lines(2048, (i) => ({ t: String(i).padStart(16347, '0') }));
  const first = (n: number) => Buffer.from(`${wide.toString().split('\n').slice(0, n).join('\n')}\n`);

  it('DISTINCT holds at most MAX_HELD_BYTES of text, counted as 2 bytes a character and 64 a row', async () => {
    expect(MAX_HELD_BYTES).toBe(64 * 1024 * 1024);
    const sql = 'SELECT DISTINCT s.t FROM S3Object s';
    const ok = await runToEnd(request(sql), bufferSource(first(2047)));
    expect(ok.error).toBeUndefined();
    expect(ok.records.split('\n')[0].length + 1).toBe(16356);
    expect(ok.records.trim().split('\n').length).toBe(2047);
    const r = await runToEnd(request(sql), bufferSource(wide));
    expect(r.error).toBe('UnsupportedSqlOperation');
  });

  it('ORDER BY ... LIMIT gives back what a row it drops held: rows and bytes stay those of the k kept', async () => {
    // Every row sorts before those held, so each one displaces the last: 100001 rows of which 3 are held, and
    // 2048 wide rows (64 MiB in all) of which one is held.
    const r = await runToEnd(request('SELECT s.k FROM S3Object s ORDER BY s.k DESC LIMIT 3'), bufferSource(many));
    expect(r.error).toBeUndefined();
    expect(r.records).toBe(`{"k":${MAX_HELD_ROWS}}\n{"k":${MAX_HELD_ROWS - 1}}\n{"k":${MAX_HELD_ROWS - 2}}\n`);
    const w = await runToEnd(request('SELECT s.t FROM S3Object s ORDER BY s.t DESC LIMIT 1'), bufferSource(wide));
    expect(w.error).toBeUndefined();
    expect(w.records).toBe(`{"t":"${'2047'.padStart(16347, '0')}"}\n`);
  });

  it('DISTINCT, GROUP BY and DISTINCT with ORDER BY tell apart lines of one length past 16383 characters', async () => {
    // V8 hashes such strings by their length alone, so they are held by a digest (heldKey): the digest's key
    // is short, tells texts apart, and never equals the key of a short text.
    const long = (i: number) => String(i).padStart(17_000, '0');
    expect(heldKey(long(1)).length).toBeLessThan(100);
    expect(heldKey(long(1))).toBe(heldKey(long(1)));
    expect(heldKey(long(1))).not.toBe(heldKey(long(2)));
    expect(heldKey(heldKey(long(1)))).not.toBe(heldKey(long(1)));
    expect(heldKey('a'.repeat(16383))).toBe(`=${'a'.repeat(16383)}`);
    const twice = lines(600, (i) => ({ t: long(i % 300) }));
    for (const sql of [
      'SELECT DISTINCT s.t FROM S3Object s',
      'SELECT s.t FROM S3Object s GROUP BY s.t',
      'SELECT DISTINCT s.t FROM S3Object s ORDER BY s.t LIMIT 300',
    ]) {
      const r = await runToEnd(request(sql), bufferSource(twice));
      expect(r.error, sql).toBeUndefined();
      expect(r.records, sql).toBe(Array.from({ length: 300 }, (_, i) => `{"t":"${long(i)}"}\n`).join(''));
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

// The accounting itself, at the byte: a row costs 2 bytes a character plus 64, a query may hold exactly the
// bound, and a row given back frees exactly what it took (a drift of even one byte a row shows here).
describe('beyond AWS: what a held row costs', () => {
  /** Characters of one row that fills MAX_HELD_BYTES to the byte. */
  const FILL = (MAX_HELD_BYTES - 64) / 2;
  const refused = (f: () => void) => expect(f).toThrow(expect.objectContaining({ code: 'UnsupportedSqlOperation' }));

  it('a budget holds MAX_HELD_BYTES exactly, and one byte more is refused', () => {
    const b = new HeldBudget('DISTINCT');
    b.take(FILL);
    refused(() => b.take(0));
    refused(() => new HeldBudget('DISTINCT').take(FILL + 1));
    const two = new HeldBudget('GROUP BY');
    two.take(FILL / 2 - 16);
    two.take(FILL / 2 - 16);
    refused(() => two.take(0));
  });

  it('a row given back frees exactly the bytes and the row it took', () => {
    const b = new HeldBudget('ORDER BY');
    for (let i = 0; i < 3; i++) {
      b.take(FILL);
      b.give(FILL);
    }
    b.take(FILL);
    refused(() => b.take(0));
    const rows = new HeldBudget('ORDER BY');
    for (let i = 0; i < MAX_HELD_ROWS; i++) rows.take(0);
    rows.give(0);
    rows.take(0);
    refused(() => rows.take(0));
  });

  it('ORDER BY ... LIMIT counts a row that displaces another at its own size', () => {
    // k = 2: two empty rows (64 bytes each), then a wide row displaces one: 64 + (2 * chars + 64) held.
    const top = (chars: number) => {
      const t = new TopK(2, [false], false);
      t.add(['y'], '');
      t.add(['z'], '');
      expect(t.wants(['a'])).toBe(true);
      t.add(['a'], 'x'.repeat(chars));
      return t;
    };
    const fits = top(FILL - 32);
    expect(fits.drain()).toEqual(['x'.repeat(FILL - 32), '']);
    refused(() => top(FILL - 31));
    // The row given back is the one displaced ('z', the last in order), and what it held is freed: an empty
    // row displacing 'y' then fits, a one-character one does not.
    const again = top(FILL - 32);
    again.add(['b'], '');
    expect(again.drain()).toEqual(['x'.repeat(FILL - 32), '']);
    const more = top(FILL - 32);
    refused(() => more.add(['b'], 'c'));
  });
});
