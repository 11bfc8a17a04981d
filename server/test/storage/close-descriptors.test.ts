// A closed storage holds no file descriptor on its drives: the journals a local drive keeps open for appends
// (drive/kept-appends.ts) are closed with it, so an operator can unmount a drive once the server stopped (and a
// server started again in this process does not leak them).
import { readdirSync, readlinkSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { data, drives, open, put } from './helpers.js';

let d: Awaited<ReturnType<typeof drives>>;
afterAll(async () => {
  await d?.cleanup();
});

/** This process's open descriptors on files under `root`. */
function openUnder(root: string): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(`${root}/`)) out.push(target);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

it.skipIf(process.platform !== 'linux')('a closed storage keeps no descriptor on its drives', async () => {
  d = await drives(4);
  const s = await open(d.paths);
  await s.makeBucket('bkt');
  for (let i = 0; i < 5; i++) await put(s, 'bkt', `dir${i}/k`, data(100));
  // The listing journals appended to are kept open while the storage serves.
  expect(openUnder(d.root).length).toBeGreaterThan(0);
  await s.close();
  expect(openUnder(d.root)).toEqual([]);
});
