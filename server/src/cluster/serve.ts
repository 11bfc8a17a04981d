// Running `cairn server`: the parsed command line, and serving until SIGTERM / SIGINT (or the primary's
// word, in a worker) with a graceful stop. Shared by the process that serves alone (cli/server.ts) and
// the workers of a multi-worker server (worker.ts).
import type { Logger } from 'pino';
import { DEFAULT_CERTS_DIR, hasCertificate } from '../http/tls.js';
import type { CairnServer, ServerOptions } from '../main.js';
import type { WorkerMode } from './spawn.js';

export interface ServerArgs {
  address?: string;
  /** --console-address, else CAIRN_CONSOLE_ADDRESS: the web console's own listener. */
  consoleAddress?: string;
  certsDir?: string;
  domains: string[];
  region?: string;
  drives: string[];
  /** --workers, else CAIRN_WORKERS, else the number of cores. */
  workers: number;
  /** --worker-mode, else CAIRN_WORKER_MODE, else defaultWorkerMode() (threads; the single executable: processes). */
  workerMode?: WorkerMode;
  help: boolean;
}

/** What startServer takes from the command line (and CAIRN_SSE_C_LOOPBACK_HTTP). */
export async function serverOptions(
  args: ServerArgs,
  env: NodeJS.ProcessEnv = process.env,
): Promise<
  Pick<
    ServerOptions,
    'drives' | 'address' | 'consoleAddress' | 'domains' | 'region' | 'certsDir' | 'sseCOverLoopbackHttp'
  >
> {
  // An explicit --certs-dir must hold a certificate (startServer refuses otherwise); the default one is
  // used when it has one, as MinIO does.
  const certsDir = args.certsDir ?? ((await hasCertificate(DEFAULT_CERTS_DIR)) ? DEFAULT_CERTS_DIR : undefined);
  return {
    drives: args.drives,
    address: args.address,
    consoleAddress: args.consoleAddress,
    domains: args.domains,
    region: args.region,
    certsDir,
    sseCOverLoopbackHttp: env.CAIRN_SSE_C_LOOPBACK_HTTP === 'on',
  };
}

/** Configuration warnings (development credentials) on stderr, where an operator sees them. */
export function loudly(m: string): void {
  process.stderr.write(`\n${'!'.repeat(100)}\n${m}\n${'!'.repeat(100)}\n\n`);
}

/**
 * Serve until SIGTERM or SIGINT (or `stopOn` calls back): then stop accepting, let requests in flight
 * finish (30 s at most) and release the drives. With TLS, SIGHUP reloads the certificates.
 */
export async function serveUntilStopped(
  server: CairnServer,
  logger: Logger,
  stopOn?: (stop: (why: string) => void) => void,
): Promise<void> {
  const reload = () => void server.tls?.reload();
  if (server.tls) process.on('SIGHUP', reload);
  const onTerm = () => stop('SIGTERM');
  const onInt = () => stop('SIGINT');
  let stop: (why: string) => void = () => {};
  await new Promise<void>((resolve) => {
    let closing = false;
    stop = (signal: string) => {
      if (closing) return;
      closing = true;
      logger.info({ signal }, 'shutting down');
      const timer = setTimeout(() => {
        logger.warn('requests still in flight after 30 s; exiting');
        process.exit(1);
      }, 30_000);
      timer.unref();
      // Cleared once closed: a server restarted in this process (admin service restart) lives on.
      const closed = () => {
        clearTimeout(timer);
        resolve();
      };
      server.close().then(closed, (e) => {
        logger.error({ err: e }, 'error during shutdown');
        closed();
      });
    };
    process.once('SIGTERM', onTerm);
    process.once('SIGINT', onInt);
    stopOn?.(stop);
  });
  // A server restarted in this process (admin service restart) registers its own.
  process.off('SIGTERM', onTerm);
  process.off('SIGINT', onInt);
  process.off('SIGHUP', reload);
}
