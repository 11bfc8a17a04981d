// ReadOptions.unverified (the reads of sealed SSE data, which its AEAD tags authenticate): the fast path skips
// the data shards' bitrot hashes, so a byte flipped in a data shard comes through as stored; a verified read
// of the same version right after is never handed those batches from the read-ahead cache (entries are kept
// per verify mode): it finds the bad shard, answers the right bytes from parity and queues the heal.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FRAME_HASH_LENGTH } from '../../src/storage/erasure/codec.js';
import { decodeMeta } from '../../src/storage/meta/meta-file.js';
import { data, drives, get, open, put, readAll } from './helpers.js';

const MiB = 1024 * 1024;
let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

describe('unverified reads', () => {
  it('skip the bitrot check; a verified read after them reads around the bad shard and heals it', async () => {
    const d = await drives(4);
    // Cache entries live for the whole test, so the verified read would find the unverified batches there.
    const s = await open(d.paths, { readCacheLingerMs: 600_000 });
    cleanup.push(
      () => d.cleanup(),
      () => s.close(),
    );
    await s.makeBucket('bkt');
    const body = data(3 * MiB + 7);
    await put(s, 'bkt', 'big', body);
    // The shard file of the first data shard, and one byte of its first frame's shard bytes flipped.
    let path = '';
    for (const [slot, drive] of d.paths.entries()) {
      const obj = join(drive, 'bkt', 'big.o');
      const v = decodeMeta(await readFile(join(obj, 'meta'))).versions[0];
      if (v.ec!.dist[slot] === 1) path = join(obj, v.dataDir!, 'part.1');
    }
    expect(path).not.toBe('');
    const original = await readFile(path);
    const flipped = Buffer.from(original);
    flipped[FRAME_HASH_LENGTH + 1000] ^= 0xff;
    await writeFile(path, flipped);

    const opened = await s.openObject('bkt', 'big');
    const raw = await readAll(await opened.read(undefined, { unverified: true }));
    expect(raw.length).toBe(body.length);
    let differ = 0;
    for (let i = 0; i < body.length; i++) if (raw[i] !== body[i]) differ++;
    expect(differ).toBe(1); // the flipped byte, as stored: nothing checked it

    expect((await get(s, 'bkt', 'big')).equals(body)).toBe(true);
    await s.healIdle();
    expect((await readFile(path)).equals(original)).toBe(true);
  });
});
