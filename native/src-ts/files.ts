// Storage's whole-file reads and writes on the libuv pool (files.rs). Through node:fs a metadata file costs up
// to four pool round trips (open, write, close, rename or stat, open, read, close), each a request on the
// event loop and a wake-up of a pool thread; here each is one step of a native task, and the operations
// asked for during one turn of the event loop on one drive (by the requests of a busy server) go to the pool
// together, at most BATCH_OPS per task: queueing a task cost the event loop 10-20 us with four pool threads
// contending for libuv's queue (2 cores, perf: a futex wake and often a preemption per task), more than a
// small read on a warm drive. The operations of one task run one after the other; tasks run in parallel.
// There are no sync forms: file I/O never runs on the event loop. Failures are Node-style errors (`code`
// 'ENOENT', 'ENOSPC', ..., `syscall`, `path`), so callers handle them as they handled node:fs's.
import type { FileOp, FileOpResult } from '../binding.cjs';
import { native } from './binding.js';
import { fsError } from './fs-error.js';

/**
 * Operations per pool task: a busy server's requests still spread over the pool's threads. Operations of
 * one queue share tasks, in the order asked.
 */
const BATCH_OPS = 16;

interface Pending {
  op: FileOp;
  resolve: (r: FileOpResult) => void;
  reject: (e: Error) => void;
}

/** What was asked for since the last flush, by queue. */
let pending = new Map<string, Pending[]>();

function send(batch: Pending[]): void {
  native.fileOpsAsync(batch.map((p) => p.op)).then(
    (results) => {
      for (let j = 0; j < batch.length; j++) {
        const r = results[j];
        if (r.error) batch[j].reject(fsError(new Error(r.error), batch[j].op.path));
        else batch[j].resolve(r);
      }
    },
    (e: Error) => {
      for (const p of batch) p.reject(e);
    },
  );
}

/** Sends each queue's operations, BATCH_OPS per task. */
function flush(): void {
  const queues = pending;
  pending = new Map();
  for (const ops of queues.values()) for (let i = 0; i < ops.length; i += BATCH_OPS) send(ops.slice(i, i + BATCH_OPS));
}

/**
 * One operation, sent at the end of this turn of the event loop with the others of its `queue` (a drive's
 * root: a hung drive then holds up its own operations only). Without a queue it goes alone.
 */
function submit(op: FileOp, queue = op.path): Promise<FileOpResult> {
  return new Promise((resolve, reject) => {
    if (pending.size === 0) setImmediate(flush);
    const ops = pending.get(queue);
    if (ops) ops.push({ op, resolve, reject });
    else pending.set(queue, [{ op, resolve, reject }]);
  });
}

// `queue` below: operations of one queue asked for in one turn of the event loop share pool tasks (see submit).

/** Writes `data` as the whole file (created or truncated; `append`: appended) and closes it. */
export async function writeFile(path: string, data: Buffer, append = false, queue?: string): Promise<void> {
  await submit({ kind: append ? native.FILE_OP_APPEND : native.FILE_OP_WRITE, path, data }, queue);
}

/**
 * Appends `data` to the file (created when missing) and closes it; true when the file still had its name
 * after the write, false when another process replaced or removed it meanwhile (the bytes may be lost).
 */
export async function appendFileLinked(path: string, data: Buffer, queue?: string): Promise<boolean> {
  return (await submit({ kind: native.FILE_OP_APPEND_LINKED, path, data }, queue)).linked;
}

/**
 * Writes `data` to `tmp` and renames it to `path` (its parent created when missing): readers see the old
 * file or the new one. On failure `tmp` is gone.
 */
export async function writeFileAtomic(tmp: string, data: Buffer, path: string, queue?: string): Promise<void> {
  await submit({ kind: native.FILE_OP_ATOMIC, path, data, tmp }, queue);
}

/** Removes the file; fails with ENOENT when it does not exist, as node's unlink. */
export async function unlinkFile(path: string, queue?: string): Promise<void> {
  await submit({ kind: native.FILE_OP_UNLINK, path }, queue);
}

/** The whole file, or null when it (or a parent directory) does not exist. */
export async function readFile(path: string, queue?: string): Promise<Buffer | null> {
  const r = await submit({ kind: native.FILE_OP_READ, path }, queue);
  return r.found ? (r.bytes ?? null) : null;
}

/**
 * The file's identity (inode, size, mtime, ctime), its ctime in ms and its bytes, or null when it does not
 * exist. When the identity is still `known` (what an earlier call returned), the bytes are left out: one
 * stat, no read.
 */
export async function readFileIfChanged(
  path: string,
  known: string,
  queue?: string,
): Promise<{ id: string; ctimeMs: number; bytes?: Buffer } | null> {
  const r = await submit({ kind: native.FILE_OP_READ, path, known }, queue);
  if (!r.found) return null;
  return r.bytes ? { id: r.id, ctimeMs: r.ctimeMs, bytes: r.bytes } : { id: r.id, ctimeMs: r.ctimeMs };
}
