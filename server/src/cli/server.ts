// `cairn server [--address HOST:PORT] [--domain DOMAIN] [--region REGION] DRIVE...`
import pino from 'pino';
import { startServer } from '../main.js';

export const SERVER_USAGE = `Usage: cairn server [--address HOST:PORT] [--domain DOMAIN] [--region REGION] DRIVE...

  DRIVE...          drive directories; {1...4} ranges are expanded (e.g. ./data/d{1...4})
  --address         listen address (default :9000)
  --domain          domain for virtual-host-style requests (bucket.DOMAIN); repeatable
  --region          region reported to clients (default us-east-1)

Environment: CAIRN_ROOT_USER / CAIRN_ROOT_PASSWORD (root credentials), CAIRN_USERS="ak:sk,..." or
CAIRN_USERS_FILE (extra static users), CAIRN_LOG_LEVEL (default info).
`;

interface Args {
  address?: string;
  domains: string[];
  region?: string;
  drives: string[];
}

export function parseServerArgs(argv: string[]): Args {
  const args: Args = { domains: [], drives: [] };
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
    else if (a === '--domain' || a.startsWith('--domain=')) args.domains.push(value());
    else if (a === '--region' || a.startsWith('--region=')) args.region = value();
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else args.drives.push(a);
  }
  if (args.drives.length === 0) throw new Error('at least one DRIVE directory is needed');
  return args;
}

export async function serverCommand(argv: string[]): Promise<number> {
  let args: Args;
  try {
    args = parseServerArgs(argv);
  } catch (e) {
    process.stderr.write(`cairn server: ${(e as Error).message}\n\n${SERVER_USAGE}`);
    return 2;
  }
  const logger = pino({ level: process.env.CAIRN_LOG_LEVEL ?? 'info' });
  const loud = (m: string) => process.stderr.write(`\n${'!'.repeat(100)}\n${m}\n${'!'.repeat(100)}\n\n`);
  const server = await startServer({ ...args, logger, warn: loud });
  logger.info({ url: server.url, accessKey: server.credentials.root.accessKey, drives: args.drives }, `Cairn is serving S3 at ${server.url}`);

  // Graceful shutdown: stop accepting, let requests in flight finish (30 s at most), release the drives.
  await new Promise<void>((resolve) => {
    let closing = false;
    const stop = (signal: string) => {
      if (closing) return;
      closing = true;
      logger.info({ signal }, 'shutting down');
      const timer = setTimeout(() => {
        logger.warn('requests still in flight after 30 s; exiting');
        process.exit(1);
      }, 30_000);
      timer.unref();
      server.close().then(resolve, (e) => {
        logger.error({ err: e }, 'error during shutdown');
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}
