// Server-side encryption as the object handlers use it: SSE-C today (a key per request from the client).
// PUT: the body is sealed in front of storage (packages.ts) and the sealed data key, object id and cipher
// are stored with the version; GET/HEAD: the request's key unseals the data key, and the range is read as
// whole packages and opened after storage's reader. Storage never sees a key or a plaintext byte.
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { aeadSealedLength, preferredCipher } from '@cairn/native';
import { S3Error } from '../../errors.js';
import type { ByteRange, ObjectBody, ObjectInfo, PutOptions, StoredEncryption } from '../../storage/object-layer.js';
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

/**
 * PutOptions and body for storing `body` sealed under a new data key that `ckey` seals. The caller's
 * verify() sees the plaintext's MD5, checksum and size; the ETag is the sealed data's MD5 (for SSE-C, S3's
 * ETag is not the plaintext's MD5, which would tell something about the plaintext).
 */
export function sealForPut(
  body: Readable,
  opts: PutOptions,
  ckey: CustomerKey,
  partNumber = 1,
): { body: Readable; opts: PutOptions } {
  const objectId = randomBytes(16);
  const dataKey = randomBytes(32);
  const cipher = preferredCipher();
  const encryption: StoredEncryption = {
    scheme: 'SSE-C',
    cipher,
    objectId,
    sealedKey: sealDataKey(ckey.key, dataKey, objectId),
    keyMd5: ckey.md5,
  };
  const keys: StreamKeys = { cipher, key: dataKey, identity: streamIdentity(objectId, partNumber) };
  const { sealed, digests } = sealBody(body, keys, opts.checksumAlgorithm);
  const verify = opts.verify;
  return {
    body: sealed,
    opts: {
      ...opts,
      size: opts.size >= 0 ? aeadSealedLength(opts.size) : -1,
      verify: verify && (() => verify(digests())),
      sealed: { encryption, digests: () => ({ checksum: digests().checksum }) },
    },
  };
}

/**
 * The keys to read `info`'s data with, from the request's SSE-C headers: none given for an encrypted object
 * is 400 (S3's InvalidRequest), a wrong key 403, a key for an object that is not encrypted 400.
 */
export function keysForRead(req: S3Request, settings: SseSettings, info: ObjectInfo): StreamKeys | undefined {
  const ckey = requestCustomerKey(req, settings);
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
  const dataKey = ckey.md5 === enc.keyMd5 ? unsealDataKey(ckey.key, enc.sealedKey, enc.objectId) : undefined;
  if (!dataKey) throw new S3Error('AccessDenied', 'The provided customer key does not match the object.');
  return { cipher: enc.cipher, key: dataKey, identity: streamIdentity(enc.objectId, 1) };
}

/** The plaintext of `range` of an encrypted single-part object: whole packages read, opened, cut. */
export async function readDecrypted(
  read: (range: ByteRange) => Promise<ObjectBody>,
  info: ObjectInfo,
  keys: StreamKeys,
  range: ByteRange | undefined,
): Promise<Readable> {
  if (info.parts && info.parts.length > 1) {
    throw new S3Error('NotImplemented', 'Reading encrypted multipart objects is not implemented.');
  }
  const span = sealedSpan(range, info.size);
  return openBody(await read(span.sealed), keys, span);
}

/** Refuses an operation that would read an encrypted object's data as it is stored (copy, select). */
export function refuseEncryptedSource(info: ObjectInfo, what: string): void {
  if (info.encryption) {
    throw new S3Error(
      'NotImplemented',
      `${what} of an object encrypted with ${info.encryption.scheme} is not implemented.`,
    );
  }
}
