// `cairn server [--address HOST:PORT] [--certs-dir DIR] [--domain DOMAIN] [--region REGION] [--workers N] DRIVE...`
// One worker: this process serves. Several: this process becomes the primary (cluster/primary.ts) and
// forks the workers, each of which runs this command again and lands in cluster/worker.ts. The server
// itself (main.ts and the HTTP stack) is imported only by the process that serves, so the primary stays small.
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { isSea } from 'node:sea';
import { setFlagsFromString } from 'node:v8';
import { isMainThread, workerData } from 'node:worker_threads';
import pino from 'pino';
import { ldapConfigFromEnv } from '../api/iam/ldap-config.js';
import { openIdConfigFromEnv } from '../api/iam/openid-config.js';
import { loudly, type ServerArgs, serveUntilStopped, serverOptions } from '../cluster/serve.js';
import { checkTargets } from '../api/notify/target.js';
import { notifyTargetsFromEnv } from '../api/notify/targets.js';
import { replicationWorkersFromEnv } from '../api/replication/workers-env.js';
import { selectDialectFromEnv } from '../api/select-dialect.js';
import { prometheusAuthFromEnv } from '../http/metrics-auth.js';
import { parseDuration } from '../duration.js';

export { parseDuration };
import { parseAddress } from '../http/address.js';
import { drivePools } from '../storage/expand.js';
import { isEndpointArgument, planPools } from '../cluster/endpoints.js';
import { lockExpiryFromEnv } from '../cluster/lock-table.js';
import type { ServiceAction } from '../api/index.js';
import { defaultWorkerMode, type ThreadData, type WorkerMode } from '../cluster/spawn.js';
import { serverV8Flags } from '../cluster/worker-memory.js';

export const SERVER_USAGE = `Usage: cairn server [--address HOST:PORT] [--console-address HOST:PORT] [--certs-dir DIR]
                    [--domain DOMAIN] [--region REGION] [--workers N] [--worker-mode MODE] DRIVE...

  DRIVE...          local drive directories; {1...4} ranges are expanded (e.g. ./data/d{1...4}). Several
                    arguments with ranges are server pools, one each (./p1/d{1...4} ./p2/d{1...4}): new
                    objects go to a pool by free space, an object stays in its pool; one worker serves
                    them; \`cairn admin decommission start POOL\` drains a pool before it leaves. Or, for a
                    distributed deployment, the endpoints of every node's drives, the same on every node:
                    http://host{1...4}:9000/mnt/d{1...4} (one ellipsis argument) or an explicit list of
                    http://host:port/folder; each node finds its own by --address (a fixed port) and serves
                    them to the others; sets of 2..16 drives spread over the nodes (one worker per node).
                    https:// endpoints: the nodes talk TLS, with --certs-dir's certificate, verifying each
                    other against CAs/ (put the CA of the nodes' certificates there) and the system's roots
  --address         listen address (default :9000)
  --console-address the web console on an address of its own too (default: CAIRN_CONSOLE_ADDRESS, else
                    none; the console is always at /console/ on --address). Its page calls the S3 API on
                    that address, so the address serves S3 as well, with the same authentication
  --certs-dir       TLS certificates (default ~/.cairn/certs): public.crt + private.key serve HTTPS (TLS 1.2+),
                    subfolders hold more certificates chosen by SNI name, CAs/ trusted roots; reloaded when
                    the files change or on SIGHUP. Without public.crt in the default folder: plain HTTP
  --domain          domain for virtual-host-style requests (bucket.DOMAIN); repeatable
  --region          region reported to clients (default us-east-1)
  --workers         workers serving S3 on the address, over the same drives (default: CAIRN_WORKERS,
                    else the number of cores; a node of a distributed deployment: else 1); 1 serves from
                    this process alone
  --worker-mode     threads (the default; CAIRN_WORKER_MODE) or processes: threads of one process use less
                    memory, but a worker stuck in native code takes the whole process down (the single
                    executable runs processes only)
  --help            this text

Environment: CAIRN_ROOT_USER / CAIRN_ROOT_PASSWORD (root credentials), CAIRN_USERS="ak:sk,..." or
CAIRN_USERS_FILE (extra static users), CAIRN_LOG_LEVEL (default info; debug adds a line per request),
CAIRN_WORKERS (as --workers), CAIRN_WORKER_MODE (as --worker-mode).
CAIRN_TLS_ENGINE=node|rustls: who does the S3 address's TLS, node:tls (default) or the addon's rustls.
CAIRN_PROMETHEUS_AUTH_TYPE=jwt|public: /minio/v2/metrics/{cluster,node} need a bearer token of the root user
(\`cairn admin prometheus generate\`, the default) or are open to anyone.
CAIRN_KMS_SECRET_KEY=NAME:BASE64 (a 32-byte key sealing SSE-S3 data keys; development KMS, as MinIO's),
CAIRN_KMS_VAULT_ENDPOINT (a Vault/OpenBao transit engine as KMS instead: data keys made and opened by it),
_TOKEN or _APPROLE_ID and _APPROLE_SECRET, _KEY_NAME (default key), _TRANSIT_MOUNT (transit), _NAMESPACE,
_CAPATH (PEM CA file for https). CAIRN_KMS_AUTO_ENCRYPTION=on (every new object SSE-S3 unless SSE-C is
asked for). CAIRN_KMS_CACHE_EXPIRY (seconds an unsealed data key is kept in memory after the KMS opened it,
300; 0: ask the KMS on every read), CAIRN_KMS_CACHE_MAX_KEYS (10000).
CAIRN_SSE_C_LOOPBACK_HTTP=on accepts SSE-C keys over plain HTTP from loopback clients (for tests; S3
requires TLS for SSE-C, and so does Cairn otherwise).
With several workers a primary starts them (threads or processes), restarts one that dies, holds their
object locks and passes changes between them; answers carry x-cairn-worker (the worker's number) and log
lines "worker".
Tuning (defaults measured with bench/load): CAIRN_READ_BATCH_BLOCKS (blocks per shard read on GET, 4),
CAIRN_READ_AHEAD_BATCHES (batches read ahead of the one being sent, 1), CAIRN_BUFFER_POOL_MB (free
read/write buffers kept for reuse when idle, 32; up to 8 times that while busy and for 30 s after), CAIRN_READ_CACHE_MB
(batches shared between GETs of one object and read ahead for sequential readers, 32; 0: none),
CAIRN_METADATA_CACHE_MS (a GET's or HEAD's metadata read answers the object's next ones for this long, until
any write to its erasure set, here or in another worker; 0, the default: off; drive files changed behind
Cairn's back show only once it expired), UV_THREADPOOL_SIZE (libuv threads per worker for disk I/O and the native kernels, 4; must be set before node
starts; worker threads share one pool of that many per worker). The two memory budgets are the server's: the workers split them evenly. Each worker's V8 heap is
bounded (--max-old-space-size=192 --max-semi-space-size=8, first limit --initial-old-space-size=48; --expose-gc
for one memory-reducing collection once it serves, then glibc's malloc_trim), glibc's
mmap threshold fixed (128 KiB) and its arenas 2 for worker processes (--worker-mode processes), unless NODE_OPTIONS,
GLIBC_TUNABLES or MALLOC_ARENA_MAX given to \`cairn server\` set them; worker threads run in the server's own
process, whose malloc settings are those it was started with (GLIBC_TUNABLES given to \`cairn server\`).
LDAP logins (STS AssumeRoleWithLDAPIdentity), MinIO's settings: CAIRN_IDENTITY_LDAP_SERVER_ADDR (host:port),
_LOOKUP_BIND_DN, _LOOKUP_BIND_PASSWORD, _USER_DN_SEARCH_BASE_DN, _USER_DN_SEARCH_FILTER (with %s),
_GROUP_SEARCH_BASE_DN, _GROUP_SEARCH_FILTER (%s username, %d user DN), _SERVER_INSECURE=on (plain LDAP),
_TLS_SKIP_VERIFY=on.
OpenID Connect logins (STS AssumeRoleWithWebIdentity), MinIO's settings: CAIRN_IDENTITY_OPENID_CONFIG_URL
(the provider's /.well-known/openid-configuration), _CLIENT_ID (the audience tokens must name), _CLAIM_NAME
(the claim naming policies, default policy), _CLAIM_PREFIX, _ROLE_POLICY (policies every login gets; clients
then send the role ARN the server logs at start), _CLIENT_SECRET (accepted, not needed).
Bucket notifications, MinIO's settings (ARN arn:cairn:sqs::<ID>:<type>; without _<ID> the ID is _):
CAIRN_NOTIFY_WEBHOOK_ENABLE_<ID>=on, _ENDPOINT_<ID> (URL), _AUTH_TOKEN_<ID>, _MAX_WORKERS_<ID> (events sent at
once, 1 to 500, default 8; those of one object in order; Cairn's own); CAIRN_NOTIFY_REDIS_ENABLE_<ID>=on,
_ADDRESS_<ID> (host:port), _KEY_<ID>, _FORMAT_<ID> (namespace or access), _USER_<ID>, _PASSWORD_<ID>;
CAIRN_NOTIFY_POSTGRES_ENABLE_<ID>=on (ARN type postgresql), _TABLE_<ID>, _FORMAT_<ID> (namespace or access),
_CONNECTION_STRING_<ID> (key=value pairs or a postgres:// URL) or _HOST_, _PORT_, _USERNAME_, _PASSWORD_,
_DATABASE_<ID>, _MAX_OPEN_CONNECTIONS_<ID>;
CAIRN_NOTIFY_NATS_ENABLE_<ID>=on, _ADDRESS_<ID> (host:port), _SUBJECT_<ID>, _USERNAME_<ID>, _PASSWORD_<ID>,
_TOKEN_<ID>, _PING_INTERVAL_<ID>, _JETSTREAM_<ID> (on: wait for the stream's ack), _TLS_<ID>,
_CERT_AUTHORITY_<ID> (a CA file); CAIRN_NOTIFY_MQTT_ENABLE_<ID>=on, _BROKER_<ID> (tcp://host:1883, ws://,
ssl://, wss://), _TOPIC_<ID>, _QOS_<ID> (0, 1, 2), _USERNAME_<ID>, _PASSWORD_<ID>, _KEEP_ALIVE_INTERVAL_<ID> (10s),
_RECONNECT_INTERVAL_<ID> (1s); CAIRN_NOTIFY_AMQP_ENABLE_<ID>=on,
_URL_<ID> (amqp://user:password@host:5672/vhost), _EXCHANGE_<ID>, _EXCHANGE_TYPE_<ID>, _ROUTING_KEY_<ID>,
_MANDATORY_<ID>, _DURABLE_<ID>, _AUTO_DELETED_<ID>, _DELIVERY_MODE_<ID> (1 or 2); CAIRN_NOTIFY_KAFKA_ENABLE_<ID>=on,
_BROKERS_<ID> (host:port,...), _TOPIC_<ID>, _TLS_<ID>, _TLS_SKIP_VERIFY_<ID>, _SASL_<ID>, _SASL_MECHANISM_<ID>
(plain, sha256, sha512), _SASL_USERNAME_<ID>, _SASL_PASSWORD_<ID>, _PRODUCER_COMPRESSION_CODEC_<ID> (none, gzip).
Each target
queues its events on disk before requests are answered: _QUEUE_DIR_<ID> (default .cairn.sys/notify/<type>-<ID> on
each of the first three drives, every event on each; one folder per worker inside), _QUEUE_LIMIT_<ID> (100000).
Nodes of a distributed deployment: CAIRN_DSYNC_LOCK_EXPIRY (how long a node keeps a lock or lease it granted
once its holder stops refreshing it, every third of that: a killed node's locks and leader lease outlive it this
long; 30s, at least 10s; give every node the same).
Bucket replication: CAIRN_API_REPLICATION_MAX_WORKERS (senders per replication target in each worker, 1 to 500,
default 8; the changes of one object always go through the same sender, in order).
Multipart uploads: CAIRN_API_STALE_UPLOADS_EXPIRY (unfinished uploads older than this are removed with
their parts, 24h), CAIRN_API_STALE_UPLOADS_CLEANUP_INTERVAL (how often they are looked for, 6h); durations
as 1h30m, 90m, 45s. Lifecycle rules are applied at the same interval.
Scanner: CAIRN_SCANNER_SPEED (MinIO's speeds: fastest, fast, default, slow, slowest) paces the background
scanner that checks every object and, after each cycle, counts the data usage the cluster metrics show: a pause
between cycles of 1s, 1m, 1m, 1m, 30m, and at most unlimited, 200, 50, 10, 1 objects a second.
S3 Select: CAIRN_SELECT_DIALECT (aws, cairn or ceph) is the SQL dialect of requests without x-cairn-dialect
(default aws).
Stored configuration (\`cairn admin config\`, MinIO's *-config-kv calls): region name, the api, select,
identity_openid, identity_ldap and notify_* keys above are read at start from the drives too, under these
variables (the environment wins); CAIRN_REGION_NAME
is the region when --region is not given.
CAIRN_LIFECYCLE_DAY_SECONDS=N (tests): a day lasts N seconds, and these durations shrink in the same ratio; a
lifecycle rule's Days=1 falls due N seconds after the object was written (not rounded to midnight).
`;

/** Storage tuning from the environment (see SERVER_USAGE); unset variables keep the defaults. */
export function tuningFromEnv(env: NodeJS.ProcessEnv): {
  readBatchBlocks?: number;
  readAheadBatches?: number;
  poolBytes?: number;
  readCacheBytes?: number;
  metadataCacheMs?: number;
  staleUploadsExpiryMs?: number;
  staleUploadsCleanupIntervalMs?: number;
  scannerIntervalMs?: number;
  scannerObjectsPerSecond?: number;
  /** The lifecycle test clock (not a storage setting: the API layer's). */
  lifecycleDaySeconds?: number;
} {
  const poolMb = wholeFromEnv(env, 'CAIRN_BUFFER_POOL_MB', 0);
  const cacheMb = wholeFromEnv(env, 'CAIRN_READ_CACHE_MB', 0);
  // The test clock: a day of N seconds shortens every day-scale duration in the same ratio.
  const daySeconds = wholeFromEnv(env, 'CAIRN_LIFECYCLE_DAY_SECONDS', 1);
  const scale = daySeconds === undefined ? 1 : daySeconds / 86_400;
  const duration = (name: string, dflt: number): number | undefined => {
    const v = env[name];
    if ((v === undefined || v === '') && daySeconds === undefined) return undefined;
    const ms = v === undefined || v === '' ? dflt : parseDuration(v);
    if (ms === undefined) throw new Error(`${name} must be a duration such as 24h, 90m or 45s, got '${v}'`);
    return Math.max(1, Math.round(ms * scale));
  };
  return {
    staleUploadsExpiryMs: duration('CAIRN_API_STALE_UPLOADS_EXPIRY', 24 * 3_600_000),
    staleUploadsCleanupIntervalMs: duration('CAIRN_API_STALE_UPLOADS_CLEANUP_INTERVAL', 6 * 3_600_000),
    lifecycleDaySeconds: daySeconds,
    readBatchBlocks: wholeFromEnv(env, 'CAIRN_READ_BATCH_BLOCKS', 1),
    readAheadBatches: wholeFromEnv(env, 'CAIRN_READ_AHEAD_BATCHES', 0),
    poolBytes: poolMb === undefined ? undefined : poolMb * 1024 * 1024,
    readCacheBytes: cacheMb === undefined ? undefined : cacheMb * 1024 * 1024,
    metadataCacheMs: wholeFromEnv(env, 'CAIRN_METADATA_CACHE_MS', 0),
    ...scannerSpeed(env.CAIRN_SCANNER_SPEED),
  };
}

/**
 * MinIO's scanner speeds (internal/config/scanner: its cycle for each) as Cairn's scanner pacing: the pause
 * between cycles and the objects checked a second.
 */
const SCANNER_SPEEDS: Record<string, { scannerIntervalMs: number; scannerObjectsPerSecond: number }> = {
  fastest: { scannerIntervalMs: 1000, scannerObjectsPerSecond: 1_000_000 },
  fast: { scannerIntervalMs: 60_000, scannerObjectsPerSecond: 200 },
  default: { scannerIntervalMs: 60_000, scannerObjectsPerSecond: 50 },
  slow: { scannerIntervalMs: 60_000, scannerObjectsPerSecond: 10 },
  slowest: { scannerIntervalMs: 30 * 60_000, scannerObjectsPerSecond: 1 },
};

function scannerSpeed(v: string | undefined): { scannerIntervalMs?: number; scannerObjectsPerSecond?: number } {
  if (v === undefined || v === '') return {};
  const speed = Object.hasOwn(SCANNER_SPEEDS, v) ? SCANNER_SPEEDS[v] : undefined;
  if (!speed) throw new Error(`CAIRN_SCANNER_SPEED must be ${Object.keys(SCANNER_SPEEDS).join(', ')}, got '${v}'`);
  return speed;
}

/** A whole number >= min from the environment, or undefined when unset. */
function wholeFromEnv(env: NodeJS.ProcessEnv, name: string, min: number): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  return whole(name, v, min);
}

function workerMode(name: string, v: string): WorkerMode {
  if (v !== 'processes' && v !== 'threads') throw new Error(`${name} must be processes or threads, got '${v}'`);
  return v;
}

function whole(name: string, v: string, min: number): number {
  // Digits only: not 0x10, 1e1 or ' 8 '.
  if (!/^\d+$/.test(v) || Number(v) < min) throw new Error(`${name} must be a whole number >= ${min}, got '${v}'`);
  return Number(v);
}

/** At most this many workers: each is a whole server process (~60 MB idle). */
export const MAX_WORKERS = 64;

export function parseServerArgs(argv: string[], env: NodeJS.ProcessEnv = {}): ServerArgs {
  const args: ServerArgs = { domains: [], drives: [], workers: 0, help: false };
  let workers: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const eq = a.indexOf('=');
      if (eq > 0) return a.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--address' || a.startsWith('--address=')) args.address = value();
    else if (a === '--console-address' || a.startsWith('--console-address=')) args.consoleAddress = value();
    else if (a === '--certs-dir' || a.startsWith('--certs-dir=')) args.certsDir = value();
    else if (a === '--domain' || a.startsWith('--domain=')) args.domains.push(value());
    else if (a === '--region' || a.startsWith('--region=')) args.region = value();
    else if (a === '--workers' || a.startsWith('--workers=')) workers = whole('--workers', value(), 1);
    else if (a === '--worker-mode' || a.startsWith('--worker-mode='))
      args.workerMode = workerMode('--worker-mode', value());
    else if (a === '--help' || a === '-h') args.help = true;
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else args.drives.push(a);
  }
  if (args.help) return args;
  if (args.drives.length === 0) throw new Error('at least one DRIVE directory is needed');
  if (args.workerMode === undefined && env.CAIRN_WORKER_MODE)
    args.workerMode = workerMode('CAIRN_WORKER_MODE', env.CAIRN_WORKER_MODE);
  args.consoleAddress ??= env.CAIRN_CONSOLE_ADDRESS || undefined;
  if (args.consoleAddress !== undefined) {
    // MinIO's two refusals: the same address, or the same port.
    const { port } = parseAddress(args.consoleAddress);
    if (port !== 0 && port === parseAddress(args.address ?? ':9000').port)
      throw new Error(`--console-address ${args.consoleAddress} cannot have the port of --address`);
  }
  if (args.drives.some(isEndpointArgument)) {
    if (!args.drives.every(isEndpointArgument))
      throw new Error('give either local drive folders or endpoints of nodes (http://host:port/folder), not both');
    // Checked now (sets, spread, this node among them) so that a wrong command line fails before anything starts.
    planPools(args.drives, args.address ?? ':9000');
    // A node runs one worker unless told otherwise (its workers are one node to the others: cluster/node.ts).
    args.workers = workers ?? wholeFromEnv(env, 'CAIRN_WORKERS', 1) ?? 1;
    if (args.workers > MAX_WORKERS) throw new Error(`at most ${MAX_WORKERS} workers, got ${args.workers}`);
    return args;
  }
  // Several ellipsis arguments are server pools: checked now, so that a wrong command line fails before anything
  // starts.
  drivePools(args.drives);
  args.workers = workers ?? wholeFromEnv(env, 'CAIRN_WORKERS', 1) ?? availableParallelism();
  if (args.workers > MAX_WORKERS) throw new Error(`at most ${MAX_WORKERS} workers, got ${args.workers}`);
  return args;
}

export async function serverCommand(argv: string[]): Promise<number> {
  let args: ServerArgs;
  let tuning: ReturnType<typeof tuningFromEnv>;
  let ldap: ReturnType<typeof ldapConfigFromEnv>;
  let openid: ReturnType<typeof openIdConfigFromEnv>;
  try {
    args = parseServerArgs(argv, process.env);
    tuning = tuningFromEnv(process.env);
    ldap = ldapConfigFromEnv(process.env);
    openid = openIdConfigFromEnv(process.env);
    // Checked here to refuse a bad environment before anything starts; startServer reads the targets again from
    // the environment over the stored configuration (api/admin/config).
    checkTargets(notifyTargetsFromEnv(process.env));
    prometheusAuthFromEnv(process.env);
    replicationWorkersFromEnv(process.env);
    selectDialectFromEnv(process.env);
    lockExpiryFromEnv(process.env);
  } catch (e) {
    process.stderr.write(`cairn server: ${(e as Error).message}\n\n${SERVER_USAGE}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(SERVER_USAGE);
    return 0;
  }
  const level = process.env.CAIRN_LOG_LEVEL ?? 'info';
  const { lifecycleDaySeconds, ...storage } = tuning;
  // Process-wide V8 flags (worker-memory.ts), before any thread starts: isolates made later take them too.
  for (const flag of serverV8Flags(process.execArgv, process.env.NODE_OPTIONS)) setFlagsFromString(flag);
  const thread = !isMainThread && (workerData as ThreadData | undefined)?.cairnWorker === true;
  if (cluster.isWorker || thread)
    return (await import('../cluster/worker.js')).runWorker(
      args,
      { storage, ldap, openid, lifecycleDaySeconds },
      level,
    );
  const logger = pino({ level });
  if (args.workers > 1) {
    const accept = process.env.CAIRN_WORKER_ACCEPT === 'reuseport' ? 'reuseport' : 'shared';
    const mode = args.workerMode ?? defaultWorkerMode();
    if (mode === 'threads') {
      if (isSea()) {
        process.stderr.write(
          'cairn server: --worker-mode threads needs node (the single executable forks processes)\n',
        );
        return 2;
      }
    }
    return (await import('../cluster/primary.js')).runPrimary(args, logger, { accept, mode, argv });
  }
  const { startServer } = await import('../main.js');
  // The admin API's service restart closes the server and starts it again in this process, on the same port.
  let address = args.address;
  let consoleAddress = args.consoleAddress;
  for (;;) {
    let asked: ServiceAction | undefined;
    let stopForAdmin: (why: string) => void = () => {};
    let server: Awaited<ReturnType<typeof startServer>>;
    try {
      server = await startServer({
        ...(await serverOptions(args)),
        address,
        consoleAddress,
        storage,
        lifecycleDaySeconds,
        ldap,
        openid,
        logger,
        warn: loudly,
        service: (action) => {
          asked ??= action;
          stopForAdmin(`admin: service ${action}`);
        },
      });
    } catch (e) {
      // A refusal to start (drives of another deployment, nodes that do not agree): said plainly, no stack.
      logger.error({ err: e }, 'cannot start');
      process.stderr.write(`cairn server: ${(e as Error).message}\n`);
      return 1;
    }
    logger.info(
      { url: server.url, accessKey: server.credentials.root.accessKey, drives: args.drives },
      `Cairn is serving S3 at ${server.url}`,
    );
    if (server.consoleUrl) logger.info({ url: server.consoleUrl }, `The web console is at ${server.consoleUrl}`);
    await serveUntilStopped(server, logger, (stop) => (stopForAdmin = stop));
    if (asked !== 'restart') return 0;
    const samePort = (given: string, port: number) =>
      `${parseAddress(given).host.replace(/^(.*:.*)$/, '[$1]')}:${port}`;
    address = samePort(args.address ?? ':9000', server.port);
    if (args.consoleAddress && server.consolePort) consoleAddress = samePort(args.consoleAddress, server.consolePort);
  }
}
