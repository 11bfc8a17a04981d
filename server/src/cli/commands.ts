// The `cairn` command line: `cairn --version`, `cairn selftest`, `cairn server ...`, `cairn gateway ...`,
// run by main.ts (node server/bin/cairn.js) and binary.ts (the single executable). The native addon and the
// self-test load only for the commands that use them: the primary of a multi-worker server runs this file too,
// and stays small.
import { serverVersion } from '../version.js';
import { serverCommand } from './server.js';

const USAGE = `Usage: cairn <command>

Commands:
  server          run the S3 server: cairn server [--address HOST:PORT] DRIVE...
  gateway         serve an existing folder as S3: cairn gateway nas PATH (cairn gateway --help)
  admin           manage users, groups, policies and service accounts: cairn admin --help
  selftest        run the known-answer tests of the native kernels
  --version       print versions
`;

export async function main(argv: string[]): Promise<number> {
  const [cmd] = argv;
  switch (cmd) {
    case '--version':
    case 'version': {
      const { nativeVersion } = await import('@cairn/native');
      console.log(`cairn ${serverVersion()} (native ${nativeVersion()}, node ${process.version})`);
      return 0;
    }
    case 'server':
      return serverCommand(argv.slice(1));
    case 'gateway':
      return (await import('./gateway.js')).gatewayCommand(argv.slice(1));
    case 'selftest':
      return (await import('./selftest.js')).selftest();
    case 'admin':
      return (await import('./admin.js')).adminCommand(argv.slice(1));
    case undefined:
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return cmd === undefined ? 2 : 0;
    default:
      process.stderr.write(`cairn: unknown command '${cmd}'\n\n${USAGE}`);
      return 2;
  }
}
