// The S3 Select engine, loaded once per worker and never in one stretch. Its modules and SQL parser are ~230 ms
// of CPU to load (select-engine/src/load.ts), a quarter of an idle worker's memory (+27 MB RSS), so an idle
// server does not load it: a worker loads it in steps (one turn of its event loop each, the longest ~55 ms of
// CPU) once it has served a request and its loop is quiet, or at its first Select if that comes first.
import type { Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';

type Engine = typeof import('@cairn/select-engine');

let loading: Promise<Engine> | undefined;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The engine (loaded in steps the first time; a failed load is tried again by the next call). */
export function selectEngine(): Promise<Engine> {
  loading ??= import('@cairn/select-engine/load')
    .then((m) => m.loadEngine(nextTurn))
    .catch((e: unknown) => {
      loading = undefined;
      throw e;
    });
  return loading;
}

/** True once the engine is loaded or loading. */
export function selectEngineStarted(): boolean {
  return loading !== undefined;
}

/** The share of a window its event loop may be busy and still count as quiet. */
const QUIET_UTILIZATION = 0.5;
const WINDOW_MS = 1000;

/**
 * After the server's first request, loads the engine at the first window of WINDOW_MS in which the event loop
 * was busy less than QUIET_UTILIZATION of the time (looking again every window until then, timers unref'd).
 */
export function preloadSelectEngine(server: Server, log?: Logger): void {
  server.once('request', () => {
    let last = performance.eventLoopUtilization();
    const look = () => {
      if (selectEngineStarted()) return;
      const now = performance.eventLoopUtilization();
      const busy = performance.eventLoopUtilization(now, last).utilization;
      last = now;
      if (busy >= QUIET_UTILIZATION) return void setTimeout(look, WINDOW_MS).unref();
      selectEngine().then(
        () => log?.debug('select engine loaded'),
        (e: unknown) => log?.warn({ err: e }, 'loading the select engine failed'),
      );
    };
    setTimeout(look, WINDOW_MS).unref();
  });
}
