// The S3 error code a call throws (or the text of any other error), for table-style tests of pure functions.
import { S3Error } from '../src/errors.js';

export function thrownCode(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof S3Error ? e.code : String(e);
  }
  return undefined;
}
