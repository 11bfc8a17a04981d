import { describe, expect, it } from 'vitest';
import { bufferSource, scanJson, type JsonInputOptions, type ScanOptions } from '../../src/formats/index.js';
import { MAX_JSON_DEPTH } from '../../src/formats/errors.js';
import { runToEnd } from '../helpers.js';
import { collect, newStats } from './helpers.js';
import { seededRandom } from '../../../test/helpers/random.js';
import { Decimal } from '../../src/exec/decimal.js';
import { mayHoldLongNumber, parseJsonText } from '../../src/formats/json/numbers.js';
import { jsonLongNumberRun } from '@cairn/native';

async function json(text: string, o: JsonInputOptions, s: Partial<ScanOptions> = {}, chunk = 5) {
  return collect(scanJson(bufferSource(Buffer.from(text), chunk), o, { stats: newStats(), ...s }));
}

describe('scanJson LINES', () => {
  it('parses one value per line, skipping blank lines and tolerating \\r\\n', async () => {
    expect(await json('{"a":1}\n\n{"a":"x\\ny"}\r\n  \n[1,2]\n', { type: 'LINES' })).toEqual([
      { a: 1 },
      { a: 'x\ny' },
      [1, 2],
    ]);
  });
  it('reports invalid JSON as JSONParsingError', async () => {
    await expect(json('{"a":1}\n{"a":\n', { type: 'LINES' })).rejects.toMatchObject({ code: 'JSONParsingError' });
  });
  it('evaluates the records before a bad line before its error, wherever chunks are cut', async () => {
    // Line 1 fails WHERE's evaluation (a number compared with text), line 3 is not JSON: the query ends with
    // line 1's error, as records are taken in order; LIMIT 1 met on line 2 ends it before line 3.
    const text = '{"v":"red"}\n{"v":1}\n{"v":\n{"v":2}\n';
    for (const chunk of [3, 17, 4096]) {
      const run = (sql: string) =>
        runToEnd(
          { expression: sql, input: { json: { type: 'LINES' } }, output: { json: {} } },
          bufferSource(Buffer.from(text), chunk),
        );
      expect((await run('SELECT * FROM S3Object s WHERE 0.5 > s.v')).error, `chunk ${chunk}`).toBe(
        'ExternalEvalException',
      );
      const limited = await run('SELECT s.v FROM S3Object s WHERE s.v = 1 LIMIT 1');
      expect(limited.error, `chunk ${chunk}`).toBeUndefined();
      expect(limited.records, `chunk ${chunk}`).toBe('{"v":1}\n');
      expect((await run('SELECT * FROM S3Object s')).error, `chunk ${chunk}`).toBe('JSONParsingError');
    }
  });
  it('rejects a line over 1 MB', async () => {
    const big = `{"a":"${'x'.repeat(1024 * 1024)}"}\n`;
    await expect(json(big, { type: 'LINES' }, {}, 65536)).rejects.toMatchObject({ code: 'OverMaxRecordSize' });
  });
  it('applies filter, limit and ScanRange', async () => {
    const text = `${Array.from({ length: 100 }, (_, i) => JSON.stringify({ i })).join('\n')}\n`;
    expect(await json(text, { type: 'LINES' }, { filter: (r) => (r as { i: number }).i % 10 === 3, limit: 2 })).toEqual(
      [{ i: 3 }, { i: 13 }],
    );
    for (let cut = 0; cut < 60; cut += 7) {
      const a = await json(text, { type: 'LINES' }, { scanRange: { start: 0, end: cut } });
      const b = await json(text, { type: 'LINES' }, { scanRange: { start: cut + 1 } });
      expect([...a, ...b]).toHaveLength(100);
    }
  });
});

describe('scanJson DOCUMENT', () => {
  it('streams concatenated values, pretty-printed across lines', async () => {
    const text = '{"a": {"b": [1, {"c": "}"}]}}\n{\n  "a": "\\"{["\n}  3 "s" true null [ ]';
    expect(await json(text, { type: 'DOCUMENT' }, {}, 3)).toEqual([
      { a: { b: [1, { c: '}' }] } },
      { a: '"{[' },
      3,
      's',
      true,
      null,
      [],
    ]);
  });
  it('a top-level array is one record, or one record per element with arrayElements', async () => {
    const text = '[{"a":1},{"a":2}] [3]';
    expect(await json(text, { type: 'DOCUMENT' })).toEqual([[{ a: 1 }, { a: 2 }], [3]]);
    expect(await json(text, { type: 'DOCUMENT', arrayElements: true }, {}, 2)).toEqual([{ a: 1 }, { a: 2 }, 3]);
  });
  it('streams a large top-level array element by element in bounded memory', async () => {
    const n = 50_000;
    const text = `[${Array.from({ length: n }, (_, i) => JSON.stringify({ i, s: 'x'.repeat(30) })).join(',')}]`;
    const r = await scanJson(
      bufferSource(Buffer.from(text), 64 * 1024),
      { arrayElements: true },
      { stats: newStats() },
    );
    let count = 0;
    let maxBatch = 0;
    for await (const b of r.batches) {
      count += b.length;
      maxBatch = Math.max(maxBatch, b.length);
    }
    expect(count).toBe(n);
    expect(maxBatch).toBeLessThan(n / 10);
    // Without arrayElements the same array is one record of > 1 MB.
    await expect(json(text, { type: 'DOCUMENT' }, {}, 65536)).rejects.toMatchObject({ code: 'OverMaxRecordSize' });
  });
  it('reports invalid or truncated JSON as JSONParsingError', async () => {
    for (const bad of ['{"a":1', '{"a":1]', '{"a" 1}', '[1,2', 'tru', '{"a":"x}']) {
      await expect(json(bad, { type: 'DOCUMENT' }), bad).rejects.toMatchObject({ code: 'JSONParsingError' });
    }
  });
  it('matches JSON.parse on random nested values in any chunking', async () => {
    const rand = seededRandom(7).next;
    const gen = (d: number): unknown => {
      const k = rand();
      if (d > 4 || k < 0.3)
        return rand() < 0.5 ? Math.floor(rand() * 1000) : ['"', '\\', '}', ']', 'é', 'a b'][Math.floor(rand() * 6)];
      if (k < 0.65) return Array.from({ length: Math.floor(rand() * 4) }, () => gen(d + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(rand() * 4) }, (_, i) => [`k${i}`, gen(d + 1)]));
    };
    for (let round = 0; round < 100; round++) {
      const values = Array.from({ length: 1 + Math.floor(rand() * 4) }, () => ({ v: gen(0) }));
      const text = values.map((v) => JSON.stringify(v, null, round % 2 ? 2 : undefined)).join(round % 3 ? '\n' : ' ');
      for (const chunk of [1, 3, 4096]) expect(await json(text, { type: 'DOCUMENT' }, {}, chunk)).toEqual(values);
    }
  });
});

describe('JSON nesting limit', () => {
  // {"a": [[...[1]...]]}: the object is one level, each array another.
  const nested = (levels: number) => `{"a":${'['.repeat(levels - 1)}1${']'.repeat(levels - 1)}}`;
  const query = (expression: string, type: 'DOCUMENT' | 'LINES') => ({
    expression,
    expressionType: 'SQL' as const,
    input: { json: { type } },
    output: { json: {} },
  });

  it('refuses records nested deeper than MAX_JSON_DEPTH with JSONParsingError, in both JSON types', async () => {
    for (const type of ['DOCUMENT', 'LINES'] as const) {
      for (const levels of [MAX_JSON_DEPTH + 1, 9000, 100_000]) {
        await expect(json(`${nested(levels)}\n`, { type }, {}, 4096), `${type} ${levels}`).rejects.toMatchObject({
          code: 'JSONParsingError',
        });
      }
      // A string full of brackets is not nesting.
      const deepLooking = `{"s":"${'['.repeat(5000)}"}\n`;
      expect(await json(deepLooking, { type }, {}, 4096)).toEqual([{ s: '['.repeat(5000) }]);
    }
  });

  it('runs queries over records at the limit: output, comparison and projection all cope with the depth', async () => {
    const doc = `${nested(MAX_JSON_DEPTH)}\n`;
    for (const type of ['DOCUMENT', 'LINES'] as const) {
      for (const sql of [
        'SELECT * FROM S3Object s',
        'SELECT s.a FROM S3Object s WHERE s.a = s.a',
        'SELECT COUNT(*) FROM S3Object s WHERE s.a IS NOT NULL',
      ]) {
        const out = await runToEnd(query(sql, type), bufferSource(Buffer.from(doc)));
        expect(out.error, `${type}: ${sql}`).toBeUndefined();
        expect(out.records.length).toBeGreaterThan(0);
      }
      const over = await runToEnd(
        query('SELECT * FROM S3Object s', type),
        bufferSource(Buffer.from(`${nested(9000)}\n`)),
      );
      expect(over.error).toBe('JSONParsingError');
    }
  });
});

// The edges of the JSON reader that the tests above do not reach: each case pins one rule of the scanner
// (blank and last lines, LIMIT, batches under a filter, the 1 MB record bound at its exact edge, the input
// types and ScanRange refusals), found by mutation testing (npm run mutation select-json).
describe('scanJson edges', () => {
  const lines = (n: number) => Array.from({ length: n }, (_, i) => `${JSON.stringify({ i })}\n`).join('');
  const is = (n: number) => Array.from({ length: n }, (_, i) => ({ i }));

  it('LINES: a blank first line, blank lines of spaces and tabs, and a last line without a newline', async () => {
    for (const chunk of [5, 4096]) {
      expect(await json('\n{"a":1}\n{"a":2}\n', { type: 'LINES' }, {}, chunk)).toEqual([{ a: 1 }, { a: 2 }]);
      expect(await json('{"a":1}\n   \t \n \t\r\n{"a":2}', { type: 'LINES' }, {}, chunk)).toEqual([{ a: 1 }, { a: 2 }]);
    }
  });

  it('LINES: one value per line, no more and no less', async () => {
    for (const bad of ['{"a":1} {"a":2}\n', '{"a":\n1}\n', '1 2\n']) {
      await expect(json(bad, { type: 'LINES' }, {}, 4096), bad).rejects.toMatchObject({ code: 'JSONParsingError' });
    }
  });

  it('LINES: brackets that close count down (many sibling arrays are not deep); an unclosed string is refused', async () => {
    const siblings = `[${'[],'.repeat(3 * MAX_JSON_DEPTH)}[]]\n`;
    expect(await json(siblings, { type: 'LINES' }, {}, 4096)).toEqual([Array(3 * MAX_JSON_DEPTH + 1).fill([])]);
    const open = `{"a":"${'x'.repeat(3 * MAX_JSON_DEPTH)}`;
    await expect(json(open, { type: 'LINES' }, {}, 4096)).rejects.toMatchObject({ code: 'JSONParsingError' });
  });

  it('DOCUMENT: carriage returns and tabs between values; top-level strings cut across chunks', async () => {
    expect(await json('{"a":1}\r\n\t{"a":2}\t\r', { type: 'DOCUMENT' }, {}, 3)).toEqual([{ a: 1 }, { a: 2 }]);
    for (const chunk of [1, 2, 3, 4]) {
      expect(await json('"abcdef" "ghij"', { type: 'DOCUMENT' }, {}, chunk)).toEqual(['abcdef', 'ghij']);
    }
  });

  it('arrayElements unwraps only arrays, and refuses an array the input leaves open', async () => {
    expect(await json('{"a":1} [2,3] 4 [5]', { type: 'DOCUMENT', arrayElements: true }, {}, 2)).toEqual([
      { a: 1 },
      2,
      3,
      4,
      5,
    ]);
    await expect(json('[1,2', { type: 'DOCUMENT', arrayElements: true })).rejects.toMatchObject({
      code: 'JSONParsingError',
    });
  });

  it('the input type: DOCUMENT by default, any case; another type or a ScanRange on DOCUMENT is refused', async () => {
    const text = '{"a":\n1}';
    expect(await collect(scanJson(bufferSource(Buffer.from(text)), undefined, { stats: newStats() }))).toEqual([
      { a: 1 },
    ]);
    expect(await json('{"a":1}\n', { type: 'lines' as 'LINES' })).toEqual([{ a: 1 }]);
    await expect(json(text, { type: 'XML' as 'LINES' })).rejects.toMatchObject({ code: 'InvalidJsonType' });
    await expect(json(text, { type: 'DOCUMENT' }, { scanRange: { start: 0, end: 4 } })).rejects.toMatchObject({
      code: 'UnsupportedScanRangeInput',
    });
  });

  it('LIMIT 0 reads nothing; LIMIT stops reading once reached, and cuts the batch that reaches it', async () => {
    for (const type of ['LINES', 'DOCUMENT'] as const) {
      expect(await json('garbage\n', { type }, { limit: 0 })).toEqual([]);
      // The bad line comes in a later chunk than the record that reaches LIMIT: it is never parsed.
      expect(await json('{"i":1}\ngarbage\n', { type }, { limit: 1 }, 5)).toEqual([{ i: 1 }]);
      // Two records a chunk: the third record is reached with a batch of two.
      expect(await json(lines(20), { type }, { limit: 3 }, 16)).toEqual(is(3));
    }
  });

  it('a filter never sees the records after the one that reaches LIMIT', async () => {
    const filter = (r: unknown) => {
      const i = (r as { i: number }).i;
      if (i === 14) throw new Error('filtered a record after LIMIT');
      return i % 10 === 3;
    };
    expect(await json(lines(100), { type: 'LINES' }, { filter, limit: 2 }, 4096)).toEqual([{ i: 3 }, { i: 13 }]);
  });

  it('a costly filter gets small batches: every record once, in order', async () => {
    // recordsPerBatch: 32768 units a batch, so a filter costing 10000 gets 3 records a batch.
    const r = await scanJson(
      bufferSource(Buffer.from(lines(10)), 4096),
      { type: 'LINES' },
      { stats: newStats(), filter: () => true, filterCost: 10_000 },
    );
    const batches: unknown[][] = [];
    for await (const b of r.batches) batches.push(b);
    expect(batches.flat()).toEqual(is(10));
    expect(Math.max(...batches.map((b) => b.length))).toBe(3);
  });

  // A record of exactly 1 MB is read, one byte more is refused; 64 KB chunks put the record's end on a chunk edge.
  const record = (bytes: number) => `{"a":"${'x'.repeat(bytes - 8)}"}`;
  const MB = 1024 * 1024;
  const smalls = ' {"b":12345}'.repeat(7000);

  it('LINES: a line of exactly 1 MB is read, followed by others; 1 MB and one byte is OverMaxRecordSize', async () => {
    const text = `${record(MB)}\n${smalls.replaceAll(' ', '\n')}\n`;
    const out = await json(text, { type: 'LINES' }, {}, 65536);
    expect(out).toHaveLength(7001);
    expect(out[1]).toEqual({ b: 12345 });
    await expect(json(`${record(MB + 1)}\n{"b":1}\n`, { type: 'LINES' }, {}, 65536)).rejects.toMatchObject({
      code: 'OverMaxRecordSize',
    });
  });

  it('DOCUMENT: a value of exactly 1 MB is read, followed by others; 1 MB and one byte is OverMaxRecordSize', async () => {
    // MB - 100: the chunk that ends the big value also holds small ones, the last of them cut.
    for (const size of [MB, MB - 100]) {
      const out = await json(`${record(size)}${smalls}`, { type: 'DOCUMENT' }, {}, 65536);
      expect(out).toHaveLength(7001);
      expect(out[7000]).toEqual({ b: 12345 });
    }
    await expect(json(`${record(MB + 1)}${smalls}`, { type: 'DOCUMENT' }, {}, 65536)).rejects.toMatchObject({
      code: 'OverMaxRecordSize',
    });
  });

  it('a record over 1 MB is refused as soon as it is: the rest of the input is not read', async () => {
    for (const type of ['LINES', 'DOCUMENT'] as const) {
      const stats = newStats();
      const text = `{"a":"${'x'.repeat(4 * MB)}"}\n`;
      await expect(
        collect(scanJson(bufferSource(Buffer.from(text), 65536), { type }, { stats })),
      ).rejects.toMatchObject({ code: 'OverMaxRecordSize' });
      expect(stats.bytesScanned, type).toBeLessThan(2 * MB);
    }
  });
});

describe('JSON numbers: decimals keep their digits', () => {
  // The rule, written apart from the reader: a number with a point and no exponent whose double prints
  // differently (2.50, 1.0) is a DECIMAL of its text; every other number stays a JS number.
  let decimals = 0;
  const reference = (text: string): unknown =>
    JSON.parse(text, ((_key: string, value: unknown, context?: { source?: string }) => {
      const source = context?.source;
      if (typeof value !== 'number' || !source || !/^-?\d+\.\d+$/.test(source) || String(value) === source)
        return value;
      decimals++;
      return Decimal.parse(source);
    }) as (key: string, value: unknown) => unknown);

  it('keeps 2.50 and 1.0 as DECIMAL, but not 1.5, exponents, -0 or points inside strings', () => {
    expect(parseJsonText('{"a":2.50,"b":1.5,"c":1E2,"d":"1.0","e":-0,"f":1.50e1,"g":[1.0],"h":10}')).toEqual({
      a: Decimal.parse('2.50'),
      b: 1.5,
      c: 100,
      d: '1.0',
      e: -0,
      f: 15,
      g: [Decimal.parse('1.0')],
      h: 10,
    });
    expect(parseJsonText('[2.5, 3]')).toEqual([2.5, 3]);
    // A string left open after a point: JSON.parse's error, not a scan that never ends.
    expect(() => parseJsonText('{"a":1,"b":"2.0')).toThrow(SyntaxError);
  });

  it('matches the rule on records mixing decimals with strings holding points, quotes and backslashes', () => {
    const numbers = [
      ...['1', '1.5', '2.50', '1.0', '0.0', '10', '-3.10', '1.0e2', '1.50E1', '0.10', '7.25', '3.000', '9.'],
      ...['2.90', '9.50'],
    ];
    const strings = [
      '"a.b"',
      '"00:00:00.000Z"',
      '"x\\"1.0"',
      '"\\\\"',
      '"\\\\\\"2.0"',
      '"."',
      '"1.0"',
      '"\\""',
      '"5."',
    ];
    const rand = seededRandom(11).next;
    const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
    const gen = (d: number): string => {
      const k = rand();
      if (d > 3 || k < 0.5) return rand() < 0.5 ? pick(numbers) : pick(strings);
      const items = Array.from({ length: Math.floor(rand() * 4) }, () => gen(d + 1));
      // Object keys: the strings above with a digit added inside the quotes.
      const key = (i: number) => `${pick(strings).slice(0, -1)}${i}"`;
      return k < 0.75 ? `[${items.join(',')}]` : `{${items.map((v, i) => `${key(i)}:${v}`).join(',')}}`;
    };
    decimals = 0;
    for (let round = 0; round < 1500; round++) {
      const text = gen(0);
      let expected: unknown;
      try {
        expected = reference(text);
      } catch {
        expect(() => parseJsonText(text), text).toThrow(SyntaxError);
        continue;
      }
      expect(parseJsonText(text), text).toEqual(expected);
    }
    expect(decimals).toBeGreaterThan(100);
  });
});

describe('JSON numbers: integers past 2^53 and long decimals keep their digits', () => {
  it('reads integers past 2^53 as bigints, past 64 bits as DECIMALs, long decimals as DECIMALs; exponents as doubles', () => {
    const text =
      '{"a":9007199254740993,"b":18446744073709551616,"c":9007199254740992,"d":-9223372036854775808,' +
      '"e":1e20,"f":"12345678901234567890","g":0.12345678901234567891,"h":123,"i":[10000000000000000],' +
      '"j":1234567890.123456}';
    expect(parseJsonText(text, true)).toEqual({
      a: 9007199254740993n,
      b: new Decimal(18446744073709551616n, 0),
      c: 9007199254740992n,
      d: -9223372036854775808n,
      e: 1e20,
      f: '12345678901234567890',
      g: Decimal.parse('0.12345678901234567891'),
      h: 123,
      i: [10000000000000000n],
      j: 1234567890.123456,
    });
    // Not looked for when the chunk holds no long number (the native scan said so).
    expect(parseJsonText('{"a":9007199254740993}')).toEqual({ a: 9007199254740992 });
  });

  it('finds a run of 16 digits (points among them) as a regular expression does, in JS and natively across chunks', () => {
    const reference = (t: string) => (t.match(/[0-9.]+/g) ?? []).some((r) => r.replace(/\./g, '').length >= 16);
    const rand = seededRandom(5).next;
    const alphabet = '0123456789012345678901234567890123456789.."x{}:,-e';
    let found = 0;
    for (let round = 0; round < 3000; round++) {
      const len = Math.floor(rand() * 80);
      let t = '';
      for (let i = 0; i < len; i++) t += alphabet[Math.floor(rand() * alphabet.length)];
      const want = reference(t);
      if (want) found++;
      expect(mayHoldLongNumber(t), t).toBe(want);
      // The native scan over the text cut in up to three chunks, the digits at each end carried over.
      const cuts = [Math.floor(rand() * (len + 1)), Math.floor(rand() * (len + 1))].sort((x, y) => x - y);
      let carried = 0;
      let long = false;
      for (const [from, to] of [
        [0, cuts[0]],
        [cuts[0], cuts[1]],
        [cuts[1], len],
      ]) {
        const run = jsonLongNumberRun(Buffer.from(t.slice(from, to), 'latin1'), carried);
        if (run < 0) long = true;
        carried = Math.max(run, 0);
      }
      expect(long, `${t} cut at ${cuts}`).toBe(want);
    }
    expect(found).toBeGreaterThan(300);
  });

  it('reads every digit of a long number wherever the chunks cut the input, in LINES and DOCUMENT', async () => {
    const text = '{"id":1,"n":12}\n{"id":2,"n":9007199254740993}\n{"id":3,"n":18446744073709551616}\n{"id":4,"n":5}\n';
    const want = [
      { id: 1, n: 12 },
      { id: 2, n: 9007199254740993n },
      { id: 3, n: new Decimal(18446744073709551616n, 0) },
      { id: 4, n: 5 },
    ];
    for (let chunk = 1; chunk <= text.length; chunk++) {
      expect(await json(text, { type: 'LINES' }, {}, chunk), `chunk ${chunk}`).toEqual(want);
      expect(await json(text, { type: 'DOCUMENT' }, {}, chunk), `chunk ${chunk}`).toEqual(want);
    }
  });
});
