// MinIO's admin API for remote tiers, as madmin-go and `mc ilm tier` call it (and `cairn admin tier`):
//   PUT    /minio/admin/v3/tier[?force=true]       add (body: TierConfig, encrypted with the signer's secret)
//   GET    /minio/admin/v3/tier                    list (secrets REDACTED)
//   POST   /minio/admin/v3/tier/NAME               edit the credentials (body: TierCreds, encrypted)
//   DELETE /minio/admin/v3/tier/NAME[?force=true]  remove
//   GET    /minio/admin/v3/tier/NAME               verify (write, read, remove a probe object)
//   GET    /minio/admin/v3/tier-stats              what each tier holds (madmin.TierInfo[], `mc admin tier info`)
// Changes need admin:SetTier, reading admin:ListTier, as MinIO checks them.
import { S3Error } from '../../errors.js';
import { type DataUsage, HOT_TIER } from '../admin/server-info.js';
import type { S3Response } from '../types.js';
import { listedTier, parseTierConfig } from './config.js';
import type { Tiers } from './tiers.js';

export interface TierCall {
  tiers: Tiers;
  method: string;
  /** The path after /minio/admin/v3/: `tier` or `tier/NAME`. */
  path: string;
  q: URLSearchParams;
  decrypted(): Promise<Record<string, unknown>>;
  /** Refuses the call unless the caller may do `action`. */
  authorize(action: string): void;
  /** The server's data usage walk (api/admin), which counts versions per tier; absent in servers without it. */
  usage?: () => Promise<DataUsage>;
}

const noContent = (): S3Response => ({ status: 204, headers: {} });

/** Is this admin path one of the tier calls? */
export const isTierPath = (path: string): boolean =>
  path === 'tier' || path === 'tier-stats' || path.startsWith('tier/');

export async function tierAdmin(c: TierCall): Promise<S3Response> {
  if (c.path === 'tier-stats') return tierStats(c);
  const name = c.path === 'tier' ? undefined : decodeURIComponent(c.path.slice('tier/'.length));
  const force = c.q.get('force') === 'true';
  if (name === undefined) {
    if (c.method === 'GET') {
      c.authorize('admin:ListTier');
      const tiers = await c.tiers.list();
      return {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(tiers.map(listedTier)),
      };
    }
    if (c.method !== 'PUT') throw new S3Error('MethodNotAllowed');
    c.authorize('admin:SetTier');
    await c.tiers.add(parseTierConfig(await c.decrypted()), force);
    return noContent();
  }
  if (name === '' || name.includes('/')) throw new S3Error('XMinioAdminTierNotFound');
  switch (c.method) {
    case 'GET':
      c.authorize('admin:ListTier');
      await c.tiers.verify(name);
      return noContent();
    case 'POST': {
      c.authorize('admin:SetTier');
      const body = await c.decrypted();
      if (body.awsrole === true || (typeof body.creds === 'string' && body.creds !== ''))
        throw new S3Error('NotImplemented', 'Only access and secret keys are implemented as tier credentials');
      await c.tiers.edit(name, String(body.access ?? ''), String(body.secret ?? ''));
      return noContent();
    }
    case 'DELETE':
      c.authorize('admin:SetTier');
      await c.tiers.remove(name, force);
      return noContent();
    default:
      throw new S3Error('MethodNotAllowed');
  }
}

/**
 * madmin.TierInfo of the drives (MinIO's internal hot tier, STANDARD) and of every configured tier, also those
 * holding nothing yet; a tier's stats count the versions transitioned to it (objects: the latest versions), its
 * DailyStats the transitions to it in each hour of the last day (daily-stats.ts; none for STANDARD, as MinIO).
 */
async function tierStats(c: TierCall): Promise<S3Response> {
  if (c.method !== 'GET') throw new S3Error('MethodNotAllowed');
  c.authorize('admin:ListTier');
  if (!c.usage) throw new S3Error('NotImplemented', 'Tier statistics are not available on this server');
  const [tiers, usage] = await Promise.all([c.tiers.list(), c.usage()]);
  const zero = { totalSize: 0, numVersions: 0, numObjects: 0 };
  const typeOf = new Map<string, string>(tiers.map((t) => [t.name, t.type]));
  const names = new Set([...tiers.map((t) => t.name), ...Object.keys(usage.tierStats)]);
  names.delete(HOT_TIER);
  const infos = [HOT_TIER, ...[...names].sort()].map((name) => ({
    Name: name,
    Type: name === HOT_TIER ? 'internal' : (typeOf.get(name) ?? 'unknown'),
    Stats: usage.tierStats[name] ?? zero,
    DailyStats: c.tiers.daily.stats(name, Date.now()),
  }));
  return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(infos) };
}
