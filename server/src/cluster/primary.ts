// The primary of `cairn server --workers N`: formats (or checks) the drives once, forks N workers that all
// serve S3 on the one address, and stays small (no HTTP stack, no storage engine): it is their lock
// service and change bus (coordinator.ts), restarts a worker that dies (its locks are released once its
// process is gone), and on SIGTERM / SIGINT tells every worker to finish its requests in flight and waits.
// Worker slot 1 is the leader (healing, scanner, drive rebuilds); a restarted worker keeps its slot.
// Workers are processes or threads of this process (--worker-mode, spawn.ts): the same messages either way.
// A node of a distributed deployment (endpoints for drives): the primary formats nothing (its workers join the
// deployment, cluster/node.ts), keeps the node's dsync lock table for them (lock-table.ts), and no slot leads: the
// deployment's leader is whichever worker of whichever node holds the leader lease (leader.ts).
import { trimHeap } from '@cairn/native';
import cluster from 'node:cluster';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { availableParallelism, loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { isSea } from 'node:sea';
import type { Logger } from 'pino';
import { parseAddress } from '../http/address.js';
import { credentialsFromEnv } from '../http/auth/credentials.js';
import { driveLayout, type Formatted, formatDrives } from '../storage/drive/format.js';
import { LocalDrive } from '../storage/drive/local-drive.js';
import { PoolList } from '../storage/pool-list.js';
import { drivePools, expandDrives } from '../storage/expand.js';
import { formatPools } from '../storage/format-pools.js';
import { isEndpointArgument } from './endpoints.js';
import { Coordinator, type Peer } from './coordinator.js';
import { LockTable, lockExpiryFromEnv, tableCall } from './lock-table.js';
import { MetricsRelay } from './metrics-relay.js';
import { forgetWorker, markAlive, MAX_SLOT, sharedLockMemory } from './shared-locks.js';
import { TraceRelay } from './trace-relay.js';
import { PING_MS, Watchdog } from './watchdog.js';
import { batching, type ToPrimary, type ToWorker, type WorkerConfig } from './protocol.js';
import { loudly, type ServerArgs, serverOptions } from './serve.js';
import { executableWorkerNodeOptions, workerEnv, workerExecArgv } from './worker-memory.js';
import {
  collectOnce,
  defaultWorkerMode,
  forkProcess,
  prepareThreads,
  startThread,
  type WorkerHandle,
  type WorkerMode,
} from './spawn.js';

/** How workers share the address: node:cluster's round robin from the primary, or SO_REUSEPORT. */
export type AcceptMode = 'shared' | 'reuseport';

/** Restart delays after crashes in a row: 0.1 s doubling up to 5 s; a worker that ran a minute resets it. */
const RESTART_FIRST_MS = 100;
const RESTART_MAX_MS = 5000;
const RAN_LONG_MS = 60_000;
/** A worker still running this long after it was told to stop is killed. */
const STOP_GRACE_MS = 35_000;
/** A worker that answers after this many pings in a row went unanswered is logged (watchdog.ts kills later). */
const LATE_PINGS = 2;

interface Slot {
  worker: WorkerHandle;
  peer: Peer;
  startedAt: number;
  crashes: number;
  /** Told to stop by an admin restart: started again at once, not counted as a crash. */
  restarting?: boolean;
}

/** How the workers run: `mode`; threads get `argv` (the command's arguments) and always bind with SO_REUSEPORT. */
export interface PrimaryOptions {
  accept?: AcceptMode;
  mode?: WorkerMode;
  argv?: string[];
}

export async function runPrimary(args: ServerArgs, logger: Logger, options: PrimaryOptions = {}): Promise<number> {
  const mode = options.mode ?? defaultWorkerMode();
  // Threads share no socket through node:cluster: each binds the port itself.
  const accept = mode === 'threads' ? 'reuseport' : (options.accept ?? 'shared');
  const log = logger.child({ worker: 0 });
  const warnings: string[] = [];
  const credentials = await credentialsFromEnv(process.env, warnings);
  for (const w of warnings) {
    log.warn(w);
    loudly(w);
  }
  const distributed = args.drives.some(isEndpointArgument);
  // The drives may have been one pool of several: refused, before anything is written, if another is left out
  // before it was drained, and checked again once formatted (the list kept up to date).
  // Server pools: every pool formatted here, each worker given every pool's layout.
  const pools = distributed ? [] : drivePools(args.drives);
  let all: Formatted[] = [];
  if (pools.length > 1) {
    all = await formatPools(pools, {});
    await PoolList.open(all.map((f, i) => ({ cmdline: args.drives[i], formatted: f })));
  } else if (!distributed) {
    await PoolList.precheck([{ drives: expandDrives(...args.drives).map((r) => new LocalDrive(r)) }]);
    all = [await formatDrives(expandDrives(...args.drives), {})];
    await PoolList.open([{ cmdline: args.drives.join(' '), formatted: all[0] }]);
  }
  const layouts = all.map(driveLayout);
  const layout = layouts[0];
  const fresh = all.flatMap((f) => f.fresh.map((d) => d.endpoint));
  for (const d of all.flatMap((f) => f.sets.flat())) {
    if (d.lastError !== 'unmounted') continue;
    const w = `drive ${d.endpoint} is a plain folder among mount points: a disk that did not mount; offline until one is`;
    log.warn(w);
    loudly(w);
  }
  const table = distributed ? new LockTable(lockExpiryFromEnv(process.env)) : undefined;

  // SO_REUSEPORT: each worker binds the port itself; the primary holds it (port 0: picks it) until one has. The same
  // for the console's address (--console-address).
  const holders: Server[] = [];
  const hold = async (address: string): Promise<number> => {
    const { host, port } = parseAddress(address);
    // A connection the holder takes (it listens: the kernel spreads connections over every socket of the port)
    // has nobody to answer it: closed at once, so the client retries (as when nothing listens) instead of
    // waiting for good on a socket that close() leaves open.
    const server = createServer((socket) => socket.destroy());
    holders.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port, reusePort: true, exclusive: true }, resolve);
    });
    return (server.address() as AddressInfo).port;
  };
  const releaseHolders = () => {
    for (const h of holders.splice(0)) h.close();
  };
  let reusePort: number | undefined;
  let consoleReusePort: number | undefined;
  if (accept === 'reuseport') {
    // A node's port is given (the endpoints name it): its workers bind it at once and serve the others from the start.
    reusePort = distributed ? parseAddress(args.address ?? ':9000').port : await hold(args.address ?? ':9000');
    if (args.consoleAddress !== undefined) consoleReusePort = await hold(args.consoleAddress);
  }

  // Threads of one server lock in shared memory (shared-locks.ts): no message per lock. The primary's table
  // (coordinator.ts) stays for processes and for a distributed node's workers (whose locks are dsync's).
  const lockMemory = mode === 'threads' && !distributed && args.workers <= MAX_SLOT ? sharedLockMemory() : undefined;
  const coordinator = new Coordinator(lockMemory !== undefined);
  const metrics = new MetricsRelay();
  const traces = new TraceRelay();
  const watchdog = new Watchdog<Slot>();
  const slots = new Map<number, Slot>();
  /** The stop waits for these workers' exits. */
  const exitWaiters = new Map<WorkerHandle, () => void>();
  /** An admin restart waits for each restarted worker to serve before it restarts the next. */
  const backWaiters = new Map<number, () => void>();
  let adminStop: (why: string) => void = () => {};
  let stopping = false;
  let starting = true;
  let failStart: (e: Error) => void = () => {};
  let onReady: (slot: number, url: string, consoleUrl?: string) => void = () => {};
  const allStarted = new Promise<{ url: string; consoleUrl?: string }>((resolve, reject) => {
    let ready = 0;
    let urls: { url: string; consoleUrl?: string } = { url: '' };
    failStart = reject;
    onReady = (slot, url, consoleUrl) => {
      if (slot === 1) urls = { url, consoleUrl };
      if (++ready === args.workers) resolve(urls);
    };
  });

  // The single executable takes a worker's node flags from NODE_OPTIONS only (worker-memory.ts).
  const flags = workerExecArgv(process.execArgv, process.env.NODE_OPTIONS);
  const env = isSea()
    ? { ...workerEnv(process.env), NODE_OPTIONS: executableWorkerNodeOptions(flags, process.env.NODE_OPTIONS) }
    : workerEnv(process.env);
  const fork = (slot: number, crashes: number) => {
    const events = {
      message: (batch: ToPrimary[]) => {
        // Any message says the worker's event loop turns.
        const missed = watchdog.answered(s);
        if (missed >= LATE_PINGS)
          log.warn({ ...worker.id, missed, load: loadavg()[0] }, `worker ${slot} answered after ${missed} pings`);
        for (const m of batch) receive(m);
      },
      exit: (code: number | null, signal: string | null) => exited(code, signal),
      // A thread's uncaught exception (its start-up failing among them) reaches stderr too, as node prints a
      // worker process's: an operator sees why, whatever the log level.
      error: (e: Error) => {
        log.error({ err: e, ...worker.id }, `worker ${slot} failed`);
        process.stderr.write(`cairn server: worker ${slot}: ${e.stack ?? e.message}\n`);
      },
    };
    if (lockMemory) markAlive(lockMemory, slot);
    const worker = mode === 'threads' ? startThread(options.argv ?? [], events, lockMemory) : forkProcess(env, events);
    const peer: Peer = { slot, send: batching((batch: ToWorker[]) => worker.send(batch)) };
    const s: Slot = { worker, peer, startedAt: Date.now(), crashes };
    slots.set(slot, s);
    const receive = (m: ToPrimary) => {
      if (m.t === 'hello') {
        coordinator.join(peer);
        traces.join(peer);
        const config: WorkerConfig = {
          slot,
          workers: args.workers,
          leader: slot === 1 && !distributed,
          ...(layout ? { layout } : {}),
          ...(layouts.length > 1 ? { pools: layouts } : {}),
          // Fresh drives are rebuilt by the first leader; a restarted one leaves the rest to its scanner.
          fresh: slot === 1 && starting ? fresh : [],
          ...(reusePort !== undefined ? { reusePort } : {}),
          ...(consoleReusePort !== undefined ? { consoleReusePort } : {}),
        };
        peer.send({ t: 'config', config });
      } else if (m.t === 'pong') {
        // heard (message above)
      } else if (m.t === 'ready') {
        watchdog.watch(s);
        releaseHolders();
        metrics.join(peer);
        if (starting) onReady(slot, m.url, m.consoleUrl);
        else log.info(worker.id, `worker ${slot} is back`);
        backWaiters.get(slot)?.();
        backWaiters.delete(slot);
      } else if (m.t === 'service') {
        log.info({ action: m.action }, `admin API: service ${m.action}`);
        if (m.action === 'stop') adminStop('admin: service stop');
        else void restartAll();
      } else if (m.t === 'table') {
        let value: unknown = null;
        try {
          if (table) value = tableCall(table, m.route, m.body) ?? null;
        } catch {
          // an unknown route: nothing granted
        }
        peer.send({ t: 'table-answer', id: m.id, value });
      } else if (!metrics.receive(peer, m) && !traces.receive(peer, m)) coordinator.receive(peer, m);
    };
    const exited = (code: number | null, signal: string | null) => {
      exitWaiters.get(worker)?.();
      exitWaiters.delete(worker);
      watchdog.forget(s);
      // Its thread has stopped: the names it held in the shared table pass on (as the coordinator's do).
      if (lockMemory) forgetWorker(lockMemory, slot);
      coordinator.leave(peer);
      metrics.leave(peer);
      traces.leave(peer);
      if (slots.get(slot) === s) slots.delete(slot);
      if (stopping) return;
      if (s.restarting) return fork(slot, 0);
      if (starting) return failStart(new Error(`worker ${slot} exited while starting (${signal ?? `code ${code}`})`));
      const inRow = Date.now() - s.startedAt > RAN_LONG_MS ? 0 : s.crashes + 1;
      const delay = Math.min(RESTART_FIRST_MS * 2 ** Math.max(inRow - 1, 0), RESTART_MAX_MS);
      log.warn({ code, signal, ...worker.id }, `worker ${slot} exited; restarting it`);
      setTimeout(() => {
        if (!stopping) fork(slot, inRow);
      }, delay);
    };
    log.info(worker.id, `worker ${slot} started`);
  };

  const stopAll = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    clearInterval(pinging);
    log.info({ signal: why }, 'shutting down');
    const exits = [...slots.values()].map(({ worker, peer }) => {
      const exited = new Promise<void>((resolve) => {
        if (worker.dead) resolve();
        else exitWaiters.set(worker, resolve);
      });
      peer.send({ t: 'stop' });
      return exited;
    });
    const timer = setTimeout(() => {
      log.warn('workers still running after the grace period; killing them');
      for (const { worker } of slots.values()) worker.kill();
    }, STOP_GRACE_MS);
    timer.unref();
    await Promise.all(exits);
    clearTimeout(timer);
    releaseHolders();
  };

  // Admin restart: one worker after the other, each serving again before the next stops, so the server keeps
  // answering throughout. A second ask while one runs joins it.
  let restarting: Promise<void> | undefined;
  const restartAll = (): Promise<void> =>
    (restarting ??= (async () => {
      for (const slot of [...slots.keys()].sort((a, b) => a - b)) {
        const s = slots.get(slot);
        if (!s || stopping) break;
        const back = new Promise<void>((resolve) => backWaiters.set(slot, resolve));
        s.restarting = true;
        watchdog.forget(s); // not pinged while it stops
        s.peer.send({ t: 'stop' });
        await back;
      }
      log.info('admin API: every worker restarted');
    })().finally(() => {
      restarting = undefined;
    }));

  const pinging = setInterval(() => {
    const load = loadavg()[0];
    const { hung, ping } = watchdog.tick({ load1: load, cores: availableParallelism() });
    for (const { worker: s, missed } of hung) {
      if (s.worker.dead) continue;
      log.error({ ...s.worker.id, missed, load }, `worker ${s.peer.slot} does not answer: killing it`);
      s.worker.kill();
    }
    for (const s of ping) if (!s.worker.dead) s.peer.send({ t: 'ping' });
  }, PING_MS);
  pinging.unref();

  if (mode === 'threads') prepareThreads(flags);
  else cluster.setupPrimary({ serialization: 'json', execArgv: isSea() ? [] : flags });
  for (let slot = 1; slot <= args.workers; slot++) fork(slot, 0);
  let url: string;
  let consoleUrl: string | undefined;
  try {
    ({ url, consoleUrl } = await allStarted);
  } catch (e) {
    log.error((e as Error).message);
    await stopAll('start-up failed');
    return 1;
  }
  starting = false;
  // Threads: this process's own start-up garbage (the drives' formatting) goes too, as each worker's does.
  if (mode === 'threads') collectOnce();
  // glibc keeps the pages start-up freed; threads: one call goes through every worker's arena too.
  trimHeap();
  // With TLS, SIGHUP (sent to the primary) has every worker reload its certificates: listened for before the
  // line saying the server serves, which is what a supervisor (or a test) waits for before it may send one.
  if ((await serverOptions(args)).certsDir)
    process.on('SIGHUP', () => {
      for (const { worker } of slots.values()) worker.reload();
    });
  log.info(
    { url, accessKey: credentials.root.accessKey, drives: args.drives, workers: args.workers, mode },
    `Cairn is serving S3 at ${url}`,
  );
  if (consoleUrl) log.info({ url: consoleUrl }, `The web console is at ${consoleUrl}`);
  if (process.env.CAIRN_TEST_WORKER_FAULTS === 'on') testFaults(slots, log);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => void stopAll(signal).then(resolve);
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    adminStop = stop;
  });
  return 0;
}

/**
 * Tests only (CAIRN_TEST_WORKER_FAULTS=on; a thread cannot be signalled from outside its process): lines on stdin
 * `kill N` stop worker N for good (SIGKILL, terminate()), `hang N` blocks its event loop for good.
 */
function testFaults(slots: Map<number, Slot>, log: Logger): void {
  createInterface({ input: process.stdin }).on('line', (line) => {
    const [what, n] = line.trim().split(' ');
    const s = slots.get(Number(n));
    log.warn({ fault: what }, `test fault for worker ${n}`);
    if (what === 'kill') s?.worker.kill();
    else if (what === 'hang') s?.peer.send({ t: 'hang' });
  });
  // Stdin must not keep the process alive once the workers are gone.
  (process.stdin as { unref?: () => void }).unref?.();
}
