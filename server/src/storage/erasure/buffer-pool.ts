// Big buffers reused across requests: GET's shard reads, PUT's blocks and encoded frames. Fresh ones
// churn external memory, and V8 answers with a mark-compact every ~100 ms under load ("external memory
// pressure", measured: ~18% of a 64 MiB GET's CPU). A buffer comes back only when its user says nothing
// refers to it any more (the socket or the drives wrote it); one that never comes back is left to the GC,
// so a consumer that does not give back is safe.
//
// How much is kept: while busy, every buffer that comes back, up to `busyBytes`; buffers not taken again
// within `idleMs` are let go until `keepBytes` remain. A fixed small bound dropped buffers whenever many
// requests ended at once and allocated them again when the next ones started: measured with 8 MiB GETs at
// concurrency 8, a fifth of all takes allocated and the GC took ~20% of the server's CPU (bench/load).
// Keeping what the workload just used costs no more memory than it just had in use.
export class BufferPool {
  /**
   * Free buffers by size, each oldest-returned first (taken from the end: the warmest), with when each came
   * back at the same index: two arrays rather than an object per give (a 256 KiB give per socket read in the
   * S3 gateway's GET path).
   */
  private readonly free = new Map<number, { bufs: Buffer[]; ats: number[] }>();
  /** The free buffers, to refuse one given back twice in constant time (a list scan was linear per give). */
  private readonly kept = new Set<Buffer>();
  private held = 0;
  /** Bytes taken and not given back (given back but refused counts as back). */
  private out = 0;
  private lastTrim = 0;
  private timer: NodeJS.Timeout | undefined;

  /**
   * Keeps at most `busyBytes` of free buffers, and `keepBytes` of those once they have not been wanted
   * for `idleMs` (default: a fixed bound, `busyBytes` = `keepBytes`).
   */
  constructor(
    readonly keepBytes: number,
    readonly busyBytes = keepBytes,
    readonly idleMs = 10_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  take(size: number): Buffer {
    if (this.held > this.keepBytes) this.trimSometimes(this.now());
    this.out += size;
    const list = this.free.get(size);
    const buf = list?.bufs.pop();
    if (buf) {
      list!.ats.pop();
      this.kept.delete(buf);
      this.held -= size;
      return buf;
    }
    return Buffer.allocUnsafeSlow(size); // its own memory: never a view of a shared slab
  }

  give(buf: Buffer): void {
    this.out -= buf.length;
    if (this.held + buf.length > this.busyBytes || buf.byteOffset !== 0 || buf.length !== buf.buffer.byteLength) return;
    if (this.kept.has(buf)) return; // given back twice: must not be handed out twice
    let list = this.free.get(buf.length);
    if (!list) this.free.set(buf.length, (list = { bufs: [], ats: [] }));
    const now = this.now();
    list.bufs.push(buf);
    list.ats.push(now);
    this.kept.add(buf);
    this.held += buf.length;
    if (this.held > this.keepBytes) {
      this.trimSometimes(now);
      this.trimLater();
    }
  }

  /**
   * Lets go of buffers idle for `idleMs`, oldest first, while more than `keepBytes` are held. Their memory is
   * freed at once (`free`), not when the garbage collector next finds them unreferenced.
   */
  trim(): void {
    const now = this.now();
    this.lastTrim = now;
    for (const [size, list] of this.free) {
      let drop = 0;
      while (drop < list.bufs.length && this.held > this.keepBytes && now - list.ats[drop] >= this.idleMs) {
        this.held -= size;
        this.kept.delete(list.bufs[drop]);
        free(list.bufs[drop]);
        drop++;
      }
      if (drop > 0) {
        list.bufs.splice(0, drop);
        list.ats.splice(0, drop);
      }
      if (list.bufs.length === 0) this.free.delete(size);
    }
    this.trimLater();
  }

  /**
   * Traffic may stop: the surplus still goes once idle, even if nothing is taken or given any more. The timer
   * is for when the oldest buffer kept will have been idle `idleMs` (at most a second late): timed from when
   * it was armed, a buffer given back just after waited up to twice `idleMs` (a burst's buffers then held
   * ~2 minutes while the next workload needed none: bench/load's suite, 2 x 128 MB under its 4 KiB runs).
   */
  private trimLater(): void {
    if (this.held <= this.keepBytes || this.timer) return;
    let oldest = Number.POSITIVE_INFINITY;
    for (const list of this.free.values()) if (list.ats.length > 0) oldest = Math.min(oldest, list.ats[0]);
    const due = Math.max(0, oldest + this.idleMs - this.now());
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.trim();
      },
      Math.max(due, Math.min(1000, this.idleMs)),
    );
    this.timer.unref();
  }

  /** Called only while more than `keepBytes` are held (the callers check that first: no clock read otherwise). */
  private trimSometimes(now: number): void {
    if (now - this.lastTrim >= Math.min(1000, this.idleMs)) this.trim();
  }

  /** Bytes kept for reuse (for tests and metrics). */
  get freeBytes(): number {
    return this.held;
  }

  /** Bytes handed out and not given back yet (for tests: a reader that lets go returns all it took). */
  get outBytes(): number {
    return this.out;
  }
}

/**
 * Frees a buffer's memory now: its ArrayBuffer is detached (`transfer(0)`), so the backing store goes back to
 * the allocator. Left to the GC, the buffers a burst of large GETs used stayed in RSS until the next full
 * collection, which the 4 KiB runs that followed in bench/load's suite ran seldom (session 20: RSS of a
 * worker's idle pool fell only during get-4KiB, ~40 s after the pool let go). Only for a buffer nobody refers
 * to any more (given back and idle since): any view of it left would read as empty.
 */
function free(buf: Buffer): void {
  const ab = buf.buffer as ArrayBufferLike & { transfer?: (length: number) => ArrayBuffer };
  if (ab instanceof ArrayBuffer) ab.transfer?.(0); // ES2024 (Node 21+); a SharedArrayBuffer has none
}
