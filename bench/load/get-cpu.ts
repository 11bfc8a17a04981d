// Server CPU per byte of plain whole GETs (issue 23: raw whole GETs cost more CPU per GB than MinIO's), split
// so that each part can be accounted for: user vs kernel time, and for Cairn by thread (the main thread's
// JavaScript and socket writes, the libuv pool's drive reads and hash checks, V8's GC helpers). One Cairn
// process (one worker) and optionally MinIO, each on its own 4 drives (EC 2+2 for Cairn, MinIO's default
// for 4 drives), take turns (order flipped every round); each turn GETs whole objects of one size one after
// the other on one connection (or --concurrency N at once), objects taken in turn (with one connection no two
// GETs share a read-ahead batch). Prints medians of
// CPU-s/GiB per server and size, of the turns' MB/s (10^6 bytes per wall second), and the load average.
//   node --import tsx bench/load/get-cpu.ts [--bin server/bin/cairn.js] [--minio /work/ext/bin/minio]
//     [--rounds 6] [--gib 1] [--sizes 8,64] [--concurrency 1] [--workers 1] [--env NAME=VALUE] [--b-env NAME=VALUE]
//     [--b-bin OTHER/server/bin/cairn.js] [--range 8]
//     [--perf FILE]
//     [--node-arg=--trace-gc --log FILE]
// --b-env runs a second Cairn process with that setting beside the first (same turns): an A/B of a setting;
// --b-bin runs the second from another build's server/bin/cairn.js (a copy of server/ beside this
// node_modules, e.g. main's): an A/B of a change. --range R makes every GET a ranged one: R MiB on an R MiB grid
// of the object, at a random place (issue 23: an 8 MiB range's CPU per byte against a whole GET's).
// With --perf FILE, `perf record` samples every thread of the Cairn process and of MinIO (kernel stacks too)
// during their timed turns of the first size (the last round's turn is kept), into FILE.cairn and FILE.minio:
// `perf report -i FILE.cairn --no-children --sort sym`.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { objectPath, S3Client, type S3Connection } from './client.js';
import { table } from './results.js';
import { DEFAULT_CAIRN_BIN, startCairn, startMinio, stopServer, type ServerProcess } from './servers.js';
import { schedDelta, schedstats, threads, tree } from './threads.js';

const MiB = 1024 * 1024;
const KEY = { accessKey: 'get-cpu', secretKey: 'get-cpu-secret-key' };
const OBJECTS = 8;

const { values: v } = parseArgs({
  options: {
    bin: { type: 'string', default: DEFAULT_CAIRN_BIN },
    minio: { type: 'string' },
    rounds: { type: 'string', default: '6' },
    gib: { type: 'string', default: '1' },
    sizes: { type: 'string', default: '8,64' },
    concurrency: { type: 'string', default: '1' },
    workers: { type: 'string', default: '1' },
    env: { type: 'string', multiple: true, default: [] },
    'b-env': { type: 'string', multiple: true },
    'b-bin': { type: 'string' },
    range: { type: 'string' },
    perf: { type: 'string' },
    'node-arg': { type: 'string', multiple: true, default: [] },
    log: { type: 'string' },
    'drives-dir': { type: 'string', default: '/dev/shm' },
  },
});
const sizes = v.sizes!.split(',').map((s) => Number(s) * MiB);
const rangeBytes = v.range ? Number(v.range) * MiB : 0;
if (rangeBytes && sizes.some((s) => s % rangeBytes !== 0)) throw new Error('--range must divide every --sizes');

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

interface Target {
  name: string;
  server: ServerProcess;
  pid: number;
  conns: S3Connection[];
  /** CPU-s/GiB per round, per size, per group and kind ('main user', 'pool sys', ...). */
  perGiB: Map<number, Record<string, number[]>>;
}

async function send(
  t: Target,
  method: 'GET' | 'PUT',
  key?: string,
  body?: Buffer,
  c = 0,
  range?: string,
): Promise<number> {
  const res = await t.conns[c].request({ method, path: objectPath('bench', key), body, range });
  if (res.status >= 300) throw new Error(`${t.name} ${method} ${key}: ${res.status}`);
  return res.bytes;
}

async function turn(t: Target, size: number, count: number, perf: boolean): Promise<void> {
  const rec = perf
    ? spawn(
        'perf',
        [
          'record',
          '-e',
          'cpu-clock',
          '-F',
          '1000',
          '-g',
          '-p',
          (await tree(t.pid)).join(','),
          '-o',
          `${v.perf}.${t.name.split(' ')[0]}`,
        ],
        {
          stdio: 'ignore',
        },
      )
    : undefined;
  if (rec) await new Promise((r) => setTimeout(r, 1000)); // perf attaches
  const before = await threads(t.pid);
  const schedBefore = await schedstats(t.pid);
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  let bytes = 0;
  let next = 0;
  await Promise.all(
    t.conns.map(async (_, c) => {
      while (next < count) {
        const key = `o${size}-${next++ % OBJECTS}`;
        // --range R: R MiB of the object on an R MiB grid, at a random place on it.
        const at = rangeBytes ? Math.floor(Math.random() * (size / rangeBytes)) * rangeBytes : 0;
        const range = rangeBytes ? `bytes=${at}-${at + rangeBytes - 1}` : undefined;
        const got = await send(t, 'GET', key, undefined, c, range);
        bytes += got; // not `bytes += await`: that adds to the value read before the await
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const client = process.cpuUsage(clientBefore);
  const gib = bytes / 1024 ** 3;
  const sched = schedDelta(await schedstats(t.pid), schedBefore);
  const after = await threads(t.pid);
  if (rec) {
    const exited = new Promise((r) => rec.once('exit', r));
    rec.kill('SIGINT');
    await exited;
  }
  const rows = (t.perGiB.get(size) ?? t.perGiB.set(size, {}).get(size))!;
  let total = 0;
  for (const [g, a] of Object.entries(after)) {
    const b = before[g] ?? { user: 0, sys: 0 };
    for (const kind of ['user', 'sys'] as const) {
      const s = (a[kind] - b[kind]) / gib;
      (rows[`${g} ${kind}`] ??= []).push(s);
      total += s;
    }
  }
  (rows.total ??= []).push(total);
  (rows['MB/s'] ??= []).push(bytes / 1e6 / seconds);
  // The lean client's own CPU (this process) per GiB: what the server's way of sending costs the receiver.
  (rows['client (bench) CPU-s/GiB'] ??= []).push((client.user + client.system) / 1e6 / gib);
  // Per wall second of the turn: how many cores the server's threads ran on, and how many of its threads on
  // average waited on a run queue for a core (a loaded machine shares its cores by runnable thread).
  let run = 0;
  let wait = 0;
  for (const [g, d] of Object.entries(sched)) {
    if (d.runNs < 1e6) continue;
    (rows[`${g} waiting (threads)`] ??= []).push(d.waitNs / 1e9 / seconds);
    (rows[`${g} sleeps per MiB`] ??= []).push(d.voluntary / (bytes / MiB));
    run += d.runNs;
    wait += d.waitNs;
  }
  (rows['on a core (cores)'] ??= []).push(run / 1e9 / seconds);
  (rows['waiting (threads)'] ??= []).push(wait / 1e9 / seconds);
}

const targets: Target[] = [];
// Every server started, so that one failing to start does not leave those before it running.
const servers: [string, ServerProcess][] = [];
try {
  const envOf = (list: string[]) =>
    Object.fromEntries(list.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  const cairn = (env: NodeJS.ProcessEnv, bin = v.bin!) =>
    startCairn(
      [...(v.perf ? ['--perf-basic-prof'] : []), ...v['node-arg']!, bin],
      v['drives-dir']!,
      KEY.accessKey,
      KEY.secretKey,
      {
        CAIRN_WORKERS: v.workers,
        ...env,
      },
    );
  servers.push(['cairn', await cairn(envOf(v.env!))]);
  if (v['b-env'] || v['b-bin']) {
    const name = `cairn ${v['b-bin'] ? `B=${v['b-bin']} ` : ''}${(v['b-env'] ?? []).join(' ')}`.trim();
    servers.push([name, await cairn(envOf(v['b-env'] ?? []), v['b-bin'] ?? v.bin)]);
  }
  if (v.minio) servers.push(['minio', await startMinio(v.minio, v['drives-dir']!, KEY.accessKey, KEY.secretKey)]);
  for (const [name, server] of servers) {
    const client = new S3Client({ endpoint: server.url, ...KEY, region: 'us-east-1' });
    const conns = Array.from({ length: Number(v.concurrency) }, () => client.connect());
    const t: Target = { name, server, pid: server.child.pid!, conns, perGiB: new Map() };
    targets.push(t);
    await send(t, 'PUT');
    for (const size of sizes) {
      const blob = randomBytes(size);
      for (let o = 0; o < OBJECTS; o++) await send(t, 'PUT', `o${size}-${o}`, blob);
      for (let o = 0; o < OBJECTS; o++) await send(t, 'GET', `o${size}-${o}`); // warm-up
    }
  }
  const loads: number[] = [];
  for (let r = 0; r < Number(v.rounds); r++) {
    loads.push(loadavg()[0]);
    for (const size of sizes) {
      const count = Math.max(OBJECTS, Math.round((Number(v.gib) * 1024 * MiB) / (rangeBytes || size)));
      for (const t of r % 2 ? [...targets].reverse() : targets)
        await turn(t, size, count, v.perf !== undefined && !t.name.includes(' ') && size === sizes[0]);
    }
  }
  const rows = [['server', 'object', 'part', 'CPU-s/GiB (or as named)']];
  for (const t of targets)
    for (const [size, parts] of t.perGiB)
      for (const [part, xs] of Object.entries(parts).sort())
        if (median(xs) >= 0.005 || part === 'total')
          rows.push([t.name, `${size / MiB} MiB`, part, median(xs).toFixed(part === 'MB/s' ? 0 : 3)]);
  console.log(table(rows));
  console.log(
    `medians of ${v.rounds} rounds of ${v.gib} GiB per size; load average (1 min) at each round: ${loads.map((l) => l.toFixed(1)).join(' ')}`,
  );
  if (v.perf)
    console.log(
      `perf data of each server's threads (last round) in ${v.perf}.cairn and ${v.perf}.minio: perf report -i ${v.perf}.cairn --no-children --sort sym`,
    );
} finally {
  for (const t of targets) for (const c of t.conns) c.close();
  for (const [name, server] of servers) {
    if (v.log && name === 'cairn') await copyFile(server.log, v.log);
    await stopServer(server, false);
  }
}
