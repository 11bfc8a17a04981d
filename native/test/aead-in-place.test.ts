// Opening sealed packages where they lie (aeadOpenInPlace): the plaintext is the front of the pieces taken
// back to back, the same bytes aeadOpen gives, for every length around package edges and pieces cut anywhere
// (inside a package, on its edge, inside its tag, a package spread over three pieces); tampering is still
// caught, in a package inside one piece and in one that straddles two, and what was opened is zeroed.
import { describe, expect, it } from 'vitest';
import {
  AEAD_PACKAGE_SIZE as P,
  AEAD_SEALED_PACKAGE as SP,
  aeadOpen,
  aeadOpenInPlace,
  aeadOpenInPlaceAsync,
  aeadSeal,
  aeadSealedLength,
  type Cipher,
} from '../index.js';

const KEY = Buffer.alloc(32, 0x5a);
const ID = Buffer.from('bucket/key#1');
const CIPHERS: Cipher[] = ['AES-256-GCM', 'CHACHA20-POLY1305'];

const pattern = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff));

function seal(cipher: Cipher, plain: Buffer, seq = 0, last = true): Buffer {
  const out = Buffer.alloc(aeadSealedLength(plain.length));
  return out.subarray(0, aeadSeal(cipher, KEY, ID, seq, plain, last, out));
}

/** `sealed` copied into separate buffers cut at `at` (each piece its own memory, as storage's reads are). */
function cut(sealed: Buffer, at: number[]): Buffer[] {
  const ends = [...at.filter((x) => x > 0 && x < sealed.length), sealed.length];
  return ends.map((end, i) => Buffer.from(sealed.subarray(i === 0 ? 0 : ends[i - 1], end)));
}

/** The first `n` bytes of the pieces back to back. */
function front(pieces: Buffer[], n: number): Buffer {
  return Buffer.concat(pieces).subarray(0, n);
}

describe.each(CIPHERS)('%s packages opened in place', (cipher) => {
  it('gives aeadOpen plaintext for every length around package edges, pieces cut anywhere', async () => {
    const lengths = [0, 1, 100, P - 1, P, P + 1, 2 * P - 1, 2 * P, 2 * P + 1, 5 * P + 333];
    for (const n of lengths) {
      const plain = pattern(n);
      const sealed = seal(cipher, plain);
      const cuts: number[][] = [
        [],
        [1],
        [15, 16, 17],
        [SP - 16, SP - 1, SP, SP + 1],
        [P, P + 8, 2 * P],
        [SP + 7, SP + 8, SP + 9, 3 * SP - 1],
        [1000, 2000, 100_000, 100_001, 200_000], // a package over three pieces
        [Math.floor(sealed.length / 2)],
        [sealed.length - 1],
      ];
      for (const at of cuts) {
        for (const sync of [true, false]) {
          const pieces = cut(sealed, at);
          const scratch = Buffer.alloc(SP);
          const got = sync
            ? aeadOpenInPlace(cipher, KEY, ID, 0, pieces, true, scratch)
            : await aeadOpenInPlaceAsync(cipher, KEY, ID, 0, pieces, true, scratch);
          expect(got, `${n} bytes cut at ${at}`).toBe(n);
          expect(front(pieces, n).equals(plain), `${n} bytes cut at ${at}`).toBe(true);
        }
      }
    }
  });

  it('opens a range of packages in the middle of a stream (a ranged GET, a batch)', async () => {
    const plain = pattern(6 * P + 5);
    const sealed = seal(cipher, plain);
    const pieces = cut(sealed.subarray(2 * SP, 5 * SP), [SP - 100, 2 * SP + 3]);
    expect(await aeadOpenInPlaceAsync(cipher, KEY, ID, 2, pieces, false, Buffer.alloc(SP))).toBe(3 * P);
    expect(front(pieces, 3 * P).equals(plain.subarray(2 * P, 5 * P))).toBe(true);
  });

  it('opens the bytes where they are: the pieces given are the plaintext', () => {
    const plain = pattern(3 * P + 10);
    const sealed = seal(cipher, plain);
    const one = Buffer.from(sealed);
    expect(aeadOpenInPlace(cipher, KEY, ID, 0, [one], true, Buffer.alloc(SP))).toBe(plain.length);
    expect(one.subarray(0, plain.length).equals(plain)).toBe(true);
    // Views of one buffer side by side are separate pieces too.
    const whole = Buffer.from(sealed);
    const views = [whole.subarray(0, 70_000), whole.subarray(70_000)];
    expect(aeadOpenInPlace(cipher, KEY, ID, 0, views, true, Buffer.alloc(SP))).toBe(plain.length);
    expect(whole.subarray(0, plain.length).equals(plain)).toBe(true);
  });

  it('refuses tampering inside a piece and across pieces, zeroing what it opened', async () => {
    const plain = pattern(4 * P + 10);
    const sealed = seal(cipher, plain);
    // [package, byte] flipped; the cuts put package 1 across two pieces, packages 0 and 3 inside one.
    const at = [SP + 1000];
    for (const [pkg, byte] of [
      [0, 5],
      [1, 10],
      [1, SP - 1], // its tag, in the second piece
      [3, 100],
      [4, 3],
    ]) {
      const bad = Buffer.from(sealed);
      bad[pkg * SP + byte] ^= 0x40;
      for (const sync of [true, false]) {
        const pieces = cut(bad, at);
        const scratch = Buffer.alloc(SP, 1);
        const attempt = sync
          ? async () => aeadOpenInPlace(cipher, KEY, ID, 0, pieces, true, scratch)
          : () => aeadOpenInPlaceAsync(cipher, KEY, ID, 0, pieces, true, scratch);
        await expect(attempt(), `package ${pkg} byte ${byte}`).rejects.toThrow(`package ${pkg} failed authentication`);
        // Nothing unauthenticated left: the plaintext places up to the failed package are zero.
        const opened = Math.min((pkg + 1) * P, plain.length);
        expect(front(pieces, opened).equals(Buffer.alloc(opened))).toBe(true);
        expect(scratch.equals(Buffer.alloc(SP))).toBe(true);
      }
    }
    // Packages in the wrong place, or a stream cut short, fail as aeadOpen does.
    const swapped = Buffer.concat([sealed.subarray(SP, 2 * SP), sealed.subarray(0, SP), sealed.subarray(2 * SP)]);
    expect(() => aeadOpenInPlace(cipher, KEY, ID, 0, cut(swapped, [3]), true, Buffer.alloc(SP))).toThrow(
      /authentication/,
    );
    expect(() =>
      aeadOpenInPlace(cipher, KEY, ID, 0, cut(sealed.subarray(0, 2 * SP), [9]), true, Buffer.alloc(SP)),
    ).toThrow(/authentication/);
    expect(() =>
      aeadOpenInPlace(cipher, KEY, ID, 1, cut(sealed.subarray(SP, 2 * SP), []), false, Buffer.alloc(SP)),
    ).not.toThrow();
    const copy = Buffer.from(sealed);
    expect(() => aeadOpen(cipher, KEY, ID, 0, copy, true, Buffer.alloc(copy.length))).not.toThrow();
  });

  it('refuses bad arguments, writing nothing', () => {
    const sealed = seal(cipher, pattern(2 * P + 1));
    const keep = Buffer.from(sealed);
    const attempts: [string, () => number, RegExp][] = [
      ['a short scratch', () => aeadOpenInPlace(cipher, KEY, ID, 0, [sealed], true, Buffer.alloc(SP - 1)), /scratch/],
      [
        'pieces that overlap',
        () =>
          aeadOpenInPlace(cipher, KEY, ID, 0, [sealed.subarray(0, 100), sealed.subarray(50)], true, Buffer.alloc(SP)),
        /overlap/,
      ],
      [
        'scratch inside a piece',
        () => aeadOpenInPlace(cipher, KEY, ID, 0, [sealed.subarray(0, SP)], false, sealed.subarray(SP - 10)),
        /overlap/,
      ],
      ['a short middle package', () => aeadOpenInPlace(cipher, KEY, ID, 0, [sealed], false, Buffer.alloc(SP)), /whole/],
      [
        'a wrong key size',
        () => aeadOpenInPlace(cipher, Buffer.alloc(16), ID, 0, [sealed], true, Buffer.alloc(SP)),
        /32/,
      ],
    ];
    for (const [what, attempt, message] of attempts) {
      expect(attempt, what).toThrow(message);
      expect(sealed.equals(keep), what).toBe(true);
    }
  });
});
