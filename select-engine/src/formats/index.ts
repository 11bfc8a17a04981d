// The format scanners: each turns a ByteSource into batches of records with the projection, WHERE, LIMIT
// and ScanRange pushed in as far as the format allows (see types.ts for the contract).

export type { ByteSource, ScanOptions, ScanRecord, ScanResult, SimplePredicate } from './types.js';
export { SelectError, scanError, MAX_RECORD_BYTES } from './errors.js';
export { bufferSource, fileSource, type DecompressingSource } from './source.js';
export { scanCsv, type CsvInputOptions } from './csv/index.js';
export { scanJson, type JsonInputOptions } from './json/index.js';
export { scanParquet, type ParquetInputOptions } from './parquet/index.js';
export { withDecompression, type CompressionType } from './compression.js';
