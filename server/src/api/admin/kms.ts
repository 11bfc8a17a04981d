// MinIO's admin KMS calls (cmd/admin-handlers.go; madmin's KMSStatus, CreateKey, GetKeyStatus) and Cairn's
// re-wrap job (`cairn admin kms ...`):
//   GET|POST /minio/admin/v3/kms/status                  the KMS, its default key, endpoints (admin:KMSKeyStatus)
//   POST     /minio/admin/v3/kms/key/create?key-id=K     make a key (admin:KMSCreateKey)
//   GET      /minio/admin/v3/kms/key/status[?key-id=K]   a data key made and opened with K (admin:KMSKeyStatus)
//   POST     /minio/admin/v3/kms/rewrap[/BUCKET[/PREFIX]] start re-wrapping data keys to the newest key versions
//   GET      /minio/admin/v3/kms/rewrap?id=ID            the job's progress (both admin:KMSRewrap, Cairn's own)
import { timingSafeEqual } from 'node:crypto';
import { S3Error } from '../../errors.js';
import type { Kms } from '../sse/kms.js';
import type { S3Response } from '../types.js';
import type { ServerAdminCall } from './index.js';

export const isKmsAdminPath = (path: string): boolean =>
  path === 'kms/status' || path === 'kms/key/create' || path === 'kms/key/status' || path.startsWith('kms/rewrap');

const json = (value: unknown): S3Response => ({
  status: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(value),
});

function method(c: ServerAdminCall, ...allowed: string[]): void {
  if (!allowed.includes(c.method)) throw new S3Error('MethodNotAllowed');
}

function kmsOf(c: ServerAdminCall): Kms {
  // MinIO's ErrKMSNotConfigured.
  if (!c.admin.kms) throw new S3Error('NotImplemented', 'Server side encryption specified but KMS is not configured');
  return c.admin.kms;
}

/** A message for the admin's answer: an S3Error's own, the rest only its kind (the log has the cause). */
const reason = (e: unknown): string => (e instanceof S3Error ? `${e.code}: ${e.message}` : 'internal error');

export async function kmsAdmin(c: ServerAdminCall): Promise<S3Response> {
  if (c.path === 'kms/status') {
    method(c, 'GET', 'POST');
    c.authorize('admin:KMSKeyStatus');
    return json(await kmsOf(c).status());
  }
  if (c.path === 'kms/key/create') {
    method(c, 'POST');
    c.authorize('admin:KMSCreateKey');
    const keyId = c.q.get('key-id') ?? '';
    if (keyId === '') throw new S3Error('XMinioAdminInvalidArgument', 'key-id is required');
    await kmsOf(c).createKey(keyId);
    return { status: 200, headers: {}, body: '' };
  }
  if (c.path === 'kms/key/status') {
    method(c, 'GET');
    c.authorize('admin:KMSKeyStatus');
    return json(await keyStatus(kmsOf(c), c.q.get('key-id') || kmsOf(c).defaultKeyId));
  }
  return rewrap(c);
}

/** madmin.KMSKeyStatus: as MinIO, a data key is made with the key and opened again; errors are told, not thrown. */
async function keyStatus(kms: Kms, keyId: string): Promise<Record<string, string>> {
  const context = Buffer.from('{"MinIO admin API":"KMSKeyStatusHandler"}');
  let made: { plaintext: Buffer; sealed: Buffer };
  try {
    made = await kms.generateKey(keyId, context);
  } catch (e) {
    return { 'key-id': keyId, 'encryption-error': reason(e) };
  }
  try {
    const opened = await kms.decryptKey(keyId, made.sealed, context);
    const same = opened.length === made.plaintext.length && timingSafeEqual(opened, made.plaintext);
    opened.fill(0);
    if (!same) return { 'key-id': keyId, 'decryption-error': 'The generated and the decrypted data key do not match' };
    return { 'key-id': keyId };
  } catch (e) {
    return { 'key-id': keyId, 'decryption-error': reason(e) };
  } finally {
    made.plaintext.fill(0);
  }
}

async function rewrap(c: ServerAdminCall): Promise<S3Response> {
  if (c.path !== 'kms/rewrap' && !c.path.startsWith('kms/rewrap/')) throw new S3Error('NotImplemented');
  method(c, 'GET', 'POST');
  c.authorize('admin:KMSRewrap');
  if (c.method === 'GET') return json(c.admin.rewrap.status(c.q.get('id') ?? ''));
  kmsOf(c);
  const rest = c.path.slice('kms/rewrap/'.length);
  const cut = rest.indexOf('/');
  const bucket = cut < 0 ? rest : rest.slice(0, cut);
  const prefix = cut < 0 ? '' : rest.slice(cut + 1);
  return json(await c.admin.rewrap.start(bucket, prefix));
}
