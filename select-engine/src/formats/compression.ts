// InputSerialization CompressionType for CSV and JSON: GZIP through node:zlib, BZIP2 through our
// streaming decoder (bzip2.ts: typed arrays, one 900 KB block at a time, CRC checked). The result is a
// ByteSource whose stream yields decompressed bytes and which counts the compressed bytes it pulled
// (BytesScanned) apart from what it yields (BytesProcessed). The first bytes are checked against the
// declared format, so a wrong CompressionType is an error rather than junk records.

import { PassThrough, Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Pacer } from '../pace.js';
import { bunzip2 } from './bzip2.js';
import type { ByteSource } from './types.js';
import { scanError } from './errors.js';
import type { DecompressingSource } from './source.js';

export type CompressionType = 'NONE' | 'GZIP' | 'BZIP2';

const GZIP_MAGIC = [0x1f, 0x8b];
const BZIP2_BLOCK_MAGIC = Buffer.from([0x31, 0x41, 0x59, 0x26, 0x53, 0x59]);

function looksGzip(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === GZIP_MAGIC[0] && b[1] === GZIP_MAGIC[1];
}

function looksBzip2(b: Uint8Array): boolean {
  // "BZh" + level 1-9, then the first block's magic (or the end-of-stream magic of an empty stream).
  return (
    b.length >= 4 &&
    b[0] === 0x42 &&
    b[1] === 0x5a &&
    b[2] === 0x68 &&
    b[3] >= 0x31 &&
    b[3] <= 0x39 &&
    (b.length < 10 || Buffer.from(b.subarray(4, 10)).equals(BZIP2_BLOCK_MAGIC) || (b[4] === 0x17 && b[5] === 0x72))
  );
}

function wrongFormat(message: string) {
  return scanError('InvalidCompressionFormat', message);
}

/** The first chunk(s) of a stream, gathered until `need` bytes (or the end), then the rest. */
async function* checked(
  chunks: AsyncIterable<Uint8Array>,
  check: (head: Uint8Array) => void,
  need = 10,
): AsyncGenerator<Uint8Array> {
  const it = chunks[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let have = 0;
  try {
    while (have < need) {
      const r = await it.next();
      if (r.done) break;
      head.push(r.value);
      have += r.value.byteLength;
    }
    const first = head.length === 1 ? head[0] : Buffer.concat(head);
    check(first);
    if (first.byteLength) yield first;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  } finally {
    await it.return?.();
  }
}

/** Wraps a source so that its stream is decompressed; NONE only checks the data is not compressed. */
/** `pacer`: the query's time slices, shared with the BZIP2 decoder (whose blocks can decode to 46 MB). */
export function withDecompression(source: ByteSource, type: string | undefined, pacer?: Pacer): ByteSource {
  const t = (type ?? 'NONE').toUpperCase();
  if (t === 'NONE') {
    return {
      size: source.size,
      read: (start, end) => source.read(start, end),
      stream(start, end, pass) {
        if (start) return source.stream(start, end, pass);
        return checked(source.stream(start, end, pass), (head) => {
          if (looksGzip(head) || (head.length >= 10 && looksBzip2(head))) {
            throw wrongFormat('The object is compressed but CompressionType is NONE.');
          }
        });
      },
      // The chunks pass through as they are (the head check only looks): giving them back is the source's, and
      // so is saying which went through a pass.
      ...(source.recycle && { recycle: source.recycle.bind(source) }),
      ...(source.passedBytes && { passedBytes: source.passedBytes.bind(source) }),
    };
  }
  if (t !== 'GZIP' && t !== 'BZIP2') throw wrongFormat(`CompressionType ${type} is not supported.`);
  const out: DecompressingSource & { compressedBytesRead: number } = {
    size: source.size,
    compressedBytesRead: 0,
    async read() {
      throw scanError('UnsupportedScanRangeInput', 'Ranged reads are not possible on a compressed object.');
    },
    stream(start, end) {
      if ((start ?? 0) !== 0 || (end ?? source.size) !== source.size) {
        throw scanError('UnsupportedScanRangeInput', 'ScanRange is not supported on a compressed object.');
      }
      out.compressedBytesRead = 0;
      const counted = async function* () {
        for await (const chunk of source.stream()) {
          out.compressedBytesRead += chunk.byteLength;
          yield chunk;
        }
      };
      const input = checked(counted(), (head) => {
        if (t === 'GZIP' ? !looksGzip(head) : !looksBzip2(head))
          throw wrongFormat(`The object is not ${t} compressed.`);
      });
      return t === 'GZIP' ? gunzip(input) : typedErrors(bunzip2(input, pacer), t);
    },
  };
  return out;
}

/** Rethrows anything but a SelectError as TruncatedInput (the data is not valid for its format). */
async function* typedErrors(chunks: AsyncGenerator<Uint8Array>, type: string): AsyncGenerator<Uint8Array> {
  try {
    yield* chunks;
  } catch (e) {
    if ((e as { name?: string }).name === 'SelectError') throw e;
    throw scanError('TruncatedInput', `Decompressing the ${type} object failed: ${(e as Error).message}`, e);
  }
}

/** node:zlib's streaming gunzip (concatenated members included) driven by the input generator. */
async function* gunzip(input: AsyncGenerator<Uint8Array>): AsyncGenerator<Uint8Array> {
  const source = Readable.from(input, { objectMode: false });
  const outStream = new PassThrough({ highWaterMark: 256 * 1024 });
  let failure: unknown;
  // Keep the first error, preferring our own (a wrong format found by `checked`) over what it causes.
  pipeline(source, createGunzip({ chunkSize: 256 * 1024 }), outStream, (err) => {
    if (err && (!failure || (err as Error).name === 'SelectError')) failure = err;
  });
  try {
    yield* typedErrors(outStream[Symbol.asyncIterator]() as AsyncGenerator<Uint8Array>, 'GZIP');
  } catch (e) {
    throw (failure as Error | undefined)?.name === 'SelectError' ? failure : e;
  } finally {
    source.destroy();
    outStream.destroy();
  }
}
