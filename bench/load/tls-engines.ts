// HTTP against HTTPS with each TLS engine (issue 16: HTTPS >= 75% of HTTP by server CPU and throughput, GET and
// PUT, memory not worse): the suite (suite.ts, a fresh Cairn per run) once per kind and round, the kinds taken in
// turns with the order rotated every round so a change in the machine's load falls on each. Prints every run (with
// the load average at its start) and the medians: server CPU-s per GiB (64 MiB) or per 1,000 requests (4 KiB),
// MiB/s or ops/s, the server's RSS max, and each HTTPS kind against HTTP (HTTP's CPU over HTTPS's; HTTPS's
// throughput over HTTP's).
//   node --import tsx bench/load/tls-engines.ts [--rounds 3] [--duration 8s] [--kinds http,node,rustls]
//     [--phases put-64MiB,get-64MiB,put-4KiB,get-4KiB] [--workers N] [--keep-json DIR]
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ResultFile, RunResult } from './results.js';
import { table } from './results.js';

const { values: v } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '8s' },
    kinds: { type: 'string', default: 'http,node,rustls' },
    phases: { type: 'string', default: 'put-64MiB,get-64MiB,put-4KiB,get-4KiB' },
    workers: { type: 'string' },
    'keep-json': { type: 'string' },
  },
});

const KINDS = ['http', 'node', 'rustls'] as const;
type Kind = (typeof KINDS)[number];
const kinds = v.kinds!.split(',') as Kind[];
for (const k of kinds) if (!KINDS.includes(k)) throw new Error(`--kinds: ${k} is not one of ${KINDS.join(', ')}`);
const phases = v.phases!.split(',');
const rounds = Number(v.rounds);
const SUITE = fileURLToPath(new URL('./suite.ts', import.meta.url));

interface Figures {
  /** Server CPU-s per GiB (64 MiB phases) or per 1,000 requests (4 KiB phases). */
  cpu: number;
  /** MiB/s (64 MiB phases) or ops/s (4 KiB phases). */
  rate: number;
}
interface Run {
  round: number;
  kind: Kind;
  load: number;
  rssMB: number;
  phases: Map<string, Figures>;
}

function figures(r: RunResult): Figures | undefined {
  const op = r.mode === 'put' ? r.ops.put : r.ops.get;
  if (!op || r.serverCores === undefined || op.ops === 0) return undefined;
  const cpu = r.serverCores * r.seconds;
  return r.objSize >= 1024 ** 2
    ? { cpu: cpu / (op.bytes / 1024 ** 3), rate: op.mibPerSec }
    : { cpu: cpu / (op.ops / 1000), rate: op.opsPerSec };
}

function runSuite(kind: Kind, json: string): Promise<void> {
  const args = ['--import', 'tsx', SUITE, '--duration', v.duration!, '--phases', v.phases!, '--json', json];
  if (kind !== 'http') args.push('--tls');
  if (v.workers) args.push('--workers', v.workers);
  const env = { ...process.env, ...(kind === 'http' ? {} : { CAIRN_TLS_ENGINE: kind }) };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`suite (${kind}) exited with ${code}`))));
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x: number | undefined, digits = 2) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits));

const dir = v['keep-json'] ?? (await mkdtemp(join(tmpdir(), 'tls-engines-')));
const runs: Run[] = [];
try {
  for (let round = 1; round <= rounds; round++) {
    const order = kinds.map((_, i) => kinds[(i + round - 1) % kinds.length]);
    for (const kind of order) {
      const load = loadavg()[0];
      console.error(`round ${round}: ${kind} (load average ${load.toFixed(1)}) ...`);
      const json = join(dir, `${kind}-${round}.json`);
      await runSuite(kind, json);
      const res = JSON.parse(await readFile(json, 'utf8')) as ResultFile;
      const run: Run = { round, kind, load, rssMB: (res.rss?.maxBytes ?? 0) / 1e6, phases: new Map() };
      for (const r of res.runs) {
        const f = figures(r);
        if (f) run.phases.set(r.name, f);
      }
      runs.push(run);
      console.error(
        `  ${phases.map((p) => `${p} ${fmt(run.phases.get(p)?.cpu)} CPU-s, ${fmt(run.phases.get(p)?.rate, 0)}/s`).join('; ')}; RSS max ${run.rssMB.toFixed(0)} MB`,
      );
    }
  }
} finally {
  if (!v['keep-json']) await rm(dir, { recursive: true, force: true });
}

const unit = (p: string) => (/4KiB/.test(p) ? 'CPU-s/1k' : 'CPU-s/GiB');
const rate = (p: string) => (/4KiB/.test(p) ? 'ops/s' : 'MiB/s');
const head = ['round', 'kind', 'load', ...phases.flatMap((p) => [`${p} ${unit(p)}`, rate(p)]), 'RSS max MB'];
console.log(
  table([
    head,
    ...runs.map((r) => [
      String(r.round),
      r.kind,
      r.load.toFixed(1),
      ...phases.flatMap((p) => [fmt(r.phases.get(p)?.cpu), fmt(r.phases.get(p)?.rate, 0)]),
      r.rssMB.toFixed(0),
    ]),
  ]),
);
const med = (kind: Kind, pick: (r: Run) => number | undefined) => {
  const xs = runs
    .filter((r) => r.kind === kind)
    .map(pick)
    .filter((x): x is number => x !== undefined);
  return xs.length ? median(xs) : undefined;
};
console.log(
  '\nmedians; "by CPU" is HTTP\'s server CPU over this kind\'s, "by rate" this kind\'s throughput over HTTP\'s\n',
);
const rows = [['phase', 'kind', 'server CPU', 'rate', 'by CPU', 'by rate']];
for (const p of phases) {
  const base = { cpu: med('http', (r) => r.phases.get(p)?.cpu), rate: med('http', (r) => r.phases.get(p)?.rate) };
  for (const k of kinds) {
    const cpu = med(k, (r) => r.phases.get(p)?.cpu);
    const rt = med(k, (r) => r.phases.get(p)?.rate);
    const pct = (x: number | undefined) => (x === undefined ? '-' : `${(x * 100).toFixed(0)}%`);
    rows.push([
      p,
      k,
      `${fmt(cpu)} ${unit(p)}`,
      `${fmt(rt, 0)} ${rate(p)}`,
      k === 'http' || base.cpu === undefined || cpu === undefined ? '' : pct(base.cpu / cpu),
      k === 'http' || base.rate === undefined || rt === undefined ? '' : pct(rt / base.rate),
    ]);
  }
}
for (const k of kinds)
  rows.push([
    'RSS max',
    k,
    `${fmt(
      med(k, (r) => r.rssMB),
      0,
    )} MB`,
    '',
    '',
    '',
  ]);
console.log(table(rows));
