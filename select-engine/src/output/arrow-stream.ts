// Beyond AWS: results as an Arrow IPC stream (request switch, see README "S3 Select beyond AWS"), so pyarrow or
// polars read them without parsing text. The query writes JSON lines as usual (DISTINCT and ORDER BY compare
// those); this stage turns each batch of lines into an Arrow record batch. The schema is fixed by the first
// rows: a column per key in order of appearance; booleans Bool, integers Int64 (Float64 when a first-batch
// value has a fraction), text Utf8, anything else (timestamps, objects, lists) its JSON text as Utf8; a
// column null throughout the first batch is Utf8. A later value that does not fit its column's type, or a key
// the first batch did not have, fails the query (InvalidDataType) rather than being dropped or altered.
// apache-arrow (146 modules, a third of the engine's load time) is loaded by the first query asking for Arrow:
// loading a module graph holds the event loop, and most servers never answer with Arrow.
import type { DataType, Schema } from 'apache-arrow';
import { SelectError } from '../errors.js';

type Kind = 'bool' | 'int' | 'float' | 'text';
type Row = Record<string, unknown>;

/** Integers beyond 2^53 keep every digit (JSON.parse's source text, ES2025). */
function reviver(this: unknown, _key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value === 'number' && !Number.isSafeInteger(value) && context?.source && /^-?\d+$/.test(context.source))
    return BigInt(context.source);
  return value;
}

function parseLines(text: string): Row[] {
  const rows: Row[] = [];
  let from = 0;
  for (;;) {
    const nl = text.indexOf('\n', from);
    if (nl < 0) break;
    rows.push(JSON.parse(text.slice(from, nl), reviver as never) as Row);
    from = nl + 1;
  }
  return rows;
}

function kindOf(values: unknown[]): Kind {
  let kind: Kind | undefined;
  for (const v of values) {
    if (v === null || v === undefined) continue;
    const k: Kind =
      typeof v === 'boolean'
        ? 'bool'
        : typeof v === 'bigint'
          ? 'int'
          : typeof v === 'number'
            ? Number.isInteger(v)
              ? 'int'
              : 'float'
            : 'text';
    if (kind === undefined) kind = k;
    else if (kind !== k) {
      if ((kind === 'int' && k === 'float') || (kind === 'float' && k === 'int')) kind = 'float';
      else return 'text';
    }
  }
  return kind ?? 'text';
}

type Arrow = typeof import('apache-arrow');

/** The Arrow type of each kind, by the name its toString gives (error messages). */
const TYPE_NAMES: Record<Kind, string> = { bool: 'Bool', int: 'Int64', float: 'Float64', text: 'Utf8' };

function typeOf(arrow: Arrow, kind: Kind): DataType {
  switch (kind) {
    case 'bool':
      return new arrow.Bool();
    case 'int':
      return new arrow.Int64();
    case 'float':
      return new arrow.Float64();
    default:
      return new arrow.Utf8();
  }
}

function misfit(name: string, kind: Kind, v: unknown): never {
  throw new SelectError(
    'InvalidDataType',
    `Arrow output: column ${JSON.stringify(name).slice(0, 200)} is ${TYPE_NAMES[kind]} (from the first rows); ` +
      `a later value (${typeof v}) does not fit it.`,
  );
}

/** A column's values as its Arrow type takes them. */
function columnValues(name: string, kind: Kind, rows: Row[]): unknown[] {
  return rows.map((r) => {
    const v = r[name];
    if (v === null || v === undefined) return null;
    switch (kind) {
      case 'bool':
        return typeof v === 'boolean' ? v : misfit(name, kind, v);
      case 'int':
        if (typeof v === 'bigint') return v;
        return typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : misfit(name, kind, v);
      case 'float':
        return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : misfit(name, kind, v);
      default:
        return typeof v === 'string' ? v : JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x));
    }
  });
}

/** Byte length of the first IPC message (the schema) of a stream: continuation, length, metadata. */
function firstMessageLength(ipc: Uint8Array): number {
  const view = new DataView(ipc.buffer, ipc.byteOffset, ipc.byteLength);
  return 8 + view.getInt32(4, true);
}

/**
 * JSON lines in, Arrow IPC stream bytes out: the schema with the first batch, a record batch per batch of
 * lines, the end-of-stream marker at the end. Each batch is written as a one-batch stream by apache-arrow and
 * cut into its messages: the schema message is kept once, the end marker (8 bytes) only at the very end.
 */
export async function* arrowStream(lines: AsyncIterator<string>): AsyncGenerator<Uint8Array> {
  const arrow = await import('apache-arrow');
  const { Field, makeData, RecordBatch, Struct, Table, tableToIPC, vectorFromArray } = arrow;
  let schema: Schema | undefined;
  let columns: Array<{ name: string; kind: Kind }> = [];
  for (;;) {
    const r = await lines.next();
    if (r.done) break;
    const rows = parseLines(r.value);
    if (rows.length === 0) {
      yield new Uint8Array(0);
      continue;
    }
    let first = false;
    if (!schema) {
      first = true;
      const names: string[] = [];
      const seen = new Set<string>();
      for (const row of rows) for (const k in row) if (!seen.has(k)) seen.add(k), names.push(k);
      columns = names.map((name) => ({ name, kind: kindOf(rows.map((row) => row[name])) }));
      schema = new arrow.Schema(columns.map((c) => new Field(c.name, typeOf(arrow, c.kind), true)));
    } else {
      const known = new Set(columns.map((c) => c.name));
      for (const row of rows)
        for (const k in row)
          if (!known.has(k))
            throw new SelectError(
              'InvalidDataType',
              `Arrow output: key ${JSON.stringify(k).slice(0, 200)} is not among the columns of the first rows.`,
            );
    }
    // Children by position (an object keyed by name would reorder integer-like names).
    const children = columns.map(
      (c) => vectorFromArray(columnValues(c.name, c.kind, rows), typeOf(arrow, c.kind)).data[0],
    );
    const data = makeData({ type: new Struct(schema.fields), length: rows.length, nullCount: 0, children });
    const ipc = tableToIPC(new Table([new RecordBatch(schema, data)]), 'stream');
    const start = first ? 0 : firstMessageLength(ipc);
    yield ipc.subarray(start, ipc.length - 8);
  }
  if (!schema) {
    // No rows at all: an empty stream with an empty schema.
    yield tableToIPC(new Table(new arrow.Schema([])), 'stream');
    return;
  }
  // End of stream: continuation marker and a zero length.
  yield Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
}
