// HTTPS with the addon's rustls (CAIRN_TLS_ENGINE=rustls): each TCP connection the HTTP server accepts is wrapped in
// a RustlsSocket, a Duplex whose TLS is done by @cairn/native's TlsConnection (sans-I/O: this file moves the
// bytes), and handed to the HTTP server once the handshake is done, as node's https server hands it a TLSSocket.
// What Cairn reads of a TLSSocket is there: `encrypted`, `getProtocol()`, `authorized` / `authorizationError`
// (mutual TLS between the nodes), `getPeerX509Certificate()`, `alpnProtocol`, `servername`, and the net.Socket
// parts node's HTTP server and fastify use (addresses, timeouts, no-delay, keep-alive).
//
// Why: node's TLS seals records with OpenSSL at ~2 GB/s on this CPU and copies each record twice on the way; ring's
// AES-GCM runs at ~5.7 GB/s and `seal` cuts a whole written Buffer into records in one call (bench/load/README.md,
// "HTTPS with rustls"). Sealing stays on the event loop: at most SEAL_SLICE bytes per turn (~0.2 ms at the
// measured rate), the rest after a setImmediate.
import { X509Certificate } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { TlsConnection, type TlsServerConfig } from '@cairn/native';

/** As node's tls.Server: a client that has not finished its handshake by then is cut. */
const HANDSHAKE_TIMEOUT_MS = 120_000;
/** Plaintext sealed per turn of the event loop. */
const SEAL_SLICE = 1 << 20;
/**
 * Plaintext per native call: rustls holds the records of one call in memory of its own until they are copied out,
 * and 64 of them (1 MiB) at once cost glibc fresh pages every call (seal 0.9 GB/s by CPU time against 4.3 GB/s in
 * 64 KiB calls: bench/load/tls-seal.ts).
 */
const SEAL_CALL = 64 * 1024;

type WriteCallback = (error?: Error | null) => void;

/** Sealed records of one slice; reused (fresh memory per write cost more in page faults than the encryption). */
const OUT_SIZE = TlsConnection.sealBound(SEAL_SLICE) + 4096;
/** Output buffers kept for reuse by this thread's connections. */
const POOL_MAX = 32;
const pool: Buffer[] = [];
const outBuffer = (): Buffer => pool.pop() ?? Buffer.allocUnsafeSlow(OUT_SIZE);
const giveBack = (b: Buffer): void => {
  if (pool.length < POOL_MAX) pool.push(b);
};

/**
 * What `feedInto` may write beyond the length of the TLS bytes fed (one record begun by earlier bytes). Each
 * socket read's plaintext goes into memory of its own, as node's own reads do: the HTTP parser and the handlers
 * may keep it, so none is reused. Allocated by V8 (which counts it) at most 64 + 16 KiB, under glibc's mmap
 * threshold (fixed at 128 KiB by `cairn server`), so from the heap, not fresh pages: a Vec per read made by the
 * addon and handed over as an external Buffer (128 KiB+ after growing) cost more in page faults than the
 * decryption, and held +130 MB under 64 MiB PUTs (bench/load/README.md).
 */
const FEED_EXTRA = TlsConnection.feedBound(0);

export class RustlsSocket extends Duplex {
  readonly encrypted = true;
  /** The client's certificate chains to the CAs asked for (mutual TLS between the nodes); set at the handshake. */
  authorized = false;
  authorizationError?: string;
  readonly #tls = new TlsConnection();
  #secured = false;
  /** The first bytes the client sent (its ClientHello's record and handshake headers and legacy_version). */
  #head?: Buffer;

  constructor(
    readonly raw: Socket,
    choose: (servername: string | null | undefined) => TlsServerConfig,
    onSecure: (socket: RustlsSocket) => void,
  ) {
    super({ allowHalfOpen: true });
    raw.setTimeout(HANDSHAKE_TIMEOUT_MS);
    raw.on('timeout', () => {
      if (this.#secured) this.emit('timeout');
      else this.destroy();
    });
    raw.on('data', (chunk: Buffer) => {
      this.#head ??= Buffer.from(chunk.subarray(0, 11));
      let plain: Buffer | null;
      try {
        if (this.#secured) {
          const room = Buffer.allocUnsafeSlow(chunk.length + FEED_EXTRA);
          const n = this.#tls.feedInto(chunk, room);
          plain = n > 0 ? room.subarray(0, n) : null;
        } else plain = this.#tls.feed(chunk);
        if (this.#tls.wantsConfig) {
          const early = this.#tls.accept(choose(this.#tls.serverName));
          plain = plain ? Buffer.concat([plain, ...(early ? [early] : [])]) : early;
        }
      } catch (e) {
        this.#failed(e as Error);
        return;
      }
      const out = this.#tls.take();
      if (out) raw.write(out);
      if (!this.#secured && !this.#tls.handshaking) {
        this.#secured = true;
        raw.setTimeout(0);
        const why = this.#tls.peerError();
        this.authorized = why === null;
        this.authorizationError = why ?? undefined;
        onSecure(this);
      }
      if (plain && !this.push(plain)) raw.pause();
      if (this.#tls.peerClosed) this.push(null);
    });
    raw.on('end', () => {
      if (this.#secured) this.push(null);
      else this.destroy();
    });
    raw.on('error', (e) => this.destroy(this.#secured ? e : undefined));
    raw.on('close', () => this.destroy());
  }

  /** A TLS failure: the alert (if any) goes to the peer, the connection ends. */
  #failed(e: Error): void {
    let alert = this.#tls.take();
    // A client offering TLS 1.1 or older (its ClientHello's legacy_version below 1.2): rustls refuses it for want
    // of the signature_algorithms extension (handshake_failure); node:tls and MinIO say protocol_version.
    const h = this.#head;
    if (!this.#secured && h && h.length >= 11 && h[0] === 0x16 && h[5] === 0x01 && h.readUInt16BE(9) < 0x0303)
      alert = Buffer.from([0x15, h[1], h[2], 0x00, 0x02, 0x02, 70]);
    if (alert && this.raw.writable) this.raw.end(alert);
    // Before the handshake nobody listens for errors on this socket (node's tls.Server says tlsClientError).
    this.destroy(this.#secured ? e : undefined);
  }

  override _read(): void {
    this.raw.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: WriteCallback): void {
    this.#send([chunk], 0, 0, callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: WriteCallback): void {
    this.#send(
      chunks.map((c) => c.chunk),
      0,
      0,
      callback,
    );
  }

  /** Seals chunks[i] from `at` on, SEAL_SLICE per turn of the loop, and writes the records to the socket. */
  #send(chunks: Buffer[], i: number, at: number, callback: WriteCallback): void {
    const raw = this.raw;
    let budget = SEAL_SLICE;
    raw.cork();
    try {
      while (i < chunks.length && budget > 0) {
        const chunk = chunks[i];
        const n = Math.min(chunk.length - at, budget);
        if (n > 0) {
          // Into a pooled buffer, given back once the kernel has the records.
          const out = outBuffer();
          let sealed = 0;
          for (let from = at; from < at + n; from += SEAL_CALL) {
            const to = Math.min(from + SEAL_CALL, at + n);
            sealed += this.#tls.sealInto(chunk.subarray(from, to), out.subarray(sealed));
          }
          raw.write(out.subarray(0, sealed), () => giveBack(out));
        }
        budget -= Math.max(n, 1);
        at += n;
        if (at >= chunk.length) {
          i++;
          at = 0;
        }
      }
    } catch (e) {
      raw.uncork();
      callback(e as Error);
      return;
    }
    raw.uncork();
    const more = i < chunks.length;
    const next = more ? () => setImmediate(() => this.#send(chunks, i, at, callback)) : () => callback();
    // Up to ~2 slices wait in the socket (the next write is sealed while the kernel takes the last); more waits
    // for it to drain.
    if (raw.writableLength > SEAL_SLICE) raw.once('drain', next);
    else next();
  }

  override _final(callback: WriteCallback): void {
    this.#tls.close();
    const out = this.#tls.take();
    if (out) this.raw.end(out);
    else this.raw.end();
    callback();
  }

  override _destroy(error: Error | null, callback: WriteCallback): void {
    this.raw.destroy();
    callback(error);
  }

  // What node:tls's TLSSocket gives, as far as Cairn and node's HTTP server read it.
  getProtocol(): string | null {
    return this.#tls.protocol;
  }
  getCipher(): { name: string; standardName: string; version: string } | undefined {
    const name = this.#tls.cipher;
    return name ? { name, standardName: name, version: this.#tls.protocol ?? '' } : undefined;
  }
  get alpnProtocol(): string | false {
    return this.#tls.alpn ?? false;
  }
  get servername(): string | false {
    return this.#tls.serverName ?? false;
  }
  getPeerX509Certificate(): X509Certificate | undefined {
    const [leaf] = this.#tls.peerCertificates();
    return leaf ? new X509Certificate(leaf) : undefined;
  }

  // What net.Socket gives.
  get remoteAddress(): string | undefined {
    return this.raw.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.raw.remotePort;
  }
  get remoteFamily(): string | undefined {
    return this.raw.remoteFamily;
  }
  get localAddress(): string | undefined {
    return this.raw.localAddress;
  }
  get localPort(): number | undefined {
    return this.raw.localPort;
  }
  get bytesRead(): number {
    return this.raw.bytesRead;
  }
  get bytesWritten(): number {
    return this.raw.bytesWritten;
  }
  address(): AddressInfo | object {
    return this.raw.address();
  }
  setTimeout(ms: number, callback?: () => void): this {
    this.raw.setTimeout(ms);
    if (callback) this.once('timeout', callback);
    return this;
  }
  setNoDelay(noDelay?: boolean): this {
    this.raw.setNoDelay(noDelay);
    return this;
  }
  setKeepAlive(enable?: boolean, delay?: number): this {
    this.raw.setKeepAlive(enable, delay);
    return this;
  }
  ref(): this {
    this.raw.ref();
    return this;
  }
  unref(): this {
    this.raw.unref();
    return this;
  }
}

/**
 * Makes the (plain) HTTP server `server` speak HTTPS through rustls: each TCP connection it accepts is handed to
 * its HTTP handling as a RustlsSocket once the TLS handshake is done. `choose`: the config for a client's SNI
 * name. Call before the server listens.
 */
export function serveRustls(server: Server, choose: (servername: string | null | undefined) => TlsServerConfig): void {
  const http = server.listeners('connection') as ((socket: Duplex) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (raw: Socket) => {
    new RustlsSocket(raw, choose, (socket) => {
      for (const listener of http) listener.call(server, socket);
    });
  });
}
