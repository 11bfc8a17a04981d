// HTTPS against HTTP for 64 MiB GETs, split between server and client (issue 16's "HTTPS GET 64 MiB >= 75% of
// HTTP"): the same GETs from a bare node:http(s) server (bare-server.mjs: 64 MiB from memory, 1 MiB writes; what
// Node's HTTP and TLS cost alone) and from Cairn (4 drives under /dev/shm, its default workers), each read by two
// clients: this package's generator (GET c8, worker threads) and curl (4 processes, OpenSSL). Server and clients
// share the machine's cores, so besides MiB/s the table gives the CPU each side spent per GiB (from /proc): on a
// shared or loaded machine the throughput follows the sum of both, and what the server controls is its own.
//   node --import tsx bench/load/tls-split.ts [--duration 8s] [--curl-gets 4] [--only bare|cairn]
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
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
    only: { type: 'string' },
    'drives-dir': { type: 'string', default: '/dev/shm' },
  },
});

interface Row {
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

async function measure(s: ServerProcess, proto: string, durationMs: number, curlGetsEach: number): Promise<Row[]> {
  const pid = s.child.pid!;
  const cfg: LoadConfig = {
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
  if (s.name === 'cairn') {
    await ensureBucket(cfg);
    await prepareObjects(cfg, (l) => console.error(l));
  }
  const rows: Row[] = [];
  console.error(`${s.name} ${proto}: generator GET c8 for ${durationMs / 1000} s ...`);
  const cpu0 = (await sampleTree(pid)).cpuSeconds;
  const r = await runPhase(cfg);
  const serverCpu = (await sampleTree(pid)).cpuSeconds - cpu0;
  const gib = ((r.ops.get?.mibPerSec ?? 0) * r.seconds) / 1024;
  rows.push({
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
    server: s.name,
    proto,
    client: `curl x${CURL_PROCESSES}`,
    mibPerSec: (curlGiB * 1024) / seconds,
    serverCpuPerGiB: ((await sampleTree(pid)).cpuSeconds - srv0) / curlGiB,
    clientCpuPerGiB: ((await childrenCpuSeconds()) - cli0) / curlGiB,
  });
  return rows;
}

async function main(): Promise<void> {
  const durationMs = parseDuration(v.duration!);
  const rows: Row[] = [];
  const servers = v.only ? [v.only] : ['bare', 'cairn'];
  for (const name of servers) {
    for (const tls of [false, true]) {
      const s =
        name === 'bare'
          ? await startBare(v['drives-dir']!, tls)
          : await startCairn(
              await cairnCommand(DEFAULT_CAIRN_BIN, false),
              v['drives-dir']!,
              'tls-ak',
              'tls-sk-1234',
              {},
              tls,
            );
      try {
        rows.push(...(await measure(s, tls ? 'https' : 'http', durationMs, Number(v['curl-gets']))));
      } finally {
        await stopServer(s, false);
      }
    }
  }
  const f = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : '-');
  const out = [['server', 'proto', 'client', 'MiB/s', 'srv CPU-s/GiB', 'client CPU-s/GiB', 'both CPU-s/GiB']];
  for (const r of rows) {
    const both = r.serverCpuPerGiB + r.clientCpuPerGiB;
    out.push([r.server, r.proto, r.client, f(r.mibPerSec, 0), f(r.serverCpuPerGiB), f(r.clientCpuPerGiB), f(both)]);
  }
  console.log(table(out));
  // HTTPS / HTTP: as measured, and what the server's CPU per GiB allows (its throughput where it is the limit).
  const ratios = [['server', 'client', 'HTTPS/HTTP MiB/s', 'HTTP/HTTPS srv CPU per GiB', 'both sides CPU']];
  for (const https of rows.filter((r) => r.proto === 'https')) {
    const http = rows.find((r) => r.proto === 'http' && r.server === https.server && r.client === https.client);
    if (!http) continue;
    ratios.push([
      https.server,
      https.client,
      `${f((100 * https.mibPerSec) / http.mibPerSec, 0)}%`,
      `${f((100 * http.serverCpuPerGiB) / https.serverCpuPerGiB, 0)}%`,
      `${f((100 * (http.serverCpuPerGiB + http.clientCpuPerGiB)) / (https.serverCpuPerGiB + https.clientCpuPerGiB), 0)}%`,
    ]);
  }
  console.log(`\n${table(ratios)}`);
}

await main();
