// Replication throughput and lag with the source and the target as their own `cairn server` processes (drives
// under /dev/shm), so that the two servers and the client use the machine's cores apart (lag.bench.ts runs all
// three in one event loop). PUTs of 1 MiB objects are offered at a fixed rate to the source; the target's
// ListenBucketNotification stream tells when each replica is written there. Prints the PUT rate achieved, the
// rate objects reached the target, each object's lag (from its PUT's answer to its replica's event at the
// target), and the CPU time of each process tree (from /proc: the servers' worker threads and processes
// included) per object.
//   node --conditions=source --import tsx bench/replication/procs.bench.ts [--rate 200] [--seconds 10]
//     [--size 1048576] [--concurrency 32]
//     [--workers N]     each server's --workers (default 1: one process, one thread serving)
//     [--senders N]     senders per target (CAIRN_API_REPLICATION_MAX_WORKERS; default the server's, 8)
//     [--replicate off] the same PUTs without a replication rule (the PUTs' own cost)
//     [--node-options=S] more node options for both servers (NODE_OPTIONS: `--max-semi-space-size=64`, ...);
//                       written with `=`: parseArgs takes a separate value that starts with `--` for an option
//     [--cairn BIN]     another build's CLI for both servers (an A/B of two builds in alternate runs; e.g. a copy
//                       of server/bin + server/dist beside a node_modules link)
//     [--perf-map]      servers run with --perf-basic-prof (JavaScript names for `perf record -p PID`)
//     [--gc]            each server's main-thread garbage collections during the run, by kind, with their pause
//                       time (bench/load/gc-count.mjs preloaded)
//     [--trace-gc]      each server's main-thread collections during the run by kind and V8's reason for them (V8's
//                       --trace-gc, set by bench/load/gc-count.mjs, read back from the server logs): what makes the
//                       GC run (allocation failure, external memory pressure, ...)
//     [--profile DIR]   each server's main-thread CPU profile and sampling heap profile (collected objects kept)
//                       over the run, written to DIR as <pid>.cpuprofile, .heapprofile and a .txt summary
//                       (bench/load/profile.mjs preloaded)
// The pids are printed first: `perf record -F 499 -g -p PID -- sleep 8` beside a run profiles one server.
// The machine is shared: the CPU per object is the steadier figure (the rates and lags follow the load).
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { signRequest } from '../../test/helpers/signed-request.js';
import { sampleTree } from '../load/procstat.js';
import { PROFILE_PRELOAD, waitForProfiles } from '../load/profiles.js';
import { cairnCommand, DEFAULT_CAIRN_BIN, type ServerProcess, startCairn, stopServer } from '../load/servers.js';
import {
  COMMON_OPTIONS,
  client,
  lagsOf,
  loadRow,
  printRows,
  putAtRate,
  ROOT,
  replicatedPair,
  runOf,
  scratch,
  targetRow,
} from './common.js';

const { values } = parseArgs({
  options: {
    ...COMMON_OPTIONS,
    workers: { type: 'string', default: '1' },
    'perf-map': { type: 'boolean', default: false },
    gc: { type: 'boolean', default: false },
    profile: { type: 'string' },
    'trace-gc': { type: 'boolean', default: false },
    'node-options': { type: 'string' },
    cairn: { type: 'string', default: DEFAULT_CAIRN_BIN },
  },
});
const run = runOf(values);
const { rate, size, total, replicate } = run;

const base = await scratch('cairn-repl-procs-');
const servers: ServerProcess[] = [];
const gcFile = join(base, 'gc.jsonl');
const gcPreload = join(dirname(fileURLToPath(import.meta.url)), '../load/gc-count.mjs');
const profileDir = values.profile ? resolve(values.profile) : undefined;
if (profileDir) await mkdir(profileDir, { recursive: true });

/** Starts `cairn server` (the build's CLI) with its drives in base/<name>: its URL and pid once it serves. */
async function server(name: string): Promise<{ url: string; pid: number }> {
  const env: NodeJS.ProcessEnv = { CAIRN_WORKERS: values.workers };
  if (values.senders) env.CAIRN_API_REPLICATION_MAX_WORKERS = values.senders;
  const nodeOptions = [
    ...(values['perf-map'] ? ['--perf-basic-prof'] : []),
    ...(values.gc || values['trace-gc'] ? [`--import=${gcPreload}`] : []),
    ...(profileDir ? [`--import=${PROFILE_PRELOAD}`] : []),
    ...(values['node-options'] ? [values['node-options']] : []),
  ];
  if (nodeOptions.length > 0) env.NODE_OPTIONS = nodeOptions.join(' ');
  if (values.gc) env.CAIRN_BENCH_GC_FILE = gcFile;
  if (profileDir) env.CAIRN_BENCH_PROFILE_DIR = profileDir;
  if (values['trace-gc']) env.CAIRN_BENCH_TRACE_GC = '1';
  const dir = join(base, name);
  await mkdir(dir);
  const s = await startCairn(await cairnCommand(values.cairn, false), dir, ROOT.accessKey, ROOT.secretKey, env);
  servers.push(s);
  return { url: s.url, pid: s.child.pid! };
}

/**
 * V8's --trace-gc lines (`[pid:0x..]  1234 ms: Scavenge 10.1 (12.0) -> 9.8 (13.0) MB, pooled: 0 MB, 1.2 / 0.0 ms
 * (average mu = 0.99, current mu = 0.98) allocation failure;`) counted by kind and reason, with their pause.
 */
function gcReasons(log: string): string {
  const counts = new Map<string, { n: number; ms: number }>();
  for (const line of log.split('\n')) {
    const m = /\d ms: ([A-Za-z-]+(?: \([a-z]+\))?) .*? MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ [\d.]+ ms/.exec(line);
    const reason = /current mu = [\d.]+\) (.*)$/.exec(line);
    if (!m || !reason) continue;
    const k = `${m[1]}: ${reason[1].replace(/;\s*$/, '').trim()}`;
    const c = counts.get(k) ?? { n: 0, ms: 0 };
    c.n++;
    c.ms += Number(m[2]);
    counts.set(k, c);
  }
  return [...counts]
    .sort((a, b) => b[1].n - a[1].n)
    .map(([k, c]) => `${k} ${c.n} (${c.ms.toFixed(0)} ms)`)
    .join('; ');
}

/** CPU seconds used so far by a server and every live process under it (threads are in their process's). */
const treeCpu = async (pid: number) => (await sampleTree(pid)).cpuSeconds;

try {
  const target = await server('target');
  const source = await server('source');
  console.log(`source pid ${source.pid}, target pid ${target.pid}`);
  const src = client(source.url);
  const dst = client(target.url);
  await replicatedPair({ url: source.url, s3: src }, { url: target.url, s3: dst }, replicate);

  /** When each object's PUT was answered, and when its replica's event came (ms since t0), by index. */
  const answered: number[] = new Array(total);
  const arrived: number[] = new Array(total);
  let arrivals = 0;
  let allArrived: () => void = () => {};
  const done = new Promise<void>((r) => (allArrived = r));
  let t0 = performance.now();

  // The target's events of new objects, as they happen (one long response, one JSON record per line).
  const stop = new AbortController();
  let opened: () => void = () => {};
  const open = new Promise<void>((r) => (opened = r));
  const listening = (async () => {
    if (!replicate) return;
    const { headers, target: path } = await signRequest(target.url, {
      method: 'GET',
      path: '/dst',
      query: { events: 's3:ObjectCreated:*' },
      credentials: ROOT,
    });
    const h: Record<string, string> = { ...headers };
    delete h.host;
    const res = await fetch(target.url + path, { headers: h, signal: stop.signal });
    if (res.status !== 200) throw new Error(`listen: ${res.status}`);
    opened();
    let buffered = '';
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true });
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (!line) continue;
        for (const r of (JSON.parse(line) as { Records?: { s3: { object: { key: string } } }[] }).Records ?? []) {
          const i = Number(decodeURIComponent(r.s3.object.key).slice(2));
          if (arrived[i] === undefined) {
            arrived[i] = performance.now() - t0;
            if (++arrivals === total) allArrived();
          }
        }
      }
    }
  })().catch((e: unknown) => {
    if (!stop.signal.aborted) throw e;
  });
  // Listening before the first PUT (an event of a replica written before would be missed).
  if (replicate) await Promise.race([open, listening]);

  const body = randomBytes(size);
  // The GC counts from here (each server appends what it counted so far and starts again); the profiles start
  // at the first mark and are written at the second.
  const gcMark = async () => {
    if (!values.gc && !profileDir) return;
    for (const pid of [source.pid, target.pid]) process.kill(pid, 'SIGUSR2');
    await new Promise((r) => setTimeout(r, 500));
  };
  await gcMark();
  const logAt = await Promise.all(servers.map((s) => stat(s.log).then((st) => st.size)));
  const cpu0 = { source: await treeCpu(source.pid), target: await treeCpu(target.pid), client: process.cpuUsage() };
  t0 = performance.now();
  await putAtRate(src, run, body, t0, answered);
  const lastPut = performance.now() - t0;
  let timer: NodeJS.Timeout | undefined;
  // Cleared after: a pending timer kept the process up for 300 s after it printed its table.
  if (replicate) await Promise.race([done, new Promise((r) => (timer = setTimeout(r, 300_000)))]);
  clearTimeout(timer);
  const drained = performance.now() - t0;
  const c = process.cpuUsage(cpu0.client);
  const cpu = {
    source: (await treeCpu(source.pid)) - cpu0.source,
    target: (await treeCpu(target.pid)) - cpu0.target,
    client: (c.user + c.system) / 1e6,
  };
  stop.abort();
  await listening;
  await gcMark();
  if (profileDir) await waitForProfiles(profileDir, [source.pid, target.pid]);
  // The second line each server wrote: the run's collections.
  const gcRuns = values.gc
    ? (await readFile(gcFile, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { pid: number; kinds: Record<string, { n: number; ms: number }> })
    : [];
  const gcOf = (pid: number) => {
    const k = gcRuns.filter((r) => r.pid === pid).at(-1)?.kinds ?? {};
    return Object.entries(k)
      .map(([kind, c]) => `${kind} ${c.n} (${c.ms.toFixed(0)} ms)`)
      .join(', ');
  };

  // --trace-gc: each server's collections since the run began, by kind and reason.
  const traced = values['trace-gc']
    ? await Promise.all(servers.map(async (s, i) => gcReasons((await readFile(s.log)).subarray(logAt[i]).toString())))
    : [];
  const tracedOf = (pid: number) => traced[servers.findIndex((s) => s.child.pid === pid)] ?? '';

  const lags = lagsOf(answered, arrived, drained);
  const per = (s: number) => `${((s * 1000) / total).toFixed(1)} ms`;
  const all = cpu.source + cpu.target + cpu.client;
  const rows: [string, string][] = [
    ['objects', `${total} x ${(size / 1024 / 1024).toFixed(2)} MiB`],
    ['servers', `source and target processes, --workers ${values.workers} each`],
    ['offered PUT rate', `${rate}/s`],
    ['achieved PUT rate', `${(total / (lastPut / 1000)).toFixed(1)}/s`],
    [
      'replicated rate (first PUT to last replica)',
      replicate ? `${(arrivals / (drained / 1000)).toFixed(1)}/s` : 'n/a',
    ],
    ['replicas seen at the target', replicate ? `${arrivals} of ${total}` : 'n/a'],
    ['lag p50 / p99 / max', replicate ? lags.line : 'n/a'],
    ['last replica after the last PUT', replicate ? `${(drained - lastPut).toFixed(0)} ms` : 'n/a'],
    ['senders per target', replicate ? (values.senders ?? 'default (8)') : 'no replication rule'],
    ['CPU per object: source', per(cpu.source)],
    ['CPU per object: target', per(cpu.target)],
    ['CPU per object: client', per(cpu.client)],
    ['CPU per object: all', per(all)],
    ['cores busy (all, first PUT to last replica)', (all / (drained / 1000)).toFixed(2)],
    loadRow(),
    ...(values.gc
      ? ([
          ['GCs of the source (main thread, pause)', gcOf(source.pid)],
          ['GCs of the target (main thread, pause)', gcOf(target.pid)],
        ] as [string, string][])
      : []),
    ...(values['trace-gc']
      ? ([
          ['GCs of the source by reason (--trace-gc)', tracedOf(source.pid)],
          ['GCs of the target by reason (--trace-gc)', tracedOf(target.pid)],
        ] as [string, string][])
      : []),
    targetRow(run, lags.pct(99)),
  ];
  printRows(rows);
  src.destroy();
  dst.destroy();
} finally {
  for (const s of servers) await stopServer(s, false);
  await rm(base, { recursive: true, force: true });
}
