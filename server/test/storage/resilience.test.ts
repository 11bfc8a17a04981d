// Lost, unreadable and corrupted drives: reads stay byte-exact up to `parity` bad drives, corruption in
// shard and metadata files is detected and healed, and an emptied drive is noticed and rebuilt.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { closeSync, constants as fsConstants, openSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { body, data, drives, get, open, put, read } from './helpers.js';
import type { ErasureObjects } from '../../src/storage/index.js';
import { seededRandom } from '../../../test/helpers/random.js';

const MiB = 1024 * 1024;
const SIZES = [0, 1, 5000, 200 * 1024, MiB + 1, 3 * MiB + 7];

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(n: number, o = {}) {
  const d = await drives(n);
  const s = await open(d.paths, o);
  cleanup.push(
    () => d.cleanup(),
    () => s.close(),
  );
  await s.makeBucket('bkt');
  const objects = new Map<string, Buffer>();
  for (const size of SIZES) {
    const b = data(size);
    objects.set(`o/${size}`, b);
    await put(s, 'bkt', `o/${size}`, b);
  }
  return { d, s, objects };
}

async function readsAll(s: ErasureObjects, objects: Map<string, Buffer>) {
  for (const [k, b] of objects) expect((await get(s, 'bkt', k)).equals(b), k).toBe(true);
}

/** Every file under dir (recursive). */
async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) out.push(join(e.parentPath, e.name));
  return out;
}

/** Poll a condition of the background workers (generous: the test machine may be busy). */
async function until(cond: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const random = seededRandom();

/** Inverts `count` distinct bytes of the file (the same byte twice would cancel out). */
async function flip(path: string, count = 3): Promise<void> {
  const buf = await readFile(path);
  if (buf.length === 0) return;
  for (const at of random.distinct(Math.min(count, buf.length), buf.length)) buf[at] ^= 0xff;
  await writeFile(path, buf);
}

describe('lost and unreadable drives', () => {
  it.each([
    ['2+2', 4, {}, [0, 1]],
    ['4+4', 8, {}, [0, 1, 2, 3]],
    ['6+2', 8, { parity: 2 }, [3, 7]],
    ['two sets of 2+2', 8, { setSize: 4 }, [0, 1, 5, 6]],
  ] as const)('%s reads everything with parity drives gone or unreadable', async (_name, n, o, lost) => {
    const { d, s, objects } = await setup(n, o);
    // Half of the lost drives are wiped, the other half have their object files made unreadable
    // (a directory where a file should be: EISDIR, which even root cannot read).
    for (const [j, i] of lost.entries()) {
      const root = join(d.paths[i], 'bkt');
      if (j % 2 === 0) await rm(root, { recursive: true });
      else {
        for (const f of await files(root)) {
          if (f.endsWith('_bucket.json')) continue;
          await rm(f);
          await mkdir(f);
        }
      }
    }
    await readsAll(s, objects);
    const list = await s.listObjects('bkt', { maxKeys: 100 });
    expect(list.objects.map((o) => o.key).sort()).toEqual([...objects.keys()].sort());
    // One drive more in every set and the big object can no longer be read: a clean error, never
    // wrong bytes.
    const setSize = 'setSize' in o ? o.setSize : n;
    for (let first = 0; first < n; first += setSize) {
      const extra = Array.from({ length: setSize }, (_, k) => first + k).find(
        (i) => !(lost as readonly number[]).includes(i),
      )!;
      await rm(join(d.paths[extra], 'bkt'), { recursive: true });
    }
    // (read itself fails: the first block is read before the stream is handed out)
    await expect(read(s, 'bkt', `o/${3 * MiB + 7}`)).rejects.toMatchObject({
      code: expect.stringMatching(/InsufficientReadQuorum|NoSuchKey/),
    });
  });

  it('fails writes without quorum, leaving nothing', async () => {
    const { d, s } = await setup(4);
    // Two drives of 2+2 made unwritable (write quorum is 3): the temp area is replaced by a file.
    for (const i of [0, 1]) {
      await rm(join(d.paths[i], '.cairn.sys/tmp'), { recursive: true });
      await writeFile(join(d.paths[i], '.cairn.sys/tmp'), 'x');
      await rm(join(d.paths[i], 'bkt'), { recursive: true });
      await writeFile(join(d.paths[i], 'bkt'), 'x');
    }
    for (const size of [10, 2 * MiB]) {
      await expect(put(s, 'bkt', `new/${size}`, data(size))).rejects.toMatchObject({ code: 'InsufficientWriteQuorum' });
      await expect(s.headObject('bkt', `new/${size}`)).rejects.toMatchObject({
        code: expect.stringMatching(/NoSuchKey|InsufficientReadQuorum/),
      });
    }
    for (const i of [2, 3]) {
      const left = (await files(join(d.paths[i], 'bkt'))).filter((f) => f.includes('new'));
      expect(left.filter((f) => !f.endsWith('_idx'))).toEqual([]);
    }
  });
});

describe('slow drive', () => {
  it('reads parity in place of a data shard that does not answer', async () => {
    const { d, s } = await setup(4, { slowShardMs: 150 });
    const b = data(2 * MiB + 9);
    await put(s, 'bkt', 'slow', b);
    // The drive holding data shard 1: a FIFO in place of its shard file blocks the open, like a hung disk.
    const start = crc32('slow') % 4;
    const slot = [0, 1, 2, 3].find((i) => 1 + ((i + 4 - start) % 4) === 1)!;
    const part = (await files(join(d.paths[slot], 'bkt'))).find((f) => f.endsWith('part.1'))!;
    await rm(part);
    execFileSync('mkfifo', [part]);
    try {
      const t = Date.now();
      expect((await get(s, 'bkt', 'slow')).equals(b)).toBe(true);
      expect(Date.now() - t).toBeLessThan(10_000);
    } finally {
      // let the hung open finish so the worker thread is released
      closeSync(openSync(part, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK));
    }
  });
});

describe('corruption', () => {
  it('detects flipped bytes in shard files, reads right and heals on read', async () => {
    const { d, s, objects } = await setup(4);
    // Corrupt every shard file (part.1) on drives 0 and 2: with 2+2 the two data shards sit on adjacent
    // drives (rotation), so each object loses exactly one data shard and one parity shard.
    const originals = new Map<string, Buffer>();
    for (const i of [0, 2]) {
      for (const f of (await files(join(d.paths[i], 'bkt'))).filter((x) => x.endsWith('part.1'))) {
        originals.set(f, await readFile(f));
        await flip(f, 5);
      }
    }
    expect(originals.size).toBe(4);
    await readsAll(s, objects);
    await s.healIdle();
    // Reads look at data shards only: corrupt data shards are healed now, parity ones by a deep scan.
    expect(s.healStatus().healedObjects).toBe(2);
    for (const k of objects.keys())
      expect(['ok', 'healed']).toContain((await s.healObject('bkt', k, { deep: true })).state);
    for (const [f, b] of originals) expect((await readFile(f)).equals(b), f).toBe(true);
    for (const k of objects.keys()) expect((await s.healObject('bkt', k, { deep: true })).state).toBe('ok');
  });

  it('detects a corrupt metadata file, uses the other drives and rewrites it', async () => {
    const { d, s, objects } = await setup(4);
    const metas = (await files(join(d.paths[1], 'bkt'))).filter((f) => f.endsWith('/meta'));
    for (const f of metas) await flip(f, 2);
    await readsAll(s, objects);
    const results = await Promise.all([...objects.keys()].map((k) => s.healObject('bkt', k)));
    expect(results.every((r) => r.state === 'healed' && r.drivesHealed === 1)).toBe(true);
    for (const k of objects.keys()) expect((await s.healObject('bkt', k, { deep: true })).state).toBe('ok');
    // now the other drives can go: drive 1's rebuilt copies carry the reads
    for (const i of [0, 2]) await rm(join(d.paths[i], 'bkt'), { recursive: true });
    await readsAll(s, objects);
  });

  it('heals inline objects and multiple versions', async () => {
    const { d, s } = await setup(4);
    await s.updateBucketConfig('bkt', { versioning: 'Enabled' });
    const v1 = data(3000);
    const v2 = data(1500 * 1024);
    const i1 = await put(s, 'bkt', 'v', v1);
    await put(s, 'bkt', 'v', v2);
    await s.deleteObject('bkt', 'v');
    await rm(join(d.paths[2], 'bkt'), { recursive: true });
    const r = await s.healObject('bkt', 'v');
    expect(r).toMatchObject({ state: 'healed', drivesHealed: 1 });
    await rm(join(d.paths[0], 'bkt'), { recursive: true });
    await rm(join(d.paths[1], 'bkt'), { recursive: true });
    // drives 2 (healed) and 3 hold every version again
    expect((await s.headObject('bkt', 'v')).deleteMarker).toBe(true);
    expect((await s.openObject('bkt', 'v')).info).toMatchObject({ deleteMarker: true, size: 0 });
    expect((await get(s, 'bkt', 'v', { versionId: i1.versionId })).equals(v1)).toBe(true);
    const lv = await s.listObjectVersions('bkt', { maxKeys: 10 });
    expect(lv.versions).toHaveLength(3);
  });
});

describe('replaced drive', () => {
  it('notices an emptied drive and rebuilds it in full', async () => {
    const { d, s, objects } = await setup(4);
    await rm(d.paths[3], { recursive: true });
    await mkdir(d.paths[3]);
    await s.checkDrives(); // the monitor does this every driveCheckIntervalMs (10 s)
    await s.healIdle();
    expect(s.healStatus().healedObjects).toBeGreaterThanOrEqual(objects.size);
    await stat(join(d.paths[3], '.cairn.sys/format.json'));
    for (const i of [0, 1]) await rm(join(d.paths[i], 'bkt'), { recursive: true });
    await readsAll(s, objects);
  });

  it('runs the background monitor and scanner on their own', async () => {
    const d = await drives(4);
    const s = await open(d.paths, {
      background: true,
      driveCheckIntervalMs: 100,
      scannerIntervalMs: 200,
      scannerObjectsPerSecond: 1000,
    });
    cleanup.push(
      () => d.cleanup(),
      () => s.close(),
    );
    await s.makeBucket('bkt');
    const b = data(400 * 1024);
    await s.putObject('bkt', 'x', body(b), { size: b.length });
    // A shard removed behind the engine's back is found by the scanner.
    const part = (await files(join(d.paths[1], 'bkt'))).find((f) => f.endsWith('part.1'))!;
    await rm(part);
    await until(async () => !!(await stat(part).catch(() => null)) && s.healStatus().scanCycles > 0);
    expect((await stat(part)).size).toBeGreaterThan(0);
    // A drive emptied while running is noticed by the monitor, reformatted and rebuilt.
    await rm(d.paths[3], { recursive: true });
    await mkdir(d.paths[3]);
    const fmt = join(d.paths[3], '.cairn.sys/format.json');
    await until(async () => !!(await stat(fmt).catch(() => null)));
    await s.healIdle();
    const rebuilt = (await files(join(d.paths[3], 'bkt'))).filter((f) => f.endsWith('part.1'));
    expect(rebuilt).toHaveLength(1);
    for (const i of [0, 1]) await rm(join(d.paths[i], 'bkt'), { recursive: true });
    expect((await get(s, 'bkt', 'x')).equals(b)).toBe(true);
  });
});

describe('same-millisecond overwrites', () => {
  it('never mixes shards of two writes of the null version made in the same millisecond', async () => {
    const { d, s } = await setup(4);
    const now = Date.now();
    const clock = vi.spyOn(Date, 'now').mockReturnValue(now);
    try {
      const v1 = data(2 * MiB);
      const v2 = data(2 * MiB);
      await put(s, 'bkt', 'same', v1);
      // drive 3 misses the second write (its temp area is unusable for a moment)
      const tmp = join(d.paths[3], '.cairn.sys/tmp');
      await rm(tmp, { recursive: true });
      await writeFile(tmp, 'x');
      await put(s, 'bkt', 'same', v2);
      await rm(tmp);
      await mkdir(tmp);
      // drives 0 and 1 go: what is left is drive 2 (second write) and drive 3 (first write)
      for (const i of [0, 1]) await rm(join(d.paths[i], 'bkt'), { recursive: true });
      const got = await get(s, 'bkt', 'same').catch((e) => e);
      expect(got instanceof Buffer ? got.equals(v2) || got.equals(v1) : got.code).toBe(
        got instanceof Buffer ? true : 'NoSuchKey',
      );
    } finally {
      clock.mockRestore();
    }
  });
});

describe('deep scanner', () => {
  it('finds and repairs bitrot that no read has touched', async () => {
    const { d, s } = await setup(4, { scannerDeep: true });
    const originals = new Map<string, Buffer>();
    for (const i of [0, 1, 2, 3]) {
      const f = (await files(join(d.paths[i], 'bkt'))).find((x) => x.endsWith('part.1'))!;
      originals.set(f, await readFile(f));
    }
    // bitrot in one shard file (data or parity: the deep scan reads them all)
    const victim = [...originals.keys()][1];
    await flip(victim, 4);
    await s.scanNow();
    expect(s.healStatus().healedObjects).toBe(1);
    expect((await readFile(victim)).equals(originals.get(victim)!)).toBe(true);
  });
});

describe('hung drive', () => {
  it('is marked offline by the drive check, and reads and writes go on without it', async () => {
    const { d, s, objects } = await setup(4, { driveCheckTimeoutMs: 200 });
    // A FIFO in place of the format file: opening it blocks, as on a hung disk.
    const fmt = join(d.paths[2], '.cairn.sys/format.json');
    await rm(fmt);
    execFileSync('mkfifo', [fmt]);
    const state = () => s.healStatus().drives.map((x) => ({ online: x.online, error: x.error }));
    try {
      await s.checkDrives();
      expect(state()[2]).toEqual({ online: false, error: 'ETIMEDOUT' });
      // A healthy drive that took more than the 200 ms to answer (a loaded machine) is offline too, until a check
      // it answers in time: checks run again until the three healthy drives are online, which none does while the
      // stuck drive's check is still waiting on it (not checked again, not piled up on it: offline it stays).
      await until(async () => {
        await s.checkDrives();
        return [0, 1, 3].every((i) => state()[i].online);
      });
      expect(state()[2]).toEqual({ online: false, error: 'ETIMEDOUT' });
      await readsAll(s, objects);
      const b = data(MiB + 1);
      await put(s, 'bkt', 'while-hung', b);
      expect((await get(s, 'bkt', 'while-hung')).equals(b)).toBe(true);
    } finally {
      closeSync(openSync(fmt, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK));
    }
  });
});

describe('heal queue', () => {
  it('survives a restart', async () => {
    const { d, s } = await setup(4);
    const tmp = join(d.paths[3], '.cairn.sys/tmp');
    await rm(tmp, { recursive: true });
    await writeFile(tmp, 'x'); // drive 3 cannot take writes for a moment
    const b = data(MiB + 11);
    await put(s, 'bkt', 'queued', b);
    expect(s.healStatus().queued).toBe(1);
    await rm(tmp);
    await mkdir(tmp);
    await s.close();
    const s2 = await open(d.paths);
    cleanup.push(() => s2.close());
    expect(s2.healStatus().queued).toBe(1);
    await s2.healIdle();
    expect(s2.healStatus().healedObjects).toBe(1);
    for (const i of [0, 1]) await rm(join(d.paths[i], 'bkt'), { recursive: true });
    expect((await get(s2, 'bkt', 'queued')).equals(b)).toBe(true);
  });
});
