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
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startServer } from '@cairn/server';
import { remoteTarget, replicateAll, versionedBucket } from '../../test/helpers/replication-config.js';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '10' },
    size: { type: 'string', default: String(1024 * 1024) },
    concurrency: { type: 'string', default: '32' },
    senders: { type: 'string' },
    replicate: { type: 'string', default: 'on' },
    read: { type: 'boolean', default: false },
  },
});
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const size = Number(values.size);
const concurrency = Number(values.concurrency);
const senders = values.senders === undefined ? undefined : Number(values.senders);
if (values.replicate !== 'on' && values.replicate !== 'off') throw new Error('--replicate is on or off');
const replicate = values.replicate === 'on';
const ROOT = { accessKey: 'benchroot', secretKey: 'bench-root-secret-key' };

const base = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'cairn-repl-bench-'));
const start = (name: string) =>
  startServer({
    replicationWorkers: senders,
    address: '127.0.0.1:0',
    credentials: { root: ROOT, users: [] },
    storage: { background: false },
    drives: [1, 2, 3, 4].map((i) => join(base, name, `d${i}`)),
  });
const target = await start('target');
const source = await start('source');
const client = (url: string) =>
  new S3Client({
    endpoint: url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: ROOT.accessKey, secretAccessKey: ROOT.secretKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
const src = client(source.url);
const dst = client(target.url);
await versionedBucket(src, 'src');
await versionedBucket(dst, 'dst');
const arn = await remoteTarget(source.url, 'src', new URL(target.url).host, 'dst', ROOT, ROOT);
if (replicate) await replicateAll(src, 'src', arn, { DeleteMarkerReplication: { Status: 'Disabled' } });

const body = randomBytes(size);
const total = Math.round(rate * seconds);
/** When each PUT was answered (ms since t0), in answer order. */
const answered: number[] = [];
/** When the replicated count reached n (ms since t0), sampled. */
const reached: number[] = [];
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const replicated = () => source.replicationStatus().reduce((n, t) => n + t.replicated, 0);
const sampler = setInterval(() => {
  const now = performance.now() - t0;
  for (let n = replicated(); reached.length < n; ) reached.push(now);
}, 5);

let next = 0;
async function worker(): Promise<void> {
  for (;;) {
    const i = next++;
    if (i >= total) return;
    const due = (i / rate) * 1000;
    const wait = due - (performance.now() - t0);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await src.send(new PutObjectCommand({ Bucket: 'src', Key: `o/${i}`, Body: body, ContentLength: size }));
    answered.push(performance.now() - t0);
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
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

const lags = answered.map((t, i) => Math.max(0, (reached[i] ?? drained) - t)).sort((a, b) => a - b);
const pct = (p: number) => lags[Math.min(lags.length - 1, Math.floor((p / 100) * lags.length))];
const rows: [string, string][] = [
  ['objects', `${total} x ${(size / 1024 / 1024).toFixed(2)} MiB`],
  ['offered PUT rate', `${rate}/s`],
  ['achieved PUT rate', `${(total / (lastPut / 1000)).toFixed(1)}/s`],
  ['replicated rate (first PUT to drained)', `${(replicated() / (drained / 1000)).toFixed(1)}/s`],
  [
    'lag p50 / p99 / max',
    replicate ? `${pct(50).toFixed(0)} / ${pct(99).toFixed(0)} / ${lags.at(-1)!.toFixed(0)} ms` : 'n/a',
  ],
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
  [
    'load average at the end (1 / 5 / 15 min)',
    loadavg()
      .map((l) => l.toFixed(1))
      .join(' / '),
  ],
  ['target: lag under 1 s at 200/s', replicate && pct(99) < 1000 && rate >= 200 ? 'met' : 'not met'],
];
const width = Math.max(...rows.map(([k]) => k.length));
for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);

src.destroy();
dst.destroy();
await source.close();
await target.close();
await rm(base, { recursive: true, force: true });
