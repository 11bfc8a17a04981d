// A shard file of a local drive read at offsets (LocalDrive.openShard).
import { close as fsClose, open as fsOpen, read as fsRead } from 'node:fs';
import type { FrameVerifier, ShardSource } from './drive.js';

/**
 * A shard file. Verified reads (`readFrames`, the GET path) open, read, check and close the file in one pool
 * task each (FrameVerifier): a ranged GET's shard costs one task, not four (open, read, verify, close; each
 * a queued request and a thread wake-up for the event loop). The GET holds the data dir (Reaper) while it
 * reads, so the file is still there for its next batch. Plain reads (the block-by-block path: parity,
 * healing, a hedge) keep a descriptor, opened on first use: callback fs (not a FileHandle), less main-thread
 * CPU per file; it is closed only once reads in flight are done (a hedged or read-ahead read may still run
 * when the reader is closed), so a closed and reused descriptor number is never read.
 */
export function fileSource(absPath: string, readFrames?: FrameVerifier): ShardSource {
  return new FileShard(absPath, readFrames);
}

const readAt = (h: number, buf: Buffer, at: number, len: number, pos: number) =>
  new Promise<number>((res, rej) => fsRead(h, buf, at, len, pos, (e, n) => (e ? rej(e) : res(n))));

/**
 * A class, not closures: every GET makes one per shard (twice when its first batch is begun early), and most
 * only ever call readFrames and close (tsx, 4 sources: ~5 us of the event loop's CPU as closures at load 35).
 */
class FileShard implements ShardSource {
  readonly inMemory = false;
  readonly localPath: string | undefined;
  readonly readFrames: ShardSource['readFrames'];
  private fd: Promise<number> | null = null;
  private closed = false;
  /** Plain reads in flight (made on first use): close waits for them before closing the descriptor. */
  private inflight: Set<Promise<unknown>> | null = null;

  constructor(
    private readonly absPath: string,
    private readonly verifier?: FrameVerifier,
  ) {
    this.localPath = verifier && absPath;
    this.readFrames = verifier && this.verified;
  }

  private async verified(pos: number, len: number, stride: number, into?: Buffer) {
    if (this.closed) throw new Error('shard source closed');
    const buf = into ? into.subarray(0, len) : Buffer.allocUnsafe(len);
    return { buf, bad: await this.verifier!(this.absPath, pos, stride, buf) };
  }

  /** Runs `io` on the descriptor (opened on first use), tracked so that close waits for it. */
  private use<T>(io: (h: number) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('shard source closed'));
    this.fd ??= new Promise<number>((res, rej) => fsOpen(this.absPath, 'r', (e, n) => (e ? rej(e) : res(n))));
    const p = this.fd.then(io);
    const inflight = (this.inflight ??= new Set());
    inflight.add(p);
    void p.then(
      () => inflight.delete(p),
      () => inflight.delete(p),
    );
    return p;
  }

  read(pos: number, len: number, into?: Buffer): Promise<Buffer> {
    return this.use(async (h) => {
      const buf = into ? into.subarray(0, len) : Buffer.allocUnsafe(len);
      let got = 0;
      while (got < len) {
        const bytesRead = await readAt(h, buf, got, len - got, pos + got);
        if (bytesRead === 0) throw new Error('shard file too short');
        got += bytesRead;
      }
      return buf;
    });
  }

  async close(): Promise<void> {
    // Not awaited: an open stuck on a hung drive must not hang the request that gave up on it.
    if (this.closed) return;
    this.closed = true;
    const opened = this.fd;
    if (!opened) return;
    void Promise.allSettled([...(this.inflight ?? [])]).then(() =>
      opened.then(
        (h) => fsClose(h, () => {}),
        () => {},
      ),
    );
  }
}
