// The event stream as a client sees it: known-answer frames, Records under 128 KiB, exact Stats, Progress,
// Cont keep-alives, LIMIT stopping the reads, errors before and after the stream started, and the
// pushdown contract with a scanner (an in-memory record source stands in for one where noted).
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { bufferSource } from '../src/formats/index.js';
import type { ByteSource, ScanOptions, ScanRecord, ScanResult } from '../src/formats/types.js';
import { runSelect, SelectError, type Scanner, type SelectRequest } from '../src/index.js';
import { contMessage, endMessage, MAX_RECORDS_PAYLOAD } from '../src/output/event-stream.js';
import { decodeFrame, runToEnd, statsOf } from './helpers.js';

const csvRequest = (expression: string, extra: Partial<SelectRequest> = {}): SelectRequest => ({
  expression,
  input: { csv: { fileHeaderInfo: 'USE' } },
  output: { csv: {} },
  ...extra,
});

function bigCsv(rows: number): Buffer {
  let s = 'id,name,amount\n';
  for (let i = 0; i < rows; i++) s += `${i},name-${i},${(i * 7) % 1000}\n`;
  return Buffer.from(s);
}

/** A scanner over records held in memory: batches as given, optional pauses, filter applied or not. */
interface MemoryScannerOptions {
  applyFilter?: boolean;
  /** Awaited before each batch (0-based index): a test decides when the scan goes on. */
  gate?: (batch: number) => Promise<void>;
  failAfter?: number;
  header?: string[];
}

type MemoryScanner = Scanner & { filterCalls: number; closed: boolean };

function memoryScanner(batches: ScanRecord[][], o: MemoryScannerOptions = {}): MemoryScanner {
  const state = { filterCalls: 0, closed: false };
  const scanner: Scanner = async (_source: ByteSource, _r: SelectRequest, opts: ScanOptions): Promise<ScanResult> => {
    async function* gen(): AsyncGenerator<ScanRecord[]> {
      try {
        let i = 0;
        for (const b of batches) {
          if (o.failAfter !== undefined && i >= o.failAfter) throw new SelectError('CSVParsingError', 'broken record');
          if (o.gate) await o.gate(i);
          i++;
          const f = opts.filter;
          yield o.applyFilter && f ? b.filter((rec) => (state.filterCalls++, f(rec))) : b;
        }
      } finally {
        state.closed = true;
      }
    }
    return { header: o.header, filterApplied: !!(o.applyFilter && opts.filter), batches: gen() };
  };
  return Object.defineProperties(scanner as Scanner & { filterCalls: number; closed: boolean }, {
    filterCalls: { get: () => state.filterCalls },
    closed: { get: () => state.closed },
  });
}

describe('event-stream framing', () => {
  it('matches the known-answer Cont and End frames', () => {
    const cont = contMessage();
    expect(cont.length).toBe(57);
    expect(cont.readUInt32BE(4)).toBe(41);
    expect(cont.subarray(8, 12).toString('hex')).toBe('8ba19df2');
    expect(cont.subarray(53).toString('hex')).toBe('9c864a0d');
    const end = endMessage();
    expect(end.length).toBe(56);
    expect(end.readUInt32BE(4)).toBe(40);
    expect(end.subarray(8, 12).toString('hex')).toBe('c1c684d4');
    expect(end.subarray(52).toString('hex')).toBe('cf97d392');
    expect(crc32(end.subarray(0, 52))).toBe(end.readUInt32BE(52));
  });

  it('cuts Records payloads under 128 KiB and reassembles to the whole output', async () => {
    const data = bigCsv(60_000);
    const out = await runToEnd(csvRequest('SELECT * FROM S3Object'), bufferSource(data, 64 * 1024));
    const records = out.events.filter((e) => e.type === 'Records');
    expect(records.length).toBeGreaterThan(5);
    for (const r of records) expect(r.body.byteLength).toBeLessThanOrEqual(MAX_RECORDS_PAYLOAD);
    expect(MAX_RECORDS_PAYLOAD).toBeLessThan(128 * 1024);
    expect(out.records).toBe(data.toString().split('\n').slice(1).join('\n'));
    expect(out.events.at(-2)?.type).toBe('Stats');
    expect(out.events.at(-1)?.type).toBe('End');
  });

  it('reports exact Stats: bytes scanned and processed, Records payload bytes returned', async () => {
    const data = bigCsv(5000);
    const out = await runToEnd(csvRequest("SELECT name FROM S3Object WHERE amount = '7'"), bufferSource(data, 4096));
    const stats = statsOf(out);
    expect(stats.bytesScanned).toBe(data.length);
    expect(stats.bytesProcessed).toBe(data.length);
    const payload = out.events.filter((e) => e.type === 'Records').reduce((n, e) => n + e.body.byteLength, 0);
    expect(stats.bytesReturned).toBe(payload);
    expect(stats.bytesReturned).toBe(Buffer.byteLength(out.records));
    expect(out.records.split('\n').filter(Boolean).length).toBe(5);
  });

  it('sends Progress only when requested, closed with </Progress>', async () => {
    const data = bigCsv(2000);
    const withProgress = await runToEnd(
      csvRequest('SELECT COUNT(*) FROM S3Object', { requestProgress: true }),
      bufferSource(data, 1024),
      { progressMs: 0 },
    );
    const progress = withProgress.events.filter((e) => e.type === 'Progress');
    expect(progress.length).toBeGreaterThan(1);
    const last = Buffer.from(progress.at(-1)!.body).toString();
    expect(last).toMatch(
      /<Progress[^>]*><BytesScanned>\d+<\/BytesScanned><BytesProcessed>\d+<\/BytesProcessed><BytesReturned>\d+<\/BytesReturned><\/Progress>$/,
    );
    expect(last).toContain(`<BytesScanned>${data.length}</BytesScanned>`);
    const without = await runToEnd(csvRequest('SELECT COUNT(*) FROM S3Object'), bufferSource(data, 1024), {
      progressMs: 0,
    });
    expect(without.events.some((e) => e.type === 'Progress')).toBe(false);
  });

  it('sends Cont keep-alives while the scan produces nothing', async () => {
    // Each batch waits until the client has seen one more Cont than before it: the scan is stalled until
    // a keep-alive arrives, however slow or fast the machine (no pause to outlast).
    let conts = 0;
    const waiting: { n: number; go: () => void }[] = [];
    const gate = (batch: number) =>
      new Promise<void>((go) => (conts > batch ? go() : waiting.push({ n: batch + 1, go })));
    const scanner = memoryScanner(
      Array.from({ length: 6 }, () => [['x']]),
      { gate },
    );
    const request: SelectRequest = {
      expression: "SELECT * FROM S3Object WHERE _1 = 'y'",
      input: { csv: {} },
      output: { csv: {} },
    };
    const frames = await runSelect(request, bufferSource(Buffer.alloc(0)), { scanner, keepAliveMs: 5 });
    const types: string[] = [];
    for await (const f of frames) {
      const t = decodeFrame(f).type;
      types.push(t);
      if (t !== 'Cont') continue;
      conts++;
      for (const w of waiting.filter((x) => x.n <= conts)) {
        waiting.splice(waiting.indexOf(w), 1);
        w.go();
      }
    }
    expect(types.filter((t) => t === 'Cont').length).toBeGreaterThanOrEqual(6);
    expect(types.slice(-2)).toEqual(['Stats', 'End']);
    expect(types).not.toContain('Records');
  });

  it('sends an error message without End when the scan fails after the stream started', async () => {
    const scanner = memoryScanner([[['a']], [['b']], [['c']]], { failAfter: 1 });
    const out = await runToEnd(
      { expression: 'SELECT * FROM S3Object', input: { csv: {} }, output: { csv: {} } },
      bufferSource(Buffer.alloc(0)),
      { scanner },
    );
    expect(out.records).toBe('a\n');
    expect(out.error).toBe('CSVParsingError');
    expect(out.errorBeforeStream).toBe(false);
    const err = out.events.at(-1)!;
    expect(err.headers[':message-type']).toBe('error');
    expect(err.headers[':error-message']).toContain('broken record');
    expect(out.events.some((e) => e.type === 'End' || e.type === 'Stats')).toBe(false);
  });

  it('sends an evaluation error found mid-stream as an error message', async () => {
    const data = Buffer.from('a\n1\n2\nx\n3\n');
    const out = await runToEnd(csvRequest('SELECT CAST(a AS INT) FROM S3Object'), bufferSource(data, 2));
    expect(out.error).toBe('CastFailed');
    expect(out.errorBeforeStream).toBe(false);
  });

  it('throws SelectError before streaming for a bad request, with status and position', async () => {
    const err = await runSelect(
      csvRequest('SELECT a FROM S3Object WHERE a = = 1'),
      bufferSource(Buffer.from('a\n1\n')),
    ).catch((e) => e);
    expect(err).toBeInstanceOf(SelectError);
    expect(err.code).toBe('ParseUnexpectedTerm');
    expect(err.status).toBe(400);
    expect(err.position).toEqual({ line: 1, column: 34 });
    const missing = await runSelect(csvRequest('SELECT nope FROM S3Object'), bufferSource(Buffer.from('a\n1\n'))).catch(
      (e) => e,
    );
    expect(missing.code).toBe('MissingHeaders');
  });
});

describe('LIMIT and early termination', () => {
  function countingSource(data: Buffer, chunk: number): ByteSource & { chunksRead: number; closed: boolean } {
    const s = {
      size: data.length,
      chunksRead: 0,
      closed: false,
      async read(a: number, b: number) {
        return data.subarray(a, b);
      },
      async *stream(a = 0, b = data.length) {
        try {
          for (let p = a; p < b; p += chunk) {
            s.chunksRead++;
            yield data.subarray(p, Math.min(p + chunk, b));
          }
        } finally {
          s.closed = true;
        }
      },
    };
    return s;
  }

  it('stops reading the object once LIMIT rows are out', async () => {
    const data = bigCsv(100_000);
    const src = countingSource(data, 16 * 1024);
    const out = await runToEnd(csvRequest('SELECT name FROM S3Object LIMIT 3'), src);
    expect(out.records).toBe('name-0\nname-1\nname-2\n');
    expect(src.closed).toBe(true);
    expect(src.chunksRead).toBeLessThan(5);
    expect(statsOf(out).bytesScanned).toBeLessThan(data.length / 10);
  });

  it('stops reading with LIMIT after a WHERE clause', async () => {
    const data = bigCsv(100_000);
    const src = countingSource(data, 16 * 1024);
    const out = await runToEnd(csvRequest("SELECT id FROM S3Object WHERE amount = '14' LIMIT 2"), src);
    expect(out.records).toBe('2\n1002\n');
    expect(src.closed).toBe(true);
    expect(src.chunksRead).toBeLessThan(10);
  });

  it('closes the scan when the consumer stops early', async () => {
    const scanner = memoryScanner(Array.from({ length: 100 }, (_, i) => [[String(i)]]));
    const frames = await runSelect(
      { expression: 'SELECT * FROM S3Object', input: { csv: {} }, output: { csv: {} } },
      bufferSource(Buffer.alloc(0)),
      { scanner, keepAliveMs: 0 },
    );
    for await (const f of frames) {
      if (decodeFrame(f).type === 'Records' || decodeFrame(f).type === 'Cont') break;
    }
    await expect.poll(() => scanner.closed, { timeout: 10_000 }).toBe(true);
  });
});

describe('pushdown contract with an in-memory record source', () => {
  const rows = [
    ['1', 'a'],
    ['2', 'b'],
    ['3', 'c'],
    ['4', 'd'],
  ];

  it('evaluates WHERE above a scanner that did not apply it', async () => {
    const scanner = memoryScanner([rows], { applyFilter: false });
    const out = await runToEnd(
      { expression: "SELECT _2 FROM S3Object WHERE _1 > '2'", input: { csv: {} }, output: { csv: {} } },
      bufferSource(Buffer.alloc(0)),
      { scanner },
    );
    expect(out.records).toBe('c\nd\n');
    expect(scanner.filterCalls).toBe(0);
  });

  it('does not evaluate WHERE twice when the scanner applied it', async () => {
    const scanner = memoryScanner([rows], { applyFilter: true });
    const out = await runToEnd(
      { expression: "SELECT _2 FROM S3Object WHERE _1 > '2'", input: { csv: {} }, output: { csv: {} } },
      bufferSource(Buffer.alloc(0)),
      { scanner },
    );
    expect(out.records).toBe('c\nd\n');
    expect(scanner.filterCalls).toBe(4);
  });

  it('resolves header names for the pushed filter once the header is known', async () => {
    const scanner = memoryScanner([rows], { applyFilter: true, header: ['num', 'letter'] });
    const out = await runToEnd(
      {
        expression: "SELECT letter FROM S3Object WHERE NUM = '3'",
        input: { csv: { fileHeaderInfo: 'USE' } },
        output: { json: {} },
      },
      bufferSource(Buffer.alloc(0)),
      { scanner },
    );
    expect(out.records).toBe('{"letter":"c"}\n');
  });

  it('hands the scanner the needed columns, the conjuncts and the limit', async () => {
    let seen: ScanOptions | undefined;
    const scanner: Scanner = async (_s, _r, opts) => {
      seen = opts;
      return { filterApplied: false, batches: (async function* () {})() };
    };
    await runToEnd(
      {
        expression: "SELECT s.b FROM S3Object s WHERE s.a > 5 AND 'x' = s.c AND s.d IS NOT NULL LIMIT 7",
        input: { parquet: {} },
        output: { csv: {} },
      },
      bufferSource(Buffer.alloc(0)),
      { scanner },
    );
    expect(seen?.columns?.sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(seen?.conjuncts).toEqual([
      { column: 'a', op: '>', value: 5 },
      { column: 'c', op: '=', value: 'x' },
      { column: 'd', op: 'IS NOT NULL' },
    ]);
    expect(seen?.limit).toBe(7);
    expect(typeof seen?.filter).toBe('function');
  });

  it('passes no columns for SELECT * and no limit for aggregates', async () => {
    const seen: ScanOptions[] = [];
    const scanner: Scanner = async (_s, _r, opts) => {
      seen.push(opts);
      return { filterApplied: false, batches: (async function* () {})() };
    };
    await runToEnd(
      { expression: 'SELECT * FROM S3Object LIMIT 3', input: { csv: {} }, output: { csv: {} } },
      bufferSource(Buffer.alloc(0)),
      { scanner },
    );
    await runToEnd(
      { expression: 'SELECT COUNT(*) FROM S3Object LIMIT 3', input: { csv: {} }, output: { csv: {} } },
      bufferSource(Buffer.alloc(0)),
      { scanner },
    );
    await runToEnd(
      { expression: 'SELECT _2, _5 FROM S3Object', input: { csv: {} }, output: { csv: {} } },
      bufferSource(Buffer.alloc(0)),
      { scanner },
    );
    expect(seen[0].columns).toBeUndefined();
    expect(seen[0].limit).toBe(3);
    expect(seen[1].limit).toBeUndefined();
    expect(seen[2].columns).toEqual([2, 5]);
  });
});

describe('record size limits', () => {
  it('refuses an output record over 1 MB with OverMaxRecordSize', async () => {
    const field = 'x'.repeat(600 * 1024);
    const out = await runToEnd(
      { expression: 'SELECT _1 || _1 FROM S3Object', input: { csv: {} }, output: { csv: {} } },
      bufferSource(Buffer.from(`${field}\n`)),
    );
    expect(out.error).toBe('OverMaxRecordSize');
  });

  it('writes an output record just under 1 MB across several Records messages', async () => {
    const field = 'y'.repeat(500 * 1024);
    const out = await runToEnd(
      { expression: 'SELECT _1 || _1 FROM S3Object', input: { csv: {} }, output: { csv: {} } },
      bufferSource(Buffer.from(`${field}\n`)),
    );
    expect(out.error).toBeUndefined();
    expect(out.records.length).toBe(2 * field.length + 1);
    expect(out.events.filter((e) => e.type === 'Records').length).toBeGreaterThanOrEqual(8);
  });
});
