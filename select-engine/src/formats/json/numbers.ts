// JSON numbers as AWS reads them. AWS S3 Select reads JSON through Ion, where an integer keeps every digit and a
// number with a decimal point and no exponent is a DECIMAL that keeps its digits: `1.0` comes back as `1.0`, `2.50`
// as `2.50` (a JS double would print 1 and 2.5). Exponent numbers (Ion floats) stay JS numbers, and so do integers
// and decimals whose double holds them exactly (1.5, 42): only the records holding a number like 1.0, 2.50 or
// 9007199254740993 take JSON.parse's slower reviver, which sees each number's text (Node 22 and later). Integers
// past 2^53 become bigints (INT) while they fit 64 bits, DECIMALs (scale 0) past that; long decimals DECIMALs.
// Finding the records with a long number: the native side looks at each chunk (jsonLongNumberRun, one byte in 16),
// and only the records of chunks where it finds one are looked at here (`mayHoldLongNumber`).
import { Decimal } from '../../exec/decimal.js';
import { inInt64 } from '../../exec/int64.js';

/** The quote closing the JSON string that opens at `q` (a quote after an odd run of backslashes is escaped); -1 if none. */
function closingQuote(text: string, q: number): number {
  for (let e = text.indexOf('"', q + 1); e !== -1; e = text.indexOf('"', e + 1)) {
    let slashes = 0;
    while (text.charCodeAt(e - 1 - slashes) === 92) slashes++;
    if (slashes % 2 === 0) return e;
  }
  return -1;
}

/**
 * Whether the text may hold a decimal a double would shorten: a digit, a point, digits ending in 0, and no
 * exponent after them, outside strings (a timestamp such as "00:00:00.000Z" is text). Visits only the points
 * and quotes of the text (a regular expression over it costs a third more).
 */
function mayShortenADecimal(text: string): boolean {
  let i = text.indexOf('.');
  let q = i > 0 ? text.indexOf('"') : -1;
  while (i > 0) {
    if (q !== -1 && q < i) {
      // A string opens before this point: skip the point if the string holds it, then look past the string.
      const close = closingQuote(text, q);
      if (close === -1) return true; // not JSON: JSON.parse says so
      if (close > i) i = text.indexOf('.', close + 1);
      q = text.indexOf('"', close + 1);
      continue;
    }
    const before = text.charCodeAt(i - 1);
    if (before >= 48 && before <= 57) {
      let j = i + 1;
      let last = 0;
      for (let c = text.charCodeAt(j); c >= 48 && c <= 57; c = text.charCodeAt(++j)) last = c;
      const after = text.charCodeAt(j);
      if (last === 48 && after !== 101 && after !== 69 && after !== 46) return true; // '0', then not e, E or .
    }
    i = text.indexOf('.', i + 1);
  }
  return false;
}

/** Digits from which a number may not survive a double (every 15-digit integer or decimal does). */
const LONG_NUMBER = 16;

function isNumberChar(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 46;
}

/**
 * Whether the text holds a run of at least LONG_NUMBER digits (points allowed among them), in a string or not:
 * any run of 16 characters holds one at an index 16k + 15, so only those are looked at (the native
 * jsonLongNumberRun does the same over bytes).
 */
export function mayHoldLongNumber(text: string): boolean {
  const n = text.length;
  for (let i = LONG_NUMBER - 1; i < n; i += LONG_NUMBER) {
    if (!isNumberChar(text.charCodeAt(i))) continue;
    let start = i;
    while (start > 0 && isNumberChar(text.charCodeAt(start - 1))) start--;
    let digits = 0;
    let end = start;
    for (let c = text.charCodeAt(end); isNumberChar(c); c = text.charCodeAt(++end)) if (c !== 46) digits++;
    if (digits >= LONG_NUMBER) return true;
    // A longer run after `end` (neither a digit nor a point) spans the index end + 15.
    i = end - 1;
  }
  return false;
}

function exactNumber(_key: string, value: unknown, context?: { source?: string }): unknown {
  const text = context?.source;
  if (typeof value !== 'number' || text === undefined) return value;
  if (text.includes('e') || text.includes('E')) return value; // an Ion float
  if (!text.includes('.')) {
    // An integer: exact as a number while it is a safe integer, else the bigint (INT), or past 64 bits a DECIMAL.
    if (Number.isSafeInteger(value)) return value;
    const big = BigInt(text);
    return inInt64(big) ? big : new Decimal(big, 0);
  }
  return String(value) === text ? value : (Decimal.parse(text) ?? value);
}

/**
 * JSON.parse of one record, decimals such as 1.0 kept as DECIMAL values. `long`: the record may hold a number of
 * 16 digits or more (its chunk does), so it is looked for.
 */
export function parseJsonText(text: string, long = false): unknown {
  if (!mayShortenADecimal(text) && !(long && mayHoldLongNumber(text))) return JSON.parse(text);
  return JSON.parse(text, exactNumber as (key: string, value: unknown) => unknown);
}
