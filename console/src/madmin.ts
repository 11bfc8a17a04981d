// MinIO's admin API encrypts the bodies that carry secrets (service accounts' keys) with the signer's secret key,
// as madmin-go's EncryptData does (the server's side: server/src/api/iam/madmin-crypto.ts):
//   salt (32) | AEAD id (1) | nonce (8) | sio stream of 16 KiB pieces, each sealed with AES-256-GCM
// Requests are sealed with id 2 (PBKDF2-SHA256, 8192 rounds: WebCrypto has it); answers come sealed with id 0,
// whose key is Argon2id (1 pass, 64 MiB, 4 lanes), which WebCrypto lacks: hash-wasm computes it.
import { argon2id } from 'hash-wasm';

const SALT = 32;
const NONCE = 8;
const TAG = 16;
const PIECE = 16 * 1024;
const HEADER = SALT + 1 + NONCE;
const PBKDF2 = 2;

const subtle = () => crypto.subtle;

/**
 * Keys already derived, by secret and salt: the server seals its answers to one secret under one salt for a few
 * minutes, and Argon2's 64 MiB cost a browser about a second each time.
 */
const derived = new Map<string, Promise<CryptoKey>>();

function deriveKey(id: number, secret: string, salt: Uint8Array): Promise<CryptoKey> {
  const name = `${id}:${Array.from(salt, (b) => b.toString(16).padStart(2, '0')).join('')}:${secret}`;
  let key = derived.get(name);
  if (!key) {
    if (derived.size >= 16) derived.clear();
    key = computeKey(id, secret, salt);
    key.catch(() => derived.delete(name));
    derived.set(name, key);
  }
  return key;
}

async function computeKey(id: number, secret: string, salt: Uint8Array): Promise<CryptoKey> {
  let raw: Uint8Array;
  if (id === PBKDF2) {
    const base = await subtle().importKey('raw', new TextEncoder().encode(secret), 'PBKDF2', false, ['deriveBits']);
    const bits = await subtle().deriveBits(
      { name: 'PBKDF2', hash: 'SHA-256', salt: salt as BufferSource, iterations: 8192 },
      base,
      256,
    );
    raw = new Uint8Array(bits);
  } else if (id === 0) {
    raw = await argon2id({
      password: secret,
      salt,
      parallelism: 4,
      iterations: 1,
      memorySize: 64 * 1024,
      hashLength: 32,
      outputType: 'binary',
    });
  } else {
    // id 1 is ChaCha20-Poly1305, which WebCrypto lacks; Cairn never answers with it.
    throw new Error(`The server's answer is sealed with an AEAD the console cannot open (${id})`);
  }
  return subtle().importKey('raw', raw as BufferSource, 'AES-GCM', false, ['encrypt', 'decrypt']);
}

/** The 12-byte nonce of piece `seq`: the stream's nonce and the sequence number, little-endian. */
function nonceOf(nonce: Uint8Array, seq: number): Uint8Array {
  const n = new Uint8Array(12);
  n.set(nonce);
  new DataView(n.buffer).setUint32(8, seq, true);
  return n;
}

const seal = async (key: CryptoKey, iv: Uint8Array, plain: Uint8Array, ad: Uint8Array) =>
  new Uint8Array(
    await subtle().encrypt(
      { name: 'AES-GCM', iv: iv as BufferSource, additionalData: ad as BufferSource },
      key,
      plain as BufferSource,
    ),
  );

/** The associated data of every piece but the last: 0x00 and the tag of nothing under sequence number 0. */
async function firstAd(key: CryptoKey, nonce: Uint8Array): Promise<Uint8Array> {
  const ad = new Uint8Array(1 + TAG);
  ad.set(await seal(key, nonceOf(nonce, 0), new Uint8Array(0), new Uint8Array(0)), 1);
  return ad;
}

/** The last piece's: 0x80 in place of 0x00, so that a stream cut short does not open. */
function lastAd(ad: Uint8Array): Uint8Array {
  const last = ad.slice();
  last[0] = 0x80;
  return last;
}

/** madmin-go's EncryptData with PBKDF2 (id 2), which every madmin-go reader opens. */
export async function encryptData(secret: string, plain: Uint8Array): Promise<Uint8Array> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT));
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE));
  const key = await deriveKey(PBKDF2, secret, salt);
  const ad = await firstAd(key, nonce);
  const parts: Uint8Array[] = [salt, Uint8Array.of(PBKDF2), nonce];
  const pieces = Math.max(1, Math.ceil(plain.length / PIECE));
  for (let i = 0; i < pieces; i++) {
    const piece = plain.subarray(i * PIECE, (i + 1) * PIECE);
    parts.push(await seal(key, nonceOf(nonce, i + 1), piece, i === pieces - 1 ? lastAd(ad) : ad));
  }
  return concat(parts);
}

/** madmin-go's DecryptData: throws when the data does not open with `secret` (altered, cut short). */
export async function decryptData(secret: string, data: Uint8Array): Promise<Uint8Array> {
  if (data.length < HEADER + TAG) throw new Error('The sealed answer is too short');
  const key = await deriveKey(data[SALT], secret, data.subarray(0, SALT));
  const nonce = data.subarray(SALT + 1, HEADER);
  const ad = await firstAd(key, nonce);
  const out: Uint8Array[] = [];
  const body = data.subarray(HEADER);
  for (let at = 0, seq = 1; at < body.length; seq++) {
    const end = Math.min(at + PIECE + TAG, body.length);
    const box = body.subarray(at, end);
    const plain = await subtle().decrypt(
      {
        name: 'AES-GCM',
        iv: nonceOf(nonce, seq) as BufferSource,
        additionalData: (end === body.length ? lastAd(ad) : ad) as BufferSource,
      },
      key,
      box as BufferSource,
    );
    out.push(new Uint8Array(plain));
    at = end;
  }
  return concat(out);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
