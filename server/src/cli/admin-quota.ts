// `cairn admin quota set|info|clear BUCKET`: a bucket's hard quota through MinIO's admin calls
// (set-bucket-quota, get-bucket-quota; api/quota.ts), the names `mc quota` uses.
import { adminCall, type AdminTarget } from './admin-client.js';

export const QUOTA_USAGE = `  quota set BUCKET SIZE          a hard quota: writes that would take the bucket over SIZE are refused
                                (SIZE in bytes, or with a unit: 500MiB, 2GiB, 1TiB, 10GB)
  quota info BUCKET | quota clear BUCKET
`;

type Result = { rows?: Record<string, string>[]; columns?: string[]; value?: unknown; done?: string };

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** `1.5GiB` -> bytes (whole, at most 2^53-1); an Error for anything else. */
export function parseSize(text: string): number {
  const m = /^(\d{1,15}(?:\.\d{1,6})?)\s*([a-z]{0,3})$/i.exec(text.trim());
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  const bytes = m && unit !== undefined ? Math.floor(Number(m[1]) * unit) : Number.NaN;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new Error(`not a size: ${text} (bytes, or 500MiB, 2GiB ...)`);
  return bytes;
}

export async function quotaCommand(t: AdminTarget, verb: string | undefined, args: string[]): Promise<Result> {
  const bucket = args[0];
  if (!bucket) throw new Error('missing BUCKET');
  const query = { bucket };
  switch (verb) {
    case 'set': {
      if (!args[1]) throw new Error('missing SIZE');
      const size = parseSize(args[1]);
      await adminCall(t, { method: 'PUT', path: 'set-bucket-quota', query, body: { size, quotatype: 'hard' } });
      return { done: `bucket ${bucket}: hard quota of ${size} bytes` };
    }
    case 'clear':
      await adminCall(t, { method: 'PUT', path: 'set-bucket-quota', query, body: { quota: 0, quotatype: 'hard' } });
      return { done: `bucket ${bucket}: quota cleared` };
    case 'info': {
      type Quota = { quota: number; size: number; quotatype: string; cairn?: { usage: number } };
      const q = (await adminCall(t, { method: 'GET', path: 'get-bucket-quota', query })) as Quota;
      const limit = q.size > 0 ? q.size : q.quota;
      const usage = q.cairn?.usage ?? 0;
      const row = {
        bucket,
        quota: limit > 0 ? String(limit) : 'none',
        type: limit > 0 ? q.quotatype : '',
        usage: String(usage),
        used: limit > 0 ? `${((100 * usage) / limit).toFixed(1)}%` : '',
      };
      return { rows: [row], columns: ['bucket', 'quota', 'type', 'usage', 'used'], value: q };
    }
    default:
      throw new Error('expected: quota set|info|clear BUCKET');
  }
}
