// Two builds of a server side by side on small GETs, under the same load at the same time: each request
// goes to A or B in turn from one generator, so whatever else runs on the machine weighs on both alike
// (alternating whole runs, as bench/warp does, measured the other helpers' load as much as the change on a
// shared 2-core machine). Prints, per window, each server's CPU per GET (all its processes, /proc) and B / A.
//
//   node --import tsx bench/load/ab-get.ts --a http://127.0.0.1:9481 --a-pid PID --b http://127.0.0.1:9482 \
//       --b-pid PID [--access-key K --secret-key S] [--size 4096] [--objects 500] [--concurrency 16] \
//       [--windows 8] [--window 10s]
//
// Both servers must accept the same credentials; the bucket `ab-get` is made on each and filled with the same
// objects first. --concurrency is per server (requests in flight to each).
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { objectPath, S3Client, type S3Connection } from './client.js';
import { sampleTree } from './procstat.js';
import { table } from './results.js';
import { parseDuration } from './units.js';

const { values: v } = parseArgs({
  options: {
    a: { type: 'string' },
    'a-pid': { type: 'string' },
    b: { type: 'string' },
    'b-pid': { type: 'string' },
    'access-key': { type: 'string', default: 'cairn-warp' },
    'secret-key': { type: 'string', default: 'cairn-warp-secret-key' },
    region: { type: 'string', default: 'us-east-1' },
    size: { type: 'string', default: '4096' },
    objects: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '16' },
    windows: { type: 'string', default: '8' },
    window: { type: 'string', default: '10s' },
  },
});
if (!v.a || !v.b || !v['a-pid'] || !v['b-pid']) {
  console.error('usage: ab-get.ts --a URL --a-pid PID --b URL --b-pid PID [options]: see the head of this file');
  process.exit(2);
}

const BUCKET = 'ab-get';
const size = Number(v.size);
const objects = Number(v.objects);
const concurrency = Number(v.concurrency);
const windowMs = parseDuration(v.window!);

interface Side {
  name: string;
  pid: number;
  client: S3Client;
  done: number;
}

const sides: Side[] = (['a', 'b'] as const).map((n) => ({
  name: n.toUpperCase(),
  pid: Number(v[`${n}-pid`]),
  client: new S3Client({
    endpoint: v[n]!,
    accessKey: v['access-key']!,
    secretKey: v['secret-key']!,
    region: v.region!,
  }),
  done: 0,
}));

const body = Buffer.alloc(size, 0x61);
for (const s of sides) {
  const c = s.client.connect();
  const made = await c.request({ method: 'PUT', path: objectPath(BUCKET) });
  if (made.status !== 200 && made.status !== 409)
    throw new Error(`${s.name}: make bucket: ${made.status} ${made.errorText}`);
  for (let i = 0; i < objects; i++) {
    const r = await c.request({ method: 'PUT', path: objectPath(BUCKET, `o${i}`), body });
    if (r.status !== 200) throw new Error(`${s.name}: PUT o${i}: ${r.status} ${r.errorText}`);
  }
  c.close();
}

let stopping = false;
let failures = 0;
/** One connection's loop: a GET of a random object, then the next, until stopped. */
async function loop(s: Side, c: S3Connection): Promise<void> {
  while (!stopping) {
    const r = await c.request({ method: 'GET', path: objectPath(BUCKET, `o${Math.floor(Math.random() * objects)}`) });
    if (r.status !== 200 || r.bytes !== size) failures++;
    else s.done++;
  }
}

const loops: Promise<void>[] = [];
// Connections to A and B interleaved, so that neither side's requests are the first of each turn.
for (let i = 0; i < concurrency; i++) for (const s of sides) loops.push(loop(s, s.client.connect()));

const rows: string[][] = [];
const ratios: number[] = [];
const per: number[][] = [[], []];
for (let w = 0; w <= Number(v.windows); w++) {
  const load = loadavg()[0];
  const cpu0 = await Promise.all(sides.map((s) => sampleTree(s.pid)));
  const done0 = sides.map((s) => s.done);
  await new Promise((r) => setTimeout(r, windowMs));
  const cpu1 = await Promise.all(sides.map((s) => sampleTree(s.pid)));
  if (w === 0) continue; // warm-up: caches filled, code optimized
  const us = sides.map((s, i) => ((cpu1[i].cpuSeconds - cpu0[i].cpuSeconds) * 1e6) / Math.max(1, s.done - done0[i]));
  us.forEach((x, i) => per[i].push(x));
  ratios.push(us[1] / us[0]);
  rows.push([
    String(w),
    ...sides.map((s, i) => `${s.done - done0[i]}`),
    ...us.map((x) => x.toFixed(0)),
    (us[1] / us[0]).toFixed(2),
    load.toFixed(1),
  ]);
}
stopping = true;
await Promise.all(loops);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
rows.push(['mean', '', '', mean(per[0]).toFixed(0), mean(per[1]).toFixed(0), mean(ratios).toFixed(2), '']);
rows.push(['median', '', '', median(per[0]).toFixed(0), median(per[1]).toFixed(0), median(ratios).toFixed(2), '']);
console.log(table([['window', 'GETs A', 'GETs B', 'us CPU/GET A', 'us CPU/GET B', 'B / A', 'load'], ...rows]));
if (failures > 0) console.log(`${failures} GETs failed or came back short`);
process.exit(0);
