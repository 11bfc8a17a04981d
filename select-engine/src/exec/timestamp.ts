// Timestamps as S3 Select (Ion) has them: an instant, the local offset it was written with, and the
// precision it was written to (2010T, 2010-01T, 2010-01-01, ...T10:15Z, ...T10:15:30Z, fractions kept).
import { SelectError } from '../errors.js';
import type { DatePart } from '../sql/ast.js';

export type Precision = 'year' | 'month' | 'day' | 'minute' | 'second' | 'fraction';
/** From the coarsest to the finest. */
const PRECISIONS: Precision[] = ['year', 'month', 'day', 'minute', 'second', 'fraction'];

export class Timestamp {
  constructor(
    /** UTC milliseconds since the epoch (whole milliseconds). */
    readonly ms: number,
    /** Offset from UTC in minutes (local = UTC + offset). */
    readonly offset: number,
    readonly precision: Precision,
    /** Fraction-of-second digits as written ('' unless precision is 'fraction'); may go below ms. */
    readonly frac: string,
    /** A date without a time has no offset: once a time is added it prints as -00:00 (Ion's unknown offset). */
    readonly unknownOffset = false,
  ) {}

  /** Nanoseconds within the second (from the fraction digits). */
  get nanos(): number {
    return Number(`${this.frac}000000000`.slice(0, 9));
  }

  /** The local wall-clock fields, computed with Date's UTC getters on the shifted instant. */
  local(): Date {
    return new Date(this.ms + this.offset * 60_000);
  }

  /** Sort key: epoch ms then the sub-millisecond digits (equal ms: equal first three digits of the fraction). */
  compare(o: Timestamp): number {
    return Math.sign(this.ms - o.ms) || Math.sign(this.nanos - o.nanos);
  }

  toJSON(): string {
    return this.toString();
  }

  toString(): string {
    const d = this.local();
    const y = pad(d.getUTCFullYear(), 4);
    if (this.precision === 'year') return `${y}T`;
    const mo = pad(d.getUTCMonth() + 1, 2);
    if (this.precision === 'month') return `${y}-${mo}T`;
    const day = `${y}-${mo}-${pad(d.getUTCDate(), 2)}`;
    if (this.precision === 'day') return day;
    let t = `${day}T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}`;
    if (this.precision !== 'minute') t += `:${pad(d.getUTCSeconds(), 2)}`;
    if (this.precision === 'fraction') t += `.${this.frac}`;
    return t + (this.unknownOffset ? '-00:00' : formatOffset(this.offset));
  }
}

export function pad(n: number, width: number): string {
  return (n < 0 ? '-' : '') + String(Math.abs(n)).padStart(width, '0');
}

function formatOffset(offset: number): string {
  if (offset === 0) return 'Z';
  const a = Math.abs(offset);
  return `${offset < 0 ? '-' : '+'}${pad(Math.floor(a / 60), 2)}:${pad(a % 60, 2)}`;
}

// Ion's text: a year or a month ends in T (2021T, 2021-01T; 2021 and 2021-01 are no timestamps), a date may.
const W3C =
  /^(\d{4})(?:T|-(\d{2})(?:T|-(\d{2})(?:T(?:(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(?:Z|([+-])(\d{2}):(\d{2})))?)?))$/i;

/** Parses W3C / Ion timestamp text; undefined when it is not one. */
export function parseTimestamp(text: string): Timestamp | undefined {
  const m = W3C.exec(text.trim());
  if (!m) return undefined;
  const [, ys, mos, ds, hs, mis, ss, fs, sign, oh, om] = m;
  const y = Number(ys);
  const mo = mos ? Number(mos) : 1;
  const d = ds ? Number(ds) : 1;
  const h = hs ? Number(hs) : 0;
  const mi = mis ? Number(mis) : 0;
  const s = ss ? Number(ss) : 0;
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59) return undefined;
  // No sign: Z, or no time (and so no offset).
  const offset = sign ? (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) : 0;
  if (Math.abs(offset) >= 24 * 60) return undefined;
  const fracMs = fs ? Number(`${fs}000`.slice(0, 3)) : 0;
  const dt = new Date(0);
  dt.setUTCFullYear(y, mo - 1, d);
  dt.setUTCHours(h, mi, s, fracMs);
  const localMs = dt.getTime();
  const precision: Precision = fs ? 'fraction' : ss ? 'second' : hs ? 'minute' : ds ? 'day' : mos ? 'month' : 'year';
  return new Timestamp(localMs - offset * 60_000, offset, precision, fs ?? '', !hs);
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
function daysInMonth(y: number, mo: number): number {
  return mo === 2 && isLeap(y) ? 29 : MONTH_DAYS[mo - 1];
}
function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/** Builds a timestamp from local wall-clock fields (ms since epoch as if UTC) and an offset. */
function fromLocal(
  localMs: number,
  offset: number,
  precision: Precision,
  frac: string,
  unknownOffset: boolean,
): Timestamp {
  return new Timestamp(localMs - offset * 60_000, offset, precision, frac, unknownOffset);
}

/** The parts DATE_ADD and DATE_DIFF count in (the offset parts are refused when the query is compiled). */
export type CountedPart = Exclude<DatePart, 'timezone_hour' | 'timezone_minute'>;

const PART_PRECISION: Record<CountedPart, Precision> = {
  year: 'year',
  month: 'month',
  day: 'day',
  hour: 'minute',
  minute: 'minute',
  second: 'second',
};

function maxPrecision(a: Precision, b: Precision): Precision {
  return PRECISIONS[Math.max(PRECISIONS.indexOf(a), PRECISIONS.indexOf(b))];
}

/**
 * DATE_ADD(part, n, ts): calendar arithmetic in the timestamp's own offset. A result outside the years 0001 to 9999
 * (Ion's, and so S3 Select's) is IllegalSqlFunctionArgument: past Date's range it would print as NaN.
 */
export function dateAdd(part: CountedPart, n: number, ts: Timestamp): Timestamp {
  const t = added(part, n, ts);
  const year = t.local().getUTCFullYear();
  if (year >= 1 && year <= 9999) return t;
  throw new SelectError('IllegalSqlFunctionArgument', `DATE_ADD(${part}, ${n}, ...) leaves the years 0001 to 9999`);
}

function added(part: CountedPart, n: number, ts: Timestamp): Timestamp {
  const local = ts.local();
  const precision = maxPrecision(ts.precision, PART_PRECISION[part]);
  // A timestamp has fraction digits exactly when its precision is 'fraction', which no counted part lowers.
  const frac = ts.frac;
  switch (part) {
    case 'year':
    case 'month': {
      const months = part === 'year' ? n * 12 : n;
      const y = local.getUTCFullYear();
      const mo = local.getUTCMonth() + months;
      const ny = y + Math.floor(mo / 12);
      const nmo = ((mo % 12) + 12) % 12;
      const day = Math.min(local.getUTCDate(), daysInMonth(ny, nmo + 1));
      const d = new Date(local.getTime());
      d.setUTCFullYear(ny, nmo, day);
      return fromLocal(d.getTime(), ts.offset, precision, frac, ts.unknownOffset);
    }
    case 'day':
      return new Timestamp(ts.ms + n * 86_400_000, ts.offset, precision, frac, ts.unknownOffset);
    case 'hour':
      return new Timestamp(ts.ms + n * 3_600_000, ts.offset, precision, frac, ts.unknownOffset);
    case 'minute':
      return new Timestamp(ts.ms + n * 60_000, ts.offset, precision, frac, ts.unknownOffset);
    case 'second':
      return new Timestamp(ts.ms + n * 1000, ts.offset, precision, frac, ts.unknownOffset);
  }
}

/** DATE_DIFF(part, a, b): whole units from a to b (calendar units for year and month). */
export function dateDiff(part: CountedPart, a: Timestamp, b: Timestamp): number {
  const diffMs = b.ms - a.ms;
  switch (part) {
    case 'year':
    case 'month': {
      const la = a.local();
      const lb = b.local();
      let months = (lb.getUTCFullYear() - la.getUTCFullYear()) * 12 + (lb.getUTCMonth() - la.getUTCMonth());
      // Not a whole month yet if b's day-and-time within its month is before a's.
      const ra = la.getTime() - Date.UTC(la.getUTCFullYear(), la.getUTCMonth(), 1);
      const rb = lb.getTime() - Date.UTC(lb.getUTCFullYear(), lb.getUTCMonth(), 1);
      if (months > 0 && rb < ra) months--;
      else if (months < 0 && rb > ra) months++;
      return part === 'year' ? Math.trunc(months / 12) : months;
    }
    case 'day':
      return Math.trunc(diffMs / 86_400_000);
    case 'hour':
      return Math.trunc(diffMs / 3_600_000);
    case 'minute':
      return Math.trunc(diffMs / 60_000);
    case 'second':
      return Math.trunc(diffMs / 1000);
  }
}

export function extract(part: DatePart, ts: Timestamp): number {
  const d = ts.local();
  switch (part) {
    case 'year':
      return d.getUTCFullYear();
    case 'month':
      return d.getUTCMonth() + 1;
    case 'day':
      return d.getUTCDate();
    case 'hour':
      return d.getUTCHours();
    case 'minute':
      return d.getUTCMinutes();
    case 'second':
      return d.getUTCSeconds();
    case 'timezone_hour':
      return Math.trunc(ts.offset / 60);
    case 'timezone_minute':
      return ts.offset % 60;
  }
}

export function utcNow(nowMs: number): Timestamp {
  return new Timestamp(nowMs, 0, 'fraction', pad(nowMs % 1000, 3));
}
