// Bytes in and out of the served folder: a body written to a temp file with its ETag MD5 and checksum
// computed on the way, files read as streams (ranges included), files concatenated (multipart).
import { createHash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { S3Error } from '../../errors.js';
import { checksumHasher } from '../engine/checksum.js';
import type { ByteRange, ChecksumAlgorithm, ObjectBody, RecyclingBody } from '../object-layer.js';

/** S3's largest object (5 TiB). */
const MAX_OBJECT = 5 * 1024 ** 4;
/** Body bytes gathered before one write to the file. */
const WRITE_BYTES = 1024 * 1024;
/** Bytes per read of a file being sent (the stream's chunk size). */
export const READ_BYTES = 256 * 1024;

export interface Written {
  size: number;
  md5: Buffer;
  checksum?: Buffer;
}

/**
 * Writes `body` to a new file at `path` (which must not exist), hashing it; IncompleteBody when it is not
 * `size` bytes (unless -1), EntityTooLarge past 5 TiB. The caller removes the file when this throws.
 */
export async function writeBody(
  body: Readable,
  path: string,
  opts: { size: number; checksumAlgorithm?: ChecksumAlgorithm },
): Promise<Written> {
  const fh = await open(path, 'wx', 0o644).catch(storageError);
  const md5 = createHash('md5');
  const ck = opts.checksumAlgorithm ? checksumHasher(opts.checksumAlgorithm) : undefined;
  let total = 0;
  let held: Buffer[] = [];
  let have = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > MAX_OBJECT) throw new S3Error('EntityTooLarge');
      if (opts.size >= 0 && total > opts.size) throw new S3Error('IncompleteBody');
      md5.update(chunk);
      ck?.update(chunk);
      held.push(chunk);
      have += chunk.length;
      if (have >= WRITE_BYTES) {
        await writeAll(fh, held, have);
        held = [];
        have = 0;
      }
    }
    if (have > 0) await writeAll(fh, held, have);
    if (opts.size >= 0 && total !== opts.size) throw new S3Error('IncompleteBody');
  } finally {
    await fh.close();
  }
  return { size: total, md5: md5.digest(), checksum: ck?.digest() };
}

async function writeAll(fh: FileHandle, bufs: Buffer[], length: number): Promise<void> {
  const { bytesWritten } = await fh.writev(bufs).catch(storageError);
  if (bytesWritten === length) return;
  // A short write (rare on files): the rest, in order.
  let rest = Buffer.concat(bufs, length).subarray(bytesWritten);
  while (rest.length > 0) {
    const r = await fh.write(rest).catch(storageError);
    rest = rest.subarray(r.bytesWritten);
  }
}

/** A full disk is S3's XMinioStorageFull; other errors pass. */
export function storageError(e: unknown): never {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') throw new S3Error('XMinioStorageFull');
  throw e;
}

/**
 * The bytes of an open file (a range of it), closing it at the end. Read into a few buffers of READ_BYTES that
 * the HTTP layer gives back once the socket has written them (`recycle`, object-layer.ts RecyclingBody): a
 * GET allocates no memory per chunk, so sending big files does not churn the garbage collector.
 */
export function readStream(fh: FileHandle, range: ByteRange | undefined, size: number): ObjectBody {
  if (size === 0) {
    void fh.close();
    return Readable.from([]);
  }
  return new FileBody(fh, range?.start ?? 0, range?.end ?? size - 1);
}

/** Buffers a FileBody keeps for reuse (its read-ahead and the chunks the socket holds). */
const KEPT_BUFFERS = 4;

class FileBody extends Readable implements RecyclingBody {
  private readonly free: Buffer[] = [];
  private pos: number;

  constructor(
    private readonly fh: FileHandle,
    start: number,
    private readonly end: number,
  ) {
    super({ highWaterMark: 2 * READ_BYTES });
    this.pos = start;
  }

  override _read(): void {
    const want = Math.min(READ_BYTES, this.end + 1 - this.pos);
    const buf = this.free.pop() ?? Buffer.allocUnsafeSlow(READ_BYTES);
    this.fh.read(buf, 0, want, this.pos).then(
      ({ bytesRead }) => {
        // A file cut short behind our back: the answer cannot be completed (its length was promised).
        if (bytesRead === 0) return this.destroy(new Error('the file was truncated while being read'));
        this.pos += bytesRead;
        this.push(buf.subarray(0, bytesRead));
        if (this.pos > this.end) this.push(null);
      },
      (e: Error) => this.destroy(e),
    );
  }

  recycle(chunk: Buffer): void {
    if (chunk.byteOffset !== 0 || chunk.buffer.byteLength !== READ_BYTES || this.free.length >= KEPT_BUFFERS) return;
    this.free.push(Buffer.from(chunk.buffer, 0, READ_BYTES));
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    this.fh.close().then(
      () => cb(err),
      () => cb(err),
    );
  }
}

/** Appends the file at `from` to the open file `to` (multipart assembly). */
export async function appendFile(to: FileHandle, from: string): Promise<void> {
  const src = await open(from, 'r');
  try {
    const buf = Buffer.allocUnsafe(WRITE_BYTES);
    for (;;) {
      const { bytesRead } = await src.read(buf, 0, buf.length, null);
      if (bytesRead === 0) return;
      await writeAll(to, [buf.subarray(0, bytesRead)], bytesRead);
    }
  } finally {
    await src.close();
  }
}
