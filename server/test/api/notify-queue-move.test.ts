// An event queue moving to other folders (server/src/api/notify/queue.ts moveTo, open's `from`): what server pools
// do when the pool holding the queues is decommissioned. Nothing waiting is lost, nothing delivered goes out
// again, and the folders left end up with no queue file.
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../src/api/notify/queue.js';
import { decodeAcks, parseName } from '../../src/api/notify/segment.js';

const signal = new AbortController().signal;

/** The files of a queue folder (segments, logs, temporary files), none when it is gone. */
const queueFiles = async (dir: string) => (await readdir(dir).catch(() => [] as string[])).filter((f) => parseName(f));

/** The sequence numbers of the events a folder holds and does not acknowledge, as a reopen of it alone sees them. */
async function waitingIn(dir: string): Promise<number[]> {
  const seqs = new Set<number>();
  const acked = new Set<number>();
  for (const f of await readdir(dir)) {
    const p = parseName(f);
    if (p?.kind === 'segment') for (let s = p.first; s < p.first + p.count; s++) seqs.add(s);
    if (p?.kind === 'acks') for (const s of decodeAcks(await readFile(join(dir, f), 'utf8'))) acked.add(s);
  }
  return [...seqs].filter((s) => !acked.has(s)).sort((a, b) => a - b);
}

/** Takes and reads every event the queue holds, oldest first. */
async function drain(q: EventQueue): Promise<{ seqs: number[]; data: string[] }> {
  const seqs: number[] = [];
  const data: string[] = [];
  for (let n = q.length; n > 0; n--) {
    const seq = (await q.take(signal))!;
    seqs.push(seq);
    data.push(await q.read(seq));
  }
  return { seqs, data };
}

async function withBase(fn: (from: string[], to: string[], base: string) => Promise<void>): Promise<void> {
  const base = await mkdtemp(join(tmpdir(), 'cairn-queue-move-'));
  try {
    await fn(
      ['a1', 'a2', 'a3'].map((d) => join(base, d, 'q')),
      ['b1', 'b2', 'b3'].map((d) => join(base, d, 'q')),
      base,
    );
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

const range = (n: number, from = 1) => Array.from({ length: n }, (_, i) => `e${i + from}`);

describe('EventQueue moving', () => {
  it('moves while it runs: pushes and removals before and during the move lose nothing, send nothing twice, and the old folders are emptied', () =>
    withBase(async (from, to) => {
      const q = await EventQueue.open(from, 1000);
      // Ten segments of one event, then one of ten (pushed in one turn).
      for (const e of range(10)) await q.push(e);
      await Promise.all(range(10, 11).map((e) => q.push(e)));
      const first = await Promise.all(Array.from({ length: 4 }, () => q.take(signal)));
      // e1 removes its segment; e2 too; the segment of e11-e20 keeps e12's acknowledgement in a log.
      const e12 = (await Promise.all(range(8).map(() => q.take(signal))))[7]!;
      expect(await q.read(e12)).toBe('e12');
      await Promise.all([q.remove(first[0]!), q.remove(first[1]!), q.remove(e12)]);
      expect((await readdir(from[0])).filter((f) => f.endsWith('.acks'))).toHaveLength(1);
      // A push under way when the move begins (large: its writes to the old folders still run when the move
      // switches folders), one during the move, and a removal (e3) during it.
      const big = 'e21'.padEnd(8 << 20, '.');
      const before = q.push(big);
      await new Promise((resolve) => setImmediate(resolve)); // its segment's writes have begun
      const moving = q.moveTo(to);
      const during = q.push('e22');
      const removed = q.remove(first[2]!);
      await Promise.all([before, moving, during, removed]);
      expect(q.dirs).toEqual(to);
      for (const dir of from) expect(await queueFiles(dir)).toEqual([]);
      // Every folder of the new place holds every event still waiting, and no other.
      const waiting = await waitingIn(to[0]);
      expect(waiting).toHaveLength(22 - 4);
      for (const dir of to) expect(await waitingIn(dir)).toEqual(waiting);
      // A removal after the move reaches the new folders.
      await q.remove(first[3]!);
      // A reopen of the new folders alone (the old pool gone) sends exactly the rest, in order, once.
      const again = await EventQueue.open(to, 1000);
      const { seqs, data } = await drain(again);
      expect(data).toEqual([...range(6, 5), 'e11', ...range(8, 13), big, 'e22']);
      // The sequence goes on past the events moved.
      await again.push('e23');
      expect(await again.take(signal)).toBeGreaterThan(seqs.at(-1)!);
    }));

  it('opened with the folders it lived in before (`from`, a move cut short): takes their events in, in order, acknowledged ones not again, and empties them', () =>
    withBase(async (from, to) => {
      const q = await EventQueue.open(from, 100);
      for (const e of range(3)) await q.push(e);
      await Promise.all(range(4, 4).map((e) => q.push(e)));
      const taken = await Promise.all(Array.from({ length: 5 }, () => q.take(signal)));
      await q.remove(taken[1]!); // e2: its segment goes
      await q.remove(taken[4]!); // e5: acknowledged, its segment stays for e4, e6 and e7
      // The move cut short: two segments copied to one new folder, nothing else.
      await mkdir(to[0], { recursive: true });
      const segs = (await readdir(from[0])).filter((f) => f.endsWith('.seg')).sort();
      for (const f of segs.slice(0, 2)) await copyFile(join(from[0], f), join(to[0], f));
      const again = await EventQueue.open(to, 100, from);
      for (const dir of from) expect(await queueFiles(dir)).toEqual([]);
      for (const dir of to) expect(await waitingIn(dir)).toHaveLength(5);
      expect((await drain(again)).data).toEqual(['e1', 'e3', 'e4', 'e6', 'e7']);
      // The sequence goes on after the events taken in.
      await again.push('e8');
      const last = (await waitingIn(to[2])).at(-1)!;
      expect(last).toBeGreaterThan(taken[4]!);
    }));

  it('a move to folders most of which cannot be made is refused before anything moves', () =>
    withBase(async (from, to, base) => {
      const q = await EventQueue.open(from, 100);
      for (const e of range(3)) await q.push(e);
      // Two of the three new folders under a file: they cannot be made.
      await writeFile(join(base, 'file'), '');
      const bad = [to[0], join(base, 'file', 'b2'), join(base, 'file', 'b3')];
      await expect(q.moveTo(bad)).rejects.toThrow(/ENOTDIR/);
      expect(q.dirs).toEqual(from);
      for (const dir of from) expect(await waitingIn(dir)).toHaveLength(3);
      expect(await queueFiles(to[0])).toEqual([]);
      // The queue still works, and moves once the folders can be made.
      await q.push('e4');
      await q.moveTo(to);
      for (const dir of from) expect(await queueFiles(dir)).toEqual([]);
      expect((await drain(await EventQueue.open(to, 100))).data).toEqual(range(4));
    }));
});
