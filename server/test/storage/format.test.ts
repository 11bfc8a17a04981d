// Drives and format: ellipsis expansion, set sizing, drives moved between slots, empty and foreign drives.
import { describe, expect, it } from 'vitest';
import { mkdir, rm, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { data, drives, get, open, put } from './helpers.js';
import { expandDrives } from '../../src/storage/index.js';
import { defaultSetSize } from '../../src/storage/drive/format.js';

describe('expandDrives', () => {
  it('expands ellipses, padded and nested', () => {
    expect(expandDrives('./data/d{1...4}')).toEqual(['./data/d1', './data/d2', './data/d3', './data/d4']);
    expect(expandDrives('/m{01...02}/x{1...2}')).toEqual(['/m01/x1', '/m01/x2', '/m02/x1', '/m02/x2']);
    expect(expandDrives('/plain', '/b{3...3}')).toEqual(['/plain', '/b3']);
    expect(() => expandDrives('/d{4...1}')).toThrow(/below start/);
  });
});

describe('set sizes', () => {
  it('picks the largest size of 2..16 dividing the count', () => {
    expect(defaultSetSize(1)).toBe(1);
    expect(defaultSetSize(4)).toBe(4);
    expect(defaultSetSize(12)).toBe(12);
    expect(defaultSetSize(32)).toBe(16);
    expect(defaultSetSize(18)).toBe(9);
    expect(() => defaultSetSize(17)).toThrow(/cannot split/);
  });
});

describe('format', () => {
  it('recognises drives given in another order, and refuses a foreign drive', async () => {
    const d = await drives(4);
    const other = await drives(4);
    try {
      let s = await open(d.paths);
      const id = s.deploymentId;
      await s.makeBucket('bkt');
      const buf = data(700 * 1024);
      await put(s, 'bkt', 'k', buf);
      await s.close();

      s = await open([...d.paths].reverse());
      expect(s.deploymentId).toBe(id);
      expect((await get(s, 'bkt', 'k')).equals(buf)).toBe(true);
      await s.close();

      const o = await open(other.paths);
      await o.close();
      await expect(open([d.paths[0], d.paths[1], d.paths[2], other.paths[3]])).rejects.toThrow(
        /another Cairn deployment/,
      );
      await expect(open(d.paths.slice(0, 3))).rejects.toThrow(/formatted with 4 drives/);
      // a directory with someone else's files is not taken as an empty drive
      await rm(other.paths[3], { recursive: true });
      await mkdir(other.paths[3]);
      await writeFile(join(other.paths[3], 'precious.txt'), 'do not format me');
      await expect(open([d.paths[0], d.paths[1], d.paths[2], other.paths[3]])).rejects.toThrow(
        /not empty and has no Cairn format/,
      );
      expect(await readFile(join(other.paths[3], 'precious.txt'), 'utf8')).toBe('do not format me');
    } finally {
      await d.cleanup();
      await other.cleanup();
    }
  });

  it('formats an empty drive into the vacant slot and rebuilds it', async () => {
    const d = await drives(4);
    try {
      let s = await open(d.paths);
      await s.makeBucket('bkt');
      const small = data(5000);
      const big = data(2 * 1024 * 1024 + 3);
      await put(s, 'bkt', 'small', small);
      await put(s, 'bkt', 'dir/big', big);
      await s.close();
      const fmt = JSON.parse(await readFile(join(d.paths[2], '.cairn.sys/format.json'), 'utf8'));
      await rm(d.paths[2], { recursive: true });

      s = await open(d.paths);
      await s.healIdle();
      const fmt2 = JSON.parse(await readFile(join(d.paths[2], '.cairn.sys/format.json'), 'utf8'));
      expect(fmt2.driveId).toBe(fmt.driveId);
      expect(s.healStatus().healedObjects).toBe(2);
      await s.close();
      // The rebuilt drive now carries its share: lose two others and still read everything.
      await rm(d.paths[0], { recursive: true });
      await rm(d.paths[1], { recursive: true });
      s = await open(d.paths);
      expect((await get(s, 'bkt', 'small')).equals(small)).toBe(true);
      expect((await get(s, 'bkt', 'dir/big')).equals(big)).toBe(true);
      await s.healIdle();
      await s.close();
    } finally {
      await d.cleanup();
    }
  });
});
