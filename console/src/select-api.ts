// S3 Select from the browser: the request (SQL over CSV, JSON lines or Parquet, answered as JSON lines) and
// its event stream turned into records.
import { ApiError, call } from './client.js';
import { readMessages } from './eventstream.js';
import { buildXml, type XmlTree } from './xml.js';

export type InputFormat = 'CSV' | 'JSON' | 'Parquet';

export function formatOf(key: string): InputFormat {
  if (/\.parquet$/i.test(key)) return 'Parquet';
  if (/\.(json|jsonl|ndjson)$/i.test(key)) return 'JSON';
  return 'CSV';
}

export interface SelectResult {
  /** The records' JSON lines as the server sent them (what "Download" saves). */
  raw: string;
  rows: Record<string, unknown>[];
  columns: string[];
}

export async function runSelect(bucket: string, key: string, sql: string, format: InputFormat): Promise<SelectResult> {
  const input: XmlTree =
    format === 'CSV'
      ? { CSV: { FileHeaderInfo: 'USE' } }
      : format === 'JSON'
        ? { JSON: { Type: 'LINES' } }
        : { Parquet: {} };
  const body = buildXml('SelectObjectContentRequest', {
    Expression: sql,
    ExpressionType: 'SQL',
    InputSerialization: input,
    OutputSerialization: { JSON: { RecordDelimiter: '\n' } },
  });
  const res = await call({
    method: 'POST',
    bucket,
    key,
    query: [
      ['select', ''],
      ['select-type', '2'],
    ],
    body,
  });
  const chunks: Uint8Array[] = [];
  for (const m of readMessages(new Uint8Array(await res.arrayBuffer()))) {
    if (m.headers[':message-type'] === 'error') {
      throw new ApiError(m.headers[':error-code'] ?? 'SelectError', m.headers[':error-message'] ?? '', 400);
    }
    if (m.headers[':event-type'] === 'Records') chunks.push(m.payload);
  }
  const raw = new TextDecoder().decode(concat(chunks));
  const rows = raw
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const columns: string[] = [];
  for (const r of rows) for (const c of Object.keys(r)) if (!columns.includes(c)) columns.push(c);
  return { raw, rows, columns };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** The object's column names, from its first record (for the editor's column list). */
export async function columnsOf(bucket: string, key: string): Promise<string[]> {
  return (await runSelect(bucket, key, 'SELECT * FROM S3Object s LIMIT 1', formatOf(key))).columns;
}
