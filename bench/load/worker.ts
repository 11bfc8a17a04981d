// One worker thread of the generator: runs its share of the concurrency as independent request loops
// ("slots") until the deadline, and reports per-operation counts and latency histograms.
import { parentPort, workerData } from 'node:worker_threads';
import { S3Client, objectPath } from './client.js';
import type { S3Connection } from './client.js';
import type { LoadConfig, OpKind } from './config.js';
import { keyOf } from './config.js';
import { Histogram } from './histogram.js';
import type { HistogramData } from './histogram.js';

export interface WorkerInput {
  cfg: LoadConfig;
  workerIndex: number;
  slots: number;
  /** Pre-generated object body, shared by all workers (never copied). */
  payload: SharedArrayBuffer;
  /** Int32 counter handing out the next key index to write, shared by all workers. */
  counter: SharedArrayBuffer;
}

export interface OpReport {
  ops: number;
  bytes: number;
  errors: number;
  errorSamples: string[];
  latency: HistogramData;
}

export interface WorkerReport {
  ops: Partial<Record<OpKind, OpReport>>;
  startedAt: number;
  endedAt: number;
}

class OpStats {
  ops = 0;
  bytes = 0;
  errors = 0;
  readonly errorSamples: string[] = [];
  readonly hist = new Histogram();

  error(what: string): void {
    this.errors++;
    if (this.errorSamples.length < 5) this.errorSamples.push(what);
  }

  report(): OpReport {
    return {
      ops: this.ops,
      bytes: this.bytes,
      errors: this.errors,
      errorSamples: this.errorSamples,
      latency: this.hist.toData(),
    };
  }
}

interface Planned {
  kind: OpKind;
  method: 'GET' | 'PUT' | 'HEAD' | 'DELETE';
  path: string;
  query?: Array<[string, string]>;
  range?: string;
  body?: Buffer;
  /** Body bytes the response must carry (GET), or -1 not to check. */
  expect: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(input: WorkerInput): Promise<WorkerReport> {
  const { cfg } = input;
  const client = new S3Client(cfg);
  const payload = Buffer.from(input.payload);
  const counter = new Int32Array(input.counter);
  const stats = new Map<OpKind, OpStats>();
  const statsOf = (k: OpKind) => stats.get(k) ?? stats.set(k, new OpStats()).get(k)!;
  const limit = cfg.limit ?? Infinity;
  const wholeRange = cfg.rangeSize >= cfg.objSize;

  const nextWriteIndex = () => Atomics.add(counter, 0, 1);
  const randomIndex = () => Math.floor(Math.random() * cfg.objects);
  const path = (i: number) => objectPath(cfg.bucket, keyOf(cfg, i));
  const put = (p: string): Planned => ({ kind: 'put', method: 'PUT', path: p, body: payload, expect: -1 });
  const get = (p: string): Planned => ({ kind: 'get', method: 'GET', path: p, expect: cfg.objSize });

  // The next operation of a slot, or undefined when a count limit is reached.
  function plan(slot: number, step: number): Planned | undefined {
    switch (cfg.mode) {
      case 'put': {
        const i = nextWriteIndex();
        return i < limit ? put(path(i % cfg.objects)) : undefined;
      }
      case 'get':
        return get(path(randomIndex()));
      case 'get-range': {
        if (wholeRange) return get(path(randomIndex()));
        const slots = Math.floor((cfg.objSize - cfg.rangeSize) / cfg.rangeAlign) + 1;
        const start = Math.floor(Math.random() * slots) * cfg.rangeAlign;
        return {
          kind: 'get',
          method: 'GET',
          path: path(randomIndex()),
          range: `bytes=${start}-${start + cfg.rangeSize - 1}`,
          expect: cfg.rangeSize,
        };
      }
      case 'head':
        return { kind: 'head', method: 'HEAD', path: path(randomIndex()), expect: 0 };
      case 'delete': {
        const i = nextWriteIndex();
        return i < Math.min(limit, cfg.objects)
          ? { kind: 'delete', method: 'DELETE', path: path(i), expect: -1 }
          : undefined;
      }
      case 'mixed':
        return Math.random() < cfg.getRatio ? get(path(randomIndex())) : put(path(nextWriteIndex() % cfg.objects));
      case 'small': {
        // Each slot cycles one key of its own through PUT, GET, HEAD, DELETE.
        const p = objectPath(cfg.bucket, `${cfg.prefix}small-${input.workerIndex}-${slot}`);
        const k = step % 4;
        if (k === 0) return put(p);
        if (k === 1) return get(p);
        return k === 2
          ? { kind: 'head', method: 'HEAD', path: p, expect: 0 }
          : { kind: 'delete', method: 'DELETE', path: p, expect: -1 };
      }
      case 'list':
        return {
          kind: 'list',
          method: 'GET',
          path: objectPath(cfg.bucket),
          expect: -1,
          query: [
            ['list-type', '2'],
            ['prefix', cfg.prefix],
            ['max-keys', String(cfg.listMaxKeys)],
          ],
        };
    }
  }

  let deadline = 0;
  async function slotLoop(slot: number, conn: S3Connection): Promise<void> {
    try {
      await slotSteps(slot, conn);
    } finally {
      conn.close();
    }
  }

  async function slotSteps(slot: number, conn: S3Connection): Promise<void> {
    for (let step = 0; Date.now() < deadline; step++) {
      const op = plan(slot, step);
      if (!op) return;
      const s = statsOf(op.kind);
      const t0 = performance.now();
      try {
        const res = await conn.request(op);
        const us = (performance.now() - t0) * 1000;
        if (res.status < 200 || res.status >= 300) {
          s.error(
            `${op.method} ${op.path} -> ${res.status} ${(res.errorText ?? '').replace(/\s+/g, ' ').slice(0, 300)}`,
          );
        } else if (op.expect >= 0 && res.bytes !== op.expect) {
          s.error(`${op.method} ${op.path} -> ${res.bytes} body bytes, expected ${op.expect}`);
        } else {
          s.ops++;
          s.bytes += op.body ? op.body.length : res.bytes;
          s.hist.record(us);
        }
      } catch (err) {
        s.error(`${op.method} ${op.path} -> ${(err as Error).message}`);
        await sleep(10); // a refused or reset connection fails fast; don't spin
      }
    }
  }

  const conns = Array.from({ length: input.slots }, () => client.connect());
  await Promise.all(conns.map((c) => c.warmUp()));
  parentPort!.postMessage({ type: 'ready' });
  const start = await new Promise<{ deadline: number }>((resolve) => parentPort!.once('message', resolve));
  deadline = start.deadline;
  const startedAt = Date.now();
  await Promise.all(conns.map((c, s) => slotLoop(s, c)));
  const endedAt = Date.now();
  const ops: Partial<Record<OpKind, OpReport>> = {};
  for (const [k, s] of stats) ops[k] = s.report();
  return { ops, startedAt, endedAt };
}

main(workerData as WorkerInput).then(
  (report) => parentPort!.postMessage({ type: 'done', report }),
  (err) => parentPort!.postMessage({ type: 'failed', message: String((err as Error).stack ?? err) }),
);
