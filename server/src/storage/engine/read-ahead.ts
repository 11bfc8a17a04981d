// Batches of blocks shared between the GETs of one object, and prefetch for readers that go sequentially.
//
// Every batch a GET reads is registered here while it is read and for a short while after (`lingerMs`,
// within `maxBytes`): another GET of the same blocks of the same version (concurrent ranges of one file,
// a Parquet footer asked again by the next task, HEAD-then-GET readers) takes its bytes instead of reading
// and verifying them again. A GET that starts where an earlier GET of the same version ended (TFRecord and
// ML loaders reading an object chunk by chunk, Spark's sequential input) is a sequential reader: when it
// has asked for its last batch, the batches after its end are read ahead (at most the length of that GET,
// `prefetchMaxBytes`, within the part) and wait here for its next request.
//
// Entries are keyed by the version's identity (its uid and data dir): an overwrite writes a new version
// under a new key, so a reader of one version never gets bytes of another. Pooled buffers go back to the
// pool once the entry left the cache and every reader gave back every chunk it cut from them.
import type { BufferPool } from '../erasure/buffer-pool.js';
import type { Batch } from '../erasure/part-reader.js';

/** The lease of each chunk a GET body has lent out (see RecyclingBody in object-layer.ts). */
const leases = new WeakMap<Buffer, Lease>();

/** Chunks of batches one GET holds alone (see ReadAhead.claim), which its reader may write into. */
const mutableChunks = new WeakSet<Buffer>();

/** A chunk given back by the consumer of a GET body (once; a second time counts for nothing). */
export function recycleChunk(chunk: Buffer): void {
  const lease = leases.get(chunk);
  leases.delete(chunk);
  mutableChunks.delete(chunk);
  lease?.returned();
}

/** `chunk` (cut from a batch claimed by its GET) is its reader's alone to write into (MutableChunks). */
export function markMutable(chunk: Buffer): void {
  mutableChunks.add(chunk);
}

export function isMutable(chunk: Buffer): boolean {
  return mutableChunks.has(chunk);
}

/** Chunks that are a read's bytes through its pass (ReadOptions.pass), with how many bytes of the object each stands for. */
const passedChunks = new WeakMap<Buffer, number>();

export function markPassed(chunk: Buffer, bytes: number): void {
  passedChunks.set(chunk, bytes);
}

export function passedBytes(chunk: Buffer): number | undefined {
  return passedChunks.get(chunk);
}

/**
 * The pooled buffers of one batch: lent out as chunks cut from them to any number of holders (the GETs
 * using the batch, and the cache while it keeps it); back to the pool once no holder is left and every
 * chunk came back.
 */
export class Lease {
  private out = 0;
  private holders = 1;
  private buffers: Buffer[] | null = null;

  constructor(private readonly pool: BufferPool) {}

  /** The batch was read: these buffers (none when it failed or was not pooled) are what comes back. */
  attach(buffers: Buffer[]): void {
    this.buffers = buffers;
    this.settle();
  }

  hold(): void {
    this.holders++;
  }

  release(): void {
    this.holders--;
    this.settle();
  }

  /** `chunk` (a view of the buffers of its own) goes out; recycleChunk brings it back. */
  lend(chunk: Buffer): void {
    this.out++;
    leases.set(chunk, this);
  }

  returned(): void {
    this.out--;
    this.settle();
  }

  /** Only its caller holds the batch and no chunk of it is out: nobody else can see its buffers. */
  get sole(): boolean {
    return this.holders === 1 && this.out === 0;
  }

  /** Besides the caller, only the cache holds it, and no chunk of it is out. */
  get cachedOnly(): boolean {
    return this.holders === 2 && this.out === 0;
  }

  private settle(): void {
    if (this.holders > 0 || this.out > 0 || !this.buffers) return;
    for (const b of this.buffers.splice(0)) this.pool.give(b);
  }
}

/** A batch being read (or read): the part bytes [from, to) of blocks first..last of one version's part. */
export interface SharedBatch {
  first: number;
  last: number;
  from: number;
  to: number;
  batch: Promise<Batch>;
  lease: Lease;
  /** Part bytes it holds (for the cache's bound; once read, the cache counts its buffers if larger). */
  bytes: number;
}

export interface ReadAheadStats {
  /** Batches taken from the cache instead of read again. */
  shared: number;
  /** Batches read ahead for sequential readers, and those a later GET used. */
  prefetched: number;
  prefetchUsed: number;
}

interface Entry extends SharedBatch {
  partId: string;
  versionId: string;
  at: number;
  prefetch: boolean;
  used: boolean;
}

/** Memory a read batch takes: its pooled buffers, or its pieces when they are its own (decoded blocks). */
function heldBytes(b: Batch): number {
  let n = 0;
  for (const x of b.buffers.length > 0 ? b.buffers : b.pieces) n += x.length;
  return n;
}

/** Read-ahead batches of one version dropped unused in a row after which it is not read ahead any more. */
const MAX_UNUSED = 2;

/**
 * The batches kept of one version's part, by their first block: a lookup tries the few first blocks a batch
 * holding its blocks can start at (down to `span` blocks before), not every batch kept (random 64 KiB ranges of
 * one object leave hundreds: a linear scan took 1.5% of the loop's CPU).
 */
interface PartEntries {
  byFirst: Map<number, Entry[]>;
  /** The most blocks past its first one any batch kept here holds (last - first). */
  span: number;
}

export class ReadAhead {
  /** Batches by part (a version's part), and all of them oldest first. */
  private readonly byPart = new Map<string, PartEntries>();
  private readonly entries = new Set<Entry>();
  private bytes = 0;
  /** Where recent GETs of each version ended: `${versionId}@${offset}` -> when (insertion order = age). */
  private readonly ends = new Map<string, number>();
  /** Versions whose read-ahead went unused lately: batches dropped unused in a row (oldest first). */
  private readonly unused = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  readonly stats: ReadAheadStats = { shared: 0, prefetched: 0, prefetchUsed: 0 };

  constructor(
    readonly pool: BufferPool,
    /** Bytes of batches kept (oldest go first when more are added). */
    readonly maxBytes = 32 * 1024 * 1024,
    private readonly lingerMs = 2000,
    readonly prefetchMaxBytes = 8 * 1024 * 1024,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * A batch of part `partId` holding blocks first..last and, of them, the part bytes [from, to), being
   * read or read a moment ago. The caller holds its lease (release it when done).
   */
  find(partId: string, first: number, last: number, from: number, to: number, use = true): SharedBatch | undefined {
    this.expire();
    const e = this.lookup(partId, first, last, from, to);
    if (!e) return undefined;
    e.lease.hold();
    if (!use) return e;
    this.stats.shared++;
    if (e.prefetch && !e.used) {
      this.stats.prefetchUsed++;
      this.noteUnused(e.versionId, 0);
    }
    e.used = true;
    return e;
  }

  /**
   * The batch `b` of part `partId` (read, held by the caller) for the caller alone, to write into: taken out of the cache when
   * nobody else holds it or has a chunk of it. True when it is the caller's alone now; false when another
   * GET holds it (it stays shared and read-only). A later GET of these blocks reads them again.
   */
  claim(partId: string, b: SharedBatch): boolean {
    if (b.lease.cachedOnly) {
      const e = this.byPart
        .get(partId)
        ?.byFirst.get(b.first)
        ?.find((x) => x.lease === b.lease);
      if (e) this.drop(e);
    }
    return b.lease.sole;
  }

  /** Registers a batch being read, for other readers to share; kept (held) `lingerMs` or until room is needed. */
  add(versionId: string, partId: string, b: SharedBatch, prefetch = false): void {
    this.expire();
    const e: Entry = { ...b, partId, versionId, at: this.now(), prefetch, used: false };
    e.lease.hold();
    let part = this.byPart.get(partId);
    if (!part) this.byPart.set(partId, (part = { byFirst: new Map(), span: 0 }));
    let list = part.byFirst.get(e.first);
    if (!list) part.byFirst.set(e.first, (list = []));
    list.push(e);
    part.span = Math.max(part.span, e.last - e.first);
    this.entries.add(e);
    this.bytes += e.bytes;
    if (prefetch) this.stats.prefetched++;
    // Once read, the batch counts the memory it holds (its buffers may be larger than the bytes asked for);
    // a batch that failed is not shared: its readers read again on their own.
    b.batch.then(
      (got) => this.resize(e, heldBytes(got)),
      () => this.drop(e),
    );
    this.makeRoom(e);
    this.expireLater();
  }

  /** A kept batch of part `partId` holding blocks first..last and the part bytes [from, to), if any. */
  private lookup(partId: string, first: number, last: number, from: number, to: number): Entry | undefined {
    const part = this.byPart.get(partId);
    if (!part) return undefined;
    for (let f = first; f >= first - part.span && f >= 0; f--) {
      const e = part.byFirst.get(f)?.find((x) => x.last >= last && x.from <= from && x.to >= to);
      if (e) return e;
    }
    return undefined;
  }

  /** A batch kept holds `bytes` of memory (not fewer than it was registered with). */
  private resize(e: Entry, bytes: number): void {
    if (!this.entries.has(e) || bytes <= e.bytes) return;
    this.bytes += bytes - e.bytes;
    e.bytes = bytes;
    this.makeRoom(e);
  }

  /** Drops the oldest batches but `keep` while more than maxBytes are kept. */
  private makeRoom(keep: Entry): void {
    for (const old of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      if (old !== keep) this.drop(old);
    }
  }

  /**
   * Notes a GET of version `versionId` over object bytes [start, end): true (read ahead past `end`) if an
   * earlier GET of it ended at `start`, unless what was read ahead for this version lately went unused.
   * Without the client's identity, random GETs of chunks on a grid look sequential too; read-ahead that
   * nobody takes stops that (and read-ahead another reader takes is not wasted).
   */
  sequential(versionId: string, start: number, end: number): boolean {
    this.expire(); // read-ahead that expired unused counts before deciding
    const now = this.now();
    for (const [k, at] of this.ends) {
      if (now - at < this.lingerMs && this.ends.size < 4096) break;
      this.ends.delete(k);
    }
    const seen = start > 0 && this.ends.delete(`${versionId}@${start}`);
    this.ends.set(`${versionId}@${end}`, now);
    return seen && (this.unused.get(versionId) ?? 0) < MAX_UNUSED;
  }

  private drop(e: Entry): void {
    if (!this.entries.delete(e)) return;
    if (e.prefetch && !e.used) this.noteUnused(e.versionId, 1);
    const part = this.byPart.get(e.partId)!;
    const list = part.byFirst.get(e.first)!;
    list.splice(list.indexOf(e), 1);
    if (list.length === 0) part.byFirst.delete(e.first);
    if (part.byFirst.size === 0) this.byPart.delete(e.partId);
    this.bytes -= e.bytes;
    e.lease.release();
  }

  private expire(): void {
    const now = this.now();
    for (const e of this.entries) {
      if (now - e.at < this.lingerMs) break;
      this.drop(e);
    }
  }

  /** Without traffic the last entries still go (and their buffers back to the pool). */
  private expireLater(): void {
    if (this.timer || this.entries.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.expire();
      this.expireLater();
    }, this.lingerMs);
    this.timer.unref();
  }

  /** Read-ahead batches of a version dropped unused in a row (0 resets: one was used). */
  private noteUnused(versionId: string, n: number): void {
    const before = this.unused.get(versionId) ?? 0;
    this.unused.delete(versionId); // re-inserted last: the table forgets the versions not seen for longest
    if (n > 0) this.unused.set(versionId, before + n);
    if (this.unused.size > 4096) this.unused.delete(this.unused.keys().next().value!);
  }

  /**
   * Drops every batch kept and every GET end noted, as if they had all lingered out (tests: the next GET shares
   * nothing read before it, without waiting `lingerMs`).
   */
  clear(): void {
    for (const e of this.entries) this.drop(e);
    this.ends.clear();
  }

  /** Batches kept (for tests). */
  get size(): number {
    return this.entries.size;
  }
}
