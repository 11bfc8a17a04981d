// Preload for a server under a bench (NODE_OPTIONS=--import this file): counts the main thread's garbage
// collections by kind (minor = scavenge, major = mark-compact, incremental marking, weak callbacks) with their
// pause time, and on SIGUSR2 appends one JSON line to $CAIRN_BENCH_GC_FILE ({pid, cpuMs, externalMiB, kinds})
// and starts counting again. Used by bench/replication/procs.bench.ts --gc. With $CAIRN_BENCH_TRACE_GC set it also
// turns V8's --trace-gc on (one line per collection, with its reason, on stdout; NODE_OPTIONS refuses the flag).
import { appendFileSync } from 'node:fs';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { isMainThread } from 'node:worker_threads';

const file = process.env.CAIRN_BENCH_GC_FILE;
if (isMainThread && process.env.CAIRN_BENCH_TRACE_GC) setFlagsFromString('--trace-gc');
if (isMainThread && file) {
  const kinds = {
    [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
    [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
  };
  let counts = {};
  let cpu0 = process.cpuUsage();
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const k = kinds[e.detail?.kind] ?? 'other';
      const c = (counts[k] ??= { n: 0, ms: 0 });
      c.n++;
      c.ms += e.duration;
    }
  }).observe({ entryTypes: ['gc'] });
  process.on('SIGUSR2', () => {
    const cpu = process.cpuUsage(cpu0);
    const externalMiB = getHeapStatistics().external_memory / 1048576;
    appendFileSync(
      file,
      `${JSON.stringify({ pid: process.pid, cpuMs: (cpu.user + cpu.system) / 1000, externalMiB, kinds: counts })}\n`,
    );
    counts = {};
    cpu0 = process.cpuUsage();
  });
}
