// A worker of `cairn server --workers N`: says hello to the primary, gets its slot and the drive layout,
// and runs the whole server (main.ts) on the shared address, with the primary as its lock service and
// change bus (primary-link.ts). It stops gracefully when the primary says so (or on SIGTERM / SIGINT),
// and at once when the primary is gone: without it nobody coordinates the writes. A worker is a process
// (node:cluster, its IPC channel) or a thread of the primary's process (its parentPort; cluster/spawn.ts).
// A worker of a node of a distributed deployment gets no layout: it joins the deployment as part of its node
// (cluster/node.ts), with the primary as the node's lock table and the relay of changes to its sibling workers.
import { trimHeap } from '@cairn/native';
import { getHeapStatistics } from 'node:v8';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { parseAddress } from '../http/address.js';
import { type ServerOptions, startServer } from '../main.js';
import { type Channel, PrimaryLink } from './primary-link.js';
import { SharedLocks } from './shared-locks.js';
import type { ThreadData } from './spawn.js';
import { metricsOverPrimary } from './metrics-relay.js';
import { traceOverPrimary } from './trace-relay.js';
import { batching, type ToPrimary, type ToWorker, type WorkerConfig } from './protocol.js';
import { type ServerArgs, serveUntilStopped, serverOptions } from './serve.js';

/** The messages of a thread travel as JSON text (spawn.ts). */
function threadChannel(): Channel {
  const port = parentPort!;
  return {
    send: batching((batch: ToPrimary[]) => port.postMessage(JSON.stringify(batch))),
    onMessage: (handler) =>
      port.on('message', (text: string) => {
        for (const m of JSON.parse(text) as ToWorker[]) handler(m);
      }),
  };
}

function ipcChannel(): Channel {
  return {
    send: batching((batch: ToPrimary[]) => {
      if (process.connected) process.send!(batch);
    }),
    onMessage: (handler) =>
      process.on('message', (batch) => {
        for (const m of batch as ToWorker[]) handler(m);
      }),
  };
}

/** `settings`: what the command read from the environment (storage tuning, identity providers, notification targets). */
export async function runWorker(
  args: ServerArgs,
  settings: Pick<ServerOptions, 'storage' | 'ldap' | 'openid' | 'notify' | 'lifecycleDaySeconds'>,
  level: string,
): Promise<number> {
  const thread = !isMainThread;
  const channel = thread ? threadChannel() : ipcChannel();
  const config = await new Promise<WorkerConfig>((resolve) => {
    channel.onMessage((m) => m.t === 'config' && resolve(m.config));
    channel.send({ t: 'hello' });
  });
  const logger = pino({ level }).child({ worker: config.slot });
  const orphaned = () => {
    logger.error('the primary is gone: exiting');
    process.exit(1);
  };
  // A thread goes with its process: never orphaned.
  if (!thread) process.on('disconnect', orphaned);
  const link = new PrimaryLink(channel, (e) => logger.warn({ err: e }, 'applying a change from another worker failed'));
  // Threads lock in the memory they share (shared-locks.ts); processes through the primary.
  const lockMemory = thread ? (workerData as ThreadData).locks : undefined;
  const shared = lockMemory ? new SharedLocks(lockMemory, config.slot, () => link.held()) : undefined;
  if (shared) link.provideHeld(() => shared.heldHere());
  const onPort = (given: string, port: number) => {
    const { host } = parseAddress(given);
    return `${host.includes(':') ? `[${host}]` : host}:${port}`;
  };
  let address = args.address;
  if (config.reusePort !== undefined) address = onPort(args.address ?? ':9000', config.reusePort);
  let consoleAddress = args.consoleAddress;
  if (consoleAddress !== undefined && config.consoleReusePort !== undefined)
    consoleAddress = onPort(consoleAddress, config.consoleReusePort);
  const server = await startServer({
    ...(await serverOptions(args)),
    address,
    consoleAddress,
    logger,
    ldap: settings.ldap,
    openid: settings.openid,
    notify: settings.notify,
    lifecycleDaySeconds: settings.lifecycleDaySeconds,
    storage: config.layout
      ? {
          ...settings.storage,
          shared: {
            locks: shared ?? link,
            bus: link,
            leader: config.leader,
            layout: config.layout,
            ...(config.pools ? { pools: config.pools } : {}),
            fresh: config.fresh,
            tmpName: `w${config.slot}`,
            workers: config.workers,
          },
        }
      : settings.storage,
    ...(config.layout ? {} : { nodeWorker: { workers: config.workers, link } }),
    worker: { slot: config.slot, reusePort: config.reusePort !== undefined },
    metricsSharing: metricsOverPrimary(channel),
    traceSharing: traceOverPrimary(channel),
    // The primary restarts the workers one after the other, or stops the server.
    service: (action) => channel.send({ t: 'service', action }),
  });
  // The heap bound as V8 applies it (its flags for a process, resourceLimits for a thread: cluster/spawn.ts).
  const heapLimitMb = Math.round(getHeapStatistics().heap_size_limit / 2 ** 20);
  logger.info(
    { listening: server.url, console: server.consoleUrl, leader: config.leader, heapLimitMb },
    `worker ${config.slot} serving`,
  );
  channel.onMessage((m) => m.t === 'ping' && channel.send({ t: 'pong' }));
  if (process.env.CAIRN_TEST_WORKER_FAULTS === 'on')
    channel.onMessage((m) => m.t === 'hang' && Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0));
  channel.send({ t: 'ready', url: server.url, consoleUrl: server.consoleUrl });
  dropStartupGarbage();
  // Only the process's main thread gets signals: a thread's SIGHUP comes as a message.
  if (thread) channel.onMessage((m) => m.t === 'reload' && void server.tls?.reload());
  await serveUntilStopped(server, logger, (stop) => channel.onMessage((m) => m.t === 'stop' && stop('primary')));
  // The IPC channel (message port) would keep this process (thread) alive; the last batch of messages goes first.
  await new Promise((resolve) => setImmediate(resolve));
  if (thread) parentPort!.unref();
  else {
    process.off('disconnect', orphaned);
    process.disconnect();
  }
  return 0;
}

/**
 * Start-up (IAM, listings, module code) grows V8's young generation to its full 2 x WORKER_SEMI_SPACE_MB and
 * leaves garbage that a server with no requests never collects: one memory-reducing collection once serving
 * gives it back (idle RSS per worker 113 -> 95 MB; one full collection, once). `gc` is there with --expose-gc
 * (worker-memory.ts); absent (an operator's flags), nothing is done.
 */
function dropStartupGarbage(): void {
  const gc = (globalThis as { gc?: (o: object) => void }).gc;
  gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  // And the pages glibc keeps of what start-up freed (bench/load/README.md: idle memory).
  trimHeap();
}
