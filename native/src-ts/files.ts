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
import { FRAME_HASH_LENGTH } from './blocks.js';
import { fsError } from './fs-error.js';

/**
 * Operations per pool task: a busy server's requests still spread over the pool's threads. Operations of
 * one queue share tasks, in the order asked. 32: warp's PUTs of 4 KiB at concurrency 32 (12 operations each,
 * a set's 4 drives grouped) filled tasks of 16 (14 a task on average); with 32, 0.52-0.79 pool tasks per PUT
 * instead of 0.89-1.25, futex calls -25% (bench/warp/README.md, session 23). A task's operations run one after
 * the other: on slow drives a full task takes longer before its first caller hears back.
 */
const BATCH_OPS = 32;

interface Pending {
  op: FileOp;
  resolve: (r: FileOpResult) => void;
  reject: (e: Error) => void;
}

/** What was asked for since the last flush, by queue. */
let pending = new Map<string, Pending[]>();

function send(batch: Pending[]): void {
  let task: Promise<FileOpResult[]>;
  try {
    task = native.fileOpsAsync(batch.map((p) => p.op));
  } catch (e) {
    // A malformed operation refuses the whole batch at once (in a setImmediate: never thrown to the loop).
    for (const p of batch) p.reject(e as Error);
    return;
  }
  task.then(
    (results) => {
      for (let j = 0; j < batch.length; j++) {
        const r = results[j];
        const op = batch[j].op;
        if (r.error) batch[j].reject(fsError(new Error(r.error), op.paths?.join(', ') ?? op.path));
        else batch[j].resolve(r);
      }
    },
    (e: Error) => {
      for (const p of batch) p.reject(e);
    },
  );
}

/**
 * Sends each queue's operations, BATCH_OPS per task, and at most one shard read (FILE_OP_SHARDS) per task: a
 * batch of shard reads is the bulk of a task's time, and the GETs of one turn then read on several threads.
 */
function flush(): void {
  const queues = pending;
  pending = new Map();
  for (const ops of queues.values()) {
    let from = 0;
    let shards = false;
    for (let i = 0; i < ops.length; i++) {
      const isShards = ops[i].op.kind === native.FILE_OP_SHARDS;
      if (i - from === BATCH_OPS || (isShards && shards)) {
        send(ops.slice(from, i));
        from = i;
        shards = false;
      }
      shards ||= isShards;
    }
    send(ops.slice(from));
  }
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
 * Writes `data` to `tmp` and renames it to `path` (its parent created when missing; `fresh`: before the rename,
 * as it most likely is missing): readers see the old file or the new one. On failure `tmp` is gone.
 */
export async function writeFileAtomic(
  tmp: string,
  data: Buffer,
  path: string,
  queue?: string,
  fresh = false,
): Promise<void> {
  await submit({ kind: native.FILE_OP_ATOMIC, path, data, tmp, fresh }, queue);
}

/**
 * Writes `bufs` in order at the offset of `fd`, an open file the caller keeps open until this settles (`path`
 * names it in errors). The writes of one `queue` asked for in one turn share a pool task: a block's shard files
 * on the drives of a set are one task, not one per drive (erasure/shard-writer.ts).
 */
export async function writeFd(fd: number, bufs: Buffer[], path: string, queue?: string): Promise<void> {
  await submit({ kind: native.FILE_OP_WRITE_FD, path, fd, datas: bufs }, queue);
}

/**
 * Appends `data` to `fd`, a file opened for appending that the caller keeps open until this settles; true when
 * the file still had its name after the write (appendFileLinked without its open and close).
 */
export async function appendFd(fd: number, data: Buffer, path: string, queue?: string): Promise<boolean> {
  return (await submit({ kind: native.FILE_OP_APPEND_FD, path, fd, data }, queue)).linked;
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

/**
 * `readShardsFramesAsync` as an operation of `queue`: it runs in the same pool task as the operations asked of
 * that queue in this turn of the event loop (a GET's first batch beside its set's metadata checks, `readGroup`:
 * one pool trip and one wake-up of the event loop where there were two). Resolves to the frames that failed in
 * each file; an open or read error or a short file rejects (for the first file that failed). Without `key` the
 * spans are read whole and nothing is checked (all 0). Every `outs[i]` must stay unchanged until it settles.
 */
export async function readShardsFramesQueued(
  paths: string[],
  positions: number[],
  stride: number,
  outs: Buffer[],
  key: Buffer | undefined,
  queue: string,
): Promise<number[]> {
  // Checked here as the kernel checks them: one malformed operation would refuse its whole task.
  const ok =
    paths.length > 0 &&
    positions.length === paths.length &&
    outs.length === paths.length &&
    paths.every((p) => p !== '') &&
    positions.every((p) => Number.isSafeInteger(p) && p >= 0) &&
    Number.isInteger(stride) &&
    stride > FRAME_HASH_LENGTH &&
    (key === undefined || key.length === 32);
  if (!ok) throw new TypeError(`readShardsFramesQueued: ${paths.length} paths, stride ${stride}: bad arguments`);
  const r = await submit({ kind: native.FILE_OP_SHARDS, path: '', paths, positions, outs, stride, key }, queue);
  return r.bad ?? [];
}
