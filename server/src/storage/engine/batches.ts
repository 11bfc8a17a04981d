// The batches one GET asks for in one part of a version: blocks in groups of `readBatchBlocks` on a grid
// of that many blocks (so the GETs of one object ask for the same batches), each taken from the read-ahead
// cache when another GET is reading or just read it, otherwise read by this GET's PartReader (into pooled
// buffers) and offered to the others.
import type { PiecePass } from '@cairn/native';
import type { StorageContext } from '../context.js';
import type { Batch, PartReader } from '../erasure/part-reader.js';
import { Lease, type SharedBatch } from './read-ahead.js';

/**
 * A GET's first batch holding more bytes than this is cut after its first block (PartBatches.at `head`): a 2.27 MB
 * column chunk's response head waited for all of it to be read and checked.
 */
export const HEAD_SPLIT_BYTES = 1024 * 1024;
/** A cached batch whose window is at most 1/COMPACT_RATIO of its buffers keeps a copy of the window only. */
const COMPACT_RATIO = 4;

/** Bytes of the pooled buffer for `span` bytes: whole frames, their count rounded up to a power of two. */
export function sizeClass(span: number, frame: number): number {
  let frames = 1;
  while (frames * frame < span) frames *= 2;
  return frames * frame;
}

export class PartBatches {
  private readonly alloc: (span: number) => Buffer;
  private readonly mine = new WeakSet<Lease>();
  /** Identity of the version's part in the cache (undefined: not shared, e.g. without a cache). */
  private readonly partId: string | undefined;

  constructor(
    private readonly reader: PartReader,
    private readonly ctx: StorageContext,
    /** Identity of the version in the cache (undefined: not shared). */
    private readonly versionId: string | undefined,
    part: number,
    private readonly blockSize: number,
    data: number,
    /** Run on the batches this GET reads for itself (ReadOptions.pass; not on prefetches). */
    private readonly pass?: PiecePass,
  ) {
    this.partId = versionId && `${versionId}\0${part}`;
    // Batches read into pooled buffers of whole frames, the shorter ones into a prefix: a few sizes, each
    // reused. A footer or a range's edge block (one frame) takes one frame's buffer, not a full batch's
    // (held in the read-ahead cache, those pinned readBatchBlocks times the memory, uncounted, and made
    // every such GET allocate a fresh one: GC). Frame counts are rounded up to a power of two: ranges at
    // any offset read 1 to 2 * readBatchBlocks frames per shard, and with a size for each count the pool
    // kept missing one (8 MiB ranges: 0.14 fresh buffers a request, each an external-memory allocation
    // that brings V8's mark-compact closer; measured 3-4x the GC time of ranges on the grid).
    const frame = ctx.codec.frameSize(blockSize, data);
    const fullSpan = 2 * ctx.readBatchBlocks * frame; // a merged edge batch (see `merged`) is longer than a cell
    this.alloc = (span) => (span <= fullSpan ? ctx.pool.take(sizeClass(span, frame)) : Buffer.allocUnsafe(span));
  }

  /** Last block of the batch that starts at block `b`: the end of its grid cell, at most `upTo`. */
  private lastOf(b: number, upTo: number): number {
    return Math.min((Math.floor(b / this.ctx.readBatchBlocks) + 1) * this.ctx.readBatchBlocks - 1, upTo);
  }

  /**
   * The batch from block `b` (at most to block `upTo`), for the part bytes [lo, hi) in it; the caller holds it.
   * A range's edge batch of at most half a grid cell (the blocks before the first cell boundary, or those
   * after the last) is read with its neighbour, unless the cache has the grid batch: an 8 MiB range at any
   * offset reads in two batches (one shard read per data shard each), not three with one or two blocks in one.
   */
  at(b: number, upTo: number, lo: number, hi: number, head = false): SharedBatch {
    // A GET's first batch of more than HEAD_SPLIT_BYTES ends with its first block: the response head and that
    // block go out once its frames are checked, while the rest is read beside it (the next batch, asked for in
    // the same turn: another pool task).
    const split = head && upTo > b && Math.min(hi, (this.lastOf(b, upTo) + 1) * this.blockSize) - lo > HEAD_SPLIT_BYTES;
    const l = split ? b : this.lastOf(b, upTo);
    const win = (to: number) => ({
      from: Math.max(lo, b * this.blockSize),
      to: Math.min(hi, (to + 1) * this.blockSize),
    });
    const find = (to: number) => {
      const w = win(to);
      return this.partId ? this.ctx.readAhead!.find(this.partId, b, to, w.from, w.to) : undefined;
    };
    const found = find(l);
    if (found) return found;
    const last = split ? l : this.merged(b, l, upTo);
    if (last !== l) {
      const bigger = find(last);
      if (bigger) return bigger;
    }
    const w = win(last);
    // Another worker thread may have read these blocks for a GET of the same window (storage/shared-reads.ts).
    const left = this.partId && this.ctx.shared?.take(this.partId, b, last, w.from, w.to);
    const read = left ? this.taken(b, last, w, left) : this.read(b, last, w, this.pass);
    if (this.partId) this.ctx.readAhead!.add(this.versionId!, this.partId, read);
    return read;
  }

  /**
   * Last block of the batch from `b`, grid batch `b`..`l`, when a short edge joins its neighbour: a first
   * batch off the grid of at most half a cell takes the next cell too, and so does a batch followed by a
   * last one of at most half a cell (a batch is at most twice readBatchBlocks blocks). A range of N cells'
   * worth of blocks at any offset then reads in N batches, as one on the grid does.
   */
  private merged(b: number, l: number, upTo: number): number {
    const n = this.ctx.readBatchBlocks;
    let last = l;
    if (last < upTo && 2 * (last - b + 1) <= n) last = this.lastOf(last + 1, upTo); // a short first batch
    if (last < upTo && 2 * (upTo - last) <= n) last = upTo; // a short last batch follows
    return last;
  }

  /**
   * The read batch `b` (`got`), held by the caller, for the caller alone to write into (ReadOptions.mutable):
   * true when it is now, out of the cache and held by nobody else, and every piece lies in the pooled
   * buffers this part's reads filled (not in metadata, a compacted copy or decoded blocks).
   */
  claim(b: SharedBatch, got: Batch): boolean {
    if (got.buffers.length === 0) return false;
    const inBuffers = (p: Buffer) => got.buffers.some((x) => x.buffer === p.buffer);
    if (!got.pieces.every(inBuffers)) return false;
    return this.partId ? this.ctx.readAhead!.claim(this.partId, b) : b.lease.sole;
  }

  /** Another GET's batch failed: the same blocks read here (this reader's own shards, parity and heal). */
  again(b: SharedBatch): SharedBatch | undefined {
    return this.mine.has(b.lease) ? undefined : this.read(b.first, b.last, { from: b.from, to: b.to });
  }

  /** Reads the part bytes [lo, hi) into the cache, where not there already, for this reader's next GET. */
  prefetch(lo: number, hi: number): void {
    if (!this.partId || lo >= hi) return;
    const lastBlock = Math.floor((hi - 1) / this.blockSize);
    for (let b = Math.floor(lo / this.blockSize); b <= lastBlock; ) {
      const l = this.lastOf(b, lastBlock);
      const win = { from: Math.max(lo, b * this.blockSize), to: Math.min(hi, (l + 1) * this.blockSize) };
      const there = this.ctx.readAhead!.find(this.partId, b, l, win.from, win.to, false);
      if (there)
        there.lease.release(); // asked for already (the reader's next GET came first)
      else {
        const read = this.read(b, l, win);
        this.ctx.readAhead!.add(this.versionId!, this.partId, read, true);
        read.lease.release(); // the cache holds it alone
      }
      b = l + 1;
    }
  }

  /** A batch another worker thread read and left: its own copy, nothing to give back to the pool. */
  private taken(first: number, last: number, win: { from: number; to: number }, got: Batch): SharedBatch {
    this.ctx.readStats.sharedBatches++;
    const lease = new Lease(this.ctx.pool);
    lease.attach([]);
    return { first, last, from: win.from, to: win.to, batch: Promise.resolve(got), lease, bytes: win.to - win.from };
  }

  private read(first: number, last: number, win: { from: number; to: number }, pass?: PiecePass): SharedBatch {
    const lease = new Lease(this.ctx.pool);
    const read = this.reader.readBlocks(first, last - first + 1, this.alloc, win, pass);
    const partId = this.partId;
    const shared = this.ctx.shared;
    const batch = partId
      ? read.then((b) => {
          shared?.leave(partId, first, last, win.from, win.to, b);
          return this.compact(b, win);
        })
      : read;
    batch.then(
      (b) => lease.attach(b.buffers),
      () => lease.attach([]),
    );
    this.mine.add(lease);
    return { first, last, from: win.from, to: win.to, batch, lease, bytes: win.to - win.from };
  }

  /**
   * A batch the cache keeps whose window is a small part of the frames it was read in (a footer: 64 KiB of
   * a 512 KiB frame) keeps a copy of the window's verified bytes, and its frames go back to the pool at
   * once: as many footers fit in the cache's bound as their bytes allow, not as their frames do.
   */
  private compact(b: Batch, win: { from: number; to: number }): Batch {
    let held = 0;
    for (const x of b.buffers) held += x.length;
    const bytes = win.to - win.from;
    if (held === 0 || bytes * COMPACT_RATIO > held) return b;
    const out = Buffer.allocUnsafe(bytes);
    let at = b.start;
    let o = 0;
    for (const piece of b.pieces) {
      const lo = Math.max(win.from - at, 0);
      const hi = Math.min(win.to - at, piece.length);
      if (hi > lo) o += piece.copy(out, o, lo, hi);
      at += piece.length;
    }
    for (const x of b.buffers) this.ctx.pool.give(x);
    return { start: win.from, pieces: [out], buffers: [], passed: b.passed };
  }
}
