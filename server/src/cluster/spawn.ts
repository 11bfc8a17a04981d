// How the primary starts a worker (--worker-mode / CAIRN_WORKER_MODE): a process of its own forked by node:cluster,
// or a thread of the primary's process (the default) (node:worker_threads; one process, one libuv pool, one copy
// of the code and of node's own memory: a smaller idle server). Either way the primary sees a WorkerHandle: it
// sends batches of messages, hears batches back, learns of the exit, and can kill it.
// A thread is killed with terminate(), which stops its JavaScript; it cannot stop a thread stuck in native code,
// so a thread that has not stopped KILL_WAIT_MS later takes the whole process down (a supervisor restarts it).
import cluster from 'node:cluster';
import { extname } from 'node:path';
import { isSea } from 'node:sea';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import type { ToPrimary, ToWorker } from './protocol.js';
import { threadV8Flags, WORKER_OLD_SPACE_MB, WORKER_SEMI_SPACE_MB } from './worker-memory.js';

export type WorkerMode = 'processes' | 'threads';

/**
 * The mode when neither --worker-mode nor CAIRN_WORKER_MODE names one: threads (half the idle memory of
 * processes, bench/load/README.md), except in the single executable, which can only fork itself.
 */
export function defaultWorkerMode(): WorkerMode {
  return isSea() ? 'processes' : 'threads';
}

export interface WorkerHandle {
  /** The process id (processes) or thread id (threads), for log lines. */
  readonly id: { workerPid: number } | { threadId: number };
  send(batch: ToWorker[]): void;
  /** Stopped for good now (SIGKILL, terminate()). */
  kill(): void;
  /** SIGHUP: reload the TLS certificates. */
  reload(): void;
  readonly dead: boolean;
}

export interface WorkerEvents {
  message(batch: ToPrimary[]): void;
  exit(code: number | null, signal: string | null): void;
  /** A thread's uncaught exception (its exit follows). */
  error(e: Error): void;
}

/** What a thread's workerData holds: the `cairn server` arguments it runs again (as a forked worker does). */
export interface ThreadData {
  cairnWorker: true;
  argv: string[];
  /** The lock table the threads share (shared-locks.ts); absent: the primary's table, over messages. */
  locks?: SharedArrayBuffer;
}

/** A thread that terminate() did not stop within this long: the process exits. */
const KILL_WAIT_MS = 10_000;

export function forkProcess(env: NodeJS.ProcessEnv, on: WorkerEvents): WorkerHandle {
  const worker = cluster.fork(env);
  worker.on('message', (batch: ToPrimary[]) => on.message(batch));
  worker.on('exit', (code, signal) => on.exit(code, signal));
  return {
    id: { workerPid: worker.process.pid! },
    send: (batch) => {
      if (worker.isConnected()) worker.send(batch);
    },
    kill: () => worker.process.kill('SIGKILL'),
    reload: () => worker.process.kill('SIGHUP'),
    get dead() {
      return worker.isDead();
    },
  };
}

/**
 * Before the first thread: the V8 flags of a forked worker's command line that resourceLimits does not cover
 * (`threadV8Flags`: the first old-generation limit, --expose-gc for the one collection after start-up). V8
 * flags are the process's; the isolates made from now on take them.
 */
export function prepareThreads(flags: readonly string[]): void {
  for (const flag of threadV8Flags(flags)) setFlagsFromString(flag);
}

/**
 * One memory-reducing collection of this (the main) thread's heap: its `gc` is reached through a new context,
 * which has it since prepareThreads() set --expose-gc.
 */
export function collectOnce(): void {
  const gc = runInNewContext('gc') as ((o: object) => void) | undefined;
  gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}

export function startThread(argv: string[], on: WorkerEvents, locks?: SharedArrayBuffer): WorkerHandle {
  // cli/thread.ts: the compiled .js, or the .ts source when run through tsx (whose loader the thread inherits).
  const entry = new URL(`../cli/thread${extname(fileURLToPath(import.meta.url))}`, import.meta.url);
  const data: ThreadData = { cairnWorker: true, argv, ...(locks ? { locks } : {}) };
  const worker = new Worker(entry, {
    workerData: data,
    // The bounds a forked worker gets from its flags (worker-memory.ts): V8's young generation is three semi-spaces.
    resourceLimits: { maxOldGenerationSizeMb: WORKER_OLD_SPACE_MB, maxYoungGenerationSizeMb: 3 * WORKER_SEMI_SPACE_MB },
    stdout: false,
    stderr: false,
  });
  let dead = false;
  // Messages travel as JSON text, as over a forked worker's IPC channel: the same values arrive either way.
  worker.on('message', (text: string) => on.message(JSON.parse(text) as ToPrimary[]));
  // An uncaught exception ends the thread: 'error', then 'exit' (code 1).
  worker.on('error', (e) => on.error(e));
  worker.on('exit', (code) => {
    dead = true;
    on.exit(code, null);
  });
  return {
    id: { threadId: worker.threadId },
    send: (batch) => {
      if (!dead) worker.postMessage(JSON.stringify(batch));
    },
    kill: () => {
      if (dead) return;
      void worker.terminate();
      setTimeout(() => {
        if (dead) return;
        process.stderr.write(`cairn server: worker thread ${worker.threadId} did not stop; exiting\n`);
        process.exit(70);
      }, KILL_WAIT_MS).unref();
    },
    reload: () => {
      if (!dead) worker.postMessage(JSON.stringify([{ t: 'reload' }]));
    },
    get dead() {
      return dead;
    },
  };
}
