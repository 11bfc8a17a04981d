// MinIO's admin calls for server pools, as `mc admin decommission` and madmin-go make them:
//   GET  /minio/admin/v3/pools/list                   every pool's status (admin:ServerInfo or admin:Decommission)
//   GET  /minio/admin/v3/pools/status?pool=P           one pool's (P as on the command line; by-id=true: its index)
//   POST /minio/admin/v3/pools/decommission?pool=P     start draining it (admin:Decommission)
//   POST /minio/admin/v3/pools/cancel?pool=P           stop the drain (admin:Decommission)
// Storage of one pool answers NotImplemented, as MinIO does.
import { S3Error } from '../../errors.js';
import type { S3Response } from '../types.js';
import type { ServerAdminCall } from './index.js';

const PATHS = new Set(['pools/list', 'pools/status', 'pools/decommission', 'pools/cancel']);

export const isPoolsPath = (path: string): boolean => PATHS.has(path);

export async function poolsAdmin(c: ServerAdminCall): Promise<S3Response> {
  const reading = c.path === 'pools/list' || c.path === 'pools/status';
  if (c.method !== (reading ? 'GET' : 'POST')) throw new S3Error('MethodNotAllowed');
  if (reading) {
    // Either right will do (MinIO's validateAdminReq with both).
    try {
      c.authorize('admin:ServerInfo');
    } catch {
      c.authorize('admin:Decommission');
    }
  } else c.authorize('admin:Decommission');
  const pools = c.storage.decommissions;
  if (!pools) throw new S3Error('NotImplemented', 'This server has one pool: there is nothing to decommission it into');
  if (c.path === 'pools/list') return json(await pools.list());
  const name = c.q.get('pool');
  if (!name) throw new S3Error('XMinioAdminInvalidArgument', 'pool is missing');
  const byId = c.q.get('by-id') === 'true';
  if (c.path === 'pools/status') return json(await pools.status(pools.indexOf(name, byId)));
  // MinIO takes several pools separated by commas; Cairn drains one at a time.
  const names = name.split(',');
  if (names.length > 1) throw new S3Error('NotImplemented', 'Cairn decommissions one pool at a time');
  const i = pools.indexOf(name, byId);
  if (c.path === 'pools/decommission') await pools.decommission(i);
  else await pools.cancel(i);
  return { status: 200, headers: {}, body: '' };
}

function json(value: unknown): S3Response {
  return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) };
}
