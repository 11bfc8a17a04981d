// The sealed package format (aead.ts): agrees with node:crypto's AES-256-GCM and ChaCha20-Poly1305 package
// by package; tampered, reordered, truncated and swapped packages fail; ranges of packages open alone.
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  AEAD_PACKAGE_SIZE as P,
  AEAD_SEALED_PACKAGE as SP,
  aeadOpen,
  aeadOpenAsync,
  aeadOpenMessage,
  aeadPlainLength,
  aeadSeal,
  aeadSealAsync,
  aeadSealMessage,
  aeadSealedLength,
  type Cipher,
} from '../index.js';

const KEY = Buffer.alloc(32, 0x5a);
const ID = Buffer.from('bucket/key#1');
const CIPHERS: Cipher[] = ['AES-256-GCM', 'CHACHA20-POLY1305'];
const NODE_NAME: Record<Cipher, 'aes-256-gcm' | 'chacha20-poly1305'> = {
  'AES-256-GCM': 'aes-256-gcm',
  'CHACHA20-POLY1305': 'chacha20-poly1305',
};

const pattern = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff));

function seal(cipher: Cipher, plain: Buffer, identity = ID): Buffer {
  const out = Buffer.alloc(aeadSealedLength(plain.length));
  expect(aeadSeal(cipher, KEY, identity, 0, plain, true, out)).toBe(out.length);
  return out;
}

function open(cipher: Cipher, sealed: Buffer, opts: { seq?: number; ends?: boolean; identity?: Buffer } = {}): Buffer {
  const out = Buffer.alloc(sealed.length);
  return out.subarray(0, aeadOpen(cipher, KEY, opts.identity ?? ID, opts.seq ?? 0, sealed, opts.ends ?? true, out));
}

describe.each(CIPHERS)('%s packages', (cipher) => {
  it('match node:crypto: nonce = sequence number, AAD = identity || seq || final flag', () => {
    const plain = pattern(P + 100);
    const sealed = seal(cipher, plain);
    for (const [seq, from, to, last] of [
      [0, 0, P, 0],
      [1, P, P + 100, 1],
    ]) {
      const nonce = Buffer.alloc(12);
      nonce.writeBigUInt64BE(BigInt(seq), 4);
      const aad = Buffer.concat([ID, Buffer.alloc(8), Buffer.from([last])]);
      aad.writeBigUInt64BE(BigInt(seq), ID.length);
      const name = NODE_NAME[cipher];
      const c =
        name === 'aes-256-gcm'
          ? createCipheriv(name, KEY, nonce, { authTagLength: 16 })
          : createCipheriv(name, KEY, nonce, { authTagLength: 16 });
      c.setAAD(aad);
      const expected = Buffer.concat([c.update(plain.subarray(from, to)), c.final(), c.getAuthTag()]);
      expect(sealed.subarray(seq * SP, seq * SP + expected.length).equals(expected)).toBe(true);
    }
  });

  it('round-trips every length around package edges, sync and async', async () => {
    for (const n of [0, 1, P - 1, P, P + 1, 3 * P + 17]) {
      const plain = pattern(n);
      const sealed = seal(cipher, plain);
      expect(sealed.length).toBe(n + 16 * Math.max(1, Math.ceil(n / P)));
      expect(aeadPlainLength(sealed.length)).toBe(n);
      expect(open(cipher, sealed).equals(plain)).toBe(true);
      const asyncSealed = Buffer.alloc(sealed.length);
      await aeadSealAsync(cipher, KEY, ID, 0, plain, true, asyncSealed);
      expect(asyncSealed.equals(sealed)).toBe(true);
      const out = Buffer.alloc(sealed.length);
      expect(out.subarray(0, await aeadOpenAsync(cipher, KEY, ID, 0, sealed, true, out)).equals(plain)).toBe(true);
    }
    expect(aeadPlainLength(SP + 5)).toBe(-1);
  });

  it('seals and opens pieces cut anywhere as the stream they make up back to back', async () => {
    const plain = pattern(3 * P + 77);
    const sealed = seal(cipher, plain);
    const cut = (b: Buffer, at: number[]) => [0, ...at].map((from, i) => b.subarray(from, [...at, b.length][i]));
    for (const at of [[1], [P - 3, P + 5, 2 * P + 16], [SP + 7, SP + 8, SP + 9, 3 * SP - 1]]) {
      const out = Buffer.alloc(sealed.length);
      expect(aeadSeal(cipher, KEY, ID, 0, cut(plain, at), true, out)).toBe(sealed.length);
      expect(out.equals(sealed)).toBe(true);
      const back = Buffer.alloc(plain.length);
      expect(await aeadOpenAsync(cipher, KEY, ID, 0, cut(sealed, at), true, back)).toBe(plain.length);
      expect(back.equals(plain)).toBe(true);
    }
    // A flipped bit in a tag that straddles two pieces is still caught.
    const flipped = Buffer.from(sealed);
    flipped[SP - 2] ^= 1;
    expect(() => aeadOpen(cipher, KEY, ID, 0, cut(flipped, [SP - 8]), true, Buffer.alloc(plain.length))).toThrow(
      /authentication/,
    );
    // The output may not overlap an input (the kernel copies each package from the pieces into it).
    expect(() => aeadSeal(cipher, KEY, ID, 0, [sealed.subarray(0, P)], false, sealed)).toThrow(/overlaps/);
  });

  it('opens a range of packages on its own (what a ranged GET reads)', () => {
    const plain = pattern(4 * P + 9);
    const sealed = seal(cipher, plain);
    expect(open(cipher, sealed.subarray(SP, 3 * SP), { seq: 1, ends: false }).equals(plain.subarray(P, 3 * P))).toBe(
      true,
    );
    expect(open(cipher, sealed.subarray(4 * SP), { seq: 4 }).equals(plain.subarray(4 * P))).toBe(true);
  });

  it('refuses tampered, reordered, truncated, moved and swapped packages', () => {
    const plain = pattern(3 * P + 10);
    const sealed = seal(cipher, plain);
    const flipped = Buffer.from(sealed);
    flipped[2 * SP + 5] ^= 0x80;
    const tagFlipped = Buffer.from(sealed);
    tagFlipped[SP - 1] ^= 1;
    const reordered = Buffer.concat([sealed.subarray(SP, 2 * SP), sealed.subarray(0, SP), sealed.subarray(2 * SP)]);
    const other = seal(cipher, pattern(3 * P + 10).reverse(), Buffer.from('bucket/other#1'));
    const swapped = Buffer.concat([sealed.subarray(0, SP), other.subarray(SP, 2 * SP), sealed.subarray(2 * SP)]);
    const bad: [string, () => Buffer][] = [
      ['a flipped ciphertext bit', () => open(cipher, flipped)],
      ['a flipped tag bit', () => open(cipher, tagFlipped)],
      ['two packages swapped', () => open(cipher, reordered)],
      ['cut after whole packages', () => open(cipher, sealed.subarray(0, 3 * SP))],
      ['cut inside the last package', () => open(cipher, sealed.subarray(0, sealed.length - 1))],
      ['a package read at another position', () => open(cipher, sealed.subarray(0, SP), { seq: 2, ends: false })],
      ['the stream under another identity', () => open(cipher, sealed, { identity: Buffer.from('bucket/key#2') })],
      ['a package of another object', () => open(cipher, swapped)],
      ['the final package as a middle one', () => open(cipher, sealed.subarray(3 * SP), { seq: 3, ends: false })],
    ];
    for (const [what, attempt] of bad) expect(attempt, what).toThrow(/authentication|whole packages/);
    expect(() => {
      const out = Buffer.alloc(sealed.length);
      aeadOpen(cipher === 'AES-256-GCM' ? 'CHACHA20-POLY1305' : 'AES-256-GCM', KEY, ID, 0, sealed, true, out);
    }).toThrow(/authentication/);
    expect(open(cipher, sealed).equals(plain)).toBe(true);
  });

  it('refuses bad arguments', () => {
    const out = Buffer.alloc(2 * SP);
    expect(() => aeadSeal(cipher, Buffer.alloc(16), ID, 0, pattern(10), true, out)).toThrow(/32 bytes/);
    expect(() => aeadSeal(cipher, KEY, ID, 0, pattern(10), false, out)).toThrow(/short package/);
    expect(() => aeadSeal(cipher, KEY, Buffer.alloc(65), 0, pattern(10), true, out)).toThrow(/identity/);
    expect(() => aeadSeal(cipher, KEY, ID, 0, pattern(P + 1), true, Buffer.alloc(P))).toThrow(/needed/);
  });
});

describe.each(CIPHERS)('%s single messages', (cipher) => {
  const nonce = Buffer.from('0123456789ab');
  const aad = Buffer.from('cairn data key v1:object-id');
  const name = NODE_NAME[cipher];

  it('seal and open as node:crypto does, both ways', () => {
    for (const plain of [Buffer.alloc(0), pattern(32), pattern(1000)]) {
      const sealed = Buffer.alloc(plain.length + 16);
      expect(aeadSealMessage(cipher, KEY, nonce, aad, plain, sealed)).toBe(sealed.length);
      const c = createCipheriv(name as 'aes-256-gcm', KEY, nonce, { authTagLength: 16 });
      c.setAAD(aad);
      expect(Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]).equals(sealed)).toBe(true);
      const d = createDecipheriv(name as 'aes-256-gcm', KEY, nonce, { authTagLength: 16 });
      d.setAAD(aad);
      d.setAuthTag(sealed.subarray(plain.length));
      expect(Buffer.concat([d.update(sealed.subarray(0, plain.length)), d.final()]).equals(plain)).toBe(true);
      const out = Buffer.alloc(plain.length);
      expect(aeadOpenMessage(cipher, KEY, nonce, aad, sealed, out)).toBe(true);
      expect(out.equals(plain)).toBe(true);
    }
  });

  it('refuses another key, nonce, aad or a changed byte, leaving the output zeroed', () => {
    const plain = pattern(32);
    const sealed = Buffer.alloc(48);
    aeadSealMessage(cipher, KEY, nonce, aad, plain, sealed);
    const flipped = Buffer.from(sealed);
    flipped[5] ^= 1;
    const cases: [string, () => boolean][] = [];
    const out = Buffer.alloc(32);
    const open = (k: Buffer, n: Buffer, a: Buffer, s: Buffer) => () => aeadOpenMessage(cipher, k, n, a, s, out);
    cases.push(['another key', open(Buffer.alloc(32, 1), nonce, aad, sealed)]);
    cases.push(['another nonce', open(KEY, Buffer.from('0123456789ac'), aad, sealed)]);
    cases.push(['another aad', open(KEY, nonce, Buffer.from('cairn data key v1:other'), sealed)]);
    cases.push(['a changed byte', open(KEY, nonce, aad, flipped)]);
    cases.push(['a cut tag', open(KEY, nonce, aad, sealed.subarray(0, 47))]);
    cases.push(['no tag at all', open(KEY, nonce, aad, sealed.subarray(0, 10))]);
    for (const [what, attempt] of cases) {
      out.fill(0xee);
      expect(attempt(), what).toBe(false);
      if (what !== 'no tag at all')
        expect(
          out.subarray(0, 31).every((b) => b === 0),
          what,
        ).toBe(true);
    }
    expect(() => aeadSealMessage(cipher, KEY, Buffer.alloc(8), aad, plain, sealed)).toThrow(/12 bytes/);
    expect(() => aeadOpenMessage(cipher, Buffer.alloc(16), nonce, aad, sealed, out)).toThrow(/32 bytes/);
    expect(() => aeadSealMessage(cipher, KEY, nonce, aad, plain, Buffer.alloc(40))).toThrow(/needed/);
  });
});
