// Random bytes and mutated valid files fed to every scanner: each run ends in records or a SelectError,
// never a crash, a hang or another error type. Seeds are fixed so a failure reproduces.
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  bufferSource,
  scanCsv,
  scanJson,
  scanParquet,
  withDecompression,
  type ScanResult,
} from '../../src/formats/index.js';
import { newStats } from './helpers.js';
import { seededRandom } from '../../../test/helpers/random.js';

/** Rounds per scanner; FUZZ_ROUNDS=5000 for a longer hunt. */
const ROUNDS = Number(process.env.FUZZ_ROUNDS ?? 300);
const fixture = (name: string) => readFile(new URL(`./fixtures/${name}`, import.meta.url));

type Scan = (bytes: Buffer) => Promise<ScanResult>;

/** Runs one scan to the end within `ms`; returns 'ok' or the error code. */
async function outcome(scan: Scan, bytes: Buffer, ms = 5000): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const run = (async () => {
    try {
      const r = await scan(bytes);
      for await (const _ of r.batches);
      return 'ok';
    } catch (e) {
      if ((e as Error).name === 'SelectError') return (e as { code: string }).code;
      throw e;
    }
  })();
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`scan did not finish in ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([run, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function randomBytes(rand: () => number, n: number, alphabet?: Buffer): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++)
    b[i] = alphabet ? alphabet[Math.floor(rand() * alphabet.length)] : Math.floor(rand() * 256);
  return b;
}

/** Overwrites, inserts or deletes a few bytes, biased towards `hot` (e.g. a Parquet footer). */
function mutate(rand: () => number, src: Buffer, hot?: { from: number; to: number }): Buffer {
  let b = Buffer.from(src);
  const edits = 1 + Math.floor(rand() * 4);
  for (let e = 0; e < edits; e++) {
    const region = hot && rand() < 0.7 ? hot : { from: 0, to: b.length };
    const at = region.from + Math.floor(rand() * Math.max(1, region.to - region.from));
    const kind = rand();
    if (kind < 0.6) b[at % b.length] = Math.floor(rand() * 256);
    else if (kind < 0.8)
      b = Buffer.concat([b.subarray(0, at), randomBytes(rand, 1 + Math.floor(rand() * 8)), b.subarray(at)]);
    else b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + Math.floor(rand() * 8)))]);
  }
  return b;
}

const CSV_ALPHABET = Buffer.from('ab,"\n\r#\\1 ');
const JSON_ALPHABET = Buffer.from('{}[]":,1a\\ \nnulltrue');

describe('fuzz', () => {
  const csvScans: Scan[] = [
    (b) => scanCsv(bufferSource(b, 17), {}, { stats: newStats() }),
    (b) =>
      scanCsv(
        bufferSource(b, 5),
        { allowQuotedRecordDelimiter: true, fileHeaderInfo: 'USE', quoteEscapeCharacter: '\\' },
        { stats: newStats(), columns: [2] },
      ),
    (b) =>
      scanCsv(
        bufferSource(b, 9),
        { recordDelimiter: '\r\n', fieldDelimiter: '::' },
        { stats: newStats(), scanRange: { start: 3, end: 40 } },
      ),
  ];
  const jsonScans: Scan[] = [
    (b) => scanJson(bufferSource(b, 13), { type: 'DOCUMENT' }, { stats: newStats() }),
    (b) => scanJson(bufferSource(b, 4), { type: 'DOCUMENT', arrayElements: true }, { stats: newStats() }),
    (b) => scanJson(bufferSource(b, 11), { type: 'LINES' }, { stats: newStats(), scanRange: { start: 2 } }),
  ];

  it('CSV: random bytes and mutated CSV', async () => {
    const rand = seededRandom(1).next;
    const valid = Buffer.from('h1,h2,h3\n"a,b",c,"d""e"\n#x\n1,2,3\r\n"multi\nline",x,y\n');
    const seen = new Set<string>();
    for (let i = 0; i < ROUNDS; i++) {
      const bytes =
        i % 2
          ? randomBytes(rand, Math.floor(rand() * 200), i % 4 === 1 ? CSV_ALPHABET : undefined)
          : mutate(rand, valid);
      for (const scan of csvScans) seen.add(await outcome(scan, bytes));
    }
    expect(seen.has('ok')).toBe(true);
    expect([...seen].every((c) => /^(ok|CSV\w+|OverMaxRecordSize|InvalidScanRange)$/.test(c))).toBe(true);
  });

  it('JSON: random bytes and mutated JSON', async () => {
    const rand = seededRandom(2).next;
    const valid = Buffer.from('{"a":[1,{"b":"x\\"}"}],"c":null}\n[{"d":true},2]\n"s"\n{"e":{"f":[[]]}}\n');
    const seen = new Set<string>();
    for (let i = 0; i < ROUNDS; i++) {
      const bytes =
        i % 2
          ? randomBytes(rand, Math.floor(rand() * 200), i % 4 === 1 ? JSON_ALPHABET : undefined)
          : mutate(rand, valid);
      for (const scan of jsonScans) seen.add(await outcome(scan, bytes));
    }
    expect(seen.has('ok') && seen.has('JSONParsingError')).toBe(true);
    expect([...seen].every((c) => /^(ok|JSONParsingError|OverMaxRecordSize|InvalidScanRange)$/.test(c))).toBe(true);
  });

  it('Parquet: random bytes and mutated files (footer-biased)', async () => {
    const rand = seededRandom(3).next;
    const files = await Promise.all(
      [
        'types-zstd.parquet',
        'types-snappy.parquet',
        'encodings.parquet',
        'rowgroups.parquet',
        'types-v2-nodict.parquet',
      ].map(fixture),
    );
    const seen = new Set<string>();
    // Plain scans, scans filtering in the native scan (WHERE id >= 5) and scans aggregating there.
    const id = { steps: ['id'], quoted: [false] };
    const where = {
      conjuncts: [{ column: id, op: '>=' as const, values: [{ kind: 'int' as const, text: '5' }] }],
      whole: true,
    };
    const aggregates = [{ func: 'COUNT' as const }, { func: 'MAX' as const, column: id }];
    let round = 0;
    const scan: Scan = (b) => {
      const extra = round % 3 === 1 ? { where } : round % 3 === 2 ? { where, aggregates } : {};
      return scanParquet(bufferSource(b), undefined, { stats: newStats(), ...extra });
    };
    for (let i = 0; i < ROUNDS; i++) {
      round = i;
      let bytes: Buffer;
      if (i % 10 === 0) bytes = randomBytes(rand, Math.floor(rand() * 300));
      else {
        const f = files[i % files.length];
        const footer = f.readUInt32LE(f.length - 8);
        bytes = mutate(rand, f, i % 3 ? { from: f.length - 8 - footer, to: f.length } : undefined);
      }
      seen.add(await outcome(scan, bytes));
    }
    expect(seen.has('ParquetParsingError')).toBe(true);
    expect([...seen].every((c) => /^(ok|Parquet\w+|OverMaxParquetBlockSize)$/.test(c))).toBe(true);
  });

  it('compressed input: mutated GZIP and BZIP2 streams', async () => {
    const rand = seededRandom(4).next;
    const gz = gzipSync('a,b\n'.repeat(2000));
    const bzs = [await fixture('two-streams.csv.bz2'), await fixture('runs.bin.bz2')];
    const seen = new Set<string>();
    for (let i = 0; i < ROUNDS / 2; i++) {
      const gzip = i % 2 === 0;
      const bytes = mutate(rand, gzip ? gz : bzs[(i >> 1) % 2]);
      seen.add(
        await outcome(
          (b) => scanCsv(withDecompression(bufferSource(b, 64), gzip ? 'GZIP' : 'BZIP2'), {}, { stats: newStats() }),
          bytes,
        ),
      );
    }
    expect(
      [...seen].every((c) => /^(ok|TruncatedInput|InvalidCompressionFormat|CSV\w+|OverMaxRecordSize)$/.test(c)),
    ).toBe(true);
  });
});
