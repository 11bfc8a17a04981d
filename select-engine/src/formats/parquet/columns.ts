// A batch from the native Parquet scan (one Buffer of columns, layout in native/src/select_parquet/encode.rs)
// as row objects. Each column is read through typed-array views of the buffer; values take the engine's
// types: INT64 as number within 2^53 (else bigint), DECIMAL as exact Decimal, timestamps as Timestamp in UTC
// keeping their unit's fraction digits (milliseconds, microseconds, nanoseconds), dates as a UTC midnight,
// lists, structs and maps as plain values (decoded from JSON text).
import { PARQUET_COLUMN as K } from '@cairn/native';
import { Decimal } from '../../exec/decimal.js';
import { Timestamp } from '../../exec/timestamp.js';
import { inInt64 } from '../../exec/int64.js';
import { SelectError } from '../../errors.js';

type Get = (row: number) => unknown;

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function texts(buf: Buffer, offsetsAt: number, bytesAt: number, rows: number): (row: number) => string {
  const offsets = new Uint32Array(buf.buffer, buf.byteOffset + offsetsAt, rows + 1);
  const base = bytesAt;
  return (r) => buf.toString('utf8', base + offsets[r], base + offsets[r + 1]);
}

/** Fraction digits of a timestamp from its millisecond and the nanoseconds within it. */
function fraction(ms: number, subMs: number, digits: number): string {
  const milli = String(((ms % 1000) + 1000) % 1000).padStart(3, '0');
  if (digits <= 3) return milli;
  return (milli + String(subMs).padStart(6, '0')).slice(0, digits);
}

function column(buf: Buffer, d: Uint32Array, rows: number): Get {
  const [kind, nullsAt, a, b, param] = d;
  const f64 = () => new Float64Array(buf.buffer, buf.byteOffset + a, rows);
  const i64 = () => new BigInt64Array(buf.buffer, buf.byteOffset + a, rows);
  let get: Get;
  switch (kind) {
    case K.NULL:
      return () => null;
    case K.F64: {
      const v = f64();
      get = (r) => v[r];
      break;
    }
    case K.I64: {
      const v = i64();
      get = (r) => {
        const x = v[r];
        return x >= -SAFE && x <= SAFE ? Number(x) : x;
      };
      break;
    }
    case K.BOOL: {
      const v = new Uint8Array(buf.buffer, buf.byteOffset + a, rows);
      get = (r) => v[r] === 1;
      break;
    }
    case K.TEXT:
      get = texts(buf, a, b, rows);
      break;
    case K.DEC64: {
      const v = i64();
      const scale = param | 0;
      get = (r) => new Decimal(v[r], scale);
      break;
    }
    case K.DECTEXT: {
      const t = texts(buf, a, b, rows);
      const scale = param | 0;
      get = (r) => new Decimal(BigInt(t(r)), scale);
      break;
    }
    case K.TIME: {
      const ms = f64();
      const sub = new Uint32Array(buf.buffer, buf.byteOffset + b, rows);
      const digits = param;
      get = (r) => new Timestamp(ms[r], 0, 'fraction', fraction(ms[r], sub[r], digits));
      break;
    }
    case K.JSON: {
      const t = texts(buf, a, b, rows);
      get = (r) => JSON.parse(t(r));
      break;
    }
    case K.BIGTEXT: {
      const t = texts(buf, a, b, rows);
      get = (r) => BigInt(t(r));
      break;
    }
    default:
      throw new Error(`Parquet batch: unknown column kind ${kind}`);
  }
  if (nullsAt === 0) return get;
  const nulls = new Uint8Array(buf.buffer, buf.byteOffset + nullsAt, rows);
  const present = get;
  return (r) => (nulls[r] === 1 ? null : present(r));
}

/** Row objects of a batch, keys in the file's column order. */
export function batchRows(batch: Buffer, fields: string[]): Record<string, unknown>[] {
  // Typed views need the section offsets aligned to the element size: copy a buffer that is not.
  const buf = batch.byteOffset % 8 === 0 ? batch : Buffer.from(new Uint8Array(batch));
  const head = new Uint32Array(buf.buffer, buf.byteOffset, 2);
  const [rows, cols] = [head[0], head[1]];
  if (cols !== fields.length) throw new Error('Parquet batch: column count differs from the scan');
  const desc = new Uint32Array(buf.buffer, buf.byteOffset + 8, cols * 6);
  const getters: Get[] = [];
  for (let c = 0; c < cols; c++) getters.push(column(buf, desc.subarray(c * 6, c * 6 + 6), rows));
  const out = new Array<Record<string, unknown>>(rows);
  for (let r = 0; r < rows; r++) {
    const o: Record<string, unknown> = {};
    for (let c = 0; c < cols; c++) o[fields[c]] = getters[c](r);
    out[r] = o;
  }
  return out;
}

/** One aggregate's result as the native scan writes it (native/src/select_parquet/aggregate.rs). */
interface NativeAggregate {
  t: 'int' | 'float' | 'dec' | 'avgdec' | 'time' | 'string' | 'bool' | 'null';
  v?: string | number | boolean;
  scale?: number;
  n?: number;
  digits?: number;
}

function intValue(text: string): number | bigint {
  const b = BigInt(text);
  return b >= -SAFE && b <= SAFE ? Number(b) : b;
}

/** The aggregates' results as engine values; AVG of INT and DECIMAL is divided here, as the evaluator divides. */
export function aggregateValues(json: string): unknown[] {
  return (JSON.parse(json) as NativeAggregate[]).map((a) => {
    switch (a.t) {
      case 'int': {
        // SUM of INT is an INT (8 bytes, AWS s3-select-sql-reference-aggregate.html): a total past 64 bits is
        // IntegerOverflow, as exec/aggregates.ts has it. Only SUM's result carries `n`; MIN and MAX of a UINT64
        // column may be past 2^63 (its values are).
        const v = intValue(String(a.v));
        if (a.n !== undefined && typeof v === 'bigint' && !inInt64(v))
          throw new SelectError('IntegerOverflow', 'SUM of INT values past 64 bits');
        return v;
      }
      case 'float':
        return typeof a.v === 'number' ? a.v : Number(a.v); // NaN and the infinities arrive as text
      case 'dec':
        return new Decimal(BigInt(String(a.v)), a.scale ?? 0);
      case 'avgdec':
        return new Decimal(BigInt(String(a.v)), a.scale ?? 0).div(Decimal.fromInt(a.n ?? 1));
      case 'time': {
        const nanos = BigInt(String(a.v));
        const ms = Number(nanos / 1_000_000n - (nanos % 1_000_000n < 0n ? 1n : 0n));
        const sub = Number(nanos - BigInt(ms) * 1_000_000n);
        return new Timestamp(ms, 0, 'fraction', fraction(ms, sub, a.digits ?? 3));
      }
      case 'string':
      case 'bool':
        return a.v;
      default:
        return null;
    }
  });
}
