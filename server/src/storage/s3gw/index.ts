// The S3 gateway's storage: another S3 endpoint served through Cairn (`cairn gateway s3 URL`). Its buckets
// and objects are the backend's. Cairn's own state is kept in a local state folder, not on the backend:
// - IAM (users, groups, policies, service accounts) in the system bucket, which the NAS store serves from
//   the folder's hidden area exactly as the NAS gateway keeps it; the deployment id beside it;
// - the bucket configurations Cairn applies itself (policy, CORS, tags, notifications, ...) as JSON files;
// - multipart uploads' initiators, and object ACLs changed after the object was written (internal-meta.ts).
// Why local: a hidden bucket on the backend would need a bucket name the backend accepts (so one a client
// could see, list or delete with the backend's own credentials), the right to create buckets, and a round
// trip on every request that reads a bucket's policy. The price: gateways in front of one backend share
// nothing (each has its own users and configurations), and the folder is what to back up.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger, type Logger } from '../context.js';
import { SYS_DIR } from '../drive/drive.js';
import { openNas } from '../nas/index.js';
import { type BackendOptions, backendClient } from './backend.js';
import { BucketConfigs } from './bucket-configs.js';
import { InternalMeta } from './internal-meta.js';
import { RawGetter } from './raw-get.js';
import { S3GatewayObjects } from './s3gw-objects.js';
import { TailCache } from './tail-cache.js';
import { UploadRecords } from './upload-records.js';

export { S3GatewayObjects };

export interface S3GatewayOptions extends BackendOptions {
  /** The local folder of Cairn's own state (made when missing). */
  stateDir: string;
  /** Bytes of object tails (Parquet footers) kept in memory. Default 16 MiB. */
  tailCacheBytes?: number;
  log?: Logger;
}

export async function openS3Gateway(o: S3GatewayOptions): Promise<S3GatewayObjects> {
  await mkdir(o.stateDir, { recursive: true });
  const state = await openNas(o.stateDir, { log: o.log ?? silentLogger });
  const objects = new S3GatewayObjects({
    client: await backendClient(o),
    getter: new RawGetter(o),
    url: o.url,
    state,
    configs: new BucketConfigs(join(state.paths.hidden, 'gateway-buckets'), state.side),
    uploads: new UploadRecords(join(state.paths.hidden, 'gateway-uploads'), state.side),
    meta: new InternalMeta(join(state.paths.hidden, 'gateway-meta'), state.side),
    tails: new TailCache(o.tailCacheBytes),
  });
  await objects.start();
  return objects;
}

/** The backend as a server's storage (ServerOptions.gateway): queues go to the state folder. */
export function s3Gateway(o: S3GatewayOptions): { open(): Promise<S3GatewayObjects>; systemDir: string } {
  return { open: () => openS3Gateway(o), systemDir: join(o.stateDir, SYS_DIR) };
}
