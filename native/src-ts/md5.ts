// MD5, the ETag digest, for many uploads at once. One upload's MD5 runs at about 0.65 GB/s per core
// whatever the core (a chain of dependent steps); the kernel hashes up to eight uploads in the lanes of
// AVX2 registers for about the cost of one. An upload's state lives in a small Buffer (`md5State`), so any
// set of uploads can be updated in one call; `Md5Lanes` gathers the updates of the uploads in progress into
// such calls on the libuv pool.
import { native } from './binding.js';

/** A fresh MD5 state (a Buffer the kernels update in place). */
export function md5State(): Buffer {
  return native.md5State();
}

/** The MD5 digest of what `state` has seen; the state may go on. */
export function md5StateDigest(state: Buffer): Buffer {
  return native.md5StateDigest(state);
}

/**
 * Adds to each state its input: `states[i]` gets the next `counts[i]` of `pieces` (a block as the socket
 * delivered it). A state must appear once. Sync form, for small inputs.
 */
export function md5Update(states: Buffer[], pieces: Uint8Array[], counts: number[]): void {
  native.md5Update(states, pieces, counts);
}

/** `md5Update` on the libuv thread pool; states and pieces must not change until it settles. */
export function md5UpdateAsync(states: Buffer[], pieces: Buffer[], counts: number[]): Promise<void> {
  return native.md5UpdateAsync(states, pieces, counts);
}

interface Pending {
  state: Buffer;
  pieces: Buffer[];
  resolve(): void;
  reject(e: Error): void;
}

/**
 * Gathers MD5 updates of concurrent uploads into multi-lane kernel calls. An update waits for the turn of
 * the event loop in which it was asked (so that the uploads whose blocks arrived together share a call), or
 * for a call in flight to finish when `maxInFlight` are; each call takes up to `lanes` waiting updates. Under
 * load the uploads' blocks meet in calls of several lanes; a lone upload gets calls of one (scalar) lane.
 */
export class Md5Lanes {
  private readonly waiting: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;
  /** Calls made and updates hashed, for tests and benchmarks. */
  calls = 0;
  updates = 0;

  constructor(
    private readonly lanes = 8,
    private readonly maxInFlight = 2,
  ) {}

  /** Adds `pieces` to `state` (one update per state at a time: await it before the next). */
  update(state: Buffer, pieces: Buffer[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ state, pieces, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.dispatch();
        });
      }
    });
  }

  private dispatch(): void {
    while (this.inFlight < this.maxInFlight && this.waiting.length > 0) {
      const batch: Pending[] = [];
      const rest: Pending[] = [];
      for (const p of this.waiting.splice(0)) {
        // Two updates of one state cannot share a call: the later one waits for the next.
        if (batch.length < this.lanes && !batch.some((b) => b.state === p.state)) batch.push(p);
        else rest.push(p);
      }
      this.waiting.push(...rest);
      this.inFlight++;
      this.calls++;
      this.updates += batch.length;
      const pieces = batch.flatMap((b) => b.pieces);
      md5UpdateAsync(
        batch.map((b) => b.state),
        pieces,
        batch.map((b) => b.pieces.length),
      ).then(
        () => this.settle(batch, undefined),
        (e: Error) => this.settle(batch, e),
      );
    }
  }

  private settle(batch: Pending[], error: Error | undefined): void {
    this.inFlight--;
    for (const b of batch) {
      if (error) b.reject(error);
      else b.resolve();
    }
    this.dispatch();
  }
}

/** Counters of the process's MD5 batcher (`Md5Stream`): `bytes / 64 / steps` is the lanes filled on average. */
export interface Md5StreamStats {
  passes: number;
  bytes: number;
  steps: number;
  /** Bytes hashed with k lanes live at `lanes[k - 1]` (k = 1..8): how much went through the dearer one-lane code. */
  lanes: number[];
}

/** The MD5 batcher's counters since the process started (all worker threads). */
export function md5StreamStats(): Md5StreamStats {
  return native.md5StreamStats();
}

/**
 * The ETag MD5 of one upload, hashed by one batcher shared by every worker thread of the process: the pieces
 * given to `add` are kept (not copied) and hashed a few MiB later, in SIMD lanes with the other uploads'
 * waiting bytes, on the libuv pool (md5_streams.rs). One call at a time: await each before the next.
 */
export class Md5Stream {
  readonly #inner: InstanceType<typeof native.Md5Stream>;

  /** `state`: an MD5 state (`md5State`, updated since) to go on from; a fresh one when omitted. */
  constructor(state?: Buffer) {
    this.#inner = new native.Md5Stream(state);
  }

  /**
   * Adds `pieces`. `kept`: the caller never changes them afterwards, so they may wait to be hashed with other
   * uploads' (what resolves is then only a pass that was due); otherwise they are hashed before it resolves.
   */
  async add(pieces: Buffer[], kept: boolean): Promise<void> {
    const due = this.#inner.push(pieces, false);
    if (due || !kept) await this.#inner.hashAsync(!kept);
  }

  /** Adds `pieces` on this thread when nothing waits (small inputs); else they wait like `add(pieces, true)`'s. */
  addNow(pieces: Buffer[]): void {
    this.#inner.push(pieces, true);
  }

  /** The MD5 of everything added, once hashed (the stream may go on). */
  async digest(): Promise<Buffer> {
    await this.#inner.hashAsync(true);
    return this.#inner.digest();
  }

  /** Ends the stream (an upload given up): the pieces waiting are released now. */
  close(): void {
    this.#inner.close();
  }

  /** The MD5 of everything added; throws while bytes wait (`digest()` waits for them). */
  digestNow(): Buffer {
    return this.#inner.digest();
  }
}
