// The `cairn` command line: `cairn --version`, `cairn selftest`, `cairn server ...`, `cairn gateway ...`.
// The native addon and the self-test load only for the commands that use them: the primary of a
// multi-worker server runs this file too, and stays small.
import { readFileSync } from 'node:fs';
import { serverCommand } from './server.js';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

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
      console.log(`cairn ${packageVersion()} (native ${nativeVersion()}, node ${process.version})`);
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

process.exitCode = await main(process.argv.slice(2));
