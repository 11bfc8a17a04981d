// Hostile SQL: random token soups and random bytes must end in a SelectError with an AWS code (or parse),
// never in another exception; and whatever parses must also plan and run without a crash.
import { describe, expect, it } from 'vitest';
import { bufferSource } from '../src/formats/index.js';
import { parseSql, SelectError } from '../src/index.js';
import { runToEnd } from './helpers.js';
import { seededRandom } from '../../test/helpers/random.js';

const VOCAB = [
  'SELECT',
  'FROM',
  'S3Object',
  'WHERE',
  'LIMIT',
  'AS',
  'AND',
  'OR',
  'NOT',
  'LIKE',
  'ESCAPE',
  'BETWEEN',
  'IN',
  'IS',
  'NULL',
  'MISSING',
  'TRUE',
  'FALSE',
  'CASE',
  'WHEN',
  'THEN',
  'ELSE',
  'END',
  'CAST',
  'INT',
  'STRING',
  'TIMESTAMP',
  'COUNT',
  'SUM',
  'AVG',
  'MIN',
  'MAX',
  'COALESCE',
  'NULLIF',
  'DATE_ADD',
  'DATE_DIFF',
  'EXTRACT',
  'TO_STRING',
  'TO_TIMESTAMP',
  'UTCNOW',
  'CHAR_LENGTH',
  'LOWER',
  'UPPER',
  'SUBSTRING',
  'TRIM',
  'LEADING',
  'FOR',
  'year',
  'hour',
  's',
  '_1',
  '_2',
  'name',
  '"Name"',
  "'abc'",
  "'%a_'",
  '`2020-01-01T`',
  '`bad`',
  '1',
  '0',
  '-3',
  '2.5',
  '(',
  ')',
  '[',
  ']',
  '[*]',
  '.',
  '.*',
  ',',
  '*',
  '+',
  '-',
  '/',
  '%',
  '=',
  '<>',
  '!=',
  '<',
  '<=',
  '>',
  '>=',
  '||',
  'date',
  'GROUP',
];

function soup(r: () => number, prefix: string): string {
  const n = 1 + Math.floor(r() * 14);
  const parts = [prefix];
  for (let i = 0; i < n; i++) parts.push(VOCAB[Math.floor(r() * VOCAB.length)]);
  return parts.join(' ');
}

/** A random, mostly well-formed expression (random types, so many fail at run time with AWS codes). */
function expr(r: () => number, d: number): string {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  if (d <= 0 || r() < 0.25) {
    return pick([
      '_1',
      '_2',
      's._1',
      's.b',
      '1',
      '-2',
      '2.5',
      "'x'",
      "'12'",
      'NULL',
      'MISSING',
      'TRUE',
      '`2020-01-02T03:04Z`',
      "''",
    ]);
  }
  const a = () => expr(r, d - 1);
  switch (Math.floor(r() * 16)) {
    case 0:
      return `${a()} ${pick(['+', '-', '*', '/', '%', '||'])} ${a()}`;
    case 1:
      return `${a()} ${pick(['=', '<>', '<', '<=', '>', '>='])} ${a()}`;
    case 2:
      return `${a()} ${pick(['AND', 'OR'])} ${a()}`;
    case 3:
      return `NOT ${a()}`;
    case 4:
      return `${a()} ${pick(['', 'NOT '])}LIKE ${pick(["'%1%'", "'_'", a()])}${r() < 0.3 ? " ESCAPE '!'" : ''}`;
    case 5:
      return `${a()} BETWEEN ${a()} AND ${a()}`;
    case 6:
      return `${a()} IN (${a()}, ${a()})`;
    case 7:
      return `${a()} IS ${pick(['', 'NOT '])}${pick(['NULL', 'MISSING'])}`;
    case 8:
      return `CASE WHEN ${a()} THEN ${a()} ELSE ${a()} END`;
    case 9:
      return `CASE ${a()} WHEN ${a()} THEN ${a()} END`;
    case 10:
      return `CAST(${a()} AS ${pick(['INT', 'FLOAT', 'DECIMAL', 'STRING', 'BOOL', 'TIMESTAMP'])})`;
    case 11:
      return `${pick(['LOWER', 'UPPER', 'CHAR_LENGTH', 'TO_TIMESTAMP'])}(${a()})`;
    case 12:
      return `${pick(['COALESCE', 'NULLIF'])}(${a()}, ${a()})`;
    case 13:
      return pick([
        `SUBSTRING(${a()}, ${a()})`,
        `SUBSTRING(${a()} FROM ${a()} FOR ${a()})`,
        `TRIM(${a()})`,
        `TRIM(LEADING ${a()} FROM ${a()})`,
      ]);
    case 14:
      return pick([
        `DATE_ADD(${pick(['year', 'month', 'day', 'hour'])}, ${a()}, ${a()})`,
        `DATE_DIFF(day, ${a()}, ${a()})`,
        `EXTRACT(${pick(['year', 'second', 'timezone_hour'])} FROM ${a()})`,
        `TO_STRING(${a()}, ${pick(["'yyyy-MM-dd'", "'h a'", a()])})`,
      ]);
    default:
      return `(${a()})`;
  }
}

describe('hostile SQL', () => {
  it('random well-formed queries run to a result or an AWS error, never an internal one', async () => {
    const r = seededRandom(99).next;
    const csv = Buffer.from('1,x\n2,\n12,2020-01-01T\n');
    const json = Buffer.from('{"_1":1,"b":"x"}\n{"_1":"2","b":null}\n{"b":[1,2]}\n');
    let ok = 0;
    for (let i = 0; i < 600; i++) {
      const agg = r() < 0.15;
      const sql = agg
        ? `SELECT ${['COUNT', 'SUM', 'MIN', 'MAX', 'AVG'][i % 5]}(${expr(r, 2)}) FROM S3Object s WHERE ${expr(r, 3)}`
        : `SELECT ${expr(r, 3)}, ${expr(r, 2)} FROM S3Object s WHERE ${expr(r, 3)} LIMIT ${i % 4}`;
      for (const [input, data] of [
        [{ csv: {} }, csv],
        [{ json: { type: 'LINES' as const } }, json],
      ] as const) {
        const out = await runToEnd({ expression: sql, input, output: { json: {} } }, bufferSource(data));
        if (out.error === 'InternalError') throw new Error(`${sql}: InternalError`);
        if (!out.error) ok++;
      }
    }
    expect(ok).toBeGreaterThan(100);
  });

  it('random token sequences give a SelectError or a query that runs', async () => {
    const r = seededRandom(20241125).next;
    const data = bufferSource(Buffer.from('a,b\n1,x\n2,y\n'));
    let parsed = 0;
    for (let i = 0; i < 3000; i++) {
      const sql = soup(r, r() < 0.7 ? 'SELECT' : r() < 0.5 ? 'SELECT s._1 FROM S3Object s WHERE' : '');
      try {
        parseSql(sql);
        parsed++;
      } catch (e) {
        if (!(e instanceof SelectError)) throw new Error(`${sql}: ${(e as Error).stack}`);
        continue;
      }
      const out = await runToEnd({ expression: sql, input: { csv: {} }, output: { json: {} } }, data);
      if (out.error === 'InternalError') throw new Error(`${sql}: InternalError`);
    }
    expect(parsed).toBeGreaterThan(0);
  });

  it('random bytes give a SelectError', () => {
    const r = seededRandom(7).next;
    for (let i = 0; i < 2000; i++) {
      const len = Math.floor(r() * 60);
      let s = 'SELECT ';
      for (let j = 0; j < len; j++) s += String.fromCharCode(Math.floor(r() * 128));
      try {
        parseSql(s);
      } catch (e) {
        if (!(e instanceof SelectError)) throw new Error(`${JSON.stringify(s)}: ${(e as Error).stack}`);
      }
    }
  });
});
