// HTTPS against HTTP for 64 MiB GETs, split between server and client (issue 16's "HTTPS GET 64 MiB >= 75% of
// HTTP"): the same GETs from a bare node:http(s) server (bare-server.mjs: 64 MiB from memory, 1 MiB writes; what
// Node's HTTP and TLS cost alone) and from Cairn (4 drives under /dev/shm, its default workers), each read by two
// clients: this package's generator (GET c8, worker threads) and curl (4 processes, OpenSSL). Server and clients
// share the machine's cores, so besides MiB/s the table gives the CPU each side spent per GiB (from /proc): on a
// shared or loaded machine the throughput follows the sum of both, and what the server controls is its own.
// The HTTP and the HTTPS server of each kind run side by side and are measured in turns (`--rounds`, the order
// swapped every round), so a change in the machine's load falls on both; the summary gives medians and ratios.
// `--tls-engines node,rustls`: Cairn's HTTPS server once per engine (CAIRN_TLS_ENGINE), all measured in the same
// turns; the bare server is node:https's only.
//   node --import tsx bench/load/tls-split.ts [--duration 8s] [--curl-gets 4] [--rounds 3] [--only bare|cairn]
//     [--tls-engines node,rustls]
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { LoadConfig } from './config.js';
import { keyOf } from './config.js';
import { sampleTree } from './procstat.js';
import { table } from './results.js';
import { ensureBucket, prepareObjects, runPhase } from './run.js';
import { cairnCommand, DEFAULT_CAIRN_BIN, type ServerProcess, startBare, startCairn, stopServer } from './servers.js';
import { parseDuration } from './units.js';

const MiB = 1024 ** 2;
const SIZE = 64 * MiB;
const CURL_PROCESSES = 4;

const { values: v } = parseArgs({
  options: {
    duration: { type: 'string', default: '8s' },
    'curl-gets': { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    only: { type: 'string' },
    'drives-dir': { type: 'string', default: '/dev/shm' },
    'tls-engines': { type: 'string', default: 'node' },
  },
});

interface Row {
  round: number;
  server: string;
  proto: string;
  client: string;
  mibPerSec: number;
  serverCpuPerGiB: number;
  clientCpuPerGiB: number;
}

/** CPU seconds of this process's reaped children (curl), from /proc/self/stat (cutime + cstime). */
async function childrenCpuSeconds(): Promise<number> {
  const stat = await readFile('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

function curlGets(s: ServerProcess, caFile: string | undefined, url: string, gets: number): Promise<void> {
  const args = ['-s', '-f', ...(caFile ? ['--cacert', caFile] : [])];
  if (s.name === 'cairn') args.push('--aws-sigv4', 'aws:amz:us-east-1:s3', '--user', `${s.accessKey}:${s.secretKey}`);
  for (let i = 0; i < gets; i++) args.push('-o', '/dev/null', url);
  return new Promise((resolve, reject) => {
    const child = spawn('curl', args, { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`curl exited ${code}`))));
  });
}

function loadConfig(s: ServerProcess, proto: string, durationMs: number): LoadConfig {
  return {
    name: `${s.name}-${proto}`,
    mode: 'get',
    endpoint: s.url,
    accessKey: s.accessKey,
    secretKey: s.secretKey,
    region: 'us-east-1',
    bucket: 'tls-split',
    prefix: 'tls-split/',
    objSize: SIZE,
    objects: 8,
    concurrency: 8,
    durationMs,
    rangeSize: 0,
    rangeAlign: 1,
    getRatio: 1,
    listMaxKeys: 1000,
    workers: 0,
    prepare: false,
    ca: s.ca,
  };
}

/** The objects the GETs read (the bare server answers every GET from memory). */
async function prepare(s: ServerProcess): Promise<void> {
  if (s.name !== 'cairn') return;
  const cfg = loadConfig(s, 'prepare', 0);
  await ensureBucket(cfg);
  await prepareObjects(cfg, (l) => console.error(l));
}

async function measure(
  s: ServerProcess,
  proto: string,
  round: number,
  durationMs: number,
  curlGetsEach: number,
): Promise<Row[]> {
  const pid = s.child.pid!;
  const cfg = loadConfig(s, proto, durationMs);
  const rows: Row[] = [];
  console.error(`${s.name} ${proto}: generator GET c8 for ${durationMs / 1000} s ...`);
  const cpu0 = (await sampleTree(pid)).cpuSeconds;
  const r = await runPhase(cfg);
  const serverCpu = (await sampleTree(pid)).cpuSeconds - cpu0;
  const gib = ((r.ops.get?.mibPerSec ?? 0) * r.seconds) / 1024;
  rows.push({
    round,
    server: s.name,
    proto,
    client: 'generator c8',
    mibPerSec: r.ops.get?.mibPerSec ?? 0,
    serverCpuPerGiB: serverCpu / gib,
    clientCpuPerGiB: (r.clientCores * r.seconds) / gib,
  });
  if ((r.ops.get?.errors ?? 0) > 0) console.error(`  ${r.ops.get?.errors} errors`);

  console.error(`${s.name} ${proto}: curl x${CURL_PROCESSES}, ${curlGetsEach} GETs each ...`);
  const caFile = s.ca ? join(s.dir, 'ca-for-curl.crt') : undefined;
  if (caFile) await writeFile(caFile, s.ca!);
  const url = `${s.url}/${cfg.bucket}/${keyOf(cfg, 0)}`;
  const [srv0, cli0, t0] = [(await sampleTree(pid)).cpuSeconds, await childrenCpuSeconds(), performance.now()];
  await Promise.all(Array.from({ length: CURL_PROCESSES }, () => curlGets(s, caFile, url, curlGetsEach)));
  const seconds = (performance.now() - t0) / 1000;
  const curlGiB = (CURL_PROCESSES * curlGetsEach * SIZE) / 1024 ** 3;
  rows.push({
    round,
    server: s.name,
    proto,
    client: `curl x${CURL_PROCESSES}`,
    mibPerSec: (curlGiB * 1024) / seconds,
    serverCpuPerGiB: ((await sampleTree(pid)).cpuSeconds - srv0) / curlGiB,
    clientCpuPerGiB: ((await childrenCpuSeconds()) - cli0) / curlGiB,
  });
  return rows;
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const load = () => loadavg()[0].toFixed(1);

async function main(): Promise<void> {
  const durationMs = parseDuration(v.duration!);
  const rounds = Number(v.rounds);
  const rows: Row[] = [];
  const servers = v.only ? [v.only] : ['bare', 'cairn'];
  const engines = v['tls-engines']!.split(',');
  const loadBefore = load();
  for (const name of servers) {
    const start = async (tls: boolean, engine = 'node') =>
      name === 'bare'
        ? startBare(v['drives-dir']!, tls)
        : startCairn(
            await cairnCommand(DEFAULT_CAIRN_BIN, false),
            v['drives-dir']!,
            'tls-ak',
            'tls-sk-1234',
            {
              CAIRN_TLS_ENGINE: engine,
            },
            tls,
          );
    const both: ServerProcess[] = [];
    const protos = new Map<ServerProcess, string>();
    try {
      const http = await start(false);
      both.push(http);
      protos.set(http, 'http');
      for (const engine of name === 'bare' ? ['node'] : engines) {
        const s = await start(true, engine);
        both.push(s);
        protos.set(s, engine === 'node' ? 'https' : `https-${engine}`);
      }
      for (const s of both) await prepare(s);
      for (let round = 1; round <= rounds; round++) {
        // HTTP first in odd rounds, last in even ones.
        for (const s of round % 2 ? both : [...both].reverse()) {
          rows.push(...(await measure(s, protos.get(s)!, round, durationMs, Number(v['curl-gets']))));
        }
      }
    } finally {
      for (const s of both) await stopServer(s, false);
    }
  }
  const f = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : '-');
  const out = [['round', 'server', 'proto', 'client', 'MiB/s', 'srv CPU-s/GiB', 'client CPU-s/GiB', 'both CPU-s/GiB']];
  for (const r of rows) {
    const both = r.serverCpuPerGiB + r.clientCpuPerGiB;
    out.push([
      String(r.round),
      r.server,
      r.proto,
      r.client,
      f(r.mibPerSec, 0),
      f(r.serverCpuPerGiB),
      f(r.clientCpuPerGiB),
      f(both),
    ]);
  }
  console.log(table(out));
  // Medians over the rounds, and HTTPS / HTTP: as measured, and what the server's CPU per GiB allows (its
  // throughput where it is the limit; the figure to compare on a shared machine).
  const ratios = [
    [
      'server',
      'client',
      'proto',
      'HTTP MiB/s',
      'HTTPS MiB/s',
      'HTTP srv CPU-s/GiB',
      'HTTPS srv CPU-s/GiB',
      'HTTPS/HTTP MiB/s',
      'HTTP/HTTPS srv CPU',
      'both sides CPU',
    ],
  ];
  const pick = (server: string, client: string, proto: string) =>
    rows.filter((r) => r.server === server && r.client === client && r.proto === proto);
  for (const server of servers) {
    for (const [client, proto] of [...new Set(rows.map((r) => r.client))].flatMap((c) =>
      [...new Set(rows.map((r) => r.proto))].filter((p) => p !== 'http').map((p) => [c, p] as const),
    )) {
      const [http, https] = [pick(server, client, 'http'), pick(server, client, proto)];
      if (!http.length || !https.length) continue;
      const m = (rs: Row[], k: (r: Row) => number) => median(rs.map(k));
      const [hMib, sMib] = [m(http, (r) => r.mibPerSec), m(https, (r) => r.mibPerSec)];
      const [hCpu, sCpu] = [m(http, (r) => r.serverCpuPerGiB), m(https, (r) => r.serverCpuPerGiB)];
      const [hBoth, sBoth] = [
        m(http, (r) => r.serverCpuPerGiB + r.clientCpuPerGiB),
        m(https, (r) => r.serverCpuPerGiB + r.clientCpuPerGiB),
      ];
      ratios.push([
        server,
        client,
        proto,
        f(hMib, 0),
        f(sMib, 0),
        f(hCpu),
        f(sCpu),
        `${f((100 * sMib) / hMib, 0)}%`,
        `${f((100 * hCpu) / sCpu, 0)}%`,
        `${f((100 * hBoth) / sBoth, 0)}%`,
      ]);
    }
  }
  console.log(`\nmedians of ${rounds} rounds; load average ${loadBefore} before, ${load()} after\n${table(ratios)}`);
}

await main();
