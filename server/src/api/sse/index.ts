// Server-side encryption as the object handlers use it: SSE-C today (a key per request from the client).
// PUT: the body is sealed in front of storage (packages.ts) and the sealed data key, object id and cipher
// are stored with the version; GET/HEAD: the request's key unseals the data key, and the range is read as
// whole packages and opened after storage's reader. Storage never sees a key or a plaintext byte.
import { createHmac, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { aeadSealedLength, preferredCipher, type Cipher } from '@cairn/native';
import { S3Error } from '../../errors.js';
import type {
  ByteRange,
  MultipartUploadInfo,
  ObjectBody,
  ObjectInfo,
  PartInfo,
  PutOptions,
  StoredEncryption,
} from '../../storage/object-layer.js';
import type { S3Request } from '../types.js';
import { customerKey, type CustomerKey } from './customer-key.js';
import {
  openBody,
  sealBody,
  sealDataKey,
  sealedSpan,
  streamIdentity,
  unsealDataKey,
  type StreamKeys,
} from './packages.js';

export interface SseSettings {
  /** Accept SSE-C keys over plain HTTP from loopback clients (tests); otherwise TLS is required. */
  sseCOverLoopbackHttp?: boolean;
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/** The request's SSE-C key for the object (or a copy's source), checked as S3 checks it. */
export function requestCustomerKey(req: S3Request, settings: SseSettings, source = false): CustomerKey | undefined {
  const insecureOk = settings.sseCOverLoopbackHttp === true && LOOPBACK.test(req.sourceIp);
  return customerKey(req.headers, req.secure, insecureOk, source);
}

/** Response headers that say how an object is encrypted. */
export function encryptionHeaders(enc: StoredEncryption | undefined): Record<string, string> {
  if (!enc) return {};
  if (enc.scheme === 'SSE-C') {
    return {
      'x-amz-server-side-encryption-customer-algorithm': 'AES256',
      'x-amz-server-side-encryption-customer-key-md5': enc.keyMd5 ?? '',
    };
  }
  return {};
}

/** An object's data key, unsealed, with what its streams are bound to. */
export interface DataKey {
  cipher: Cipher;
  key: Buffer;
  objectId: Buffer;
}

/** A new object's (or multipart upload's) encryption under the customer key: a random data key sealed by it. */
export function newSseC(ckey: CustomerKey): { encryption: StoredEncryption; dataKey: DataKey } {
  const objectId = randomBytes(16);
  const key = randomBytes(32);
  const cipher = preferredCipher();
  const encryption: StoredEncryption = {
    scheme: 'SSE-C',
    cipher,
    objectId,
    sealedKey: sealDataKey(ckey.key, key, objectId),
    keyMd5: ckey.md5,
  };
  return { encryption, dataKey: { cipher, key, objectId } };
}

/** The data key `ckey` unseals; 403 when it is not the key the object was encrypted with. */
function unsealWith(ckey: CustomerKey, enc: StoredEncryption): DataKey {
  const key = ckey.md5 === enc.keyMd5 ? unsealDataKey(ckey.key, enc.sealedKey, enc.objectId) : undefined;
  if (!key) throw new S3Error('AccessDenied', 'The provided customer key does not match the object.');
  return { cipher: enc.cipher, key, objectId: enc.objectId };
}

/**
 * The keys of one sealed stream: a single PUT's data uses the data key itself (part 1); each part of a
 * multipart upload gets a key derived with a random salt, so a part uploaded twice never reuses a nonce.
 */
export function streamKeys(dk: DataKey, partNumber: number, salt?: Buffer): StreamKeys {
  const key = salt ? createHmac('sha256', dk.key).update('cairn part key v1').update(salt).digest() : dk.key;
  return { cipher: dk.cipher, key, identity: streamIdentity(dk.objectId, partNumber) };
}

/** `body` sealed with `keys`: the PutOptions storage needs (sealed size, plaintext digests to verify and keep). */
function sealed(
  body: Readable,
  opts: PutOptions,
  encryption: StoredEncryption,
  keys: StreamKeys,
  partSalt?: Buffer,
): { body: Readable; opts: PutOptions } {
  const { sealed: out, digests } = sealBody(body, keys, opts.checksumAlgorithm);
  const verify = opts.verify;
  return {
    body: out,
    opts: {
      ...opts,
      size: opts.size >= 0 ? aeadSealedLength(opts.size) : -1,
      verify: verify && (() => verify(digests())),
      sealed: { encryption, partSalt, digests: () => ({ checksum: digests().checksum }) },
    },
  };
}

/**
 * PutOptions and body for storing `body` sealed under a new data key that `ckey` seals. The caller's
 * verify() sees the plaintext's MD5, checksum and size; the ETag is the sealed data's MD5 (for SSE-C, S3's
 * ETag is not the plaintext's MD5, which would tell something about the plaintext).
 */
export function sealForPut(body: Readable, opts: PutOptions, ckey: CustomerKey): { body: Readable; opts: PutOptions } {
  const { encryption, dataKey } = newSseC(ckey);
  return sealed(body, opts, encryption, streamKeys(dataKey, 1));
}

/**
 * A part of `upload` as storage takes it: sealed when the upload is encrypted (its key needed: none 400,
 * another 403), as it is otherwise (a key for an upload that is not encrypted: 400).
 */
export function sealPart(
  body: Readable,
  opts: PutOptions,
  ckey: CustomerKey | undefined,
  upload: MultipartUploadInfo,
  partNumber: number,
): { body: Readable; opts: PutOptions } {
  const enc = upload.encryption;
  if (!enc) {
    if (ckey) throw new S3Error('InvalidRequest', 'The encryption parameters are not applicable to this upload.');
    return { body, opts };
  }
  if (!ckey) {
    throw new S3Error(
      'InvalidRequest',
      'The multipart upload was initiated with Server Side Encryption with Customer provided keys: the part needs the same key.',
    );
  }
  const salt = randomBytes(16);
  return sealed(body, opts, enc, streamKeys(unsealWith(ckey, enc), partNumber, salt), salt);
}

/**
 * The data key to read `info` with, from the request's SSE-C headers (a copy's source headers with
 * `source`): none given for an encrypted object is 400 (S3's InvalidRequest), a wrong key 403, a key for an
 * object that is not encrypted 400.
 */
export function keysForRead(
  req: S3Request,
  settings: SseSettings,
  info: ObjectInfo,
  source = false,
): DataKey | undefined {
  const ckey = requestCustomerKey(req, settings, source);
  const enc = info.encryption;
  if (!enc) {
    if (ckey) throw new S3Error('InvalidRequest', 'The encryption parameters are not applicable to this object.');
    return undefined;
  }
  if (enc.scheme !== 'SSE-C') {
    throw new S3Error('NotImplemented', `Reading objects encrypted with ${enc.scheme} is not implemented.`);
  }
  if (!ckey) {
    throw new S3Error(
      'InvalidRequest',
      'The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.',
    );
  }
  return unsealWith(ckey, enc);
}

/**
 * The plaintext of `range` of an encrypted object: for each (part's) sealed stream the range touches, the
 * packages covering it are read, opened and cut. The first stream is opened before this resolves.
 */
export async function readDecrypted(
  read: (range: ByteRange) => Promise<ObjectBody>,
  info: ObjectInfo,
  dk: DataKey,
  range: ByteRange | undefined,
): Promise<Readable> {
  const parts: Pick<PartInfo, 'number' | 'size' | 'sealSalt'>[] = info.parts ?? [{ number: 1, size: info.size }];
  const start = range?.start ?? 0;
  const end = range ? range.end : info.size - 1;
  const pieces: (() => Promise<Readable>)[] = [];
  let plainAt = 0;
  let sealedAt = 0;
  for (const p of parts) {
    const partEnd = plainAt + p.size; // exclusive
    const touched = (partEnd > start && plainAt <= end) || (info.size === 0 && pieces.length === 0);
    if (touched) {
      const local = { start: Math.max(start - plainAt, 0), end: Math.min(end, partEnd - 1) - plainAt };
      const span = sealedSpan(p.size === 0 ? undefined : local, p.size);
      const at = sealedAt;
      const keys = streamKeys(dk, p.number, p.sealSalt);
      pieces.push(async () =>
        openBody(await read({ start: at + span.sealed.start, end: at + span.sealed.end }), keys, span),
      );
    }
    plainAt = partEnd;
    sealedAt += aeadSealedLength(p.size);
  }
  if (pieces.length === 1) return pieces[0]();
  const first = await pieces[0]();
  async function* all(): AsyncGenerator<Buffer> {
    yield* first as AsyncIterable<Buffer>;
    for (const next of pieces.slice(1)) yield* (await next()) as AsyncIterable<Buffer>;
  }
  const body = Readable.from(all(), { objectMode: false, highWaterMark: 1 });
  body.once('close', () => first.destroy());
  return body;
}
