// Worker threads (`cairn server`'s default worker mode) share the process's one libuv pool (disk I/O, the native
// kernels): it gets as many threads as the workers would have had as processes, UV_THREADPOOL_SIZE (default 4)
// each. libuv reads the variable once, when the pool first starts, and loading the server's modules starts it:
// so the command's entry (cli/main.ts) calls this first, before it imports them, from a quick look at the
// arguments (`cairn server` checks them properly later). This file imports nothing that would start the pool.
import { availableParallelism } from 'node:os';
import { defaultWorkerMode } from './spawn.js';

export function sizeThreadPool(argv: readonly string[], env: NodeJS.ProcessEnv): void {
  if (argv[0] !== 'server') return;
  let mode = env.CAIRN_WORKER_MODE || defaultWorkerMode();
  let workers = env.CAIRN_WORKERS;
  for (let i = 1; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = () => inline ?? argv[++i];
    if (flag === '--worker-mode') mode = value();
    else if (flag === '--workers') workers = value();
  }
  const n = workers ? Number(workers) : availableParallelism();
  if (mode !== 'threads' || !(n > 1)) return;
  const each = Number(env.UV_THREADPOOL_SIZE) || 4;
  env.UV_THREADPOOL_SIZE = String(Math.min(each * n, 1024));
}
