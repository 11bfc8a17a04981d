// JSON numbers as AWS reads them. AWS S3 Select reads JSON through Ion, where a number with a decimal point and no
// exponent is a DECIMAL that keeps its digits: `1.0` comes back as `1.0`, `2.50` as `2.50` (a JS double would
// print 1 and 2.5). Integers and exponent numbers (Ion floats) stay JS numbers, and so do decimals whose double
// prints the same (1.5): only the records holding a number like 1.0 or 2.50 take JSON.parse's slower reviver,
// which sees each number's text (Node 22 and later; on older Node such a number stays a double).
import { Decimal } from '../../exec/decimal.js';

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

function keepDecimalText(_key: string, value: unknown, context?: { source?: string }): unknown {
  const text = context?.source;
  if (typeof value !== 'number' || text === undefined || String(value) === text) return value;
  if (!text.includes('.') || text.includes('e') || text.includes('E')) return value;
  return Decimal.parse(text) ?? value;
}

/** JSON.parse of one record, decimals such as 1.0 kept as DECIMAL values. */
export function parseJsonText(text: string): unknown {
  if (!mayShortenADecimal(text)) return JSON.parse(text);
  return JSON.parse(text, keepDecimalText as (key: string, value: unknown) => unknown);
}
