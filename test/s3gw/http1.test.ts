// The S3 gateway's HTTP/1.1 client (server/src/storage/s3gw/http1.ts) against a TCP server that writes its
// answers byte for byte: heads split over writes, a body starting in the head's write, chunked error
// documents, a kept connection the server closes unanswered (sent again on a new one), a body cut short.
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Http1Client } from '../../server/src/storage/s3gw/http1.js';

interface Scripted {
  url: URL;
  /** Request heads received, per connection in order of arrival. */
  requests: string[];
  connections: number;
  close(): void;
}

/** A server answering each request with `answer(n, socket)` (n counts requests over all connections). */
async function scripted(answer: (n: number, socket: Socket) => void): Promise<Scripted> {
  const state = { requests: [] as string[], connections: 0 };
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let carry = '';
    socket.on('data', (c: Buffer) => {
      carry += c.toString('latin1');
      for (let at = carry.indexOf('\r\n\r\n'); at >= 0; at = carry.indexOf('\r\n\r\n')) {
        state.requests.push(carry.slice(0, at));
        carry = carry.slice(at + 4);
        answer(state.requests.length, socket);
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}`),
    get requests() {
      return state.requests;
    },
    get connections() {
      return state.connections;
    },
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** Writes `parts` one after the other, each in its own write, a turn of the event loop apart. */
async function writeInParts(socket: Socket, parts: (string | Buffer)[]): Promise<void> {
  for (const p of parts) {
    socket.write(p);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const opts = { connectTimeoutMs: 5000, idleTimeoutMs: 20_000 };
let server: Scripted | undefined;
let client: Http1Client | undefined;
afterEach(() => {
  client?.close();
  server?.close();
});

describe('the S3 gateway’s HTTP/1.1 client', () => {
  it('reads a head split over writes, a body begun in the head’s write, and keeps the connection', async () => {
    const body = Buffer.alloc(300_000, 7);
    server = await scripted((_, s) => {
      const head = `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nETag: "e1"\r\nx-amz-meta-a: 1\r\nx-amz-meta-a: 2\r\n\r\n`;
      void writeInParts(s, [head.slice(0, 20), `${head.slice(20)}abc`, body.subarray(3)]);
    });
    client = new Http1Client(server.url, opts);
    for (let i = 0; i < 3; i++) {
      const res = await client.get('/b/k', { host: server.url.host });
      expect(res.status).toBe(200);
      expect(res.headers).toMatchObject({ etag: '"e1"', 'x-amz-meta-a': '1, 2' });
      const got = Buffer.concat(await res.body!.toArray());
      expect(got.length).toBe(body.length);
      expect(got.subarray(0, 3).toString()).toBe('abc');
      expect(got.subarray(3).equals(body.subarray(3))).toBe(true);
    }
    expect(server.connections).toBe(1);
    expect(server.requests[0]).toMatch(/^GET \/b\/k HTTP\/1\.1\r\nhost: 127\.0\.0\.1:\d+$/);
  });

  it('reads a chunked error document whole, and the connection serves the next request', async () => {
    const xml = '<Error><Code>NoSuchKey</Code><Message>gone</Message></Error>';
    server = await scripted((n, s) => {
      if (n === 1) {
        const chunks = `${(20).toString(16)}\r\n${xml.slice(0, 20)}\r\n${(xml.length - 20).toString(16)};x=y\r\n${xml.slice(20)}\r\n0\r\n\r\n`;
        void writeInParts(s, [
          'HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n',
          chunks.slice(0, 9),
          chunks.slice(9),
        ]);
      } else s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
    client = new Http1Client(server.url, opts);
    const res = await client.get('/b/k', { host: server.url.host });
    expect(res.status).toBe(404);
    expect(res.body).toBeUndefined();
    expect(res.whole?.toString()).toBe(xml);
    const next = await client.get('/b/k', { host: server.url.host });
    expect(Buffer.concat(await next.body!.toArray()).toString()).toBe('ok');
    expect(server.connections).toBe(1);
  });

  it('sends a request again on a new connection when the kept one is closed without an answer', async () => {
    server = await scripted((n, s) => {
      if (n === 2)
        s.destroy(); // the kept connection closes as the second request arrives (a keep-alive race)
      else s.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx');
    });
    client = new Http1Client(server.url, opts);
    const first = await client.get('/one', { host: server.url.host });
    expect(Buffer.concat(await first.body!.toArray()).toString()).toBe('x');
    const second = await client.get('/two', { host: server.url.host });
    expect(Buffer.concat(await second.body!.toArray()).toString()).toBe('x');
    expect(server.connections).toBe(2);
    expect(server.requests.map((r) => r.split(' ')[1])).toEqual(['/one', '/two', '/two']);
  });

  it('fails a body cut short by the server, and one longer than its Content-Length', async () => {
    server = await scripted((n, s) => {
      if (n === 1)
        void writeInParts(s, ['HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n', 'only ten..']).then(() => s.destroy());
      else void writeInParts(s, ['HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n', 'abcdef']);
    });
    client = new Http1Client(server.url, opts);
    const cut = await client.get('/cut', { host: server.url.host });
    await expect(cut.body!.toArray()).rejects.toThrow();
    const long = await client.get('/long', { host: server.url.host });
    // The 3 bytes promised may arrive before the surplus is seen: either the body ends with them, or it fails.
    const got = await long.body!.toArray().then(
      (c) => Buffer.concat(c).toString(),
      () => 'failed',
    );
    expect(['abc', 'failed']).toContain(got);
  });

  it('a server that is not listening is an error with its code', async () => {
    server = await scripted(() => undefined);
    const { url } = server;
    server.close();
    client = new Http1Client(url, opts);
    await expect(client.get('/x', { host: url.host })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
