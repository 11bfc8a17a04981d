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
  let fd: Promise<number> | null = null;
  let closed = false;
  const inflight = new Set<Promise<unknown>>();
  const readAt = (h: number, buf: Buffer, at: number, len: number, pos: number) =>
    new Promise<number>((res, rej) => fsRead(h, buf, at, len, pos, (e, n) => (e ? rej(e) : res(n))));
  /** Runs `io` on the descriptor (opened on first use), tracked so that close waits for it. */
  const use = <T>(io: (h: number) => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(new Error('shard source closed'));
    fd ??= new Promise<number>((res, rej) => fsOpen(absPath, 'r', (e, n) => (e ? rej(e) : res(n))));
    const p = fd.then(io);
    inflight.add(p);
    void p.then(
      () => inflight.delete(p),
      () => inflight.delete(p),
    );
    return p;
  };
  return {
    inMemory: false,
    localPath: readFrames && absPath,
    read(pos, len, into) {
      return use(async (h) => {
        const buf = into ? into.subarray(0, len) : Buffer.allocUnsafe(len);
        let got = 0;
        while (got < len) {
          const bytesRead = await readAt(h, buf, got, len - got, pos + got);
          if (bytesRead === 0) throw new Error('shard file too short');
          got += bytesRead;
        }
        return buf;
      });
    },
    readFrames:
      readFrames &&
      (async (pos, len, stride, into) => {
        if (closed) throw new Error('shard source closed');
        const buf = into ? into.subarray(0, len) : Buffer.allocUnsafe(len);
        return { buf, bad: await readFrames(absPath, pos, stride, buf) };
      }),
    async close() {
      // Not awaited: an open stuck on a hung drive must not hang the request that gave up on it.
      if (closed) return;
      closed = true;
      if (!fd) return;
      const opened = fd;
      void Promise.allSettled([...inflight]).then(() =>
        opened.then(
          (h) => fsClose(h, () => {}),
          () => {},
        ),
      );
    },
  };
}
