// Runs one load configuration: makes sure the bucket (and, for reading modes, the objects) exist, starts
// the worker threads with their share of the concurrency, and merges their reports.
import { randomFillSync } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { S3Client, objectPath } from './client.js';
import type { LoadConfig, OpKind } from './config.js';
import { needsObjects, sendsBodies } from './config.js';
import type { RunResult } from './results.js';
import { summarize } from './results.js';
import type { OpReport, WorkerInput, WorkerReport } from './worker.js';

export type Log = (line: string) => void;

/** Creates the bucket; an existing one is fine. */
export async function ensureBucket(cfg: LoadConfig): Promise<void> {
  const conn = new S3Client(cfg).connect();
  try {
    const res = await conn.request({ method: 'PUT', path: objectPath(cfg.bucket) });
    if (res.status !== 200 && res.status !== 409) {
      throw new Error(`cannot create bucket ${cfg.bucket}: HTTP ${res.status} ${res.errorText ?? ''}`);
    }
  } finally {
    conn.close();
  }
}

/** Random bytes shared by all workers; generated once per size, before any timing starts. */
function makePayload(size: number): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(size);
  const view = Buffer.from(sab);
  const block = Math.min(size, 1 << 20);
  randomFillSync(view, 0, block);
  for (let off = block; off < size; off += block) view.copy(view, off, 0, Math.min(block, size - off));
  return sab;
}

function startWorker(input: WorkerInput): { ready: Promise<void>; done: Promise<WorkerReport>; worker: Worker } {
  const worker = new Worker(new URL('./worker-entry.mjs', import.meta.url), { workerData: input });
  let onReady!: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  const done = new Promise<WorkerReport>((resolve, reject) => {
    worker.on('message', (m: { type: string; report?: WorkerReport; message?: string }) => {
      if (m.type === 'ready') onReady();
      else if (m.type === 'done') resolve(m.report!);
      else reject(new Error(`load worker failed: ${m.message}`));
    });
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new Error(`load worker exited (${code}) before reporting`)));
  });
  done.catch(() => onReady()); // a failing worker must not leave the start barrier waiting
  return { ready, done, worker };
}

/** The timed part: workers start together and run until the deadline (or the operation limit). */
export async function runPhase(cfg: LoadConfig): Promise<RunResult> {
  // One worker drives small objects best (a second thread only competes with the server for the two
  // cores); large bodies need two to pass ~2.5 GiB/s. Measured against the in-memory server.
  const auto = cfg.objSize >= 1 << 20 ? 2 : 1;
  const workers = Math.max(1, Math.min(cfg.workers || auto, cfg.concurrency));
  const payload = makePayload(sendsBodies(cfg.mode) ? cfg.objSize : 0);
  const counter = new SharedArrayBuffer(4);
  const started = Array.from({ length: workers }, (_, w) => {
    const slots = Math.floor(cfg.concurrency / workers) + (w < cfg.concurrency % workers ? 1 : 0);
    return startWorker({ cfg, workerIndex: w, slots, payload, counter });
  });
  await Promise.all(started.map((s) => s.ready));
  const cpu0 = process.cpuUsage();
  const deadline = Date.now() + cfg.durationMs;
  for (const s of started) s.worker.postMessage({ deadline });
  const reports = await Promise.all(started.map((s) => s.done));
  const cpu = process.cpuUsage(cpu0);
  await Promise.all(started.map((s) => s.worker.terminate()));

  const t0 = Math.min(...reports.map((r) => r.startedAt));
  const seconds = Math.max(0.001, (Math.max(...reports.map((r) => r.endedAt)) - t0) / 1000);
  const byOp = new Map<OpKind, OpReport[]>();
  for (const r of reports)
    for (const [k, v] of Object.entries(r.ops) as Array<[OpKind, OpReport]>) {
      byOp.set(k, [...(byOp.get(k) ?? []), v]);
    }
  const ops: RunResult['ops'] = {};
  for (const [k, list] of byOp) ops[k] = summarize(list, seconds);
  return {
    name: cfg.name,
    mode: cfg.mode,
    endpoint: cfg.endpoint,
    objSize: cfg.objSize,
    rangeSize: cfg.rangeSize,
    objects: cfg.objects,
    concurrency: cfg.concurrency,
    workers,
    seconds,
    ops,
    clientCores: (cpu.user + cpu.system) / 1e6 / seconds,
  };
}

/** Writes the objects a reading mode needs: `objects` PUTs at the run's concurrency. */
export async function prepareObjects(cfg: LoadConfig, log: Log): Promise<void> {
  const r = await runPhase({
    ...cfg,
    name: `${cfg.name}:prepare`,
    mode: 'put',
    limit: cfg.objects,
    durationMs: 24 * 3600_000,
  });
  const put = r.ops.put;
  if (!put || put.ops < cfg.objects) {
    throw new Error(`prepare: wrote ${put?.ops ?? 0} of ${cfg.objects} objects; ${put?.errorSamples.join('; ') ?? ''}`);
  }
  log(`prepared ${cfg.objects} objects of ${cfg.objSize} bytes in ${r.seconds.toFixed(1)} s`);
}

export async function runLoad(cfg: LoadConfig, log: Log): Promise<RunResult> {
  await ensureBucket(cfg);
  if (cfg.prepare && needsObjects(cfg.mode)) await prepareObjects(cfg, log);
  return runPhase(cfg);
}
