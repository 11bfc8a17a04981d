// MinIO's admin API encrypts request bodies that carry secrets (add-user, add-service-account, ...) and some
// answers (list-users, the service accounts' info) with the signer's secret key: madmin-go's EncryptData.
//   salt (32) | AEAD id (1) | nonce (8) | sio stream
// The key is Argon2id(secret, salt; 1 pass, 64 MiB, 4 lanes) for ids 0 (AES-256-GCM) and 1 (ChaCha20-Poly1305),
// PBKDF2-SHA256(secret, salt, 8192) for id 2 (MinIO in FIPS mode, AES-256-GCM). The sio stream (secure-io/sio-go)
// seals 16 KiB pieces, each with the nonce followed by its 32-bit little-endian sequence number (from 1), and
// as associated data 0x00 followed by the tag of an empty message under sequence number 0; the last piece's
// associated data starts with 0x80 instead, so a stream cut short does not open. Key derivation runs on the
// libuv pool (crypto.argon2 / pbkdf2 async): 64 MiB of Argon2 never holds the event loop.
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  pbkdf2,
  randomBytes,
  type CipherGCM,
  type DecipherGCM,
} from 'node:crypto';
import * as crypto from 'node:crypto';
import { S3Error } from '../../errors.js';

const SALT = 32;
const NONCE = 8;
const TAG = 16;
const PIECE = 16 * 1024;
const HEADER = SALT + 1 + NONCE;

type Aead = 'aes-256-gcm' | 'chacha20-poly1305';

interface Argon2Params {
  message: Buffer;
  nonce: Buffer;
  parallelism: number;
  tagLength: number;
  memory: number;
  passes: number;
}
type Argon2 = (algorithm: string, p: Argon2Params, cb: (err: Error | null, key: ArrayBuffer) => void) => void;

async function deriveKey(id: number, secret: string, salt: Buffer): Promise<Buffer> {
  if (id === 2) {
    return new Promise((resolve, reject) =>
      pbkdf2(secret, salt, 8192, 32, 'sha256', (err, key) => (err ? reject(err) : resolve(key))),
    );
  }
  // crypto.argon2 is Node 24.7's; older Nodes cannot speak the admin API's encryption.
  const argon2 = (crypto as unknown as { argon2?: Argon2 }).argon2;
  if (!argon2) throw new S3Error('NotImplemented', 'Encrypted admin requests need Node.js 24.7 or later (Argon2)');
  const params = {
    message: Buffer.from(secret, 'utf8'),
    nonce: salt,
    parallelism: 4,
    tagLength: 32,
    memory: 65536,
    passes: 1,
  };
  return new Promise((resolve, reject) =>
    argon2('argon2id', params, (err, key) => (err ? reject(err) : resolve(Buffer.from(key)))),
  );
}

const nonceOf = (nonce: Buffer, seq: number) => {
  const n = Buffer.alloc(12);
  nonce.copy(n);
  n.writeUInt32LE(seq, 8);
  return n;
};

function seal(aead: Aead, key: Buffer, nonce: Buffer, plain: Buffer, ad: Buffer): Buffer {
  // ChaCha20-Poly1305 ciphers have the same AEAD methods as GCM's.
  const c = createCipheriv(aead, key, nonce, { authTagLength: TAG } as never) as unknown as CipherGCM;
  c.setAAD(ad, { plaintextLength: plain.length });
  return Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
}

function open(aead: Aead, key: Buffer, nonce: Buffer, box: Buffer, ad: Buffer): Buffer | undefined {
  try {
    const d = createDecipheriv(aead, key, nonce, { authTagLength: TAG } as never) as unknown as DecipherGCM;
    d.setAAD(ad, { plaintextLength: box.length - TAG });
    d.setAuthTag(box.subarray(box.length - TAG));
    return Buffer.concat([d.update(box.subarray(0, box.length - TAG)), d.final()]);
  } catch {
    return undefined;
  }
}

const aeadOf = (id: number): Aead | undefined =>
  id === 0 || id === 2 ? 'aes-256-gcm' : id === 1 ? 'chacha20-poly1305' : undefined;

/** The associated data of the first pieces: 0x00 and the tag of nothing under sequence number 0. */
function firstAd(aead: Aead, key: Buffer, nonce: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0]), seal(aead, key, nonceOf(nonce, 0), Buffer.alloc(0), Buffer.alloc(0))]);
}

/**
 * The salt and key answers to one secret are sealed with: Argon2 costs a second of CPU on a busy machine, so
 * a key is kept for a few minutes (each answer still has its own random nonce, as each sio stream must).
 */
const answerKeys = new Map<string, { salt: Buffer; key: Promise<Buffer>; until: number }>();
const ANSWER_KEY_MS = 5 * 60_000;

function answerKey(secret: string): { salt: Buffer; key: Promise<Buffer> } {
  const now = Date.now();
  const id = createHash('sha256').update(secret).digest('hex');
  const hit = answerKeys.get(id);
  if (hit && hit.until > now) return hit;
  if (answerKeys.size >= 256) answerKeys.clear();
  const salt = randomBytes(SALT);
  const made = { salt, key: deriveKey(0, secret, salt), until: now + ANSWER_KEY_MS };
  made.key.catch(() => answerKeys.delete(id));
  answerKeys.set(id, made);
  return made;
}

/** madmin-go's EncryptData (AES-256-GCM, Argon2id). */
export async function encryptData(secret: string, plain: Buffer): Promise<Buffer> {
  const { salt, key: pending } = answerKey(secret);
  const nonce = randomBytes(NONCE);
  const key = await pending;
  const ad = firstAd('aes-256-gcm', key, nonce);
  const out: Buffer[] = [salt, Buffer.from([0]), nonce];
  const pieces = Math.max(1, Math.ceil(plain.length / PIECE));
  for (let i = 0; i < pieces; i++) {
    const last = i === pieces - 1;
    const piece = plain.subarray(i * PIECE, (i + 1) * PIECE);
    const pieceAd = last ? Buffer.concat([Buffer.from([0x80]), ad.subarray(1)]) : ad;
    out.push(seal('aes-256-gcm', key, nonceOf(nonce, i + 1), piece, pieceAd));
  }
  return Buffer.concat(out);
}

/** madmin-go's DecryptData; a body that does not open (wrong secret, altered, cut short) is refused. */
export async function decryptData(secret: string, data: Buffer): Promise<Buffer> {
  const refused = () =>
    new S3Error('XMinioAdminInvalidArgument', "The encrypted request body does not open with the signer's secret");
  if (data.length < HEADER + TAG) throw refused();
  const aead = aeadOf(data[SALT]);
  if (!aead) throw refused();
  const key = await deriveKey(data[SALT], secret, data.subarray(0, SALT));
  const nonce = data.subarray(SALT + 1, HEADER);
  const ad = firstAd(aead, key, nonce);
  const body = data.subarray(HEADER);
  const out: Buffer[] = [];
  for (let at = 0, seq = 1; at < body.length; seq++) {
    const end = Math.min(at + PIECE + TAG, body.length);
    const last = end === body.length;
    const pieceAd = last ? Buffer.concat([Buffer.from([0x80]), ad.subarray(1)]) : ad;
    const plain = open(aead, key, nonceOf(nonce, seq), body.subarray(at, end), pieceAd);
    if (!plain) throw refused();
    out.push(plain);
    at = end;
  }
  return Buffer.concat(out);
}
