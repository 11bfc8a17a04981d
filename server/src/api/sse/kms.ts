// The KMS that seals SSE-S3 data keys. One backend today: a static key from the environment for
// development and tests (CAIRN_KMS_SECRET_KEY=name:base64key, as MinIO's MINIO_KMS_SECRET_KEY): data keys
// are random and sealed by it with AES-256-GCM, bound to the object's id. An external KMS (Vault/OpenBao
// transit) implements the same interface.
import { randomBytes } from 'node:crypto';
import { S3Error } from '../../errors.js';
import { sealDataKey, unsealDataKey } from './packages.js';

export interface Kms {
  /** The key new objects are sealed with. */
  readonly defaultKeyId: string;
  /** Its keys can be rotated and data keys re-wrapped (rewrapKey); false: rewrapKey is NotImplemented. */
  readonly rotates: boolean;
  /** A new data key bound to `context`: its plaintext, and as the KMS sealed it (what is stored). */
  generateKey(keyId: string, context: Buffer): Promise<{ plaintext: Buffer; sealed: Buffer }>;
  /** The plaintext of a data key this KMS sealed for `context`. */
  decryptKey(keyId: string, sealed: Buffer, context: Buffer): Promise<Buffer>;
  /** What the KMS is and whether it answers (the admin API's kms status). */
  status(): Promise<KmsStatus>;
  /** Makes key `keyId` (KMS.AlreadyExistsException when it exists; NotImplemented where keys cannot be made). */
  createKey(keyId: string): Promise<void>;
  /**
   * The data key `sealed` (bound to `context`) sealed again under the newest version of its KMS key, after the
   * key was rotated; undefined when the newest version sealed it already. The data key stays the same, so the
   * object's data is not touched. NotImplemented for a KMS whose keys cannot rotate.
   */
  rewrapKey(keyId: string, sealed: Buffer, context: Buffer): Promise<Buffer | undefined>;
}

/** madmin.KMSStatus: the KMS's kind, its default key, and each endpoint online or offline. */
export interface KmsStatus {
  name: string;
  'default-key-id': string;
  endpoints: Record<string, { state: 'online' | 'offline' }>;
}

/** The answer of a KMS whose keys cannot rotate (the static key): said, never silently skipped. */
export function cannotRotate(): S3Error {
  return new S3Error(
    'NotImplemented',
    'The static KMS key (CAIRN_KMS_SECRET_KEY) cannot be rotated: re-encrypt by copying the objects under a ' +
      'Vault/OpenBao transit key (CAIRN_KMS_VAULT_*) instead.',
  );
}

/** A KMS of one key held in memory: `name:base64` of 32 bytes. Throws on a malformed value. */
export function staticKms(spec: string): Kms {
  const colon = spec.indexOf(':');
  const name = colon > 0 ? spec.slice(0, colon) : '';
  const key = Buffer.from(spec.slice(colon + 1), 'base64');
  if (!name || key.length !== 32 || key.toString('base64') !== spec.slice(colon + 1).trim()) {
    throw new Error(
      'CAIRN_KMS_SECRET_KEY must be NAME:BASE64 of a 32-byte key (e.g. my-key:$(openssl rand -base64 32))',
    );
  }
  const known = (keyId: string) => {
    if (keyId !== name) throw new S3Error('KMS.NotFoundException', `Key '${keyId}' does not exist.`);
  };
  return {
    defaultKeyId: name,
    rotates: false,
    async generateKey(keyId, context) {
      known(keyId);
      const plaintext = randomBytes(32);
      return { plaintext, sealed: sealDataKey(key, plaintext, context) };
    },
    async decryptKey(keyId, sealed, context) {
      known(keyId);
      const plaintext = unsealDataKey(key, sealed, context);
      if (!plaintext) throw new S3Error('XMinioObjectTampered', "The KMS could not unseal the object's key.");
      return plaintext;
    },
    async status() {
      return { name: 'Builtin', 'default-key-id': name, endpoints: {} };
    },
    async createKey(keyId) {
      // As MinIO's builtin KMS: its one key exists; it makes no others.
      if (keyId === name) throw new S3Error('KMS.AlreadyExistsException', `Key '${keyId}' already exists.`);
      throw new S3Error('NotImplemented', 'The static KMS key (CAIRN_KMS_SECRET_KEY) cannot make other keys.');
    },
    async rewrapKey(keyId) {
      known(keyId);
      throw cannotRotate();
    },
  };
}
