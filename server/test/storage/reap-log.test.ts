// The reap log (storage/engine/reap-log.ts) on a real drive folder: removals written down in generations, a
// generation's file gone once its removals are settled (so steady traffic does not grow the log without
// bound), and a process starting again taking over its own and orphaned logs, but not a live worker's.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { LocalDrive } from '../../src/storage/drive/local-drive.js';
import { REAP_DIR, ReapLog } from '../../src/storage/engine/reap-log.js';
import { drives } from './helpers.js';

let dir: Awaited<ReturnType<typeof drives>>;
let drive: LocalDrive;
beforeEach(async () => {
  dir = await drives(1);
  drive = new LocalDrive(dir.paths[0]);
});
afterEach(() => dir.cleanup());

const logs = async () => (await readdir(join(drive.root, REAP_DIR)).catch(() => [])).sort();

it('starts a new generation after its lines, and removes a generation once every removal in it is settled', async () => {
  const log = new ReapLog('w1', () => true, 3);
  const a = await log.note(drive, ['b/x.o/1', 'b/x.o/2']);
  const b = await log.note(drive, ['b/y.o/3', 'b/y.o/4']); // 2 < 3 lines: same generation
  const c = await log.note(drive, ['b/z.o/5']); // 4 lines: the next generation
  expect([a, b, c]).toEqual([0, 0, 1]);
  expect(await logs()).toEqual(['w1.0', 'w1.1']);
  await log.settle(drive, a, 2);
  expect(await logs()).toEqual(['w1.0', 'w1.1']); // b's lines still wait
  await log.settle(drive, b, 2);
  expect(await logs()).toEqual(['w1.1']);
  await log.settle(drive, c, 1);
  expect(await logs()).toEqual([]);
});

it("at start-up takes over its own and orphaned logs, never a live process's", async () => {
  const live = new Set(['w1', 'w2']);
  for (const [name, path] of [
    ['w1', 'b/own.o/1'],
    ['w2', 'b/live.o/2'],
    ['w3', 'b/orphan.o/3'],
    ['main', 'b/alone.o/4'],
  ])
    await new ReapLog(name, () => true).note(drive, [path]);
  expect(await logs()).toEqual(['main.0', 'w1.0', 'w2.0', 'w3.0']);
  // Worker 1 again, and the leader: its own log, w3's (no such worker now) and main's (no process alone now).
  const again = new ReapLog('w1', (n) => live.has(n));
  const taken = await again.recover([drive], true);
  expect(taken.map((t) => t.path).sort()).toEqual(['b/alone.o/4', 'b/orphan.o/3', 'b/own.o/1']);
  expect(await logs()).toEqual(['w1.1', 'w2.0']); // noted again in a new generation; the live worker's untouched
  for (const t of taken) await again.settle(drive, t.noted, 1);
  expect(await logs()).toEqual(['w2.0']);
  // A worker that is not the leader takes over its own log only.
  const w2 = new ReapLog('w2', (n) => live.has(n));
  expect((await w2.recover([drive], false)).map((t) => t.path)).toEqual(['b/live.o/2']);
});
