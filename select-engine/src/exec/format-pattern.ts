// TO_STRING(timestamp, pattern): the pattern (Java DateTimeFormatter letters, as the AWS SQL reference
// lists them) is compiled once into a list of small formatters.
import { SelectError } from '../errors.js';
import { pad, type Timestamp } from './timestamp.js';

type Part = (ts: Timestamp, local: Date) => string;

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

function offsetText(offset: number, withColon: boolean, hoursOnly: boolean, zForZero: boolean): string {
  if (offset === 0 && zForZero) return 'Z';
  const a = Math.abs(offset);
  const h = pad(Math.floor(a / 60), 2);
  const m = pad(a % 60, 2);
  const sign = offset < 0 ? '-' : '+';
  if (hoursOnly) return a % 60 === 0 ? sign + h : sign + h + m;
  return sign + h + (withColon ? ':' : '') + m;
}

function letterPart(letter: string, n: number): Part | undefined {
  switch (letter) {
    case 'y':
      if (n === 2) return (_t, d) => pad(d.getUTCFullYear() % 100, 2);
      return (_t, d) => pad(d.getUTCFullYear(), n);
    case 'M':
      if (n <= 2) return (_t, d) => pad(d.getUTCMonth() + 1, n);
      if (n === 3) return (_t, d) => MONTHS[d.getUTCMonth()].slice(0, 3);
      if (n === 4) return (_t, d) => MONTHS[d.getUTCMonth()];
      if (n === 5) return (_t, d) => MONTHS[d.getUTCMonth()][0];
      return undefined;
    case 'd':
      return n <= 2 ? (_t, d) => pad(d.getUTCDate(), n) : undefined;
    case 'a':
      return n === 1 ? (_t, d) => (d.getUTCHours() < 12 ? 'AM' : 'PM') : undefined;
    case 'h':
      return n <= 2 ? (_t, d) => pad(d.getUTCHours() % 12 === 0 ? 12 : d.getUTCHours() % 12, n) : undefined;
    case 'H':
      return n <= 2 ? (_t, d) => pad(d.getUTCHours(), n) : undefined;
    case 'm':
      return n <= 2 ? (_t, d) => pad(d.getUTCMinutes(), n) : undefined;
    case 's':
      return n <= 2 ? (_t, d) => pad(d.getUTCSeconds(), n) : undefined;
    case 'S':
      return n <= 9 ? (t) => pad(t.nanos, 9).slice(0, n) : undefined;
    case 'n':
      return (t) => String(t.nanos);
    case 'X':
      if (n === 1) return (t) => offsetText(t.offset, false, true, true);
      if (n === 2 || n === 4) return (t) => offsetText(t.offset, false, false, true);
      if (n === 3 || n === 5) return (t) => offsetText(t.offset, true, false, true);
      return undefined;
    case 'x':
      if (n === 1) return (t) => offsetText(t.offset, false, true, false);
      if (n === 2 || n === 4) return (t) => offsetText(t.offset, false, false, false);
      if (n === 3 || n === 5) return (t) => offsetText(t.offset, true, false, false);
      return undefined;
    default:
      return undefined;
  }
}

/** Compiles a TO_STRING pattern; throws the AWS pattern error codes. */
export function compileTimestampPattern(pattern: string): (ts: Timestamp) => string {
  const parts: Part[] = [];
  let i = 0;
  let hasAmPm = false;
  let has12h = false;
  let has24h = false;
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === "'") {
      // '' is one quote, outside quoted text and inside it ('o''clock' is o'clock), as in Java's DateTimeFormatter.
      if (pattern[i + 1] === "'") {
        parts.push(() => "'");
        i += 2;
        continue;
      }
      let text = '';
      let j = i + 1;
      for (;;) {
        const close = pattern.indexOf("'", j);
        if (close < 0) throw new SelectError('EvaluatorUnterminatedTimestampFormatPatternToken');
        text += pattern.slice(j, close);
        if (pattern[close + 1] !== "'") {
          j = close + 1;
          break;
        }
        text += "'";
        j = close + 2;
      }
      parts.push(() => text);
      i = j;
      continue;
    }
    if (/[A-Za-z]/.test(c)) {
      let n = 1;
      while (pattern[i + n] === c) n++;
      const part = letterPart(c, n);
      if (!part)
        throw new SelectError(
          'EvaluatorInvalidTimestampFormatPatternSymbol',
          `Invalid timestamp format symbol ${c.repeat(n)}`,
        );
      if (c === 'a') hasAmPm = true;
      if (c === 'h') has12h = true;
      if (c === 'H') has24h = true;
      parts.push(part);
      i += n;
      continue;
    }
    parts.push(() => c);
    i++;
  }
  if ((has12h && !hasAmPm) || (has24h && hasAmPm))
    throw new SelectError('EvaluatorTimestampFormatPatternHourClockAmPmMismatch');
  return (ts) => {
    const local = ts.local();
    let s = '';
    for (const p of parts) s += p(ts, local);
    return s;
  };
}
