// S3 gateway (`cairn gateway s3 URL`) against talking to its backend directly. A backend Cairn (4 drives) and
// the gateway run as child processes from the sources, the gateway with its own root user.
// 1. GET of 64 MiB objects: the backend directly and through the gateway, with node's http and a SigV4 signer
//    (bodies counted and dropped), through a second gateway with CAIRN_GATEWAY_SPLICE=on (bodies spliced from
//    socket to socket in the kernel; the default, auto, sends them through node to a client on this host, as this
//    one is), and the backend directly with the AWS SDK's GetObject (the client the gateway uses: what choosing
//    it costs). Best round's MiB/s, the gateway's overhead (target <= 15%), and
//    the serving processes' CPU seconds per GiB (backend + gateway for the gateway's rows), and the client's (this
//    process) and the total: on loopback a sender also runs its receiver's TCP work and the other way round (the
//    gateway's sends released by the client's ACKs run in the client), so only the total compares the paths.
//    --pin: this process (the client) and the backend on CPU 0, the gateways on CPU 1 (taskset): a model of a
//    gateway on a machine of its own (the loopback's cross-charging above still lands on CPU 0).
// 2. Parquet Select through a second gateway that reaches the backend through a byte-counting TCP proxy: bytes
//    read from the backend for a query touching 1 of 20 columns and 1 of 20 row groups, first (footer read)
//    and again (footer from the gateway's cache); target < 5% of the file. Needs pyarrow (SELECT_BENCH_PYTHON,
//    else the repo's .venv, else python3) to write the file; skipped with a note without it.
//   node --conditions=source --import tsx bench/s3gw/gateway.bench.ts [--size-mib 64] [--files 4]
//                                                                    [--clients 1] [--rounds 3] [--rows 640000]
//                                                                    [--cpu-prof DIR] [--quick] [--pin]
//   --quick: only the backend directly and through both gateways with node's http (no SDK, no bare proxy).
//   --cpu-prof DIR: the gateway runs under node's --cpu-prof; its profile (DIR/*.cpuprofile, for Chrome's
//   DevTools) is written when it stops, and its top self times are printed.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  SelectObjectContentCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { sampleTree } from '../load/procstat.js';
import { SigV4Signer, UNSIGNED_PAYLOAD } from '../load/sigv4.js';
import { wideParquetFile } from '../select/data.js';

const { values } = parseArgs({
  options: {
    'size-mib': { type: 'string', default: '64' },
    files: { type: 'string', default: '4' },
    clients: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '3' },
    rows: { type: 'string', default: '640000' },
    'cpu-prof': { type: 'string' },
    quick: { type: 'boolean', default: false },
    pin: { type: 'boolean', default: false },
  },
});
const size = Number(values['size-mib']) * 1024 * 1024;
const files = Number(values.files);
const clients = Number(values.clients);
const rounds = Number(values.rounds);
const rows = Number(values.rows);
const repo = fileURLToPath(new URL('../..', import.meta.url));
const venvPython = join(repo, '.venv/bin/python');
const PYTHON = process.env.SELECT_BENCH_PYTHON ?? (existsSync(venvPython) ? venvPython : 'python3');
const BACKEND = { accessKey: 'backendroot', secretKey: 'backend-root-secret' };
const GATEWAY = { accessKey: 'gatewayroot', secretKey: 'gateway-root-secret' };

const pin = values.pin;
// The client (this process, every thread) on CPU 0; its children inherit it unless started on CPU 1.
if (pin) execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });

/** Spawns a Cairn command from the sources; resolves with its URL once it logs it. `cpu`: pinned there (--pin). */
function startCairn(args: string[], env: Record<string, string>, nodeArgs: string[] = [], cpu?: number) {
  const node = [...nodeArgs, '--conditions=source', '--import', 'tsx', 'server/src/cli/main.ts'];
  const [cmd, pre] =
    pin && cpu !== undefined ? ['taskset', ['-c', String(cpu), process.execPath]] : [process.execPath, []];
  const child = spawn(cmd, [...pre, ...node, ...args], {
    cwd: repo,
    env: { ...process.env, CAIRN_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The last lines it wrote, printed if it ends before the bench stops it.
  const tail: string[] = [];
  let stopping = false;
  return new Promise<{ child: ChildProcess; url: string; stop(): void }>((resolve, reject) => {
    for (const stream of [child.stdout!, child.stderr!])
      createInterface({ input: stream }).on('line', (line) => {
        tail.push(line);
        if (tail.length > 20) tail.shift();
        const url = line.startsWith('{') ? (JSON.parse(line) as { url?: string }).url : undefined;
        if (url)
          resolve({
            child,
            url,
            stop: () => {
              stopping = true;
              child.kill('SIGTERM');
            },
          });
      });
    child.on('exit', (code, signal) => {
      if (!stopping)
        console.error(`cairn ${args.slice(0, 2).join(' ')} ended (${code ?? signal}):\n${tail.join('\n')}`);
      reject(new Error(`cairn ${args[0]} exited with ${code}`));
    });
  });
}

/** A TCP proxy to `port` counting the bytes coming back from it. */
function countingProxy(port: number): Promise<{ server: Server; port: number; received: () => number; reset(): void }> {
  let received = 0;
  const server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port });
    upstream.on('data', (c: Buffer) => (received += c.length));
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        server,
        port: (server.address() as { port: number }).port,
        received: () => received,
        reset: () => (received = 0),
      }),
    ),
  );
}

const client = (url: string, c: { accessKey: string; secretKey: string }) =>
  new S3Client({
    endpoint: url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: c.accessKey, secretAccessKey: c.secretKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });

interface Target {
  name: string;
  pids: number[];
  get: (agent: Agent, key: string) => Promise<number>;
}

/** GET one object with node's http, signed; resolves with the body's byte count (the bytes are dropped). */
function rawGet(url: string, creds: { accessKey: string; secretKey: string }) {
  const signer = new SigV4Signer({ ...creds, region: 'us-east-1' });
  const u = new URL(url);
  return (agent: Agent, key: string) => {
    const path = `/bench/${key}`;
    const amzDate = signer.now();
    const headers: Record<string, string> = {
      host: u.host,
      'x-amz-date': amzDate,
      'x-amz-content-sha256': UNSIGNED_PAYLOAD,
    };
    headers.authorization = signer.authorization({
      method: 'GET',
      path,
      headers,
      payloadHash: UNSIGNED_PAYLOAD,
      amzDate,
    });
    return new Promise<number>((resolve, reject) => {
      const req = request({ agent, host: u.hostname, port: u.port, path, headers }, (res) => {
        let n = 0;
        res.on('data', (c: Buffer) => (n += c.length));
        res.on('end', () =>
          res.statusCode === 200 ? resolve(n) : reject(new Error(`GET ${path}: ${res.statusCode}`)),
        );
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  };
}

/** GET one object with the AWS SDK (a client per connection); the body counted and dropped. */
function sdkGet(url: string, creds: { accessKey: string; secretKey: string }) {
  const clients = new WeakMap<Agent, S3Client>();
  return async (agent: Agent, key: string) => {
    let c = clients.get(agent);
    if (!c) clients.set(agent, (c = client(url, creds)));
    const out = await c.send(new GetObjectCommand({ Bucket: 'bench', Key: key }));
    let n = 0;
    for await (const chunk of out.Body as AsyncIterable<Buffer>) n += chunk.length;
    return n;
  };
}

const cpuOf = async (pids: number[]) => {
  let s = 0;
  for (const pid of pids) s += (await sampleTree(pid)).cpuSeconds;
  return s;
};

/** When the rounds through the gateway ran, in µs of CLOCK_MONOTONIC (the clock of V8's profile timestamps). */
const gatewayWindows: [number, number][] = [];
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

async function round(
  t: Target,
  names: string[],
): Promise<{ rate: number; cpuPerGiB: number; split: number[]; client: number }> {
  const cpuBefore = await cpuOf(t.pids);
  const clientBefore = process.cpuUsage();
  const from = monotonicUs();
  const each = await Promise.all(t.pids.map((p) => cpuOf([p])));
  const agents = Array.from({ length: clients }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
  const start = performance.now();
  let bytes = 0;
  await Promise.all(
    agents.map(async (agent, c) => {
      for (let i = 0; i < names.length; i++) {
        const n = await t.get(agent, names[(i + c) % names.length]);
        if (n !== size) throw new Error(`${t.name}: ${n} bytes, not ${size}`);
        bytes += n;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(clientBefore);
  if (t.name.startsWith('through the gateway')) gatewayWindows.push([from, monotonicUs()]);
  for (const a of agents) a.destroy();
  const cpu = (await cpuOf(t.pids)) - cpuBefore;
  const gib = bytes / 1024 ** 3;
  const split = await Promise.all(t.pids.map(async (p, i) => ((await cpuOf([p])) - each[i]) / gib));
  const client = (used.user + used.system) / 1e6 / gib;
  return { rate: bytes / 1024 / 1024 / seconds, cpuPerGiB: cpu / gib, split, client };
}

/** The floor of any gateway in node: an HTTP proxy that pipes each request and response through (no S3 work). */
const plainProxy = `
const http = require('node:http');
const target = new URL(process.argv[1]);
const agent = new http.Agent({ keepAlive: true });
const server = http.createServer((req, res) => {
  const up = http.request({ agent, host: target.hostname, port: target.port, method: req.method, path: req.url,
    headers: req.headers }, (r) => { res.writeHead(r.statusCode, r.headers); r.pipe(res); });
  req.pipe(up);
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ url: 'http://127.0.0.1:' + server.address().port })));
`;

/**
 * The `n` functions with the most self time in a .cpuprofile, counting the samples taken in `windows` only
 * (wall-clock samples: on a loaded machine a thread waiting for a core counts for the frame it was in).
 */
function topFrames(file: string, windows: [number, number][], n: number): Promise<string[]> {
  interface Profile {
    nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
    startTime: number;
    samples: number[];
    timeDeltas: number[];
  }
  return readFile(file, 'utf8').then((text) => {
    const p = JSON.parse(text) as Profile;
    const frames = new Map(p.nodes.map((x) => [x.id, x.callFrame]));
    const self = new Map<string, number>();
    let total = 0;
    let at = p.startTime;
    p.samples.forEach((id, i) => {
      at += p.timeDeltas[i] ?? 0;
      if (!windows.some(([a, b]) => at >= a && at <= b)) return;
      const f = frames.get(id)!;
      const where = f.url ? ` ${f.url.replace(/^.*\/(server|node_modules)\//, '$1/')}:${f.lineNumber + 1}` : '';
      const name = `${f.functionName || '(anonymous)'}${where}`;
      const us = p.timeDeltas[i + 1] ?? 0;
      self.set(name, (self.get(name) ?? 0) + us);
      total += us;
    });
    return [...self.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(
        ([name, us]) =>
          `${(us / 1000).toFixed(0).padStart(7)} ms ${((us / total) * 100).toFixed(1).padStart(5)}%  ${name}`,
      );
  });
}

const children: { child: ChildProcess; stop(): void }[] = [];
let gatewayChild: ChildProcess | undefined;
const base = await mkdtemp(join(tmpdir(), 'cairn-s3gw-bench-'));
let proxy: Awaited<ReturnType<typeof countingProxy>> | undefined;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  const backend = await startCairn(['server', '--address', '127.0.0.1:0', join(base, 'd{1...4}')], {
    CAIRN_ROOT_USER: BACKEND.accessKey,
    CAIRN_ROOT_PASSWORD: BACKEND.secretKey,
  });
  children.push(backend);
  const gatewayEnv = (stateDir: string) => ({
    CAIRN_ROOT_USER: GATEWAY.accessKey,
    CAIRN_ROOT_PASSWORD: GATEWAY.secretKey,
    CAIRN_GATEWAY_ACCESS_KEY: BACKEND.accessKey,
    CAIRN_GATEWAY_SECRET_KEY: BACKEND.secretKey,
    CAIRN_GATEWAY_STATE_DIR: stateDir,
  });
  const gateway = await startCairn(
    ['gateway', 's3', '--address', '127.0.0.1:0', backend.url],
    gatewayEnv(join(base, 'state')),
    values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']] : [],
    1,
  );
  children.push(gateway);
  gatewayChild = gateway.child;
  const spliced = await startCairn(
    ['gateway', 's3', '--address', '127.0.0.1:0', backend.url],
    {
      ...gatewayEnv(join(base, 'state-spliced')),
      CAIRN_GATEWAY_SPLICE: 'on',
    },
    [],
    1,
  );
  children.push(spliced);

  const passThrough = await new Promise<{ child: ChildProcess; url: string }>((resolve, reject) => {
    const [cmd, pre] = pin ? ['taskset', ['-c', '1', process.execPath]] : [process.execPath, []];
    const child = spawn(cmd, [...pre, '-e', plainProxy, backend.url], { stdio: ['ignore', 'pipe', 'inherit'] });
    createInterface({ input: child.stdout! }).once('line', (l) => resolve({ child, url: JSON.parse(l).url }));
    child.on('exit', (code) => reject(new Error(`proxy exited with ${code}`)));
  });
  children.push({ child: passThrough.child, stop: () => passThrough.child.kill('SIGTERM') });
  const be = client(backend.url, BACKEND);
  await be.send(new CreateBucketCommand({ Bucket: 'bench' }));
  const mib = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < mib.length; i++) mib[i] = (i * 2654435761) >>> 24;
  const names = Array.from({ length: files }, (_, i) => `f${i}.bin`);
  for (const Key of names) {
    const body = Buffer.concat(Array.from({ length: Math.ceil(size / mib.length) }, () => mib)).subarray(0, size);
    await new Upload({ client: be, params: { Bucket: 'bench', Key, Body: body }, partSize: 16 << 20 }).done();
  }

  const all: Target[] = [
    { name: 'backend directly (node http)', pids: [backend.child.pid!], get: rawGet(backend.url, BACKEND) },
    {
      name: 'through the gateway (node http)',
      pids: [backend.child.pid!, gateway.child.pid!],
      get: rawGet(gateway.url, GATEWAY),
    },
    {
      name: 'gateway, splice on (node http)',
      pids: [backend.child.pid!, spliced.child.pid!],
      get: rawGet(spliced.url, GATEWAY),
    },
    { name: 'backend directly (AWS SDK)', pids: [backend.child.pid!], get: sdkGet(backend.url, BACKEND) },
    {
      name: 'plain node http proxy (floor)',
      pids: [backend.child.pid!, passThrough.child.pid!],
      get: rawGet(passThrough.url, BACKEND),
    },
  ];
  // The first three always (the overhead is theirs); --quick leaves out the SDK and the bare proxy.
  const targets = values.quick ? all.slice(0, 3) : all;
  for (const t of targets) await round(t, names); // warm: page cache, connections, JIT
  const results = targets.map((t) => ({
    name: t.name,
    best: 0,
    all: [] as number[],
    cpu: [] as number[],
    split: [] as number[][],
    client: [] as number[],
  }));
  for (let r = 0; r < rounds; r++)
    for (const [i, t] of targets.entries()) {
      const { rate, cpuPerGiB, split, client } = await round(t, names);
      results[i].split.push(split);
      results[i].client.push(client);
      results[i].all.push(rate);
      results[i].cpu.push(cpuPerGiB);
      results[i].best = Math.max(results[i].best, rate);
    }
  const ref = results[0].best;
  console.log(
    `\nGET of ${files} objects of ${size / 1024 / 1024} MiB, ${clients} client(s) (keep-alive), best of ${rounds} ` +
      "rounds; CPU (user + sys) of the serving processes per GiB, median of the rounds; the client's (this " +
      `process) and the total in the same round${pin ? '; pinned: client and backend on CPU 0, gateways on CPU 1' : ''}\n`,
  );
  console.log(
    `${'path'.padEnd(34)} ${'MiB/s'.padStart(7)} ${'vs direct'.padStart(10)} ${'CPU s/GiB'.padStart(10)} ` +
      `${'backend + front'.padStart(16)} ${'client'.padStart(7)} ${'total'.padStart(6)}  rounds`,
  );
  for (const r of results) {
    const at = r.cpu.indexOf(median(r.cpu));
    const mid = r.split[at] ?? [];
    console.log(
      `${r.name.padEnd(34)} ${r.best.toFixed(0).padStart(7)} ${`${((r.best / ref) * 100).toFixed(0)}%`.padStart(10)} ` +
        `${median(r.cpu).toFixed(2).padStart(10)} ${mid
          .map((x) => x.toFixed(2))
          .join(' + ')
          .padStart(16)} ${(r.client[at] ?? 0).toFixed(2).padStart(7)} ${(r.cpu[at] + (r.client[at] ?? 0))
          .toFixed(2)
          .padStart(6)}  ` +
        r.all.map((v) => v.toFixed(0)).join(' '),
    );
  }
  const overhead = 1 - results[1].best / ref;
  console.log(
    `\ntarget: gateway overhead <= 15% on 64 MiB GET: ${(overhead * 100).toFixed(1)}% ` +
      `(${overhead <= 0.15 ? 'met' : 'NOT met'}; the default, not spliced to this client on the same host); ` +
      `spliced (CAIRN_GATEWAY_SPLICE=on) ${((1 - results[2].best / ref) * 100).toFixed(1)}%`,
  );

  // 2. Parquet Select: bytes the gateway reads from the backend.
  const wide = await wideParquetFile(rows, PYTHON);
  if (!wide) {
    console.log('\nParquet Select skipped: no Python with pyarrow (set SELECT_BENCH_PYTHON).');
  } else {
    gateway.stop();
    proxy = await countingProxy(Number(new URL(backend.url).port));
    const counted = await startCairn(
      ['gateway', 's3', '--address', '127.0.0.1:0', `http://127.0.0.1:${proxy.port}`],
      gatewayEnv(join(base, 'state2')),
    );
    children.push(counted);
    const fileSize = (await stat(wide)).size;
    await be.send(new PutObjectCommand({ Bucket: 'bench', Key: 'wide.parquet', Body: await readFile(wide) }));
    const group = Math.floor(rows / 20);
    const lo = group * 7 + 10;
    const sql = `SELECT s.id FROM S3Object s WHERE s.id BETWEEN ${lo} AND ${lo + 99}`;
    const gw = client(counted.url, GATEWAY);
    const query = async (c: S3Client) => {
      const res = await c.send(
        new SelectObjectContentCommand({
          Bucket: 'bench',
          Key: 'wide.parquet',
          ExpressionType: 'SQL',
          Expression: sql,
          InputSerialization: { Parquet: {} },
          OutputSerialization: { CSV: {} },
        }),
      );
      let out = '';
      for await (const ev of res.Payload!) if (ev.Records?.Payload) out += Buffer.from(ev.Records.Payload).toString();
      return out;
    };
    const expected = await query(be);
    console.log(`\nParquet Select through the gateway: ${sql}`);
    console.log(`file: ${(fileSize / 1024 / 1024).toFixed(1)} MiB, ${rows} rows, 20 columns, 20 row groups\n`);
    console.log(
      `${'query'.padEnd(34)} ${'bytes from backend'.padStart(19)} ${'of the file'.padStart(12)}  same answer`,
    );
    for (const label of ['first (footer read)', 'again (footer cached)']) {
      proxy.reset();
      const out = await query(gw);
      const n = proxy.received();
      console.log(
        `${label.padEnd(34)} ${String(n).padStart(19)} ${`${((n / fileSize) * 100).toFixed(2)}%`.padStart(12)}  ` +
          `${out === expected && out.split('\n').length === 101}`,
      );
    }
    console.log('\n(bytes from backend: everything the backend sent the gateway, HTTP headers included)');
  }
} finally {
  for (const c of children) c.stop();
  proxy?.server.close();
  // The backend may still write under its drives while it stops: rm once every child has exited.
  await Promise.all(
    children.map(({ child: c }) => (c.exitCode === null && c.signalCode === null ? once(c, 'exit') : undefined)),
  );
  await rm(base, { recursive: true, force: true });
}
const profiles = values['cpu-prof'];
if (profiles && gatewayChild) {
  // The profile is written as the gateway exits.
  if (gatewayChild.exitCode === null && gatewayChild.signalCode === null)
    await new Promise((resolve) => gatewayChild!.once('exit', resolve));
  const newest = (await readdir(profiles))
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()
    .at(-1);
  if (newest) {
    console.log(`\n${join(profiles, newest)}: the gateway's top self times while GETs went through it`);
    for (const line of await topFrames(join(profiles, newest), gatewayWindows, 40)) console.log(line);
  }
}
