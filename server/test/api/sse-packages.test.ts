// The sealing and opening stages of server-side encryption (api/sse/packages.ts) with the real kernels: bodies
// arriving in pieces cut anywhere round-trip, whole and ranged; the pooled batches they lend out all come back
// when their readers give them back; a flipped bit is an error, never wrong plaintext.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AEAD_SEALED_PACKAGE, preferredCipher } from '@cairn/native';
import { Lender, openBody, sealBody, sealedSpan, streamIdentity, type StreamKeys } from '../../src/api/sse/packages.js';
import { BufferPool } from '../../src/storage/erasure/buffer-pool.js';
import type { ObjectBody } from '../../src/storage/object-layer.js';
import { S3Error } from '../../src/errors.js';

const KEYS: StreamKeys = {
  cipher: preferredCipher(),
  key: Buffer.alloc(32, 7),
  identity: streamIdentity(Buffer.alloc(16, 1), 1),
};
const MiB = 1024 * 1024;

function pattern(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 13)) & 0xff;
  return b;
}

/** `b` as a stream of chunks of the given sizes, repeated. */
function chunked(b: Buffer, sizes: number[]): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0, i = 0; at < b.length; i++) {
    const n = Math.min(sizes[i % sizes.length], b.length - at);
    chunks.push(b.subarray(at, at + n));
    at += n;
  }
  return Readable.from(chunks, { objectMode: false });
}

/** Everything `body` yields, each chunk copied and then given back as storage and the socket give them back. */
async function drain(body: Readable & { recycle?(c: Buffer): void }): Promise<Buffer> {
  const got: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer>) {
    got.push(Buffer.from(chunk));
    body.recycle?.(chunk);
  }
  return Buffer.concat(got);
}

describe('sealing and opening stages', () => {
  it('round-trip bodies cut anywhere, whole and ranged, and give every pooled batch back', async () => {
    const pool = new BufferPool(64 * MiB);
    for (const size of [0, 4096, 65536, 65537, 3 * MiB + 12345]) {
      const plain = pattern(size);
      const { sealed, digests } = sealBody(chunked(plain, [65536, 1000, 7]), KEYS, 'CRC32', { buffers: pool });
      const stored = await drain(sealed);
      expect(digests().size).toBe(size);
      expect(pool.outBytes).toBe(0);
      for (const range of [undefined, { start: 0, end: size - 1 }, { start: 70000, end: 3 * MiB }]) {
        if (range && range.end >= size) continue;
        const span = sealedSpan(range, size);
        const bytes = stored.subarray(span.sealed.start, span.sealed.end + 1);
        const lender = new Lender(pool);
        const body = await openBody(chunked(bytes, [MiB, 4096, 333]) as ObjectBody, KEYS, span, lender);
        const out = await drain(Object.assign(body, { recycle: lender.recycle }));
        expect(out.equals(range ? plain.subarray(range.start, range.end + 1) : plain)).toBe(true);
        expect(pool.outBytes).toBe(0);
      }
    }
  });

  it('refuses a flipped bit anywhere in the read packages', async () => {
    const plain = pattern(2 * MiB + 5);
    const stored = await drain(sealBody(chunked(plain, [65536]), KEYS, undefined).sealed);
    for (const at of [10, AEAD_SEALED_PACKAGE - 1, 20 * AEAD_SEALED_PACKAGE + 3, stored.length - 1]) {
      const bad = Buffer.from(stored);
      bad[at] ^= 4;
      const span = sealedSpan(undefined, plain.length);
      const code = await openBody(chunked(bad, [MiB]) as ObjectBody, KEYS, span)
        .then(drain)
        .then(
          () => 'opened',
          (e: unknown) => (e instanceof S3Error ? e.code : String(e)),
        );
      expect(code, `bit at ${at}`).toBe('XMinioObjectTampered');
    }
  });
});
