// The process-wide MD5 batcher (Md5Stream, md5_streams.rs) against node:crypto: concurrent streams of
// different sizes whose bytes wait and are hashed together in lanes; streams that flush every call; small
// inputs hashed at once; streams given up with bytes waiting; streams in several worker threads sharing
// the batcher, one thread ended while its bytes wait.
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Md5Stream, md5State, md5StreamStats, md5Update } from '../index.js';
import { seededRandom } from '../../test/helpers/random.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const MiB = 1 << 20;

/** Average lanes filled by the passes between two readings of the counters. */
function lanesBetween(a: ReturnType<typeof md5StreamStats>, b: ReturnType<typeof md5StreamStats>): number {
  return (b.bytes - a.bytes) / 64 / (b.steps - a.steps);
}

describe('Md5Stream', () => {
  const rnd = seededRandom();

  /** `data` cut into 1-5 pieces at random places (some empty). */
  function cut(data: Buffer): Buffer[] {
    const at = Array.from({ length: rnd.int(0, 5) }, () => rnd.int(0, data.length + 1)).sort((a, b) => a - b);
    const bounds = [0, ...at, data.length];
    return bounds.slice(1).map((end, i) => data.subarray(bounds[i], end));
  }

  it('equals node:crypto for concurrent streams of different sizes, their waiting bytes hashed in lanes', async () => {
    const sizes = [0, 1, 63, 64, 65, 2 * MiB - 1, 2 * MiB, 2 * MiB + 1, 5 * MiB + 17, 7 * MiB, 9 * MiB + 3];
    const before = md5StreamStats();
    const got = await Promise.all(
      sizes.map(async (size) => {
        const data = rnd.bytes(size);
        const s = new Md5Stream();
        // Blocks of random lengths around storage's 1 MiB, each as pieces; a turn of the loop between them.
        for (let at = 0; at < size; ) {
          const end = Math.min(size, at + rnd.int(1, 2 * MiB));
          await s.add(cut(data.subarray(at, end)), true);
          await new Promise((r) => setImmediate(r));
          at = end;
        }
        return [(await s.digest()).toString('hex'), md5(data)];
      }),
    );
    for (const [g, w] of got) expect(g).toBe(w);
    const after = md5StreamStats();
    expect(after.bytes - before.bytes).toBe(sizes.reduce((a, b) => a + b, 0));
    // Every byte hashed is counted once at the count of lanes live when it was (64-byte blocks: the few bytes
    // a state carries from one pass to the next are counted in the pass that hashes them).
    const byLanes = after.lanes.map((b, k) => b - before.lanes[k]);
    expect(byLanes).toHaveLength(8);
    const counted = byLanes.reduce((a, b) => a + b, 0);
    expect(counted).toBeLessThanOrEqual(after.bytes - before.bytes);
    expect(counted).toBeGreaterThan(after.bytes - before.bytes - 64 * (after.passes - before.passes) * 8);
    expect(byLanes.slice(1).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    // Eleven streams at once: the passes fill several lanes (one stream at a time would be 1; 2-2.9 seen).
    expect(lanesBetween(before, after)).toBeGreaterThan(1.5);
  });

  it('flushing streams, kept streams and small inputs hashed at once give the same digests', async () => {
    const runs = Array.from({ length: 8 }, (_, i) => ({ kept: i % 2 === 0, blocks: [] as Buffer[] }));
    const got = await Promise.all(
      runs.map(async (r) => {
        const s = new Md5Stream();
        for (let k = 0; k < 12; k++) {
          const small = rnd.next() < 0.3;
          const block = rnd.bytes(small ? rnd.int(0, 20_000) : rnd.int(100_000, 1_500_000));
          r.blocks.push(block);
          if (small) s.addNow(cut(block));
          else await s.add(cut(block), r.kept);
          // A stream that flushes has nothing waiting after each call: its digest is there at once.
          if (!r.kept) expect(s.digestNow().toString('hex')).toBe(md5(Buffer.concat(r.blocks)));
        }
        return (await s.digest()).toString('hex');
      }),
    );
    got.forEach((g, i) => expect(g).toBe(md5(Buffer.concat(runs[i].blocks))));
  });

  it('goes on from a given MD5 state, and refuses what is not one', async () => {
    const [a, b] = [rnd.bytes(100), rnd.bytes(3 << 20)];
    const state = md5State();
    md5Update([state], [a], [1]);
    const s = new Md5Stream(state);
    await s.add([b], true);
    expect((await s.digest()).toString('hex')).toBe(md5(Buffer.concat([a, b])));
    expect(() => new Md5Stream(Buffer.alloc(10))).toThrow(/not an MD5 state/);
  });

  it('a digest waits for the bytes; digestNow refuses while bytes wait; the stream goes on after a digest', async () => {
    const s = new Md5Stream();
    const [a, b] = [rnd.bytes(MiB), rnd.bytes(3 * MiB)];
    await s.add([a], true); // below the lag: waits
    expect(() => s.digestNow()).toThrow(/bytes wait/);
    expect((await s.digest()).toString('hex')).toBe(md5(a));
    await s.add([b.subarray(0, 5)], true);
    await s.add([b.subarray(5)], true);
    expect((await s.digest()).toString('hex')).toBe(md5(Buffer.concat([a, b])));
  });

  it('streams given up with bytes waiting leave the others right, and refuse later calls', async () => {
    const keep = Array.from({ length: 4 }, () => ({ s: new Md5Stream(), data: rnd.bytes(6 * MiB + rnd.int(0, 1000)) }));
    const quit = Array.from({ length: 4 }, () => new Md5Stream());
    const feed = async (s: Md5Stream, data: Buffer, stopAt = data.length) => {
      for (let at = 0; at < stopAt; at += MiB) {
        await s.add([data.subarray(at, Math.min(stopAt, at + MiB))], true);
        await new Promise((r) => setImmediate(r));
      }
    };
    const given = await Promise.all([
      ...keep.map(async (k) => {
        await feed(k.s, k.data);
        return (await k.s.digest()).toString('hex');
      }),
      ...quit.map(async (s) => {
        // Halfway, with bytes waiting (perhaps in another stream's pass right now), the upload is given up.
        await feed(s, rnd.bytes(4 * MiB), rnd.int(MiB, 3 * MiB));
        s.close();
        return '';
      }),
    ]);
    keep.forEach((k, i) => expect(given[i]).toBe(md5(k.data)));
    for (const s of quit) {
      expect(() => s.addNow([Buffer.alloc(1)])).toThrow(/gone/);
      expect(() => s.digestNow()).toThrow(/gone/);
    }
  });
});

describe('Md5Stream across worker threads', () => {
  const rnd = seededRandom();
  const binding = fileURLToPath(new URL('../binding.cjs', import.meta.url));
  // Each thread: its own stream. It adds `first` bytes (blocks of 256 KiB, two pieces each: below the lag,
  // so they wait), posts 'ready' and waits for 'go' (or, with `hang`, for ever); then adds `rest` bytes
  // the same way, a turn of its loop between blocks, and posts its digest beside node:crypto's.
  const script = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { createHash, randomBytes } = require('node:crypto');
    const native = require(workerData.binding);
    const s = new native.Md5Stream();
    const h = createHash('md5');
    const feed = async (bytes) => {
      for (let n = 0; n < bytes; n += 256 * 1024) {
        const block = randomBytes(Math.min(256 * 1024, bytes - n));
        h.update(block);
        if (s.push([block.subarray(0, 1000), block.subarray(1000)], false)) await s.hashAsync(false);
        await new Promise((r) => setImmediate(r));
      }
    };
    feed(workerData.first).then(() => {
      parentPort.postMessage('ready');
      if (workerData.hang) return;
      parentPort.once('message', async () => {
        await feed(workerData.rest);
        await s.hashAsync(true);
        parentPort.postMessage({ got: s.digest().toString('hex'), want: h.digest('hex') });
      });
    });
  `;
  const start = (first: number, rest: number, hang = false) => {
    const w = new Worker(script, { eval: true, workerData: { binding, first, rest, hang } });
    const ready = new Promise<void>((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', reject);
    });
    const result = new Promise<{ got: string; want: string }>((resolve, reject) => {
      w.on('message', (m) => typeof m === 'object' && resolve(m));
      w.once('error', reject);
    });
    return { w, ready, result };
  };

  it('threads share one batcher: their waiting bytes go in one pass, in lanes; digests right', async () => {
    const threads = Array.from({ length: 4 }, () => start(1.5 * MiB, 6 * MiB + 1000));
    await Promise.all(threads.map((t) => t.ready));
    // This thread's flush takes the four threads' waiting bytes along: one pass, five lanes.
    const before = md5StreamStats();
    const s = new Md5Stream();
    const data = rnd.bytes(1.5 * MiB);
    await s.add([data], true);
    expect((await s.digest()).toString('hex')).toBe(md5(data));
    const after = md5StreamStats();
    expect(after.passes - before.passes).toBe(1);
    expect(after.bytes - before.bytes).toBe(5 * 1.5 * MiB);
    expect(lanesBetween(before, after)).toBe(5);
    for (const t of threads) t.w.postMessage('go');
    for (const r of await Promise.all(threads.map((t) => t.result))) expect(r.got).toBe(r.want);
    await Promise.all(threads.map((t) => t.w.terminate()));
  });

  it('a thread ended while its bytes wait leaves the batcher and the other threads right', async () => {
    const doomed = start(1.5 * MiB, 0, true);
    await doomed.ready;
    const others = Array.from({ length: 3 }, () => start(MiB, 8 * MiB));
    await Promise.all(others.map((t) => t.ready));
    for (const t of others) t.w.postMessage('go');
    // Ended while the others' passes may be taking its waiting bytes along.
    await new Promise((r) => setTimeout(r, rnd.int(0, 20)));
    await doomed.w.terminate(); // its environment's cleanup waits for such a pass, then releases its pieces
    for (const r of await Promise.all(others.map((t) => t.result))) expect(r.got).toBe(r.want);
    await Promise.all(others.map((t) => t.w.terminate()));
    // Streams made after it still work.
    const s = new Md5Stream();
    const data = rnd.bytes(3 * MiB);
    await s.add([data], true);
    expect((await s.digest()).toString('hex')).toBe(md5(data));
  });
});
