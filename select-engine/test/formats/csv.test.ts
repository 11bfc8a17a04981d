import { describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { bufferSource, scanCsv, SelectError, type CsvInputOptions, type ScanOptions } from '../../src/formats/index.js';
import { collect, newStats } from './helpers.js';
import { seededRandom } from '../../../test/helpers/random.js';

async function csv(text: string | Buffer, o: CsvInputOptions = {}, s: Partial<ScanOptions> = {}, chunk = 7) {
  return collect(scanCsv(bufferSource(Buffer.from(text), chunk), o, { stats: newStats(), ...s }));
}

describe('scanCsv', () => {
  it('splits plain records, keeps empty fields, drops \\r before \\n and skips blank lines', async () => {
    expect(await csv('a,b,c\n1,,3\r\n\n4,5,\n')).toEqual([
      ['a', 'b', 'c'],
      ['1', '', '3'],
      ['4', '5', ''],
    ]);
    expect(await csv('x,y')).toEqual([['x', 'y']]);
  });

  it('handles quotes: delimiters inside, doubled quotes, quotes mid-field are literal', async () => {
    expect(await csv('"a,b","say ""hi""",c"d\n"",x\n')).toEqual([
      ['a,b', 'say "hi"', 'c"d'],
      ['', 'x'],
    ]);
  });

  it('applies FileHeaderInfo USE / IGNORE / NONE', async () => {
    const text = 'name,age\nann,3\nbob,4\n';
    const r = await scanCsv(bufferSource(Buffer.from(text), 5), { fileHeaderInfo: 'USE' }, { stats: newStats() });
    expect(r.header).toEqual(['name', 'age']);
    expect(await collect(r)).toEqual([
      ['ann', '3'],
      ['bob', '4'],
    ]);
    expect(await csv(text, { fileHeaderInfo: 'IGNORE' })).toEqual([
      ['ann', '3'],
      ['bob', '4'],
    ]);
    expect(await csv(text, { fileHeaderInfo: 'NONE' })).toHaveLength(3);
  });

  it('skips comment lines (default #, custom, disabled)', async () => {
    expect(await csv('#c\na,b\n#x,y\n')).toEqual([['a', 'b']]);
    expect(await csv(';c\n#a,b\n', { comments: ';' })).toEqual([['#a', 'b']]);
    expect(await csv('#a,b\n', { comments: '' })).toEqual([['#a', 'b']]);
  });

  it('supports custom delimiters, quote and escape characters', async () => {
    expect(await csv('a|b;c|d;', { fieldDelimiter: '|', recordDelimiter: ';' })).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    expect(await csv('a\tb\r\nc\td\r\n', { fieldDelimiter: '\t', recordDelimiter: '\r\n' })).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    expect(await csv("'a,b',c\n", { quoteCharacter: "'" })).toEqual([['a,b', 'c']]);
    expect(await csv('"a\\"b",c\n', { quoteEscapeCharacter: '\\' })).toEqual([['a"b', 'c']]);
    expect(await csv('a::b\n', { fieldDelimiter: '::' })).toEqual([['a', 'b']]);
  });

  it('the dialect: each setting at its limits, and settings that clash, give InvalidRequestParameter', async () => {
    const refused = (o: CsvInputOptions) =>
      expect(csv('a,b\n', o), JSON.stringify(o)).rejects.toMatchObject({ code: 'InvalidRequestParameter' });
    for (const o of [
      { fieldDelimiter: '' },
      { fieldDelimiter: ':::' },
      { recordDelimiter: '' },
      { recordDelimiter: ';;;' },
      { quoteCharacter: "''" },
      { quoteEscapeCharacter: '\\\\' },
      { comments: '##' },
      { fieldDelimiter: ';', recordDelimiter: ';' },
      { fieldDelimiter: '"' },
      { fieldDelimiter: ':"' },
      { recordDelimiter: '"' },
      { recordDelimiter: '\r"' },
      { quoteCharacter: ';', recordDelimiter: ';' },
    ]) {
      await refused(o);
    }
    await expect(csv('a\n', { fileHeaderInfo: 'FIRST' as 'USE' })).rejects.toMatchObject({
      code: 'InvalidFileHeaderInfo',
    });
    // Accepted: the longest delimiters, quoting and comments switched off, an empty escape (the quote doubled),
    // the header setting in any case.
    expect(await csv('a::b;;c::d;;', { fieldDelimiter: '::', recordDelimiter: ';;' })).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    expect(await csv('"a,b",c\n', { quoteCharacter: '' })).toEqual([['"a', 'b"', 'c']]);
    expect(await csv('"a""b",c\n', { quoteEscapeCharacter: '' })).toEqual([['a"b', 'c']]);
    expect(await csv('#a,b\n', { comments: '' })).toEqual([['#a', 'b']]);
    expect(await csv('x,y\n1,2\n', { fileHeaderInfo: 'ignore' as 'IGNORE' })).toEqual([['1', '2']]);
    // A \r before the record delimiter is dropped only for the default \n.
    expect(await csv('a\r;b;', { recordDelimiter: ';' })).toEqual([['a\r'], ['b']]);
    expect(await csv('a\r\nb\n')).toEqual([['a'], ['b']]);
  });

  it('an escape other than the quote keeps an escaped quote or escape once, the escape before other characters; \\r\\n after a closing quote', async () => {
    const o = { quoteEscapeCharacter: '\\' };
    expect(await csv('"a\\\\b","c\\xd",e\n"q\\"",f\n', o)).toEqual([
      ['a\\b', 'c\\xd', 'e'],
      ['q"', 'f'],
    ]);
    for (const chunk of [1, 3, 7]) {
      expect(await csv('"a"\r\n"b"\r\nc\r\n"d"\r', {}, {}, chunk)).toEqual([['a'], ['b'], ['c'], ['d']]);
    }
  });

  it('a record with a quote: \r\n after its last unquoted field, an empty first field, a two-character delimiter cut by a chunk', async () => {
    for (const chunk of [1, 2, 3, 5, 7, 1000]) {
      expect(await csv('"a",b\r\n"c",d\r\n', {}, {}, chunk)).toEqual([
        ['a', 'b'],
        ['c', 'd'],
      ]);
      expect(await csv(',"a"\n,b,"c"\n', {}, {}, chunk)).toEqual([
        ['', 'a'],
        ['', 'b', 'c'],
      ]);
      const crlf = { recordDelimiter: '\r\n', allowQuotedRecordDelimiter: true };
      expect(await csv('"x\r\ny"\r\n"z"\r\n', crlf, {}, chunk)).toEqual([['x\r\ny'], ['z']]);
    }
  });

  it('after a closing quote: a delimiter only; a doubled quote only when the quote is its own escape; a dropped \\r is no quote', async () => {
    await expect(csv('"ab"c\nd\n')).rejects.toMatchObject({ code: 'CSVParsingError' });
    await expect(csv('"a""b",c\n', { quoteEscapeCharacter: '\\' })).rejects.toMatchObject({ code: 'CSVParsingError' });
    expect(await csv('\ra\r\r\n', { quoteCharacter: '\r' })).toEqual([['a']]);
    await expect(csv('\rab\r\n', { quoteCharacter: '\r' })).rejects.toMatchObject({
      code: 'CSVEscapingRecordDelimiter',
    });
    // Only the default \n drops a \r before it: with another record delimiter a last field keeps its \r.
    expect(await csv('"a",b\r;c\r;', { recordDelimiter: ';' })).toEqual([['a', 'b\r'], ['c\r']]);
  });

  it('quoted record delimiters: error by default, one record with AllowQuotedRecordDelimiter', async () => {
    const text = 'a,"x\ny",b\nc,d\n';
    await expect(csv(text)).rejects.toMatchObject({ code: 'CSVEscapingRecordDelimiter' });
    expect(await csv(text, { allowQuotedRecordDelimiter: true }, {}, 3)).toEqual([
      ['a', 'x\ny', 'b'],
      ['c', 'd'],
    ]);
  });

  it('reports broken quoting as CSVParsingError', async () => {
    await expect(csv('"abc,d\n')).rejects.toBeInstanceOf(SelectError);
    await expect(csv('"ab"c,d\n')).rejects.toMatchObject({ code: 'CSVParsingError' });
    await expect(csv('"ab', { allowQuotedRecordDelimiter: true })).rejects.toMatchObject({ code: 'CSVParsingError' });
  });

  it('rejects records over 1 MB with OverMaxRecordSize', async () => {
    const big = `a,${'x'.repeat(1024 * 1024 + 10)}\nb,c\n`;
    await expect(csv(big, {}, {}, 64 * 1024)).rejects.toMatchObject({ code: 'OverMaxRecordSize' });
    const ok = `a,${'x'.repeat(1000 * 1000)}\nb,c\n`;
    expect(await csv(ok, {}, {}, 64 * 1024)).toHaveLength(2);
  });

  it('decodes only the needed columns and resolves header names', async () => {
    const text = 'id,name,city\n1,ann,rome\n2,bob,oslo\n';
    const rows = await csv(text, { fileHeaderInfo: 'USE' }, { columns: ['NAME'] });
    expect(rows).toEqual([
      ['', 'ann'],
      ['', 'bob'],
    ]);
    expect(await csv(text, {}, { columns: [3, 1] })).toEqual([
      ['id', '', 'city'],
      ['1', '', 'rome'],
      ['2', '', 'oslo'],
    ]);
    expect(await csv('a\n', {}, { columns: [2] })).toEqual([['']]); // short record: no field 2 (MISSING)
    // unknown name: all fields
    expect(await csv(text, { fileHeaderInfo: 'USE' }, { columns: ['id', 'nope'] })).toHaveLength(2);
    expect(await csv(text, { fileHeaderInfo: 'USE' }, { columns: [1, 'CITY'] })).toEqual([
      ['1', '', 'rome'],
      ['2', '', 'oslo'],
    ]);
    // absurd position: no allocation, MISSING
    expect(await csv(text, {}, { columns: [2 ** 40] })).toEqual([[], [], []]);
  });

  it('columns: _N names a position, header names match in any case, a position must be a whole number from 1', async () => {
    const text = 'id,Name,city\n1,ann,rome\n2,bob,oslo\n';
    const use = { fileHeaderInfo: 'USE' as const };
    expect(await csv(text, use, { columns: ['_2'] })).toEqual([
      ['', 'ann'],
      ['', 'bob'],
    ]);
    // The header's Name, asked for as name.
    expect(await csv(text, use, { columns: ['name'] })).toEqual([
      ['', 'ann'],
      ['', 'bob'],
    ]);
    // Not a position name: unknown, so every field is decoded.
    expect(await csv(text, use, { columns: ['x_2'] })).toEqual([
      ['1', 'ann', 'rome'],
      ['2', 'bob', 'oslo'],
    ]);
    // An absurd position name: no allocation, MISSING.
    expect(await csv(text, use, { columns: [`_${2 ** 40}`] })).toEqual([[], []]);
    for (const bad of [0, -1, 1.5]) {
      await expect(csv(text, {}, { columns: [bad] }), String(bad)).rejects.toMatchObject({
        code: 'InvalidColumnIndex',
      });
    }
  });

  it('applies filter and limit and stops reading early', async () => {
    const text = Array.from({ length: 10000 }, (_, i) => `${i},v${i}`).join('\n');
    const stats = newStats();
    const r = await scanCsv(
      bufferSource(Buffer.from(text), 1024),
      {},
      {
        stats,
        filter: (rec) => Number((rec as string[])[0]) % 100 === 0,
        limit: 3,
      },
    );
    expect(r.filterApplied).toBe(true);
    expect(await collect(r)).toEqual([
      ['0', 'v0'],
      ['100', 'v100'],
      ['200', 'v200'],
    ]);
    expect(stats.bytesScanned).toBeLessThan(text.length / 5);
    expect(stats.bytesScanned).toBe(stats.bytesProcessed);
  });

  it('a costly filter: batches hold as many records as its cost allows, the records are the same', async () => {
    const text = Array.from({ length: 3000 }, (_, i) => (i % 3 ? `${i},v${i}` : `"${i}","v,${i}"`)).join('\n');
    const all = await csv(text, {}, {}, 4096);
    for (const [filterCost, most] of [
      [1e9, 1],
      [1000, 32],
      [undefined, Infinity],
    ] as const) {
      const r = await scanCsv(
        bufferSource(Buffer.from(text), 4096),
        {},
        {
          stats: newStats(),
          filter: (rec) => (rec as string[])[0] !== '7',
          filterCost,
        },
      );
      const sizes: number[] = [];
      const got: unknown[] = [];
      for await (const batch of r.batches) {
        sizes.push(batch.length);
        got.push(...batch);
      }
      expect(got).toEqual(all.filter((rec) => (rec as string[])[0] !== '7'));
      expect(Math.max(...sizes)).toBeLessThanOrEqual(most);
      if (most !== Infinity) expect(Math.max(...sizes)).toBe(most);
    }
  });

  it('late materialisation: the filter sees only filterColumns, passing records are decoded in full', async () => {
    const text = 'id,name,city\n1,ann,rome\n2,"bob, jr",oslo\n3,cy,rome\n';
    const seen: string[][] = [];
    const rows = await csv(
      text,
      { fileHeaderInfo: 'USE' },
      {
        filterColumns: ['city'],
        filter: (r) => {
          seen.push([...(r as string[])]);
          return (r as string[])[2] === 'rome';
        },
      },
    );
    expect(rows).toEqual([
      ['1', 'ann', 'rome'],
      ['3', 'cy', 'rome'],
    ]);
    expect(seen[0]).toEqual(['', '', 'rome']); // unquoted records: only the filter's field decoded
    // Quoting switched off: every record is unquoted, so the same.
    seen.length = 0;
    const filter = (r: unknown) => seen.push([...(r as string[])]) > 0;
    await csv(
      'id,name,city\n1,"ann,rome\n',
      { fileHeaderInfo: 'USE', quoteCharacter: '' },
      { filterColumns: ['city'], filter },
    );
    expect(seen).toEqual([['', '', 'rome']]);
  });

  it('decoding some fields: an empty first field at the start of the text, a short record after a longer one', async () => {
    for (const chunk of [7, 1000]) {
      expect(await csv(',b,c\n,e,f\n', {}, { columns: ['_2'] }, chunk)).toEqual([
        ['', 'b'],
        ['', 'e'],
      ]);
      // The filter reads field c only; record 3,4 has none (MISSING), whatever the record before it held.
      const filter = (r: unknown) => (r as string[])[2] === 'x';
      expect(
        await csv('a,b,c\n1,2,x\n3,4\n5,6,x\n', { fileHeaderInfo: 'USE' }, { filterColumns: ['c'], filter }, chunk),
      ).toEqual([
        ['1', '2', 'x'],
        ['5', '6', 'x'],
      ]);
    }
  });

  it('drops a UTF-8 byte order mark at the start of the input', async () => {
    const r = await scanCsv(
      bufferSource(Buffer.from('\ufeffname,age\nann,3\n'), 2),
      { fileHeaderInfo: 'USE' },
      { stats: newStats() },
    );
    expect(r.header).toEqual(['name', 'age']);
  });

  it('handles multi-byte UTF-8 split across chunks', async () => {
    expect(await csv('é,日本\n"ü,ß",x\n', {}, {}, 1)).toEqual([
      ['é', '日本'],
      ['ü,ß', 'x'],
    ]);
  });

  it('ScanRange: a record belongs to the range its first byte lies in', async () => {
    const text = 'A,B\nC,D\nE,F\nG,H\n';
    const run = (start?: number, end?: number, chunk = 3) =>
      collect(scanCsv(bufferSource(Buffer.from(text), chunk), {}, { stats: newStats(), scanRange: { start, end } }));
    expect(await run(1, 4)).toEqual([['C', 'D']]); // the AWS example
    expect(await run(0, 0)).toEqual([['A', 'B']]);
    expect(await run(0, 3)).toEqual([['A', 'B']]);
    expect(await run(4, 4)).toEqual([['C', 'D']]);
    expect(await run(5, 7)).toEqual([]);
    expect(await run(8)).toEqual([
      ['E', 'F'],
      ['G', 'H'],
    ]);
    expect(await run(undefined, 4)).toEqual([['G', 'H']]);
    // Every split point of the file into two ranges gives each record exactly once.
    for (let cut = 0; cut < text.length - 1; cut++) {
      for (const chunk of [1, 2, 5, 64]) {
        const all = [...(await run(0, cut, chunk)), ...(await run(cut + 1, undefined, chunk))];
        expect(all).toHaveLength(4);
      }
    }
    await expect(run(5, 2)).rejects.toMatchObject({ code: 'InvalidScanRange' });
  });

  it('ScanRange with a two-byte delimiter and a header', async () => {
    const text = 'h1,h2\r\nA,B\r\nC,D\r\n';
    for (let cut = 0; cut < text.length - 1; cut++) {
      for (const chunk of [1, 3, 64]) {
        const o = { fileHeaderInfo: 'USE' as const, recordDelimiter: '\r\n' };
        const a = await collect(
          scanCsv(bufferSource(Buffer.from(text), chunk), o, { stats: newStats(), scanRange: { start: 0, end: cut } }),
        );
        const r = await scanCsv(bufferSource(Buffer.from(text), chunk), o, {
          stats: newStats(),
          scanRange: { start: cut + 1 },
        });
        expect(r.header).toEqual(['h1', 'h2']);
        expect([...a, ...(await collect(r))]).toEqual([
          ['A', 'B'],
          ['C', 'D'],
        ]);
      }
    }
  });

  it('ScanRange with IGNORE skips the header only when the range starts at 0; End alone is a suffix', async () => {
    const text = 'h1,h2\nA,B\nC,D\n';
    const run = (o: CsvInputOptions, start?: number, end?: number) =>
      collect(scanCsv(bufferSource(Buffer.from(text), 4), o, { stats: newStats(), scanRange: { start, end } }));
    expect(await run({ fileHeaderInfo: 'IGNORE' }, 0, 6)).toEqual([['A', 'B']]);
    expect(await run({ fileHeaderInfo: 'IGNORE' }, 1)).toEqual([
      ['A', 'B'],
      ['C', 'D'],
    ]);
    expect(await run({ fileHeaderInfo: 'IGNORE' }, undefined, 100)).toEqual([
      ['A', 'B'],
      ['C', 'D'],
    ]);
    expect(await run({ fileHeaderInfo: 'USE' }, undefined, 4)).toEqual([['C', 'D']]);
  });

  it('agrees with csv-parse on random quoted CSV in several chunkings', async () => {
    const rand = seededRandom(42).next;
    const alphabet = ['a', 'b', ',', '"', '\n', ' ', 'é', '1'];
    for (let round = 0; round < 200; round++) {
      const records: string[][] = [];
      const nrec = 1 + Math.floor(rand() * 5);
      for (let r = 0; r < nrec; r++) {
        const nf = 1 + Math.floor(rand() * 4);
        records.push(
          Array.from({ length: nf }, () =>
            Array.from({ length: Math.floor(rand() * 6) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join(
              '',
            ),
          ),
        );
      }
      const text = records
        .map((rec) => rec.map((f) => (/[",\n]/.test(f) || f === '' ? `"${f.replace(/"/g, '""')}"` : f)).join(','))
        .join('\n');
      const expected = parse(text, { relax_column_count: true, skip_empty_lines: true }) as string[][];
      for (const chunk of [1, 4, 1000]) {
        expect(await csv(text, { allowQuotedRecordDelimiter: true, comments: '' }, {}, chunk)).toEqual(expected);
        // A filter costly enough for batches of one record each: the text is split a record per call.
        const oneByOne = { filter: () => true, filterCost: 1e9 };
        expect(await csv(text, { allowQuotedRecordDelimiter: true, comments: '' }, oneByOne, chunk)).toEqual(expected);
      }
    }
  });

  it('agrees with csv-parse on random CSV with \\ as the escape, quoted record delimiters allowed or not', async () => {
    const rand = seededRandom(7).next;
    const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
    for (const allow of [true, false]) {
      const alphabet = ['a', ',', '"', '\\', ' ', 'é', ...(allow ? ['\n'] : [])];
      for (let round = 0; round < 60; round++) {
        const records = Array.from({ length: 1 + Math.floor(rand() * 4) }, () =>
          Array.from({ length: 1 + Math.floor(rand() * 3) }, () =>
            Array.from({ length: Math.floor(rand() * 6) }, () => pick(alphabet)).join(''),
          ),
        );
        const text = records
          .map((rec) =>
            rec.map((f) => (/[",\n\\]/.test(f) || f === '' ? `"${f.replace(/["\\]/g, '\\$&')}"` : f)).join(','),
          )
          .join('\n');
        const expected = parse(text, { escape: '\\', relax_column_count: true, skip_empty_lines: true });
        const o = { quoteEscapeCharacter: '\\', allowQuotedRecordDelimiter: allow, comments: '' };
        for (const chunk of [1, 3, 1000]) expect(await csv(text, o, {}, chunk), text).toEqual(expected);
      }
    }
  });

  it("Ceph's quoting: a quote anywhere toggles quoting and is dropped, a doubled quote inside quotes is one", async () => {
    const ceph = { cephQuoting: true };
    for (const chunk of [1, 7]) {
      expect(await csv('"a""b",c\nx"y,z"w,v\n"p"""\n', ceph, {}, chunk)).toEqual([
        ['a"b', 'c'],
        ['xy,zw', 'v'],
        ['p"'],
      ]);
    }
    // With an escape character of its own, it keeps the next character (a delimiter, a quote) and is dropped;
    // at the end of a record it is kept. A doubled quote is then two toggles.
    expect(await csv('a\\,b,"c""d",e\\"f\\\ng\\\\\n', { ...ceph, quoteEscapeCharacter: '\\' })).toEqual([
      ['a,b', 'cd', 'e"f\\'],
      ['g\\'],
    ]);
    // A two-character field delimiter: its first character alone is text.
    expect(await csv('a:b::"c::d"::e\n', { ...ceph, fieldDelimiter: '::' })).toEqual([['a:b', 'c::d', 'e']]);
    // The \r dropped before \n is not read: neither as a field delimiter \r nor as a quote character \r.
    expect(await csv('a\rb\r\n', { ...ceph, fieldDelimiter: '\r' })).toEqual([['a', 'b']]);
    expect(await csv('\ra\r\r\n', { ...ceph, quoteCharacter: '\r' })).toEqual([['a']]);
  });
});
