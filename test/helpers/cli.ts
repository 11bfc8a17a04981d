// The `cairn` command as a child process, run from the sources through tsx (no build needed), in the repository.
import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));

/** Runs `cairn ARGS...` with the environment given (added to this process's); stdout and stderr piped by default. */
export function spawnCairn(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  stdio: StdioOptions = ['ignore', 'pipe', 'pipe'],
): ChildProcess {
  return spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'server/src/cli/main.ts', ...args], {
    cwd: repo,
    env: { ...process.env, ...env },
    stdio,
  });
}
