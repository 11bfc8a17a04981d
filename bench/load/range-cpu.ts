// Server CPU per byte of ranged GETs against whole GETs, two Cairn builds side by side (issue 23's target:
// an 8 MiB range at most 1.1x the CPU per byte of a whole GET). On a loaded machine one run of each after
// the other measures the load more than the servers, so both servers run at once and take turns: each
// round sends the same requests (whole 64 MiB GETs; 8 MiB ranges at random offsets; 8 MiB ranges on an
// 8 MiB grid; whole GETs of 8 MiB objects) to one, then the other (the order flipped every round), and
// each server's CPU time (its process tree, from /proc) is read around its turn. Prints the median
// CPU-s/GiB per kind and server, and each server's range/whole ratios: against whole 64 MiB GETs (the
// target), and against whole GETs of as many bytes (what a request of 8 MiB costs whatever it asks for).
// Bodies are read and dropped; the client's CPU is not counted.
//   node --import tsx bench/load/range-cpu.ts --a /path/to/old/server/bin/cairn.js [--b server/bin/cairn.js]
//     [--rounds 12] [--requests 96] [--concurrency 8]
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { sampleTree } from './procstat.js';
import { table } from './results.js';
import { DEFAULT_CAIRN_BIN, startCairn, stopServer, type ServerProcess } from './servers.js';
import { objectPath, S3Client, type S3Connection, type S3Request } from './client.js';

const MiB = 1024 * 1024;
const SIZE = 64 * MiB;
const OBJECTS = 8;
const KEY = { accessKey: 'range-cpu', secretKey: 'range-cpu-secret-key' };

const { values: v } = parseArgs({
  options: {
    a: { type: 'string' },
    b: { type: 'string', default: DEFAULT_CAIRN_BIN },
    rounds: { type: 'string', default: '12' },
    requests: { type: 'string', default: '96' },
    concurrency: { type: 'string', default: '8' },
    'drives-dir': { type: 'string', default: '/dev/shm' },
    workers: { type: 'string' },
  },
});
if (!v.a) throw new Error('--a: the server/bin/cairn.js of the build to compare with');

/** Each server's client and one connection per concurrent stream (the suite's lean HTTP/1.1 client). */
const clients = new Map<ServerProcess, { client: S3Client; conns: S3Connection[] }>();
function conns(s: ServerProcess, n: number): S3Connection[] {
  let c = clients.get(s);
  if (!c) {
    const client = new S3Client({ endpoint: s.url, ...KEY, region: 'us-east-1' });
    clients.set(s, (c = { client, conns: [] }));
  }
  while (c.conns.length < n) c.conns.push(c.client.connect());
  return c.conns;
}

async function send(conn: S3Connection, r: S3Request): Promise<number> {
  const res = await conn.request(r);
  if (res.status >= 300) throw new Error(`${r.method} ${r.path}: ${res.status}`);
  return res.bytes;
}

type Kind = 'whole' | 'range' | 'aligned' | 'small';
const KINDS: Kind[] = ['whole', 'range', 'aligned', 'small'];
// Kind 'small': whole GETs of `s0`..`s63` (8 MiB each) taken in turn, so that no two GETs at once or within
// the read-ahead cache's linger read one object (shared batches would flatter it).
const SMALL = 8 * MiB;
const SMALL_OBJECTS = 64;
let smallNext = 0;

/** The requests of one turn of `kind`: [object, range header or none], the same for both servers. */
function requests(kind: Kind, n: number): [number, string | undefined][] {
  return Array.from({ length: kind === 'whole' ? Math.max(1, n / 8) : n }, () => {
    if (kind === 'small') return [smallNext++ % SMALL_OBJECTS, undefined];
    const o = Math.floor(Math.random() * OBJECTS);
    if (kind === 'whole') return [o, undefined];
    const start =
      kind === 'aligned'
        ? Math.floor(Math.random() * (SIZE / (8 * MiB))) * 8 * MiB
        : Math.floor(Math.random() * (SIZE - 8 * MiB));
    return [o, `bytes=${start}-${start + 8 * MiB - 1}`];
  });
}

async function turn(
  s: ServerProcess,
  kind: Kind,
  reqs: [number, string | undefined][],
  conc: number,
): Promise<{ cpu: number; bytes: number }> {
  const before = (await sampleTree(s.child.pid!)).cpuSeconds;
  let bytes = 0;
  let next = 0;
  await Promise.all(
    conns(s, conc).map(async (c) => {
      while (next < reqs.length) {
        const [o, range] = reqs[next++];
        const key = kind === 'small' ? `s${o}` : `o${o}`;
        const got = await send(c, { method: 'GET', path: objectPath('bench', key), range });
        bytes += got; // not `bytes += await`: that adds to the value read before the await
      }
    }),
  );
  return { cpu: (await sampleTree(s.child.pid!)).cpuSeconds - before, bytes };
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

const env = v.workers ? { CAIRN_WORKERS: v.workers } : {};
const servers: Record<string, ServerProcess> = {};
try {
  for (const [name, bin] of [
    ['a', v.a],
    ['b', v.b!],
  ] as const) {
    servers[name] = await startCairn([bin], v['drives-dir']!, KEY.accessKey, KEY.secretKey, env);
    const [c] = conns(servers[name], 1);
    await send(c, { method: 'PUT', path: objectPath('bench') });
    const blob = randomBytes(SIZE);
    for (let o = 0; o < OBJECTS; o++) await send(c, { method: 'PUT', path: objectPath('bench', `o${o}`), body: blob });
    const small = blob.subarray(0, SMALL);
    for (let o = 0; o < SMALL_OBJECTS; o++)
      await send(c, { method: 'PUT', path: objectPath('bench', `s${o}`), body: small });
  }
  const cpuPerGiB: Record<string, Record<Kind, number[]>> = {};
  for (const n of ['a', 'b']) cpuPerGiB[n] = { whole: [], range: [], aligned: [], small: [] };
  const loads: number[] = [];
  for (let r = 0; r < Number(v.rounds); r++) {
    loads.push(loadavg()[0]);
    for (const kind of KINDS) {
      const reqs = requests(kind, Number(v.requests));
      for (const n of r % 2 ? ['b', 'a'] : ['a', 'b']) {
        const t = await turn(servers[n], kind, reqs, Number(v.concurrency));
        cpuPerGiB[n][kind].push(t.cpu / (t.bytes / 1024 ** 3));
      }
    }
  }
  // Ratios of medians; and the median of each round's own ratio (load shifts between rounds cancel out).
  const perRound = (n: string, k: Kind) => median(cpuPerGiB[n][k].map((x, i) => x / cpuPerGiB[n].whole[i])).toFixed(2);
  const rows = [
    [
      'server',
      'whole s/GiB',
      '8 MiB any s/GiB',
      '8 MiB grid s/GiB',
      'whole 8 MiB s/GiB',
      'any/whole',
      'grid/whole',
      'per round any',
      'grid',
      'any/whole 8 MiB',
    ],
  ];
  for (const n of ['a', 'b']) {
    const m = Object.fromEntries(KINDS.map((k) => [k, median(cpuPerGiB[n][k])])) as Record<Kind, number>;
    rows.push([
      n === 'a' ? `a (${v.a})` : `b (${v.b})`,
      m.whole.toFixed(3),
      m.range.toFixed(3),
      m.aligned.toFixed(3),
      m.small.toFixed(3),
      (m.range / m.whole).toFixed(2),
      (m.aligned / m.whole).toFixed(2),
      perRound(n, 'range'),
      perRound(n, 'aligned'),
      median(cpuPerGiB[n].range.map((x, i) => x / cpuPerGiB[n].small[i])).toFixed(2),
    ]);
  }
  console.log(table(rows));
  console.log(
    `medians of ${v.rounds} rounds; load average (1 min) at each round: ${loads.map((l) => l.toFixed(1)).join(' ')}`,
  );
} finally {
  for (const c of clients.values()) for (const x of c.conns) x.close();
  for (const s of Object.values(servers)) await stopServer(s, false);
}
