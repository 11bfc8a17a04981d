// Timestamps at the edges of their text, their arithmetic and their order (src/exec/timestamp.ts), through SQL:
// each field at its last valid value and one past it, leap years by each rule of the Gregorian calendar, offsets
// up to a minute short of a day, instants a fraction of a millisecond apart, and DATE_ADD / DATE_DIFF across the
// ends of months and years, both ways. Each text is a CSV field read with CAST, so a bad one is CastFailed (AWS
// s3-select-sql-reference-conversion.html: "CAST ... If the conversion fails, ... an error").
import { describe, expect, it } from 'vitest';
import { bufferSource } from '../src/formats/index.js';
import { runToEnd } from './helpers.js';

/** The CSV output of `SELECT <exprs> FROM S3Object` over CSV rows (no header; columns _1, _2, ...). */
async function select(exprs: string, rows: string[][]): Promise<{ records: string; error?: string }> {
  const input = Buffer.from(rows.map((r) => `${r.join(',')}\n`).join(''));
  const out = await runToEnd(
    {
      expression: `SELECT ${exprs} FROM S3Object`,
      input: { compressionType: 'NONE', csv: { fileHeaderInfo: 'NONE' } },
      output: { csv: {} },
    },
    bufferSource(input),
  );
  return { records: out.records, error: out.error };
}

/** One value per text, each from its own query, so that one failure does not hide the others. */
async function each(expr: string, texts: string[]): Promise<string[]> {
  return Promise.all(
    texts.map(async (t) => {
      const out = await select(expr, [[t]]);
      return out.error ?? out.records.trimEnd();
    }),
  );
}

describe('timestamp text', () => {
  it('takes each field up to its last valid value: month 12, the last day of the month, 23:59:59, offsets of ±23:59', async () => {
    const texts = [
      '2021-12-31T23:59:59Z',
      '2021-04-30T',
      '2021-02-28T',
      '2021-01-31T00:00:00+23:59',
      '2021-01-31T00:00:00-23:59',
      '2021-01-01T00:00:00.5-00:01',
      ' 2021-01-01T00:00z ',
    ];
    expect(await each('CAST(_1 AS TIMESTAMP)', texts)).toEqual([
      '2021-12-31T23:59:59Z',
      '2021-04-30',
      '2021-02-28',
      '2021-01-31T00:00:00+23:59',
      '2021-01-31T00:00:00-23:59',
      '2021-01-01T00:00:00.5-00:01',
      '2021-01-01T00:00Z',
    ]);
  });

  it('refuses each field one past its range (CastFailed)', async () => {
    const texts = [
      '2021-00-01T',
      '2021-13-01T',
      '2021-01-00T',
      '2021-01-32T',
      '2021-04-31T',
      '2021-01-01T24:00Z',
      '2021-01-01T00:60Z',
      '2021-01-01T00:00:60Z',
      '2021-01-01T00:00+24:00',
      '2021-01-01T00:00-24:00',
    ];
    expect(await each('CAST(_1 AS TIMESTAMP)', texts)).toEqual(texts.map(() => 'CastFailed'));
  });

  it('has February 29 in years divisible by 4, except centuries not divisible by 400', async () => {
    const texts = ['2020-02-29T', '2000-02-29T', '1600-02-29T', '2021-02-29T', '1900-02-29T', '2100-02-29T'];
    expect(await each('CAST(_1 AS TIMESTAMP)', texts)).toEqual([
      '2020-02-29',
      '2000-02-29',
      '1600-02-29',
      'CastFailed',
      'CastFailed',
      'CastFailed',
    ]);
  });

  it('refuses digits short of a field, a fraction point without digits, a time without an offset, text around it', async () => {
    // A year or a month without its T is no Ion timestamp (amazon-ion.github.io/ion-docs/docs/spec.html#timestamp).
    const texts = [
      '2021',
      '2021-01',
      '202-01-01T',
      '2021-1-01T',
      '2021-01-1T',
      '2021-01-01T1:00Z',
      '2021-01-01T01:0Z',
      '2021-01-01T01:00:0Z',
      '2021-01-01T01:00:00.Z',
      '2021-01-01T01:00',
      '2021-01-01T01:00:00',
      '2021-01-01T01:00+1:00',
      '2021-01-01T01:00+01:0',
      '2021-01-01T01:00+0100',
      'x2021T',
      '2021Tx',
      '2021-01-01T01:00Zx',
    ];
    expect(await each('CAST(_1 AS TIMESTAMP)', texts)).toEqual(texts.map(() => 'CastFailed'));
  });
});

describe('timestamp order', () => {
  it('tells apart instants less than a millisecond apart, and equal instants written apart', async () => {
    const pairs = [
      ['2021-01-01T00:00:00.0001Z', '2021-01-01T00:00:00.0002Z'],
      ['2021-01-01T00:00:00.0002Z', '2021-01-01T00:00:00.0001Z'],
      ['2021-01-01T00:00:00.0001Z', '2021-01-01T00:00:00.000100Z'],
      ['2021-01-01T00:00:00.001Z', '2021-01-01T00:00:00.0019Z'],
      ['2021-01-01T01:00:00.0005+01:00', '2021-01-01T00:00:00.0005Z'],
      ['2021-01-01T00:00:00.999Z', '2021-01-01T00:00:01Z'],
    ];
    const t = (i: number) => `CAST(_${i} AS TIMESTAMP)`;
    const out = await select(`${t(1)} < ${t(2)}, ${t(1)} = ${t(2)}, ${t(1)} > ${t(2)}`, pairs);
    expect(out.error).toBeUndefined();
    expect(out.records).toBe(
      [
        'true,false,false',
        'false,false,true',
        'false,true,false',
        'true,false,false',
        'false,true,false',
        'true,false,false',
      ]
        .map((l) => `${l}\n`)
        .join(''),
    );
  });

  it('DATE_ADD of a date is equal to the date it gives, whatever the fraction it does not keep', async () => {
    const out = await select(
      "DATE_ADD(day, 1, CAST(_1 AS TIMESTAMP)) = CAST('2021-01-02T' AS TIMESTAMP), DATE_ADD(minute, 1, CAST(_1 AS TIMESTAMP)) = CAST('2021-01-01T00:01-00:00' AS TIMESTAMP)",
      [['2021-01-01T']],
    );
    expect(out).toEqual({ records: 'true,true\n', error: undefined });
  });
});

describe('timestamp arithmetic', () => {
  it('DATE_ADD of months crosses years both ways and keeps the day where the month has it', async () => {
    const cases: [number, string, string][] = [
      [-3, '2021-02-15T', '2020-11-15'],
      [-14, '2021-02-15T', '2019-12-15'],
      [-12, '2021-03-31T', '2020-03-31'],
      [11, '2021-02-28T', '2022-01-28'],
      [-1, '2021-01-31T10:00Z', '2020-12-31T10:00Z'],
      [1, '2021-01-31T23:30+05:00', '2021-02-28T23:30+05:00'],
      [-1, '2021-03-01T00:30-05:00', '2021-02-01T00:30-05:00'],
    ];
    const out = await Promise.all(
      cases.map(async ([n, t]) =>
        (await select(`DATE_ADD(month, ${n}, CAST(_1 AS TIMESTAMP))`, [[t]])).records.trimEnd(),
      ),
    );
    expect(out).toEqual(cases.map((c) => c[2]));
  });

  it('DATE_ADD gives the years 0001 to 9999 and refuses to leave them (beyond AWS: IllegalSqlFunctionArgument)', async () => {
    const adds = [
      'DATE_ADD(year, -2019, CAST(_1 AS TIMESTAMP))',
      'DATE_ADD(year, 7979, CAST(_1 AS TIMESTAMP))',
      "DATE_ADD(minute, -1, CAST('0001-01-01T00:01+00:01' AS TIMESTAMP))",
      'DATE_ADD(year, -2020, CAST(_1 AS TIMESTAMP))',
      'DATE_ADD(year, 7980, CAST(_1 AS TIMESTAMP))',
      "DATE_ADD(second, -1, CAST('0001-01-01T00:00:00+00:00' AS TIMESTAMP))",
      'DATE_ADD(day, 1e300, CAST(_1 AS TIMESTAMP))',
      'DATE_ADD(month, -1e300, CAST(_1 AS TIMESTAMP))',
    ];
    const out = await Promise.all(adds.map(async (a) => (await each(a, ['2020T']))[0]));
    expect(out).toEqual([
      '0001T',
      '9999T',
      '0001-01-01T00:00+00:01',
      'IllegalSqlFunctionArgument',
      'IllegalSqlFunctionArgument',
      'IllegalSqlFunctionArgument',
      'IllegalSqlFunctionArgument',
      'IllegalSqlFunctionArgument',
    ]);
  });

  it('DATE_DIFF of months counts whole months only, in either direction', async () => {
    const pairs: [string, string, number][] = [
      ['2021-01-15T', '2021-03-15T', 2],
      ['2021-03-15T', '2021-01-15T', -2],
      ['2021-03-30T', '2021-01-31T', -1],
      ['2021-01-31T', '2021-03-30T', 1],
      ['2021-01-20T', '2021-01-10T', 0],
      ['2021-01-10T', '2021-01-20T', 0],
      ['2021-01-15T12:00Z', '2021-02-15T11:59Z', 0],
      ['2021-02-15T11:59Z', '2021-01-15T12:00Z', 0],
    ];
    const out = await select(
      'DATE_DIFF(month, CAST(_1 AS TIMESTAMP), CAST(_2 AS TIMESTAMP))',
      pairs.map(([a, b]) => [a, b]),
    );
    expect(out.error).toBeUndefined();
    expect(out.records).toBe(pairs.map((p) => `${p[2]}\n`).join(''));
  });

  it('DATE_ADD keeps the finer of the precisions: seconds written stay written', async () => {
    const out = await select(
      'DATE_ADD(hour, 1, CAST(_1 AS TIMESTAMP)), DATE_ADD(minute, 1, CAST(_1 AS TIMESTAMP)), DATE_ADD(year, 1, CAST(_1 AS TIMESTAMP))',
      [['2021-01-01T00:00:00Z'], ['2021-01-01T00:00Z'], ['2021-01-01T00:00:00.5Z']],
    );
    expect(out.records).toBe(
      '2021-01-01T01:00:00Z,2021-01-01T00:01:00Z,2022-01-01T00:00:00Z\n' +
        '2021-01-01T01:00Z,2021-01-01T00:01Z,2022-01-01T00:00Z\n' +
        '2021-01-01T01:00:00.5Z,2021-01-01T00:01:00.5Z,2022-01-01T00:00:00.5Z\n',
    );
  });

  it('DATE_DIFF of seconds counts the milliseconds written: whole seconds only, in either direction', async () => {
    const pairs: [string, string, number][] = [
      ['2021-01-01T00:00:00.9Z', '2021-01-01T00:00:01.1Z', 0],
      ['2021-01-01T00:00:01.1Z', '2021-01-01T00:00:00.9Z', 0],
      ['2021-01-01T00:00:00.1Z', '2021-01-01T00:00:01.9Z', 1],
      ['2021-01-01T00:00:00.999Z', '2021-01-01T00:00:02Z', 1],
    ];
    const out = await select(
      'DATE_DIFF(second, CAST(_1 AS TIMESTAMP), CAST(_2 AS TIMESTAMP))',
      pairs.map(([a, b]) => [a, b]),
    );
    expect(out.records).toBe(pairs.map((p) => `${p[2]}\n`).join(''));
  });

  it('DATE_DIFF of years counts whole years only, in either direction', async () => {
    const pairs: [string, string, number][] = [
      ['2020-06-15T', '2021-06-14T', 0],
      ['2020-06-15T', '2021-06-15T', 1],
      ['2021-06-14T', '2020-06-15T', 0],
      ['2021-06-15T', '2020-06-15T', -1],
    ];
    const out = await select(
      'DATE_DIFF(year, CAST(_1 AS TIMESTAMP), CAST(_2 AS TIMESTAMP))',
      pairs.map(([a, b]) => [a, b]),
    );
    expect(out.records).toBe(pairs.map((p) => `${p[2]}\n`).join(''));
  });
});
