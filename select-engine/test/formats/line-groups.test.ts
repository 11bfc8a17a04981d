// The line filter's pool tasks (formats/line-filter.ts): the complete lines of LINE_GROUP source chunks go to the
// kernel in one call, in order, the line across two chunks with them; the source lends its chunks for that many
// (countedChunks' `lend` count), and the native kernels take the pieces as they are.
import { csvLineFilterAsync, jsonLineFilterAsync } from '@cairn/native';
import { describe, expect, it } from 'vitest';
import { countedChunks } from '../../src/formats/source.js';
import { filteredLines, LINE_GROUP } from '../../src/formats/line-filter.js';
import type { ByteSource } from '../../src/formats/index.js';

async function* chunksOf(parts: string[]): AsyncGenerator<Buffer> {
  for (const p of parts) yield Buffer.from(p);
}

async function collect(it: AsyncIterable<Buffer>): Promise<string[]> {
  const out: string[] = [];
  for await (const c of it) out.push(c.toString());
  return out;
}

describe('line filter groups', () => {
  it('gives the kernel the complete lines of LINE_GROUP chunks in one call, in order', async () => {
    expect(LINE_GROUP).toBe(4);
    // Ten chunks; lines cross chunk ends; chunk 5 has no line end at all.
    const parts = ['a1\nb2\nc', '3\nd4\n', 'e5\n', 'f6\ng', '77', '7\nh8\n', 'i9\n', 'j10\n', 'k11\nl', '12'];
    const calls: string[][] = [];
    // Keeps lines whose number is even.
    const kernel = async (pieces: Buffer[]) => {
      calls.push(pieces.map(String));
      const lines = pieces.flatMap((p) => String(p).split(/(?<=\n)/));
      return Buffer.from(lines.filter((l) => Number(l.slice(1)) % 2 === 0).join(''));
    };
    const out = await collect(filteredLines(chunksOf(parts), 10, () => kernel));
    expect(calls).toEqual([
      ['a1\n', 'b2\n', 'c3\n', 'd4\n', 'e5\n', 'f6\n'],
      ['g777\n', 'h8\n', 'i9\n', 'j10\n'],
      ['k11\n'],
    ]);
    // A chunk without a line end yields an empty chunk, as does a call keeping nothing; the last line, without its
    // delimiter, goes to the reader.
    expect(out).toEqual(['b2\nd4\nf6\n', '', 'h8\nj10\n', '', '', 'l12']);
  });

  it('lends each source chunk until the n-th one after it is asked for', async () => {
    const given: number[] = [];
    const chunks = Array.from({ length: 10 }, (_, i) => Buffer.from([i]));
    const source: ByteSource = {
      size: 10,
      read: async () => new Uint8Array(0),
      async *stream() {
        yield* chunks;
      },
      recycle: (c) => given.push(c[0]),
    };
    const stats = { bytesScanned: 0, bytesProcessed: 0, bytesReturned: 0 };
    const seen: number[][] = [];
    for await (const c of countedChunks(source, { stats }, undefined, undefined, 3)) seen.push([c[0], ...given]);
    // When chunk k is handed out, chunks up to k - 3 came back.
    expect(seen.map(([k, ...back]) => back.length === 0 || Math.max(...back) === k - 3)).toEqual(seen.map(() => true));
    // Asking past the last chunk is asking for the one after it: the third before that comes back.
    expect(given).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    given.length = 0;
    for await (const _ of countedChunks(source, { stats }, undefined, undefined, true)) void _;
    expect(given).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('native kernels keep of several pieces what they keep of each, in order, in one Buffer', async () => {
    const csv = { field: 1, fieldDelimiter: 44, recordDelimiter: 10, quote: 34 };
    const test = { ...csv, judge: { kind: 'int' as const, op: '<' as const, bound: 10 } };
    const pieces = ['a,1\nb,50\n', '', 'c,"2"\nd,3\n', 'e,99\nf,-4'].map((s) => Buffer.from(s));
    const each = await Promise.all(pieces.map((p) => csvLineFilterAsync(p, test)));
    expect(String(Buffer.concat(each))).toBe('a,1\nc,"2"\nd,3\nf,-4');
    expect(String(await csvLineFilterAsync(pieces, test))).toBe('a,1\nc,"2"\nd,3\nf,-4');
    const json = { name: 'a', judge: { kind: 'number' as const, op: '<' as const, bound: 10 } };
    const lines = ['{"a":1}\n{"a":50}\n', 'not json\n', '{"a":99}\n{"a":3}'].map((s) => Buffer.from(s));
    expect(String(await jsonLineFilterAsync(lines, json))).toBe('{"a":1}\nnot json\n{"a":3}');
  });

  it("chunks through the source's pass go on without a kernel call, joined to the lines around them", async () => {
    // Chunks 2, 3 and 5 stand for bytes the source's pass judged (their inner lines kept as they are), chunk 3
    // without a line end; the raw lines waiting for the kernel go to it first, in order.
    const parts = ['a1\nb2\nc', '3\nd4\n', 'e5\nf6\ng', '7', '7\nh9\ni', 'j10\nk11\n', 'l12'];
    const passed = new Set([2, 3, 5]);
    const bufs: Buffer[] = parts.map((p) => Buffer.from(p));
    const calls: string[][] = [];
    const kernel = async (pieces: Buffer[]) => {
      calls.push(pieces.map(String));
      const lines = pieces.flatMap((p) => String(p).split(/(?<=\n)/));
      return Buffer.from(lines.filter((l) => Number(l.slice(1)) % 2 === 0).join(''));
    };
    const isPassed = (c: Buffer) => passed.has(bufs.indexOf(c));
    const out = await collect(filteredLines(chunksOf2(bufs), 10, () => kernel, isPassed));
    expect(calls).toEqual([
      ['a1\n', 'b2\n', 'c3\n', 'd4\n'],
      ['g77\n', 'h9\n'],
    ]);
    // The passed chunks' lines as they are (e5 and k11 too: the pass kept them), the line a passed chunk begins
    // with joined to the carry and given whole (ij10), one without a line end an empty chunk.
    expect(out).toEqual(['b2\nd4\n', 'e5\n', 'f6\n', '', '', 'ij10\n', 'k11\n', '', 'l12']);
  });

  it('counts a chunk through the pass as the object bytes it stands for', async () => {
    const chunks = [Buffer.from('abc'), Buffer.from('d'), Buffer.from('')];
    const stands = new Map<Uint8Array, number>([
      [chunks[1], 100],
      [chunks[2], 50],
    ]);
    let given: unknown;
    const source: ByteSource = {
      size: 153,
      read: async () => new Uint8Array(0),
      async *stream(_s, _e, pass) {
        given = pass;
        yield* chunks;
      },
      passedBytes: (c) => stands.get(c),
    };
    const pass = {} as Parameters<typeof countedChunks>[5];
    const stats = { bytesScanned: 0, bytesProcessed: 0 };
    expect((await collect(countedChunks(source, { stats }, undefined, undefined, false, pass))).join('')).toBe('abcd');
    expect(given).toBe(pass);
    expect(stats).toEqual({ bytesScanned: 153, bytesProcessed: 153 });
    // Without a pass given, chunks count as themselves.
    const plain = { bytesScanned: 0, bytesProcessed: 0 };
    await collect(countedChunks(source, { stats: plain }));
    expect(plain).toEqual({ bytesScanned: 4, bytesProcessed: 4 });
  });
});

async function* chunksOf2(bufs: Buffer[]): AsyncGenerator<Buffer> {
  yield* bufs;
}
