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

export function overMaxRecordSize(): SelectError {
  return scanError('OverMaxRecordSize');
}
