// Shard reads from another node (GET /shard, serve.ts) without node:http's client: the answer's body is read by
// the kernel straight into the caller's buffer. node:http allocates a new Buffer for every socket read (up to
// 64 KiB); a node assembling GETs from remote shards receives about a GiB per GiB it serves, and V8 answers that
// much short-lived external memory with full mark-compacts (~30 per GiB, the collector's threads then costing
// as much CPU as the main thread; bench/storage/README.md, "Shard reads without node:http"). Here a connection's
// reads (net's `onread`) land in a small header buffer until the head of an answer is complete, then in the
// caller's buffer itself: nothing is allocated per read and the body is never copied.
// HTTP/1.1, one request at a time per connection (no pipelining), connections kept alive per node. An answer
// must give its length (content-length; the RPC server always does); anything else fails the read with EIO.
import type { Socket } from 'node:net';
import { type InternodeTrust, internodeConnect } from './transport.js';

/** Largest head of an answer (status line and headers) accepted. */
const HEAD_MAX = 16 * 1024;
/** Largest body of a failed read's answer (a JSON error) taken. */
const ERROR_BODY_MAX = 64 * 1024;
/** Connections kept open per node while unused. */
const IDLE_MAX = 32;

export interface FetchedShard {
  status: number;
  /** The answer's header `name` (lower case), if it had one. */
  header(name: string): string | undefined;
  /** A 200's body: `into` (or a new buffer) cut to its length; another status's body, the error it carries. */
  body: Buffer;
}

interface Exchange {
  /** Bytes a 200's body may have at most (the read's length). */
  limit: number;
  into?: Buffer;
  resolve: (r: FetchedShard) => void;
  reject: (e: Error) => void;
  /** Anything read for this exchange yet (an answer begun is never sent again). */
  started: boolean;
  status?: number;
  headers?: Map<string, string>;
  body?: Buffer;
  want: number;
  got: number;
}

function closedEarly(): Error {
  const message = 'storage RPC: connection closed before the answer was complete';
  return Object.assign(new Error(message), { code: 'ECONNRESET' });
}

function eio(message: string): Error {
  return Object.assign(new Error(`storage RPC: ${message}`), { code: 'EIO' });
}

/** One kept-alive connection and the exchange under way on it. */
class Connection {
  readonly socket: Socket;
  private readonly head = Buffer.allocUnsafe(HEAD_MAX);
  private headLength = 0;
  /** Where the last buffer given to the socket lies: the head buffer or the exchange's body. */
  private intoBody = false;
  private ex?: Exchange;
  private closed = false;
  /** Set by the fetcher: called once the connection is free again (its answer complete and kept-alive). */
  onIdle?: (c: Connection) => void;
  onGone?: (c: Connection) => void;

  constructor(origin: URL, trust: InternodeTrust | undefined, timeoutMs: number, timeoutError: () => Error) {
    this.socket = internodeConnect(origin, trust, {
      buffer: () => this.nextBuffer(),
      callback: (n) => this.read(n),
    });
    this.socket.setTimeout(timeoutMs, () => this.socket.destroy(timeoutError()));
    this.socket.on('error', (e) => this.gone(e));
    this.socket.on('close', () => this.gone(closedEarly()));
    this.socket.on('end', () => this.socket.destroy());
  }

  send(request: string, ex: Exchange): void {
    this.ex = ex;
    this.headLength = 0;
    this.socket.write(request);
  }

  private nextBuffer(): Uint8Array {
    const ex = this.ex;
    this.intoBody = ex?.body !== undefined && ex.got < ex.want;
    if (ex?.body && this.intoBody) return ex.body.subarray(ex.got, ex.want);
    return this.head.subarray(this.headLength);
  }

  private read(n: number): boolean {
    const ex = this.ex;
    if (!ex) {
      // Bytes no request asked for: the connection is out of step.
      this.socket.destroy(eio('answer without a request'));
      return false;
    }
    ex.started = true;
    if (this.intoBody) ex.got += n;
    else this.readHead(ex, n);
    if (this.ex === ex && ex.body && ex.got >= ex.want) this.complete(ex);
    return true;
  }

  private readHead(ex: Exchange, n: number): void {
    const start = Math.max(0, this.headLength - 3);
    this.headLength += n;
    const end = this.head.subarray(0, this.headLength).indexOf('\r\n\r\n', start, 'latin1');
    if (end < 0) {
      if (this.headLength >= HEAD_MAX) this.fail(eio('answer head too large'));
      return;
    }
    const lines = this.head.toString('latin1', 0, end).split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (!status) return this.fail(eio(`bad answer: ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`));
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const length = Number(headers.get('content-length'));
    if (!headers.has('content-length') || !Number.isSafeInteger(length) || length < 0)
      return this.fail(eio('answer without a length'));
    ex.status = Number(status[1]);
    ex.headers = headers;
    if (ex.status === 200) {
      if (length > ex.limit) return this.fail(eio('shard read too long'));
      // A caller buffer shorter than its limit: the rest would have nowhere to land (zero-length reads, a spin).
      if (ex.into && length > ex.into.length) return this.fail(eio('shard read longer than its buffer'));
      ex.body = ex.into ? ex.into.subarray(0, length) : Buffer.allocUnsafe(length);
    } else {
      if (length > ERROR_BODY_MAX) return this.fail(eio(`answer ${ex.status} too large`));
      ex.body = Buffer.allocUnsafe(length);
    }
    ex.want = length;
    // Body bytes that came with the head.
    const rest = this.head.subarray(end + 4, this.headLength);
    if (rest.length > length) return this.fail(eio('more bytes than the answer holds'));
    rest.copy(ex.body, 0);
    ex.got = rest.length;
    this.headLength = 0;
  }

  private complete(ex: Exchange): void {
    this.ex = undefined;
    const headers = ex.headers ?? new Map<string, string>();
    const result: FetchedShard = {
      status: ex.status ?? 0,
      header: (name) => headers.get(name),
      body: ex.body ?? Buffer.alloc(0),
    };
    if (headers.get('connection')?.toLowerCase() === 'close') this.socket.destroy();
    else this.onIdle?.(this);
    ex.resolve(result);
  }

  private fail(e: Error): void {
    this.socket.destroy(e);
  }

  private gone(e: Error): void {
    if (this.closed) return;
    this.closed = true;
    const ex = this.ex;
    this.ex = undefined;
    this.onGone?.(this);
    ex?.reject(e);
  }

  get usable(): boolean {
    return !this.closed && !this.socket.destroyed;
  }
}

/** Shard reads from one node: `get` asks GET `path` and reads a body of at most `limit` bytes into `into`. */
export class ShardFetcher {
  private idle: Connection[] = [];
  private readonly all = new Set<Connection>();

  constructor(
    private readonly origin: URL,
    private readonly trust: InternodeTrust | undefined,
    private readonly timeoutMs: number,
    private readonly timeoutError: () => Error,
    /** The request's headers besides the host (e.g. `authorization: Bearer ...`), CRLF-terminated lines. */
    private readonly headers: () => string,
  ) {}

  async get(path: string, limit: number, into?: Buffer): Promise<FetchedShard> {
    const reused = this.idle.pop();
    try {
      return await this.once(path, limit, into, reused);
    } catch (e) {
      // A kept-alive connection the node closed as the request went out: nothing was read, send again once.
      if (e instanceof Unanswered && reused) return this.once(path, limit, into, undefined);
      throw e instanceof Unanswered ? e.cause : e;
    }
  }

  private once(path: string, limit: number, into: Buffer | undefined, reused: Connection | undefined) {
    const c = reused?.usable ? reused : this.connect();
    const request = `GET ${path} HTTP/1.1\r\nhost: ${this.origin.host}\r\n${this.headers()}\r\n`;
    return new Promise<FetchedShard>((resolve, reject) => {
      const ex: Exchange = {
        limit,
        into,
        resolve,
        reject: (e) =>
          reject(!ex.started && RESETS.has((e as NodeJS.ErrnoException).code ?? '') ? new Unanswered(e) : e),
        started: false,
        want: 0,
        got: 0,
      };
      c.send(request, ex);
    });
  }

  private connect(): Connection {
    const c = new Connection(this.origin, this.trust, this.timeoutMs, this.timeoutError);
    this.all.add(c);
    c.onIdle = (conn) => {
      if (this.idle.length < IDLE_MAX) this.idle.push(conn);
      else conn.socket.destroy();
    };
    c.onGone = (conn) => {
      this.all.delete(conn);
      this.idle = this.idle.filter((i) => i !== conn);
    };
    return c;
  }

  close(): void {
    for (const c of this.all) c.socket.destroy();
    this.all.clear();
    this.idle = [];
  }
}

/** How a kept-alive connection the node closed meanwhile fails (a timeout is not retried: it would double). */
const RESETS = new Set(['ECONNRESET', 'EPIPE']);

/** A failure before any byte of the answer came (the request may not have reached the node). */
class Unanswered extends Error {
  constructor(override readonly cause: Error) {
    super(cause.message);
  }
}
