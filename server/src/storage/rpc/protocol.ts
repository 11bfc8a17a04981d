// The storage RPC's wire format (shared by serve.ts and remote-drive.ts). HTTP/1.1 with keep-alive, three
// requests, all authenticated by `authorization: Bearer <token>` (token.ts):
//
//   POST PREFIX/call              small operations, batched: a msgpack array of Call, answered by a msgpack
//                                 array of Reply in the same order (each its own result or error); among them
//                                 dirView, one directory of several of the node's drives merged there
//   PUT  PREFIX/shard?d=&p=       a shard file written as the body streams in (backpressure both ways);
//                                 answered once closed: 200, or an error
//   GET  PREFIX/shard?d=&p=&pos=&len=[&stride=]
//                                 `len` bytes of a shard file at `pos`; with `stride`, the server checks each
//                                 frame's hash as it reads (Codec.readFrames) and says how many failed in
//                                 the `x-cairn-bad-frames` header
//
// `d` is the drive's folder on the serving node (as the endpoint names it), `p` a path relative to it.
// Errors: status 400 (bad request), 403 (token refused), 404 (drive not served), 413 (too large), 500 with a
// JSON RpcError (the file system's error code: ENOENT, ENOSPC, ...), which the client throws again as a
// Node-style error, so callers treat a remote drive's faults as a local one's.

export const RPC_PREFIX = '/cairn/storage/v1';
/** Operations in one /call request, and bytes of its body: a larger batch is split by the client. */
export const MAX_BATCH_CALLS = 64;
export const MAX_BATCH_BYTES = 8 * 1024 * 1024;
/** Bytes of one ranged shard read (a GET batch reads 4 blocks: about 1.1 MiB per shard at EC 4+4). */
export const MAX_SHARD_READ = 64 * 1024 * 1024;
/** Bytes of a relative path. */
export const MAX_PATH = 4096;

export type CallOp =
  | 'read'
  | 'readIfChanged'
  | 'writeAtomic'
  | 'append'
  | 'replaceLog'
  | 'rename'
  | 'stat'
  | 'mkdirs'
  | 'list'
  | 'remove'
  | 'unlink'
  | 'prune'
  | 'diskInfo'
  | 'probe'
  | 'dirView';

/**
 * One small operation: drive, path, second path (rename's target, prune's stop, dirView's bucket), bytes, number,
 * text; dirView (list/dir-view.ts partialView: one directory `p` of several drives of the node, `k` the name prefix)
 * names its drives in `ds` (at most MAX_VIEW_DRIVES) and whose journals to read in `js`, and in `n` the answer's
 * format it expects (DIR_VIEW_FORMAT; another is refused with EINVAL, as an unknown call).
 */
export interface Call {
  o: CallOp;
  d: string;
  p: string;
  q?: string;
  b?: Buffer;
  n?: number;
  k?: string;
  ds?: string[];
  js?: boolean[];
  /** 1: the target's folder is most likely missing (`fresh` of writeAtomic and renameInto: made first). */
  f?: number;
}

/** Drives of one dirView call (a set has at most 16, so one node at most as many). */
export const MAX_VIEW_DRIVES = 64;
/** The format of dirView's answer (2: sorted columns, list/dir-view.ts PartialView; 1, session 23's: one array per
 * entry, unsorted). */
export const DIR_VIEW_FORMAT = 2;

export interface RpcError {
  code: string;
  message: string;
  syscall?: string;
}

/** One answer: an error, or a value (bytes travel as msgpack binary). */
export interface Reply {
  e?: RpcError;
  v?: unknown;
}

/** A relative path the server accepts: no parent segments, not absolute, no NUL, bounded. */
export function validRelPath(p: unknown): p is string {
  if (typeof p !== 'string' || p.length > MAX_PATH || p.startsWith('/') || p.includes('\0')) return false;
  return !p.split('/').includes('..');
}

/** The error a failed call becomes on the client: what node:fs would have thrown. */
export function toError(e: RpcError): Error {
  return Object.assign(new Error(`${e.code}: ${e.message}`), { code: e.code, syscall: e.syscall });
}

export function fromError(e: unknown): RpcError {
  const err = e as NodeJS.ErrnoException;
  return { code: err?.code ?? 'EIO', message: String(err?.message ?? e), syscall: err?.syscall };
}
