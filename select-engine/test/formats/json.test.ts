import { describe, expect, it } from 'vitest';
import { bufferSource, scanJson, type JsonInputOptions, type ScanOptions } from '../../src/formats/index.js';
import { MAX_JSON_DEPTH } from '../../src/formats/errors.js';
import { runToEnd } from '../helpers.js';
import { collect, newStats } from './helpers.js';
import { seededRandom } from '../../../test/helpers/random.js';

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
