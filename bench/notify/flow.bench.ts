// The event queue (server/src/api/notify/queue.ts) as a notifying server uses it: a steady flow of pushes (one
// event every 1000/--rate ms, as PUTs arrive) while a consumer over 8 lanes (lanes.ts, as a webhook's) takes
// each event, "sends" it (a --send-ms timer: the POST's round trip) and removes it. The queue lives on 3 folders
// in /dev/shm. Prints the process's CPU (threadpool included) per event from the first push until the queue is
// empty, and the load. --from CHECKOUT runs another checkout's queue.ts and lanes.ts in alternate runs (an A/B;
// that checkout needs node_modules, a link to this one's will do).
//   node --conditions=source --import tsx bench/notify/flow.bench.ts [--events 3000] [--rate 500]
//     [--send-ms 1] [--runs 3] [--from /path/to/checkout] [--only this|from]
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '3000' },
    rate: { type: 'string', default: '500' },
    'send-ms': { type: 'string', default: '1' },
    runs: { type: 'string', default: '3' },
    from: { type: 'string' },
    only: { type: 'string' },
  },
});
const N = Number(values.events);
const period = 1000 / Number(values.rate);
const sendMs = Number(values['send-ms']);
const data = JSON.stringify({
  Records: [{ eventName: 's3:ObjectCreated:Put', s3: { object: { key: 'o/123456', size: 4096 } } }],
  pad: 'x'.repeat(700),
});

// Pool tasks (native file-operation batches, native/src-ts/files.ts) and their operations, counted: what the
// group commit saves, without the noise of CPU time on a shared machine.
const binding = createRequire(import.meta.url)('../../native/binding.cjs') as {
  fileOpsAsync: (ops: unknown[]) => unknown;
};
const counts = { tasks: 0, ops: 0 };
const fileOpsAsync = binding.fileOpsAsync;
binding.fileOpsAsync = (ops: unknown[]) => {
  counts.tasks++;
  counts.ops += ops.length;
  return fileOpsAsync(ops);
};

type QueueModule = typeof import('../../server/src/api/notify/queue.js');
type LanesModule = typeof import('../../server/src/api/notify/lanes.js');
async function load(root: string): Promise<{ q: QueueModule; l: LanesModule }> {
  const dir = join(root, 'server/src/api/notify');
  return { q: await import(join(dir, 'queue.ts')), l: await import(join(dir, 'lanes.ts')) };
}
const builds = [{ name: 'this', mods: await load(resolve(import.meta.dirname, '../..')) }];
if (values.from) builds.push({ name: 'from', mods: await load(resolve(values.from)) });
// --only from: that build alone (e.g. under strace -c, to count its system calls).
if (values.only) builds.splice(0, builds.length, ...builds.filter((b) => b.name === values.only));

async function run(mods: { q: QueueModule; l: LanesModule }): Promise<string> {
  const base = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'cairn-flow-bench-'));
  const q = await mods.q.EventQueue.open(
    ['d1', 'd2', 'd3'].map((d) => join(base, d)),
    N + 1,
  );
  let delivered = 0;
  const lanes = new mods.l.Lanes<string>(q, 8, {
    parse: (s) => s,
    keyOf: () => `k${delivered % 64}`,
    handle: async () => {
      await sleep(sendMs);
      delivered++;
      return true;
    },
    unreadable: (e) => {
      throw e;
    },
    notRemoved: (_e, err) => {
      throw err;
    },
  });
  counts.tasks = counts.ops = 0;
  const c = process.cpuUsage();
  const start = performance.now();
  const pushes: Promise<void>[] = [];
  for (let i = 0; i < N; i++) {
    pushes.push(q.push(data));
    // The next push at its time (a timer each: the PUTs of a steady client).
    const wait = start + (i + 1) * period - performance.now();
    if (wait > 0) await sleep(wait);
  }
  await Promise.all(pushes);
  await q.empty();
  const used = process.cpuUsage(c);
  await lanes.close();
  await rm(base, { recursive: true, force: true });
  if (delivered < N) throw new Error(`${delivered} of ${N} delivered`);
  const cpu = (used.user + used.system) / N;
  return `${cpu.toFixed(0)} ${(counts.tasks / N).toFixed(2)} ${(counts.ops / N).toFixed(1)}`;
}

console.log(`${N} events, one each ${period.toFixed(2)} ms, sent in ${sendMs} ms over 8 lanes, 3 folders`);
console.log('per event: CPU us (threadpool included), pool tasks, file operations');
console.log(`run  ${builds.map((b) => b.name.padStart(18)).join('')}`);
for (let r = 1; r <= Number(values.runs); r++) {
  const row: string[] = [];
  for (const b of r % 2 ? builds : [...builds].reverse()) row[builds.indexOf(b)] = await run(b.mods);
  console.log(`${String(r).padStart(3)}  ${row.map((x) => x.padStart(18)).join('')}`);
}
console.log(
  `load average: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ')}`,
);
