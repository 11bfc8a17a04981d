// A lean HTTP/1.1 client connection for the generator. node:http's ClientRequest costs about as much CPU
// per request as a small server spends answering it, which would make the generator the bottleneck on a
// 2-core machine; this speaks just what S3 needs: one request at a time per keep-alive socket, request
// head and body in one corked write, responses read into a reused buffer (no allocation per read),
// bodies counted by Content-Length or chunked framing and dropped.
import net from 'node:net';
import tls from 'node:tls';

export interface RawResponse {
  status: number;
  /** Body bytes received (framing excluded). */
  bytes: number;
  /** The start of the body when the status is not 2xx. */
  errorText?: string;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
const READ_BUFFER = 256 * 1024;

type BodyState =
  | { kind: 'length'; left: number }
  | { kind: 'chunked'; step: 'size' | 'data' | 'crlf' | 'trailer'; left: number; line: string }
  | { kind: 'close' };

interface Pending {
  isHead: boolean;
  resolve(r: RawResponse): void;
  reject(e: Error): void;
  status: number;
  bytes: number;
  errorText?: string;
  keepAlive: boolean;
  body?: BodyState;
}

export class Http1Connection {
  private socket?: net.Socket;
  private pending?: Pending;
  /** Bytes of a response head split across reads (copied: the read buffer is reused). */
  private headPart?: Buffer;
  private readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER);

  constructor(
    private readonly url: URL,
    private readonly ca?: string,
  ) {}

  /** Sends one request (head already formatted, ending in CRLFCRLF; body in pieces) and resolves with the counted response. */
  request(head: string, body: Buffer[], isHead: boolean): Promise<RawResponse> {
    if (this.pending) return Promise.reject(new Error('connection busy'));
    return new Promise<RawResponse>((resolve, reject) => {
      this.pending = { isHead, resolve, reject, status: 0, bytes: 0, keepAlive: true };
      const s = this.socket ?? this.open();
      s.cork();
      s.write(head, 'latin1');
      for (const b of body) if (b.length > 0) s.write(b);
      s.uncork();
    });
  }

  /** Opens the socket ahead of the first request, so connecting is not timed. */
  warmUp(): Promise<void> {
    const s = this.socket ?? this.open();
    if (!s.connecting) return Promise.resolve();
    return new Promise((resolve, reject) => {
      s.once(this.url.protocol === 'https:' ? 'secureConnect' : 'connect', () => resolve());
      s.once('error', reject);
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private open(): net.Socket {
    const port = Number(this.url.port) || (this.url.protocol === 'https:' ? 443 : 80);
    const host = this.url.hostname.replace(/^\[|\]$/g, '');
    // Reads land in one buffer of ours (onread), over TLS too: a 'data' event per TLS record (16 KiB) would
    // allocate a Buffer each and cost the generator twice the CPU per GiB (bench/load/tls-split.ts).
    const onread = {
      buffer: this.readBuffer,
      callback: (n: number) => {
        this.onData(this.readBuffer.subarray(0, n));
        return true;
      },
    };
    const s =
      this.url.protocol === 'https:'
        ? // tls.connect documents onread (as net.connect's); @types/node does not list it.
          tls.connect({
            host,
            port,
            ca: this.ca,
            servername: net.isIP(host) ? undefined : host,
            onread,
          } as tls.ConnectionOptions)
        : net.connect({ host, port, noDelay: true, onread });
    s.setNoDelay(true);
    // Events of a socket this connection already let go of (closed after a response) concern no request.
    s.on('error', (err) => {
      if (this.socket === s) this.fail(err);
    });
    s.on('close', () => {
      if (this.socket !== s) return;
      this.socket = undefined;
      const p = this.pending;
      if (p?.body?.kind === 'close') this.finish();
      else if (p) this.fail(new Error('connection closed before the response ended'));
    });
    this.socket = s;
    return s;
  }

  private fail(err: Error): void {
    const p = this.pending;
    this.pending = undefined;
    this.headPart = undefined;
    this.close();
    p?.reject(err);
  }

  private finish(): void {
    const p = this.pending!;
    this.pending = undefined;
    if (!p.keepAlive) this.close();
    p.resolve({ status: p.status, bytes: p.bytes, errorText: p.errorText });
  }

  private onData(chunk: Buffer): void {
    let data = chunk;
    while (data.length > 0) {
      const p = this.pending;
      if (!p) return this.fail(new Error('unexpected bytes from the server'));
      if (!p.body) {
        const rest = this.readHead(p, data);
        if (rest === undefined) return;
        data = rest; // after a 1xx head the real head follows; after a bodiless response, nothing
        continue;
      }
      data = this.readBody(p, data);
    }
  }

  /** Parses the response head; returns the bytes after it, or undefined when more are needed. */
  private readHead(p: Pending, data: Buffer): Buffer | undefined {
    const buf = this.headPart ? Buffer.concat([this.headPart, data]) : data;
    const end = buf.indexOf(CRLFCRLF);
    if (end < 0) {
      if (buf.length > 64 * 1024) this.fail(new Error('response head too large'));
      else this.headPart = Buffer.from(buf);
      return undefined;
    }
    this.headPart = undefined;
    const head = buf.toString('latin1', 0, end + 2);
    const rest = buf.subarray(end + 4);
    const status = Number(head.slice(9, 12));
    if (!(status >= 100 && status < 600)) {
      this.fail(new Error(`bad status line: ${head.slice(0, 40)}`));
      return undefined;
    }
    if (status < 200) return rest; // 100 Continue and friends: the real head follows
    p.status = status;
    if (status >= 300) p.errorText = '';
    p.keepAlive = !/\r\nconnection:[ \t]*close\r\n/i.test(head) && head.startsWith('HTTP/1.1');
    const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
    if (p.isHead || status === 204 || status === 304) p.body = { kind: 'length', left: 0 };
    else if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(head))
      p.body = { kind: 'chunked', step: 'size', left: 0, line: '' };
    else if (length) p.body = { kind: 'length', left: Number(length[1]) };
    else {
      p.body = { kind: 'close' };
      p.keepAlive = false;
    }
    if (p.body.kind === 'length' && p.body.left === 0) {
      this.finish();
      if (rest.length > 0) this.fail(new Error('unexpected bytes after the response'));
      return Buffer.alloc(0);
    }
    return rest;
  }

  private count(p: Pending, data: Buffer): void {
    p.bytes += data.length;
    if (p.errorText !== undefined && p.errorText.length < 600) p.errorText += data.toString('utf8', 0, 600);
  }

  /** Consumes body bytes; returns what is left over (nothing, unless the framing is broken). */
  private readBody(p: Pending, data: Buffer): Buffer {
    const b = p.body!;
    if (b.kind === 'close') {
      this.count(p, data);
      return Buffer.alloc(0);
    }
    if (b.kind === 'length') {
      const n = Math.min(b.left, data.length);
      this.count(p, data.subarray(0, n));
      b.left -= n;
      if (b.left === 0) {
        this.finish();
        if (n < data.length) this.fail(new Error('unexpected bytes after the response'));
      }
      return Buffer.alloc(0);
    }
    // chunked: size line, data, CRLF, ... 0-size line, trailer lines, empty line
    let i = 0;
    while (i < data.length) {
      if (b.step === 'data') {
        const n = Math.min(b.left, data.length - i);
        this.count(p, data.subarray(i, i + n));
        b.left -= n;
        i += n;
        if (b.left === 0) {
          b.step = 'crlf';
          b.left = 2;
        }
      } else if (b.step === 'crlf') {
        const n = Math.min(b.left, data.length - i);
        b.left -= n;
        i += n;
        if (b.left === 0) b.step = 'size';
      } else {
        const nl = data.indexOf(10, i);
        const stop = nl < 0 ? data.length : nl;
        b.line += data.toString('latin1', i, stop);
        i = stop + (nl < 0 ? 0 : 1);
        if (nl < 0) break;
        const line = b.line.replace(/\r$/, '');
        b.line = '';
        if (b.step === 'size') {
          const size = parseInt(line.split(';')[0], 16);
          if (Number.isNaN(size)) {
            this.fail(new Error(`bad chunk size line: ${line.slice(0, 20)}`));
            return Buffer.alloc(0);
          }
          if (size === 0) b.step = 'trailer';
          else {
            b.step = 'data';
            b.left = size;
          }
        } else if (line === '') {
          this.finish();
          if (i < data.length) this.fail(new Error('unexpected bytes after the response'));
          return Buffer.alloc(0);
        }
      }
    }
    return Buffer.alloc(0);
  }
}
