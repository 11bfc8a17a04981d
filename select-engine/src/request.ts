// SelectObjectContentRequest: the typed request, and its parser from the XML body the client sends.
// Element values are kept exactly as sent (delimiters may be spaces, tabs or newlines).
import { XMLParser } from 'fast-xml-parser';
import { SelectError } from './errors.js';
import { DIALECTS, type Dialect } from './sql/ast.js';
import type { CsvInputOptions } from './formats/csv/index.js';
import type { JsonInputOptions } from './formats/json/index.js';
import type { CsvOutputOptions } from './output/csv-writer.js';
import type { JsonOutputOptions } from './output/json-writer.js';

export type { CsvInputOptions, JsonInputOptions, CsvOutputOptions, JsonOutputOptions };

export interface SelectRequest {
  expression: string;
  /** Only SQL exists. */
  expressionType?: 'SQL';
  /** RequestProgress/Enabled: send Progress messages while scanning. */
  requestProgress?: boolean;
  input: {
    compressionType?: 'NONE' | 'GZIP' | 'BZIP2';
    csv?: CsvInputOptions;
    json?: JsonInputOptions;
    parquet?: Record<string, never>;
  };
  output: { csv?: CsvOutputOptions; json?: JsonOutputOptions };
  /** Byte range of the object whose records are processed (End inclusive). */
  scanRange?: { start?: number; end?: number };
  /** Beyond AWS (request switch, not in the XML): the SQL dialect, `aws` by default. */
  dialect?: Dialect;
  /** Beyond AWS (request switch): records as an Arrow IPC stream instead of CSV or JSON text. */
  arrowOutput?: boolean;
}

type XmlNode = Record<string, unknown>;

const parser = new XMLParser({
  removeNSPrefix: true,
  trimValues: false,
  parseTagValue: false,
  ignoreAttributes: true,
  htmlEntities: true,
  processEntities: true,
});

function bad(code: ConstructorParameters<typeof SelectError>[0], message?: string): never {
  throw new SelectError(code, message);
}

/** An element as an object (an empty or whitespace-only element is an empty object). */
function obj(v: unknown, name: string): XmlNode | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') {
    if (v.trim() !== '') bad('MalformedXML', `${name} must contain elements`);
    return {};
  }
  if (Array.isArray(v)) bad('MalformedXML', `${name} appears more than once`);
  return v as XmlNode;
}

/** A text element, exactly as sent; undefined when absent. */
function text(parent: XmlNode | undefined, name: string): string | undefined {
  const v = parent?.[name];
  if (v === undefined) return undefined;
  if (Array.isArray(v)) bad('MalformedXML', `${name} appears more than once`);
  if (typeof v === 'object') return '';
  return String(v);
}

function upper(parent: XmlNode | undefined, name: string): string | undefined {
  return text(parent, name)?.trim().toUpperCase();
}

function bool(parent: XmlNode | undefined, name: string): boolean | undefined {
  const v = upper(parent, name);
  if (v === undefined) return undefined;
  if (v !== 'TRUE' && v !== 'FALSE') bad('InvalidRequestParameter', `${name} must be TRUE or FALSE`);
  return v === 'TRUE';
}

function csvInput(x: XmlNode): CsvInputOptions {
  const fileHeaderInfo = upper(x, 'FileHeaderInfo');
  if (fileHeaderInfo !== undefined && !['USE', 'IGNORE', 'NONE'].includes(fileHeaderInfo)) bad('InvalidFileHeaderInfo');
  return {
    fileHeaderInfo: fileHeaderInfo as CsvInputOptions['fileHeaderInfo'],
    comments: text(x, 'Comments'),
    quoteEscapeCharacter: text(x, 'QuoteEscapeCharacter'),
    recordDelimiter: text(x, 'RecordDelimiter'),
    fieldDelimiter: text(x, 'FieldDelimiter'),
    quoteCharacter: text(x, 'QuoteCharacter'),
    allowQuotedRecordDelimiter: bool(x, 'AllowQuotedRecordDelimiter'),
  };
}

function csvOutput(x: XmlNode): CsvOutputOptions {
  const quoteFields = upper(x, 'QuoteFields');
  if (quoteFields !== undefined && quoteFields !== 'ALWAYS' && quoteFields !== 'ASNEEDED') bad('InvalidQuoteFields');
  const o: CsvOutputOptions = {
    quoteFields: quoteFields as CsvOutputOptions['quoteFields'],
    quoteEscapeCharacter: text(x, 'QuoteEscapeCharacter'),
    recordDelimiter: text(x, 'RecordDelimiter'),
    fieldDelimiter: text(x, 'FieldDelimiter'),
    quoteCharacter: text(x, 'QuoteCharacter'),
  };
  return o;
}

function scanRangeOf(x: XmlNode | undefined): SelectRequest['scanRange'] {
  if (!x) return undefined;
  const num = (name: string) => {
    const v = text(x, name)?.trim();
    if (v === undefined) return undefined;
    if (!/^\d{1,15}$/.test(v)) bad('InvalidScanRange', `ScanRange ${name} must be a non-negative integer`);
    return Number(v);
  };
  const start = num('Start');
  const end = num('End');
  if (start === undefined && end === undefined) bad('InvalidScanRange', 'ScanRange needs Start or End');
  if (start !== undefined && end !== undefined && start > end) bad('InvalidScanRange', 'ScanRange Start is after End');
  return { start, end };
}

/** Checks a typed request (from the XML parser or built by a caller) and fills in defaults. */
export function validateRequest(r: SelectRequest): SelectRequest {
  if (typeof r.expression !== 'string' || r.expression.trim() === '')
    bad('MissingRequiredParameter', 'Expression is required');
  if (r.expressionType !== undefined && String(r.expressionType).toUpperCase() !== 'SQL') bad('InvalidExpressionType');
  const inputs = [r.input?.csv, r.input?.json, r.input?.parquet].filter((x) => x !== undefined).length;
  if (inputs === 0) bad('MissingRequiredParameter', 'InputSerialization needs CSV, JSON or Parquet');
  if (inputs > 1) bad('ObjectSerializationConflict');
  const outputs = [r.output?.csv, r.output?.json].filter((x) => x !== undefined).length;
  if (outputs === 0) bad('MissingRequiredParameter', 'OutputSerialization needs CSV or JSON');
  if (outputs > 1) bad('ObjectSerializationConflict');
  if (r.dialect !== undefined && !DIALECTS.includes(r.dialect))
    bad('InvalidRequestParameter', `The SQL dialect is one of ${DIALECTS.join(', ')}`);
  if (r.arrowOutput && (r.output.csv || (r.output.json?.recordDelimiter ?? '\n') !== '\n'))
    bad(
      'InvalidRequestParameter',
      'Arrow output takes the place of JSON output: send <JSON/> without a RecordDelimiter',
    );
  const compression = (r.input.compressionType ?? 'NONE').toUpperCase();
  if (!['NONE', 'GZIP', 'BZIP2'].includes(compression))
    bad('InvalidCompressionFormat', `CompressionType ${r.input.compressionType} is not supported`);
  if (r.input.parquet && compression !== 'NONE')
    bad('InvalidRequestParameter', 'Parquet input cannot be compressed with CompressionType');
  const jsonType = r.input.json?.type?.toUpperCase();
  if (jsonType !== undefined && jsonType !== 'DOCUMENT' && jsonType !== 'LINES') bad('InvalidJsonType');
  if (r.scanRange) {
    const { start, end } = r.scanRange;
    if (
      (start !== undefined && (!Number.isInteger(start) || start < 0)) ||
      (end !== undefined && (!Number.isInteger(end) || end < 0))
    )
      bad('InvalidScanRange');
    if (start !== undefined && end !== undefined && start > end) bad('InvalidScanRange');
  }
  return {
    ...r,
    input: {
      ...r.input,
      compressionType: compression as 'NONE',
      json: r.input.json ? { ...r.input.json, type: (jsonType ?? 'DOCUMENT') as 'DOCUMENT' } : undefined,
    },
  };
}

/** Parses the XML body of a SelectObjectContent request. Throws SelectError (MalformedXML, ...). */
export function parseSelectRequestXml(body: string | Uint8Array): SelectRequest {
  const xml =
    typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  if (xml.trim() === '') bad('EmptyRequestBody');
  let doc: XmlNode;
  try {
    doc = parser.parse(xml, true) as XmlNode;
  } catch (e) {
    bad('MalformedXML', (e as Error).message);
  }
  const root = obj(doc.SelectObjectContentRequest ?? doc.SelectRequest, 'SelectObjectContentRequest');
  if (!root) bad('MalformedXML', 'The root element must be SelectObjectContentRequest');
  const input = obj(root.InputSerialization, 'InputSerialization');
  const output = obj(root.OutputSerialization, 'OutputSerialization');
  if (!input || !output) bad('MissingRequiredParameter', 'InputSerialization and OutputSerialization are required');
  const csvIn = obj(input.CSV, 'CSV');
  const jsonIn = obj(input.JSON, 'JSON');
  const parquetIn = obj(input.Parquet, 'Parquet');
  const csvOut = obj(output.CSV, 'CSV');
  const jsonOut = obj(output.JSON, 'JSON');
  const request: SelectRequest = {
    expression: text(root, 'Expression') ?? '',
    expressionType: (upper(root, 'ExpressionType') ?? 'SQL') as 'SQL',
    requestProgress: bool(obj(root.RequestProgress, 'RequestProgress'), 'Enabled') ?? false,
    input: {
      compressionType: (upper(input, 'CompressionType') ?? 'NONE') as 'NONE',
      csv: csvIn ? csvInput(csvIn) : undefined,
      json: jsonIn ? { type: (upper(jsonIn, 'Type') ?? 'DOCUMENT') as 'DOCUMENT' } : undefined,
      parquet: parquetIn ? {} : undefined,
    },
    output: {
      csv: csvOut ? csvOutput(csvOut) : undefined,
      json: jsonOut ? { recordDelimiter: text(jsonOut, 'RecordDelimiter') } : undefined,
    },
    scanRange: scanRangeOf(obj(root.ScanRange, 'ScanRange')),
  };
  return validateRequest(request);
}
