// `cairn gateway <kind> ...`: Cairn's S3 API (auth, IAM, policies, S3 Select) in front of storage that is
// not Cairn's own drives. Each kind is one case below and one function.
//   nas PATH   an existing folder served as S3 (storage/nas): top-level folders are buckets, files objects.
//   s3 URL     another S3 endpoint served through Cairn (storage/s3gw): its buckets and objects, Cairn's users.
import pino from 'pino';
import { ldapConfigFromEnv } from '../api/iam/ldap-config.js';
import { openIdConfigFromEnv } from '../api/iam/openid-config.js';
import { checkTargets } from '../api/notify/target.js';
import { notifyTargetsFromEnv } from '../api/notify/targets.js';
import { loudly, serveUntilStopped, serverOptions } from '../cluster/serve.js';
import { nasGateway, s3Gateway } from '../storage/index.js';
import type { SpliceMode } from '../storage/object-layer.js';
import { parseServerArgs, tuningFromEnv } from './server.js';

export const GATEWAY_USAGE = `Usage: cairn gateway <kind> ...

Kinds:
  nas PATH        serve an existing folder as S3: cairn gateway nas --help
  s3 URL          serve another S3 endpoint through Cairn: cairn gateway s3 --help
`;

export const NAS_USAGE = `Usage: cairn gateway nas [--address HOST:PORT] [--certs-dir DIR] [--domain DOMAIN] [--region REGION] PATH

  PATH            the folder to serve: its top-level folders are buckets, the files below them objects (a / in a
                  key is a folder). Cairn keeps what files cannot hold (content type, user metadata, tags,
                  checksums, ETags of what it wrote), uploads in progress, temp files and its own state (IAM) in
                  PATH/.cairn.sys, which no request can name and no listing shows.
  --address, --certs-dir, --domain, --region   as for cairn server
  --workers       only 1: one process serves a folder (its key locks and side-store cache are in memory)

Writes go to a temp file in PATH/.cairn.sys/tmp and replace the file in one rename: other readers of the
folder see the old file or the new one, never half. Files added, changed or removed by others are seen on the
next request (a file Cairn did not write has an ETag made of its inode, size and modification time).
Refused (501 NotImplemented): versioning, object lock, replication, lifecycle rules and tiers, server-side
encryption. Keys no file can have are refused: '..', '.', '//', a leading or trailing '/' (InvalidArgument),
NUL (XMinioInvalidObjectName), a segment over 255 bytes (KeyTooLongError), 'a/b' when 'a' is a file
(XMinioParentIsObject), 'a' when 'a' is a folder (XMinioObjectExistsAsDirectory). Symlinks are followed
only within their bucket's folder (else AccessDenied). Environment: as for cairn server (credentials, LDAP,
OpenID, notifications, CAIRN_API_STALE_UPLOADS_*).
`;

export async function gatewayCommand(argv: string[]): Promise<number> {
  const [kind, ...rest] = argv;
  switch (kind) {
    case 'nas':
      return nasCommand(rest);
    case 's3':
      return s3Command(rest);
    case undefined:
    case '--help':
    case 'help':
      process.stdout.write(GATEWAY_USAGE);
      return kind === undefined ? 2 : 0;
    default:
      process.stderr.write(`cairn gateway: unknown kind '${kind}'\n\n${GATEWAY_USAGE}`);
      return 2;
  }
}

/** The NAS gateway's command line: the server's options, one PATH, one worker. */
export function parseNasArgs(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const needPath = 'one PATH (the folder to serve) is needed';
  // A missing PATH is the server's missing DRIVE: said in the gateway's words.
  const args = (() => {
    try {
      return parseServerArgs(argv, { CAIRN_WORKERS: env.CAIRN_WORKERS ?? '1' });
    } catch (e) {
      throw /DRIVE/.test((e as Error).message) ? new Error(needPath) : e;
    }
  })();
  if (args.help) return args;
  if (args.drives.length !== 1) throw new Error(needPath);
  if (args.workers !== 1)
    throw new Error(
      `the NAS gateway runs as one process (--workers 1, got ${args.workers}): its key locks and side-store ` +
        'cache live in memory, and two processes writing one folder could not see each other',
    );
  return args;
}

export const S3_USAGE = `Usage: cairn gateway s3 [--address HOST:PORT] [--certs-dir DIR] [--domain DOMAIN]
                        [--region REGION] URL

  URL             the backend S3 endpoint (http://host:port or https://...), reached path-style. Its buckets and
                  objects are served as they are: listings, ranges, multipart uploads (the backend's upload
                  ids), tags and user metadata pass through; GET and PUT bodies are streamed both ways.
                  S3 Select runs in Cairn over ranged reads of the backend's objects (Parquet: footer and the
                  needed column chunks only; footers are kept in memory by ETag).
  --address, --certs-dir, --domain, --region   as for cairn server
  --workers       only 1

Environment:
  CAIRN_GATEWAY_ACCESS_KEY, CAIRN_GATEWAY_SECRET_KEY   the backend's credentials (needed)
  CAIRN_GATEWAY_REGION      the backend's region (default us-east-1)
  CAIRN_GATEWAY_SPLICE      auto (default), on or off: whether object bytes of GETs over plain HTTP on both
                            sides move from the backend's socket to the client's inside the kernel (Linux
                            splice) instead of through node; auto: only to clients on another host (to a client
                            on this host, through node is cheaper and faster)
  CAIRN_GATEWAY_STATE_DIR   local folder of Cairn's own state: IAM users and policies, the bucket
                            configurations Cairn applies (policy, CORS, tags, notifications) (needed)
  and as for cairn server: CAIRN_ROOT_USER/PASSWORD (clients authenticate to Cairn, not to the backend),
  LDAP, OpenID, notifications.
Backend unreachable, timing out or answering 5xx: 503 ServiceUnavailable. Refused (501 NotImplemented):
versioning, object lock, replication, lifecycle rules and tiers, Cairn's server-side encryption.
`;

const SPLICE_MODES: readonly SpliceMode[] = ['auto', 'on', 'off'];

/** The S3 gateway's command line: the server's options, one URL, one worker, the backend from the environment. */
export function parseS3Args(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const needUrl = 'one URL (the backend S3 endpoint) is needed';
  // The server's parser takes http:// arguments for the nodes of a cluster: URLs go past it as placeholders.
  const urls = argv.filter((a) => /^https?:\/\//.test(a));
  const placeholders = argv.map((a) => (urls.includes(a) ? `backend-url-${urls.indexOf(a)}` : a));
  const args = (() => {
    try {
      const parsed = parseServerArgs(placeholders, { CAIRN_WORKERS: env.CAIRN_WORKERS ?? '1' });
      parsed.drives = parsed.drives.map((d) => (d.startsWith('backend-url-') ? urls[Number(d.slice(12))] : d));
      return parsed;
    } catch (e) {
      throw /DRIVE/.test((e as Error).message) ? new Error(needUrl) : e;
    }
  })();
  if (args.help) return { ...args, backend: undefined };
  if (args.drives.length !== 1) throw new Error(needUrl);
  if (args.workers !== 1) throw new Error(`the S3 gateway runs as one process (--workers 1, got ${args.workers})`);
  const url = args.drives[0];
  if (!/^https?:\/\/[^/]+/.test(url)) throw new Error(`${url} is not an http:// or https:// URL`);
  const accessKey = env.CAIRN_GATEWAY_ACCESS_KEY;
  const secretKey = env.CAIRN_GATEWAY_SECRET_KEY;
  if (!accessKey || !secretKey)
    throw new Error('CAIRN_GATEWAY_ACCESS_KEY and CAIRN_GATEWAY_SECRET_KEY (the backend credentials) are needed');
  const stateDir = env.CAIRN_GATEWAY_STATE_DIR;
  if (!stateDir) throw new Error("CAIRN_GATEWAY_STATE_DIR (the local folder of Cairn's own state) is needed");
  const splice = (env.CAIRN_GATEWAY_SPLICE ?? 'auto') as SpliceMode;
  if (!SPLICE_MODES.includes(splice)) throw new Error(`CAIRN_GATEWAY_SPLICE must be auto, on or off, not ${splice}`);
  return {
    ...args,
    backend: { url, accessKey, secretKey, region: env.CAIRN_GATEWAY_REGION, stateDir, splice },
  };
}

async function s3Command(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parseS3Args>;
  let config: ReturnType<typeof nasConfigFromEnv>;
  try {
    args = parseS3Args(argv, process.env);
    config = nasConfigFromEnv(process.env);
  } catch (e) {
    process.stderr.write(`cairn gateway s3: ${(e as Error).message}\n\n${S3_USAGE}`);
    return 2;
  }
  if (args.help || !args.backend) {
    process.stdout.write(S3_USAGE);
    return 0;
  }
  const logger = pino({ level: process.env.CAIRN_LOG_LEVEL ?? 'info' });
  const log = { info: (m: string) => logger.info(m), warn: (m: string) => logger.warn(m) };
  const { startServer } = await import('../main.js');
  const server = await startServer({
    ...(await serverOptions(args)),
    drives: [],
    gateway: s3Gateway({ ...args.backend, log }),
    ldap: config.ldap,
    openid: config.openid,
    notify: config.notify,
    logger,
    warn: loudly,
  });
  const backend = args.backend.url;
  logger.info({ url: server.url, backend }, `Cairn is serving ${backend} as S3 at ${server.url}`);
  await serveUntilStopped(server, logger);
  return 0;
}

/** What the gateway takes from the environment, as `cairn server` does; throws on a bad value. */
function nasConfigFromEnv(env: NodeJS.ProcessEnv) {
  const notifyTargets = notifyTargetsFromEnv(env);
  checkTargets(notifyTargets);
  const { staleUploadsExpiryMs, staleUploadsCleanupIntervalMs } = tuningFromEnv(env);
  return {
    ldap: ldapConfigFromEnv(env),
    openid: openIdConfigFromEnv(env),
    notify: { targets: notifyTargets },
    stale: { staleUploadsExpiryMs, staleUploadsCleanupIntervalMs },
  };
}

async function nasCommand(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parseNasArgs>;
  let config: ReturnType<typeof nasConfigFromEnv>;
  try {
    args = parseNasArgs(argv, process.env);
    config = nasConfigFromEnv(process.env);
  } catch (e) {
    process.stderr.write(`cairn gateway nas: ${(e as Error).message}\n\n${NAS_USAGE}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(NAS_USAGE);
    return 0;
  }
  const logger = pino({ level: process.env.CAIRN_LOG_LEVEL ?? 'info' });
  const log = { info: (m: string) => logger.info(m), warn: (m: string) => logger.warn(m) };
  const path = args.drives[0];
  const { startServer } = await import('../main.js');
  const server = await startServer({
    ...(await serverOptions(args)),
    drives: [],
    gateway: nasGateway(path, { ...config.stale, log }),
    ldap: config.ldap,
    openid: config.openid,
    notify: config.notify,
    logger,
    warn: loudly,
  });
  logger.info({ url: server.url, path }, `Cairn is serving the folder ${path} as S3 at ${server.url}`);
  await serveUntilStopped(server, logger);
  return 0;
}
