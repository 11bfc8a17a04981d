// What the two replication benches share (lag.bench.ts: both servers in this process; procs.bench.ts: each its
// own `cairn server`): their common options, the root user, a scratch folder, clients, the replicated bucket pair,
// the PUTs offered at a fixed rate, the lag percentiles and the printed table.
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { remoteTarget, replicateAll, versionedBucket } from '../../test/helpers/replication-config.js';

/** parseArgs options both benches take (spread into each one's own). */
export const COMMON_OPTIONS = {
  rate: { type: 'string', default: '200' },
  seconds: { type: 'string', default: '10' },
  size: { type: 'string', default: String(1024 * 1024) },
  concurrency: { type: 'string', default: '32' },
  senders: { type: 'string' },
  replicate: { type: 'string', default: 'on' },
} as const;

export interface Run {
  rate: number;
  seconds: number;
  size: number;
  concurrency: number;
  /** Objects PUT: rate x seconds. */
  total: number;
  replicate: boolean;
}

/** The common options' values, checked. */
export function runOf(values: { rate: string; seconds: string; size: string; concurrency: string; replicate: string }) {
  if (values.replicate !== 'on' && values.replicate !== 'off') throw new Error('--replicate is on or off');
  const rate = Number(values.rate);
  const seconds = Number(values.seconds);
  return {
    rate,
    seconds,
    size: Number(values.size),
    concurrency: Number(values.concurrency),
    total: Math.round(rate * seconds),
    replicate: values.replicate === 'on',
  } satisfies Run;
}

export const ROOT = { accessKey: 'benchroot', secretKey: 'bench-root-secret-key' };

/** A fresh folder for the servers' drives, under /dev/shm where there is one. */
export function scratch(tag: string): Promise<string> {
  return mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), tag));
}

export function client(url: string): S3Client {
  return new S3Client({
    endpoint: url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: ROOT.accessKey, secretAccessKey: ROOT.secretKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
}

/** Versioned buckets `src` (source) and `dst` (target); with `replicate`, every new object of src goes to dst. */
export async function replicatedPair(
  source: { url: string; s3: S3Client },
  target: { url: string; s3: S3Client },
  replicate: boolean,
): Promise<void> {
  await versionedBucket(source.s3, 'src');
  await versionedBucket(target.s3, 'dst');
  const arn = await remoteTarget(source.url, 'src', new URL(target.url).host, 'dst', ROOT, ROOT);
  if (replicate) await replicateAll(source.s3, 'src', arn, { DeleteMarkerReplication: { Status: 'Disabled' } });
}

/**
 * PUTs objects `o/0` .. `o/<total - 1>` of `body` to bucket src, the i-th due i / rate seconds after `t0`,
 * `concurrency` at a time; `answered[i]` is when the i-th PUT was answered (ms since t0).
 */
export async function putAtRate(src: S3Client, run: Run, body: Buffer, t0: number, answered: number[]) {
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= run.total) return;
      const due = (i / run.rate) * 1000;
      const wait = due - (performance.now() - t0);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await src.send(new PutObjectCommand({ Bucket: 'src', Key: `o/${i}`, Body: body, ContentLength: run.size }));
      answered[i] = performance.now() - t0;
    }
  };
  await Promise.all(Array.from({ length: run.concurrency }, worker));
}

/** Each object's lag (from `answered[i]` to `arrived[i]`, else `drained`), and its p-th percentile. */
export function lagsOf(answered: number[], arrived: (number | undefined)[], drained: number) {
  const lags = answered.map((t, i) => Math.max(0, (arrived[i] ?? drained) - t)).sort((a, b) => a - b);
  const pct = (p: number) => lags[Math.min(lags.length - 1, Math.floor((p / 100) * lags.length))];
  const line = `${pct(50).toFixed(0)} / ${pct(99).toFixed(0)} / ${lags.at(-1)!.toFixed(0)} ms`;
  return { pct, line };
}

export const loadRow = (): [string, string] => [
  'load average at the end (1 / 5 / 15 min)',
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' / '),
];

export const targetRow = (run: Run, p99: number): [string, string] => [
  'target: lag under 1 s at 200/s',
  run.replicate && p99 < 1000 && run.rate >= 200 ? 'met' : 'not met',
];

/** The table: names padded to the longest, two spaces, the value. */
export function printRows(rows: [string, string][]): void {
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
}
