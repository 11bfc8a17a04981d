// The on-disk event queue of notification targets and replication (server/src/api/notify/queue.ts): one segment
// file per turn of the event loop, removed once all its events are delivered; events delivered before the rest
// of their segment acknowledged in a log; reopened after a stop (or a crash: the queue simply not closed) with
// exactly the events not delivered; mirrored on several folders.
import { appendFile, mkdtemp, readdir, readFile, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventQueue, SEGMENT_MAX } from '../../src/api/notify/queue.js';
import { decodeSegment, encodeSegment, hex16 } from '../../src/api/notify/segment.js';

const signal = new AbortController().signal;
const segments = async (dir: string) => (await readdir(dir)).filter((f) => f.endsWith('.seg')).sort();
const ackLogs = async (dir: string) => (await readdir(dir)).filter((f) => f.endsWith('.acks')).sort();
/** Takes and reads `n` events. */
async function takeAll(q: EventQueue, n: number): Promise<{ seqs: number[]; data: string[] }> {
  const seqs: number[] = [];
  const data: string[] = [];
  for (let i = 0; i < n; i++) {
    const seq = (await q.take(signal))!;
    seqs.push(seq);
    data.push(await q.read(seq));
  }
  return { seqs, data };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-queue-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('EventQueue', () => {
  it('writes the pushes of one turn as one segment, keeps them across a reopen, drops a half-written file', () =>
    withDir(async (dir) => {
      const q = await EventQueue.open(dir, 10);
      await Promise.all(['one', 'two', 'three'].map((e) => q.push(e)));
      await q.push('four\nwith a newline and ünicode');
      const segs = await segments(dir);
      expect(segs).toHaveLength(2);
      expect(segs[0]).toMatch(/^[0-9a-f]{16}-3-[0-9a-f]+\.seg$/);
      expect(segs[1]).toMatch(/^[0-9a-f]{16}-1-[0-9a-f]+\.seg$/);
      expect(decodeSegment(await readFile(join(dir, segs[0])), 3, false)).toEqual(['one', 'two', 'three']);
      await writeFile(join(dir, `${segs[1]}.tmp`), 'cut short');
      // Not closed: a crash.
      const again = await EventQueue.open(dir, 10);
      expect(again.length).toBe(4);
      expect(await segments(dir)).toEqual(segs);
      expect(await readdir(dir)).not.toContain(`${segs[1]}.tmp`);
      const { seqs, data } = await takeAll(again, 4);
      expect(data).toEqual(['one', 'two', 'three', 'four\nwith a newline and ünicode']);
      // The sequence continues past what the folder holds.
      await again.push('five');
      expect((await takeAll(again, 1)).seqs[0]).toBeGreaterThan(seqs[3]);
    }));

  it('a segment goes once all its events are delivered; the earlier ones are acknowledged, and a reopen sends exactly the rest', () =>
    withDir(async (dir) => {
      const q = await EventQueue.open(dir, 20);
      await Promise.all(['a', 'b', 'c', 'd'].map((e) => q.push(e)));
      await q.push('e');
      const [s1, s2] = await segments(dir);
      const { seqs } = await takeAll(q, 5);
      // b and d delivered (in any order): acknowledged in one log, their segment stays for a and c.
      await Promise.all([q.remove(seqs[3]), q.remove(seqs[1])]);
      expect(q.length).toBe(3);
      expect(await segments(dir)).toEqual([s1, s2]);
      const logs = await ackLogs(dir);
      expect(logs).toHaveLength(1);
      expect((await readFile(join(dir, logs[0]), 'utf8')).split('\n').sort()).toEqual(
        ['', hex16(seqs[1]), hex16(seqs[3])].sort(),
      );
      // A crash now: the reopen hands out a, c and e only, oldest first, with the same sequence numbers.
      const again = await EventQueue.open(dir, 20);
      expect(again.length).toBe(3);
      const left = await takeAll(again, 3);
      expect(left.data).toEqual(['a', 'c', 'e']);
      expect(left.seqs).toEqual([seqs[0], seqs[2], seqs[4]]);
      // c, then a: the first segment is done and goes, and with it the log that only spoke of it.
      await again.remove(left.seqs[1]);
      expect(await ackLogs(dir)).toHaveLength(2);
      await again.remove(left.seqs[0]);
      expect(await segments(dir)).toEqual([s2]);
      expect(again.length).toBe(1);
      expect(await ackLogs(dir)).toEqual([]);
      await again.remove(left.seqs[2]);
      await again.empty();
      expect(await readdir(dir)).toEqual([]);
    }));

  it('an acknowledgement cut short by a crash sends its event again; a complete one does not', () =>
    withDir(async (dir) => {
      const q = await EventQueue.open(dir, 20);
      await Promise.all(['a', 'b', 'c'].map((e) => q.push(e)));
      const { seqs } = await takeAll(q, 3);
      await q.remove(seqs[0]);
      const [log] = await ackLogs(dir);
      // The process killed within the append of b's line: half of it on disk.
      await appendFile(join(dir, log), hex16(seqs[1]).slice(0, 9));
      const again = await EventQueue.open(dir, 20);
      expect((await takeAll(again, 2)).data).toEqual(['b', 'c']);
      expect(again.length).toBe(2);
    }));

  it('keeps each segment push time in its name: the time of the oldest waiting event, across a reopen, then none', () =>
    withDir(async (dir) => {
      const q = await EventQueue.open(dir, 20);
      expect(q.oldestAt()).toBeUndefined();
      const before = Date.now();
      await Promise.all(['a', 'b'].map((e) => q.push(e)));
      const after = Date.now();
      const first = q.oldestAt()!;
      expect(first).toBeGreaterThanOrEqual(before);
      expect(first).toBeLessThanOrEqual(after);
      await new Promise((r) => setTimeout(r, 30));
      await q.push('c');
      const [seg0, seg1] = await segments(dir);
      expect(Number.parseInt(seg0.split('-')[2], 16)).toBe(first);
      const second = Number.parseInt(seg1.split('-')[2], 16);
      expect(second).toBeGreaterThanOrEqual(first + 25);
      // Not closed: a crash. The reopened queue tells the same time, not its own start.
      const again = await EventQueue.open(dir, 20);
      expect(again.oldestAt()).toBe(first);
      const { seqs } = await takeAll(again, 3);
      // b delivered before a: a still waits, so the time is still the first segment's.
      await again.remove(seqs[1]);
      expect(again.oldestAt()).toBe(first);
      await again.remove(seqs[0]);
      expect(again.oldestAt()).toBe(second);
      await again.remove(seqs[2]);
      expect(again.oldestAt()).toBeUndefined();
    }));

  it('a segment named without its push time (an older Cairn) is dated by its file', () =>
    withDir(async (dir) => {
      const q = await EventQueue.open(dir, 20);
      await q.push('old');
      const [seg] = await segments(dir);
      const [first, count] = seg.split('-');
      const oldName = `${first}-${count}.seg`;
      await rename(join(dir, seg), join(dir, oldName));
      const then = new Date('2026-01-02T03:04:05Z');
      await utimes(join(dir, oldName), then, then);
      const again = await EventQueue.open(dir, 20);
      expect(again.oldestAt()).toBe(then.getTime());
      expect((await takeAll(again, 1)).data).toEqual(['old']);
    }));

  it('a segment whose name and contents disagree is refused when read, its events not made up', () =>
    withDir(async (dir) => {
      const q = await EventQueue.open(dir, 20);
      await Promise.all(['a', 'b'].map((e) => q.push(e)));
      const [seg] = await segments(dir);
      await writeFile(join(dir, seg), Buffer.concat([encodeSegment(['a']), Buffer.from('7\nb')]));
      const again = await EventQueue.open(dir, 20);
      const seq = (await again.take(signal))!;
      await expect(again.read(seq)).rejects.toThrow(/damaged/);
    }));

  it('reads the events of a queue written before segments (one .event file each) and removes them once delivered', () =>
    withDir(async (dir) => {
      await writeFile(join(dir, `${hex16(7)}.event`), '{"old":1}');
      await writeFile(join(dir, `${hex16(9)}.event`), '{"old":2}');
      const q = await EventQueue.open(dir, 20);
      await q.push('new');
      const { seqs, data } = await takeAll(q, 3);
      expect(data).toEqual(['{"old":1}', '{"old":2}', 'new']);
      expect(seqs.slice(0, 2)).toEqual([7, 9]);
      for (const seq of seqs) await q.remove(seq);
      expect(await readdir(dir)).toEqual([]);
    }));

  it('on several drives: each segment on every one, nothing lost when one is wiped or gone', async () => {
    const base = await mkdtemp(join(tmpdir(), 'cairn-queue-'));
    const dirs = ['d1', 'd2', 'd3'].map((d) => join(base, d, 'q'));
    try {
      const q = await EventQueue.open(dirs, 10);
      for (const e of ['a', 'b', 'c', 'd']) await q.push(e); // one turn each: four segments
      await q.remove((await q.take(signal))!); // 'a' delivered: its segment goes
      for (const dir of dirs) expect(await segments(dir)).toHaveLength(3);
      // The first drive wiped (replaced by an empty one): reopened, the others give every event, in order, and
      // the wiped drive gets its copies back.
      await rm(join(base, 'd1'), { recursive: true });
      const again = await EventQueue.open(dirs, 10);
      expect(again.length).toBe(3);
      expect(await segments(dirs[0])).toEqual(await segments(dirs[1]));
      // Now the second drive is gone for good (a file where its folder was: nothing can be made there).
      await rm(join(base, 'd2'), { recursive: true });
      await writeFile(join(base, 'd2'), 'not a drive');
      const third = await EventQueue.open(dirs, 10);
      expect(third.dirs).toEqual([dirs[0], dirs[2]]);
      expect((await takeAll(third, 3)).data).toEqual(['b', 'c', 'd']);
      // Two of three drives is still a majority: events are queued; a third drive lost and nothing is.
      await third.push('e');
      expect(await segments(dirs[2])).toHaveLength(4);
      await rm(join(base, 'd3'), { recursive: true });
      await writeFile(join(base, 'd3'), 'not a drive');
      await expect(third.push('f')).rejects.toThrow();
      expect(third.length).toBe(4);
      expect(await segments(dirs[0])).toHaveLength(4);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });

  it('a drive wiped while the queue runs gets its folder back at the next push, with the segments it lost', async () => {
    const base = await mkdtemp(join(tmpdir(), 'cairn-queue-'));
    const dirs = ['d1', 'd2', 'd3'].map((d) => join(base, d, 'sys', 'q'));
    try {
      const q = await EventQueue.open(dirs, 10);
      for (const e of ['a', 'b', 'c']) await q.push(e);
      await q.remove((await q.take(signal))!); // 'a' delivered
      // d1 wiped down to its root (the drive replaced by an empty one), the queue still open.
      await rm(join(base, 'd1', 'sys'), { recursive: true });
      await q.push('d');
      const all = await segments(dirs[1]);
      expect(all).toHaveLength(3);
      for (const dir of dirs) expect(await segments(dir)).toEqual(all);
      expect(decodeSegment(await readFile(join(dirs[0], all[0])), 1, false)).toEqual(['b']);
      // Removals reach the folder made again; a later wipe is mended again.
      await q.remove((await q.take(signal))!);
      expect(await segments(dirs[0])).toEqual(all.slice(1));
      await rm(join(base, 'd1', 'sys'), { recursive: true });
      await rm(join(base, 'd2', 'sys'), { recursive: true });
      await q.push('e'); // two of three folders gone: both made again, so the push is queued
      for (const dir of dirs) expect(await segments(dir)).toHaveLength(3);
      expect((await takeAll(q, 3)).data).toEqual(['c', 'd', 'e']);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });

  it('removals asked for in the turn of a push go with its segment write (group commit), on disk once they resolve', () =>
    withDir(async (dir) => {
      const q = await EventQueue.open(dir, 20);
      await Promise.all(['a', 'b', 'c'].map((e) => q.push(e)));
      const [first] = await segments(dir);
      const { seqs } = await takeAll(q, 3);
      // d pushed, and a and c delivered in the same turn: the removals wait for d's segment write and go with it.
      // (Were they left out of it, nothing would ever write them: this would not settle.)
      await Promise.all([q.push('d'), q.remove(seqs[0]), q.remove(seqs[2])]);
      const logs = await ackLogs(dir);
      expect(logs).toHaveLength(1);
      expect((await readFile(join(dir, logs[0]), 'utf8')).split('\n').sort()).toEqual(
        ['', hex16(seqs[0]), hex16(seqs[2])].sort(),
      );
      // b then, alone (nothing pushed after it, nothing waiting): its segment goes, and the log with it.
      await q.remove(seqs[1]);
      expect(await ackLogs(dir)).toEqual([]);
      const segs = await segments(dir);
      expect(segs).toHaveLength(1);
      expect(segs[0]).not.toBe(first);
      const again = await EventQueue.open(dir, 20);
      expect((await takeAll(again, 1)).data).toEqual(['d']);
      expect(again.length).toBe(1);
    }));

  it('take waits for a push and stops when its signal aborts', () =>
    withDir(async (dir) => {
      const q = await EventQueue.open(dir, 10);
      const stop = new AbortController();
      const waiting = q.take(stop.signal);
      await q.push('f');
      expect(await q.read((await waiting)!)).toBe('f');
      const none = q.take(stop.signal);
      stop.abort();
      expect(await none).toBeUndefined();
    }));

  it('pushes written concurrently are handed out in the order they were pushed; the limit counts writes under way', () =>
    withDir(async (dir) => {
      const q = await EventQueue.open(dir, SEGMENT_MAX + 100);
      const data = Array.from({ length: SEGMENT_MAX + 150 }, (_, i) => `event-${i}`);
      const pushed = await Promise.allSettled(data.map((d) => q.push(d)));
      expect(pushed.filter((p) => p.status === 'rejected')).toHaveLength(50);
      expect(q.dropped).toBe(50);
      // One turn's pushes beyond SEGMENT_MAX go to a second segment.
      expect((await segments(dir)).map((s) => s.split('-')[1])).toEqual([SEGMENT_MAX.toString(16), '64']);
      expect((await takeAll(q, SEGMENT_MAX + 100)).data).toEqual(data.slice(0, SEGMENT_MAX + 100));
    }));

  it('reads the events written in this run from memory (1024 of them), the others from their segments', () =>
    withDir(async (dir) => {
      const q = await EventQueue.open(dir, 2000);
      const n = 1100;
      for (let i = 1; i <= n; i++) await q.push(`event ${i}`);
      // Changed on disk behind the queue's back: the first is read as written, the last from its file.
      const segs = await segments(dir);
      expect(segs).toHaveLength(n);
      for (const s of [segs[0], segs[n - 1]]) await writeFile(join(dir, s), encodeSegment(['disk']));
      const { seqs, data } = await takeAll(q, n);
      expect(data.slice(0, 1024)).toEqual(Array.from({ length: 1024 }, (_, i) => `event ${i + 1}`));
      expect(data.slice(1024, -1)).toEqual(Array.from({ length: n - 1025 }, (_, i) => `event ${i + 1025}`));
      expect(data.at(-1)).toBe('disk');
      // Read once from memory: a second read of the same event goes to its file.
      expect(await q.read(seqs[0])).toBe('disk');
    }));

  it('refuses events beyond its limit (SlowDown) and counts them; a removal makes room', () =>
    withDir(async (dir) => {
      const q = await EventQueue.open(dir, 2);
      await q.push('a');
      await q.push('b');
      await expect(q.push('c')).rejects.toMatchObject({ code: 'SlowDown' });
      expect(q.dropped).toBe(1);
      expect(q.length).toBe(2);
      await q.remove((await q.take(signal))!);
      await q.push('d');
      expect((await takeAll(q, 2)).data).toEqual(['b', 'd']);
    }));
});
