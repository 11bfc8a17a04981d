// The composition root: configuration -> native self-test -> storage -> HTTP. `startServer` is what the
// `cairn server` command and the tests call.
import { Md5Lanes, runSelfTest } from '@cairn/native';
import pino, { type Logger } from 'pino';
import { join } from 'node:path';
import {
  healOverBus,
  notifyTargetsFromEnv,
  rewrapOverBus,
  ServerConfig,
  type NotifierOptions,
  type ServiceAction,
  type TraceSharing,
} from './api/index.js';
import { credentialsFromEnv, type CredentialConfig } from './http/auth/credentials.js';
import type { LdapConfig } from './api/iam/ldap.js';
import type { OpenIdConfig } from './api/iam/openid.js';
import { ldapConfigFromEnv } from './api/iam/ldap-config.js';
import { openIdConfigFromEnv } from './api/iam/openid-config.js';
import { iamOverBus } from './api/iam/notify.js';
import { quotaOverBus } from './api/quota.js';
import { queueDirs } from './api/notify/queue.js';
import { failuresOverBus } from './api/iam/login-limit.js';
import { startHttpServer, type RunningServer } from './http/server.js';
import { serverVersion } from './version.js';
import type { MetricsSharing } from './http/metrics.js';
import { prometheusAuthFromEnv, type PrometheusAuthType } from './http/metrics-auth.js';
import { hasCertificate, TlsCertificates, tlsEngineFromEnv } from './http/tls.js';
import { staticKms, type Kms } from './api/sse/kms.js';
import { cachedKms, DEFAULT_KEY_CACHE, keyCacheFromEnv, type KeyCacheOptions } from './api/sse/key-cache.js';
import { vaultConfigFromEnv, vaultKms, type VaultConfig } from './api/sse/vault-kms.js';
import { replicationWorkersFromEnv } from './api/replication/index.js';
import { type Dialect, selectDialectFromEnv } from './api/select-dialect.js';
import { Sealer } from './api/iam/seal.js';
import { parseDuration } from './duration.js';
import { drivePools, expandDrives } from './storage/expand.js';
import { SYS_DIR } from './storage/drive/drive.js';
import { FormatPending, openNodePools, openServerPools, openStorage, ServerPools } from './storage/index.js';
import { isEndpointArgument } from './cluster/endpoints.js';
import { type ClusterNode, joinCluster } from './cluster/node.js';
import { lockExpiryFromEnv } from './cluster/lock-table.js';
import type { PrimaryLink } from './cluster/primary-link.js';
import { nativeCodec } from './storage/erasure/codec.js';
import { parseRemoteEndpoint, remoteDrives, storageRpcServer } from './storage/rpc/index.js';
import { BufferPool } from './storage/erasure/buffer-pool.js';
import type { StorageOptions } from './storage/context.js';
import type { ObjectLayer } from './storage/object-layer.js';
import { dailyStatsOverBus } from './api/tier/daily-stats.js';

/** Bytes of free SSE batches kept while idle (8 times that while busy: buffer-pool.ts). */
const SSE_POOL_KEEP = 8 * 1024 * 1024;
/**
 * How long the node that formats a new distributed deployment waits for every drive to answer (the other nodes
 * still starting) before it formats those that do (at least a quorum; the leader formats and rebuilds the rest).
 */
const FORMAT_WAIT_ALL_MS = 60_000;

export interface ServerOptions {
  /** Drive directories; `{1...4}` ellipses are expanded. Ignored with `gateway`. */
  drives: string[];
  /**
   * Serve this storage instead of erasure-coded drives (`cairn gateway`, cli/gateway.ts): `open` makes it once
   * the configuration is checked; `systemDir` is the folder for the notification and replication queues.
   */
  gateway?: { open(): Promise<ObjectLayer>; systemDir: string };
  /** `HOST:PORT` or `:PORT`; default `:9000`. Port 0 picks a free port. */
  address?: string;
  /** The web console's own address (`--console-address`), besides /console/ on `address`; none by default. */
  consoleAddress?: string;
  /** Root and extra users; default: from CAIRN_ROOT_USER / CAIRN_ROOT_PASSWORD / CAIRN_USERS. */
  credentials?: CredentialConfig;
  region?: string;
  domains?: string[];
  logger?: Logger;
  /** Passed to the storage engine (set size, parity, background workers, ...). */
  storage?: Omit<StorageOptions, 'drives' | 'log'>;
  env?: NodeJS.ProcessEnv;
  /** How long close() waits for requests in flight (default 25 s). */
  shutdownGraceMs?: number;
  /** Where configuration warnings go besides the log (the CLI prints them on stderr). */
  warn?: (message: string) => void;
  /**
   * Serve HTTPS from this directory (MinIO's layout: public.crt + private.key, SNI subfolders, CAs/);
   * the files are watched and reloaded in place. Plain HTTP when absent.
   */
  certsDir?: string;
  /** Accept SSE-C keys over plain HTTP from loopback clients (tests; CAIRN_SSE_C_LOOPBACK_HTTP=on). */
  sseCOverLoopbackHttp?: boolean;
  /** The LDAP server of AssumeRoleWithLDAPIdentity (CAIRN_IDENTITY_LDAP_*); none when absent. */
  ldap?: LdapConfig;
  /** The OpenID provider of AssumeRoleWithWebIdentity (CAIRN_IDENTITY_OPENID_*); none when absent. */
  openid?: OpenIdConfig;
  /** The clock requests are judged by (signature skew, STS expiry); tests move it. Default Date.now. */
  now?: () => number;
  /**
   * SSE-S3's and SSE-KMS's KMS: `secretKey` NAME:BASE64 (CAIRN_KMS_SECRET_KEY) or `vault`, a Vault/OpenBao
   * transit engine (CAIRN_KMS_VAULT_*), or `instance`, a KMS of the embedder's own (tests wrap the static
   * one to watch the data keys it hands out); `autoEncryption` every new object (CAIRN_KMS_AUTO_ENCRYPTION=on);
   * `cache` the bounds of the unsealed-key cache (CAIRN_KMS_CACHE_*; default 5 min, 10,000 keys).
   * Default: from `env`.
   */
  kms?: {
    secretKey?: string;
    vault?: VaultConfig;
    instance?: Kms;
    autoEncryption?: boolean;
    cache?: KeyCacheOptions;
  };
  /** This server is worker `slot` of `cairn server --workers` (storage.shared says how it shares the drives). */
  worker?: { slot: number; reusePort: boolean };
  /** A worker of a node of a distributed deployment: its primary keeps the node's lock table (cluster/node.ts). */
  nodeWorker?: { workers: number; link: PrimaryLink };
  /**
   * Bucket notification targets (default: CAIRN_NOTIFY_* of `env`) and the delivery retry backoff. Queues
   * without their own directory live in the first drive's system area.
   */
  notify?: Partial<Pick<NotifierOptions, 'targets' | 'retry'>>;
  /** Backoff between replication attempts to a target that failed (default 250 ms doubling to 10 s). */
  replicationRetry?: { minMs: number; maxMs: number };
  /** Senders per replication target (default: CAIRN_API_REPLICATION_MAX_WORKERS of `env`, else 8). */
  replicationWorkers?: number;
  /**
   * The lifecycle test clock (CAIRN_LIFECYCLE_DAY_SECONDS): a day of lifecycle rules lasts this many seconds.
   * Pair it with a short storage.staleUploadsCleanupIntervalMs, the interval at which the rules are applied.
   */
  lifecycleDaySeconds?: number;
  /** S3 Select's dialect for requests that name none (default: `select dialect` / CAIRN_SELECT_DIALECT, else aws). */
  selectDialect?: Dialect;
  /** Who may read the metrics (default: CAIRN_PROMETHEUS_AUTH_TYPE of `env`, else a root bearer token). */
  prometheusAuth?: PrometheusAuthType;
  /** The other workers' metrics (cluster/worker.ts): the endpoints show the whole server's. */
  metricsSharing?: MetricsSharing;
  /** The other workers' requests (cluster/worker.ts): a trace shows the whole server's. */
  traceSharing?: TraceSharing;
  /**
   * What the admin API's service restart / stop does (cli/server.ts, cluster/worker.ts), called once the answer
   * went out; absent: the server answers that it cannot.
   */
  service?: (action: ServiceAction) => void;
  /** Where the built web console is (default console/dist of this checkout). */
  consoleDir?: string;
}

export interface CairnServer extends RunningServer {
  credentials: CredentialConfig;
  /** The served certificates (HTTPS only): `reload()` re-reads them, 'reload' events report each attempt. */
  tls?: TlsCertificates;
}

/** The native kernels' known-answer tests (MinIO does the same): refuse to start on a wrong answer. */
function nativeSelfTest(log: Logger): void {
  const report = runSelfTest();
  if (!report.ok) {
    const failed = report.results.filter((r) => !r.ok).map((r) => `${r.kernel}${r.detail ? ` (${r.detail})` : ''}`);
    throw new Error(`native self-test failed: ${failed.join(', ')}; refusing to start`);
  }
  log.debug({ kernels: report.results.length }, 'native self-test passed');
}

/** The configured KMS: a static key or a Vault/OpenBao transit engine, never both (as MinIO refuses). */
function kmsFrom(
  c: { secretKey?: string; vault?: VaultConfig; instance?: Kms },
  cache: KeyCacheOptions,
): Kms | undefined {
  if ([c.secretKey, c.vault, c.instance].filter(Boolean).length > 1)
    throw new Error('ambiguous KMS: CAIRN_KMS_SECRET_KEY and CAIRN_KMS_VAULT_* both set');
  const kms = c.instance ?? (c.vault ? vaultKms(c.vault) : c.secretKey ? staticKms(c.secretKey) : undefined);
  return kms && cachedKms(kms, cache);
}

/** A comma-separated list from the environment (empty when unset). */
function listEnv(value: string | undefined): string[] {
  return (value ?? '').split(',').filter((s) => s !== '');
}

export async function startServer(opts: ServerOptions): Promise<CairnServer> {
  const log = opts.logger ?? pino({ level: 'silent' });
  const warnings: string[] = [];
  const credentials = opts.credentials ?? (await credentialsFromEnv(opts.env ?? process.env, warnings));
  for (const w of warnings) {
    log.warn(w);
    opts.warn?.(w);
  }
  nativeSelfTest(log);
  const env = opts.env ?? process.env;
  const prometheusAuth = opts.prometheusAuth ?? prometheusAuthFromEnv(env);
  const kms = opts.kms
    ? kmsFrom(opts.kms, opts.kms.cache ?? DEFAULT_KEY_CACHE)
    : kmsFrom({ secretKey: env.CAIRN_KMS_SECRET_KEY, vault: vaultConfigFromEnv(env) }, keyCacheFromEnv(env));
  const autoEncryption = opts.kms ? opts.kms.autoEncryption === true : env.CAIRN_KMS_AUTO_ENCRYPTION === 'on';
  if (autoEncryption && !kms) {
    throw new Error('CAIRN_KMS_AUTO_ENCRYPTION=on needs a KMS (CAIRN_KMS_SECRET_KEY or CAIRN_KMS_VAULT_*)');
  }
  let tls: TlsCertificates | undefined;
  if (opts.certsDir !== undefined) {
    if (!(await hasCertificate(opts.certsDir)))
      throw new Error(`no public.crt in the certificates directory ${opts.certsDir}`);
    tls = await TlsCertificates.load(opts.certsDir, tlsEngineFromEnv(env));
    tls.on('reload', (r) => {
      if (r.ok) log.info({ certsDir: opts.certsDir }, 'TLS certificates reloaded');
      else
        log.error({ certsDir: opts.certsDir, err: r.error }, 'TLS certificates not reloaded; the previous ones stay');
    });
  }
  // Test-only (a node's drives beside another process's without a whole deployment: test/cluster/storage-rpc):
  // CAIRN_TEST_RPC_DRIVES lists folders this node serves to others over the storage RPC,
  // CAIRN_TEST_REMOTE_DRIVES drives of other nodes (http://host:port/folder) appended to the drive list.
  const served = listEnv(env.CAIRN_TEST_RPC_DRIVES);
  const remoteEndpoints = listEnv(env.CAIRN_TEST_REMOTE_DRIVES);
  for (const e of remoteEndpoints)
    if (!parseRemoteEndpoint(e)) throw new Error(`CAIRN_TEST_REMOTE_DRIVES: ${e} is not http://host:port/folder`);
  if (remoteEndpoints.length > 0 && opts.storage?.shared)
    throw new Error('CAIRN_TEST_REMOTE_DRIVES needs --workers 1 (the primary formats local drives only)');
  const distributed = opts.drives.some(isEndpointArgument);
  if (distributed && !opts.drives.every(isEndpointArgument))
    throw new Error('give either local drive folders or endpoints of nodes (http://host:port/folder), not both');
  if (distributed && (opts.storage?.shared || served.length > 0 || remoteEndpoints.length > 0))
    throw new Error('a node of a distributed deployment runs one worker (--workers 1) and no CAIRN_TEST_* drives');
  // Several ellipsis arguments: server pools (storage/pools.ts).
  const pools = distributed || opts.gateway ? [] : drivePools(opts.drives);
  const remote = remoteDrives(credentials.root);
  let node: ClusterNode | undefined;
  let storage: ObjectLayer;
  /** A node's storage: it leads the deployment's background work while it holds the leader lease. */
  let nodeStorage: { setLeader(on: boolean): void } | undefined;
  try {
    if (opts.gateway) {
      storage = await opts.gateway.open();
    } else if (distributed) {
      node = await joinCluster({
        endpoints: opts.drives,
        address: opts.address ?? ':9000',
        credentials: credentials.root,
        version: serverVersion(),
        verify: nativeCodec().readFrames,
        tls,
        log,
        lockExpiryMs: lockExpiryFromEnv(env),
        ...(opts.nodeWorker && opts.worker
          ? { worker: { slot: opts.worker.slot, workers: opts.nodeWorker.workers, link: opts.nodeWorker.link } }
          : {}),
      });
      storage = nodeStorage = await openNodeStorage(node, opts, log);
    } else if (pools.length > 1) {
      if (remoteEndpoints.length > 0 || served.length > 0) throw new Error('server pools take no CAIRN_TEST_* drives');
      storage = await openServerPools(
        pools,
        {
          ...opts.storage,
          log: {
            info: (m: string) => log.info(m),
            warn: (m: string) => log.warn(m),
            debug: (m: string) => log.debug(m),
          },
        },
        opts.drives,
      );
    } else {
      storage = await openStorage({
        ...opts.storage,
        drives: [...expandDrives(...opts.drives), ...remoteEndpoints],
        poolName: opts.drives.join(' '),
        openDrive: remote.open,
        log: { info: (m: string) => log.info(m), warn: (m: string) => log.warn(m), debug: (m: string) => log.debug(m) },
      });
    }
  } catch (e) {
    remote.close();
    node?.close();
    await node?.handOver();
    throw e;
  }
  // The node's own notification and replication queues live on its first drives, each event on every one of them
  // (api/notify/queue.ts; every drive of a node alone is local); a gateway's in its folder. With server pools, on
  // the first pool no decommission takes: what the others' drives hold is taken in (a drain that began, or was
  // canceled, since the queues were last there), and a drain that begins moves them first (beforeDrain below).
  // A node's queues: on its own drives of that pool (of the next pool it has drives in, when it has none there).
  const queuesOn = (folders: string[]) => queueDirs(folders.map((f) => join(f, SYS_DIR)));
  const poolFolders = node ? node.plan.pools.map((p) => p.localFolders) : pools;
  const queuePool = storage instanceof ServerPools ? queuesPool(storage, poolFolders) : 0;
  const systemDirs = opts.gateway
    ? [opts.gateway.systemDir]
    : queuesOn(
        node ? (poolFolders[queuePool] ?? node.plan.localFolders) : (pools[queuePool] ?? expandDrives(...opts.drives)),
      );
  const formerSystemDirs = poolFolders.filter((f, i) => i !== queuePool && f.length > 0).flatMap(queuesOn);
  const shared = opts.storage?.shared;
  // Workers share IAM's records over the primary's lock service and change bus; nodes over the network.
  const sharing = shared ?? node;
  // The stored server configuration (api/admin/config), under the environment's values: what the settings below
  // are read from when the options do not give them.
  const config = new ServerConfig(
    storage,
    new Sealer(credentials.root.accessKey, credentials.root.secretKey, storage.deploymentId),
    env,
    (m) => log.warn(m),
    // Changes from several workers or nodes go one at a time.
    sharing ? () => sharing.locks.acquire('config') : undefined,
    // Live keys (registry.ts): the stale-upload settings, in this process and, over the bus, the others.
    { apply: (view) => storage.setStaleUploads?.(liveStaleUploads(opts, view)), bus: sharing?.bus },
  );
  let settings: ReturnType<typeof settingsFrom>;
  try {
    settings = settingsFrom(opts, await config.envView());
    if (settings.staleUploads) storage.setStaleUploads?.(settings.staleUploads);
  } catch (e) {
    await storage.close();
    remote.close();
    node?.close();
    await node?.handOver();
    throw e;
  }
  const { notifyTargets } = settings;
  let ready = true;
  let http: RunningServer;
  try {
    http = await startHttpServer({
      storage,
      credentials,
      address: opts.address,
      consoleAddress: opts.consoleAddress,
      region: settings.region,
      domains: opts.domains,
      logger: log,
      ready: () => ready,
      shutdownGraceMs: opts.shutdownGraceMs,
      tls,
      sse: {
        sseCOverLoopbackHttp: opts.sseCOverLoopbackHttp,
        kms,
        autoEncryption,
        // The sealing and opening stages' batches (1 MiB each, a few per request in flight) and MD5 lanes.
        buffers: new BufferPool(SSE_POOL_KEEP, 8 * SSE_POOL_KEEP),
        md5Lanes: new Md5Lanes(),
      },
      now: opts.now,
      consoleDir: opts.consoleDir,
      ldap: settings.ldap,
      openid: settings.openid,
      // Workers share IAM's records over the same lock service and change bus as storage.
      iamSharing: sharing ? iamOverBus(sharing.locks, sharing.bus) : undefined,
      loginFailures: sharing ? failuresOverBus(sharing.bus) : undefined,
      // A bucket's quota holds across them: the bytes each takes are told to the others.
      quotaSharing: sharing ? quotaOverBus(sharing.locks, sharing.bus) : undefined,
      worker: opts.worker?.slot,
      // A node binds beside its early listener, which stops once this one listens.
      reusePort: node ? true : opts.worker?.reusePort,
      notify: {
        targets: notifyTargets,
        queueBases: systemDirs.map((d) => join(d, 'notify')),
        formerQueueBases: formerSystemDirs.map((d) => join(d, 'notify')),
        retry: opts.notify?.retry,
        worker: opts.worker?.slot,
      },
      replication: {
        queueBases: systemDirs.map((d) => join(d, 'replication')),
        formerQueueBases: formerSystemDirs.map((d) => join(d, 'replication')),
        retry: opts.replicationRetry,
        workers: settings.replicationWorkers,
        worker: opts.worker?.slot,
      },
      lifecycleDaySeconds: opts.lifecycleDaySeconds,
      selectDialect: settings.selectDialect,
      prometheusAuth,
      metricsSharing: opts.metricsSharing,
      internode: node
        ? node.internode
        : served.length > 0
          ? storageRpcServer({ roots: served, credentials: credentials.root, verify: nativeCodec().readFrames })
          : undefined,
      traceSharing: opts.traceSharing,
      healSharing: shared ? healOverBus(shared.bus) : undefined,
      rewrapSharing: shared ? rewrapOverBus(shared.bus) : undefined,
      tierStatsSharing: sharing ? dailyStatsOverBus(sharing.bus) : undefined,
      service: opts.service,
      config,
    });
    tls?.watch();
    if (storage instanceof ServerPools) {
      const served = storage;
      const { moveQueues } = http;
      served.beforeDrain = () => moveQueues(queuesOn(poolFolders[queuesPool(served, poolFolders)]));
      // A node with drives in no other pool keeps its queues on the draining pool: it leaves with it, once its
      // queued events are delivered (the drain waits for them).
      served.queuedOn = (pool) =>
        queuesPool(served, poolFolders) !== pool
          ? 0
          : http.notifyStatus().reduce((n, t) => n + t.queued, 0) +
            http.replicationStatus().reduce((n, t) => n + t.queued, 0);
      // A worker that learnt of a drain while its queues opened (before it could be asked to move them) moves them.
      if (queuesPool(served, poolFolders) !== queuePool) await served.beforeDrain(queuePool);
    }
    await node?.handOver();
    // Once this node serves (its background tasks, lifecycle's among them, added by the S3 server).
    const leads = nodeStorage;
    if (node && leads) node.lead((on) => leads.setLeader(on));
  } catch (e) {
    await storage.close();
    remote.close();
    node?.close();
    await node?.handOver();
    throw e;
  }
  return {
    ...http,
    credentials,
    tls,
    close: async () => {
      ready = false;
      tls?.close();
      await http.close();
      await storage.close();
      // After storage saved its heal queue (the leader's), the lease goes back: the next leader loads the queue.
      await node?.resign();
      remote.close();
      node?.close();
    },
  };
}

/**
 * The pool the event queues live on: the first that no decommission takes (draining or drained) among those this
 * process has drives in (`folders`, by pool: a node may have none in some); the first it has drives in when all are.
 */
function queuesPool(pools: ServerPools, folders: string[][]): number {
  const has = (i: number) => folders[i] !== undefined && folders[i].length > 0;
  const open = pools.pools.findIndex((_, i) => !pools.suspended.has(i) && has(i));
  return open >= 0
    ? open
    : Math.max(
        0,
        pools.pools.findIndex((_, i) => has(i)),
      );
}

/**
 * The settings read from the environment view (the stored configuration under the process's environment) where
 * the options do not give them; a value that does not parse refuses the start.
 */
function settingsFrom(opts: ServerOptions, view: Record<string, string>) {
  const duration = (name: string): number | undefined => {
    const v = view[name];
    if (v === undefined || v === '') return undefined;
    const ms = parseDuration(v);
    if (ms === undefined) throw new Error(`${name} must be a duration such as 24h, 90m or 45s, got '${v}'`);
    return ms;
  };
  // The storage options carry these when the environment set them (cli/server.ts): the stored values only fill in.
  const expiryMs =
    opts.storage?.staleUploadsExpiryMs === undefined ? duration('CAIRN_API_STALE_UPLOADS_EXPIRY') : undefined;
  const cleanupIntervalMs =
    opts.storage?.staleUploadsCleanupIntervalMs === undefined
      ? duration('CAIRN_API_STALE_UPLOADS_CLEANUP_INTERVAL')
      : undefined;
  return {
    notifyTargets: opts.notify?.targets ?? notifyTargetsFromEnv(view),
    replicationWorkers: opts.replicationWorkers ?? replicationWorkersFromEnv(view),
    selectDialect: opts.selectDialect ?? selectDialectFromEnv(view),
    region: opts.region ?? (view.CAIRN_REGION_NAME || undefined),
    // The command line passes the environment's providers; the stored ones (identity_*) fill in.
    ldap: opts.ldap ?? ldapConfigFromEnv(view),
    openid: opts.openid ?? openIdConfigFromEnv(view),
    staleUploads:
      expiryMs === undefined && cleanupIntervalMs === undefined ? undefined : { expiryMs, cleanupIntervalMs },
  };
}

/**
 * The stale-upload settings a live change puts into effect: the options' (the environment's, which win), else the
 * view's stored values, else the defaults (a key reset goes back to its default).
 */
function liveStaleUploads(opts: ServerOptions, view: Record<string, string>) {
  const ms = (name: string, given: number | undefined, dflt: number) =>
    given ?? (view[name] ? parseDuration(view[name]) : undefined) ?? dflt;
  return {
    expiryMs: ms('CAIRN_API_STALE_UPLOADS_EXPIRY', opts.storage?.staleUploadsExpiryMs, 24 * 3_600_000),
    cleanupIntervalMs: ms(
      'CAIRN_API_STALE_UPLOADS_CLEANUP_INTERVAL',
      opts.storage?.staleUploadsCleanupIntervalMs,
      6 * 3_600_000,
    ),
  };
}

/**
 * Storage of one node of a distributed deployment: opened once the deployment's format is on a quorum of the
 * drives (the node of the first endpoint writes it; the others wait).
 */
async function openNodeStorage(node: ClusterNode, opts: ServerOptions, log: Logger) {
  const { plan } = node;
  const setSizes = plan.pools.map((p) => p.setSize);
  if (opts.storage?.setSize !== undefined && setSizes.some((s) => s !== opts.storage?.setSize))
    throw new Error(`set size ${opts.storage.setSize} given, the endpoints make sets of ${setSizes.join(', ')}`);
  // Workers of a node: each its own temp area and reap logs; worker 1 of the node of a pool's first endpoint
  // formats that pool.
  const firstWorker = (node.worker?.slot ?? 1) === 1;
  const formats = (endpoints: string[]) =>
    firstWorker && parseRemoteEndpoint(endpoints[0])?.origin === plan.nodes[plan.self];
  const nodeOpts = {
    name: node.worker ? `${node.name}-w${node.worker.slot}` : node.name,
    formatter: formats(plan.pools[0].endpoints),
    // A new deployment is formatted on every drive when every node starts within this time (MinIO waits for all).
    formatAllBy: Date.now() + FORMAT_WAIT_ALL_MS,
    workers: node.worker?.workers,
    locks: node.locks,
    bus: node.bus,
  };
  const storageLog = {
    info: (m: string) => log.info(m),
    warn: (m: string) => log.warn(m),
    debug: (m: string) => log.debug(m),
  };
  let lastLog = 0;
  for (;;) {
    try {
      if (plan.pools.length > 1)
        return await openNodePools(
          plan.pools.map((p) => ({ endpoints: p.endpoints, setSize: p.setSize, formatter: formats(p.endpoints) })),
          { ...opts.storage, openDrive: node.openDrive, node: nodeOpts, log: storageLog },
          opts.drives,
        );
      const storage = await openStorage({
        ...opts.storage,
        drives: plan.pools[0].endpoints,
        setSize: plan.pools[0].setSize,
        openDrive: node.openDrive,
        node: nodeOpts,
        log: storageLog,
      });
      return storage;
    } catch (e) {
      if (!(e instanceof FormatPending)) throw e;
      if (Date.now() - lastLog > 5000) {
        lastLog = Date.now();
        log.info(`waiting for the deployment's format: ${e.message}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
