// Loaded into every thread of a Cairn server by bench/readers/latency.ts --probe (NODE_OPTIONS=--import=<this file>,
// CAIRN_BENCH_PROBE_DIR=<folder>): records the thread's event-loop delay (perf_hooks.monitorEventLoopDelay, the
// lateness of a 10 ms timer: how long after it was due the loop ran it), its event-loop utilisation
// and its CPU time. Each SIGUSR2 to the process writes what every thread recorded since the last one to
// <folder>/<pid>-<threadId>-<n>.json and starts again (the main thread tells the others on a BroadcastChannel).
// It also times each request inside the thread, from node:http's request start (its headers parsed) to the
// response's writeHead (the answer's head going out: the server's share of the client's time to first byte),
// in wall time and in the thread's CPU time (the rest is waiting: for the pool's reads, or for a core).
// Plain JavaScript: the server runs from its build, without tsx.
import { subscribe } from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import { ServerResponse } from 'node:http';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { BroadcastChannel, isMainThread, threadId } from 'node:worker_threads';

const dir = process.env.CAIRN_BENCH_PROBE_DIR;
if (dir) {
  const RESOLUTION_MS = 10;
  // The histogram holds the intervals between the timer's runs: the resolution is taken off each figure.
  const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  delay.enable();
  let elu = performance.eventLoopUtilization();
  let cpu = process.threadCpuUsage();
  let at = performance.now();
  let n = 0;
  const cpuMs = () => {
    const c = process.threadCpuUsage();
    return (c.user + c.system) / 1000;
  };
  const started = new WeakMap();
  let heads = [];
  subscribe('http.server.request.start', ({ response }) => started.set(response, [performance.now(), cpuMs()]));
  const writeHead = ServerResponse.prototype.writeHead;
  ServerResponse.prototype.writeHead = function (...args) {
    const s = started.get(this);
    if (s) {
      started.delete(this);
      heads.push([performance.now() - s[0], cpuMs() - s[1]]);
    }
    return writeHead.apply(this, args);
  };
  const dump = () => {
    const nowElu = performance.eventLoopUtilization();
    const nowCpu = process.threadCpuUsage();
    const now = performance.now();
    const ms = (ns) => Number(Math.max(0, ns / 1e6 - RESOLUTION_MS).toFixed(3));
    const record = {
      pid: process.pid,
      thread: threadId,
      main: isMainThread,
      seconds: (now - at) / 1000,
      samples: delay.count,
      delayMs: {
        mean: ms(delay.mean || 0),
        p50: ms(delay.percentile(50) || 0),
        p90: ms(delay.percentile(90) || 0),
        p99: ms(delay.percentile(99) || 0),
        max: ms(delay.max || 0),
        over10: delay.count ? 1 - percentileRank(delay, (RESOLUTION_MS + 10) * 1e6) : 0,
      },
      utilization: performance.eventLoopUtilization(nowElu, elu).utilization,
      toHead: summary(heads),
      cpuSeconds: (nowCpu.user - cpu.user + nowCpu.system - cpu.system) / 1e6,
    };
    writeFileSync(`${dir}/${process.pid}-${threadId}-${n++}.json`, JSON.stringify(record));
    delay.reset();
    elu = nowElu;
    cpu = nowCpu;
    at = now;
    heads = [];
  };
  const channel = new BroadcastChannel('cairn-bench-loop-probe');
  channel.onmessage = dump;
  channel.unref();
  if (isMainThread)
    process.on('SIGUSR2', () => {
      dump();
      channel.postMessage('dump');
    });
}

/** The fraction of samples at or under `ns` (from the histogram's percentiles map). */
function percentileRank(h, ns) {
  let rank = 0;
  for (const [p, v] of h.percentiles) if (v <= ns) rank = p / 100;
  return rank;
}

/** Mean, p50 and p90 of the wall and CPU milliseconds of [wall, cpu] pairs. */
function summary(pairs) {
  const stats = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    const q = (p) => Number((s[Math.floor((s.length - 1) * p)] ?? 0).toFixed(3));
    return { mean: Number((s.reduce((a, b) => a + b, 0) / (s.length || 1)).toFixed(3)), p50: q(0.5), p90: q(0.9) };
  };
  return { requests: pairs.length, wall: stats(pairs.map((p) => p[0])), cpu: stats(pairs.map((p) => p[1])) };
}
