// openBody over storage chunks it may write into (ObjectBody `mutable`): batches are opened where they lie, the
// plaintext chunks are views of storage's chunks, and each storage chunk goes back to storage once, after
// every view of it came back; chunks storage does not mark are never written (they may be shared by other
// GETs through the read-ahead cache). Every length around package and 512 KiB piece edges, whole and ranged;
// a flipped byte in a package is read again verified (right bytes) or refused.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AEAD_PACKAGE_SIZE as P, AEAD_SEALED_PACKAGE as SP, preferredCipher } from '@cairn/native';
import { S3Error } from '../../src/errors.js';
import { Lender, openBody, sealBody, sealedSpan, streamIdentity, type StreamKeys } from '../../src/api/sse/packages.js';
import type { ByteRange, ObjectBody } from '../../src/storage/object-layer.js';
import { BufferPool } from '../../src/storage/erasure/buffer-pool.js';

const KEYS: StreamKeys = {
  cipher: preferredCipher(),
  key: Buffer.alloc(32, 9),
  identity: streamIdentity(Buffer.alloc(16, 2), 1),
};
const KiB = 1024;
const PIECE = 512 * KiB; // a data shard's bytes of a 1 MiB block on 2 + 2 drives

function pattern(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 13 + (i >> 11)) & 0xff;
  return b;
}

async function sealed(plain: Buffer): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of sealBody(Readable.from([plain], { objectMode: false }), KEYS, undefined).sealed)
    parts.push(Buffer.from(c as Buffer));
  return Buffer.concat(parts);
}

/**
 * A storage body of `bytes` in chunks of `size` (each its own buffer, as storage's pooled reads are),
 * `mutable` as asked; it records the chunks given back and checks each comes back once.
 */
function storageBody(bytes: Buffer, size: number, mutable: boolean) {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) {
    const c = Buffer.allocUnsafeSlow(Math.min(size, bytes.length - at)); // its own memory, as a pooled read's
    bytes.copy(c, 0, at, at + c.length);
    chunks.push(c);
  }
  const back = new Set<Buffer>();
  // One chunk at a time, as storage's reads come (Readable.from of an array would join chunks buffered together).
  async function* reads(): AsyncGenerator<Buffer> {
    for (const c of chunks) yield await new Promise<Buffer>((res) => setImmediate(() => res(c)));
  }
  const body = Object.assign(Readable.from(reads(), { objectMode: false, highWaterMark: 1 }), {
    recycle(c: Buffer) {
      expect(chunks.includes(c), 'a chunk of this body').toBe(true);
      expect(back.has(c), 'given back once').toBe(false);
      back.add(c);
    },
    mutable: (c: Buffer) => mutable && chunks.includes(c),
  }) as ObjectBody;
  return { body, chunks, back };
}

/** The body's plaintext chunks, none given back yet (a slow socket). */
async function drain(body: Readable): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const c of body as AsyncIterable<Buffer>) out.push(c);
  return out;
}

const SIZES = [
  P - 1,
  P,
  P + 1,
  8 * P - 1, // about one piece
  8 * P,
  PIECE - 1,
  PIECE,
  PIECE + 1,
  16 * P, // one batch
  16 * P + 1,
  2 * PIECE + 3,
  3 * 1024 * KiB + 12_345,
];

describe('openBody over chunks it may write into', () => {
  it('opens in place: views of storage chunks, each chunk given back once after its views', async () => {
    for (const size of SIZES) {
      const plain = pattern(size);
      const stored = await sealed(plain);
      const ranges: (ByteRange | undefined)[] = [
        undefined,
        { start: 1, end: size - 2 },
        { start: P - 5, end: Math.min(size - 1, 2 * P + 5) },
        { start: Math.floor(size / 2), end: size - 1 },
      ];
      for (const range of ranges) {
        const what = `${size} bytes, range ${range ? `${range.start}-${range.end}` : 'whole'}`;
        const span = sealedSpan(range, size);
        const s = storageBody(stored.subarray(span.sealed.start, span.sealed.end + 1), PIECE, true);
        const pool = new BufferPool(64 * 1024 * KiB);
        const lender = new Lender(pool);
        const out = await drain(await openBody(s.body, KEYS, span, lender));
        const want = range ? plain.subarray(range.start, range.end + 1) : plain;
        expect(Buffer.concat(out).equals(want), what).toBe(true);
        // Batches over one package opened in place: their chunks are storage's own memory.
        const inStorage = out.filter((c) => s.chunks.some((x) => x.buffer === c.buffer));
        const bigBatches = span.sealed.end - span.sealed.start + 1 > SP;
        if (bigBatches) expect(inStorage.length, what).toBeGreaterThan(0);
        // Storage's chunks that views were cut from wait for them.
        const viewed = new Set(s.chunks.filter((x) => inStorage.some((c) => c.buffer === x.buffer)));
        for (const x of viewed) expect(s.back.has(x), what).toBe(false);
        for (const c of out) lender.recycle(c);
        expect(s.back.size, what).toBe(s.chunks.length);
        expect(pool.outBytes, what).toBe(0);
      }
    }
  });

  it('never writes into chunks storage does not mark as the reader’s', async () => {
    for (const size of [16 * P + 1, 2 * PIECE + 3]) {
      const plain = pattern(size);
      const stored = await sealed(plain);
      const span = sealedSpan(undefined, size);
      const s = storageBody(stored, PIECE, false);
      const copies = s.chunks.map((c) => Buffer.from(c));
      const lender = new Lender(undefined);
      const out = await drain(await openBody(s.body, KEYS, span, lender));
      expect(Buffer.concat(out).equals(plain)).toBe(true);
      expect(out.some((c) => s.chunks.some((x) => x.buffer === c.buffer))).toBe(false);
      s.chunks.forEach((c, i) => expect(c.equals(copies[i])).toBe(true));
      expect(s.back.size).toBe(s.chunks.length); // given back at once, as read
    }
  });

  it('a flipped byte in a package opened in place: read again verified, or refused', async () => {
    const size = 3 * 1024 * KiB + 5;
    const plain = pattern(size);
    const stored = await sealed(plain);
    const span = sealedSpan(undefined, size);
    // Inside a piece, across a piece edge (a straddling package), in the last batch.
    for (const at of [100, PIECE - 3, PIECE + 40, stored.length - 2]) {
      const bad = Buffer.from(stored);
      bad[at] ^= 0x21;
      const asked: [number, number][] = [];
      const reread = async (a: number, z: number) => {
        asked.push([a, z]);
        return Buffer.from(stored.subarray(a, z + 1)); // what the verified read gives: the right bytes
      };
      const s = storageBody(bad, PIECE, true);
      const lender = new Lender(undefined);
      const out = await drain(await openBody(s.body, KEYS, span, lender, reread));
      expect(Buffer.concat(out).equals(plain), `byte ${at}`).toBe(true);
      expect(asked.length, `byte ${at}`).toBe(1);
      const [a, z] = asked[0];
      expect(a <= at && at <= z, `byte ${at} in the range read again`).toBe(true);
      expect(a % SP).toBe(0);

      const again = storageBody(bad, PIECE, true);
      const code = await openBody(again.body, KEYS, span)
        .then(drain)
        .then(
          () => 'opened',
          (e: unknown) => (e instanceof S3Error ? e.code : String(e)),
        );
      expect(code, `byte ${at} without a reread`).toBe('XMinioObjectTampered');
    }
  });

  it('sealing a body of lent chunks (a copy of an encrypted source) gives each back once it is sealed', async () => {
    for (const [size, chunk] of [
      [3 * 1024 * KiB + 7, PIECE],
      [16 * P, 16 * P],
      [100, 4096],
      [5 * P + 3, 1000],
    ]) {
      const plain = pattern(size);
      const s = storageBody(plain, chunk, false);
      const out: Buffer[] = [];
      let sealedPlain = 0;
      for await (const c of sealBody(s.body, KEYS, undefined).sealed) {
        out.push(Buffer.from(c as Buffer));
        sealedPlain += c.length - 16 * Math.ceil(c.length / SP);
        // Every chunk given back holds only bytes already sealed.
        for (const b of s.back) {
          const end = s.chunks.indexOf(b) * chunk + b.length;
          expect(end).toBeLessThanOrEqual(sealedPlain);
        }
      }
      expect(s.back.size, `${size} in chunks of ${chunk}`).toBe(s.chunks.length);
      const span = sealedSpan(undefined, size);
      const opened = await drain(await openBody(storageBody(Buffer.concat(out), PIECE, true).body, KEYS, span));
      expect(Buffer.concat(opened).equals(plain)).toBe(true);
    }
  });
});
