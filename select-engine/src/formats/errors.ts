// Scanner errors are the engine's SelectError (src/errors.ts) with AWS codes; this adds the cause and the
// record-size limit the scanners share.

import { SelectError, type SelectErrorCode } from '../errors.js';

export { SelectError };

export function scanError(code: SelectErrorCode, message?: string, cause?: unknown): SelectError {
  const e = new SelectError(code, message);
  if (cause !== undefined) Object.defineProperty(e, 'cause', { value: cause, enumerable: false });
  return e;
}

/** AWS limit on one input record. */
export const MAX_RECORD_BYTES = 1024 * 1024;

/**
 * Deepest nesting of arrays and objects a JSON record may have. The engine walks values recursively (output
 * writers, comparisons, JSON.stringify, which itself overflows V8's default stack near 4,400 levels), so the
 * limit is checked on the text, before any of that runs; deeper input is JSONParsingError.
 */
export const MAX_JSON_DEPTH = 1000;

export function overMaxRecordSize(): SelectError {
  return scanError('OverMaxRecordSize');
}
