// readFramesAsync: a span of a shard file read into the caller's buffer frame by frame with each frame's
// hash checked; the count of bad frames (a flipped byte in one frame is one), the short last frame of a
// part, a read past the end of the file rejecting, bad arguments refused, and the descriptor left open.
import { closeSync, openSync, readSync, writeFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FRAME_HASH_LENGTH, highwayHash, readFramesAsync } from '../index.js';
import { seededRandom } from '../../test/helpers/random.js';

const random = seededRandom();
const KEY = random.bytes(32);
const SHARD = 4096;
const STRIDE = FRAME_HASH_LENGTH + SHARD;

const frame = (shard: Buffer) => Buffer.concat([highwayHash(shard, KEY, 256), shard]);

let dir: string;
let path: string;
let file: Buffer;
let fd: number;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cairn-rf-'));
  path = join(dir, 'part.1');
  // six full frames and a short last one (the last block of a part)
  file = Buffer.concat([...Array.from({ length: 6 }, () => frame(random.bytes(SHARD))), frame(random.bytes(1000))]);
  writeFileSync(path, file);
  fd = openSync(path, 'r');
});
afterAll(() => {
  closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
});

describe('readFramesAsync', () => {
  it('exists in this build (a stale prebuilt addon lacks it: rebuild with npm run build:native)', () => {
    expect(typeof readFramesAsync).toBe('function');
  });

  it('reads a span of whole frames and the short last one, all good', async () => {
    const out = Buffer.alloc(2 * STRIDE + FRAME_HASH_LENGTH + 1000);
    expect(await readFramesAsync!(fd, 4 * STRIDE, STRIDE, out, KEY)).toBe(0);
    expect(out.equals(file.subarray(4 * STRIDE))).toBe(true);
    const one = Buffer.alloc(STRIDE);
    expect(await readFramesAsync!(fd, STRIDE, STRIDE, one, KEY)).toBe(0);
    expect(one.equals(file.subarray(STRIDE, 2 * STRIDE))).toBe(true);
  });

  it('counts the frames whose hash fails: a flipped byte in the shard or in the hash', async () => {
    const bad = Buffer.from(file);
    bad[2 * STRIDE + FRAME_HASH_LENGTH + 17] ^= 1; // frame 2's shard
    bad[4 * STRIDE + 3] ^= 0x80; // frame 4's hash
    const p = join(dir, 'bad');
    writeFileSync(p, bad);
    const h = openSync(p, 'r');
    try {
      expect(await readFramesAsync!(h, 0, STRIDE, Buffer.alloc(6 * STRIDE), KEY)).toBe(2);
      expect(await readFramesAsync!(h, 3 * STRIDE, STRIDE, Buffer.alloc(STRIDE), KEY)).toBe(0);
      expect(await readFramesAsync!(h, 2 * STRIDE, STRIDE, Buffer.alloc(STRIDE), KEY)).toBe(1);
    } finally {
      closeSync(h);
    }
  });

  it('rejects a read past the end of the file (a truncated shard file)', async () => {
    await expect(readFramesAsync!(fd, 6 * STRIDE, STRIDE, Buffer.alloc(STRIDE), KEY)).rejects.toThrow(/too short/);
    await expect(readFramesAsync!(fd, file.length + 10, STRIDE, Buffer.alloc(10), KEY)).rejects.toThrow(/too short/);
  });

  it('refuses bad arguments; a closed descriptor rejects', async () => {
    expect(() => readFramesAsync!(-1, 0, STRIDE, Buffer.alloc(STRIDE), KEY)).toThrow(/bad fd/);
    expect(() => readFramesAsync!(fd, -5, STRIDE, Buffer.alloc(STRIDE), KEY)).toThrow(/bad fd/);
    expect(() => readFramesAsync!(fd, 0, FRAME_HASH_LENGTH, Buffer.alloc(STRIDE), KEY)).toThrow(/stride/);
    expect(() => readFramesAsync!(fd, 0, STRIDE, Buffer.alloc(STRIDE), Buffer.alloc(5))).toThrow(/32 bytes/);
    const h = openSync(path, 'r');
    closeSync(h);
    await expect(readFramesAsync!(h, 0, STRIDE, Buffer.alloc(STRIDE), KEY)).rejects.toThrow();
  });

  it('leaves the descriptor open (the caller closes it)', async () => {
    await readFramesAsync!(fd, 0, STRIDE, Buffer.alloc(STRIDE), KEY);
    const b = Buffer.alloc(4);
    expect(readSync(fd, b, 0, 4, 0)).toBe(4);
  });
});
