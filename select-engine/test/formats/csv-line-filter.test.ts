// The native CSV line filter (formats/csv/line-filter.ts, native/src/select_csv.rs): lines where WHERE's first
// conjunct `CAST(col AS INT) op n` is certainly false are dropped before decoding. Checked against the reader
// alone: `WHERE 1 = 1 AND <the same WHERE>` starts with a conjunct the filter does not take, so it runs
// without it, and both must give the same records and the same error over random CSV (quotes, CRLF, comments,
// empty and short lines, signs, spaces, long numbers, text, multi-byte characters), headers, ScanRange, LIMIT
// and chunk sizes that cut lines anywhere.
import { describe, expect, it } from 'vitest';
import { bufferSource, scanCsv, type CsvInputOptions } from '../../src/formats/index.js';
import { collect, newStats } from './helpers.js';
import { filteredChunks, HEADER_PENDING, lineFilterUsable } from '../../src/formats/csv/line-filter.js';
import { resolveDialect } from '../../src/formats/csv/dialect.js';
import type { SelectRequest } from '../../src/request.js';
import { parseSql } from '../../src/sql/to-ast.js';
import { csvLineTest } from '../../src/plan/conjuncts.js';
import { runToEnd } from '../helpers.js';
import { seededRandom, type Random } from '../../../test/helpers/random.js';

function field(r: Random): string {
  const n = String(r.int(0, 2000));
  const forms = [
    () => n,
    () => n,
    () => n,
    () => `-${n}`,
    () => `+${n}`,
    () => `0${n}`,
    () => '',
    () => ` ${n}`,
    () => `${n} `,
    () => '1e3',
    () => '0x1A',
    () => 'abc',
    () => 'é9',
    () => `"${n}"`,
    () => `"a,${n}"`,
    () => `"x""y"`,
    () => '"open',
    () => '9'.repeat(r.int(14, 20)),
  ];
  return forms[r.int(0, forms.length)]();
}

function csvText(r: Random, rows: number): string {
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) {
    const kind = r.int(0, 40);
    if (kind === 0) lines.push('');
    else if (kind === 1) lines.push(`#${field(r)},${field(r)}`);
    else {
      const n = kind === 2 ? 1 : r.int(2, 5);
      lines.push(Array.from({ length: n }, () => field(r)).join(','));
    }
  }
  const eol = r.int(0, 3) === 0 ? '\r\n' : '\n';
  return lines.join(eol) + (r.int(0, 2) === 0 ? eol : '');
}

const OPS = ['=', '<>', '<', '<=', '>', '>='];

describe('CSV line filter', () => {
  it('answers as the reader alone does, errors included', async () => {
    const r = seededRandom();
    for (let round = 0; round < 150; round++) {
      const header = ['NONE', 'USE', 'IGNORE'][r.int(0, 3)];
      const rows = csvText(r, r.int(1, 120));
      const text = header === 'USE' ? `a,b,c,d\n${rows}` : rows;
      const col = header === 'USE' ? ['a', 'b', 'c'][r.int(0, 3)] : `_${r.int(1, 4)}`;
      const k = r.int(-50, 2100);
      const op = OPS[r.int(0, OPS.length)];
      const test = r.int(0, 2) === 0 ? `CAST(s.${col} AS INT) ${op} ${k}` : `${k} ${op} CAST(s.${col} AS INT)`;
      // A later conjunct that fails on text: its error must come (or not) as without the filter.
      const later = r.int(0, 3) === 0 ? ` AND CAST(s.${header === 'USE' ? 'd' : '_4'} AS INT) > 5` : '';
      const limit = r.int(0, 4) === 0 ? ` LIMIT ${r.int(0, 5)}` : '';
      const input: CsvInputOptions = { fileHeaderInfo: header as CsvInputOptions['fileHeaderInfo'] };
      const scanRange =
        r.int(0, 4) === 0 ? { start: r.int(0, text.length), end: r.int(0, 2) ? undefined : text.length } : undefined;
      const request = (where: string): SelectRequest => ({
        expression: `SELECT * FROM S3Object s WHERE ${where}${limit}`,
        input: { csv: input },
        output: { csv: {} },
        ...(scanRange && { scanRange }),
      });
      const chunk = [3, 17, 64, 4096][r.int(0, 4)];
      const bytes = Buffer.from(text);
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

  it('runs only under one-byte ASCII delimiters and quote, record delimiters never quoted, AWS quoting', () => {
    const usable = (o: CsvInputOptions) => lineFilterUsable(resolveDialect(o));
    for (const o of [
      {},
      { quoteCharacter: '' },
      { fieldDelimiter: '\x7f', recordDelimiter: ';', quoteCharacter: "'" },
    ]) {
      expect(usable(o), JSON.stringify(o)).toBe(true);
    }
    for (const o of [
      { fieldDelimiter: '::' },
      { recordDelimiter: '\r\n' },
      { fieldDelimiter: '\x80' },
      { recordDelimiter: 'é' },
      { quoteCharacter: '\x80' },
      { allowQuotedRecordDelimiter: true },
      { cephQuoting: true },
    ]) {
      expect(usable(o), JSON.stringify(o)).toBe(false);
    }
  });

  it('drops the lines it is sure of, whatever the chunks, and passes a last partial line', async () => {
    const d = resolveDialect({});
    const text = '1,5\n2,2000\n3,"2000"\n4,2000\r\n5,-3\n6,1999\n\n8,x\n9';
    const expected = '1,5\n3,"2000"\n4,2000\r\n5,-3\n\n8,x\n9';
    for (const size of [1, 2, 5, 9, 64]) {
      const source = (async function* () {
        for await (const c of bufferSource(Buffer.from(text), size).stream()) yield Buffer.from(c);
      })();
      const out: Buffer[] = [];
      const test = {
        column: { name: '_2', quoted: false },
        judge: { kind: 'int' as const, op: '<' as const, bound: 1000 },
      };
      for await (const c of filteredChunks(source, d, test, () => undefined)) out.push(c);
      const got = Buffer.concat(out).toString();
      if (size > text.length) expect(got).toBe(expected);
      else {
        // A line that ends in a chunk begun by another is left to the reader: kept, in its place.
        const lines = got.split('\n');
        let at = 0;
        for (const l of lines) at = text.split('\n').indexOf(l, at) + 1;
        expect(at, `chunks of ${size}: ${JSON.stringify(got)}`).toBeGreaterThan(0);
        for (const l of expected.split('\n')) expect(lines, `chunks of ${size}`).toContain(l);
      }
    }
    // Until the header is read, lines go through untouched.
    const pending = (async function* () {
      yield Buffer.from(text);
    })();
    const test = {
      column: { name: '_2', quoted: false },
      judge: { kind: 'int' as const, op: '<' as const, bound: 1000 },
    };
    const out: Buffer[] = [];
    for await (const c of filteredChunks(pending, d, test, () => HEADER_PENDING)) out.push(c);
    expect(Buffer.concat(out).toString()).toBe(text);
  });

  it('runs in front of the reader: the evaluator never sees the dropped lines, nor the header filtered', async () => {
    // Two chunks: the header's, then lines after the one the first chunk's end began.
    const chunks = ['id,n\n', '0,1\n1,5\n2,2000\n3,"2000"\n4,x\n'].map((c) => Buffer.from(c));
    const source = {
      size: chunks.reduce((n, c) => n + c.length, 0),
      read: async () => new Uint8Array(0),
      async *stream() {
        yield* chunks;
      },
    };
    for (const fileHeaderInfo of ['USE', 'IGNORE', 'NONE'] as const) {
      const seen: string[] = [];
      const column = { name: fileHeaderInfo === 'USE' ? 'n' : '_2', quoted: false };
      const result = await scanCsv(
        source,
        { fileHeaderInfo },
        {
          stats: newStats(),
          filter: (rec) => (seen.push((rec as string[]).join(',')), true),
          csvLineTest: { column, judge: { kind: 'int', op: '<', bound: 1000 } },
        },
      );
      await collect(result);
      const data = ['0,1', '1,5', '3,2000', '4,x'];
      expect(seen, fileHeaderInfo).toEqual(fileHeaderInfo === 'NONE' ? ['id,n', ...data] : data);
    }
  });
});

/** A field for the FLOAT, DECIMAL and text tests: numbers with fractions, words sharing prefixes, quotes, CR. */
function field2(r: Random): string {
  const n = `${r.int(0, 30)}${r.int(0, 2) ? `.${r.int(0, 100)}` : ''}`;
  const words = ['red', 'reddish', 'Red', 'blue', 'bl', ''];
  const forms = [
    () => n,
    () => n,
    () => `-${n}`,
    () => `+${n}`,
    () => `${r.int(0, 30)}.`,
    () => `.${r.int(0, 9)}`,
    () => '2.5',
    () => '2.50',
    () => '1e1',
    () => ` ${n}`,
    () => words[r.int(0, words.length)],
    () => words[r.int(0, words.length)],
    () => words[r.int(0, words.length)],
    () => words[r.int(0, words.length)],
    () => `"${words[r.int(0, words.length)]}"`,
    () => `"a\nred"`,
    () => 'réd',
    () => '9'.repeat(r.int(14, 18)),
  ];
  return forms[r.int(0, forms.length)]();
}

const TESTS2 = [
  (c: string, r: Random) =>
    `CAST(s.${c} AS FLOAT) ${OPS[r.int(0, OPS.length)]} ${['2.5', '10', '0.5', '25.25'][r.int(0, 4)]}`,
  (c: string, r: Random) => `${['2.5', '10', '0'][r.int(0, 3)]} ${OPS[r.int(0, OPS.length)]} CAST(s.${c} AS DECIMAL)`,
  (c: string, r: Random) => `CAST(s.${c} AS DECIMAL) ${OPS[r.int(0, OPS.length)]} ${['2.50', '7', '1e1'][r.int(0, 3)]}`,
  (c: string, r: Random) => `s.${c} = '${['red', 'blue', '', 'réd'][r.int(0, 4)]}'`,
  (c: string, r: Random) => `'${['red', 'bl'][r.int(0, 2)]}' = s.${c}`,
  (c: string, r: Random) => `s.${c} LIKE '${['red', 'bl', '', 'r_d'][r.int(0, 4)]}%'`,
];

describe('CSV line filter: FLOAT, DECIMAL, text equality and LIKE prefix', () => {
  it('answers as the reader alone does, errors included (quoted fields, quoted newlines, CRLF)', async () => {
    const r = seededRandom();
    for (let round = 0; round < 300; round++) {
      const header = ['NONE', 'USE'][r.int(0, 2)];
      const lines = Array.from({ length: r.int(1, 80) }, () =>
        Array.from({ length: r.int(1, 4) }, () => field2(r)).join(','),
      );
      const eol = r.int(0, 3) === 0 ? '\r\n' : '\n';
      const rows = lines.join(eol) + (r.int(0, 2) ? eol : '');
      const text = header === 'USE' ? `a,b,c\n${rows}` : rows;
      const col = header === 'USE' ? ['a', 'b', 'c'][r.int(0, 3)] : `_${r.int(1, 4)}`;
      const test = TESTS2[r.int(0, TESTS2.length)](col, r);
      const later = r.int(0, 3) === 0 ? ` AND CAST(s.${header === 'USE' ? 'c' : '_3'} AS INT) > 5` : '';
      const limit = r.int(0, 4) === 0 ? ` LIMIT ${r.int(0, 5)}` : '';
      const input: CsvInputOptions = {
        fileHeaderInfo: header as CsvInputOptions['fileHeaderInfo'],
        allowQuotedRecordDelimiter: r.int(0, 4) === 0,
      };
      const request = (where: string): SelectRequest => ({
        expression: `SELECT * FROM S3Object s WHERE ${where}${limit}`,
        input: { csv: input },
        output: { csv: {} },
      });
      const chunk = [5, 64, 4096, 1 << 20][r.int(0, 4)];
      const bytes = Buffer.from(text);
      const filtered = await runToEnd(request(test + later), bufferSource(bytes, chunk));
      const plain = await runToEnd(request(`1 = 1 AND ${test}${later}`), bufferSource(bytes, chunk));
      const what = `${request(test + later).expression} chunk ${chunk} ${JSON.stringify(input)}\n${text}`;
      expect(filtered.error, what).toBe(plain.error);
      if (plain.error === undefined) expect(filtered.records, what).toBe(plain.records);
      else {
        const [short, long] = [filtered.records, plain.records].sort((a, b) => a.length - b.length);
        expect(long.startsWith(short), what).toBe(true);
      }
    }
  });

  it('drops what it is sure of: numbers beyond the margin, other text, other prefixes', async () => {
    // Two chunks: the header's (never filtered), then whole lines.
    const chunks = ['id,v\n', '1,2.5\n2,3\n3,red\n4,reddish\n5,"red"\n6,10.75\n7,red\r\n8,-1\n'].map((c) =>
      Buffer.from(c),
    );
    const source = {
      size: chunks.reduce((n, c) => n + c.length, 0),
      read: async () => new Uint8Array(0),
      async *stream() {
        yield* chunks;
      },
    };
    const seen = async (where: string) => {
      const kept: string[] = [];
      const stmt = parseSql(`SELECT * FROM S3Object s WHERE ${where}`);
      const test = csvLineTest(stmt.where, stmt.from.alias);
      expect(test, where).toBeDefined();
      const result = await scanCsv(
        source,
        { fileHeaderInfo: 'USE' },
        {
          stats: newStats(),
          filter: (rec) => (kept.push((rec as string[])[0]), false),
          csvLineTest: test,
        },
      );
      await collect(result);
      return kept.join(' ');
    };
    expect(await seen('CAST(s.v AS FLOAT) > 2.5')).toBe('1 2 3 4 5 6 7');
    // Line 1, the second chunk's first, is judged with the others (line-filter.ts). 5 is quoted, 7 has a CR.
    expect(await seen("s.v = 'red'")).toBe('3 5 7');
    expect(await seen("s.v LIKE 're%'")).toBe('3 4 5 7');
  });
});
