// BufferPool: buffers come back for reuse only when whole and backed by their own memory, only up to
// maxBytes, and take() hands out exactly the size asked for. While busy it keeps up to busyBytes; what is
// not taken again for idleMs is let go down to keepBytes (a fake clock drives the time).
import { describe, expect, it, vi } from 'vitest';
import { BufferPool } from '../../src/storage/erasure/buffer-pool.js';

describe('BufferPool', () => {
  it('take gives a buffer of the size asked, with its own memory (never a view of a shared slab)', () => {
    const pool = new BufferPool(1 << 20);
    for (const size of [1, 100, 4096, 65_536]) {
      const b = pool.take(size);
      expect(b.length).toBe(size);
      expect(b.byteOffset).toBe(0);
      expect(b.buffer.byteLength).toBe(size);
    }
    expect(pool.freeBytes).toBe(0);
  });

  it('a buffer given back is the one taken next for that size, and only for that size', () => {
    const pool = new BufferPool(1 << 20);
    const a = pool.take(4096);
    pool.give(a);
    expect(pool.freeBytes).toBe(4096);
    const other = pool.take(8192); // another size: a fresh buffer, the 4 KiB one stays
    expect(other).not.toBe(a);
    expect(other.length).toBe(8192);
    expect(pool.freeBytes).toBe(4096);
    expect(pool.take(4096)).toBe(a);
    expect(pool.freeBytes).toBe(0);
    expect(pool.take(4096)).not.toBe(a); // taken once: never handed out twice
  });

  it('several buffers of one size are all kept and each handed out once', () => {
    const pool = new BufferPool(1 << 20);
    const bufs = Array.from({ length: 5 }, () => pool.take(1000));
    for (const b of bufs) pool.give(b);
    expect(pool.freeBytes).toBe(5000);
    const again = Array.from({ length: 5 }, () => pool.take(1000));
    expect(new Set(again).size).toBe(5);
    for (const b of again) expect(bufs).toContain(b);
    expect(pool.freeBytes).toBe(0);
  });

  it('keeps at most maxBytes of free buffers; the rest are left to the GC', () => {
    const pool = new BufferPool(10_000);
    const bufs = Array.from({ length: 4 }, () => pool.take(3000));
    for (const b of bufs) pool.give(b);
    expect(pool.freeBytes).toBe(9000); // the fourth would make 12000 > 10000
    const kept = new Set([pool.take(3000), pool.take(3000), pool.take(3000)]);
    expect(kept).toEqual(new Set(bufs.slice(0, 3)));
    expect(pool.take(3000)).not.toBe(bufs[3]);
    // exactly at the bound is fine
    const exact = new BufferPool(6000);
    exact.give(Buffer.allocUnsafeSlow(3000));
    exact.give(Buffer.allocUnsafeSlow(3000));
    expect(exact.freeBytes).toBe(6000);
    exact.give(Buffer.allocUnsafeSlow(1));
    expect(exact.freeBytes).toBe(6000);
  });

  it('a pool of 0 bytes keeps nothing', () => {
    const pool = new BufferPool(0);
    const b = pool.take(100);
    pool.give(b);
    expect(pool.freeBytes).toBe(0);
    expect(pool.take(100)).not.toBe(b);
  });

  it('refuses views: a subarray of a pooled buffer, a slice of a shared slab, a non-zero offset', () => {
    const pool = new BufferPool(1 << 20);
    const own = pool.take(4096);
    pool.give(own.subarray(0, 2048)); // not whole: its memory is still the 4 KiB buffer's
    pool.give(own.subarray(2048)); // non-zero offset
    expect(pool.freeBytes).toBe(0);
    const small = Buffer.from('hello'); // from Node's shared 8 KiB slab
    pool.give(small);
    expect(pool.freeBytes).toBe(0);
    const unsafe = Buffer.allocUnsafe(100); // pooled by Node: a view of a bigger ArrayBuffer
    expect(unsafe.buffer.byteLength).toBeGreaterThan(100);
    pool.give(unsafe);
    expect(pool.freeBytes).toBe(0);
    // what a later take of that size returns is never one of those views
    const t = pool.take(2048);
    expect(t.buffer).not.toBe(own.buffer);
    expect(t.buffer.byteLength).toBe(2048);
    // a whole own-memory buffer is accepted
    pool.give(own);
    expect(pool.freeBytes).toBe(4096);
  });

  it('bytes written into a taken buffer stay while it is out (give/take do not touch contents)', () => {
    const pool = new BufferPool(1 << 20);
    const a = pool.take(256).fill(7);
    const b = pool.take(256).fill(9);
    pool.give(a);
    expect(b.every((x) => x === 9)).toBe(true);
    const again = pool.take(256);
    expect(again).toBe(a);
    expect(b.every((x) => x === 9)).toBe(true);
  });

  describe('busy and idle bounds', () => {
    const KiB = 1024;
    function clocked(keep: number, busy: number, idleMs = 1000) {
      let t = 0;
      const pool = new BufferPool(keep, busy, idleMs, () => t);
      return { pool, advance: (ms: number) => (t += ms) };
    }

    it('keeps every buffer that comes back while busy, up to busyBytes (not only keepBytes)', () => {
      const { pool } = clocked(8 * KiB, 40 * KiB);
      const bufs = Array.from({ length: 12 }, () => pool.take(4 * KiB));
      for (const b of bufs) pool.give(b);
      expect(pool.freeBytes).toBe(40 * KiB); // 10 of 12: the busy bound, well above keepBytes
      const again = Array.from({ length: 10 }, () => pool.take(4 * KiB));
      expect(new Set(again).size).toBe(10);
      for (const b of again) expect(bufs).toContain(b); // all reused: nothing allocated
    });

    it('lets buffers idle for idleMs go, oldest first, down to keepBytes; recent ones stay', () => {
      const { pool, advance } = clocked(8 * KiB, 64 * KiB, 1000);
      const old = Array.from({ length: 6 }, () => pool.take(4 * KiB));
      for (const b of old) pool.give(b);
      advance(600);
      const fresh = pool.take(1 * KiB);
      pool.give(fresh);
      expect(pool.freeBytes).toBe(24 * KiB + 1 * KiB);
      advance(500); // the 4 KiB ones idle 1100 ms, the 1 KiB one 500 ms
      pool.trim();
      // down to keepBytes: 4 KiB ones go until 8 KiB remain (the 1 KiB one is recent and counts)
      expect(pool.freeBytes).toBeLessThanOrEqual(8 * KiB);
      expect(pool.freeBytes).toBeGreaterThan(8 * KiB - 4 * KiB);
      expect(pool.take(1 * KiB)).toBe(fresh);
      // the ones kept are the last given back (warmest), the oldest went first
      const kept = pool.take(4 * KiB);
      expect(kept).toBe(old[old.length - 1]);
    });

    it('with no traffic, each buffer goes once idle idleMs (at most a second late), not up to twice that', () => {
      vi.useFakeTimers();
      try {
        let t = 0;
        const pool = new BufferPool(0, 64 * KiB, 10_000, () => t);
        const advance = (ms: number) => {
          t += ms;
          vi.advanceTimersByTime(ms);
        };
        const a = pool.take(4 * KiB);
        const b = pool.take(4 * KiB);
        pool.give(a); // arms the timer: a is due at 10 s
        advance(6000);
        pool.give(b); // due at 16 s
        advance(4000);
        expect(pool.freeBytes).toBe(4 * KiB); // a went at 10 s, b not yet idle long enough
        advance(5900);
        expect(pool.freeBytes).toBe(4 * KiB);
        advance(100);
        expect(pool.freeBytes).toBe(0); // at 16 s, not at 20 s (a timer armed idleMs after the last trim)
      } finally {
        vi.useRealTimers();
      }
    });

    it('the memory of a buffer let go is freed at once, not when the GC finds it', () => {
      const { pool, advance } = clocked(0, 64 * 1024 * KiB, 1000);
      const bufs = Array.from({ length: 16 }, () => pool.take(1024 * KiB));
      for (const b of bufs) pool.give(b);
      const before = process.memoryUsage().arrayBuffers;
      advance(1000);
      pool.trim();
      expect(pool.freeBytes).toBe(0);
      // bufs still refers to every buffer: only freeing them makes their 16 MiB go
      expect(before - process.memoryUsage().arrayBuffers).toBeGreaterThanOrEqual(16 * 1024 * KiB);
      for (const b of bufs) expect(b.length).toBe(0);
      // a buffer kept (within keepBytes) is not touched
      const { pool: keeping, advance: later } = clocked(4 * KiB, 64 * KiB, 1000);
      const kept = keeping.take(4 * KiB).fill(5);
      keeping.give(kept);
      later(1000);
      keeping.trim();
      expect(kept.length).toBe(4 * KiB);
      expect(keeping.take(4 * KiB)).toBe(kept);
    });

    it('a buffer taken and given again is recent again: a steady workload keeps its buffers', () => {
      const { pool, advance } = clocked(0, 64 * KiB, 1000);
      const bufs = Array.from({ length: 4 }, () => pool.take(4 * KiB));
      for (const b of bufs) pool.give(b);
      for (let i = 0; i < 10; i++) {
        advance(400);
        const got = Array.from({ length: 4 }, () => pool.take(4 * KiB)); // trims what is idle: nothing
        for (const b of got) expect(bufs).toContain(b);
        for (const b of got) pool.give(b);
      }
      expect(pool.freeBytes).toBe(16 * KiB);
      advance(1000);
      pool.trim();
      expect(pool.freeBytes).toBe(0); // idle now: keepBytes is 0
    });
  });
});
