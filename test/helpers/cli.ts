// The `cairn` command as a child process, run from the sources through tsx (no build needed), in the repository.
import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Runs `cairn ARGS...` with the environment given (added to this process's); stdout and stderr piped by default.
 * `cwd`: the process's working directory (default the repository; tsx and the sources are found from there anyway).
 */
export function spawnCairn(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  stdio: StdioOptions = ['ignore', 'pipe', 'pipe'],
  cwd = repo,
): ChildProcess {
  const tsx = cwd === repo ? 'tsx' : pathToFileURL(join(repo, 'node_modules/tsx/dist/loader.mjs')).href;
  const main = join(repo, 'server/src/cli/main.ts');
  return spawn(process.execPath, ['--conditions=source', '--import', tsx, main, ...args], {
    cwd,
    env: { ...process.env, ...(cwd === repo ? {} : { TSX_TSCONFIG_PATH: join(repo, 'tsconfig.json') }), ...env },
    stdio,
  });
}
