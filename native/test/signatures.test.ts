// The chunk-signature kernel against node:crypto: random runs of chunks of random lengths (around the 64-byte
// block and the padding edges, and whole 64 KiB chunks), cut into pieces at random places as socket reads cut
// them, in runs of one to many chunks (hashed two at a time); a byte changed in any chunk, a signature changed,
// or a wrong chain start fails exactly that chunk.
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyChunkSignatures, verifyChunkSignaturesAsync } from '../index.js';
import { seededRandom } from '../../test/helpers/random.js';

const EMPTY = createHash('sha256').digest('hex');
const key = {
  signingKey: Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex'),
  prefix: '',
};
key.prefix = 'AWS4-HMAC-SHA256-PAYLOAD\n20260101T000000Z\n20260101/us-east-1/s3/aws4_request\n';

function sign(chunks: Buffer[], previous: string): string {
  let out = '';
  for (const c of chunks) {
    const sts = `${key.prefix}${previous}\n${EMPTY}\n${createHash('sha256').update(c).digest('hex')}`;
    previous = createHmac('sha256', key.signingKey).update(sts).digest('hex');
    out += previous;
  }
  return out;
}

/** Each chunk cut in 1-3 pieces at random places (empty pieces included). */
function piecesOf(rnd: ReturnType<typeof seededRandom>, chunks: Buffer[]) {
  const pieces: Buffer[] = [];
  const counts: number[] = [];
  for (const c of chunks) {
    if (c.length === 0) {
      counts.push(0);
      continue;
    }
    const cuts = [0, ...Array.from({ length: rnd.int(0, 3) }, () => rnd.int(0, c.length + 1)), c.length].sort(
      (a, b) => a - b,
    );
    for (let i = 1; i < cuts.length; i++) pieces.push(c.subarray(cuts[i - 1], cuts[i]));
    counts.push(cuts.length - 1);
  }
  return { pieces, counts };
}

const LENGTHS = [1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 65536];

describe('verifyChunkSignatures', () => {
  it('accepts every chain node:crypto signs, however the chunks are cut', async () => {
    const rnd = seededRandom();
    for (let round = 0; round < 60; round++) {
      const n = rnd.int(1, 7);
      const chunks = Array.from({ length: n }, () => rnd.bytes(LENGTHS[rnd.int(0, LENGTHS.length)]));
      if (rnd.next() < 0.5) chunks.push(Buffer.alloc(0)); // the final, empty chunk
      const previous = createHash('sha256').update(rnd.bytes(8)).digest('hex');
      const run = { ...piecesOf(rnd, chunks), signatures: sign(chunks, previous), previous };
      expect(verifyChunkSignatures(run, key)).toBe(-1);
      expect(await verifyChunkSignaturesAsync(run, key)).toBe(-1);
    }
  });

  it('names the first chunk whose data, signature or chain start is wrong', async () => {
    const rnd = seededRandom();
    for (let round = 0; round < 40; round++) {
      const n = rnd.int(2, 7);
      const chunks = Array.from({ length: n }, () => rnd.bytes(LENGTHS[rnd.int(0, LENGTHS.length)]));
      const previous = createHash('sha256').update(rnd.bytes(8)).digest('hex');
      const signatures = sign(chunks, previous);
      const bad = rnd.int(0, n);
      const forged = chunks.map((c, i) => {
        if (i !== bad) return c;
        const f = Buffer.from(c);
        f[rnd.int(0, f.length)] ^= 1 << rnd.int(0, 8);
        return f;
      });
      expect(verifyChunkSignatures({ ...piecesOf(rnd, forged), signatures, previous }, key)).toBe(bad);
      expect(await verifyChunkSignaturesAsync({ ...piecesOf(rnd, forged), signatures, previous }, key)).toBe(bad);
      const sig = signatures.slice(0, bad * 64) + 'f'.repeat(64) + signatures.slice((bad + 1) * 64);
      expect(verifyChunkSignatures({ ...piecesOf(rnd, chunks), signatures: sig, previous }, key)).toBe(bad);
      expect(verifyChunkSignatures({ ...piecesOf(rnd, chunks), signatures, previous: EMPTY }, key)).toBe(0);
    }
  });

  it('refuses arguments that do not describe a run', () => {
    const c = Buffer.alloc(10);
    const sigs = sign([c], EMPTY);
    expect(() => verifyChunkSignatures({ pieces: [c], counts: [2], signatures: sigs, previous: EMPTY }, key)).toThrow(
      /piece counts/,
    );
    expect(() =>
      verifyChunkSignatures({ pieces: [c], counts: [1], signatures: sigs.slice(1), previous: EMPTY }, key),
    ).toThrow(/64 hex/);
  });
});
