// Reads one erasure-coded part block by block. For each block it reads the frames of the data shards
// first; the native call verifies their hashes and decodes (a straight copy when all data shards are
// good). Only for a missing or bad frame does it read parity frames and try again. Bad shards are kept
// in `bad` so the caller can queue a heal.
import { S3Error } from '../../errors.js';
import type { ErasureInfo } from '../meta/meta-file.js';
import type { ShardSource } from '../drive/drive.js';
import type { PiecePass } from '@cairn/native';
import { FRAME_HASH_LENGTH, type Codec } from './codec.js';

export type { ShardSource };

/**
 * Bytes of a part as pieces in order, from part offset `start` on (contiguous), and the pooled buffers they
 * sit in (empty: nothing to give back).
 */
export interface Batch {
  start: number;
  pieces: Buffer[];
  buffers: Buffer[];
  /**
   * The part bytes [from, to) (the read's window) through `pass` in the read's own pool task (ReadOptions.pass),
   * when it was armed then and every frame passed its check.
   */
  passed?: { pass: PiecePass; bytes: Buffer; from: number; to: number };
}

export function inlineSource(buf: Buffer): ShardSource {
  return {
    inMemory: true,
    async read(pos, len) {
      if (pos + len > buf.length) throw new Error('inline shard too short');
      return buf.subarray(pos, pos + len);
    },
    async close() {},
  };
}

/** Bytes of the shard file of a part of `size` bytes (hashes included). */
export function shardFileSize(codec: Codec, ec: ErasureInfo, size: number): number {
  const full = Math.floor(size / ec.blockSize);
  const rest = size - full * ec.blockSize;
  return full * codec.frameSize(ec.blockSize, ec.data) + (rest > 0 ? codec.frameSize(rest, ec.data) : 0);
}

/** Drive reads of GETs and HEADs (for tests and the bench: drive reads per request). */
export interface ReadStats {
  shardReads: number;
  shardBytes: number;
  /** Read calls on the pool those took: one per shard read, or one for all data shards of a batch (local files). */
  readTasks: number;
  /** Metadata reads (every drive's metadata file, checked by a stat and read when it changed). */
  metadataReads: number;
  /** GETs and HEADs answered from a kept metadata read (StorageOptions.metadataCacheMs). */
  metadataCacheHits: number;
  /** GETs whose first batch was begun beside their metadata read, from the last read's metadata (readEarly). */
  earlyReads: number;
  /** Metadata files and batches taken from what another worker thread read (storage/shared-reads.ts). */
  sharedMetadata: number;
  sharedBatches: number;
}

export class PartReader {
  /** Shard indexes (0-based) found missing or corrupt (what a heal must repair). */
  readonly bad = new Set<number>();
  /**
   * Shards that cannot be read at all (no source, a read failed): never asked again. A shard with a
   * corrupt frame stays readable: bitrot is per block, and its other blocks may be needed when another
   * shard is bad there (it is only asked last).
   */
  private readonly unreadable = new Set<number>();
  /** A frame failed its hash or could not be read (as opposed to a shard known to be absent). */
  corrupt = false;
  private closed = false;
  /** Shards that once took longer than `slowMs`: read last from then on (a hung drive costs one wait). */
  private readonly slow = new Set<number>();
  readonly blocks: number;
  private readonly fullFrame: number;

  constructor(
    private readonly codec: Codec,
    private readonly ec: ErasureInfo,
    readonly size: number,
    /** Indexed by shard index; null = not available (offline drive, no metadata). */
    private readonly sources: (ShardSource | null)[],
    /** A shard read taking longer than this is treated as slow: another shard is read too. */
    private readonly slowMs = 2000,
    private readonly stats?: ReadStats,
    /**
     * False: the fast path does not check the data shards' hashes (sealed data its reader authenticates; see
     * ReadOptions.unverified). The block-by-block path, parity and healing always check.
     */
    private readonly verify = true,
  ) {
    this.blocks = Math.ceil(size / ec.blockSize);
    this.fullFrame = codec.frameSize(ec.blockSize, ec.data);
    sources.forEach((s, i) => {
      if (s) return;
      this.bad.add(i);
      this.unreadable.add(i);
    });
  }

  blockLen(b: number): number {
    return Math.min(this.ec.blockSize, this.size - b * this.ec.blockSize);
  }

  private read(i: number, pos: number, len: number, into?: Buffer): Promise<Buffer> {
    this.count(i, len);
    return this.sources[i]!.read(pos, len, into);
  }

  private readVerified(i: number, pos: number, len: number, into?: Buffer): Promise<{ buf: Buffer; bad: number }> {
    this.count(i, len);
    return this.sources[i]!.readFrames!(pos, len, this.fullFrame, into);
  }

  /**
   * The spans of local shard files `shards` read and verified in one pool task (Codec.readManyFrames), into
   * their buffers: the buffers by shard index and the bad frames of all.
   */
  private async readMany(
    shards: number[],
    spans: { f: number; len: number }[],
    bufs: Buffer[],
    through?: { pass: PiecePass; pieces: number[] },
  ): Promise<{ bufs: (Buffer | null)[]; bad: number; passed: Buffer | null }> {
    if (this.closed) throw new Error('shard source closed');
    const outs = shards.map((i) => bufs[i].subarray(0, spans[i].len));
    shards.forEach((i, k) => this.count(i, spans[i].len, k === 0));
    const paths = shards.map((i) => this.sources[i]!.localPath!);
    const positions = shards.map((i) => spans[i].f * this.fullFrame);
    const r = through
      ? await this.codec.readManyFramesPass!(paths, positions, this.fullFrame, outs, through.pass, through.pieces)
      : { bad: await this.codec.readManyFrames!(paths, positions, this.fullFrame, outs, this.verify), passed: null };
    const out: (Buffer | null)[] = new Array(this.sources.length).fill(null);
    shards.forEach((i, k) => (out[i] = outs[k]));
    return { bufs: out, bad: r.bad.reduce((a, b) => a + b, 0), passed: r.passed };
  }

  /**
   * The pieces of blocks `first`..`last` that hold bytes of the window [from, to), cut to it, as readManyFramesPass
   * takes them: (index of the shard in `local`, offset in its span, length) in part order.
   */
  private piecesOf(
    first: number,
    last: number,
    spans: ({ f: number; l: number } | null)[],
    local: number[],
    lo: (b: number, i: number) => number,
    hi: (b: number, i: number) => number,
    from: number,
    to: number,
  ): number[] {
    const out: number[] = [];
    for (let b = first; b <= last; b++)
      for (let i = 0; i < this.ec.data; i++) {
        const sp = spans[i];
        if (!sp || b < sp.f || b > sp.l) continue;
        const a = Math.max(lo(b, i), from);
        const z = Math.min(hi(b, i), to);
        if (z <= a) continue;
        out.push(local.indexOf(i), (b - sp.f) * this.fullFrame + FRAME_HASH_LENGTH + a - lo(b, i), z - a);
      }
    return out;
  }

  private count(i: number, len: number, task = true): void {
    if (!this.stats || this.sources[i]!.inMemory) return;
    this.stats.shardReads++;
    this.stats.shardBytes += len;
    if (task) this.stats.readTasks++;
  }

  /** Frame `i` of block `b`, or null (and marked unreadable) when it cannot be read. */
  private async frame(b: number, i: number): Promise<Buffer | null> {
    if (this.unreadable.has(i)) return null;
    try {
      return await this.read(i, b * this.fullFrame, this.codec.frameSize(this.blockLen(b), this.ec.data));
    } catch {
      this.unreadable.add(i);
      this.bad.add(i);
      this.corrupt = true;
      return null;
    }
  }

  /**
   * Block `b`: read the data shards' frames; when one is missing or bad, or has not arrived after
   * `slowMs`, read one more frame (parity) in its place, and decode once `data` good frames are in.
   */
  async readBlock(b: number): Promise<Buffer> {
    const { data, parity } = this.ec;
    const total = data + parity;
    const frames: (Buffer | null)[] = new Array(total).fill(null);
    const pending = new Map<number, Promise<void>>();
    const started = new Set<number>();
    let good = 0;
    // Data shards first, then parity; shards with a corrupt frame elsewhere after those, slow ones last.
    const rank = (i: number) => (this.slow.has(i) ? 2 : this.bad.has(i) ? 1 : 0);
    const order = [...Array(total).keys()].sort((a, b) => rank(a) - rank(b));
    const start = (): boolean => {
      for (const i of order) {
        if (started.has(i) || this.unreadable.has(i)) continue;
        started.add(i);
        const p = this.frame(b, i).then((f) => {
          frames[i] = f;
          if (f) good++;
          pending.delete(i);
        });
        pending.set(i, p);
        return true;
      }
      return false;
    };
    for (;;) {
      while (good + pending.size < data && start()) {
        // keep enough reads in flight
      }
      if (good >= data) {
        const r = await this.codec.readBlock(frames.slice(), data, parity, this.blockLen(b));
        for (const i of r.bad) {
          this.bad.add(i);
          this.corrupt = true;
          if (frames[i]) good--;
          frames[i] = null;
        }
        if (r.block) return r.block;
        continue;
      }
      if (pending.size === 0)
        throw new S3Error('InsufficientReadQuorum', `${this.bad.size} of ${total} shards are missing or corrupt`);
      let timer: NodeJS.Timeout | undefined;
      const slow = new Promise<'slow'>((res) => (timer = setTimeout(() => res('slow'), this.slowMs)));
      const first = await Promise.race([...pending.values(), slow]);
      clearTimeout(timer);
      if (first === 'slow') {
        for (const i of pending.keys()) this.slow.add(i);
        start(); // hedge: one more shard while the slow one keeps going
      }
    }
  }

  /**
   * Blocks `first`..`first + count - 1` as pieces in order, without copying: each data shard's frames of
   * those blocks come in one read, one native call checks their hashes, and the pieces are the data
   * shards' bytes themselves (the block is the data shards back to back). With `window` (part offsets,
   * end exclusive), the first and last block read only the data shards that hold bytes of it: a range
   * that starts or ends inside a block reads less than whole blocks (a Parquet footer, one shard). Any
   * missing, bad or slow shard sends the batch down the block-by-block path, which reads parity and
   * decodes whole blocks. With `alloc` (a buffer of at least `span` bytes), file reads go into its
   * buffers, returned in `buffers` for the caller to give back once the pieces are sent.
   */
  async readBlocks(
    first: number,
    count: number,
    alloc?: (span: number) => Buffer,
    window?: { from: number; to: number },
    pass?: PiecePass,
  ): Promise<Batch> {
    const { data, blockSize } = this.ec;
    const last = first + count - 1;
    const from = window?.from ?? 0;
    const to = window?.to ?? this.size;
    const shard = (b: number) => this.codec.shardSize(this.blockLen(b), data);
    // Part bytes of data shard i in block b, and whether they meet the window.
    const lo = (b: number, i: number) => b * blockSize + Math.min(i * shard(b), this.blockLen(b));
    const hi = (b: number, i: number) => b * blockSize + Math.min((i + 1) * shard(b), this.blockLen(b));
    const needed = (b: number, i: number) => lo(b, i) < hi(b, i) && lo(b, i) < to && hi(b, i) > from;
    const fast = async (): Promise<Batch | null> => {
      for (let i = 0; i < data; i++) if (this.bad.has(i) || this.slow.has(i)) return null;
      // Frames each shard reads: from its first needed block to its last (interior blocks are whole).
      const spans = Array.from({ length: data }, (_, i) => {
        const f = needed(first, i) || first === last ? first : first + 1;
        const l = needed(last, i) || first === last ? last : last - 1;
        if (f > l || (first === last && !needed(first, i))) return null;
        return { f, l, len: (l - f) * this.fullFrame + this.codec.frameSize(this.blockLen(l), data) };
      });
      // Shards in memory are read as views: only file reads take a buffer.
      const bufs = spans.map((sp, i) => (sp && !this.sources[i]!.inMemory ? alloc?.(sp.len) : undefined));
      let timer: NodeJS.Timeout | undefined;
      const slow = new Promise<null>((res) => (timer = setTimeout(() => res(null), this.slowMs)));
      const done = new Set<number>();
      // File shards read and verify in one pool call each (Codec.readFrames), where the addon has it; local
      // files all in one call (Codec.readManyFrames): one pool task per batch, not one per data shard. A single
      // local file too (a footer's one frame): a GET's early read queues that call with its metadata checks.
      const fused = spans.every((sp, i) => !sp || this.sources[i]!.readFrames !== undefined);
      const local = spans.flatMap((sp, i) => (sp && this.sources[i]!.localPath !== undefined && bufs[i] ? [i] : []));
      const many =
        fused && this.codec.readManyFrames && local.length > 0 && local.length === spans.filter(Boolean).length;
      let bad = 0;
      // With a pass (and checking: the pass runs on frames as they pass), the window's bytes go through it too.
      const through =
        many && pass && this.verify && this.codec.readManyFramesPass
          ? { pass, pieces: this.piecesOf(first, last, spans, local, lo, hi, from, to) }
          : undefined;
      let passed: Buffer | null = null;
      const reads = many
        ? this.readMany(local, spans as { f: number; len: number }[], bufs as Buffer[], through)
            .finally(() => local.forEach((i) => done.add(i))) // failed is not slow: the block path finds which
            .then((r) => ((bad = r.bad), (passed = r.passed), r.bufs))
        : Promise.all(
            spans.map((sp, i) => {
              if (!sp) return null;
              const read = fused
                ? this.readVerified(i, sp.f * this.fullFrame, sp.len, bufs[i]).then((r) => ((bad += r.bad), r.buf))
                : this.read(i, sp.f * this.fullFrame, sp.len, bufs[i]);
              return read.finally(() => done.add(i));
            }),
          );
      reads.catch(() => {}); // a failed read is retried (and marked) by the block-by-block path
      // A slow or failed batch drops its pooled buffers: a read may still be filling them.
      const got = await Promise.race([reads.catch(() => null), slow]);
      clearTimeout(timer);
      if (!got) {
        for (let i = 0; i < data; i++) if (spans[i] && !done.has(i)) this.slow.add(i);
        return null;
      }
      const frames: Buffer[] = [];
      const pieces: Buffer[] = [];
      let start = -1;
      for (let b = first; b <= last; b++) {
        const len = shard(b);
        for (let i = 0; i < data; i++) {
          const sp = spans[i];
          if (!sp || b < sp.f || b > sp.l) continue;
          const at = (b - sp.f) * this.fullFrame;
          if (!fused) frames.push(got[i]!.subarray(at, at + FRAME_HASH_LENGTH + len));
          const bytes = hi(b, i) - lo(b, i); // the last data shards carry padding, or nothing
          if (bytes <= 0) continue;
          if (start < 0) start = lo(b, i);
          pieces.push(got[i]!.subarray(at + FRAME_HASH_LENGTH, at + FRAME_HASH_LENGTH + bytes));
        }
      }
      if (!fused && this.verify) bad = (await this.codec.verifyFrames(frames)).length;
      if (bad > 0) return null;
      const buffers = bufs.filter((b): b is Buffer => b !== undefined);
      const batch: Batch = { start: Math.max(start, 0), pieces, buffers };
      if (passed && pass) batch.passed = { pass, bytes: passed, from, to };
      return batch;
    };
    const batch = await fast();
    if (batch) return batch;
    const pieces: Buffer[] = [];
    for (let b = first; b <= last; b++) pieces.push(await this.readBlock(b));
    return { start: first * blockSize, pieces, buffers: [] };
  }

  /** Rebuilt frames (for the shard indexes that were missing or bad) of block `b`: for healing. */
  async rebuildBlock(b: number): Promise<Map<number, Buffer>> {
    const { data, parity } = this.ec;
    const frames = await Promise.all(Array.from({ length: data + parity }, (_, i) => this.frame(b, i)));
    const r = await this.codec.healBlock(frames, data, parity, this.blockLen(b));
    for (const i of r.bad) this.bad.add(i);
    if (!r.rebuilt) throw new S3Error('InsufficientReadQuorum', 'too few good shards to rebuild');
    return r.rebuilt;
  }

  /** Check every frame of every available shard (deep scan); bad ones end up in `bad`. */
  async verifyAll(): Promise<void> {
    for (let b = 0; b < this.blocks; b++) {
      const frames = await Promise.all(this.sources.map((_, i) => this.frame(b, i)));
      for (const i of await this.codec.verifyFrames(frames)) this.bad.add(i);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.sources.map((s) => s?.close()));
  }
}
