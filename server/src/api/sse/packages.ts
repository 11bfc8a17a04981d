// The sealing stage in front of storage's PUT and the opening stage after its GET reader: plaintext <->
// native AEAD packages (64 KiB + 16-byte tag; native/src/aead.rs), about 1 MiB per pool call. Storage only
// ever sees sealed bytes; ranges are widened to whole packages on the way in and cut back on the way out.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AEAD_PACKAGE_SIZE as PACKAGE,
  AEAD_SEALED_PACKAGE as SEALED,
  aeadOpenAsync,
  aeadSealAsync,
  aeadSealedLength,
  Hasher,
  type Cipher,
} from '@cairn/native';
import { S3Error } from '../../errors.js';
import type { ByteRange, ChecksumAlgorithm, ObjectBody } from '../../storage/object-layer.js';

/** Packages per native call: 1 MiB of plaintext, storage's block size. */
const BATCH = 16;

/** One sealed stream: its data key, cipher and identity (object id + part number). */
export interface StreamKeys {
  cipher: Cipher;
  key: Buffer;
  identity: Buffer;
}

export function streamIdentity(objectId: Buffer, partNumber: number): Buffer {
  const id = Buffer.alloc(objectId.length + 4);
  objectId.copy(id);
  id.writeUInt32BE(partNumber, objectId.length);
  return id;
}

const KEY_SEAL_AAD = 'cairn data key v1:';

/** The data key sealed by a key-encryption key (customer key or KMS key): iv || ciphertext || tag. */
export function sealDataKey(kek: Buffer, dataKey: Buffer, objectId: Buffer): Buffer {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', kek, iv);
  c.setAAD(Buffer.concat([Buffer.from(KEY_SEAL_AAD), objectId]));
  return Buffer.concat([iv, c.update(dataKey), c.final(), c.getAuthTag()]);
}

/** The data key, or undefined when `kek` is not the key that sealed it. */
export function unsealDataKey(kek: Buffer, sealed: Buffer, objectId: Buffer): Buffer | undefined {
  if (sealed.length !== 12 + 32 + 16) return undefined;
  try {
    const d = createDecipheriv('aes-256-gcm', kek, sealed.subarray(0, 12));
    d.setAAD(Buffer.concat([Buffer.from(KEY_SEAL_AAD), objectId]));
    d.setAuthTag(sealed.subarray(44));
    return Buffer.concat([d.update(sealed.subarray(12, 44)), d.final()]);
  } catch {
    return undefined;
  }
}

export interface PlainDigests {
  md5: Buffer;
  checksum?: Buffer;
  size: number;
}

/**
 * `body` sealed as one stream. The plaintext's MD5 (the ETag, Content-MD5) and checksum are computed on the
 * way, on the pool beside the sealing; `digests()` is complete once the sealed stream has ended.
 */
export function sealBody(
  body: Readable,
  keys: StreamKeys,
  checksumAlgorithm: ChecksumAlgorithm | undefined,
): { sealed: Readable; digests(): PlainDigests } {
  const md5 = new Hasher('MD5');
  const checksum = checksumAlgorithm ? new Hasher(checksumAlgorithm) : undefined;
  let size = 0;
  let seq = 0;
  const seal = async (plain: Buffer, last: boolean): Promise<Buffer> => {
    const out = Buffer.allocUnsafe(aeadSealedLength(plain.length));
    const [n] = await Promise.all([
      aeadSealAsync(keys.cipher, keys.key, keys.identity, seq, plain, last, out),
      md5.updateAsync(plain),
      checksum?.updateAsync(plain),
    ]);
    seq += Math.max(1, Math.ceil(plain.length / PACKAGE));
    return out.subarray(0, n);
  };
  async function* packages(): AsyncGenerator<Buffer> {
    const batch = BATCH * PACKAGE;
    let held = Buffer.allocUnsafe(batch);
    let have = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      let at = 0;
      while (at < chunk.length) {
        // A full batch is sealed once more bytes follow: the last one must carry the final flag.
        if (have === batch) {
          yield await seal(held, false);
          held = Buffer.allocUnsafe(batch);
          have = 0;
        }
        const n = chunk.copy(held, have, at);
        have += n;
        at += n;
      }
    }
    yield await seal(held.subarray(0, have), true);
  }
  return {
    sealed: Readable.from(packages(), { objectMode: false, highWaterMark: 1 }),
    digests: () => ({ md5: md5.digest(), checksum: checksum?.digest(), size }),
  };
}

/** What to read of a sealed stream for a plaintext range, and how to cut the opened bytes back. */
export interface SealedSpan {
  /** The range of sealed bytes holding the packages that cover the plaintext range. */
  sealed: ByteRange;
  firstSeq: number;
  /** The span ends with the stream's final package. */
  endsStream: boolean;
  /** Plaintext bytes to drop before the range starts, and the range's length. */
  skip: number;
  length: number;
}

/** The packages covering `range` (inclusive) of a stream of `plainSize` plaintext bytes. */
export function sealedSpan(range: ByteRange | undefined, plainSize: number): SealedSpan {
  const start = range?.start ?? 0;
  const end = range ? range.end : plainSize - 1; // -1 for an empty stream
  const lastSeq = Math.max(0, Math.ceil(plainSize / PACKAGE) - 1);
  const firstSeq = Math.floor(start / PACKAGE);
  const endSeq = end < 0 ? 0 : Math.floor(end / PACKAGE);
  const sealedEnd = Math.min((endSeq + 1) * SEALED, aeadSealedLength(plainSize)) - 1;
  return {
    sealed: { start: firstSeq * SEALED, end: sealedEnd },
    firstSeq,
    endsStream: endSeq === lastSeq,
    skip: start - firstSeq * PACKAGE,
    length: Math.max(0, end - start + 1),
  };
}

/**
 * The plaintext of `span` from the sealed bytes `sealed` (storage's GET body of span.sealed). The first
 * batch is opened before this resolves, so data that fails authentication is an S3 error, not a cut
 * response. Storage's pooled chunks are given back as soon as they are copied out.
 */
export async function openBody(sealed: ObjectBody, keys: StreamKeys, span: SealedSpan): Promise<Readable> {
  let seq = span.firstSeq;
  let skip = span.skip;
  let left = span.length;
  const open = async (batch: Buffer, ends: boolean): Promise<Buffer> => {
    const out = Buffer.allocUnsafe(batch.length);
    let n: number;
    try {
      n = await aeadOpenAsync(keys.cipher, keys.key, keys.identity, seq, batch, ends, out);
    } catch {
      throw new S3Error('XMinioObjectTampered');
    }
    seq += Math.ceil(batch.length / SEALED);
    let plain = out.subarray(0, n);
    if (skip > 0) {
      plain = plain.subarray(Math.min(skip, plain.length));
      skip = Math.max(0, skip - n);
    }
    plain = plain.subarray(0, Math.min(left, plain.length));
    left -= plain.length;
    return plain;
  };
  async function* plaintext(): AsyncGenerator<Buffer> {
    const batch = BATCH * SEALED;
    let held = Buffer.allocUnsafe(batch);
    let have = 0;
    for await (const chunk of sealed as AsyncIterable<Buffer>) {
      let at = 0;
      while (at < chunk.length) {
        // A full batch is opened once more bytes follow: the span's last one may end the stream.
        if (have === batch) {
          const plain = await open(held, false);
          held = Buffer.allocUnsafe(batch);
          have = 0;
          if (plain.length > 0) yield plain;
        }
        const n = chunk.copy(held, have, at);
        have += n;
        at += n;
      }
      sealed.recycle?.(chunk);
    }
    const plain = await open(held.subarray(0, have), span.endsStream);
    if (plain.length > 0) yield plain;
    if (left !== 0) throw new S3Error('XMinioObjectTampered');
  }
  const it = plaintext();
  const first = await it.next();
  async function* rest(): AsyncGenerator<Buffer> {
    if (first.done) return;
    yield first.value;
    yield* it;
  }
  const body = Readable.from(rest(), { objectMode: false, highWaterMark: 1 });
  body.once('close', () => {
    void it.return(undefined).catch(() => {});
    sealed.destroy();
  });
  return body;
}
