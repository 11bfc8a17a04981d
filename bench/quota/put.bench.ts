// Bucket quota's cost on small PUTs: one `cairn server` (a child process, one worker, drives under /dev/shm) and
// 4 KiB PUTs from the load generator (bench/load, its own worker threads) into two buckets in alternating rounds:
// one without a quota, one with a hard quota far above what the rounds write (every PUT is checked against the
// bucket's usage and counted; the usage is walked again every 10 s in the background, as api/quota.ts does).
// Prints PUT/s, latency and the server's CPU per PUT per round, the medians and the quota's overhead.
//   node --conditions=source --import tsx bench/quota/put.bench.ts [--rounds 3] [--duration 10s]
//     [--concurrency 1] [--obj-size 4KiB]
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { adminCall } from '../../server/src/cli/admin-client.js';
import type { LoadConfig } from '../load/config.js';
import { sampleTree } from '../load/procstat.js';
import { runPhase } from '../load/run.js';
import { cairnCommand, DEFAULT_CAIRN_BIN, startCairn, stopServer } from '../load/servers.js';
import { parseDuration, parseSize } from '../load/units.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '10s' },
    concurrency: { type: 'string', default: '1' },
    'obj-size': { type: 'string', default: '4KiB' },
  },
});
const rounds = Number(values.rounds);
const durationMs = parseDuration(values.duration);
const concurrency = Number(values.concurrency);
const objSize = parseSize(values['obj-size']);
const KEYS = { accessKey: 'benchroot', secretKey: 'bench-root-secret-key' };

const drivesDir = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'cairn-quota-bench-'));
const server = await startCairn(
  await cairnCommand(DEFAULT_CAIRN_BIN, false),
  drivesDir,
  KEYS.accessKey,
  KEYS.secretKey,
  {
    CAIRN_WORKERS: '1',
    CAIRN_LOG_LEVEL: 'warn',
  },
);
const s3 = new S3Client({
  endpoint: server.url,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: KEYS.accessKey, secretAccessKey: KEYS.secretKey },
});
await s3.send(new CreateBucketCommand({ Bucket: 'plain' }));
await s3.send(new CreateBucketCommand({ Bucket: 'capped' }));
await adminCall(
  { endpoint: server.url, region: 'us-east-1', ...KEYS },
  { method: 'PUT', path: 'set-bucket-quota', query: { bucket: 'capped' }, body: { size: 2 ** 40, quotatype: 'hard' } },
);
const base: LoadConfig = {
  name: '',
  mode: 'put',
  endpoint: server.url,
  ...KEYS,
  region: 'us-east-1',
  bucket: '',
  prefix: 'o/',
  objSize,
  objects: 100_000,
  concurrency,
  durationMs,
  rangeSize: 0,
  rangeAlign: 1,
  getRatio: 0,
  listMaxKeys: 1000,
  workers: 0,
  prepare: false,
};

interface Row {
  round: number;
  bucket: string;
  putsPerSec: number;
  p50: number;
  p99: number;
  serverCpuMsPerPut: number;
  errors: number;
}
const rows: Row[] = [];
for (let round = 1; round <= rounds; round++) {
  for (const bucket of ['plain', 'capped']) {
    const cpu0 = (await sampleTree(server.child.pid!)).cpuSeconds;
    const r = await runPhase({ ...base, name: `${bucket}-${round}`, bucket });
    const put = r.ops.put!;
    const cpu = (await sampleTree(server.child.pid!)).cpuSeconds - cpu0;
    rows.push({
      round,
      bucket,
      putsPerSec: put.opsPerSec,
      p50: put.latency.p50,
      p99: put.latency.p99,
      serverCpuMsPerPut: (cpu * 1000) / Math.max(1, put.ops),
      errors: put.errors,
    });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cols = ['round', 'bucket', 'PUT/s', 'p50 ms', 'p99 ms', 'server CPU ms/PUT', 'errors'];
const table = rows.map((r) => [
  String(r.round),
  r.bucket,
  r.putsPerSec.toFixed(0),
  r.p50.toFixed(2),
  r.p99.toFixed(2),
  r.serverCpuMsPerPut.toFixed(3),
  String(r.errors),
]);
const of = (bucket: string, f: (r: Row) => number) => median(rows.filter((r) => r.bucket === bucket).map(f));
for (const bucket of ['plain', 'capped'])
  table.push([
    'median',
    bucket,
    of(bucket, (r) => r.putsPerSec).toFixed(0),
    of(bucket, (r) => r.p50).toFixed(2),
    of(bucket, (r) => r.p99).toFixed(2),
    of(bucket, (r) => r.serverCpuMsPerPut).toFixed(3),
    '',
  ]);
const widths = cols.map((c, i) => Math.max(c.length, ...table.map((row) => row[i].length)));
const line = (row: string[]) => row.map((v, i) => v.padStart(widths[i])).join('  ');
console.log(`${objSize} B PUTs, concurrency ${concurrency}, ${values.duration} per round, ${rounds} rounds`);
console.log(line(cols));
for (const row of table) console.log(line(row));
const overhead = 1 - of('capped', (r) => r.putsPerSec) / of('plain', (r) => r.putsPerSec);
const cpu = of('capped', (r) => r.serverCpuMsPerPut) / of('plain', (r) => r.serverCpuMsPerPut) - 1;
console.log(
  `overhead of the quota: ${(overhead * 100).toFixed(1)}% PUT/s, ${(cpu * 100).toFixed(1)}% server CPU per PUT`,
);

s3.destroy();
await stopServer(server, false);
await rm(drivesDir, { recursive: true, force: true });
