// Preload for a server under a bench (NODE_OPTIONS=--import this file): on the first SIGUSR2 the main thread
// starts a CPU profile and a sampling heap profile that keeps the objects collected since (so it shows what
// feeds the GC, not only what is still alive); on the second it stops both and writes, in
// $CAIRN_BENCH_PROFILE_DIR, <pid>.cpuprofile and <pid>.heapprofile (for Chrome's DevTools or speedscope) and
// <pid>.txt: the top functions by self CPU time and by bytes allocated, with the stack below each of the top
// allocators. Used by bench/replication/procs.bench.ts --profile DIR and bench/notify/overhead.bench.ts --profile DIR.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';

const dir = process.env.CAIRN_BENCH_PROFILE_DIR;
const TOP = 30;

const where = (f) =>
  `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(server|native|node_modules)\//, '$1/')}:${f.lineNumber + 1}`;

/** Self time per function from a CPU profile: [name, ms][] largest first, and the total. */
function cpuTop(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    const n = byId.get(profile.samples[i]);
    const k = where(n.callFrame);
    self.set(k, (self.get(k) ?? 0) + (dt[i] ?? 0) / 1000);
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  return { total, top: [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, TOP) };
}

/** Bytes allocated per function (self) from a sampling heap profile, with the heaviest stack of each. */
function heapTop(profile) {
  const self = new Map();
  const stacks = new Map();
  let total = 0;
  const walk = (node, path) => {
    const k = where(node.callFrame);
    const here = [...path, k];
    if (node.selfSize > 0) {
      total += node.selfSize;
      self.set(k, (self.get(k) ?? 0) + node.selfSize);
      const best = stacks.get(k);
      if (!best || best.size < node.selfSize) stacks.set(k, { size: node.selfSize, path: here });
    }
    for (const c of node.children) walk(c, here);
  };
  walk(profile.head, []);
  const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, TOP);
  return { total, top, stacks };
}

if (isMainThread && dir) {
  const session = new Session();
  session.connect();
  const post = (method, params) =>
    new Promise((resolve, reject) => session.post(method, params, (e, r) => (e ? reject(e) : resolve(r))));
  let running = false;
  process.on('SIGUSR2', async () => {
    try {
      if (!running) {
        running = true;
        await post('Profiler.enable');
        await post('Profiler.setSamplingInterval', { interval: 500 });
        await post('Profiler.start');
        await post('HeapProfiler.enable');
        await post('HeapProfiler.startSampling', {
          samplingInterval: 16384,
          includeObjectsCollectedByMajorGC: true,
          includeObjectsCollectedByMinorGC: true,
        });
        return;
      }
      running = false;
      const { profile: heap } = await post('HeapProfiler.stopSampling');
      const { profile: cpu } = await post('Profiler.stop');
      const base = join(dir, String(process.pid));
      writeFileSync(`${base}.cpuprofile`, JSON.stringify(cpu));
      writeFileSync(`${base}.heapprofile`, JSON.stringify(heap));
      const c = cpuTop(cpu);
      const h = heapTop(heap);
      const lines = [`pid ${process.pid}: main thread CPU sampled ${c.total.toFixed(0)} ms (self time, top ${TOP})`];
      for (const [k, ms] of c.top)
        lines.push(`${ms.toFixed(1).padStart(9)} ms ${((100 * ms) / c.total).toFixed(1).padStart(5)}%  ${k}`);
      lines.push(
        '',
        `allocated (sampled, collected objects kept) ${(h.total / 1048576).toFixed(1)} MiB (self, top ${TOP})`,
      );
      for (const [k, b] of h.top)
        lines.push(`${(b / 1024).toFixed(0).padStart(9)} KiB ${((100 * b) / h.total).toFixed(1).padStart(5)}%  ${k}`);
      lines.push('', 'heaviest stack of each of the top 10 allocators (innermost last)');
      for (const [k] of h.top.slice(0, 10))
        lines.push(
          `- ${k}`,
          ...h.stacks
            .get(k)
            .path.slice(-12)
            .map((f) => `    ${f}`),
        );
      writeFileSync(`${base}.txt`, `${lines.join('\n')}\n`);
    } catch (e) {
      process.stderr.write(`profile.mjs: ${e}\n`);
    }
  });
}
