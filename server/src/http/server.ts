// Starts the HTTP server on an ObjectLayer: builds the contexts, listens, and closes gracefully
// (in-flight requests finish, idle keep-alive connections close).
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { Server as TlsServer } from 'node:tls';
import type { FastifyListenOptions } from 'fastify';
import type { Dialect } from '../api/select-dialect.js';
import { SelectCounts } from '../api/select.js';
import { preloadSelectEngine } from '../api/select-load.js';
import pino, { type Logger } from 'pino';
import {
  IamStore,
  LifecycleScanner,
  Notifier,
  type NotifierOptions,
  HealSequences,
  RewrapJobs,
  type RewrapSharing,
  type HealSharing,
  type ObjectLayer,
  MetricsStreams,
  type ReplicationTargetStatus,
  Replicator,
  type ReplicatorOptions,
  resyncDone,
  publishReplicationEvent,
  type ServerAdmin,
  type ServerConfig,
  type ServiceAction,
  type TargetStatus,
  Tiers,
  TraceHub,
  type TraceSharing,
  UsageCounter,
} from '../api/index.js';
import { accountsOf } from '../api/acl.js';
import { LdapProvider, type LdapConfig } from '../api/iam/ldap.js';
import { OpenIdProvider, type OpenIdConfig } from '../api/iam/openid.js';
import { RegisteredProviders } from '../api/iam/web-identity-role.js';
import type { IamSharing } from '../api/iam/notify.js';
import { type QuotaSharing, shareQuota } from '../api/quota.js';
import type { DailyStatsSharing } from '../api/tier/daily-stats.js';
import { LoginLimiter, type FailureSharing } from '../api/iam/login-limit.js';
import { iamCredentials, type CredentialConfig } from './auth/credentials.js';
import { parseAddress } from './address.js';
import { buildApp, type InternodeHandler } from './app.js';
import type { HttpContext } from './dispatch.js';
import type { TlsCertificates } from './tls.js';
import { serveRustls } from './rustls-socket.js';
import { ConsoleFiles } from './console.js';
import { type ConsoleListener, listenConsole } from './console-listener.js';
import { type MetricsSharing, ServerMetrics } from './metrics.js';
import type { PrometheusAuthType } from './metrics-auth.js';
import type { SseSettings } from '../api/sse/index.js';
import { serverVersion } from '../version.js';

export interface HttpServerOptions {
  storage: ObjectLayer;
  credentials: CredentialConfig;
  /** `HOST:PORT`, `:PORT` (all interfaces) or `[v6]:PORT`; port 0 picks a free port. Default `:9000`. */
  address?: string;
  /** A second address serving the web console at `/` (and the S3 API its page calls); none when absent. */
  consoleAddress?: string;
  region?: string;
  /** Domains for virtual-host-style requests (`bucket.<domain>`). */
  domains?: string[];
  logger?: Logger;
  ready?: () => boolean;
  /** How long close() waits for requests in flight before it cuts their connections. Default 25 s. */
  shutdownGraceMs?: number;
  /** Serve HTTPS with these certificates (reloaded in place); plain HTTP when absent. */
  tls?: TlsCertificates;
  /** Server-side encryption settings. */
  sse?: SseSettings;
  /** The clock (tests move it to check expiries); default Date.now. */
  now?: () => number;
  ldap?: LdapConfig;
  openid?: OpenIdConfig;
  /** The other processes serving the same drives, with which IAM's records are shared; none by default. */
  iamSharing?: IamSharing;
  /** The other processes serving the same drives, with which failed LDAP logins are counted; none by default. */
  loginFailures?: FailureSharing;
  /** The other processes serving the same drives, with which buckets' quotas are counted; none by default. */
  quotaSharing?: QuotaSharing;
  /** One of several workers (cairn server --workers): answers carry `x-cairn-worker: <slot>`. */
  worker?: number;
  /** Bind with SO_REUSEPORT beside the other workers (the kernel spreads connections over them). */
  reusePort?: boolean;
  /** Bucket notification targets and where their queues live; none configured when absent. */
  notify?: Omit<NotifierOptions, 'log' | 'now'>;
  /** Bucket replication's queues (default: none kept on disk, a temporary folder is not used) and retry backoff. */
  replication?: Omit<ReplicatorOptions, 'log' | 'storage' | 'sealer'>;
  /** The test clock: a lifecycle day lasts this many seconds, due times unrounded (CAIRN_LIFECYCLE_DAY_SECONDS). */
  lifecycleDaySeconds?: number;
  /** S3 Select's dialect for requests that name none (ApiContext.selectDialect); default aws. */
  selectDialect?: Dialect;
  /** Who may read /minio/v2/metrics/*: a bearer token of the root user (default) or anyone. */
  prometheusAuth?: PrometheusAuthType;
  /** The other workers, whose series the metrics endpoints sum with this process's; none by default. */
  metricsSharing?: MetricsSharing;
  /** Another protocol served on the same port: the storage RPC of a node serving drives to others. */
  internode?: InternodeHandler;
  /** The other workers, whose requests a trace shows with this process's; none by default. */
  traceSharing?: TraceSharing;
  /** The other workers, with which heal sequences share their status; none by default. */
  healSharing?: HealSharing;
  /** The other workers, with which KMS re-wrap jobs share their status; none by default. */
  rewrapSharing?: RewrapSharing;
  /** The other workers and nodes, told of each transition to a tier (tier-stats' DailyStats); none by default. */
  tierStatsSharing?: DailyStatsSharing;
  /** How the admin API restarts or stops the server (cli/, cluster/); absent: it cannot. */
  service?: (action: ServiceAction) => void;
  /** Where the built web console is (default console/dist of this checkout); served at /console/. */
  consoleDir?: string;
  /** The stored server configuration the admin API's config calls read and change; absent: they cannot. */
  config?: ServerConfig;
}

export interface RunningServer {
  /** `http://host:port` or `https://host:port` as clients should use it. */
  url: string;
  port: number;
  /** The console's own address (`--console-address`): `http(s)://host:port/console/`; absent without one. */
  consoleUrl?: string;
  consolePort?: number;
  /** Each notification target's queue length and delivery counters (cheap: no I/O). */
  notifyStatus(): TargetStatus[];
  /** Resolves once every notification target has taken all its queued events. */
  notifyIdle(): Promise<void>;
  /** Each replication target's queue length and counters (cheap: no I/O). */
  replicationStatus(): ReplicationTargetStatus[];
  /** Resolves once every replication queue is empty. */
  replicationIdle(): Promise<void>;
  /**
   * Moves the notification and replication queues into these system folders (one per drive) while serving: the
   * drives they are on are leaving (a server pool being decommissioned).
   */
  moveQueues(systemDirs: string[]): Promise<void>;
  close(): Promise<void>;
}

export { parseAddress };

export async function startHttpServer(opts: HttpServerOptions): Promise<RunningServer> {
  const logger = opts.logger ?? pino({ level: 'silent' });
  const root = opts.credentials.root.accessKey;
  const accounts = accountsOf(opts.credentials);
  const region = opts.region ?? 'us-east-1';
  const now = opts.now ?? (() => Date.now());
  // IAM's state is read from the drives before the first request is served.
  const iam = new IamStore({
    storage: opts.storage,
    root: opts.credentials.root,
    staticUsers: opts.credentials.users ?? [],
    accounts,
    now,
    log: logger,
    sharing: opts.iamSharing,
  });
  await iam.load();
  const openid = opts.openid ? new OpenIdProvider(opts.openid, region) : undefined;
  if (openid?.roleArn) logger.info({ roleArn: openid.roleArn }, 'OpenID role policy: clients assume this role ARN');
  // Targets' queues are opened (events a previous run left go out again) before the first request.
  const notify = await Notifier.start({ targets: [], queueBases: [], ...opts.notify, log: logger, now });
  // Remote tiers: their secrets are sealed as IAM's are; storage reads transitioned data through them.
  const tiers = new Tiers(opts.storage, iam.sealer, logger, opts.tierStatsSharing);
  opts.storage.attachTiers(tiers);
  // Replication queues left by a previous run are opened (their changes go out again) before the first request.
  const replication = opts.replication
    ? await Replicator.start({ ...opts.replication, storage: opts.storage, sealer: iam.sealer, log: logger })
    : undefined;
  if (opts.quotaSharing) shareQuota(opts.storage, opts.quotaSharing);
  const scheme = opts.tls ? 'https' : 'http';
  const server: ServerAdmin = {
    // The endpoint is known once listening (below).
    identity: {
      version: serverVersion(),
      startedAt: Date.now(),
      endpoint: '',
      scheme,
      region,
      domains: opts.domains ?? [],
    },
    trace: new TraceHub(opts.traceSharing),
    usage: new UsageCounter(opts.storage),
    heal: new HealSequences(opts.storage, opts.healSharing),
    kms: opts.sse?.kms,
    rewrap: new RewrapJobs(opts.storage, opts.sse?.kms, opts.rewrapSharing),
    service: opts.service,
    config: opts.config,
    metricsStreams: new MetricsStreams(),
  };
  // One count of failed logins per source address for LDAP and for the signed STS AssumeRole (the console's login).
  const logins = new LoginLimiter(now, opts.loginFailures);
  const ctx: HttpContext = {
    api: {
      server,
      storage: opts.storage,
      region,
      owner: { id: accounts.idOf(root), displayName: accounts.nameOf(root) },
      accounts,
      now,
      sse: opts.sse,
      iam,
      ldap: opts.ldap ? new LdapProvider(opts.ldap, logins) : undefined,
      openid,
      webIdentity: new RegisteredProviders(),
      notify,
      tiers,
      replication,
      lifecycleDayMs: opts.lifecycleDaySeconds === undefined ? undefined : opts.lifecycleDaySeconds * 1000,
      selectDialect: opts.selectDialect,
      selectCounts: new SelectCounts(),
    },
    auth: { credentials: iamCredentials(iam), region, now, keyCache: new Map() },
    domains: opts.domains ?? [],
    hostId: createHash('sha256').update(`cairn:${root}`).digest('base64'),
    logins,
  };
  // Resyncs count the changes they queued as the senders finish them.
  if (replication) replication.onDone = (e, bytes, ok) => resyncDone(ctx.api, e, bytes, ok);
  // A change's outcome is an s3:Replication:* event for the bucket's notification targets.
  if (replication)
    replication.onStatus = (e, status, bytes) =>
      publishReplicationEvent(ctx.api, e, status, bytes).catch((err: unknown) =>
        logger.warn({ bucket: e.bucket, key: e.key, err }, 'replication event not queued'),
      );
  // Lifecycle rules are applied with storage's background work (where and when storage runs it: the leader).
  const scanner = new LifecycleScanner(ctx.api, logger);
  opts.storage.addBackgroundTask('applying lifecycle rules', (stopping) => scanner.run(stopping));
  opts.storage.addBackgroundTask('removing released tier objects', (stopping) => tiers.drainJournal(stopping));
  // The data usage is counted after each scanner cycle (MinIO's scanner counts it): the cluster metrics read it.
  opts.storage.afterScanCycle?.(() => server.usage.count());
  const metrics = {
    series: new ServerMetrics(
      opts.storage,
      opts.metricsSharing,
      () => notify.status(),
      () => replication?.status() ?? [],
      (maxAgeMs) => server.usage.recent(maxAgeMs),
      ctx.api.selectCounts,
      () => server.usage.cached(),
    ),
    auth: opts.prometheusAuth ?? 'jwt',
  };
  server.apiTotals = () => metrics.series.totals();
  server.queues = () => metrics.series.queues();
  const app = buildApp(ctx, {
    logger,
    ready: opts.ready,
    // The rustls engine: a plain HTTP server whose connections rustls-socket.ts wraps (below).
    https: opts.tls?.engine === 'node' ? opts.tls.serverOptions() : undefined,
    worker: opts.worker,
    metrics,
    internode: opts.internode,
    trace: server.trace,
    console: new ConsoleFiles(opts.consoleDir, openid && (() => openid.consoleLogin())),
  });
  const tls = opts.tls;
  if (tls?.engine === 'rustls') serveRustls(app.server, (name) => tls.rustlsConfigFor(name));
  else if (tls) tls.attach(app.server as unknown as TlsServer);
  const { host, port } = parseAddress(opts.address ?? ':9000');
  // reusePort reaches net.Server.listen as fastify passes its options on (its types do not list it);
  // exclusive: in a node:cluster worker, bind here instead of sharing the primary's socket.
  const reuse = opts.reusePort ? { reusePort: true, exclusive: true } : {};
  try {
    await app.listen({ host, port, ...reuse } as FastifyListenOptions);
  } catch (e) {
    await notify.close();
    await replication?.close();
    throw e;
  }
  // Loaded once the server is in use and its loop quiet, so that no Select waits for it (api/select-load.ts).
  preloadSelectEngine(app.server, logger);
  const addr = app.server.address();
  const actualPort = typeof addr === 'object' && addr ? addr.port : port;
  const shown = (h: string) => (h === '0.0.0.0' || h === '::' ? '127.0.0.1' : h.includes(':') ? `[${h}]` : h);
  const shownHost = shown(host);
  let consoleListener: ConsoleListener | undefined;
  let consoleUrl: string | undefined;
  if (opts.consoleAddress !== undefined) {
    const at = parseAddress(opts.consoleAddress);
    // SO_REUSEPORT would let both bind one port; MinIO refuses the same port too.
    if (at.port !== 0 && at.port === actualPort) {
      await app.close();
      await notify.close();
      await replication?.close();
      throw new Error(`the console address ${opts.consoleAddress} has the S3 address's port`);
    }
    try {
      // No client certificate asked for there (mutual TLS between nodes): the nodes call the S3 address.
      const { listener, server: raw } = await listenConsole(app, { ...at, ...reuse }, opts.tls?.serverOptions(false));
      opts.tls?.attach(raw as unknown as TlsServer);
      consoleListener = listener;
      consoleUrl = `${scheme}://${shown(at.host)}:${listener.port}/console/`;
    } catch (e) {
      await app.close();
      await notify.close();
      await replication?.close();
      throw e;
    }
  }
  server.identity.endpoint = `${shownHost}:${actualPort}`;
  server.trace.nodeName = server.identity.endpoint;
  metrics.series.nameServer(server.identity.endpoint);
  return {
    url: `${scheme}://${shownHost}:${actualPort}`,
    port: actualPort,
    consoleUrl,
    consolePort: consoleListener?.port,
    notifyStatus: () => notify.status(),
    notifyIdle: () => notify.idle(),
    replicationStatus: () => replication?.status() ?? [],
    replicationIdle: () => replication?.idle() ?? Promise.resolve(),
    moveQueues: async (systemDirs) => {
      await notify.moveTo(systemDirs.map((d) => join(d, 'notify')));
      await replication?.moveTo(systemDirs.map((d) => join(d, 'replication')));
    },
    // Graceful: in-flight requests finish; a stalled client (a download nobody reads) is cut after the grace period.
    close: async () => {
      const timer = setTimeout(() => {
        app.server.closeAllConnections();
        consoleListener?.force();
      }, opts.shutdownGraceMs ?? 25_000);
      // Listeners', realtime metrics' and traces' streams never end by themselves.
      notify.endListeners();
      server.metricsStreams.endAll();
      server.trace.endAll();
      // Both stop accepting at once; the app's closing state makes answers in flight on either close their connection.
      const consoleClosed = consoleListener?.close();
      try {
        await app.close();
        await consoleClosed;
      } finally {
        clearTimeout(timer);
        await notify.close();
        await replication?.close();
      }
    },
  };
}
