// A minimal Thrift compact-protocol writer, enough to forge Parquet footers that lie (test use only).

export type TValue =
  | { i32: number }
  | { i64: bigint }
  | { str: string }
  | { bin: Buffer }
  | { list: TValue[]; elem: number }
  | { struct: TStruct };
export type TStruct = Array<[field: number, value: TValue]>;

const I32 = 5;
const I64 = 6;
const BINARY = 8;
const LIST = 9;
const STRUCT = 12;

function varint(out: number[], v: bigint): void {
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
}

const zigzag = (v: bigint) => (v << 1n) ^ (v >> 63n);

function typeOf(v: TValue): number {
  if ('i32' in v) return I32;
  if ('i64' in v) return I64;
  if ('str' in v || 'bin' in v) return BINARY;
  if ('list' in v) return LIST;
  return STRUCT;
}

function value(out: number[], v: TValue): void {
  if ('i32' in v) varint(out, zigzag(BigInt(v.i32)) & 0xffffffffn);
  else if ('i64' in v) varint(out, zigzag(v.i64) & 0xffffffffffffffffn);
  else if ('str' in v || 'bin' in v) {
    const b = 'bin' in v ? v.bin : Buffer.from(v.str);
    varint(out, BigInt(b.length));
    out.push(...b);
  } else if ('list' in v) {
    if (v.list.length < 15) out.push((v.list.length << 4) | v.elem);
    else {
      out.push(0xf0 | v.elem);
      varint(out, BigInt(v.list.length));
    }
    for (const e of v.list) value(out, e);
  } else struct(out, v.struct);
}

function struct(out: number[], s: TStruct): void {
  let last = 0;
  for (const [id, v] of s) {
    const delta = id - last;
    if (delta > 0 && delta < 16) out.push((delta << 4) | typeOf(v));
    else {
      out.push(typeOf(v));
      varint(out, zigzag(BigInt(id)));
    }
    value(out, v);
    last = id;
  }
  out.push(0);
}

export { BINARY, I32, STRUCT };

export function encode(s: TStruct): Buffer {
  const out: number[] = [];
  struct(out, s);
  return Buffer.from(out);
}

/** A Parquet file: 'PAR1', `body`, then the footer and its length. */
export function parquetFile(body: Buffer, footer: TStruct): Buffer {
  const f = encode(footer);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(f.length);
  return Buffer.concat([Buffer.from('PAR1'), body, f, len, Buffer.from('PAR1')]);
}

/** Footer of a one-column (INT64 "x") file, with the numbers a test wants to lie about. */
export function oneColumnFooter(o: {
  rows?: bigint;
  uncompressed?: bigint;
  compressed?: bigint;
  offset?: bigint;
  pathCount?: number;
}): TStruct {
  const path: TValue[] = Array.from({ length: o.pathCount ?? 1 }, () => ({ str: 'x' }));
  const meta: TStruct = [
    [1, { i32: 2 }], // INT64
    [2, { list: [{ i32: 0 }], elem: I32 }],
    [3, { list: path, elem: BINARY }],
    [4, { i32: 0 }], // UNCOMPRESSED
    [5, { i64: o.rows ?? 1n }],
    [6, { i64: o.uncompressed ?? 20n }],
    [7, { i64: o.compressed ?? 20n }],
    [9, { i64: o.offset ?? 4n }],
  ];
  return [
    [1, { i32: 1 }],
    [
      2,
      {
        list: [
          {
            struct: [
              [4, { str: 'schema' }],
              [5, { i32: 1 }],
            ],
          },
          {
            struct: [
              [1, { i32: 2 }],
              [3, { i32: 0 }],
              [4, { str: 'x' }],
            ],
          },
        ],
        elem: STRUCT,
      },
    ],
    [3, { i64: o.rows ?? 1n }],
    [
      4,
      {
        list: [
          {
            struct: [
              [
                1,
                {
                  list: [
                    {
                      struct: [
                        [2, { i64: 4n }],
                        [3, { struct: meta }],
                      ],
                    },
                  ],
                  elem: STRUCT,
                },
              ],
              [2, { i64: o.uncompressed ?? 20n }],
              [3, { i64: o.rows ?? 1n }],
            ],
          },
        ],
        elem: STRUCT,
      },
    ],
  ];
}
