// A body moved from one TCP socket to another inside the kernel (splice.rs): splice(2) through a pipe, on a
// thread of its own, so the bytes are never copied into the process and no JavaScript runs per chunk. The S3
// gateway's GETs over plain HTTP on both sides use it (storage/s3gw/http1.ts, http/send-body.ts).
import { native } from './binding.js';
import { fsError } from './fs-error.js';

/** The kernel, typed here (a checkout whose binding predates it must still compile; see csv.ts). */
type SpliceSockets = (fromFd: number, toFd: number, bytes: number, idleMs: number) => Promise<number>;
const kernel = (native as unknown as { spliceSockets?: SpliceSockets }).spliceSockets;

/**
 * Moves exactly `bytes` from the socket `fromFd` to the socket `toFd` (connected TCP sockets, non-blocking as
 * node's are); nothing else may read `fromFd` or write `toFd` until it settles. The kernel works on duplicates
 * of both descriptors, closed when it ends. Fails with a Node-style error (`code` 'EPIPE', 'ECONNRESET', ...),
 * or `code` 'ESHORT' when the source ended early, 'ETIMEDOUT' when neither socket moved for `idleMs` (a client
 * that reads slowly counts as moving: its socket's send queue shrinks, though it may stay unwritable longer).
 */
export async function spliceSockets(fromFd: number, toFd: number, bytes: number, idleMs: number): Promise<number> {
  if (!kernel) throw Object.assign(new Error('the native addon has no spliceSockets'), { code: 'ENOSYS' });
  try {
    return await kernel(fromFd, toFd, bytes, idleMs);
  } catch (e) {
    const message = (e as Error).message;
    if (message.startsWith('short '))
      throw Object.assign(new Error(`the source ended early (${message})`), { code: 'ESHORT' });
    if (message === 'idle') throw Object.assign(new Error(`no byte moved for ${idleMs} ms`), { code: 'ETIMEDOUT' });
    throw fsError(e, 'socket');
  }
}

/** Whether this build of the addon can splice (Linux, and an addon built with splice.rs). */
export const canSplice = kernel !== undefined && process.platform === 'linux';
