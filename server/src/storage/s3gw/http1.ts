// The S3 gateway's HTTP/1.1 client for reading object bytes from its backend. Why not node's http: it
// reads each socket chunk into a fresh ArrayBuffer, and that external memory makes V8 run a mark-compact
// of the whole heap every ~25 MiB passed on (measured on 64 MiB GETs: 42 mark-compacts per GiB, GC
// threads 1.5 CPU-s/GiB, more than the rest of the gateway together). Here a plain-http socket reads
// straight into buffers of a pool (net's `onread` with a buffer generator); the body hands those buffers
// on without copying, and the HTTP layer gives them back once the client's socket wrote them (`recycle`,
// object-layer.ts RecyclingBody). TLS sockets have no `onread`: their chunks are passed on as node made them.
// Only what the gateway's GETs need: one request per connection at a time, keep-alive, bodies framed by
// Content-Length (chunked or unframed bodies are read whole, for the backend's error documents).
// A body's rest can leave by splice(2) instead (`ResponseBody.spliceInto`, @cairn/native spliceSockets): from
// the plain socket into the client's plain socket inside the kernel, neither copied nor seen by JavaScript.
import { connect as netConnect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { canSplice, spliceSockets } from '@cairn/native';
import { BufferPool } from '../erasure/buffer-pool.js';
import type {
  ChunkSink,
  PushingBody,
  RecyclingBody,
  SpliceHandOver,
  SpliceMode,
  SplicingBody,
} from '../object-layer.js';

/**
 * Size of a socket read (and of the pool's buffers). 256 KiB: 12-15% less of the gateway's CPU per GiB than
 * node's 64 KiB (fewer reads and writes; measured with 64 MiB GETs, alternating runs at load 15-20).
 */
export const READ_BYTES = 256 * 1024;
/** Longest status line + headers taken from the backend. */
const HEAD_MAX = 64 * 1024;
/** Longest body read whole (an error document, a response without Content-Length). */
const WHOLE_MAX = 1024 * 1024;
/**
 * Bodies with less than this left are not spliced: a thread and a pipe per transfer cost about what copying
 * a few hundred KiB does.
 */
const SPLICE_MIN = 1024 * 1024;
/** Idle connections kept, and for how long (closed then; under node's default 5 s keep-alive of servers). */
const IDLE_MAX = 64;
const IDLE_MS = 4000;

export interface Http1Options {
  connectTimeoutMs: number;
  /** A request waiting this long for its answer's head fails; a splice where no byte moved this long too. */
  idleTimeoutMs: number;
  /** When bodies are spliced (default auto: to clients on other hosts; where the addon cannot, never). */
  splice?: SpliceMode;
}

export interface Http1Response {
  status: number;
  /** Lower-case names; repeated headers joined with ", " (as node does for most). */
  headers: Record<string, string>;
  /** A 2xx answer framed by Content-Length: its body, streamed. */
  body?: ResponseBody;
  /** Any other answer: its body, read whole (at most WHOLE_MAX bytes kept). */
  whole?: Buffer;
}

export class Http1Client {
  private readonly idle: { conn: Conn; since: number }[] = [];
  /** Buffers back from the sockets: up to 64 MiB kept while busy, 8 MiB once idle (buffer-pool.ts). */
  readonly pool = new BufferPool(8 * 1024 * 1024, 64 * 1024 * 1024);
  private closed = false;

  constructor(
    private readonly base: URL,
    private readonly o: Http1Options,
  ) {}

  /** Sends `GET path` with `headers`; resolves once the answer's head (and, when not streamed, its body) arrived. */
  async get(path: string, headers: Record<string, string>): Promise<Http1Response> {
    const head = `GET ${path} HTTP/1.1\r\n${Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('')}\r\n`;
    const reused = this.takeIdle();
    if (reused) {
      // A kept connection the backend closed meanwhile fails before any byte comes back: once more on a new one.
      try {
        return await reused.exchange(head);
      } catch (e) {
        if (!(e instanceof Unanswered)) throw e;
      }
    }
    return (await this.open()).exchange(head);
  }

  private takeIdle(): Conn | undefined {
    const now = performance.now();
    for (;;) {
      const entry = this.idle.pop();
      if (!entry) return undefined;
      if (now - entry.since < IDLE_MS && entry.conn.usable) {
        entry.conn.idle(false);
        return entry.conn;
      }
      entry.conn.destroy();
    }
  }

  /** Called by a connection whose exchange ended cleanly. */
  giveBack(conn: Conn): void {
    if (this.closed || this.idle.length >= IDLE_MAX) return conn.destroy();
    conn.idle(true);
    this.idle.push({ conn, since: performance.now() });
  }

  private open(): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const conn = new Conn(this);
      const port = Number(this.base.port) || (this.base.protocol === 'https:' ? 443 : 80);
      const socket =
        this.base.protocol === 'https:'
          ? tlsConnect({ host: this.base.hostname, port, servername: this.base.hostname })
          : netConnect({
              host: this.base.hostname,
              port,
              onread: { buffer: () => conn.nextBuffer(), callback: (n, buf) => conn.onRead(buf as Buffer, n) },
            });
      socket.setNoDelay(true);
      const timer = setTimeout(() => socket.destroy(new Error('connect timeout')), this.o.connectTimeoutMs);
      const failed = (e: Error) => {
        clearTimeout(timer);
        reject(e);
      };
      socket.once('error', failed);
      socket.once(this.base.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.off('error', failed);
        conn.attach(socket, this.base.protocol === 'https:');
        resolve(conn);
      });
    });
  }

  get idleTimeoutMs(): number {
    return this.o.idleTimeoutMs;
  }

  /** Whether a body may be spliced to a client on this host (`local`) or on another. */
  splicesTo(local: boolean): boolean {
    const mode = this.o.splice ?? 'auto';
    return canSplice && (mode === 'on' || (mode === 'auto' && !local));
  }

  close(): void {
    this.closed = true;
    for (const { conn } of this.idle.splice(0)) conn.destroy();
  }
}

/** A kept connection failed before answering anything: the request may be sent again. */
class Unanswered extends Error {}

/** One connection and its current exchange (request sent, answer being read). */
class Conn {
  private socket!: Socket;
  /** The buffer the next plain-socket read goes into, when the last one was not handed on. */
  private spare: Buffer | undefined;
  private parser: Parser | undefined;
  private tls = false;
  usable = true;

  constructor(readonly client: Http1Client) {}

  attach(socket: Socket, tls: boolean): void {
    this.socket = socket;
    this.tls = tls;
    if (tls) socket.on('data', (c: Buffer) => this.onData(c, 0, c.length, true));
    socket.on('error', (e) => this.fail(e));
    socket.on('close', () => this.fail(new Error('the backend closed the connection')));
    socket.on('timeout', () => this.parser === undefined && this.destroy()); // idle too long (see idle())
    // Flowing, so that the end of the stream (no data events with onread) is seen and the socket closes.
    if (!tls) socket.on('end', () => undefined);
    socket.resume();
  }

  nextBuffer(): Buffer {
    const b = this.spare ?? this.client.pool.take(READ_BYTES);
    this.spare = undefined;
    return b;
  }

  /** A plain socket's read of `n` bytes into `buf` (a pool buffer); false pauses reading. */
  onRead(buf: Buffer, n: number): boolean {
    return this.onData(buf, 0, n, false);
  }

  private onData(buf: Buffer, start: number, end: number, tls: boolean): boolean {
    const p = this.parser;
    if (!p) {
      // Bytes nobody asked for: the connection cannot be trusted any more.
      this.usable = false;
      this.socket.destroy();
      if (!tls) this.spare = buf;
      return false;
    }
    const fed = p.feed(buf, start, end, tls);
    const more = (fed & MORE) !== 0;
    if (!tls && (fed & HANDED_ON) === 0) this.spare = buf;
    if (tls && !more) this.socket.pause(); // a plain socket pauses on the `false` returned
    return more;
  }

  exchange(head: string): Promise<Http1Response> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => this.socket.destroy(new Error('the backend did not answer in time')),
        this.client.idleTimeoutMs,
      );
      this.parser = new Parser(this, this.client.pool, {
        head: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        fail: (e, answered) => {
          clearTimeout(timer);
          reject(answered ? e : new Unanswered(e.message));
        },
      });
      this.socket.write(head, 'latin1');
    });
  }

  /** The exchange read its whole answer: the connection may serve the next request. */
  done(keepAlive: boolean): void {
    this.parser = undefined;
    if (keepAlive && this.usable) this.client.giveBack(this);
    else this.destroy();
  }

  /** Kept idle: closed after IDLE_MS unless taken again (takeIdle skips it once destroyed). */
  idle(on: boolean): void {
    this.socket.setTimeout(on ? IDLE_MS : 0);
  }

  resume(): void {
    if (!this.socket.destroyed) this.socket.resume();
  }

  /**
   * Stops reading (at once: node's readStop) and answers the socket's descriptor, for a splice of the body's
   * rest; undefined on a TLS socket or when node shows no descriptor.
   */
  stopForSplice(): number | undefined {
    const fd = (this.socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
    if (this.tls || this.socket.destroyed || typeof fd !== 'number' || fd < 0) return undefined;
    this.socket.pause();
    return fd;
  }

  destroy(): void {
    this.usable = false;
    this.socket?.destroy();
  }

  private fail(e: Error): void {
    this.usable = false;
    const p = this.parser;
    this.parser = undefined;
    p?.fail(e);
  }
}

/** Parser.feed's answer, bits: the buffer is now the body's (not to be read into again); keep reading. */
const HANDED_ON = 1;
const MORE = 2;

interface ParserEvents {
  head(r: Http1Response): void;
  fail(e: Error, answered: boolean): void;
}

/** Reads one answer: its head, then its body (streamed when 2xx with Content-Length, else whole). */
class Parser {
  private headBytes: Buffer | undefined;
  private body: ResponseBody | undefined;
  /** Body bytes still to come (streamed), or the collected bytes of a body read whole. */
  private remaining = 0;
  private whole: { chunks: Buffer[]; n: number; kept: number; res: Http1Response; chunked: boolean } | undefined;
  private answered = false;
  private keepAlive = true;
  /** The body's rest went to a splice: no byte may come through here any more. */
  private spliced = false;

  constructor(
    private readonly conn: Conn,
    private readonly pool: BufferPool,
    private readonly on: ParserEvents,
  ) {}

  /** HANDED_ON | MORE bits (a number, not an object: this runs once per 256 KiB read). */
  feed(buf: Buffer, start: number, end: number, tls: boolean): number {
    if (this.spliced) {
      this.error(new Error('the backend connection was read during a splice'));
      return 0;
    }
    if (this.body) return this.bodyBytes(buf, start, end, tls);
    if (this.whole) {
      this.wholeBytes(buf.subarray(start, end));
      return MORE;
    }
    // Head: copied (it is small), then whatever follows it in this read is body.
    const seen = this.headBytes ? Buffer.concat([this.headBytes, buf.subarray(start, end)]) : buf.subarray(start, end);
    const at = seen.indexOf('\r\n\r\n');
    if (at < 0) {
      if (seen.length > HEAD_MAX) this.error(new Error('the backend sent an answer head longer than 64 KiB'));
      else this.headBytes = Buffer.from(seen);
      return MORE;
    }
    const headEnd = seen.length - (end - start); // where this read starts within `seen`
    const res = this.parseHead(seen.toString('latin1', 0, at));
    if (!res) return 0;
    this.headBytes = undefined;
    const rest = at + 4 - headEnd; // offset in this read where the body starts (may be < 0: never, head ends here)
    const bodyStart = start + Math.max(0, rest);
    if (res.body) {
      this.on.head(res);
      if (bodyStart < end) {
        // The first body bytes share a buffer with the head: a copy of them, so the buffer can be read into again.
        return this.bodyBytes(Buffer.from(buf.subarray(bodyStart, end)), 0, end - bodyStart, true) & MORE;
      }
      if (this.remaining === 0) this.finishBody();
      return MORE;
    }
    this.wholeBytes(buf.subarray(bodyStart, end));
    return MORE;
  }

  private parseHead(text: string): Http1Response | undefined {
    const lines = text.split('\r\n');
    const m = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0] ?? '');
    if (!m) {
      this.error(new Error('the backend did not answer in HTTP/1.x'));
      return undefined;
    }
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    this.answered = true;
    const status = Number(m[2]);
    this.keepAlive =
      m[1] === '1' ? !/\bclose\b/i.test(headers.connection ?? '') : /keep-alive/i.test(headers.connection ?? '');
    const chunked = /\bchunked\b/i.test(headers['transfer-encoding'] ?? '');
    const length = headers['content-length'];
    const res: Http1Response = { status, headers };
    if (status >= 200 && status < 300 && !chunked && length !== undefined && /^\d+$/.test(length)) {
      this.remaining = Number(length);
      this.body = new ResponseBody(this.conn, this.pool, () => this.handOver());
      res.body = this.body;
      return res;
    }
    this.whole = { chunks: [], n: 0, kept: 0, res, chunked };
    if (!chunked && length !== undefined) this.remaining = Number(length) || 0;
    else if (!chunked) this.keepAlive = false; // read to the end of the connection
    return res;
  }

  private bodyBytes(buf: Buffer, start: number, end: number, tls: boolean): number {
    const body = this.body!;
    const n = end - start;
    if (n > this.remaining) {
      this.error(new Error('the backend sent more bytes than its Content-Length'));
      return 0;
    }
    this.remaining -= n;
    // A full read is the pool's buffer itself (no view object made for it).
    const more = body.deliver(tls ? buf.subarray(start, end) : n === buf.length ? buf : buf.subarray(0, n));
    if (this.remaining === 0) this.finishBody();
    return more || this.remaining === 0 ? HANDED_ON | MORE : HANDED_ON;
  }

  /**
   * The body's unread rest for a splice: reading stops, and `end` settles the exchange (done: the
   * connection serves the next request; failed: it is closed). Undefined when too little is left or the
   * socket cannot be spliced (TLS).
   */
  handOver(): BodyRest | undefined {
    if (!this.body || this.spliced || this.remaining < SPLICE_MIN) return undefined;
    const fd = this.conn.stopForSplice();
    if (fd === undefined) return undefined;
    this.spliced = true;
    return {
      fd,
      bytes: this.remaining,
      end: (ok) => {
        if (!ok) return this.conn.destroy();
        this.remaining = 0;
        this.body?.finished();
        this.conn.done(this.keepAlive);
        this.conn.resume(); // an idle connection reads, so that the backend closing it is seen
      },
    };
  }

  private finishBody(): void {
    this.body?.deliver(null);
    this.body?.finished();
    this.conn.done(this.keepAlive);
  }

  /** A body read whole: by Content-Length, chunked (decoded once complete), or to the connection's end. */
  private wholeBytes(bytes: Buffer): void {
    const w = this.whole!;
    w.n += bytes.length;
    if (w.kept + bytes.length <= WHOLE_MAX * 2) {
      w.chunks.push(Buffer.from(bytes));
      w.kept += bytes.length;
    }
    if (w.chunked) {
      const decoded = dechunk(Buffer.concat(w.chunks));
      if (decoded) return this.finishWhole(decoded);
      if (w.kept >= WHOLE_MAX * 2) this.error(new Error('the backend sent a chunked answer longer than 2 MiB'));
      return;
    }
    if (this.keepAlive && w.n >= this.remaining) this.finishWhole(Buffer.concat(w.chunks).subarray(0, this.remaining));
  }

  private finishWhole(bytes: Buffer): void {
    const w = this.whole!;
    w.res.whole = bytes.subarray(0, WHOLE_MAX);
    this.whole = undefined;
    this.conn.done(this.keepAlive);
    this.on.head(w.res);
  }

  private error(e: Error): void {
    this.conn.destroy(); // its 'close' calls fail()
    this.fail(e);
  }

  /** The connection ended or failed. */
  fail(e: Error): void {
    if (this.whole && !this.keepAlive && !this.whole.chunked) {
      // An answer without framing ends with its connection.
      const w = this.whole;
      this.whole = undefined;
      w.res.whole = Buffer.concat(w.chunks).subarray(0, WHOLE_MAX);
      return this.on.head(w.res);
    }
    if (this.body) {
      if (!this.body.readableEnded) this.body.destroy(e);
      return;
    }
    if (this.whole || !this.body) this.on.fail(e, this.answered);
  }
}

/** A complete chunked body decoded, or undefined while incomplete. Chunk extensions and trailers are skipped. */
function dechunk(raw: Buffer): Buffer | undefined {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = raw.indexOf('\r\n', at);
    if (eol < 0) return undefined;
    const size = Number.parseInt(raw.toString('latin1', at, eol).split(';')[0], 16);
    if (!Number.isFinite(size)) return Buffer.alloc(0);
    if (size === 0) return raw.indexOf('\r\n\r\n', eol) >= 0 || raw.length >= eol + 4 ? Buffer.concat(out) : undefined;
    if (raw.length < eol + 2 + size + 2) return undefined;
    out.push(raw.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

/** A body's unread rest, taken for a splice: the socket's descriptor, the bytes left, and how it ended. */
interface BodyRest {
  fd: number;
  bytes: number;
  end(ok: boolean): void;
}

/**
 * An answer's body. Its chunks are the pool's buffers (plain sockets): given back by the HTTP layer once
 * written to the client (`recycle`). Reading pauses while the consumer is behind (backpressure); destroyed
 * before its end, the connection goes with it (it cannot serve another request mid-body). Read as a stream,
 * or pushed chunk by chunk into a sink (`pushTo`: the HTTP layer's writes to the client's socket), which skips
 * the Readable's buffer, 'data' events and read() calls per chunk.
 */
export class ResponseBody extends Readable implements RecyclingBody, SplicingBody, PushingBody {
  private complete = false;
  /** Reading stopped for a splice: _read must not start the socket again. */
  private spliced = false;
  /** Chunks go here as they arrive instead of into the stream (pushTo). */
  private sink: ChunkSink | undefined;
  /** The parser delivered the end. */
  private ended = false;

  constructor(
    private readonly conn: Conn,
    private readonly pool: BufferPool,
    /** The parser's hand-over of the unread rest (Parser.handOver). */
    private readonly rest: () => BodyRest | undefined,
  ) {
    super({ highWaterMark: 4 * READ_BYTES });
  }

  override _read(): void {
    if (!this.spliced) this.conn.resume();
  }

  /** The parser's chunk (null: the end), to the sink or the stream; false: stop reading the socket for now. */
  deliver(chunk: Buffer | null): boolean {
    const sink = this.sink;
    if (chunk === null) {
      this.ended = true;
      if (!sink) return this.push(null);
      sink.end();
      return false;
    }
    return sink ? sink.write(chunk) : this.push(chunk);
  }

  pushTo(sink: ChunkSink): { resume(): void } | undefined {
    if (this.sink || this.spliced || this.destroyed || this.readableEnded || this.readableFlowing !== null)
      return undefined;
    // A failure now reaches the sink (_destroy); the stream's own 'error' event then has nobody to tell.
    this.on('error', () => undefined);
    this.sink = sink;
    // What the stream holds already (at most its high-water mark and a read) goes first.
    for (let c: Buffer | null = this.read(); c !== null; c = this.read()) sink.write(c);
    if (this.ended) sink.end();
    else this.conn.resume();
    return {
      resume: () => {
        if (!this.destroyed) this.conn.resume();
      },
    };
  }

  spliceInto(to: { local: boolean }): SpliceHandOver | undefined {
    if (!this.conn.client.splicesTo(to.local) || this.destroyed || this.readableEnded || this.complete)
      return undefined;
    const rest = this.rest();
    if (!rest) return undefined;
    this.spliced = true;
    // What was read before the hand-over (at most the high-water mark and a read) goes first, through node.
    const buffered: Buffer[] = [];
    for (let c: Buffer | null = this.read(); c !== null; c = this.read()) buffered.push(c);
    return {
      buffered,
      bytes: rest.bytes,
      run: async (toFd) => {
        try {
          await spliceSockets(rest.fd, toFd, rest.bytes, this.conn.client.idleTimeoutMs);
        } catch (e) {
          rest.end(false);
          this.destroy(e as Error);
          throw e;
        }
        rest.end(true);
      },
      cancel: () => {
        rest.end(false);
        this.destroy();
      },
    };
  }

  recycle(chunk: Buffer): void {
    if (chunk.byteOffset !== 0 || chunk.buffer.byteLength !== READ_BYTES) return;
    this.pool.give(chunk.length === READ_BYTES ? chunk : Buffer.from(chunk.buffer, 0, READ_BYTES));
  }

  finished(): void {
    this.complete = true;
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    if (!this.complete) this.conn.destroy();
    if (err && this.sink && !this.ended) this.sink.fail(err);
    cb(err);
  }
}
