// The function registry (src/exec/functions.ts): a declaration that does not match its implementation does not
// compile (the @ts-expect-error lines fail `npm run typecheck` the day the registry stops catching them), the
// parser takes arities from the registry, and the one rule of NULL and MISSING holds for every strict function.
import { describe, expect, it } from 'vitest';
import { defineFunction, FUNCTIONS, optional, PARAMS } from '../src/exec/functions.js';
import { parseSql, SelectError } from '../src/index.js';
import { bufferSource } from '../src/formats/index.js';
import { runToEnd } from './helpers.js';

const { STRING, INT } = PARAMS;

describe('function declarations', () => {
  it('are checked against their implementations by the compiler', () => {
    const ok = [
      defineFunction('int', [STRING], (s) => s.length),
      defineFunction('string', [STRING, INT, optional(INT)], (s, a, n) => s.slice(a, n)),
      // @ts-expect-error the result is declared a string, the implementation gives a number
      defineFunction('string', [STRING], (s) => s.length),
      // @ts-expect-error the first parameter is read as INT, the implementation takes a string
      defineFunction('string', [INT], (s: string) => s),
      // @ts-expect-error an optional parameter may be undefined, the implementation does not allow it
      defineFunction('string', [STRING, optional(INT)], (s: string, n: number) => s.slice(n)),
    ];
    expect(ok.map((f) => [f.min, f.max])).toEqual([
      [1, 1],
      [2, 3],
      [1, 1],
      [1, 1],
      [1, 2],
    ]);
  });

  it('give the parser its arities', () => {
    for (const [name, f] of Object.entries(FUNCTIONS)) {
      if (name === 'substring' || name === 'trim' || name === 'extract') continue; // their own syntax
      const args = (n: number) => Array.from({ length: n }, () => "'x'").join(', ');
      if (f.max < Infinity) {
        expect(() => parseSql(`SELECT ${name}(${args(f.max + 1)}) FROM S3Object`), name).toThrow(SelectError);
      }
      if (f.min > 0) {
        expect(() => parseSql(`SELECT ${name}(${args(f.min - 1)}) FROM S3Object`), name).toThrow(SelectError);
      }
    }
  });

  it('pass NULL and MISSING through: MISSING wins', async () => {
    const sql = 'SELECT LOWER(s.a) AS l, SUBSTRING(s.a, s.n) AS sub, DATE_ADD(day, s.n, s.t) AS d FROM S3Object s';
    const input = Buffer.from('{"a":null,"n":1,"t":"2020T"}\n{"n":null,"t":"2020T"}\n');
    const out = await runToEnd(
      { expression: sql, input: { compressionType: 'NONE', json: { type: 'LINES' } }, output: { json: {} } },
      bufferSource(input),
    );
    expect(out.records).toBe('{"l":null,"sub":null,"d":"2020-01-02"}\n{"d":null}\n');
  });

  it('pass NULL and MISSING through from every argument of two and three (src/exec/nulls.ts)', async () => {
    // Each expression's arguments take every mix of present, NULL and MISSING, the others' staying present.
    const groups = [
      { as: 'sub', sql: 'SUBSTRING(s.a, s.b, s.c)', args: { a: 'hello', b: 2, c: 3 }, value: 'ell' },
      { as: 'btw', sql: 's.x BETWEEN s.lo AND s.hi', args: { x: 5, lo: 1, hi: 9 }, value: true },
      { as: 'plus', sql: 's.p + s.q', args: { p: 1, q: 2 }, value: 3 },
    ];
    const base = Object.assign({}, ...groups.map((g) => g.args)) as Record<string, unknown>;
    const rows: string[] = [];
    const expected: string[] = [];
    for (const g of groups) {
      const keys = Object.keys(g.args);
      for (let mix = 0; mix < 3 ** keys.length; mix++) {
        const row: Record<string, unknown> = { ...base };
        // 0 present, 1 NULL, 2 MISSING, per argument.
        const states = keys.map((_, i) => Math.floor(mix / 3 ** i) % 3);
        keys.forEach((k, i) => {
          if (states[i] === 1) row[k] = null;
          if (states[i] === 2) delete row[k];
        });
        rows.push(JSON.stringify(row));
        const result = states.includes(2) ? undefined : states.includes(1) ? null : g.value;
        expected.push(JSON.stringify(Object.fromEntries(groups.map((h) => [h.as, h === g ? result : h.value]))));
      }
    }
    const sql = `SELECT ${groups.map((g) => `${g.sql} AS ${g.as}`).join(', ')} FROM S3Object s`;
    const out = await runToEnd(
      { expression: sql, input: { compressionType: 'NONE', json: { type: 'LINES' } }, output: { json: {} } },
      bufferSource(Buffer.from(`${rows.join('\n')}\n`)),
    );
    expect(out.error).toBeUndefined();
    expect(out.records).toBe(`${expected.join('\n')}\n`);
  });
});
