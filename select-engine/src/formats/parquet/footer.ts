// Reads and validates a Parquet footer before anything is allocated from its numbers: a hostile file
// (lying lengths, huge declared sizes, offsets outside the file) ends in ParquetParsingError or
// OverMaxParquetBlockSize, never in a large allocation.

import { parquetMetadata, type FileMetaData, type RowGroup } from 'hyparquet';
import type { ByteSource, ScanOptions } from '../types.js';
import { scanError, type SelectError } from '../errors.js';
import { countedRead } from '../source.js';

/** AWS: Parquet row groups up to 512 MB uncompressed. */
export const MAX_ROW_GROUP_BYTES = 512 * 1024 * 1024;
/** Footers beyond this are refused (a real one with thousands of row groups stays far below). */
const MAX_FOOTER_BYTES = 64 * 1024 * 1024;
/** Rows of one row group materialised at once; beyond it the file is refused rather than risk memory. */
export const MAX_ROW_GROUP_ROWS = 1 << 22;

export function parquetError(message: string, cause?: unknown): SelectError {
  return scanError('ParquetParsingError', message, cause);
}

/** Where a column chunk starts: its dictionary page if any (some writers put 0 there for none). */
export function chunkStart(m: { dictionary_page_offset?: bigint; data_page_offset: bigint }): number {
  const dict = m.dictionary_page_offset === undefined ? 0 : Number(m.dictionary_page_offset);
  const data = Number(m.data_page_offset);
  return dict > 0 ? Math.min(dict, data) : data;
}

/** Byte range of a row group's column chunks: [start, end). */
export function rowGroupSpan(rg: RowGroup): { start: number; end: number } {
  let start = Infinity;
  let end = 0;
  for (const col of rg.columns) {
    const m = col.meta_data;
    if (!m) continue;
    const from = chunkStart(m);
    start = Math.min(start, from);
    end = Math.max(end, from + Number(m.total_compressed_size));
  }
  return { start: start === Infinity ? 0 : start, end };
}

export async function readFooter(
  source: ByteSource,
  opts: Pick<ScanOptions, 'stats' | 'signal'>,
): Promise<FileMetaData> {
  const size = source.size;
  if (size < 12) throw parquetError('The object is too small to be a Parquet file.');
  const tail = Buffer.from(await countedRead(source, opts, size - 8, size));
  if (tail.length !== 8 || tail.toString('latin1', 4) !== 'PAR1')
    throw parquetError('The object does not end with the Parquet magic number.');
  const footerLength = tail.readUInt32LE(0);
  if (footerLength > size - 12 || footerLength > MAX_FOOTER_BYTES) {
    throw parquetError(`The Parquet footer length ${footerLength} does not fit the object.`);
  }
  const footer = await countedRead(source, opts, size - 8 - footerLength, size - 8);
  if (footer.byteLength !== footerLength) throw parquetError('Short read of the Parquet footer.');
  // parquetMetadata wants the footer followed by its length and magic.
  const buf = new Uint8Array(footerLength + 8);
  buf.set(footer, 0);
  buf.set(tail, footerLength);
  let metadata: FileMetaData;
  try {
    metadata = parquetMetadata(buf.buffer);
  } catch (e) {
    throw parquetError(`Invalid Parquet footer: ${(e as Error).message}`, e);
  }
  validate(metadata, size - 8 - footerLength);
  return metadata;
}

/** Maximum schema depth accepted (pyarrow nests a list of structs in 3-4 levels per level of data). */
const MAX_SCHEMA_DEPTH = 64;

/** The path of every leaf column, in schema order, walking the flat schema without recursion. */
function schemaLeafPaths(md: FileMetaData): string[] {
  const out: string[] = [];
  const path: string[] = [];
  const remaining: number[] = [];
  const root = md.schema[0];
  path.push(String(root.name));
  remaining.push(Number(root.num_children ?? 0));
  for (let i = 1; i < md.schema.length; i++) {
    while (remaining.length && remaining[remaining.length - 1] === 0) {
      remaining.pop();
      path.pop();
    }
    if (!remaining.length) throw parquetError('The Parquet schema has more elements than its root declares.');
    remaining[remaining.length - 1]--;
    const el = md.schema[i];
    const children = Number(el.num_children ?? 0);
    if (typeof el.name !== 'string' || !Number.isSafeInteger(children) || children < 0)
      throw parquetError('Invalid Parquet schema element.');
    if (children > 0) {
      if (remaining.length >= MAX_SCHEMA_DEPTH) throw parquetError('The Parquet schema is nested too deeply.');
      path.push(el.name);
      remaining.push(children);
    } else {
      out.push([...path.slice(1), el.name].join('\u0000'));
    }
  }
  if (remaining.some((r) => r > 0)) throw parquetError('The Parquet schema declares more children than it has.');
  return out;
}

/** Checks every number we later allocate or read by; `dataEnd` is where the footer starts. */
function validate(md: FileMetaData, dataEnd: number): void {
  if (!Array.isArray(md.schema) || md.schema.length < 1 || !Array.isArray(md.row_groups)) {
    throw parquetError('The Parquet footer has no schema or row groups.');
  }
  const leafPaths = schemaLeafPaths(md);
  const leaves = leafPaths.length;
  for (const rg of md.row_groups) {
    const rows = Number(rg.num_rows);
    if (!Number.isSafeInteger(rows) || rows < 0) throw parquetError('A row group declares an invalid row count.');
    if (!Array.isArray(rg.columns) || rg.columns.length !== leaves)
      throw parquetError('A row group does not match the schema.');
    let uncompressed = 0;
    for (let c = 0; c < rg.columns.length; c++) {
      const m = rg.columns[c].meta_data;
      if (!m) throw parquetError('A column chunk has no metadata (external column chunks are not supported).');
      // hyparquet pairs chunks with schema leaves by path; a chunk matching no leaf would be decoded unobserved.
      if (!Array.isArray(m.path_in_schema) || m.path_in_schema.join('\u0000') !== leafPaths[c]) {
        throw parquetError('A column chunk does not match its schema column.');
      }
      const offset = chunkStart(m);
      const dataOffset = Number(m.data_page_offset);
      const compressed = Number(m.total_compressed_size);
      const colUncompressed = Number(m.total_uncompressed_size);
      if (![offset, dataOffset, compressed, colUncompressed].every((x) => Number.isSafeInteger(x) && x >= 0)) {
        throw parquetError('A column chunk declares invalid sizes.');
      }
      if (offset < 4 || offset + compressed > dataEnd) {
        throw parquetError('A column chunk lies outside the file.');
      }
      if (colUncompressed > MAX_ROW_GROUP_BYTES) throw scanError('OverMaxParquetBlockSize');
      uncompressed += colUncompressed;
    }
    if (uncompressed > MAX_ROW_GROUP_BYTES || Number(rg.total_byte_size) > MAX_ROW_GROUP_BYTES)
      throw scanError('OverMaxParquetBlockSize');
    if (rows > MAX_ROW_GROUP_ROWS)
      throw scanError(
        'OverMaxParquetBlockSize',
        `A row group holds ${rows} rows; at most ${MAX_ROW_GROUP_ROWS} are supported.`,
      );
  }
}
