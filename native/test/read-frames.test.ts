// readShardFramesAsync: a span of a shard file (opened by path, closed when done) read into the caller's
// buffer frame by frame with each frame's hash checked; the count of bad frames (a flipped byte in one frame
// is one), the short last frame of a part, a read past the end of the file rejecting, a missing file
// rejecting with ENOENT, bad arguments refused, and no descriptor left open.
import { execFileSync } from 'node:child_process';
import { closeSync, constants as fsConstants, openSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FRAME_HASH_LENGTH,
  frameSize,
  highwayHash,
  readBlock,
  readShardFramesAsync,
  readFileIfChanged,
  readShardsFramesAsync,
  readShardsFramesQueued,
  UploadHasher,
  verifyFrames,
} from '../index.js';
import { seededRandom } from '../../test/helpers/random.js';

const random = seededRandom();
const KEY = random.bytes(32);
const SHARD = 4096;
const STRIDE = FRAME_HASH_LENGTH + SHARD;

const frame = (shard: Buffer) => Buffer.concat([highwayHash(shard, KEY, 256), shard]);

let dir: string;
let path: string;
let file: Buffer;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cairn-rf-'));
  path = join(dir, 'part.1');
  // six full frames and a short last one (the last block of a part)
  file = Buffer.concat([...Array.from({ length: 6 }, () => frame(random.bytes(SHARD))), frame(random.bytes(1000))]);
  writeFileSync(path, file);
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('readShardFramesAsync', () => {
  it('exists in this build (a stale prebuilt addon lacks it: rebuild with npm run build:native)', () => {
    expect(typeof readShardFramesAsync).toBe('function');
  });

  it('reads a span of whole frames and the short last one, all good', async () => {
    const out = Buffer.alloc(2 * STRIDE + FRAME_HASH_LENGTH + 1000);
    expect(await readShardFramesAsync!(path, 4 * STRIDE, STRIDE, out, KEY)).toBe(0);
    expect(out.equals(file.subarray(4 * STRIDE))).toBe(true);
    const one = Buffer.alloc(STRIDE);
    expect(await readShardFramesAsync!(path, STRIDE, STRIDE, one, KEY)).toBe(0);
    expect(one.equals(file.subarray(STRIDE, 2 * STRIDE))).toBe(true);
  });

  it('counts the frames whose hash fails: a flipped byte in the shard or in the hash', async () => {
    const bad = Buffer.from(file);
    bad[2 * STRIDE + FRAME_HASH_LENGTH + 17] ^= 1; // frame 2's shard
    bad[4 * STRIDE + 3] ^= 0x80; // frame 4's hash
    const p = join(dir, 'bad');
    writeFileSync(p, bad);
    expect(await readShardFramesAsync!(p, 0, STRIDE, Buffer.alloc(6 * STRIDE), KEY)).toBe(2);
    expect(await readShardFramesAsync!(p, 3 * STRIDE, STRIDE, Buffer.alloc(STRIDE), KEY)).toBe(0);
    expect(await readShardFramesAsync!(p, 2 * STRIDE, STRIDE, Buffer.alloc(STRIDE), KEY)).toBe(1);
  });

  it('rejects a read past the end of the file (a truncated shard file)', async () => {
    await expect(readShardFramesAsync!(path, 6 * STRIDE, STRIDE, Buffer.alloc(STRIDE), KEY)).rejects.toThrow(
      /too short/,
    );
    await expect(readShardFramesAsync!(path, file.length + 10, STRIDE, Buffer.alloc(10), KEY)).rejects.toThrow(
      /too short/,
    );
  });

  it('refuses bad arguments; a missing file rejects as node:fs would (ENOENT)', async () => {
    expect(() => readShardFramesAsync!('', 0, STRIDE, Buffer.alloc(STRIDE), KEY)).toThrow(/bad path/);
    expect(() => readShardFramesAsync!(path, -5, STRIDE, Buffer.alloc(STRIDE), KEY)).toThrow(/position -5/);
    expect(() => readShardFramesAsync!(path, 0, FRAME_HASH_LENGTH, Buffer.alloc(STRIDE), KEY)).toThrow(/stride/);
    expect(() => readShardFramesAsync!(path, 0, STRIDE, Buffer.alloc(STRIDE), Buffer.alloc(5))).toThrow(/32 bytes/);
    await expect(
      readShardFramesAsync!(join(dir, 'absent'), 0, STRIDE, Buffer.alloc(STRIDE), KEY),
    ).rejects.toMatchObject({ code: 'ENOENT', syscall: 'open', path: join(dir, 'absent') });
    await expect(readShardFramesAsync!(dir, 0, STRIDE, Buffer.alloc(STRIDE), KEY)).rejects.toMatchObject({
      code: 'EISDIR',
    });
  });

  it('closes the file it opened, whether the read succeeds or fails', async () => {
    const before = readdirSync('/proc/self/fd').length;
    for (let i = 0; i < 50; i++) {
      await readShardFramesAsync!(path, 0, STRIDE, Buffer.alloc(STRIDE), KEY);
      await readShardFramesAsync!(path, 6 * STRIDE, STRIDE, Buffer.alloc(STRIDE), KEY).catch(() => {});
    }
    expect(readdirSync('/proc/self/fd').length).toBeLessThanOrEqual(before);
  });
});

// readShardsFramesAsync: several shard files' spans in one pool task (a GET batch's data shards): each read
// as readShardFramesAsync reads it, bad frames counted per file, the first failing file rejecting (ENOENT);
// with verify false, read whole and unchecked.
describe('readShardsFramesAsync', () => {
  it('reads the span of each file into its buffer and counts the bad frames of each', async () => {
    const bad = Buffer.from(file);
    bad[FRAME_HASH_LENGTH + 5] ^= 4; // frame 0's shard
    const p = join(dir, 'bad-many');
    writeFileSync(p, bad);
    const outs = [Buffer.alloc(2 * STRIDE), Buffer.alloc(3 * STRIDE), Buffer.alloc(STRIDE + FRAME_HASH_LENGTH + 1000)];
    expect(await readShardsFramesAsync!([path, p, path], [STRIDE, 0, 5 * STRIDE], STRIDE, outs, KEY)).toEqual([
      0, 1, 0,
    ]);
    expect(outs[0].equals(file.subarray(STRIDE, 3 * STRIDE))).toBe(true);
    expect(outs[1].equals(bad.subarray(0, 3 * STRIDE))).toBe(true);
    expect(outs[2].equals(file.subarray(5 * STRIDE))).toBe(true);
  });

  it('with verify false reads the same bytes and checks nothing (sealed data: its tags authenticate it)', async () => {
    const bad = Buffer.from(file);
    bad[FRAME_HASH_LENGTH + 5] ^= 4; // frame 0's shard
    bad[3 * STRIDE + 1] ^= 1; // frame 3's hash
    const p = join(dir, 'bad-unverified');
    writeFileSync(p, bad);
    const outs = [Buffer.alloc(4 * STRIDE), Buffer.alloc(STRIDE + FRAME_HASH_LENGTH + 1000)];
    expect(await readShardsFramesAsync!([p, path], [0, 5 * STRIDE], STRIDE, outs, KEY, false)).toEqual([0, 0]);
    expect(outs[0].equals(bad.subarray(0, 4 * STRIDE))).toBe(true);
    expect(outs[1].equals(file.subarray(5 * STRIDE))).toBe(true);
    // verify true (the default) still counts them
    expect(await readShardsFramesAsync!([p], [0], STRIDE, [Buffer.alloc(4 * STRIDE)], KEY, true)).toEqual([2]);
    await expect(
      readShardsFramesAsync!(
        [path, path],
        [0, 6 * STRIDE],
        STRIDE,
        [Buffer.alloc(STRIDE), Buffer.alloc(STRIDE)],
        KEY,
        false,
      ),
    ).rejects.toThrow(/too short/);
  });

  it('rejects for a missing or short file, refuses mismatched arguments, leaves no file open', async () => {
    const before = readdirSync('/proc/self/fd').length;
    const two = () => [Buffer.alloc(STRIDE), Buffer.alloc(STRIDE)];
    await expect(readShardsFramesAsync!([path, join(dir, 'absent')], [0, 0], STRIDE, two(), KEY)).rejects.toMatchObject(
      { code: 'ENOENT', syscall: 'open' },
    );
    await expect(readShardsFramesAsync!([path, path], [0, 6 * STRIDE], STRIDE, two(), KEY)).rejects.toThrow(
      /too short/,
    );
    expect(() => readShardsFramesAsync!([path, path], [0], STRIDE, two(), KEY)).toThrow(/bad arguments/);
    expect(() => readShardsFramesAsync!([], [], STRIDE, [], KEY)).toThrow(/bad arguments/);
    expect(() => readShardsFramesAsync!([path, ''], [0, 0], STRIDE, two(), KEY)).toThrow(/bad arguments/);
    expect(() => readShardsFramesAsync!([path, path], [0, -1], STRIDE, two(), KEY)).toThrow(/bad arguments/);
    expect(readdirSync('/proc/self/fd').length).toBeLessThanOrEqual(before);
  });
});

// readShardsFramesQueued: readShardsFramesAsync as an operation of a files.ts queue, run in the same pool task
// as the other operations asked of that queue in the same turn (a GET's first batch with its metadata checks);
// a second shard read of the same turn gets a task of its own; its failures are its own.
describe('readShardsFramesQueued', () => {
  const pending = <T>(p: Promise<T>) => {
    let settled = false;
    void p.then(
      () => (settled = true),
      () => (settled = true),
    );
    return () => settled;
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('reads and checks as readShardsFramesAsync does, and without a key checks nothing', async () => {
    const bad = Buffer.from(file);
    bad[FRAME_HASH_LENGTH + 5] ^= 4; // frame 0's shard
    const p = join(dir, 'bad-queued');
    writeFileSync(p, bad);
    const outs = [Buffer.alloc(2 * STRIDE), Buffer.alloc(3 * STRIDE)];
    expect(await readShardsFramesQueued([path, p], [STRIDE, 0], STRIDE, outs, KEY, 'q1')).toEqual([0, 1]);
    expect(outs[0].equals(file.subarray(STRIDE, 3 * STRIDE))).toBe(true);
    expect(outs[1].equals(bad.subarray(0, 3 * STRIDE))).toBe(true);
    const plain = [Buffer.alloc(3 * STRIDE)];
    expect(await readShardsFramesQueued([p], [0], STRIDE, plain, undefined, 'q1')).toEqual([0]);
    expect(plain[0].equals(bad.subarray(0, 3 * STRIDE))).toBe(true);
  });

  it('fails alone (ENOENT with its path, a short file), refuses bad arguments, the queue still answering', async () => {
    const absent = join(dir, 'absent-queued');
    const meta = readFileIfChanged(path, '', 'q2');
    const missing = readShardsFramesQueued(
      [path, absent],
      [0, 0],
      STRIDE,
      [Buffer.alloc(8), Buffer.alloc(8)],
      KEY,
      'q2',
    );
    await expect(missing).rejects.toMatchObject({ code: 'ENOENT', syscall: 'open', path: `${path}, ${absent}` });
    expect((await meta)?.bytes?.equals(file)).toBe(true);
    await expect(
      readShardsFramesQueued([path], [6 * STRIDE], STRIDE, [Buffer.alloc(STRIDE)], KEY, 'q2'),
    ).rejects.toThrow(/too short/);
    const one = [Buffer.alloc(STRIDE)];
    for (const args of [
      [[], [], STRIDE, [], KEY],
      [[path], [0, 1], STRIDE, one, KEY],
      [[''], [0], STRIDE, one, KEY],
      [[path], [-1], STRIDE, one, KEY],
      [[path], [0], FRAME_HASH_LENGTH, one, KEY],
      [[path], [0], STRIDE, one, Buffer.alloc(31)],
    ] as [string[], number[], number, Buffer[], Buffer][]) {
      const beside = readFileIfChanged(path, '', 'q3');
      await expect(readShardsFramesQueued(...args, 'q3')).rejects.toThrow(/bad arguments/);
      expect((await beside)?.id).toBeTruthy();
    }
  });

  it("runs in the task of the queue's other operations of the turn; a second shard read in a task of its own", async () => {
    // Opening a FIFO for reading blocks until a writer opens it: the task holding that read holds its results.
    const fifo = join(dir, 'queued-fifo');
    execFileSync('mkfifo', [fifo]);
    const meta = readFileIfChanged(path, '', 'q4');
    // Once opened, a positioned read of a pipe fails (ESPIPE): the read's own failure, the queue's others answered.
    const stuck = readShardsFramesQueued([fifo], [0], STRIDE, [Buffer.alloc(STRIDE)], KEY, 'q4').then(
      () => 'read',
      (e: NodeJS.ErrnoException) => e.code,
    );
    const second = readShardsFramesQueued([path], [0], STRIDE, [Buffer.alloc(STRIDE)], KEY, 'q4');
    const metaDone = pending(meta);
    expect(await second).toEqual([0]); // its own task: not held by the FIFO
    await sleep(200);
    expect(metaDone()).toBe(false); // the same task as the FIFO's read
    closeSync(openSync(fifo, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK));
    expect(await stuck).toBe('ESPIPE');
    expect((await meta)?.bytes?.equals(file)).toBe(true);
  });
});

// A shard file as PUT writes it: the blocks of a part erasure-coded (2 data + 2 parity) by the upload pass,
// and each shard's frames appended to its own file. readShardFramesAsync over data shard files must give back
// their frames byte for byte (they decode to the part), count the same bad frames as verifyFrames, and find
// corruption in a full frame and in the short last one.
describe('readShardFramesAsync over shard files written by the upload pass', () => {
  const BLOCK = 256 * 1024;
  const [DATA, PARITY] = [2, 2];
  const blocks = [
    random.bytes(BLOCK),
    random.bytes(BLOCK),
    random.bytes(BLOCK),
    random.bytes(BLOCK),
    random.bytes(77_777),
  ];
  const stride = frameSize(BLOCK, DATA);
  // shardFiles[i]: shard i's frames of every block, in order (a part file)
  const up = new UploadHasher(null);
  const perBlock = blocks.map((b) => up.encodeBlock(b, DATA, PARITY, KEY).map((f) => Buffer.from(f)));
  const shardFiles = Array.from({ length: DATA + PARITY }, (_, i) => Buffer.concat(perBlock.map((fr) => fr[i])));
  const read = async (bytes: Buffer, position: number, len: number) => {
    const p = join(dir, `shard-${random.int(0, 1e9)}`);
    writeFileSync(p, bytes);
    const out = Buffer.alloc(len);
    return { bad: await readShardFramesAsync!(p, position, stride, out, KEY), out };
  };

  it('reads every data shard file whole: no bad frame, and the frames decode to the part', async () => {
    const got = await Promise.all(shardFiles.slice(0, DATA).map((f) => read(f, 0, f.length)));
    got.forEach((g, i) => {
      expect(g.bad).toBe(0);
      expect(g.out.equals(shardFiles[i])).toBe(true);
    });
    const decoded = blocks.map((b, k) => {
      const frames = got.map((g) => g.out.subarray(k * stride, k * stride + frameSize(b.length, DATA)));
      const r = readBlock([...frames, null, null], DATA, PARITY, b.length, KEY);
      expect(r.bad).toEqual([]);
      return r.block!;
    });
    expect(Buffer.concat(decoded).equals(Buffer.concat(blocks))).toBe(true);
  });

  it('finds flipped bytes in a full frame and in the short last frame, as verifyFrames does', async () => {
    const shard = Buffer.from(shardFiles[1]);
    shard[2 * stride + FRAME_HASH_LENGTH + 1234] ^= 0x10; // block 2's shard bytes
    shard[shard.length - 5] ^= 0x01; // the last block's (short) shard
    const whole = await read(shard, 0, shard.length);
    expect(whole.bad).toBe(2);
    const frames = blocks.map((b, k) => whole.out.subarray(k * stride, k * stride + frameSize(b.length, DATA)));
    expect(verifyFrames(frames, KEY)).toEqual([2, 4]);
    // a span of blocks 1..2 sees one, blocks 0..1 none, the last frame alone one
    expect((await read(shard, stride, 2 * stride)).bad).toBe(1);
    expect((await read(shard, 0, 2 * stride)).bad).toBe(0);
    expect((await read(shard, 4 * stride, shard.length - 4 * stride)).bad).toBe(1);
    // the bad frame's bytes still come back as they are on disk (the caller rebuilds from parity)
    expect(whole.out.equals(shard)).toBe(true);
  });

  it('a frame read with the wrong key is bad (the key is part of the on-disk format)', async () => {
    const p = join(dir, 'shard-key');
    writeFileSync(p, shardFiles[0]);
    const other = Buffer.from(KEY);
    other[0] ^= 1;
    expect(await readShardFramesAsync!(p, 0, stride, Buffer.alloc(shardFiles[0].length), other)).toBe(blocks.length);
  });
});
