// Lent chunks (formats/source.ts countedChunks with `lend`): the CSV and JSON scanners give each source chunk
// back (ByteSource.recycle) when they ask for the next one, and storage then reuses its memory. Checked with a
// source that overwrites every chunk given back: a scanner (or the line filter, or ScanRange) still holding a
// view of it would answer differently from the same query over a source that gives nothing back.
import { describe, expect, it } from 'vitest';
import { bufferSource, type ByteSource } from '../../src/formats/index.js';
import type { SelectRequest } from '../../src/request.js';
import { runToEnd } from '../helpers.js';
import { seededRandom, type Random } from '../../../test/helpers/random.js';

/** Fresh chunks of `chunk` bytes; a chunk given back is filled with `#` at once. */
function poisoningSource(bytes: Buffer, chunk: number): ByteSource & { given: number } {
  const plain = bufferSource(bytes, chunk);
  const out = {
    size: bytes.length,
    given: 0,
    read: plain.read,
    async *stream(start?: number, end?: number) {
      for await (const c of plain.stream(start, end)) yield Buffer.from(c);
    },
    recycle(c: Uint8Array) {
      out.given++;
      c.fill(0x23);
    },
  };
  return out;
}

function value(r: Random): string {
  const n = String(r.int(0, 2000));
  const forms = [() => n, () => `-${n}`, () => `${n}.5`, () => 'abc', () => `"a,${n}"`, () => `"x\ny"`, () => 'é'];
  return forms[r.int(0, forms.length)]();
}

function csvText(r: Random, rows: number): string {
  const lines = Array.from({ length: rows }, () => Array.from({ length: r.int(1, 4) }, () => value(r)).join(','));
  return `a,b,c\n${lines.join(r.int(0, 2) ? '\n' : '\r\n')}\n`;
}

function jsonText(r: Random, rows: number): string {
  const line = () => JSON.stringify({ a: r.int(0, 2000), b: value(r), c: [r.int(0, 9), 'é'] });
  return Array.from({ length: rows }, line).join('\n');
}

describe('lent source chunks', () => {
  it('are given back only when no view of them is kept: answers as over a source that keeps them', async () => {
    const r = seededRandom();
    let given = 0;
    for (let round = 0; round < 120; round++) {
      const json = r.int(0, 3) === 0;
      const text = json ? jsonText(r, r.int(1, 80)) : csvText(r, r.int(1, 80));
      const wheres = json
        ? ['s.a < 1000', "s.b LIKE 'a%'", 'TRUE']
        : ['CAST(s.a AS INT) < 1000', '1 = 1 AND CAST(s.b AS INT) >= 0', "s.c = 'abc'", 'TRUE'];
      const where = wheres[r.int(0, wheres.length)];
      const csvInput = { fileHeaderInfo: 'USE' as const, allowQuotedRecordDelimiter: r.int(0, 3) === 0 };
      const request: SelectRequest = {
        expression: `SELECT * FROM S3Object s WHERE ${where}${r.int(0, 4) === 0 ? ` LIMIT ${r.int(0, 9)}` : ''}`,
        input: json ? { json: { type: r.int(0, 2) ? 'LINES' : 'DOCUMENT' } } : { csv: csvInput },
        output: { csv: {} },
      };
      const ranged =
        r.int(0, 4) === 0 && !csvInput.allowQuotedRecordDelimiter && request.input.json?.type !== 'DOCUMENT';
      if (ranged) request.scanRange = { start: r.int(0, text.length), end: r.int(0, 2) ? undefined : text.length };
      const chunk = [1, 7, 64, 4096][r.int(0, 4)];
      const bytes = Buffer.from(text);
      const poisoning = poisoningSource(bytes, chunk);
      const lent = await runToEnd(request, poisoning);
      const kept = await runToEnd(request, bufferSource(bytes, chunk));
      const what = `${request.expression} ${JSON.stringify(request.input)} chunk ${chunk}\n${text}`;
      expect(lent.error, what).toBe(kept.error);
      expect(lent.records, what).toBe(kept.records);
      given += poisoning.given;
    }
    // The chunks did come back (through the NONE decompression wrapper too).
    expect(given).toBeGreaterThan(1000);
  });
});
