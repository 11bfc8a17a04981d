// Notification overhead on small PUTs: one `cairn server` (a child process, one worker, drives under /dev/shm)
// with a webhook target whose receiver answers 200 in this process, and 4 KiB PUTs from the load generator
// (bench/load, its own worker threads) into two buckets in alternating rounds: one without a notification
// configuration, one sending s3:ObjectCreated:* to the webhook (each PUT writes its event to the target's
// queue on the drive before it is answered, and the sender posts it). Prints PUT/s and latency per round, the
// medians, the overhead (target: <= 10%) and the server's CPU per PUT (in a notified round, and in the time the
// webhook then takes to receive every event: a round starts only once the queue is delivered, so no round
// pays for an earlier one's deliveries).
//   node --conditions=source --import tsx bench/notify/overhead.bench.ts [--rounds 3] [--duration 10s]
//     [--concurrency 16] [--obj-size 4KiB] [--buckets plain,notified] [--cpu-prof DIR]
//     [--cairn server/bin/cairn.js]
// --buckets runs only these rounds (a profile of one kind); --cpu-prof writes the server's CPU profile (node
// --cpu-prof) into DIR when it stops; --cairn runs another build's CLI (an A/B of two builds).
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, PutBucketNotificationConfigurationCommand, S3Client } from '@aws-sdk/client-s3';
import type { LoadConfig } from '../load/config.js';
import { sampleTree } from '../load/procstat.js';
import { runPhase } from '../load/run.js';
import { cairnCommand, DEFAULT_CAIRN_BIN, startCairn, stopServer } from '../load/servers.js';
import { parseDuration, parseSize } from '../load/units.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '10s' },
    concurrency: { type: 'string', default: '16' },
    'obj-size': { type: 'string', default: '4KiB' },
    buckets: { type: 'string', default: 'plain,notified' },
    'cpu-prof': { type: 'string' },
    cairn: { type: 'string', default: DEFAULT_CAIRN_BIN },
  },
});
const rounds = Number(values.rounds);
const durationMs = parseDuration(values.duration);
const concurrency = Number(values.concurrency);
const objSize = parseSize(values['obj-size']);
const buckets = values.buckets.split(',').filter((b) => b === 'plain' || b === 'notified');
const cpuProf = values['cpu-prof'] ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${values['cpu-prof']}` } : {};
const KEYS = { accessKey: 'benchroot', secretKey: 'bench-root-secret-key' };

let received = 0;
const receiver = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    received++;
    res.end();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/events`;

const drivesDir = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'cairn-notify-bench-'));
const server = await startCairn(await cairnCommand(values.cairn, false), drivesDir, KEYS.accessKey, KEYS.secretKey, {
  CAIRN_WORKERS: '1',
  CAIRN_NOTIFY_WEBHOOK_ENABLE_BENCH: 'on',
  CAIRN_NOTIFY_WEBHOOK_ENDPOINT_BENCH: hook,
  CAIRN_LOG_LEVEL: 'warn',
  ...cpuProf,
});
const s3 = new S3Client({
  endpoint: server.url,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: KEYS.accessKey, secretAccessKey: KEYS.secretKey },
});
await s3.send(new CreateBucketCommand({ Bucket: 'plain' }));
await s3.send(new CreateBucketCommand({ Bucket: 'notified' }));
await s3.send(
  new PutBucketNotificationConfigurationCommand({
    Bucket: 'notified',
    NotificationConfiguration: {
      QueueConfigurations: [{ QueueArn: 'arn:cairn:sqs::BENCH:webhook', Events: ['s3:ObjectCreated:*'] }],
    },
  }),
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
  /** Notified rounds: how long after the round the webhook had every event. */
  drainMs?: number;
}
let notifiedPuts = 0;
const rows: Row[] = [];
for (let round = 1; round <= rounds; round++) {
  for (const bucket of buckets) {
    const cpu0 = (await sampleTree(server.child.pid!)).cpuSeconds;
    const r = await runPhase({ ...base, name: `${bucket}-${round}`, bucket });
    const put = r.ops.put!;
    let drainMs: number | undefined;
    if (bucket === 'notified') {
      notifiedPuts += put.ops;
      const t = performance.now();
      while (received < notifiedPuts && performance.now() - t < 300_000)
        await new Promise((res) => setTimeout(res, 20));
      drainMs = performance.now() - t;
    }
    const cpu = (await sampleTree(server.child.pid!)).cpuSeconds - cpu0;
    rows.push({
      round,
      bucket,
      putsPerSec: put.opsPerSec,
      p50: put.latency.p50,
      p99: put.latency.p99,
      serverCpuMsPerPut: (cpu * 1000) / Math.max(1, put.ops),
      errors: put.errors,
      drainMs,
    });
  }
}
const sentBeforeStop = received;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cols = ['round', 'bucket', 'PUT/s', 'p50 ms', 'p99 ms', 'server CPU ms/PUT', 'errors', 'delivered after'];
const table = rows.map((r) => [
  String(r.round),
  r.bucket,
  r.putsPerSec.toFixed(0),
  r.p50.toFixed(2),
  r.p99.toFixed(2),
  r.serverCpuMsPerPut.toFixed(3),
  String(r.errors),
  r.drainMs === undefined ? '' : `${(r.drainMs / 1000).toFixed(1)} s`,
]);
const of = (bucket: string, f: (r: Row) => number) => median(rows.filter((r) => r.bucket === bucket).map(f));
for (const bucket of buckets)
  table.push([
    'median',
    bucket,
    of(bucket, (r) => r.putsPerSec).toFixed(0),
    of(bucket, (r) => r.p50).toFixed(2),
    of(bucket, (r) => r.p99).toFixed(2),
    of(bucket, (r) => r.serverCpuMsPerPut).toFixed(3),
    '',
    '',
  ]);
const widths = cols.map((c, i) => Math.max(c.length, ...table.map((row) => row[i].length)));
const line = (row: string[]) => row.map((v, i) => v.padStart(widths[i])).join('  ');
console.log(`${objSize} B PUTs, concurrency ${concurrency}, ${values.duration} per round, ${rounds} rounds`);
console.log(line(cols));
for (const row of table) console.log(line(row));
if (buckets.length === 2) {
  const overhead = 1 - of('notified', (r) => r.putsPerSec) / of('plain', (r) => r.putsPerSec);
  const latency = of('notified', (r) => r.p50) / of('plain', (r) => r.p50) - 1;
  console.log(
    `overhead of the webhook target: ${(overhead * 100).toFixed(1)}% PUT/s, ${(latency * 100).toFixed(1)}% p50`,
  );
  console.log(`target <= 10%: ${overhead <= 0.1 ? 'met' : 'not met'}`);
}
console.log(`events received by the webhook: ${sentBeforeStop} of ${notifiedPuts} notified PUTs`);

s3.destroy();
await stopServer(server, false);
await new Promise((resolve) => receiver.close(resolve));
await rm(drivesDir, { recursive: true, force: true });
