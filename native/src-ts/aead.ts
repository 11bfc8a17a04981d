// The sealed package format of encrypted object data (src/aead.rs): a stream's plaintext cut into 64 KiB
// packages, each sealed with AES-256-GCM or ChaCha20-Poly1305 into ciphertext + a 16-byte tag. The
// package's sequence number is its nonce; the stream identity, the sequence number and a final flag on the
// last package are its associated data, so reordered, truncated, moved or tampered packages fail to open.
import { native } from './binding.js';

export type Cipher = 'AES-256-GCM' | 'CHACHA20-POLY1305';

/** Plaintext bytes per package. */
export const AEAD_PACKAGE_SIZE = 64 * 1024;
/** Bytes of the tag after each package's ciphertext. */
export const AEAD_TAG_SIZE = 16;
/** Bytes of a full sealed package. */
export const AEAD_SEALED_PACKAGE = AEAD_PACKAGE_SIZE + AEAD_TAG_SIZE;

/** Sealed length of a stream of `plain` plaintext bytes (an empty stream is one empty package). */
export function aeadSealedLength(plain: number): number {
  return native.aeadSealedLength(plain);
}

/** Plaintext length of a sealed stream of `sealed` bytes, or -1 when no plaintext length seals to it. */
export function aeadPlainLength(sealed: number): number {
  return native.aeadPlainLength(sealed);
}

/** The cipher to use on this CPU: AES-256-GCM with AES instructions, ChaCha20-Poly1305 without. */
export function preferredCipher(): Cipher {
  return native.aesHardware() ? 'AES-256-GCM' : 'CHACHA20-POLY1305';
}

/**
 * The single-message kernels, typed here rather than from binding.d.cts: `npm install` compiles the TypeScript
 * (the root `prepare`) before it rebuilds the addon, so a checkout whose binding predates them must compile.
 */
const messageKernels = native as unknown as {
  aeadSealMessage(
    cipher: Cipher,
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    plain: Uint8Array,
    out: Buffer,
  ): number;
  aeadOpenMessage(
    cipher: Cipher,
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    sealed: Uint8Array,
    out: Buffer,
  ): boolean;
};

/**
 * Seals one message (not packages: a small secret such as a data key under its key-encryption key) with
 * `nonce` (12 bytes, never reused with `key`) and associated data `aad` into `out` as ciphertext || 16-byte
 * tag, the bytes node:crypto's AES-256-GCM / ChaCha20-Poly1305 make; returns the bytes written.
 */
export function aeadSealMessage(
  cipher: Cipher,
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  plain: Uint8Array,
  out: Buffer,
): number {
  return messageKernels.aeadSealMessage(cipher, key, nonce, aad, plain, out);
}

/**
 * Opens a message `aeadSealMessage` sealed (`sealed`: ciphertext || tag) into `out`; false, `out` zeroed,
 * when it does not authenticate.
 */
export function aeadOpenMessage(
  cipher: Cipher,
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  sealed: Uint8Array,
  out: Buffer,
): boolean {
  return messageKernels.aeadOpenMessage(cipher, key, nonce, aad, sealed, out);
}

const piecesOf = <T extends Uint8Array>(bytes: T | T[]): T[] => (Array.isArray(bytes) ? bytes : [bytes]);

/**
 * Seals `plain` (a Buffer, or the pieces that make it up, in order: copied once, into `out`) as packages `firstSeq, firstSeq + 1, ...` of a stream (key: 32 bytes; identity: at most 64
 * bytes) into `out`; returns the bytes written. Unless `last`, `plain` must be whole packages; with `last`
 * its final package carries the final flag. Sync form, for small inputs.
 */
export function aeadSeal(
  cipher: Cipher,
  key: Uint8Array,
  identity: Uint8Array,
  firstSeq: number,
  plain: Uint8Array | Uint8Array[],
  last: boolean,
  out: Buffer,
): number {
  return native.aeadSeal(cipher, key, identity, firstSeq, piecesOf(plain), last, out);
}

/** `aeadSeal` on the libuv thread pool. */
export function aeadSealAsync(
  cipher: Cipher,
  key: Buffer,
  identity: Buffer,
  firstSeq: number,
  plain: Buffer | Buffer[],
  last: boolean,
  out: Buffer,
): Promise<number> {
  return native.aeadSealAsync(cipher, key, identity, firstSeq, piecesOf(plain), last, out);
}

/**
 * Opens sealed packages `firstSeq, ...` (all full but perhaps the last; a Buffer, or pieces back to back cut
 * anywhere) into `out`; returns the plaintext
 * bytes written. `endsStream`: the last package given is the stream's final one. Throws when a package
 * does not authenticate. Sync form, for small inputs.
 */
export function aeadOpen(
  cipher: Cipher,
  key: Uint8Array,
  identity: Uint8Array,
  firstSeq: number,
  sealed: Uint8Array | Uint8Array[],
  endsStream: boolean,
  out: Buffer,
): number {
  return native.aeadOpen(cipher, key, identity, firstSeq, piecesOf(sealed), endsStream, out);
}

/** `aeadOpen` on the libuv thread pool. */
export function aeadOpenAsync(
  cipher: Cipher,
  key: Buffer,
  identity: Buffer,
  firstSeq: number,
  sealed: Buffer | Buffer[],
  endsStream: boolean,
  out: Buffer,
): Promise<number> {
  return native.aeadOpenAsync(cipher, key, identity, firstSeq, piecesOf(sealed), endsStream, out);
}

/**
 * Opens sealed packages `firstSeq, ...` (pieces back to back, cut anywhere, as `aeadOpen` takes them) where
 * they lie: the plaintext ends up as the first n bytes (returned) of the pieces taken back to back, package
 * `i` at `i * AEAD_PACKAGE_SIZE`. Packages inside one piece are opened there in one pass; only those that
 * straddle two pieces are copied, into `scratch` (at least one sealed package, not overlapping the pieces),
 * and back. The pieces must be the caller's alone to write. Throws, the plaintext written so far zeroed,
 * when a package does not authenticate: the sealed bytes are lost then. Sync form, for small inputs.
 */
export function aeadOpenInPlace(
  cipher: Cipher,
  key: Uint8Array,
  identity: Uint8Array,
  firstSeq: number,
  pieces: Buffer[],
  endsStream: boolean,
  scratch: Buffer,
): number {
  return native.aeadOpenInPlace(cipher, key, identity, firstSeq, pieces, endsStream, scratch);
}

/** `aeadOpenInPlace` on the libuv thread pool. */
export function aeadOpenInPlaceAsync(
  cipher: Cipher,
  key: Buffer,
  identity: Buffer,
  firstSeq: number,
  pieces: Buffer[],
  endsStream: boolean,
  scratch: Buffer,
): Promise<number> {
  return native.aeadOpenInPlaceAsync(cipher, key, identity, firstSeq, pieces, endsStream, scratch);
}
