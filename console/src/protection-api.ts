// A bucket's protections over S3's subresources: default encryption (?encryption: SSE-S3 or SSE-KMS with a key
// id) and object lock (?object-lock: on only for buckets created with it; a default retention of some days or
// years in GOVERNANCE or COMPLIANCE mode). PUTs carry the checksum S3 wants for them.
import { ApiError, call, checksumHeader } from './client.js';
import { buildXml, parseXml, text, type XmlTree } from './xml.js';

export interface DefaultEncryption {
  /** 'AES256' (SSE-S3) or 'aws:kms' (SSE-KMS). */
  algorithm: string;
  /** The KMS key SSE-KMS uses; '' for the KMS's default key. */
  keyId: string;
}

/** The bucket's default encryption, or null when it has none. */
export async function getEncryption(bucket: string): Promise<DefaultEncryption | null> {
  try {
    const doc = parseXml(await (await call({ bucket, query: [['encryption', '']] })).text());
    return { algorithm: text(doc, 'SSEAlgorithm'), keyId: text(doc, 'KMSMasterKeyID') };
  } catch (e) {
    if (e instanceof ApiError && e.code === 'ServerSideEncryptionConfigurationNotFoundError') return null;
    throw e;
  }
}

/** Sets the default encryption; undefined removes it (new objects are then stored as they are sent). */
export async function putEncryption(bucket: string, value: DefaultEncryption | undefined): Promise<void> {
  if (value === undefined) {
    await call({ method: 'DELETE', bucket, query: [['encryption', '']] });
    return;
  }
  const apply: Record<string, string> = { SSEAlgorithm: value.algorithm };
  if (value.algorithm === 'aws:kms' && value.keyId.trim() !== '') apply.KMSMasterKeyID = value.keyId.trim();
  const body = buildXml('ServerSideEncryptionConfiguration', { Rule: { ApplyServerSideEncryptionByDefault: apply } });
  await call({ method: 'PUT', bucket, query: [['encryption', '']], body, headers: await checksumHeader(body) });
}

export interface ObjectLock {
  /** No default retention: ''. */
  mode: '' | 'GOVERNANCE' | 'COMPLIANCE';
  period: string;
  unit: 'Days' | 'Years';
}

/** The bucket's object lock settings, or null when the bucket was created without object lock. */
export async function getObjectLock(bucket: string): Promise<ObjectLock | null> {
  try {
    const doc = parseXml(await (await call({ bucket, query: [['object-lock', '']] })).text());
    const years = text(doc, 'Years');
    return {
      mode: text(doc, 'Mode') as ObjectLock['mode'],
      period: years || text(doc, 'Days'),
      unit: years ? 'Years' : 'Days',
    };
  } catch (e) {
    if (e instanceof ApiError && e.code === 'ObjectLockConfigurationNotFoundError') return null;
    throw e;
  }
}

/** Sets (or, with mode '', removes) the default retention of new object versions; the server checks the values. */
export async function putObjectLock(bucket: string, lock: ObjectLock): Promise<void> {
  const config: XmlTree = { ObjectLockEnabled: 'Enabled' };
  if (lock.mode !== '') config.Rule = { DefaultRetention: { Mode: lock.mode, [lock.unit]: lock.period.trim() } };
  const body = buildXml('ObjectLockConfiguration', config);
  await call({ method: 'PUT', bucket, query: [['object-lock', '']], body, headers: await checksumHeader(body) });
}
