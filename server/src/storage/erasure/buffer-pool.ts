// Big buffers reused across requests: GET's shard reads, PUT's blocks and encoded frames. Fresh ones
// churn external memory, and V8 answers with a mark-compact every ~100 ms under load ("external memory
// pressure", measured: ~18% of a 64 MiB GET's CPU). A buffer comes back only when its user says nothing
// refers to it any more (the socket or the drives wrote it); one that never comes back is left to the GC,
// so a consumer that does not give back is safe.
export class BufferPool {
  private readonly free = new Map<number, Buffer[]>();
  private held = 0;

  /** Keeps at most `maxBytes` of free buffers. */
  constructor(private readonly maxBytes: number) {}

  take(size: number): Buffer {
    const list = this.free.get(size);
    const buf = list?.pop();
    if (buf) {
      this.held -= size;
      return buf;
    }
    return Buffer.allocUnsafeSlow(size); // its own memory: never a view of a shared slab
  }

  give(buf: Buffer): void {
    if (this.held + buf.length > this.maxBytes || buf.byteOffset !== 0 || buf.length !== buf.buffer.byteLength) return;
    let list = this.free.get(buf.length);
    if (!list) this.free.set(buf.length, (list = []));
    if (list.includes(buf)) return; // given back twice: must not be handed out twice
    list.push(buf);
    this.held += buf.length;
  }

  /** Bytes kept for reuse (for tests and metrics). */
  get freeBytes(): number {
    return this.held;
  }
}
