// Shared helpers of the storage tests: temp drive directories, bodies, reading a GET back (and what it read).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';
import {
  openStorage,
  type ByteRange,
  type ErasureObjects,
  type OpenOptions,
  type StorageOptions,
} from '../../src/storage/index.js';
import { seededRandom } from '../../../test/helpers/random.js';
import { chunkedBody as body, readAll } from '../../../test/helpers/streams.js';

export async function tempDir(tag = 'cairn-st-'): Promise<string> {
  const base = process.env.CAIRN_TEST_TMP ?? ((await import('node:fs')).existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
  return mkdtemp(join(base, tag));
}

export async function drives(n: number): Promise<{ root: string; paths: string[]; cleanup: () => Promise<void> }> {
  const root = await tempDir();
  const paths = Array.from({ length: n }, (_, i) => join(root, `d${i + 1}`));
  return { root, paths, cleanup: () => rm(root, { recursive: true, force: true }) };
}

export async function open(paths: string[], o: Partial<StorageOptions> = {}): Promise<ErasureObjects> {
  return openStorage({ drives: paths, background: false, ...o });
}

/**
 * For a file whose tests each want storage of their own: registers an afterEach that closes every store made and
 * removes its drives, and returns `fresh(config?)`: four new drives, storage over them, bucket `bkt` made.
 */
export function storesPerTest() {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    while (cleanup.length) await cleanup.pop()!();
  });
  return async (config?: Parameters<ErasureObjects['makeBucket']>[1]) => {
    const d = await drives(4);
    const s = await open(d.paths);
    cleanup.push(
      () => d.cleanup(),
      () => s.close(),
    );
    await s.makeBucket('bkt', config);
    return { d, s };
  };
}

/** body(buf): a body that arrives in uneven chunks, as a socket would deliver it; readAll(stream). */
export { body, readAll };

const random = seededRandom();

/** `n` bytes of seeded random data (the seed is printed when a test fails). */
export function data(n: number): Buffer {
  return random.bytes(n);
}

export async function put(s: ErasureObjects, bucket: string, key: string, buf: Buffer) {
  return s.putObject(bucket, key, body(buf), { size: buf.length });
}

/** The body of a version (or the latest) or of a range of it, as the API reads it: open, then read. */
export async function read(
  s: ErasureObjects,
  bucket: string,
  key: string,
  opts: { versionId?: string; range?: ByteRange } = {},
) {
  return (await s.openObject(bucket, key, { versionId: opts.versionId })).read(opts.range);
}

export async function get(
  s: ErasureObjects,
  bucket: string,
  key: string,
  opts: { versionId?: string; range?: ByteRange } = {},
): Promise<Buffer> {
  return readAll(await read(s, bucket, key, opts));
}

/**
 * A GET of `range` (the whole object when absent) of bucket `bkt`, opened with `opts` as the API opens it, and the
 * read counters (ErasureObjects.readStats) it moved: early batches, batches shared from the read-ahead cache, shard
 * reads, pool tasks; `first` is the length of the body's first chunk.
 */
export async function countedGet(s: ErasureObjects, key: string, opts: OpenOptions, range?: ByteRange) {
  const before = s.readStats();
  const o = await s.openObject('bkt', key, opts);
  const chunks: Buffer[] = [];
  for await (const c of await o.read(range)) chunks.push(c as Buffer);
  const after = s.readStats();
  return {
    bytes: Buffer.concat(chunks),
    first: chunks[0]?.length ?? 0,
    early: after.earlyReads - before.earlyReads,
    shared: after.shared - before.shared,
    reads: after.shardReads - before.shardReads,
    tasks: after.readTasks - before.readTasks,
  };
}

/**
 * Drops the batches the last GETs left in the read-ahead cache (they linger 2 s), so none is shared by chance. At
 * once, not by waiting them out: the read hint a GET leaves for the next one (erasure-set.ts lastRead) lives 5 s,
 * which a wait of 2 s and a GET used to pass under load (early-read's `early === 1` failed).
 */
export function quiet(s: ErasureObjects): void {
  s.ctx.readAhead?.clear();
  expect(s.readStats().cachedBatches).toBe(0);
}
