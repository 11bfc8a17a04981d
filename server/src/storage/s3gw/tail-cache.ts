// A small cache of objects' last bytes, for S3 Select over Parquet through the S3 gateway: a Parquet reader
// starts with the file's tail (length + magic: 8 bytes, then the footer just before them), and each query of
// the same file would fetch both again from the backend. A short read near the end fetches the whole tail
// window (TAIL_WINDOW, or more for a bigger footer) once; reads inside it are then served from memory.
// Entries are keyed by bucket, key, ETag, size and version (an object rewritten is another entry; the old
// one ages out), and the whole cache is bounded in bytes (least recently used goes first).
import type { ByteRange } from '../object-layer.js';

/** Longest tail read kept (a footer of a file with many row groups and columns fits). */
export const TAIL_MAX = 1024 * 1024;
/** The tail fetched for a short read near the end: most footers (and the 8 bytes after them) fit. */
export const TAIL_WINDOW = 64 * 1024;

export class TailCache {
  private readonly entries = new Map<string, { start: number; bytes: Buffer }>();
  private held = 0;
  hits = 0;

  constructor(private readonly maxBytes = 16 * 1024 * 1024) {}

  /** Short reads within the object's last TAIL_WINDOW bytes (or a tail read up to TAIL_MAX) are kept. */
  static wants(range: ByteRange | undefined, size: number): range is ByteRange {
    if (range === undefined || range.end - range.start + 1 > TAIL_MAX) return false;
    return range.start >= size - TAIL_WINDOW || range.end === size - 1;
  }

  /** What to fetch for a read `wants` keeps: from the window's start (or the read's) to the last byte. */
  static window(range: ByteRange, size: number): ByteRange {
    return { start: Math.max(0, Math.min(range.start, size - TAIL_WINDOW)), end: size - 1 };
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
