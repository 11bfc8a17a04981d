// Byte streams for tests and benchmarks (no vitest import: bench/ uses them too).
import { Readable } from 'node:stream';

/** A body that arrives in `chunk`-sized pieces, as a socket would deliver it (an uneven size by default). */
export function chunkedBody(buf: Buffer, chunk = 64 * 1024 + 7): Readable {
  let off = 0;
  return new Readable({
    read() {
      if (off >= buf.length) return void this.push(null);
      const n = Math.min(chunk, buf.length - off);
      this.push(buf.subarray(off, off + n));
      off += n;
    },
  });
}

/** Every byte of a stream, in one Buffer. */
export async function readAll(r: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}
