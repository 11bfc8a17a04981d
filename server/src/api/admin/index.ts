// MinIO's admin API for operating the server, as madmin-go, minio-py's MinioAdmin and `mc admin` call it (and
// `cairn admin info|service|trace|top`):
//   GET  /minio/admin/v3/info                         server information (admin:ServerInfo)
//   GET  /minio/admin/v3/datausageinfo[?capacity=true] usage per bucket (admin:DataUsageInfo)
//   POST /minio/admin/v3/service?action=restart|stop   restart the serving processes or stop the server, once
//                                                      answered (admin:ServiceRestart / admin:ServiceStop)
//   GET  /minio/admin/v3/trace?err=&threshold=&path=   a stream of madmin.TraceInfo lines (admin:ServerTrace)
//   GET  /minio/admin/v3/top/locks?count=N             the oldest locks held (admin:TopLocksInfo)
//   GET  /minio/admin/v3/metrics?types=&n=&interval=   realtime metrics: drives, requests (admin:ServerInfo;
//                                                      metrics.ts)
//   POST /minio/admin/v3/heal/[BUCKET[/PREFIX]]         start, poll (clientToken) or stop a heal (admin:Heal)
//   POST /minio/admin/v3/background-heal/status         the background healing's state (admin:Heal)
//   /minio/admin/v3/pools/list|status|decommission|cancel  server pools and their decommission (pools.ts)
//   /minio/admin/v3/kms/...                            KMS status, keys, re-wrapping after rotation (kms.ts)
//   /minio/admin/v3/*-config-kv, config, ...           the stored server configuration (config/admin.ts)
//   GET  /minio/admin/v3/queues[?kind=]                notification and replication queues (queues.ts, Cairn's own)
import { S3Error } from '../../errors.js';
import type { ObjectLayer } from '../../storage/object-layer.js';
import type { S3Response } from '../types.js';
import { madminDisks, type ServerIdentity, serverInfo, type UsageCounter } from './server-info.js';
import { parseGoDuration, type TraceHub } from './trace.js';
import type { HealSequences } from './heal.js';
import type { Kms } from '../sse/kms.js';
import type { RewrapJobs } from '../sse/rewrap.js';
import { isKmsAdminPath, kmsAdmin } from './kms.js';
import { configAdmin, isConfigPath } from './config/admin.js';
import { isPoolsPath, poolsAdmin } from './pools.js';
import type { ServerConfig } from './config/store.js';
import { type ApiTotals, type MetricsStreams, realtimeMetrics } from './metrics.js';
import { type QueueRow, queuesAdmin } from './queues.js';

export { type ServerIdentity, UsageCounter } from './server-info.js';
export * from './trace.js';
export { HealSequences, type HealSharing, healOverBus } from './heal.js';
export { ServerConfig } from './config/store.js';
export { type ApiTotals, MetricsStreams } from './metrics.js';
export { mergeRows, notifyRows, type QueueInfo, type QueueRow, replicationRows } from './queues.js';

export type ServiceAction = 'restart' | 'stop';

/** What the admin API may do to the running server (main.ts and cluster/ give it). */
export interface ServerAdmin {
  identity: ServerIdentity;
  trace: TraceHub;
  usage: UsageCounter;
  heal: HealSequences;
  /** The KMS sealing SSE-S3/SSE-KMS data keys (none configured: the KMS calls answer NotImplemented). */
  kms?: Kms;
  /** Re-wrapping data keys after a KMS key rotation. */
  rewrap: RewrapJobs;
  /**
   * Restart the serving processes (the workers, one after the other; or the one serving process) or stop the
   * server cleanly; called once the answer has gone out. Absent: a server started in-process (tests).
   */
  service?: (action: ServiceAction) => void;
  /** The stored server configuration (config/store.ts); absent: the config calls answer NotImplemented. */
  config?: ServerConfig;
  /** The whole server's S3 request counts (http/metrics.ts); the realtime metrics' API part. */
  apiTotals?: () => Promise<ApiTotals>;
  /** The realtime metrics streams open now (ended when the server closes). */
  metricsStreams: MetricsStreams;
  /** Every notification and replication queue of the whole server (all workers); absent: the listing answers NotImplemented. */
  queues?: () => Promise<QueueRow[]>;
}

export interface ServerAdminCall {
  storage: ObjectLayer;
  admin: ServerAdmin;
  method: string;
  /** The path after /minio/admin/v3/. */
  path: string;
  q: URLSearchParams;
  /** The request body as a JSON object ({} when empty). */
  body(): Record<string, unknown>;
  /** The request body as sent. */
  rawBody: Buffer;
  /** Opens a body MinIO's clients encrypt with the signer's secret (madmin EncryptData); throws when it does not. */
  decrypt(body: Buffer): Promise<Buffer>;
  /** An answer encrypted with the signer's secret. */
  sealed(body: Buffer): Promise<S3Response>;
  /** The client's address (a heal sequence names who started it). */
  client: string;
  /** Refuses the call unless the caller may do `action`. */
  authorize(action: string): void;
}

const PATHS = new Set([
  'info',
  'datausageinfo',
  'service',
  'trace',
  'top/locks',
  'background-heal/status',
  'metrics',
  'queues',
]);

/** Is this admin path one of the calls below? */
export const isServerAdminPath = (path: string): boolean =>
  PATHS.has(path) ||
  path === 'heal' ||
  path.startsWith('heal/') ||
  isKmsAdminPath(path) ||
  isConfigPath(path) ||
  isPoolsPath(path);

const json = (value: unknown): S3Response => ({
  status: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(value),
});

function expectMethod(c: ServerAdminCall, method: string): void {
  if (c.method !== method) throw new S3Error('MethodNotAllowed');
}

export async function serverAdmin(c: ServerAdminCall): Promise<S3Response> {
  if (c.path === 'heal' || c.path.startsWith('heal/')) return heal(c);
  if (isKmsAdminPath(c.path)) return kmsAdmin(c);
  if (isConfigPath(c.path)) return configAdmin(c);
  if (isPoolsPath(c.path)) return poolsAdmin(c);
  switch (c.path) {
    case 'info':
      expectMethod(c, 'GET');
      c.authorize('admin:ServerInfo');
      return json(await serverInfo(c.storage, c.admin.usage, c.admin.identity));
    case 'datausageinfo':
      expectMethod(c, 'GET');
      c.authorize('admin:DataUsageInfo');
      return json(await c.admin.usage.dataUsageInfo(c.q.get('capacity') === 'true'));
    case 'service':
      return service(c);
    case 'trace':
      return trace(c);
    case 'background-heal/status':
      return backgroundHeal(c);
    case 'queues':
      return queuesAdmin(c);
    case 'metrics':
      expectMethod(c, 'GET');
      c.authorize('admin:ServerInfo');
      return realtimeMetrics({
        storage: c.storage,
        endpoint: c.admin.identity.endpoint,
        startedAt: c.admin.identity.startedAt,
        q: c.q,
        apiTotals: c.admin.apiTotals,
        streams: c.admin.metricsStreams,
      });
    default:
      return topLocks(c);
  }
}

function service(c: ServerAdminCall): S3Response {
  expectMethod(c, 'POST');
  const action = c.q.get('action');
  // MinIO's freeze/unfreeze (hold S3 calls) is not done here: refused, never ignored.
  if (action === 'freeze' || action === 'unfreeze')
    throw new S3Error('NotImplemented', `service ${action} is not implemented`);
  if (action !== 'restart' && action !== 'stop')
    throw new S3Error('XMinioAdminInvalidArgument', 'action must be restart or stop');
  c.authorize(action === 'restart' ? 'admin:ServiceRestart' : 'admin:ServiceStop');
  const control = c.admin.service;
  if (!control) throw new S3Error('NotImplemented', 'This server was not started by `cairn server`: it cannot restart');
  if (c.q.get('dry-run') === 'true') throw new S3Error('NotImplemented', 'dry-run is not implemented');
  // MinIO's v2 answer (type=2), which the older clients ignore.
  const body = { action, dryRun: false, results: [{ host: c.admin.identity.endpoint }] };
  return { ...json(body), afterSend: () => control(action) };
}

function trace(c: ServerAdminCall): S3Response {
  expectMethod(c, 'GET');
  c.authorize('admin:ServerTrace');
  // Cairn makes S3-type entries only (every HTTP request): a client asking for other kinds alone gets none.
  const threshold = c.q.get('threshold');
  const thresholdNs = threshold ? parseGoDuration(threshold) : 0;
  if (thresholdNs === undefined) throw new S3Error('XMinioAdminInvalidArgument', 'threshold is not a duration');
  const sub = c.admin.trace.subscribe({
    errorsOnly: c.q.get('err') === 'true',
    pathPrefix: c.q.get('path') ?? '',
    thresholdNs,
  });
  return {
    status: 200,
    headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' },
    body: sub.stream,
  };
}

/**
 * madmin.BgHealState: the scanner's count, drives being rebuilt, each set's drives; Cairn's own counts under
 * `cairn` (healed, failed, queued, scanner cycles). MinIO's per-node MRF byte counts are not kept: no `mrf`.
 */
async function backgroundHeal(c: ServerAdminCall): Promise<S3Response> {
  expectMethod(c, 'POST');
  c.authorize('admin:Heal');
  if (!c.storage.backgroundHealState) throw new S3Error('NotImplemented', 'This storage has no background healing');
  const [state, sets] = await Promise.all([c.storage.backgroundHealState(), c.storage.storageState()]);
  const disks = madminDisks(sets);
  return json({
    offline_nodes: [],
    ScannedItemsCount: state.scannedObjects,
    HealDisks: state.healingDrives,
    sets: sets.map((s, i) => {
      const healing = s.drives.some((d) => d.healing);
      return {
        id: `0-${i}`,
        pool_index: 0,
        set_index: i,
        heal_status: healing ? 'Healing' : '',
        heal_priority: healing ? 'high' : '',
        disks: disks.filter((d) => d.set_index === i),
      };
    }),
    sc_parity: { STANDARD: sets[0]?.parity ?? 0, REDUCED_REDUNDANCY: sets[0]?.rrsParity ?? 0 },
    cairn: {
      healedObjects: state.healedObjects,
      queueHealed: state.queueHealed,
      failedObjects: state.failedObjects,
      queued: state.queued,
      scanCycles: state.scanCycles,
      ...(state.lastScanEnd ? { lastScanEnd: state.lastScanEnd } : {}),
      ...(state.leader ? { leader: state.leader } : {}),
    },
  });
}

/** heal/BUCKET/PREFIX: the bucket is the first segment, the prefix the rest (may be empty, may end in /). */
async function heal(c: ServerAdminCall): Promise<S3Response> {
  expectMethod(c, 'POST');
  c.authorize('admin:Heal');
  const rest = c.path.slice('heal/'.length);
  const cut = rest.indexOf('/');
  const bucket = cut < 0 ? rest : rest.slice(0, cut);
  const prefix = cut < 0 ? '' : rest.slice(cut + 1);
  return json(await c.admin.heal.call(bucket, prefix, c.q, c.body, c.client));
}

async function topLocks(c: ServerAdminCall): Promise<S3Response> {
  expectMethod(c, 'GET');
  c.authorize('admin:TopLocksInfo');
  const countText = c.q.get('count') ?? '10';
  if (!/^\d{1,9}$/.test(countText)) throw new S3Error('XMinioAdminInvalidArgument', 'count must be a number');
  const count = Number(countText);
  const now = Date.now();
  const held = (await c.storage.heldLocks()).sort((a, b) => a.since - b.since);
  const entries = (count > 0 ? held.slice(0, count) : held).map((l) => ({
    time: new Date(l.since).toISOString(),
    elapsed: (now - l.since) * 1e6,
    resource: l.name.replaceAll('\0', '/'),
    type: 'WRITE',
    source: '',
    serverlist: [c.admin.identity.endpoint],
    owner: '',
    id: '',
    quorum: 1,
    waiting: l.waiting,
  }));
  return json(entries);
}
