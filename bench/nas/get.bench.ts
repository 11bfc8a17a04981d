// NAS gateway GET throughput against plain static file servers over the same files: `cairn gateway nas` (a child
// process, from the sources), node's http + fs.createReadStream (a child process), and `python3 -m http.server`
// when python3 is on PATH. Each round GETs every file once per client (each client its own keep-alive
// connection), the bodies counted and dropped; the table gives the best round's MiB/s, the server process's CPU
// seconds per GiB sent (from /proc: what throughput becomes once the machine is not shared), and the gateway's
// share of the node static server's. The issue's target: the gateway at >= 80% of the static server.
//   node --conditions=source --import tsx bench/nas/get.bench.ts [--size-mib 64] [--files 8] [--clients 4]
//                                                               [--rounds 3] [--dir DIR]
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sampleTree } from '../load/procstat.js';
import { SigV4Signer, UNSIGNED_PAYLOAD } from '../load/sigv4.js';

const { values } = parseArgs({
  options: {
    'size-mib': { type: 'string', default: '64' },
    files: { type: 'string', default: '8' },
    clients: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    dir: { type: 'string' },
  },
});
const size = Number(values['size-mib']) * 1024 * 1024;
const files = Number(values.files);
const clients = Number(values.clients);
const rounds = Number(values.rounds);
const repo = fileURLToPath(new URL('../..', import.meta.url));
const ROOT = { accessKey: 'benchroot', secretKey: 'bench-root-secret-key' };

const base = await mkdtemp(join(values.dir ?? tmpdir(), 'cairn-nas-bench-'));
const bucketDir = join(base, 'bench');
await mkdir(bucketDir);
const names = Array.from({ length: files }, (_, i) => `f${i}.bin`);
// Files of a repeating pseudo-random MiB (no compression anywhere, so its content does not matter).
const mib = Buffer.alloc(1024 * 1024);
for (let i = 0; i < mib.length; i++) mib[i] = (i * 2654435761) >>> 24;
for (const name of names) {
  const out = createWriteStream(join(bucketDir, name));
  for (let written = 0; written < size; written += mib.length) {
    if (!out.write(mib.subarray(0, Math.min(mib.length, size - written))))
      await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
}

/** Spawns a server and resolves with its base URL once `found` sees it in a line of its output. */
function startChild(cmd: string, args: string[], found: (line: string) => string | undefined, env = {}) {
  const child = spawn(cmd, args, { cwd: repo, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise<{ child: ChildProcess; url: string }>((resolve, reject) => {
    for (const stream of [child.stdout!, child.stderr!])
      createInterface({ input: stream }).on('line', (line) => {
        const url = found(line);
        if (url) resolve({ child, url });
      });
    child.on('exit', (code) => reject(new Error(`${cmd} exited with ${code}`)));
  });
}

const staticServer = `
const http = require('node:http'), fs = require('node:fs'), path = require('node:path');
const root = process.argv[1];
const server = http.createServer((req, res) => {
  const p = path.join(root, decodeURIComponent(req.url.split('?')[0]));
  fs.stat(p, (err, st) => {
    if (err || !st.isFile()) { res.statusCode = 404; return res.end(); }
    res.writeHead(200, { 'content-length': st.size });
    fs.createReadStream(p).pipe(res);
  });
});
server.listen(0, '127.0.0.1', () => console.log('url=http://127.0.0.1:' + server.address().port));
`;

interface Target {
  name: string;
  pid: number;
  url: string;
  path: (name: string) => string;
  sign: boolean;
}

const signer = new SigV4Signer({ ...ROOT, region: 'us-east-1' });

/** GET one URL path; resolves with the body's byte count (the bytes are dropped). */
function get(agent: Agent, t: Target, path: string): Promise<number> {
  const u = new URL(t.url);
  const headers: Record<string, string> = { host: u.host };
  if (t.sign) {
    const amzDate = signer.now();
    headers['x-amz-date'] = amzDate;
    headers['x-amz-content-sha256'] = UNSIGNED_PAYLOAD;
    headers.authorization = signer.authorization({
      method: 'GET',
      path,
      headers,
      payloadHash: UNSIGNED_PAYLOAD,
      amzDate,
    });
  }
  return new Promise((resolve, reject) => {
    const req = request({ agent, host: u.hostname, port: u.port, path, headers }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => (n += c.length));
      res.on('end', () => (res.statusCode === 200 ? resolve(n) : reject(new Error(`${t.name}: ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** One round: every client GETs every file (starting at a different one); MiB/s and server CPU seconds per GiB. */
async function round(t: Target): Promise<{ rate: number; cpuPerGiB: number }> {
  const cpuBefore = (await sampleTree(t.pid)).cpuSeconds;
  const agents = Array.from({ length: clients }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
  const start = performance.now();
  let bytes = 0;
  await Promise.all(
    agents.map(async (agent, c) => {
      for (let i = 0; i < files; i++) {
        const n = await get(agent, t, t.path(names[(i + c) % files]));
        if (n !== size) throw new Error(`${t.name}: ${n} bytes, not ${size}`);
        bytes += n;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  for (const a of agents) a.destroy();
  const cpu = (await sampleTree(t.pid)).cpuSeconds - cpuBefore;
  return { rate: bytes / 1024 / 1024 / seconds, cpuPerGiB: cpu / (bytes / 1024 ** 3) };
}

const children: ChildProcess[] = [];
const results: { name: string; best: number; all: number[]; cpu: number[] }[] = [];
try {
  const nodeStatic = await startChild(process.execPath, ['-e', staticServer, base], (l) => l.match(/^url=(.*)$/)?.[1]);
  children.push(nodeStatic.child);
  const gateway = await startChild(
    process.execPath,
    [
      '--conditions=source',
      '--import',
      'tsx',
      'server/src/cli/main.ts',
      'gateway',
      'nas',
      '--address',
      '127.0.0.1:0',
      base,
    ],
    (l) => (l.startsWith('{') ? (JSON.parse(l) as { url?: string }).url : undefined),
    { CAIRN_ROOT_USER: ROOT.accessKey, CAIRN_ROOT_PASSWORD: ROOT.secretKey },
  );
  children.push(gateway.child);
  const targets: Target[] = [
    {
      name: 'node http + fs.createReadStream',
      pid: nodeStatic.child.pid!,
      url: nodeStatic.url,
      path: (n) => `/bench/${n}`,
      sign: false,
    },
    { name: 'cairn gateway nas', pid: gateway.child.pid!, url: gateway.url, path: (n) => `/bench/${n}`, sign: true },
  ];
  if (spawnSync('python3', ['--version']).status === 0) {
    const py = await startChild(
      'python3',
      ['-u', '-m', 'http.server', '0', '--bind', '127.0.0.1', '--directory', base],
      (l) => l.match(/port (\d+)/)?.[1] && `http://127.0.0.1:${l.match(/port (\d+)/)![1]}`,
    );
    children.push(py.child);
    targets.push({
      name: 'python3 -m http.server',
      pid: py.child.pid!,
      url: py.url,
      path: (n) => `/bench/${n}`,
      sign: false,
    });
  }
  for (const t of targets) await round(t); // warm: files in the page cache, connections and JIT ready
  for (const t of targets) results.push({ name: t.name, best: 0, all: [], cpu: [] });
  // Rounds interleave the servers so a change in the machine's load touches them alike.
  for (let r = 0; r < rounds; r++)
    for (const [i, t] of targets.entries()) {
      const { rate, cpuPerGiB } = await round(t);
      results[i].all.push(rate);
      results[i].cpu.push(cpuPerGiB);
      results[i].best = Math.max(results[i].best, rate);
    }
} finally {
  for (const c of children) c.kill('SIGTERM');
  await rm(base, { recursive: true, force: true });
}

const reference = results[0].best;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const refCpu = median(results[0].cpu);
console.log(
  `\nGET of ${files} files of ${size / 1024 / 1024} MiB, ${clients} clients (keep-alive), best of ${rounds} rounds;` +
    ' server CPU (user + sys) per GiB sent, median of the rounds\n',
);
console.log(
  `${'server'.padEnd(34)} ${'MiB/s'.padStart(7)} ${'vs node'.padStart(8)} ${'CPU s/GiB'.padStart(10)} ${'vs node'.padStart(8)}  rounds (MiB/s)`,
);
for (const r of results) {
  const cpu = median(r.cpu);
  console.log(
    `${r.name.padEnd(34)} ${r.best.toFixed(0).padStart(7)} ${`${((r.best / reference) * 100).toFixed(0)}%`.padStart(8)} ` +
      `${cpu.toFixed(2).padStart(10)} ${`${((refCpu / cpu) * 100).toFixed(0)}%`.padStart(8)}  ${r.all.map((v) => v.toFixed(0)).join(' ')}`,
  );
}
const nas = results.find((r) => r.name === 'cairn gateway nas')!;
console.log(
  `\ntarget: gateway >= 80% of the node static server: throughput ${nas.best / reference >= 0.8 ? 'met' : 'NOT met'}, ` +
    `CPU per byte ${refCpu / median(nas.cpu) >= 0.8 ? 'met' : 'NOT met'} (CPU is the fairer figure on a busy machine)`,
);
