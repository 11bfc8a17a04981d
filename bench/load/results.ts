// Results of load runs: the JSON shape written by --json, the printed table, and the comparison of two
// result files.
import { writeFile } from 'node:fs/promises';
import type { LoadConfig, OpKind } from './config.js';
import { Histogram } from './histogram.js';
import type { OpReport } from './worker.js';
import { formatSize } from './units.js';

export interface OpResult {
  ops: number;
  bytes: number;
  errors: number;
  errorSamples: string[];
  opsPerSec: number;
  mibPerSec: number;
  /** Milliseconds. */
  latency: { mean: number; p50: number; p90: number; p99: number; max: number };
}

export interface RunResult {
  name: string;
  mode: LoadConfig['mode'];
  endpoint: string;
  objSize: number;
  rangeSize: number;
  objects: number;
  concurrency: number;
  workers: number;
  seconds: number;
  /** CPU the generator itself used, in cores (1.0 = one core busy all the time). */
  clientCores: number;
  /** Suite only: CPU the server used during the run, in cores. */
  serverCores?: number;
  ops: Partial<Record<OpKind, OpResult>>;
}

export interface ResultFile {
  tool: 'cairn-load';
  version: 1;
  createdAt: string;
  runs: RunResult[];
  /** Suite only: the server's resident memory sampled during the runs. */
  rss?: {
    maxBytes: number;
    samples: number;
    perRunMaxBytes: Record<string, number>;
    /** Right after start-up: the sum of the processes' RSS, and their proportional set size. */
    idleBytes?: number;
    idlePssBytes?: number;
  };
}

export function summarize(reports: OpReport[], seconds: number): OpResult {
  const hist = new Histogram();
  let ops = 0,
    bytes = 0,
    errors = 0;
  const errorSamples: string[] = [];
  for (const r of reports) {
    hist.merge(r.latency);
    ops += r.ops;
    bytes += r.bytes;
    errors += r.errors;
    errorSamples.push(...r.errorSamples.slice(0, 5 - errorSamples.length));
  }
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    ops,
    bytes,
    errors,
    errorSamples,
    opsPerSec: ops / seconds,
    mibPerSec: bytes / seconds / 1024 ** 2,
    latency: {
      mean: ms(hist.count ? hist.sumUs / hist.count : 0),
      p50: ms(hist.percentile(0.5)),
      p90: ms(hist.percentile(0.9)),
      p99: ms(hist.percentile(0.99)),
      max: ms(hist.maxUs),
    },
  };
}

/** A plain text table: first row is the header; numbers right-aligned. */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) =>
    r.map((v, c) => (c === 0 || !/^[-+\d.]/.test(v) ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

const fix = (n: number, d = 1) => n.toFixed(d);

export function runTable(runs: RunResult[]): string {
  const rows = [
    [
      'run',
      'op',
      'size',
      'conc',
      'ops/s',
      'MiB/s',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'max ms',
      'errors',
      'gen cpu',
      'srv cpu',
      'srv CPU s/GiB',
      'srv CPU s/1k ops',
    ],
  ];
  for (const r of runs) {
    for (const [op, s] of Object.entries(r.ops) as Array<[OpKind, OpResult]>) {
      const size =
        r.mode === 'get-range' && op === 'get'
          ? `${formatSize(r.rangeSize)}@${formatSize(r.objSize)}`
          : op === 'list'
            ? '-'
            : formatSize(r.objSize);
      rows.push([
        r.name,
        op,
        size,
        String(r.concurrency),
        fix(s.opsPerSec),
        fix(s.mibPerSec),
        fix(s.latency.p50, 2),
        fix(s.latency.p90, 2),
        fix(s.latency.p99, 2),
        fix(s.latency.max, 2),
        String(s.errors),
        fix(r.clientCores, 2),
        r.serverCores === undefined ? '-' : fix(r.serverCores, 2),
        // Server CPU-seconds per GiB moved and per 1,000 requests (issue 14's closing figures).
        r.serverCores === undefined || s.bytes === 0
          ? '-'
          : fix((r.serverCores * r.seconds) / (s.bytes / 1024 ** 3), 2),
        r.serverCores === undefined || s.ops === 0 ? '-' : fix((r.serverCores * r.seconds * 1000) / s.ops, 2),
      ]);
    }
  }
  return table(rows);
}

export function errorReport(runs: RunResult[]): string {
  const lines: string[] = [];
  for (const r of runs)
    for (const [op, s] of Object.entries(r.ops)) {
      if (s && s.errors > 0) lines.push(`${r.name} ${op}: ${s.errors} errors, e.g.\n  ${s.errorSamples.join('\n  ')}`);
    }
  return lines.join('\n');
}

const delta = (a: number, b: number) =>
  a === 0 ? (b === 0 ? '0%' : 'n/a') : `${b >= a ? '+' : ''}${fix(((b - a) / a) * 100)}%`;

/** Side by side: every (run, op) present in both files, with B's change relative to A. */
export function compareTable(a: ResultFile, b: ResultFile): string {
  const rows = [
    ['run', 'op', 'ops/s A', 'ops/s B', 'Δ', 'MiB/s A', 'MiB/s B', 'Δ', 'p50 A', 'p50 B', 'p99 A', 'p99 B', 'Δ p99'],
  ];
  for (const ra of a.runs) {
    const rb = b.runs.find((r) => r.name === ra.name);
    if (!rb) continue;
    for (const [op, sa] of Object.entries(ra.ops) as Array<[OpKind, OpResult]>) {
      const sb = rb.ops[op];
      if (!sb) continue;
      rows.push([
        ra.name,
        op,
        fix(sa.opsPerSec),
        fix(sb.opsPerSec),
        delta(sa.opsPerSec, sb.opsPerSec),
        fix(sa.mibPerSec),
        fix(sb.mibPerSec),
        delta(sa.mibPerSec, sb.mibPerSec),
        fix(sa.latency.p50, 2),
        fix(sb.latency.p50, 2),
        fix(sa.latency.p99, 2),
        fix(sb.latency.p99, 2),
        delta(sa.latency.p99, sb.latency.p99),
      ]);
    }
  }
  const out = [table(rows)];
  if (a.rss && b.rss)
    out.push(
      `server RSS max: A ${fix(a.rss.maxBytes / 1e6)} MB, B ${fix(b.rss.maxBytes / 1e6)} MB (${delta(a.rss.maxBytes, b.rss.maxBytes)})`,
    );
  const only = [
    ...a.runs.filter((r) => !b.runs.some((x) => x.name === r.name)).map((r) => `A only: ${r.name}`),
    ...b.runs.filter((r) => !a.runs.some((x) => x.name === r.name)).map((r) => `B only: ${r.name}`),
  ];
  return [...out, ...only].join('\n');
}

export async function writeResults(path: string, runs: RunResult[], extra: Partial<ResultFile> = {}): Promise<void> {
  const file: ResultFile = { tool: 'cairn-load', version: 1, createdAt: new Date().toISOString(), runs, ...extra };
  await writeFile(path, `${JSON.stringify(file, null, 2)}\n`);
}
