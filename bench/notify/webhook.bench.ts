// The webhook target's POST alone (server/src/api/notify/webhook.ts): events sent through WebhookTarget.send
// by as many loops as the target has lanes (8 by default, as the sender runs them), to a receiver in a child
// process that answers 200 (its CPU is not this process's). Prints, per run, events/s and this process's CPU
// time per event (user+system, libuv's threads included; after 3,000 events not counted, to warm the JIT): the POST's share of the notification overhead on
// small PUTs (bench/notify/overhead.bench.ts), without the queue or the S3 server around it.
//   node --conditions=source --import tsx bench/notify/webhook.bench.ts [--events 5000] [--runs 3]
//     [--lanes 8] [--from /path/to/other/checkout] [--stall 30]
// --from: the webhook target of another checkout (an A/B of two implementations in alternate runs).
// A send that fails ends the bench with its error (exit 1); when no send completes for --stall seconds (a send
// that never settles: it hung silently before), the bench says where it was, stops the receiver, and exits 1.
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { EventRecord } from '../../server/src/api/notify/event.js';
import { eventRecord } from '../../server/src/api/notify/event.js';
import { QueuedEvent, type Target } from '../../server/src/api/notify/target.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '5000' },
    runs: { type: 'string', default: '3' },
    lanes: { type: 'string', default: '8' },
    from: { type: 'string' },
    stall: { type: 'string', default: '30' },
  },
});
const N = Number(values.events);
const runs = Number(values.runs);
const lanes = values.lanes;
const WARM = 3000;
const stallMs = Number(values.stall) * 1000;

// The receiver: node:http, keep-alive, 200 with an empty body once the request's body is read.
const receiverCode = `
const http = require('node:http');
let n = 0;
const s = http.createServer((req, res) => { req.resume(); req.on('end', () => { n++; res.end(); }); });
s.keepAliveTimeout = 60000;
s.listen(0, '127.0.0.1', () => console.log(s.address().port));
process.on('message', () => { const c = process.cpuUsage(); process.send({ n, cpu: c.user + c.system }); });
process.on('disconnect', () => process.exit(0));
`;
const receiver = spawn(process.execPath, ['-e', receiverCode], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
const port = await new Promise<number>((res) => receiver.stdout!.once('data', (d: Buffer) => res(Number(String(d)))));
const receiverStats = () =>
  new Promise<{ n: number; cpu: number }>((res) => {
    receiver.once('message', (m) => res(m as { n: number; cpu: number }));
    receiver.send('stats');
  });

type Impl = { label: string; make: () => Target };
async function load(root: string, label: string): Promise<Impl> {
  const m = (await import(join(root, 'server/src/api/notify/webhook.ts'))) as {
    WebhookTarget: new (s: Record<string, string>, env: (x: string) => string) => Target;
  };
  const settings = { endpoint: `http://127.0.0.1:${port}/events`, max_workers: lanes };
  return { label, make: () => new m.WebhookTarget(settings, (x) => x) };
}
const impls = [await load(resolve(import.meta.dirname, '../..'), 'this checkout')];
if (values.from) impls.push(await load(resolve(values.from), `--from ${basename(values.from)}`));

const origin = {
  bucket: 'bench',
  region: 'us-east-1',
  requestId: '18A2B3C4D5E6F708',
  principal: 'benchroot',
  owner: 'benchroot',
  sourceIp: '127.0.0.1',
  userAgent: 'aws-sdk-js/3 ua/2.1 os/linux lang/js md/nodejs#24',
};
const events: QueuedEvent[] = Array.from({ length: N }, (_, i) => {
  const key = `o/${String(i).padStart(8, '0')}`;
  const record: EventRecord = eventRecord(
    { name: 's3:ObjectCreated:Put', key, size: 4096, etag: 'd41d8cd98f00b204e9800998ecf8427e', contentType: 'a/b' },
    origin,
    'rule-1',
    new Date(),
    (1_700_000_000_000_000n + BigInt(i)).toString(16).toUpperCase().padStart(16, '0'),
  );
  // As the sender has it: read from the queue (a --from checkout of before the body was queued reads the same
  // fields: eventName, key, record).
  return QueuedEvent.parse(QueuedEvent.of('s3:ObjectCreated:Put', `bench/${key}`, record).body);
});

/** Where the bench is (for a stall's message), and when a send last completed. */
const progress = { what: 'starting', sent: 0, at: performance.now() };
const sent = () => {
  progress.sent++;
  progress.at = performance.now();
};
const fail = (message: string): never => {
  console.log(`${message}; load ${loadavg()[0].toFixed(1)}`);
  clearInterval(watchdog);
  receiver.kill();
  process.exit(1);
};
const watchdog = setInterval(() => {
  if (performance.now() - progress.at > stallMs)
    fail(`STALL: ${progress.what}: ${progress.sent} events sent, none completed for ${values.stall} s`);
}, 1000);

async function run(impl: Impl, i: number): Promise<{ perSec: number; cpuMs: number; rcvCpuMs: number }> {
  const target = impl.make();
  const width = target.lanes ?? 1;
  progress.what = `run ${i} (${impl.label}), warming`;
  progress.sent = 0;
  progress.at = performance.now();
  // Warm the connections and the code (the JIT: the first thousands of events cost twice as much).
  for (let done = 0; done < WARM; )
    await Promise.all(events.slice(0, width).map((e) => target.send(e).then(() => (done++, sent()))));
  progress.what = `run ${i} (${impl.label}), ${N} events`;
  progress.sent = 0;
  const r0 = await receiverStats();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < N) {
        await target.send(events[next++]);
        sent();
      }
    }),
  );
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const r1 = await receiverStats();
  if (r1.n - r0.n !== N) throw new Error(`receiver got ${r1.n - r0.n} of ${N}`);
  await target.close();
  return { perSec: (N * 1000) / ms, cpuMs: (c.user + c.system) / 1000 / N, rcvCpuMs: (r1.cpu - r0.cpu) / 1000 / N };
}

console.log(`${N} events, ${lanes} lanes; CPU ms per event (sender = this process, receiver = the child)`);
console.log('run  impl                      events/s  sender CPU ms  receiver CPU ms  load');
for (let i = 1; i <= runs; i++)
  for (const impl of impls) {
    const r = await run(impl, i).catch((e: unknown) =>
      fail(`run ${i} (${impl.label}): a send failed: ${e instanceof Error ? e.message : String(e)}`),
    );
    console.log(
      `${String(i).padStart(3)}  ${impl.label.padEnd(24)}  ${r.perSec.toFixed(0).padStart(8)}  ${r.cpuMs.toFixed(3).padStart(13)}  ${r.rcvCpuMs.toFixed(3).padStart(15)}  ${loadavg()[0].toFixed(1)}`,
    );
  }
clearInterval(watchdog);
receiver.kill();
