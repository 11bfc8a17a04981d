// readShardsFramesPassAsync: a GET batch's shard spans read and checked as readShardsFramesAsync reads them, with a
// PiecePass (S3 Select's CSV line test) run on the pieces in the same pool task. Armed, `passed` is the pieces'
// lines in object order with only lines the test certainly rejects left out, and the pieces' first and last
// lines whole (they go on in the pieces around); unarmed or with a bad frame, null (the bytes as read are what the
// caller has); pieces outside a frame's shard and a second arming are refused.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  armJsonLines,
  type CsvLineTest,
  csvLineFilterAsync,
  FRAME_HASH_LENGTH,
  highwayHash,
  type JsonLineTest,
  jsonLineFilterAsync,
  PiecePass,
  readShardsFramesPassAsync,
} from '../index.js';
import { seededRandom } from '../../test/helpers/random.js';

const random = seededRandom();
const KEY = random.bytes(32);
const SHARD = 4096;
const STRIDE = FRAME_HASH_LENGTH + SHARD;
const TEST: CsvLineTest = {
  field: 1,
  fieldDelimiter: 44,
  recordDelimiter: 10,
  quote: 34,
  judge: { kind: 'int', op: '<', bound: 100 },
};

const frame = (shard: Buffer) => Buffer.concat([highwayHash(shard, KEY, 256), shard]);

// CSV text cut into 2 files x 3 frames the way a batch lays out data shards: block b's bytes are shard 0 then
// shard 1 of frame b; lines run across shards and frames.
let dir: string;
let text: Buffer;
let paths: string[];
let shards: Buffer[][];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cairn-rp-'));
  const lines: string[] = [];
  let n = 0;
  while (n < 6 * SHARD) {
    const q = random.int(0, 30) === 0 ? '"' : '';
    const line = `${lines.length},${q}${random.int(0, 10_000)}${q},${'x'.repeat(random.int(0, 60))}\n`;
    lines.push(line);
    n += line.length;
  }
  text = Buffer.from(lines.join('')).subarray(0, 6 * SHARD);
  shards = [0, 1].map((i) => [0, 1, 2].map((b) => text.subarray((2 * b + i) * SHARD, (2 * b + i + 1) * SHARD)));
  paths = [0, 1].map((i) => {
    const p = join(dir, `part.${i}`);
    writeFileSync(p, Buffer.concat(shards[i].map(frame)));
    return p;
  });
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Pieces in object order: block b, shard i, the whole shard (or [from, to) of it). */
function pieces(cut: (b: number, i: number) => [number, number] = () => [0, SHARD]): number[] {
  const out: number[] = [];
  for (let b = 0; b < 3; b++)
    for (let i = 0; i < 2; i++) {
      const [a, z] = cut(b, i);
      if (z > a) out.push(i, b * STRIDE + FRAME_HASH_LENGTH + a, z - a);
    }
  return out;
}

const outs = () => [Buffer.alloc(3 * STRIDE), Buffer.alloc(3 * STRIDE)];
const lines = (b: Buffer) => b.toString('latin1').split(/(?<=\n)/);

describe('readShardsFramesPassAsync', () => {
  it('exists in this build (a stale prebuilt addon lacks it: rebuild with npm run build:native)', () => {
    expect(typeof readShardsFramesPassAsync).toBe('function');
    expect(PiecePass.create()).toBeDefined();
  });

  it('armed: the lines in order, only ones the test rejects left out; the frames read and checked', async () => {
    const pass = PiecePass.create()!;
    expect(pass.armed).toBe(false);
    pass.armCsvLines(TEST);
    expect(pass.armed).toBe(true);
    const o = outs();
    const r = await readShardsFramesPassAsync!(paths, [0, 0], STRIDE, o, KEY, pass, pieces());
    expect(r.bad).toEqual([0, 0]);
    for (let i = 0; i < 2; i++) expect(o[i].equals(Buffer.concat(shards[i].map(frame)))).toBe(true);
    const passed = r.passed!;
    expect(passed.length).toBeLessThan(text.length / 2);
    // What the filter keeps of the whole text, it keeps of the passed bytes: nothing it keeps was left out.
    expect((await csvLineFilterAsync(passed, TEST)).equals(await csvLineFilterAsync(text, TEST))).toBe(true);
    // And the passed bytes are whole lines of the text, in order (none made up or cut).
    const all = lines(text);
    let at = 0;
    for (const l of lines(passed)) {
      while (at < all.length && all[at] !== l) at++;
      expect(at).toBeLessThan(all.length);
      at++;
    }
    // Each piece's first line goes through whole: the text's first line, whatever it holds.
    expect(passed.subarray(0, text.indexOf(10) + 1).equals(text.subarray(0, text.indexOf(10) + 1))).toBe(true);
  });

  it('armed with a JSON LINES test: the same for JSON lines', async () => {
    const json: JsonLineTest = { name: 'v', judge: { kind: 'number', op: '<', bound: 100 } };
    const rows: string[] = [];
    let n = 0;
    while (n < 6 * SHARD) {
      const v = random.int(0, 10_000);
      const row = random.int(0, 30) === 0 ? `{"i":${rows.length},"v":"${v}"}\n` : `{"i":${rows.length},"v":${v}}\n`;
      rows.push(row);
      n += row.length;
    }
    const doc = Buffer.from(rows.join('')).subarray(0, 6 * SHARD);
    const parts = [0, 1].map((i) => [0, 1, 2].map((b) => doc.subarray((2 * b + i) * SHARD, (2 * b + i + 1) * SHARD)));
    const files = [0, 1].map((i) => {
      const p = join(dir, `json.${i}`);
      writeFileSync(p, Buffer.concat(parts[i].map(frame)));
      return p;
    });
    const pass = PiecePass.create()!;
    expect(armJsonLines(pass, json)).toBe(true);
    expect(pass.armed).toBe(true);
    expect(() => armJsonLines(pass, json)).toThrow(/armed already/);
    expect(() => pass.armCsvLines(TEST)).toThrow(/armed already/);
    const r = await readShardsFramesPassAsync!(files, [0, 0], STRIDE, outs(), KEY, pass, pieces());
    expect(r.bad).toEqual([0, 0]);
    const passed = r.passed!;
    expect(passed.length).toBeLessThan(doc.length / 2);
    expect((await jsonLineFilterAsync(passed, json)).equals(await jsonLineFilterAsync(doc, json))).toBe(true);
    const all = lines(doc);
    let at = 0;
    for (const l of lines(passed)) {
      while (at < all.length && all[at] !== l) at++;
      expect(at).toBeLessThan(all.length);
      at++;
    }
    const bad = PiecePass.create()!;
    expect(() => armJsonLines(bad, { name: 'v', judge: { kind: 'number', op: '<', bound: Number.NaN } })).toThrow(
      /bad kind, operator or bound/,
    );
    expect(bad.armed).toBe(false);
  });

  it('pieces cut to a window pass only the window', async () => {
    const pass = PiecePass.create()!;
    pass.armCsvLines(TEST);
    // The window [700, 5 * SHARD + 300) of the text.
    const cut = (b: number, i: number): [number, number] => {
      const base = (2 * b + i) * SHARD;
      return [Math.max(0, 700 - base), Math.min(SHARD, 5 * SHARD + 300 - base)];
    };
    const r = await readShardsFramesPassAsync!(paths, [0, 0], STRIDE, outs(), KEY, pass, pieces(cut));
    const window = text.subarray(700, 5 * SHARD + 300);
    expect((await csvLineFilterAsync(r.passed!, TEST)).equals(await csvLineFilterAsync(window, TEST))).toBe(true);
    expect(r.passed!.subarray(0, window.indexOf(10) + 1).equals(window.subarray(0, window.indexOf(10) + 1))).toBe(true);
  });

  it('unarmed, or with a frame failing its check: no passed bytes, the bad frames counted', async () => {
    const idle = PiecePass.create()!;
    const o = outs();
    expect(await readShardsFramesPassAsync!(paths, [0, 0], STRIDE, o, KEY, idle, pieces())).toEqual({
      bad: [0, 0],
      passed: null,
    });
    expect(o[1].equals(Buffer.concat(shards[1].map(frame)))).toBe(true);
    // Armed once reads were made with it (the select engine arms it after the CSV header), while one is under way.
    const going = readShardsFramesPassAsync!(paths, [0, 0], STRIDE, outs(), KEY, idle, pieces());
    idle.armCsvLines(TEST);
    expect((await going).passed).toBeNull(); // unarmed when it was asked for
    expect(
      (await readShardsFramesPassAsync!(paths, [0, 0], STRIDE, outs(), KEY, idle, pieces())).passed,
    ).not.toBeNull();
    const bad = Buffer.concat(shards[1].map(frame));
    bad[STRIDE + FRAME_HASH_LENGTH + 9] ^= 1; // frame 1 of shard 1
    const p = join(dir, 'bad');
    writeFileSync(p, bad);
    const pass = PiecePass.create()!;
    pass.armCsvLines(TEST);
    expect(await readShardsFramesPassAsync!([paths[0], p], [0, 0], STRIDE, outs(), KEY, pass, pieces())).toEqual({
      bad: [0, 1],
      passed: null,
    });
  });

  it('refuses pieces outside a frame shard, a bad test, and arming twice', async () => {
    const pass = PiecePass.create()!;
    pass.armCsvLines(TEST);
    const call = (p: number[]) => () => readShardsFramesPassAsync!(paths, [0, 0], STRIDE, outs(), KEY, pass, p);
    expect(call([0, 0, 10])).toThrow(/outside a frame/); // over the hash
    expect(call([0, FRAME_HASH_LENGTH, SHARD + 1])).toThrow(/outside a frame/); // into the next frame
    expect(call([2, FRAME_HASH_LENGTH, 10])).toThrow(/outside a frame/); // no such buffer
    expect(call([0, FRAME_HASH_LENGTH])).toThrow(/outside a frame/); // not triples
    expect(call([0, FRAME_HASH_LENGTH, 0])).toThrow(/outside a frame/); // empty
    expect(() => pass.armCsvLines(TEST)).toThrow(/armed already/);
    const other = PiecePass.create()!;
    expect(() => other.armCsvLines({ ...TEST, fieldDelimiter: 10 })).toThrow(/bad delimiters/);
    expect(other.armed).toBe(false);
    await expect(
      readShardsFramesPassAsync!([join(dir, 'absent'), paths[1]], [0, 0], STRIDE, outs(), KEY, pass, pieces()),
    ).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
