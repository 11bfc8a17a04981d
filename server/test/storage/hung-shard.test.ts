// A data shard whose drive hangs (a FIFO nobody writes stands for it) costs the slow-shard wait once per
// GET, not once per block: the reader remembers the shard as slow and reads parity in its place.
import { rm, readdir } from 'node:fs/promises';
import { closeSync, constants as fsConstants, openSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { expect, it } from 'vitest';
import { data, drives, get, open, put } from './helpers.js';
import { objectDir } from '../../src/storage/meta/key-path.js';
it.each([[1, 0], [4, 1]])('a hung data shard is waited for once (batch %i, read-ahead %i)', async (batch, ahead) => {
  const d = await drives(4);
  const s = await open(d.paths, { blockSize: 4096, inlineLimit: 0, readBatchBlocks: batch, readAheadBatches: ahead, slowShardMs: 100 });
  await s.makeBucket('bkt');
  const key = 'slow';
  const want = data(4096 * 24);
  await put(s, 'bkt', key, want);
  const slot = crc32(key) % 4;
  const dir = join(d.paths[slot], 'bkt', objectDir(key));
  const dd = (await readdir(dir)).find((x) => x !== 'meta')!;
  const part = join(dir, dd, 'part.1');
  await rm(part);
  execFileSync('mkfifo', [part]);
  const t = Date.now();
  try {
    expect((await get(s, 'bkt', key)).equals(want)).toBe(true);
    // Not a speed target: waiting per block would take 24 x 100 ms at least (it did: 4.8 s and 1.5 s).
    expect(Date.now() - t).toBeLessThan(1200);
  } finally {
    closeSync(openSync(part, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK));
  }
  await s.close();
  await d.cleanup();
});
