// A drive another node serves over the storage RPC (protocol.ts, serve.ts), as the storage engine sees it: the
// Drive interface, with small calls batched per node (peer.ts), shard files streamed with backpressure, and
// ranged shard reads verified by the serving node. A node that is down or cut off fails every call with a
// connection error, one that hangs with ETIMEDOUT: the drive monitor then takes the drive offline as it does a
// local drive that fails its probe, and a slow shard read is hedged like a slow local drive's (PartReader).
import { CACHED_MAX_BYTES } from '../drive/local-drive.js';
import {
  type DiskInfo,
  type Drive,
  errCode,
  type FileStat,
  type FrameVerifier,
  type ShardSink,
  type ShardSource,
  TMP_DIR,
  type WriteOpts,
} from '../drive/drive.js';
import { type IfChanged, ReadCache } from '../drive/read-cache.js';
import type { RpcPeer } from './peer.js';
import { readAll, statusError } from './peer.js';
import type { Call, CallOp } from './protocol.js';

const toBuffer = (b: unknown): Buffer => {
  const u = b as Uint8Array;
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
};

/** `http://host:port/folder` (or https://) -> the node's origin and the folder on it; undefined when not such a URL. */
export function parseRemoteEndpoint(endpoint: string): { origin: string; folder: string } | undefined {
  if (!/^https?:\/\//.test(endpoint)) return undefined;
  const u = new URL(endpoint);
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.pathname === '/' || u.search || u.hash) return undefined;
  return { origin: u.origin, folder: decodeURIComponent(u.pathname) };
}

export class RemoteDrive implements Drive {
  setIndex = -1;
  diskIndex = -1;
  driveId = '';
  lastError: string | undefined;
  tmpDir = TMP_DIR;
  private readonly cache = new ReadCache(CACHED_MAX_BYTES);

  constructor(
    readonly endpoint: string,
    /** The serving node (list/dir-view.ts asks it for the view of all its drives of a set at once). */
    readonly peer: RpcPeer,
    /** The drive's folder on the serving node. */
    readonly folder: string,
  ) {}

  get cachedMaxBytes(): number {
    return this.cache.maxBytes;
  }
  set cachedMaxBytes(n: number) {
    this.cache.maxBytes = n;
  }

  private call(o: CallOp, p: string, more: Omit<Call, 'o' | 'd' | 'p'> = {}): Promise<unknown> {
    return this.peer.call({ o, d: this.folder, p, ...more });
  }

  async read(rel: string): Promise<Buffer | null> {
    const v = await this.call('read', rel);
    return v == null ? null : toBuffer(v);
  }

  readCached(rel: string): Promise<Buffer | null> {
    return this.cache.read(rel, async (r, known) => {
      const v = (await this.call('readIfChanged', r, { k: known })) as IfChanged | null;
      return v && { id: v.id, settled: v.settled, bytes: v.bytes ? toBuffer(v.bytes) : undefined };
    });
  }

  /** `opts.fresh` travels to the serving node; `grouped` does not (its drives there have no set's queue). */
  async writeAtomic(rel: string, data: Buffer | string, opts?: WriteOpts): Promise<void> {
    const b = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    await this.call('writeAtomic', rel, opts?.fresh ? { b, f: 1 } : { b });
  }

  async append(rel: string, data: Buffer | string, checkLinked = false): Promise<boolean> {
    const b = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    return (await this.call('append', rel, { b, n: checkLinked ? 1 : 0 })) as boolean;
  }

  async replaceLog(rel: string, data: Buffer | string, readLen: number): Promise<Buffer | null> {
    const b = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const v = await this.call('replaceLog', rel, { b, n: readLen });
    return v == null ? null : toBuffer(v);
  }

  async renameInto(fromRel: string, toRel: string, fresh = false): Promise<void> {
    await this.call('rename', fromRel, fresh ? { q: toRel, f: 1 } : { q: toRel });
  }

  async exists(rel: string): Promise<boolean> {
    return (await this.stat(rel)) !== null;
  }

  async stat(rel: string): Promise<FileStat | null> {
    return (await this.call('stat', rel)) as FileStat | null;
  }

  async mkdirs(rel: string): Promise<void> {
    await this.call('mkdirs', rel);
  }

  async list(rel: string): Promise<string[] | null> {
    return (await this.call('list', rel)) as string[] | null;
  }

  async remove(rel: string): Promise<void> {
    await this.call('remove', rel);
  }

  async unlinkIfExists(rel: string): Promise<void> {
    await this.call('unlink', rel);
  }

  async pruneEmpty(rel: string, stopAt: string): Promise<void> {
    await this.call('prune', rel, { q: stopAt });
  }

  async diskInfo(): Promise<DiskInfo> {
    return (await this.call('diskInfo', '')) as DiskInfo;
  }

  async probe(timeoutMs = 5000): Promise<'ok' | 'readonly' | 'failed'> {
    try {
      const r = (await this.call('probe', '', { n: timeoutMs })) as {
        state: 'ok' | 'readonly' | 'failed';
        error?: string;
      };
      this.lastError = r.error;
      return r.state;
    } catch (e) {
      this.lastError = errCode(e) ?? String(e);
      return 'failed';
    }
  }

  async unmounted(): Promise<boolean> {
    return (await this.probe()) === 'failed' && this.lastError === 'unmounted';
  }

  async createShard(rel: string): Promise<ShardSink> {
    return shardUpload(this.peer, this.folder, rel);
  }

  openShard(rel: string, verify?: FrameVerifier): ShardSource {
    const peer = this.peer;
    const q = `d=${encodeURIComponent(this.folder)}&p=${encodeURIComponent(rel)}`;
    const get = async (pos: number, len: number, stride: number | undefined, into?: Buffer) => {
      const res = await peer.readShard(
        `/shard?${q}&pos=${pos}&len=${len}${stride ? `&stride=${stride}` : ''}`,
        len,
        into,
      );
      if (res.status !== 200) throw statusError(res.status, res.body, peer.origin);
      if (res.body.length !== len) throw new Error('shard file too short');
      const buf = res.body;
      return { buf, bad: Number(res.header('x-cairn-bad-frames') ?? 0) };
    };
    return {
      inMemory: false,
      read: async (pos, len, into) => (await get(pos, len, undefined, into)).buf,
      readFrames: verify && ((pos, len, stride, into) => get(pos, len, stride, into)),
      close: async () => {},
    };
  }
}

/**
 * A shard file written through one PUT whose body streams as frames come. A write resolves once its bytes
 * went to the socket (the kernel has them: the caller may reuse the buffers), so a slow node slows the
 * writer down. An error the node answers with (or a cut connection) fails the next write and close.
 */
function shardUpload(peer: RpcPeer, folder: string, rel: string): ShardSink {
  const req = peer.open('PUT', `/shard?d=${encodeURIComponent(folder)}&p=${encodeURIComponent(rel)}`, {
    'transfer-encoding': 'chunked',
  });
  /** `p`, or ETIMEDOUT (the upload cut) when the node takes none of it for `timeoutMs`. */
  const inTime = async <T>(p: Promise<T>): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        req.destroy(peer.timeoutError());
        reject(failed ?? peer.timeoutError());
      }, peer.timeoutMs);
    });
    try {
      return await Promise.race([p, late]);
    } finally {
      clearTimeout(timer);
    }
  };
  let failed: Error | undefined;
  const answered = new Promise<void>((resolve, reject) => {
    req.once('error', (e) => {
      failed ??= e;
      reject(e);
    });
    req.once('response', (res) => {
      void readAll(res).then((raw) => {
        if (res.statusCode === 200) return resolve();
        failed ??= statusError(res.statusCode, raw, peer.origin);
        reject(failed);
      }, reject);
    });
  });
  answered.catch(() => {});
  // An answer before the end is an error (a write callback may then never come: the socket is gone).
  const broken = answered.then(() => {
    throw Object.assign(new Error('shard write answered early'), { code: 'EIO' });
  });
  broken.catch(() => {});
  return {
    async write(bufs) {
      if (failed) throw failed;
      const flushed = bufs.map(
        (b) => new Promise<void>((resolve, reject) => req.write(b, (e) => (e ? reject(failed ?? e) : resolve()))),
      );
      await inTime(Promise.race([Promise.all(flushed), broken]));
    },
    async close() {
      if (failed) throw failed;
      req.end();
      await inTime(answered);
    },
    async abort() {
      failed ??= Object.assign(new Error('shard write aborted'), { code: 'ECANCELED' });
      req.destroy();
    },
  };
}
