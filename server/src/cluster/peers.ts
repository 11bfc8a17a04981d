// The nodes of a distributed deployment talking to each other beside the storage RPC: start-up checks
// (bootstrap.ts), the change bus (peer-bus.ts) and the lock service (dsync.ts), under PEER_PREFIX on the S3
// port, with the storage RPC's tokens (storage/rpc/token.ts: derived from the root credentials, so a node
// with other credentials is refused with 403). Bodies are msgpack. One route table per node (PeerRoutes),
// filled by the parts that answer; a route not (yet) registered answers 503 so that callers retry. Over HTTPS
// between https:// nodes, verified as storage/rpc/transport.ts says.
import type { Agent, IncomingMessage, ServerResponse } from 'node:http';
import { pack, unpack } from 'msgpackr';
import { readAll } from '../storage/rpc/peer.js';
import { type RootCredentials, TokenCheck, TokenSource } from '../storage/rpc/token.js';
import { type InternodeTrust, internodeAgent, internodeRequest } from '../storage/rpc/transport.js';

export const PEER_PREFIX = '/cairn/peer/v1';
/** Bytes of a peer request's body (a change or a lock request is small; a bucket document at most a few MiB). */
const MAX_BODY = 16 * 1024 * 1024;

export type PeerHandler = (body: unknown) => unknown | Promise<unknown>;

/** The serving side: routes by name (`bootstrap`, `bus`, `lock`, ...), each taking and answering msgpack. */
export class PeerRoutes {
  private readonly routes = new Map<string, PeerHandler>();
  private readonly tokens: TokenCheck;

  constructor(credentials: RootCredentials) {
    this.tokens = new TokenCheck(credentials);
  }

  set(name: string, handler: PeerHandler): void {
    this.routes.set(name, handler);
  }

  matches(url: string): boolean {
    return url.startsWith(`${PEER_PREFIX}/`);
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const reply = (status: number, body: unknown) => {
      const bytes = pack(body);
      res.writeHead(status, { 'content-type': 'application/msgpack', 'content-length': bytes.length });
      res.end(bytes);
    };
    const auth = req.headers.authorization;
    if (!this.tokens.valid(auth?.startsWith('Bearer ') ? auth.slice(7) : undefined)) {
      req.resume();
      res.setHeader('connection', 'close');
      return reply(403, { error: 'peer token refused' });
    }
    const name = (req.url ?? '').split('?')[0].slice(PEER_PREFIX.length + 1);
    const handler = this.routes.get(name);
    if (req.method !== 'POST' || !handler) {
      req.resume();
      return reply(handler ? 405 : 503, { error: `no route ${name} here (yet)` });
    }
    void (async () => {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of req as AsyncIterable<Buffer>) {
        size += c.length;
        if (size > MAX_BODY) return reply(413, { error: 'too large' });
        chunks.push(c);
      }
      let body: unknown;
      try {
        body = size === 0 ? null : unpack(Buffer.concat(chunks));
      } catch {
        return reply(400, { error: 'not msgpack' });
      }
      reply(200, { value: (await handler(body)) ?? null });
    })().catch((e: unknown) => {
      if (res.headersSent) return void res.destroy();
      reply(500, { error: String((e as Error)?.message ?? e) });
    });
  }
}

/** A peer's answer: its status and value (an error's text for a status other than 200). */
export interface PeerAnswer {
  status: number;
  value: unknown;
  error?: string;
}

/** The calling side: one request to one node, with a token and a time limit. Transport errors reject. */
export class PeerClient {
  private readonly tokens: TokenSource;
  private readonly agents = new Map<string, Agent>();

  constructor(
    credentials: RootCredentials,
    readonly timeoutMs = 5000,
    /** The roots an https:// node's certificate is verified against. */
    readonly trust?: InternodeTrust,
  ) {
    this.tokens = new TokenSource(credentials);
  }

  async call(origin: string, route: string, body: unknown, timeoutMs = this.timeoutMs): Promise<PeerAnswer> {
    const url = new URL(origin);
    let agent = this.agents.get(url.origin);
    if (!agent) this.agents.set(url.origin, (agent = internodeAgent(url, this.trust, { keepAlive: true })));
    const bytes = pack(body);
    const signal = AbortSignal.timeout(timeoutMs);
    const send = (retried: boolean): Promise<IncomingMessage> =>
      new Promise((resolve, reject) => {
        const req = internodeRequest(url, {
          agent,
          method: 'POST',
          path: `${PEER_PREFIX}/${route}`,
          headers: {
            authorization: `Bearer ${this.tokens.token()}`,
            'content-type': 'application/msgpack',
            'content-length': bytes.length,
          },
          signal,
        });
        req.once('response', resolve);
        // A kept-alive connection the node closed as this request went out (it restarted, or its start-up
        // listener handed over to its S3 server): the request never arrived; sent once more on a new one.
        req.once('error', (e: NodeJS.ErrnoException) =>
          e.code === 'ECONNRESET' && req.reusedSocket && !retried ? send(true).then(resolve, reject) : reject(e),
        );
        req.end(bytes);
      });
    const res = await send(false);
    const raw = await readAll(res);
    let decoded: { value?: unknown; error?: string } = {};
    try {
      decoded = unpack(raw) as typeof decoded;
    } catch {
      decoded = { error: `answered ${res.statusCode}` };
    }
    return { status: res.statusCode ?? 0, value: decoded?.value, error: decoded?.error };
  }

  /** Drops the kept-alive connections. */
  close(): void {
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }
}
