// Typed errors the scanners throw. `code` is the AWS SelectObjectContent error code; the HTTP edge (or the
// event-stream writer, once the stream has started) turns it into the client-visible error. Kept minimal so
// the engine-wide error table (src/errors.ts) can adopt or wrap it.

export type ScanErrorCode =
  | 'CSVParsingError'
  | 'JSONParsingError'
  | 'ParquetParsingError'
  | 'ParquetUnsupportedCompressionCodec'
  | 'OverMaxRecordSize'
  | 'OverMaxParquetBlockSize'
  | 'InvalidCompressionFormat'
  | 'InvalidScanRange'
  | 'InvalidColumnIndex'
  | 'InvalidRequestParameter'
  | 'InvalidTextEncoding'
  | 'UnsupportedScanRangeInput';

export class ScanError extends Error {
  override readonly name = 'ScanError';
  /** HTTP status when reported before the stream starts; every scanner error is a client error. */
  readonly httpStatus = 400;
  constructor(
    readonly code: ScanErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** AWS limit on one input record. */
export const MAX_RECORD_BYTES = 1024 * 1024;

export function overMaxRecordSize(): ScanError {
  return new ScanError('OverMaxRecordSize', `A record in the input exceeds the ${MAX_RECORD_BYTES} byte limit.`);
}
