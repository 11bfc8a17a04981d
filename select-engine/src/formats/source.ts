// Byte-source helpers shared by the scanners: reading a stream with the stats counters kept current,
// abort checks, and two simple ByteSource implementations (in-memory buffer, local file) used by tests,
// benchmarks and any caller that already holds the bytes.

import { open } from 'node:fs/promises';
import type { PiecePass } from '@cairn/native';
import type { ByteSource, ScanOptions } from './types.js';
import { scanError } from './errors.js';

/**
 * A ByteSource that decompresses another one (see compression.ts). It reports how many compressed bytes it
 * has pulled so far, so scanners can keep BytesScanned (compressed) apart from BytesProcessed (decompressed).
 */
export interface DecompressingSource extends ByteSource {
  readonly compressedBytesRead: number;
}

function isDecompressing(source: ByteSource): source is DecompressingSource {
  return typeof (source as Partial<DecompressingSource>).compressedBytesRead === 'number';
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason ?? new Error('aborted');
}

/**
 * Chunks of source bytes [start, end) as Buffers (no copy), counting them into opts.stats. With `lend` (true or
 * a count n, true being 1), the consumer promises to be done with a chunk (no view of it kept) when it asks for
 * the n-th one after it: the chunk is then given back to the source (`ByteSource.recycle`), which lets storage
 * reuse its read buffers instead of allocating (and garbage collecting) a megabyte per batch. `pass` goes to the
 * source's stream (ByteSource.stream); a chunk through it counts as the object bytes it stands for.
 */
export async function* countedChunks(
  source: ByteSource,
  opts: Pick<ScanOptions, 'stats' | 'signal'>,
  start?: number,
  end?: number,
  lend: boolean | number = false,
  pass?: PiecePass,
): AsyncGenerator<Buffer> {
  const decompressing = isDecompressing(source);
  const depth = lend === true ? 1 : lend === false ? 0 : lend;
  const recycle = depth > 0 ? source.recycle?.bind(source) : undefined;
  const passed = pass && source.passedBytes?.bind(source);
  const held: Uint8Array[] = [];
  for await (const chunk of source.stream(start, end, pass)) {
    throwIfAborted(opts.signal);
    // A chunk through the pass counts the object bytes it stands for.
    const bytes = passed?.(chunk) ?? chunk.byteLength;
    opts.stats.bytesProcessed += bytes;
    if (decompressing) opts.stats.bytesScanned = source.compressedBytesRead;
    else opts.stats.bytesScanned += bytes;
    yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    // Resumed: the consumer asked for the next chunk. (Stopped early, return() ends here: the GC takes them.)
    if (recycle) {
      held.push(chunk);
      if (held.length >= depth) recycle(held.shift()!);
    }
  }
}

/** Ranged read counted into the stats (Parquet footer and column chunks). */
export async function countedRead(
  source: ByteSource,
  opts: Pick<ScanOptions, 'stats' | 'signal'>,
  start: number,
  end: number,
): Promise<Uint8Array> {
  throwIfAborted(opts.signal);
  const bytes = await source.read(start, end);
  opts.stats.bytesScanned += bytes.byteLength;
  opts.stats.bytesProcessed += bytes.byteLength;
  return bytes;
}

/** A ByteSource over bytes in memory; `chunkSize` sets the stream's chunk size (tests vary it). */
export function bufferSource(bytes: Uint8Array, chunkSize = 256 * 1024): ByteSource {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    size: buf.length,
    async read(start, end) {
      return buf.subarray(start, Math.min(end, buf.length));
    },
    async *stream(start = 0, end = buf.length) {
      for (let p = start; p < end; p += chunkSize) yield buf.subarray(p, Math.min(p + chunkSize, end));
    },
  };
}

/**
 * Most bytes of chunk buffers a fileSource keeps for reuse: a Parquet scan holds a row group's column chunks
 * (megabytes of 1 MiB chunks) before it gives them back, as storage's pool keeps tens of megabytes.
 */
const FILE_POOL_BYTES = 32 << 20;

/**
 * A ByteSource over a local file (benchmarks, tools). Reads with positioned reads, never sync calls. Like
 * storage in the server, it takes chunks back (`recycle`) and reads the next ones into them, so a benchmark
 * over it measures what the server does instead of a fresh megabyte for the GC per chunk.
 */
export async function fileSource(
  path: string,
  chunkSize = 1024 * 1024,
): Promise<ByteSource & { close(): Promise<void> }> {
  const fh = await open(path, 'r');
  const { size } = await fh.stat();
  // Chunks out with a consumer, by the buffer each is a view of; buffers given back, ready for the next reads.
  const lent = new WeakMap<Uint8Array, Buffer>();
  const free: Buffer[] = [];
  return {
    size,
    async read(start, end) {
      if (start < 0 || end > size || start > end) throw scanError('InvalidRequestParameter', 'read outside the object');
      const out = Buffer.allocUnsafe(end - start);
      let done = 0;
      while (done < out.length) {
        const { bytesRead } = await fh.read(out, done, out.length - done, start + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return out.subarray(0, done);
    },
    async *stream(start = 0, end = size) {
      // One read ahead: the next chunk is read while the consumer works on this one.
      const readAt = async (p: number) => {
        // A buffer given back, or a fresh one: a chunk never given back may still be viewed by its consumer.
        const buf = free.pop() ?? Buffer.allocUnsafe(chunkSize);
        const { bytesRead } = await fh.read(buf, 0, Math.min(chunkSize, end - p), p);
        const chunk = buf.subarray(0, bytesRead);
        lent.set(chunk, buf);
        return chunk;
      };
      let p = start;
      let next = p < end ? readAt(p) : undefined;
      try {
        while (next) {
          const chunk = await next;
          if (chunk.length === 0) return;
          p += chunk.length;
          next = p < end ? readAt(p) : undefined;
          yield chunk;
        }
      } finally {
        await next?.catch(() => undefined); // never leave a read running on a handle about to close
      }
    },
    recycle(chunk) {
      // Only a chunk this source lent, and only once: anything else is left to the GC.
      const buf = lent.get(chunk);
      if (!buf) return;
      lent.delete(chunk);
      if ((free.length + 1) * buf.length <= FILE_POOL_BYTES) free.push(buf);
    },
    close: () => fh.close(),
  };
}
