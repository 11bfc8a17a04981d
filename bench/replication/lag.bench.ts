// Replication throughput and lag: a source Cairn and a target Cairn (both in this process, one worker each, drives
// under /dev/shm), a bucket replicated from one to the other, and PUTs of 1 MiB objects offered at a fixed rate.
// Prints the PUT rate achieved, the rate changes reached the target, the lag of each object (from its PUT's answer
// to the source's sender having copied it), the time the queue took to drain after the last PUT, and the CPU time
// the process used (both servers and the client share it: one event loop).
//   node --conditions=source --import tsx bench/replication/lag.bench.ts [--rate 200] [--seconds 10] [--size 1048576]
//     [--senders N]  senders per target (CAIRN_API_REPLICATION_MAX_WORKERS; default the server's, 8; 1 = one sequential)
//     [--replicate off]  the same PUTs without a replication rule: what the PUTs alone cost, for the CPU per object
//     [--read]  then GETs every object once from the source, and prints that pass's CPU per object apart: with
//               --replicate off, what a PUT plus a read cost, to set beside what a replicated object costs
// The machine is shared: the CPU time per object is the steadier figure (the rates and lags follow the load).
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { startServer } from '@cairn/server';
import * as common from './common.js';

const { values } = parseArgs({ options: { ...common.COMMON_OPTIONS, read: { type: 'boolean', default: false } } });
const run = common.runOf(values);
const { rate, size, concurrency, total, replicate } = run;
const senders = values.senders === undefined ? undefined : Number(values.senders);

const base = await common.scratch('cairn-repl-bench-');
const start = (name: string) =>
  startServer({
    replicationWorkers: senders,
    address: '127.0.0.1:0',
    credentials: { root: common.ROOT, users: [] },
    storage: { background: false },
    drives: [1, 2, 3, 4].map((i) => join(base, name, `d${i}`)),
  });
const target = await start('target');
const source = await start('source');
const src = common.client(source.url);
const dst = common.client(target.url);
await common.replicatedPair({ url: source.url, s3: src }, { url: target.url, s3: dst }, replicate);

const body = randomBytes(size);
/** When each PUT was answered (ms since t0), by index. */
const answered: number[] = new Array(total);
/** When the replicated count reached n (ms since t0), sampled. */
const reached: number[] = [];
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const replicated = () => source.replicationStatus().reduce((n, t) => n + t.replicated, 0);
const sampler = setInterval(() => {
  const now = performance.now() - t0;
  for (let n = replicated(); reached.length < n; ) reached.push(now);
}, 5);

await common.putAtRate(src, run, body, t0, answered);
const lastPut = performance.now() - t0;
await source.replicationIdle();
const drained = performance.now() - t0;
clearInterval(sampler);
const cpu = process.cpuUsage(cpu0);
for (let n = replicated(); reached.length < n; ) reached.push(drained);

// The read-back pass (--read): each object GET once, the body drained, as many at once as the PUTs.
let readCpu: NodeJS.CpuUsage | undefined;
if (values.read) {
  const c0 = process.cpuUsage();
  let r = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = r++; i < total; i = r++) {
        const got = await src.send(new GetObjectCommand({ Bucket: 'src', Key: `o/${i}` }));
        for await (const _ of got.Body as AsyncIterable<Buffer>);
      }
    }),
  );
  readCpu = process.cpuUsage(c0);
}

// The n-th answer (in time order) beside the time the replicated count reached n.
const lags = common.lagsOf(
  [...answered].sort((a, b) => a - b),
  reached,
  drained,
);
const rows: [string, string][] = [
  ['objects', `${total} x ${(size / 1024 / 1024).toFixed(2)} MiB`],
  ['offered PUT rate', `${rate}/s`],
  ['achieved PUT rate', `${(total / (lastPut / 1000)).toFixed(1)}/s`],
  ['replicated rate (first PUT to drained)', `${(replicated() / (drained / 1000)).toFixed(1)}/s`],
  ['lag p50 / p99 / max', replicate ? lags.line : 'n/a'],
  ['queue drained after the last PUT', `${(drained - lastPut).toFixed(0)} ms`],
  ['senders per target', replicate ? String(senders ?? 'default (8)') : 'no replication rule'],
  [
    'CPU user + system (first PUT to drained)',
    `${(cpu.user / 1e6).toFixed(1)} + ${(cpu.system / 1e6).toFixed(1)} s (${(((cpu.user + cpu.system) / 1e3 / drained) * 100).toFixed(0)}% of one core)`,
  ],
  ['CPU per object (both servers and the client)', `${((cpu.user + cpu.system) / 1e3 / total).toFixed(1)} ms`],
  [
    'CPU per object read back (--read)',
    readCpu ? `${((readCpu.user + readCpu.system) / 1e3 / total).toFixed(1)} ms` : 'n/a',
  ],
  common.loadRow(),
  common.targetRow(run, lags.pct(99)),
];
common.printRows(rows);

src.destroy();
dst.destroy();
await source.close();
await target.close();
await rm(base, { recursive: true, force: true });
