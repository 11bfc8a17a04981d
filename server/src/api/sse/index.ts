// Server-side encryption as the object handlers use it: SSE-C (a key per request from the client) and
// SSE-S3 and SSE-KMS (data keys made and sealed by the KMS, kms.ts / vault-kms.ts; by header, bucket default
// or CAIRN_KMS_AUTO_ENCRYPTION; SSE-KMS names the key and may add an encryption context).
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
  ReadOptions,
  RecyclingBody,
  StoredEncryption,
} from '../../storage/object-layer.js';
import type { DefaultEncryption } from '../bucket-settings.js';
import type { S3Request } from '../types.js';
import { customerKey, withCustomerKey, type CustomerKey } from './customer-key.js';
import type { Kms } from './kms.js';
import {
  Lender,
  openBody,
  readWhole,
  sealBody,
  sealDataKey,
  sealedSpan,
  streamIdentity,
  unsealDataKey,
  type SealTools,
  type StreamKeys,
} from './packages.js';

export interface SseSettings extends SealTools {
  /** Accept SSE-C keys over plain HTTP from loopback clients (tests); otherwise TLS is required. */
  sseCOverLoopbackHttp?: boolean;
  /** The KMS sealing SSE-S3/SSE-KMS data keys (CAIRN_KMS_SECRET_KEY or CAIRN_KMS_VAULT_*); both refused without. */
  kms?: Kms;
  /** CAIRN_KMS_AUTO_ENCRYPTION=on: every new object without SSE-C is stored SSE-S3. */
  autoEncryption?: boolean;
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
  if (enc.scheme === 'SSE-KMS') {
    return {
      'x-amz-server-side-encryption': 'aws:kms',
      'x-amz-server-side-encryption-aws-kms-key-id': enc.kmsKeyId ?? '',
    };
  }
  return { 'x-amz-server-side-encryption': 'AES256' };
}

/** The encryption context header of a write's answer (PutObject, CopyObject, CreateMultipartUpload), as S3's. */
export function encryptionContextHeader(enc: StoredEncryption | undefined): Record<string, string> {
  if (!enc?.kmsContext) return {};
  return { 'x-amz-server-side-encryption-context': Buffer.from(enc.kmsContext).toString('base64') };
}

/** What a write asks for: the customer's key, SSE-S3, or SSE-KMS (by header, bucket default, auto-encryption). */
export type WriteEncryption =
  | { scheme: 'SSE-C'; ckey: CustomerKey }
  | { scheme: 'SSE-S3' }
  | { scheme: 'SSE-KMS'; keyId?: string; context?: string };

function header(req: S3Request, name: string): string | undefined {
  const raw = req.headers[name];
  return Array.isArray(raw) ? raw.join(',') : raw;
}

/** The largest encryption context accepted (AWS KMS allows 8 KiB). */
const MAX_CONTEXT = 8192;

/**
 * x-amz-server-side-encryption-context: base64 of a JSON object of strings. Returned as canonical JSON (keys
 * sorted), the form bound to the data key and given back.
 */
function encryptionContext(value: string): string {
  const json = Buffer.from(value, 'base64').toString('utf8');
  let parsed: unknown;
  try {
    parsed = value.length <= (MAX_CONTEXT * 4) / 3 + 4 ? JSON.parse(json) : undefined;
  } catch {
    parsed = undefined;
  }
  const entries = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? Object.entries(parsed) : [];
  if (!parsed || entries.some(([, v]) => typeof v !== 'string') || json.length > MAX_CONTEXT) {
    throw new S3Error('InvalidArgument', 'The encryption context must be base64 of a JSON object of strings.', {
      ArgumentName: 'x-amz-server-side-encryption-context',
    });
  }
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(Object.fromEntries(entries));
}

/** SSE-KMS's own headers, only with `x-amz-server-side-encryption: aws:kms` (S3 answers 400 otherwise). */
function kmsRequest(req: S3Request, sse: string | undefined): { keyId?: string; context?: string } {
  const keyId = header(req, 'x-amz-server-side-encryption-aws-kms-key-id');
  const context = header(req, 'x-amz-server-side-encryption-context');
  if (sse !== 'aws:kms' && (keyId !== undefined || context !== undefined)) {
    throw new S3Error(
      'InvalidArgument',
      'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms',
      { ArgumentName: 'x-amz-server-side-encryption' },
    );
  }
  return { keyId: keyId || undefined, context: context === undefined ? undefined : encryptionContext(context) };
}

/**
 * The encryption of a new object: SSE-C headers, else `x-amz-server-side-encryption` (AES256 or aws:kms with
 * an optional key id and context), else the bucket's default encryption or server-wide auto-encryption.
 * Without a KMS, SSE-S3 and SSE-KMS are refused (NotImplemented).
 */
export function writeEncryption(
  req: S3Request,
  settings: SseSettings,
  bucketDefault: DefaultEncryption | undefined,
): WriteEncryption | undefined {
  const ckey = requestCustomerKey(req, settings);
  const sse = header(req, 'x-amz-server-side-encryption');
  const kmsAsk = kmsRequest(req, sse);
  if (ckey && sse !== undefined) {
    throw new S3Error(
      'InvalidArgument',
      'Server Side Encryption with Customer provided key is incompatible with the encryption method specified',
      { ArgumentName: 'x-amz-server-side-encryption' },
    );
  }
  if (ckey) return { scheme: 'SSE-C', ckey };
  if (sse !== undefined) {
    if (sse === 'AES256') return { scheme: 'SSE-S3' };
    if (sse === 'aws:kms:dsse') throw new S3Error('NotImplemented', 'Dual-layer SSE-KMS is not implemented.');
    if (sse === 'aws:kms') {
      kmsOf(settings);
      return { scheme: 'SSE-KMS', ...kmsAsk };
    }
    throw new S3Error('InvalidArgument', 'The encryption method specified is not supported', {
      ArgumentName: 'x-amz-server-side-encryption',
      ArgumentValue: sse,
    });
  }
  if (bucketDefault?.algorithm === 'aws:kms') return { scheme: 'SSE-KMS', keyId: bucketDefault.keyId };
  return bucketDefault?.algorithm === 'AES256' || settings.autoEncryption ? { scheme: 'SSE-S3' } : undefined;
}

/**
 * What a copy compares to tell whether its encryption changes (a change rewrites the data): the write's ask
 * `we` (a KMS key left unnamed is the KMS's default) against the source's stored `enc`.
 */
export function encryptionChanges(
  we: WriteEncryption | undefined,
  enc: StoredEncryption | undefined,
  settings: SseSettings,
): boolean {
  const was = enc && `${enc.scheme}:${enc.keyMd5 ?? ''}:${enc.kmsKeyId ?? ''}:${enc.kmsContext ?? ''}`;
  if (!we) return was !== undefined;
  if (we.scheme === 'SSE-C') return was !== `SSE-C:${we.ckey.md5}::`;
  if (we.scheme === 'SSE-S3') return enc?.scheme !== 'SSE-S3';
  const keyId = we.keyId ?? settings.kms?.defaultKeyId ?? '';
  return was !== `SSE-KMS::${keyId}:${we.context ?? ''}`;
}

function kmsOf(settings: SseSettings): Kms {
  if (!settings.kms) {
    throw new S3Error(
      'NotImplemented',
      'Server side encryption specified but KMS is not configured (CAIRN_KMS_SECRET_KEY or CAIRN_KMS_VAULT_*).',
    );
  }
  return settings.kms;
}

/**
 * Overwrites a data key once its holder is done with it (the PUT stored, the GET's body closed), so the
 * plaintext key does not linger in the heap until the GC reuses its memory. Every DataKey here is its
 * holder's own (the KMS cache hands out copies).
 */
export function wipeKey(dk: DataKey | undefined): void {
  dk?.key.fill(0);
}

/** An object's data key, unsealed, with what its streams are bound to. */
export interface DataKey {
  cipher: Cipher;
  key: Buffer;
  objectId: Buffer;
}

export interface NewEncryption {
  encryption: StoredEncryption;
  dataKey: DataKey;
}

/** A new object's (or multipart upload's) encryption under the customer key: a random data key sealed by it. */
export function newSseC(ckey: CustomerKey): NewEncryption {
  const objectId = randomBytes(16);
  const key = randomBytes(32);
  const cipher = preferredCipher();
  const encryption: StoredEncryption = {
    scheme: 'SSE-C',
    cipher,
    objectId,
    sealedKey: withCustomerKey(ckey, (k) => sealDataKey(k, key, objectId)),
    keyMd5: ckey.md5,
  };
  return { encryption, dataKey: { cipher, key, objectId } };
}

/**
 * What the KMS binds a data key to: SSE-S3 the object id (as first stored); SSE-KMS the object id and the
 * encryption context, so neither can be changed on the drives without the key failing to open.
 */
export function kmsBinding(enc: Pick<StoredEncryption, 'scheme' | 'objectId' | 'kmsContext'>): Buffer {
  if (enc.scheme !== 'SSE-KMS') return enc.objectId;
  return Buffer.concat([Buffer.from('cairn sse-kms v1:'), enc.objectId, Buffer.from(enc.kmsContext ?? '')]);
}

/** A new object's encryption as `we` asks: SSE-C under the customer key, SSE-S3/SSE-KMS a KMS data key. */
export async function newEncryption(settings: SseSettings, we: WriteEncryption): Promise<NewEncryption> {
  if (we.scheme === 'SSE-C') return newSseC(we.ckey);
  const kms = kmsOf(settings);
  const objectId = randomBytes(16);
  const cipher = preferredCipher();
  const keyId = (we.scheme === 'SSE-KMS' && we.keyId) || kms.defaultKeyId;
  const kmsContext = we.scheme === 'SSE-KMS' ? we.context : undefined;
  const bound = { scheme: we.scheme, objectId, kmsContext };
  const { plaintext, sealed: sealedKey } = await kms.generateKey(keyId, kmsBinding(bound));
  const encryption: StoredEncryption = { scheme: we.scheme, cipher, objectId, sealedKey, kmsKeyId: keyId };
  if (kmsContext !== undefined) encryption.kmsContext = kmsContext;
  return { encryption, dataKey: { cipher, key: plaintext, objectId } };
}

/**
 * The data key of `enc`: SSE-C unsealed by the request's key (none: 400 `missing`, another: 403), SSE-S3 and
 * SSE-KMS by the KMS (an SSE-C key given for it: 400; the KMS failing: its error, plain objects unaffected).
 */
async function dataKeyOf(
  settings: SseSettings,
  enc: StoredEncryption,
  ckey: CustomerKey | undefined,
  missing: string,
): Promise<DataKey> {
  if (enc.scheme === 'SSE-C') {
    if (!ckey) throw new S3Error('InvalidRequest', missing);
    const key =
      ckey.md5 === enc.keyMd5 ? withCustomerKey(ckey, (k) => unsealDataKey(k, enc.sealedKey, enc.objectId)) : undefined;
    if (!key) throw new S3Error('AccessDenied', 'The provided customer key does not match the object.');
    return { cipher: enc.cipher, key, objectId: enc.objectId };
  }
  if (ckey) throw new S3Error('InvalidRequest', 'The encryption parameters are not applicable to this object.');
  const key = await kmsOf(settings).decryptKey(enc.kmsKeyId ?? '', enc.sealedKey, kmsBinding(enc));
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

/**
 * The ETag of sealed data with plaintext MD5 `md5` under the object's data key `dk`: SSE-S3's is that MD5 (as
 * S3's); SSE-C's and SSE-KMS's a keyed hash of it (S3's are not the MD5 of the data, which would tell
 * something about the plaintext), the same for the same data under the same key (a part sent twice).
 */
function sealedEtag(scheme: StoredEncryption['scheme'], dk: DataKey, md5: Buffer): string {
  if (scheme === 'SSE-S3') return md5.toString('hex');
  return createHmac('sha256', dk.key).update('cairn etag v1').update(md5).digest().subarray(0, 16).toString('hex');
}

/** `body` sealed with `keys`: the PutOptions storage needs (sealed size, plaintext digests to verify and keep). */
function sealed(
  body: Readable,
  opts: PutOptions,
  encryption: StoredEncryption,
  dk: DataKey,
  keys: StreamKeys,
  tools: SealTools,
  partSalt?: Buffer,
): { body: Readable; opts: PutOptions } {
  const { sealed: out, digests } = sealBody(body, keys, opts.checksumAlgorithm, tools);
  const verify = opts.verify;
  return {
    body: out,
    opts: {
      ...opts,
      size: opts.size >= 0 ? aeadSealedLength(opts.size) : -1,
      verify: verify && (() => verify(digests())),
      sealed: {
        encryption,
        partSalt,
        digests: () => {
          const d = digests();
          return { checksum: d.checksum, etag: sealedEtag(encryption.scheme, dk, d.md5) };
        },
      },
    },
  };
}

/** PutOptions and body for storing `body` sealed under a new object's data key (the caller's verify() sees
 * the plaintext's MD5, checksum and size). */
export function sealForPut(
  body: Readable,
  opts: PutOptions,
  created: NewEncryption,
  tools: SealTools = {},
): { body: Readable; opts: PutOptions } {
  return sealed(body, opts, created.encryption, created.dataKey, streamKeys(created.dataKey, 1), tools);
}

/**
 * A part of `upload` as storage takes it: sealed when the upload is encrypted (SSE-C: its key needed, none
 * or another 400), as it is otherwise (a key for an upload that is not encrypted: 400).
 */
export async function sealPart(
  settings: SseSettings,
  body: Readable,
  opts: PutOptions,
  ckey: CustomerKey | undefined,
  upload: MultipartUploadInfo,
  partNumber: number,
): Promise<{ body: Readable; opts: PutOptions; wipe: () => void }> {
  const enc = upload.encryption;
  if (!enc) {
    if (ckey) throw new S3Error('InvalidRequest', 'The encryption parameters are not applicable to this upload.');
    return { body, opts, wipe: () => {} };
  }
  if (ckey && enc.scheme === 'SSE-C') checkUploadKey(ckey, upload);
  const dk = await dataKeyOf(settings, enc, ckey, UPLOAD_KEY_MISSING);
  const salt = randomBytes(16);
  const keys = streamKeys(dk, partNumber, salt);
  const wipe = () => {
    keys.key.fill(0);
    wipeKey(dk);
  };
  return { ...sealed(body, opts, enc, dk, keys, settings, salt), wipe };
}

const UPLOAD_KEY_MISSING =
  'The multipart upload was initiated with Server Side Encryption with Customer provided keys: the request needs the same key.';

/**
 * The SSE-C headers of CompleteMultipartUpload (`upload` undefined: it is gone, a retried Complete): when given
 * they must be the upload's key (another: 400, as on the parts; one whose MD5 matches but that does not open the
 * data key: 403). AWS requires them when the upload was created with a checksum algorithm (missing: 400).
 */
export async function checkCompleteKey(
  settings: SseSettings,
  ckey: CustomerKey | undefined,
  upload: MultipartUploadInfo | undefined,
): Promise<void> {
  const enc = upload?.encryption;
  if (!upload || (!ckey && (enc?.scheme !== 'SSE-C' || !upload.checksumAlgorithm))) return;
  if (ckey) checkUploadKey(ckey, upload);
  wipeKey(await dataKeyOf(settings, enc!, ckey, UPLOAD_KEY_MISSING));
}

/**
 * SSE-S3/SSE-KMS headers on UploadPart (clients that repeat the upload's on every part): accepted when they
 * say what the upload is, 400 otherwise (a part is always sealed as its upload).
 */
export function checkPartEncryption(req: S3Request, upload: MultipartUploadInfo): void {
  const sse = header(req, 'x-amz-server-side-encryption');
  const keyId = header(req, 'x-amz-server-side-encryption-aws-kms-key-id');
  if (sse === undefined && keyId === undefined) return;
  const enc = upload.encryption;
  const scheme = sse === 'AES256' ? 'SSE-S3' : sse === 'aws:kms' ? 'SSE-KMS' : undefined;
  if (!enc || enc.scheme !== scheme || (keyId !== undefined && keyId !== enc.kmsKeyId)) {
    throw new S3Error('InvalidArgument', 'The encryption parameters do not match those of the multipart upload.', {
      ArgumentName: 'x-amz-server-side-encryption',
    });
  }
}

/**
 * An SSE-C key given for an upload (UploadPart, UploadPartCopy's destination, CompleteMultipartUpload) must be
 * the upload's: another is 400 InvalidRequest, as S3 answers on these writes (a read with another key is 403).
 */
export function checkUploadKey(ckey: CustomerKey, upload: MultipartUploadInfo): void {
  const enc = upload.encryption;
  if (enc?.scheme !== 'SSE-C') {
    throw new S3Error('InvalidRequest', 'The encryption parameters are not applicable to this upload.');
  }
  if (ckey.md5 !== enc.keyMd5)
    throw new S3Error('InvalidRequest', 'The provided encryption parameters did not match the ones used originally.');
}

/**
 * The data key to read `info` with: SSE-C from the request's headers (a copy's source headers with
 * `source`; none given is 400, S3's InvalidRequest, a wrong key 403), SSE-S3 from the KMS; a key for an
 * object that is not encrypted is 400.
 */
export async function keysForRead(
  req: S3Request,
  settings: SseSettings,
  info: ObjectInfo,
  source = false,
): Promise<DataKey | undefined> {
  const ckey = requestCustomerKey(req, settings, source);
  const enc = info.encryption;
  if (!enc) {
    if (ckey) throw new S3Error('InvalidRequest', 'The encryption parameters are not applicable to this object.');
    return undefined;
  }
  const missing =
    'The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.';
  return dataKeyOf(settings, enc, ckey, missing);
}

/**
 * The plaintext of `range` of an encrypted object: for each (part's) sealed stream the range touches, the
 * packages covering it are read, opened and cut. The first stream is opened before this resolves. The sealed
 * bytes are read without storage's bitrot check (ReadOptions.unverified: each package's AEAD tag
 * authenticates them, and the check's hash pass was ~10% of an SSE GET's CPU); a batch whose tag fails is
 * read again with the check (openBody's `reread`), which reads around a bad shard and queues its heal. They
 * are read as chunks this GET may write into where storage can give them (ReadOptions.mutable): those are
 * opened in place, without a copy of each package (openBody).
 */
export async function readDecrypted(
  read: (range: ByteRange, opts?: ReadOptions) => Promise<ObjectBody>,
  info: ObjectInfo,
  dk: DataKey,
  range: ByteRange | undefined,
  tools: SealTools = {},
): Promise<Readable & RecyclingBody> {
  const lender = new Lender(tools.buffers);
  const parts: Pick<PartInfo, 'number' | 'size' | 'sealSalt'>[] = info.parts ?? [{ number: 1, size: info.size }];
  const start = range?.start ?? 0;
  const end = range ? range.end : info.size - 1;
  const pieces: (() => Promise<Readable>)[] = [];
  const derived: Buffer[] = []; // parts' keys made from the data key: wiped with it, when the body closes
  const wipeDerived = () => {
    for (const k of derived) k.fill(0);
  };
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
      if (keys.key !== dk.key) derived.push(keys.key);
      const reread = async (a: number, z: number) => readWhole(await read({ start: at + a, end: at + z }));
      pieces.push(async () =>
        openBody(
          await read({ start: at + span.sealed.start, end: at + span.sealed.end }, { unverified: true, mutable: true }),
          keys,
          span,
          lender,
          reread,
        ),
      );
    }
    plainAt = partEnd;
    sealedAt += aeadSealedLength(p.size);
  }
  const first = await pieces[0]().catch((e) => {
    wipeDerived();
    throw e;
  });
  // Send-body gives the plaintext chunks back as the socket is done with them (RecyclingBody).
  if (pieces.length === 1) return Object.assign(first.once('close', wipeDerived), { recycle: lender.recycle });
  async function* all(): AsyncGenerator<Buffer> {
    yield* first as AsyncIterable<Buffer>;
    for (const next of pieces.slice(1)) yield* (await next()) as AsyncIterable<Buffer>;
  }
  const body = Readable.from(all(), { objectMode: false, highWaterMark: 1 });
  body.once('close', () => {
    first.destroy();
    wipeDerived();
  });
  return Object.assign(body, { recycle: lender.recycle });
}
