// A bucket's hard quota through MinIO's admin calls (set-bucket-quota, get-bucket-quota), signed like every
// other call: the limit in bytes (0: none) and the bucket's usage as the server counted it for the answer.
import { call } from './client.js';

export interface Quota {
  /** The hard limit in bytes; 0 when the bucket has no quota. */
  limit: number;
  /** The bucket's bytes (every version, delete markers aside). */
  usage: number;
}

export async function getQuota(bucket: string): Promise<Quota> {
  const res = await call({ bucket: 'minio', key: 'admin/v3/get-bucket-quota', query: [['bucket', bucket]] });
  const q = (await res.json()) as { quota: number; size: number; cairn?: { usage: number } };
  return { limit: q.size > 0 ? q.size : q.quota, usage: q.cairn?.usage ?? 0 };
}

/** Sets a hard quota of `bytes` (0 clears it); the server checks the value. */
export async function setQuota(bucket: string, bytes: number): Promise<void> {
  const body = JSON.stringify(bytes === 0 ? { quota: 0 } : { size: bytes, quotatype: 'hard' });
  await call({ method: 'PUT', bucket: 'minio', key: 'admin/v3/set-bucket-quota', query: [['bucket', bucket]], body });
}
