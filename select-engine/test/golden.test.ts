// Golden tests: plain-text cases under test/golden/**/*.case (format in test/golden/README.md). Each case
// runs its SQL over every input it lists (the same rows as CSV, JSON and Parquet) and must produce the
// expected output text or the expected AWS error code.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { bufferSource } from '../src/formats/index.js';
import type { SelectRequest } from '../src/index.js';
import { runToEnd } from './helpers.js';

const ROOT = join(import.meta.dirname, 'golden');
const DATA = join(ROOT, 'data');

interface Input {
  label: string;
  format: 'csv' | 'json' | 'parquet';
  options: Record<string, string>;
  data: Buffer;
}

interface Case {
  name: string;
  sql: string;
  inputs: Input[];
  output: { format: 'csv' | 'json'; options: Record<string, string> };
  expected?: string;
  error?: string;
  dialect?: 'aws' | 'cairn' | 'ceph';
}

function unescape(s: string): string {
  return s.replace(/\\(.)/g, (_m, c: string) => ({ t: '\t', n: '\n', r: '\r', s: ' ', '\\': '\\' })[c] ?? c);
}

/** `Key=Value` tokens (escapes: \t \n \r \s \\) and an optional `@file`. */
function options(tokens: string[]): { options: Record<string, string>; file?: string; words: string[] } {
  const o: Record<string, string> = {};
  const words: string[] = [];
  let file: string | undefined;
  for (const t of tokens) {
    const eq = t.indexOf('=');
    if (t.startsWith('@')) file = t.slice(1);
    else if (eq > 0) o[t.slice(0, eq)] = unescape(t.slice(eq + 1));
    else words.push(t);
  }
  return { options: o, file, words };
}

function parseCases(path: string): Case[] {
  const text = readFileSync(path, 'utf8');
  const cases: Case[] = [];
  let cur: Case | undefined;
  let section: { kind: string; lines: string[]; head: string[] } | undefined;
  const close = () => {
    if (!cur || !section) return;
    const body = section.lines.join('\n');
    const [kind, ...rest] = section.head;
    if (kind === 'sql') cur.sql = body.trim();
    else if (kind === 'expected') cur.expected = section.lines.length ? `${body}\n` : '';
    else if (kind === 'expected-escaped') cur.expected = unescape(body.trim());
    else if (kind === 'error') cur.error = rest[0];
    else if (kind === 'dialect') cur.dialect = rest[0] as 'cairn';
    else if (kind === 'output') cur.output = { format: rest[0] as 'csv', options: options(rest.slice(1)).options };
    else if (kind === 'input') {
      const { options: o, file, words } = options(rest.slice(1));
      let data = file
        ? readFileSync(join(DATA, file))
        : Buffer.from(section.lines.length ? body + (words.includes('noeol') ? '' : '\n') : '');
      // GZIP inputs are compressed here unless the file is already compressed (`precompressed`).
      if (o.CompressionType === 'GZIP' && !words.includes('precompressed')) data = gzipSync(data);
      cur.inputs.push({ label: `${rest[0]}${file ? ` ${file}` : ''}`, format: rest[0] as 'csv', options: o, data });
    } else throw new Error(`${path}: unknown section ${kind}`);
    section = undefined;
  };
  for (const line of text.split('\n')) {
    if (line.startsWith('### ')) {
      close();
      cur = { name: line.slice(4).trim(), sql: '', inputs: [], output: { format: 'csv', options: {} } };
      cases.push(cur);
    } else if (line.startsWith('== ')) {
      close();
      section = { kind: '', head: line.slice(3).trim().split(/\s+/), lines: [] };
    } else if (section) section.lines.push(line);
  }
  close();
  for (const c of cases) {
    // Trailing blank lines belong to no section.
    if (c.expected !== undefined) c.expected = c.expected.replace(/\n+$/, '\n').replace(/^\n$/, '');
  }
  return cases;
}

function requestOf(c: Case, input: Input): SelectRequest {
  const o = input.options;
  const r: SelectRequest = {
    expression: c.sql,
    input: { compressionType: (o.CompressionType as 'GZIP') ?? 'NONE' },
    output: {},
    dialect: c.dialect,
  };
  if (input.format === 'csv') {
    r.input.csv = {
      fileHeaderInfo: o.FileHeaderInfo as 'USE',
      comments: o.Comments,
      quoteEscapeCharacter: o.QuoteEscapeCharacter,
      recordDelimiter: o.RecordDelimiter,
      fieldDelimiter: o.FieldDelimiter,
      quoteCharacter: o.QuoteCharacter,
      allowQuotedRecordDelimiter: o.AllowQuotedRecordDelimiter === 'TRUE' ? true : undefined,
    };
  } else if (input.format === 'json') r.input.json = { type: (o.Type as 'LINES') ?? 'DOCUMENT' };
  else r.input.parquet = {};
  if (o.ScanRange) {
    const [a, b] = o.ScanRange.split('-');
    r.scanRange = { start: a === '' ? undefined : Number(a), end: b === '' || b === undefined ? undefined : Number(b) };
  }
  const out = c.output.options;
  if (c.output.format === 'csv') {
    r.output.csv = {
      quoteFields: out.QuoteFields as 'ALWAYS',
      quoteEscapeCharacter: out.QuoteEscapeCharacter,
      recordDelimiter: out.RecordDelimiter,
      fieldDelimiter: out.FieldDelimiter,
      quoteCharacter: out.QuoteCharacter,
    };
  } else r.output.json = { recordDelimiter: out.RecordDelimiter };
  return r;
}

function* caseFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* caseFiles(p);
    else if (name.endsWith('.case')) yield p;
  }
}

const files = [...caseFiles(ROOT)];
let total = 0;
for (const file of files) {
  const cases = parseCases(file);
  total += cases.length;
  describe(relative(ROOT, file), () => {
    for (const c of cases) {
      it(c.name, async () => {
        expect(c.inputs.length, 'a case needs at least one input').toBeGreaterThan(0);
        expect(c.expected !== undefined || c.error !== undefined, 'a case needs expected output or an error').toBe(
          true,
        );
        for (const input of c.inputs) {
          const out = await runToEnd(requestOf(c, input), bufferSource(input.data, 7 + (input.data.length % 13) * 5), {
            nowMs: Date.UTC(2024, 0, 2, 3, 4, 5, 678),
          });
          if (c.error) expect(out.error, `${input.label}: error code`).toBe(c.error);
          else {
            expect(out.error, `${input.label}: unexpected error`).toBeUndefined();
            expect(out.records, `${input.label}: output`).toBe(c.expected);
          }
        }
      });
    }
  });
}

describe('golden corpus', () => {
  it('holds the cases', () => {
    expect(total).toBeGreaterThan(0);
  });
});
