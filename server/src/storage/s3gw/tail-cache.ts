// A small cache of objects' last bytes, for S3 Select over Parquet through the S3 gateway: a Parquet reader
// starts with the file's tail (length + magic, then the footer), and each query of the same file would
// fetch it again from the backend. Entries are keyed by bucket, key, ETag and size (an object rewritten is
// another entry; the old one ages out), hold only tail reads of at most TAIL_MAX bytes, and the whole cache
// is bounded in bytes (least recently used goes first).
import type { ByteRange } from '../object-layer.js';

/** Longest tail read kept (a footer of a file with many row groups and columns fits). */
export const TAIL_MAX = 1024 * 1024;

export class TailCache {
  private readonly entries = new Map<string, { start: number; bytes: Buffer }>();
  private held = 0;
  hits = 0;

  constructor(private readonly maxBytes = 16 * 1024 * 1024) {}

  /** Only reads that end at the object's last byte and are short enough are worth keeping. */
  static wants(range: ByteRange | undefined, size: number): range is ByteRange {
    return range !== undefined && range.end === size - 1 && range.end - range.start + 1 <= TAIL_MAX;
  }

  /** The bytes of `range` when a kept tail of this object covers it. */
  get(id: string, range: ByteRange): Buffer | undefined {
    const e = this.entries.get(id);
    if (!e || e.start > range.start) return undefined;
    this.entries.delete(id);
    this.entries.set(id, e); // most recently used last
    this.hits++;
    return e.bytes.subarray(range.start - e.start, range.end - e.start + 1);
  }

  put(id: string, start: number, bytes: Buffer): void {
    if (bytes.length > this.maxBytes) return;
    const old = this.entries.get(id);
    if (old && old.start <= start) return; // a longer tail is kept already
    if (old) this.drop(id, old.bytes.length);
    this.entries.set(id, { start, bytes });
    this.held += bytes.length;
    for (const [k, v] of this.entries) {
      if (this.held <= this.maxBytes) break;
      this.drop(k, v.bytes.length);
    }
  }

  private drop(id: string, length: number): void {
    this.entries.delete(id);
    this.held -= length;
  }
}
