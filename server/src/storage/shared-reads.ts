// What the worker threads of one process share of their reads (StorageOptions.sharedReads). A new connection lands
// on any worker (SO_REUSEPORT), and a worker that never saw the object read its metadata files in one pool task per
// drive (a first read: no identity to check) and its batches again, where the worker that served the last request
// holds them: two workers cost ~30% more per request than one (bench/readers/README.md). Both are left in the
// process's shared spaces (@cairn/native SharedBytes, copied in and out):
// - a metadata file, under its path, tagged with its identity (inode, size, times): another worker checks that
//   identity with a stat, in the set's one grouped task, instead of reading the file (drive/read-cache.ts);
// - a verified batch of a version's part of at most SHARED_BATCH_MAX bytes (footers, small ranges, which readers
//   ask for again from other connections), under the version's identity and the blocks and window a GET asks
//   for (engine/batches.ts), tagged with the part offset of its first byte.
// Bigger batches stay in the worker that read them: copying every batch of a large read costs more than the
// rare repeat from another connection saves.
import { SharedBytes } from '@cairn/native';
import type { Batch } from './erasure/part-reader.js';

/** Batches of at most this many bytes are shared: a Parquet footer, a small column chunk. */
export const SHARED_BATCH_MAX = 256 * 1024;
/** Metadata files kept for the other workers, all drives together, and for how long. */
const METADATA_BYTES = 16 * 1024 * 1024;
const METADATA_MS = 30_000;

export class SharedReads {
  readonly metadata = new SharedBytes('cairn metadata files', METADATA_BYTES, METADATA_MS);
  private readonly batches: SharedBytes;

  /** `batchBytes`, `lingerMs`: the bounds of a worker's read-ahead cache (the first worker's make the space). */
  constructor(batchBytes: number, lingerMs: number) {
    this.batches = new SharedBytes('cairn batches', batchBytes, lingerMs);
  }

  /** Leaves a read batch (window [from, to) of blocks first..last of part `partId`) for the other workers. */
  leave(partId: string, first: number, last: number, from: number, to: number, b: Batch): void {
    if (to - from > SHARED_BATCH_MAX) return;
    // The window's bytes only (a batch's pieces are whole data shards of its blocks).
    const window: Buffer[] = [];
    let at = b.start;
    for (const piece of b.pieces) {
      const lo = Math.max(from - at, 0);
      const hi = Math.min(to - at, piece.length);
      if (hi > lo) window.push(piece.subarray(lo, hi));
      at += piece.length;
    }
    this.batches.put(`${partId}\0${first}\0${last}\0${from}\0${to}`, String(from), window);
  }

  /** The batch another worker left for these blocks and window, or null. */
  take(partId: string, first: number, last: number, from: number, to: number): Batch | null {
    if (to - from > SHARED_BATCH_MAX) return null;
    const got = this.batches.get(`${partId}\0${first}\0${last}\0${from}\0${to}`);
    // A value of another length is not this window (never so for a key of this shape; checked all the same).
    if (!got || got.bytes.length !== to - from || Number(got.tag) !== from) return null;
    return { start: from, pieces: [got.bytes], buffers: [] };
  }
}
