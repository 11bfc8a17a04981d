// A Parquet object's schema, read from its footer alone (two ranged GETs: the last 512 KiB, then the rest of the
// metadata if it is longer) with hyparquet's metadata reader: the columns, their types, the row count.
import { type FileMetaData, parquetMetadataAsync, parquetSchema, type SchemaElement, type SchemaTree } from 'hyparquet';
import { readRange } from './s3.js';

/** Footers beyond this are not read: a preview must not pull a file's worth of metadata into the tab. */
const MAX_METADATA = 8 * 1024 * 1024;

export interface ParquetColumn {
  /** Dotted path of a leaf column (nested groups included). */
  path: string;
  /** The physical type (INT64, BYTE_ARRAY, ...). */
  type: string;
  /** The logical or converted type (STRING, TIMESTAMP, DECIMAL(10,2), ...), or ''. */
  logical: string;
  /** REQUIRED, OPTIONAL or REPEATED. */
  repetition: string;
}

export interface ParquetSummary {
  rows: bigint;
  rowGroups: number;
  createdBy: string;
  columns: ParquetColumn[];
}

export const isParquet = (key: string, type: string): boolean =>
  /\.parquet$/i.test(key) || type === 'application/vnd.apache.parquet' || type === 'application/x-parquet';

export async function parquetSummary(bucket: string, key: string, size: number): Promise<ParquetSummary> {
  const file = {
    byteLength: size,
    slice: (start: number, end = size) => {
      if (end - start > MAX_METADATA) throw new Error('The Parquet footer is larger than the preview reads (8 MiB)');
      return readRange(bucket, key, start, end);
    },
  };
  const meta: FileMetaData = await parquetMetadataAsync(file);
  const columns: ParquetColumn[] = [];
  const leaves = (t: SchemaTree) => {
    if (t.children.length === 0 && t.path.length > 0) columns.push(column(t));
    for (const c of t.children) leaves(c);
  };
  leaves(parquetSchema(meta));
  return { rows: meta.num_rows, rowGroups: meta.row_groups.length, createdBy: meta.created_by ?? '', columns };
}

function column(t: SchemaTree): ParquetColumn {
  const e = t.element;
  return { path: t.path.join('.'), type: e.type ?? '', logical: describe(e), repetition: e.repetition_type ?? '' };
}

/** The logical type as people write it (a converted type when the writer gave no logical one). */
function describe(e: SchemaElement): string {
  const l = e.logical_type;
  if (!l) return e.converted_type === 'DECIMAL' ? `DECIMAL(${e.precision},${e.scale ?? 0})` : (e.converted_type ?? '');
  switch (l.type) {
    case 'DECIMAL':
      return `DECIMAL(${l.precision},${l.scale})`;
    case 'TIME':
    case 'TIMESTAMP':
      return `${l.type}(${l.unit}${l.isAdjustedToUTC ? ', UTC' : ''})`;
    case 'INTEGER':
      return `${l.isSigned ? 'INT' : 'UINT'}${l.bitWidth}`;
    default:
      return l.type;
  }
}
