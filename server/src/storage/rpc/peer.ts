// One node as the storage RPC's client sees it (protocol.ts): keep-alive HTTP/1.1 agents (HTTPS to an https://
// node, verified as transport.ts says), tokens, and the
// batching of small calls. The calls asked of one node in one turn of the event loop (by all its drives) go
// in one /call request, at most MAX_BATCH_CALLS and about MAX_BATCH_BYTES each, as the native file operations
// of one local drive share a pool task. A request that gets no answer within `timeoutMs` fails with ETIMEDOUT,
// a refused or cut connection with its code: the caller sees a drive fault, as for a local drive that fails.
import type { Agent, ClientRequest, IncomingMessage } from 'node:http';
import { pack, unpack } from 'msgpackr';
import {
  type Call,
  DIR_VIEW_FORMAT,
  MAX_BATCH_BYTES,
  MAX_BATCH_CALLS,
  type Reply,
  RPC_PREFIX,
  toError,
} from './protocol.js';
import { type FetchedShard, ShardFetcher } from './shard-fetch.js';
import { type RootCredentials, TokenSource } from './token.js';
import { type InternodeTrust, internodeAgent, internodeRequest, PEER_CERTIFICATE_REFUSED } from './transport.js';

/** Connections per node for batched calls (each carries up to MAX_BATCH_CALLS). */
const CALL_SOCKETS = 32;

interface Pending {
  call: Call;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export class RpcPeer {
  /**
   * Batched calls and shard streams have agents of their own: a shard upload holds its connection while its
   * object is being written, and the calls that commit those objects must never queue behind them.
   */
  private readonly callAgent: Agent;
  private readonly streamAgent: Agent;
  private readonly tokens: TokenSource;
  /** Shard reads (GET /shard): bodies read straight into the caller's buffers (shard-fetch.ts). */
  private readonly shards: ShardFetcher;
  private queue: Pending[] = [];
  private readonly url: URL;

  constructor(
    /** `http://host:port` (or https://) of the node. */
    readonly origin: string,
    credentials: RootCredentials,
    /** No answer (or, for a stream, no progress) within this long: ETIMEDOUT. */
    readonly timeoutMs = 10_000,
    /** The roots an https:// node's certificate is verified against. */
    trust?: InternodeTrust,
  ) {
    this.url = new URL(origin);
    this.callAgent = internodeAgent(this.url, trust, {
      keepAlive: true,
      noDelay: true,
      maxSockets: CALL_SOCKETS,
      scheduling: 'lifo',
    });
    this.streamAgent = internodeAgent(this.url, trust, { keepAlive: true, noDelay: true, scheduling: 'lifo' });
    this.tokens = new TokenSource(credentials);
    this.shards = new ShardFetcher(
      this.url,
      trust,
      timeoutMs,
      () => this.timeoutError(),
      () => `authorization: Bearer ${this.tokens.token()}\r\n`,
    );
  }

  /** GET `path` (a shard read) with a body of at most `limit` bytes, read into `into` when given. */
  readShard(path: string, limit: number, into?: Buffer): Promise<FetchedShard> {
    return this.shards.get(`${RPC_PREFIX}${path}`, limit, into);
  }

  /** A small call, sent with the others asked for in this turn of the event loop. */
  call(call: Call): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.queue.length === 0) setImmediate(() => this.flush());
      this.queue.push({ call, resolve, reject });
    });
  }

  /**
   * The view of directory `dirRel` of the node's drives `folders` (`journals[i]`: read drive i's journal), merged
   * by the node (list/dir-view.ts partialView); batched with the other calls of this turn.
   */
  async dirView(
    folders: string[],
    journals: boolean[],
    bucket: string,
    dirRel: string,
    namePrefix: string,
  ): Promise<unknown> {
    // (the answer is checked by the caller: a node of another version may answer another format)
    return await this.call({
      o: 'dirView',
      d: folders[0],
      p: dirRel,
      q: bucket,
      k: namePrefix,
      ds: folders,
      js: journals,
      n: DIR_VIEW_FORMAT,
    });
  }

  private flush(): void {
    const all = this.queue;
    this.queue = [];
    let batch: Pending[] = [];
    let bytes = 0;
    for (const p of all) {
      const size = p.call.p.length + (p.call.b?.length ?? 0) + 64;
      if (batch.length > 0 && (batch.length >= MAX_BATCH_CALLS || bytes + size > MAX_BATCH_BYTES)) {
        this.send(batch);
        batch = [];
        bytes = 0;
      }
      batch.push(p);
      bytes += size;
    }
    if (batch.length > 0) this.send(batch);
  }

  private send(batch: Pending[]): void {
    const body = pack(batch.map((p) => p.call));
    this.exchange('POST', '/call', body)
      .then(async (res) => {
        const raw = await readAll(res);
        if (res.statusCode !== 200) throw statusError(res.statusCode, raw, this.origin);
        const replies = unpack(raw) as Reply[];
        batch.forEach((p, i) => {
          const r = replies[i];
          if (!r) p.reject(Object.assign(new Error('storage RPC: reply missing'), { code: 'EIO' }));
          else if (r.e) p.reject(toError(r.e));
          else p.resolve(r.v);
        });
      })
      .catch((e: Error) => {
        for (const p of batch) p.reject(e);
      });
  }

  /** One request with its body; resolves with the response (status not checked), rejects on transport errors. */
  exchange(method: string, path: string, body?: Buffer, retried = false): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = this.open(method, path, body ? { 'content-length': body.length } : {});
      this.timeOut(req);
      req.once('response', resolve);
      req.once('error', (e: NodeJS.ErrnoException) => {
        // A kept-alive connection the node closed as the request went out, or a new one reset before any answer
        // (a node handing its port from its start-up listener to its S3 server drops the connections waiting
        // to be accepted by the first): nothing was read, send again once.
        if (e.code === 'ECONNRESET' && !retried) this.exchange(method, path, body, true).then(resolve, reject);
        else reject(e);
      });
      req.end(body);
    });
  }

  /**
   * A request; the caller ends it (and, for a stream, times it: a shard upload may idle while its client
   * is slow). Transport errors: the 'error' event.
   */
  open(method: string, path: string, headers: Record<string, string | number> = {}) {
    return internodeRequest(this.url, {
      agent: path === '/call' ? this.callAgent : this.streamAgent,
      method,
      path: `${RPC_PREFIX}${path}`,
      headers: {
        authorization: `Bearer ${this.tokens.token()}`,
        'content-type': 'application/octet-stream',
        ...headers,
      },
    });
  }

  /** A node that stops answering is like a hung drive: the request fails after `timeoutMs` without progress. */
  timeOut(req: ClientRequest): void {
    req.setTimeout(this.timeoutMs, () => req.destroy(this.timeoutError()));
  }

  timeoutError(): Error {
    return Object.assign(new Error(`storage RPC: ${this.origin} does not answer`), { code: 'ETIMEDOUT' });
  }

  close(): void {
    this.shards.close();
    this.callAgent.destroy();
    this.streamAgent.destroy();
  }
}

export async function readAll(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

/** A non-200 answer as the error it carries (a JSON RpcError), or one named after the status. */
export function statusError(status: number | undefined, raw: Buffer, origin?: string): Error {
  if (status === 403 && raw.includes(PEER_CERTIFICATE_REFUSED)) {
    const message = `${origin ?? 'the node'} refused this node's certificate (${PEER_CERTIFICATE_REFUSED})`;
    return toError({ code: 'EACCES', message });
  }
  if (status === 403) {
    const message = `${origin ?? 'the node'} refused this node's storage RPC token (different root credentials?)`;
    return toError({ code: 'EACCES', message });
  }
  try {
    const e = JSON.parse(raw.toString('utf8')) as { code?: string; message?: string };
    if (typeof e.code === 'string') return toError({ code: e.code, message: String(e.message) });
  } catch {
    // not JSON
  }
  return Object.assign(new Error(`storage RPC answered ${status}`), { code: status === 403 ? 'EACCES' : 'EIO' });
}
