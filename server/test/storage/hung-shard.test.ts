// A data shard whose drive hangs (a FIFO nobody writes stands for it: opening it blocks) costs the
// slow-shard wait once per GET, not once per block: the reader remembers the shard as slow and reads
// parity in its place. Proved by counting the reads asked of the hung shard, not by timing the GET.
import { rm, readdir, writeFile } from 'node:fs/promises';
import { closeSync, constants as fsConstants, openSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { expect, it } from 'vitest';
import { data, drives, get, open, put, tempDir } from './helpers.js';
import { objectDir } from '../../src/storage/meta/key-path.js';
import { nativeCodec } from '../../src/storage/erasure/codec.js';
import { fileSource } from '../../src/storage/drive/local-shard.js';
import { PartReader, type Batch, type ShardSource } from '../../src/storage/erasure/part-reader.js';

/** Lets every open blocked on the FIFO go on (and fail or read nothing), so no thread stays stuck. */
function release(fifo: string): void {
  closeSync(openSync(fifo, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK));
}

const getCases = [
  [1, 0],
  [4, 1],
];
it.each(getCases)('a GET with a hung data shard returns the object (batch %i, read-ahead %i)', async (batch, ahead) => {
  const d = await drives(4);
  const tuning = { readBatchBlocks: batch, readAheadBatches: ahead, slowShardMs: 1000 };
  const s = await open(d.paths, { blockSize: 4096, inlineLimit: 0, ...tuning });
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
  try {
    expect((await get(s, 'bkt', key)).equals(want)).toBe(true);
  } finally {
    release(part);
  }
  await s.close();
  await d.cleanup();
});

// The reader itself over real shard files (2 data + 2 parity, 24 blocks of 4 KiB), the first data shard a
// FIFO: each source counts the reads asked of it. Waiting per block would ask the hung shard once per
// batch (24 or 6 times); remembering it asks once, or once per batch already in flight (read-ahead).
const readerCases = [
  [1, 0],
  [4, 0],
  [4, 1],
];
it.each(readerCases)('the hung shard is asked once, not per block (batch %i, read-ahead %i)', async (batch, ahead) => {
  const codec = nativeCodec();
  const ec = { data: 2, parity: 2, blockSize: 4096, dist: [1, 2, 3, 4], bitrot: 'highwayhash256' as const };
  const blocks = 24;
  const want = data(ec.blockSize * blocks);
  const pass = codec.upload(null);
  const files: Buffer[][] = [[], [], [], []];
  for (let b = 0; b < blocks; b++) {
    const frames = await pass.encode([want.subarray(b * ec.blockSize, (b + 1) * ec.blockSize)], ec.data, ec.parity);
    frames.forEach((f, i) => files[i].push(Buffer.from(f)));
  }
  const dir = await tempDir('cairn-hung-');
  const paths = files.map((_, i) => join(dir, `shard.${i}`));
  await Promise.all(files.map((f, i) => (i === 0 ? Promise.resolve() : writeFile(paths[i], Buffer.concat(f)))));
  execFileSync('mkfifo', [paths[0]]);
  const asked = [0, 0, 0, 0];
  const sources: ShardSource[] = paths.map((p, i) => {
    const real = fileSource(p);
    const read: ShardSource['read'] = (pos, len, into) => {
      asked[i]++;
      return real.read(pos, len, into);
    };
    return { inMemory: false, read, close: () => real.close() };
  });
  // The slow-shard wait is generous: on a loaded machine a healthy shard answering late would count as slow too.
  const reader = new PartReader(codec, ec, want.length, sources, 1000);
  try {
    // As a GET reads: batches of `batch` blocks, `ahead` batches requested beyond the one consumed.
    const queue: Promise<Batch>[] = [];
    const pieces: Buffer[] = [];
    let next = 0;
    const request = () => {
      const n = Math.min(batch, blocks - next);
      queue.push(reader.readBlocks(next, n));
      next += n;
    };
    while (next < blocks && queue.length <= ahead) request();
    while (queue.length > 0) {
      pieces.push(...(await queue.shift()!).pieces);
      if (next < blocks) request();
    }
    expect(Buffer.concat(pieces).equals(want)).toBe(true);
    expect(asked[0]).toBeGreaterThanOrEqual(1);
    expect(asked[0]).toBeLessThanOrEqual(1 + ahead);
    expect(asked[2] + asked[3]).toBeGreaterThan(0); // parity read in its place
  } finally {
    await reader.close();
    release(paths[0]);
    await rm(dir, { recursive: true, force: true });
  }
});
