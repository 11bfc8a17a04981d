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
// Each round's row is printed as soon as the round is over (the table used to come only at the end, so a
// stalled round showed nothing at all). A round whose load phase has not ended a minute after its duration, or
// whose events stop arriving for --stall seconds before all are in, is a stall: the bench says what it was
// waiting for, prints the end of the server's log, and exits with status 1 (it waited 300 s per round before).
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
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
    stall: { type: 'string', default: '30' },
  },
});
const rounds = Number(values.rounds);
const durationMs = parseDuration(values.duration);
const concurrency = Number(values.concurrency);
const objSize = parseSize(values['obj-size']);
const buckets = values.buckets.split(',').filter((b) => b === 'plain' || b === 'notified');
const stallMs = Number(values.stall) * 1000;
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
/** A stall: what the bench waited for, the end of the server's log; the server is stopped and the bench exits 1. */
async function stalled(what: string): Promise<never> {
  const log = await readFile(server.log, 'utf8').catch(() => '');
  console.log(
    `STALL: ${what}; load ${loadavg()[0].toFixed(1)}; server ${server.child.exitCode === null ? 'running' : `exited ${server.child.exitCode}`}`,
  );
  console.log(`server log (${server.log}), last lines:\n${log.split('\n').slice(-20).join('\n')}`);
  s3.destroy();
  await stopServer(server, true);
  process.exit(1);
}

/** The load phase of one round, or a stall once it runs a minute past its duration (a request never answered). */
async function phase(name: string, bucket: string) {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<undefined>((res) => (timer = setTimeout(res, durationMs + 60_000, undefined)));
  const r = await Promise.race([runPhase({ ...base, name, bucket }), limit]);
  clearTimeout(timer);
  return r ?? stalled(`round ${name}: the load phase had not ended ${(durationMs + 60_000) / 1000} s after it began`);
}

const cols = ['round', 'bucket', 'PUT/s', 'p50 ms', 'p99 ms', 'server CPU ms/PUT', 'errors', 'delivered after'];
const widths = [6, 8, 6, 8, 8, 17, 6, 15];
const line = (row: string[]) => row.map((v, i) => v.padStart(widths[i])).join('  ');
console.log(`${objSize} B PUTs, concurrency ${concurrency}, ${values.duration} per round, ${rounds} rounds`);
console.log(line(cols));

let notifiedPuts = 0;
const rows: Row[] = [];
for (let round = 1; round <= rounds; round++) {
  for (const bucket of buckets) {
    const cpu0 = (await sampleTree(server.child.pid!)).cpuSeconds;
    const r = await phase(`${bucket}-${round}`, bucket);
    const put = r.ops.put!;
    let drainMs: number | undefined;
    if (bucket === 'notified') {
      notifiedPuts += put.ops;
      // Every event in before the next round (none pays for an earlier one's deliveries); a stall once none
      // arrives for --stall seconds.
      const t = performance.now();
      let seen = received;
      let moved = t;
      while (received < notifiedPuts) {
        await new Promise((res) => setTimeout(res, 20));
        if (received !== seen) [seen, moved] = [received, performance.now()];
        else if (performance.now() - moved > stallMs)
          await stalled(
            `round ${round}: ${notifiedPuts - received} of ${notifiedPuts} events not received, none for ${values.stall} s`,
          );
      }
      drainMs = performance.now() - t;
    }
    const cpu = (await sampleTree(server.child.pid!)).cpuSeconds - cpu0;
    const row: Row = {
      round,
      bucket,
      putsPerSec: put.opsPerSec,
      p50: put.latency.p50,
      p99: put.latency.p99,
      serverCpuMsPerPut: (cpu * 1000) / Math.max(1, put.ops),
      errors: put.errors,
      drainMs,
    };
    rows.push(row);
    console.log(line(cells(String(round), row)));
  }
}
const sentBeforeStop = received;

function cells(round: string, r: Row): string[] {
  return [
    round,
    r.bucket,
    r.putsPerSec.toFixed(0),
    r.p50.toFixed(2),
    r.p99.toFixed(2),
    r.serverCpuMsPerPut.toFixed(3),
    String(r.errors),
    r.drainMs === undefined ? '' : `${(r.drainMs / 1000).toFixed(1)} s`,
  ];
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const of = (bucket: string, f: (r: Row) => number) => median(rows.filter((r) => r.bucket === bucket).map(f));
for (const bucket of buckets) {
  const m = cells('median', {
    round: 0,
    bucket,
    putsPerSec: of(bucket, (r) => r.putsPerSec),
    p50: of(bucket, (r) => r.p50),
    p99: of(bucket, (r) => r.p99),
    serverCpuMsPerPut: of(bucket, (r) => r.serverCpuMsPerPut),
    errors: 0,
  });
  m[6] = '';
  console.log(line(m));
}
if (buckets.length === 2) {
  const overhead = 1 - of('notified', (r) => r.putsPerSec) / of('plain', (r) => r.putsPerSec);
  const latency = of('notified', (r) => r.p50) / of('plain', (r) => r.p50) - 1;
  // CPU per PUT is the steadier figure on a shared machine (PUT/s follows the load of the moment); the
  // notified round's CPU includes the deliveries after it.
  const cpu = of('notified', (r) => r.serverCpuMsPerPut) / of('plain', (r) => r.serverCpuMsPerPut) - 1;
  console.log(
    `overhead of the webhook target: ${(cpu * 100).toFixed(1)}% server CPU per PUT, ${(overhead * 100).toFixed(1)}% PUT/s, ${(latency * 100).toFixed(1)}% p50`,
  );
  console.log(`target <= 10% (server CPU per PUT): ${cpu <= 0.1 ? 'met' : 'not met'}`);
}
console.log(`events received by the webhook: ${sentBeforeStop} of ${notifiedPuts} notified PUTs`);
console.log(
  `load average at the end (1 / 5 / 15 min): ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ')}`,
);

s3.destroy();
await stopServer(server, false);
await new Promise((resolve) => receiver.close(resolve));
await rm(drivesDir, { recursive: true, force: true });
