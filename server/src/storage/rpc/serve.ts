// The serving side of the storage RPC (protocol.ts): a node's local drives, reached by other nodes' RemoteDrives.
// A plain node:http handler (the HTTP layer mounts it under RPC_PREFIX beside the S3 API): it authenticates
// the token, bounds every request, and runs each call on the drive's LocalDrive, so the batched native file
// operations and the shard read-and-verify pool calls are the same as for local use.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pack, unpack } from 'msgpackr';
import { readFormat } from '../drive/format.js';
import { LocalDrive } from '../drive/local-drive.js';
import { guardUnmounted } from '../drive/mount-guard.js';
import { BufferPool } from '../erasure/buffer-pool.js';
import { type PartialView, partialView } from '../list/dir-view.js';
import type { FrameVerifier } from '../drive/drive.js';
import {
  type Call,
  fromError,
  MAX_BATCH_BYTES,
  MAX_BATCH_CALLS,
  MAX_PATH,
  MAX_SHARD_READ,
  DIR_VIEW_FORMAT,
  MAX_VIEW_DRIVES,
  type Reply,
  RPC_PREFIX,
  validRelPath,
} from './protocol.js';
import { type RootCredentials, TokenCheck } from './token.js';

/** Shard reads up to this size go into kept buffers (a GET batch's read of one shard is ~0.5-2 MiB). */
const SHARD_BUFFER_MAX = 8 * 1024 * 1024;
/** Free read buffers kept: at most SHARD_BUFFERS_BUSY while reads come, SHARD_BUFFERS_KEEP once idle. */
const SHARD_BUFFERS_BUSY = 64 * 1024 * 1024;
const SHARD_BUFFERS_KEEP = 16 * 1024 * 1024;

/**
 * A shard upload's body is written in pieces of this many bytes (the last one smaller); while one is being
 * written, at most as many more are held before the socket is no longer read.
 */
const SHARD_WRITE_BYTES = 1024 * 1024;

/**
 * The body of `req` handed to `write` in pieces of SHARD_WRITE_BYTES (one writev of the socket's 64 KiB reads),
 * where a write per socket read cost a pool task, a thread wake-up and a few promises each. Backpressure: while
 * a write is under way and SHARD_WRITE_BYTES more are held, the request is paused (node:http stops reading the
 * socket). Resolves at the end of the body, or when the connection closes first (`req.complete` tells which),
 * once no write is under way; rejects when a write fails.
 */
export function receive(req: IncomingMessage, write: (bufs: Buffer[]) => Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    let held: Buffer[] = [];
    let bytes = 0;
    let writing = false;
    let over = false;
    let failed = false;
    const pump = () => {
      if (failed || writing) return;
      if (held.length === 0 || (bytes < SHARD_WRITE_BYTES && !over)) {
        if (over) resolve();
        return;
      }
      const bufs = held;
      held = [];
      bytes = 0;
      writing = true;
      write(bufs).then(
        () => {
          writing = false;
          if (req.isPaused() && !over) req.resume();
          pump();
        },
        (e: unknown) => {
          failed = true;
          req.pause();
          reject(e);
        },
      );
    };
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      held.push(chunk);
      bytes += chunk.length;
      if (writing && bytes >= SHARD_WRITE_BYTES) req.pause();
      pump();
    });
    const finish = () => {
      over = true;
      pump();
    };
    req.once('end', finish);
    req.once('close', finish);
    req.once('error', () => {});
  });
}

export interface StorageRpcServer {
  /** Whether `url` is one of the RPC's (the HTTP layer hands those requests to `handle`). */
  matches(url: string): boolean;
  handle(req: IncomingMessage, res: ServerResponse): void;
}

/** Serves the drive folders `roots` (as other nodes' endpoints name them) to holders of a valid token. */
export function storageRpcServer(opts: {
  roots: string[];
  credentials: RootCredentials;
  verify?: FrameVerifier;
  now?: () => number;
}): StorageRpcServer {
  const drives = new Map(opts.roots.map((r) => [r, new LocalDrive(r)]));
  const tokens = new TokenCheck(opts.credentials, opts.now);
  const drive = (d: unknown) => (typeof d === 'string' ? drives.get(d) : undefined);
  // Disks that did not mount (drive/mount-guard.ts: a plain folder among this node's mount points, without a
  // format), found at the first request, before anything is written: while such a folder is still on its parent's
  // file system, every call to it but the probe fails with `unmounted`, so no node formats or rebuilds into it;
  // once a file system is mounted there, it is served as any other.
  // (The probe is let through: the guard makes it answer `unmounted` itself, LocalDrive.probe.)
  let guarded: Promise<Set<LocalDrive>> | undefined;
  const guard = () =>
    (guarded ??= guardUnmounted([...drives.values()], async (x) => (await readFormat(x)) !== null).then(
      (found) => new Set(found as LocalDrive[]),
    ));
  const refuseUnmounted = async (d: LocalDrive): Promise<void> => {
    const set = await guard();
    if (set.size === 0 || !set.has(d)) return;
    if (await d.unmounted())
      throw Object.assign(new Error(`drive ${d.root} is a plain folder: its disk did not mount`), {
        code: 'unmounted',
      });
    set.delete(d);
  };
  // Shard reads go into buffers kept between requests: a GET's batches ask each node for reads of the same few
  // sizes, and a fresh 0.5-2 MiB buffer per read (external memory) kept V8's garbage collector at a third of a
  // serving node's CPU under a 64 MiB GET load.
  const readBuffers = new BufferPool(SHARD_BUFFERS_KEEP, SHARD_BUFFERS_BUSY);

  const answer = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  /** One directory of several drives of this node, merged (list/dir-view.ts); a drive not usable says nothing. */
  async function dirView(c: Call): Promise<PartialView> {
    const ds = c.ds;
    const js = c.js;
    if (
      // (a caller of another version expects another answer: EINVAL has it read the drives one by one)
      c.n !== DIR_VIEW_FORMAT ||
      !Array.isArray(ds) ||
      ds.length === 0 ||
      ds.length > MAX_VIEW_DRIVES ||
      !Array.isArray(js) ||
      js.length !== ds.length ||
      typeof c.q !== 'string' ||
      typeof c.k !== 'string' ||
      c.k.length > MAX_PATH ||
      !validRelPath(c.p) ||
      !validRelPath(c.q)
    )
      throw Object.assign(new Error('bad dirView'), { code: 'EINVAL' });
    const usable = await Promise.all(
      ds.map(async (folder) => {
        const d = drive(folder);
        if (!d) return null;
        return refuseUnmounted(d).then(
          () => d,
          () => null,
        );
      }),
    );
    return partialView(
      usable,
      js.map((j) => j === true),
      c.q,
      c.p,
      c.k,
    );
  }

  async function call(c: Call): Promise<unknown> {
    if (c.o === 'dirView') return dirView(c);
    const d = drive(c.d);
    if (!d) throw Object.assign(new Error(`drive ${String(c.d)} is not served here`), { code: 'ENODEV' });
    if (!validRelPath(c.p) || (c.q !== undefined && !validRelPath(c.q)))
      throw Object.assign(new Error('bad path'), { code: 'EINVAL' });
    if (c.o === 'probe') await guard();
    else await refuseUnmounted(d);
    const b = c.b ? Buffer.from(c.b.buffer, c.b.byteOffset, c.b.byteLength) : Buffer.alloc(0);
    switch (c.o) {
      case 'read':
        return d.read(c.p);
      case 'readIfChanged': {
        const r = await d.readIfChanged(c.p, typeof c.k === 'string' ? c.k : '');
        return r && (r.bytes ? { id: r.id, settled: r.settled, bytes: r.bytes } : { id: r.id, settled: r.settled });
      }
      case 'writeAtomic':
        return d.writeAtomic(c.p, b, { fresh: c.f === 1 });
      case 'append':
        return d.append(c.p, b, c.n === 1);
      case 'replaceLog':
        return d.replaceLog(c.p, b, Number(c.n) || 0);
      case 'rename':
        return d.renameInto(c.p, c.q!, c.f === 1);
      case 'stat':
        return d.stat(c.p);
      case 'mkdirs':
        return d.mkdirs(c.p);
      case 'list':
        return d.list(c.p);
      case 'remove':
        return d.remove(c.p);
      case 'unlink':
        return d.unlinkIfExists(c.p);
      case 'prune':
        return d.pruneEmpty(c.p, c.q ?? '');
      case 'diskInfo':
        return d.diskInfo();
      case 'probe': {
        const r = await d.probe(Math.min(Number(c.n) || 5000, 60_000));
        return { state: r, error: d.lastError };
      }
      default:
        throw Object.assign(new Error(`unknown call ${String(c.o)}`), { code: 'EINVAL' });
    }
  }

  async function batch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BATCH_BYTES + 64 * 1024) return answer(res, 413, { code: 'EFBIG', message: 'batch too large' });
      chunks.push(chunk);
    }
    let calls: Call[];
    try {
      calls = unpack(Buffer.concat(chunks)) as Call[];
    } catch {
      return answer(res, 400, { code: 'EINVAL', message: 'not msgpack' });
    }
    if (!Array.isArray(calls) || calls.length > MAX_BATCH_CALLS)
      return answer(res, 400, { code: 'EINVAL', message: 'not a batch' });
    const replies: Reply[] = await Promise.all(
      calls.map((c) =>
        call(c).then(
          (v) => ({ v: v ?? null }),
          (e) => ({ e: fromError(e) }),
        ),
      ),
    );
    const body = pack(replies);
    res.writeHead(200, { 'content-type': 'application/msgpack', 'content-length': body.length });
    res.end(body);
  }

  async function writeShard(req: IncomingMessage, res: ServerResponse, q: URLSearchParams): Promise<void> {
    const d = drive(q.get('d'));
    const rel = q.get('p');
    if (!d) return answer(res, 404, { code: 'ENODEV', message: 'drive not served here' });
    if (!validRelPath(rel)) return answer(res, 400, { code: 'EINVAL', message: 'bad path' });
    await refuseUnmounted(d);
    const sink = await d.createShard(rel);
    try {
      await receive(req, (bufs) => sink.write(bufs, rel));
      if (!req.complete) throw Object.assign(new Error('upload cut short'), { code: 'ECONNRESET' });
      await sink.close();
    } catch (e) {
      await sink.abort();
      throw e;
    }
    answer(res, 200, {});
  }

  async function readShard(res: ServerResponse, q: URLSearchParams): Promise<void> {
    const d = drive(q.get('d'));
    const rel = q.get('p');
    const pos = Number(q.get('pos'));
    const len = Number(q.get('len'));
    const stride = q.has('stride') ? Number(q.get('stride')) : undefined;
    if (!d) return answer(res, 404, { code: 'ENODEV', message: 'drive not served here' });
    const sizes = [pos, len, stride ?? 1];
    if (!validRelPath(rel) || !sizes.every((n) => Number.isSafeInteger(n) && n >= 0) || stride === 0)
      return answer(res, 400, { code: 'EINVAL', message: 'bad shard read' });
    if (len > MAX_SHARD_READ) return answer(res, 413, { code: 'EFBIG', message: 'read too large' });
    await refuseUnmounted(d);
    const src = d.openShard(rel, stride !== undefined ? opts.verify : undefined);
    const into = len > 0 && len <= SHARD_BUFFER_MAX ? readBuffers.take(len) : undefined;
    let sent = false;
    try {
      let buf: Buffer;
      let bad = 0;
      if (stride !== undefined && src.readFrames) ({ buf, bad } = await src.readFrames(pos, len, stride, into));
      else buf = await src.read(pos, len, into);
      const headers: Record<string, string | number> = { 'content-length': buf.length };
      if (stride !== undefined) headers['x-cairn-bad-frames'] = src.readFrames ? bad : -1;
      res.writeHead(200, headers);
      // Given back once the socket took all of it ('finish'); a response cut before that keeps it (the
      // write may still be under way): the garbage collector takes it.
      if (into) res.once('finish', () => readBuffers.give(into));
      sent = true;
      res.end(buf);
    } finally {
      if (into && !sent) readBuffers.give(into);
      await src.close();
    }
  }

  return {
    matches: (url) => url === RPC_PREFIX || url.startsWith(`${RPC_PREFIX}/`),
    handle(req, res) {
      const auth = req.headers.authorization;
      if (!tokens.valid(auth?.startsWith('Bearer ') ? auth.slice(7) : undefined)) {
        // Refused unread: the body is thrown away while the answer goes out, then the connection closes.
        req.resume();
        res.setHeader('connection', 'close');
        return answer(res, 403, { code: 'EACCES', message: 'storage RPC token refused' });
      }
      const url = new URL(req.url ?? '/', 'http://rpc');
      const route = `${req.method} ${url.pathname.slice(RPC_PREFIX.length)}`;
      const run =
        route === 'POST /call'
          ? batch(req, res)
          : route === 'PUT /shard'
            ? writeShard(req, res, url.searchParams)
            : route === 'GET /shard'
              ? readShard(res, url.searchParams)
              : Promise.resolve(answer(res, 400, { code: 'EINVAL', message: `no such call ${route}` }));
      run.catch((e) => {
        if (res.headersSent) return void res.destroy();
        // The body may not have been read: the connection cannot be reused.
        res.setHeader('connection', 'close');
        answer(res, 500, fromError(e));
      });
    },
  };
}
