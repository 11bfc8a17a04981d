// The notification/replication queue alone (server/src/api/notify/queue.ts): events pushed by 16 writers at once
// into a queue mirrored on 3 folders in /dev/shm (as on a node's first three drives), then handed out and read,
// then removed. Prints the CPU time per event of each step (the process's, threadpool included) and the load
// average: the queue's share of the notification overhead on small PUTs (bench/notify/overhead.bench.ts).
//   node --conditions=source --import tsx bench/notify/queue.bench.ts [--events 4000] [--runs 3] [--writers 16]
// --writers: pushes (and removals) at once; 1 is a quiet server's case, one event per turn of the event loop.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { EventQueue } from '../../server/src/api/notify/queue.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '4000' },
    runs: { type: 'string', default: '3' },
    writers: { type: 'string', default: '16' },
  },
});
const N = Number(values.events);
const runs = Number(values.runs);
const writers = Number(values.writers);
// About the size of one S3 event record.
const data = JSON.stringify({
  Records: [{ eventName: 's3:ObjectCreated:Put', s3: { object: { key: 'o/123456', size: 4096 } } }],
  pad: 'x'.repeat(700),
});

const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000 / N;
console.log(`${N} events of ${data.length} B, 3 folders, ${writers} writers; CPU ms per event`);
console.log('run   push   read  remove  total');
for (let run = 1; run <= runs; run++) {
  const base = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'cairn-queue-bench-'));
  const q = await EventQueue.open(
    ['d1', 'd2', 'd3'].map((d) => join(base, d)),
    N + 1,
  );
  const signal = new AbortController().signal;
  let next = 0;
  let c = process.cpuUsage();
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (next++ < N) await q.push(data);
    }),
  );
  const push = cpuMs(process.cpuUsage(c));
  c = process.cpuUsage();
  const seqs: number[] = [];
  for (let i = 0; i < N; i++) {
    const seq = (await q.take(signal))!;
    await q.read(seq);
    seqs.push(seq);
  }
  const read = cpuMs(process.cpuUsage(c));
  c = process.cpuUsage();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = w; i < seqs.length; i += writers) await q.remove(seqs[i]);
    }),
  );
  const remove = cpuMs(process.cpuUsage(c));
  const f = (x: number) => x.toFixed(3).padStart(6);
  console.log(`${String(run).padStart(3)} ${f(push)} ${f(read)} ${f(remove)} ${f(push + read + remove)}`);
  await rm(base, { recursive: true, force: true });
}
console.log(
  `load average (1 / 5 / 15 min): ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ')}`,
);
