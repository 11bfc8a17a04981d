// The S3 listener's TLS done by the addon's rustls (CAIRN_TLS_ENGINE=rustls, http/rustls-socket.ts) with real
// clients: large objects up and down byte-exact (whole, ranges, several GETs at once, keep-alive), what a
// TLSSocket tells Cairn (TLS version, aws:SecureTransport), ALPN, a client cut mid-GET, a PUT whose records are
// changed on the way (nothing stored), TLS 1.2 suites rustls does not offer (CBC) refused where node's OpenSSL
// takes them, and CAIRN_TLS_ENGINE's unknown values refused.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent } from 'node:https';
import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '@cairn/server';
import { startWithBucket, type TestSetup } from '../helpers/cairn.js';
import { install, issue, makeCa, type TestCa } from '../helpers/tls.js';

let base: string;
let ca: TestCa;
let certs: string;
let setup: TestSetup;
const env = { ...process.env, CAIRN_TLS_ENGINE: 'rustls' };
const big = randomBytes((24 << 20) + 12_345);

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'cairn-rustls-'));
  ca = await makeCa(join(base, 'ca'));
  certs = join(base, 'certs');
  await install(certs, await issue(ca, ['127.0.0.1', 'localhost'], 'ecdsa'));
  setup = await startWithBucket('rustls', {
    certsDir: certs,
    env,
    client: { extra: { requestHandler: { httpsAgent: new Agent({ ca: ca.pem, keepAlive: true, maxSockets: 8 }) } } },
  });
  await setup.s3.send(new PutObjectCommand({ Bucket: 'rustls', Key: 'big', Body: big }));
});

afterAll(async () => {
  await setup?.server.close();
  await rm(base, { recursive: true, force: true });
});

const port = () => Number(new URL(setup.server.url).port);

function tlsConnect(opts: ConnectionOptions = {}): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: port(), ca: ca.pem, ...opts }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** One HTTP/1.1 request over `socket`; resolves with the whole answer as text once the server closes. */
function rawRequest(socket: TLSSocket, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    socket.on('data', (b: Buffer) => parts.push(b));
    socket.once('end', () => resolve(Buffer.concat(parts).toString('latin1')));
    socket.once('error', reject);
    socket.write(head);
  });
}

describe('HTTPS with CAIRN_TLS_ENGINE=rustls', () => {
  it('is the engine the server runs', () => {
    expect(setup.server.tls?.engine).toBe('rustls');
    expect(setup.server.url).toMatch(/^https:/);
  });

  it('PUT and GET of a 24 MiB object byte-exact: whole, ranges, four GETs at once on kept-alive connections', async () => {
    const get = async (range?: string) => {
      const r = await setup.s3.send(new GetObjectCommand({ Bucket: 'rustls', Key: 'big', Range: range }));
      return Buffer.from(await r.Body!.transformToByteArray());
    };
    expect((await get()).equals(big)).toBe(true);
    for (const [a, b] of [
      [0, 0],
      [16_383, 16_384],
      [1 << 20, (5 << 20) + 3],
      [big.length - 100, big.length - 1],
    ]) {
      expect((await get(`bytes=${a}-${b}`)).equals(big.subarray(a, b + 1))).toBe(true);
    }
    const all = await Promise.all([get(), get(), get('bytes=7-999999'), get()]);
    expect(all[0].equals(big) && all[1].equals(big) && all[3].equals(big)).toBe(true);
    expect(all[2].equals(big.subarray(7, 1_000_000))).toBe(true);
  });

  it('tells the request its TLS version, answers over ALPN http/1.1, closes with close_notify', async () => {
    for (const maxVersion of ['TLSv1.2', 'TLSv1.3'] as const) {
      const socket = await tlsConnect({ maxVersion, ALPNProtocols: ['h2', 'http/1.1'] });
      expect(socket.getProtocol()).toBe(maxVersion);
      expect(socket.alpnProtocol).toBe('http/1.1');
      // Anonymous: AccessDenied, an S3 answer through the whole stack.
      const answer = await rawRequest(
        socket,
        'GET /rustls/big HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
      );
      expect(answer).toMatch(/^HTTP\/1\.1 403/);
      expect(answer).toContain('<Code>AccessDenied</Code>');
    }
  });

  it('refuses a TLS 1.2 client offering only CBC suites (node:tls would take it), and keeps serving', async () => {
    await expect(
      tlsConnect({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA384' }),
    ).rejects.toThrow();
    const r = await setup.s3.send(new GetObjectCommand({ Bucket: 'rustls', Key: 'big', Range: 'bytes=0-9' }));
    expect(Buffer.from(await r.Body!.transformToByteArray()).equals(big.subarray(0, 10))).toBe(true);
  });

  it('a client that cuts the connection in the middle of a GET leaves the server serving', async () => {
    const url = new URL(
      await getSignedUrl(setup.s3, new GetObjectCommand({ Bucket: 'rustls', Key: 'big' }), { expiresIn: 300 }),
    );
    const socket = await tlsConnect();
    let got = 0;
    await new Promise<void>((resolve) => {
      socket.on('data', (b: Buffer) => {
        got += b.length;
        if (got > 1 << 20) {
          socket.destroy();
          resolve();
        }
      });
      socket.on('close', () => resolve());
      socket.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`);
    });
    expect(got).toBeGreaterThan(1 << 20);
    const again = await setup.s3.send(new GetObjectCommand({ Bucket: 'rustls', Key: 'big' }));
    expect(Buffer.from(await again.Body!.transformToByteArray()).equals(big)).toBe(true);
  });

  it('a PUT whose TLS records are changed on the way fails, stores nothing, and the server keeps serving', async () => {
    // A TCP proxy that flips one bit of the client's bytes 300 KiB in (inside a record of the PUT's body).
    const proxy = createServer((client: Socket) => {
      const upstream = tcpConnect(port(), '127.0.0.1');
      let seen = 0;
      client.on('data', (b: Buffer) => {
        const at = 300 * 1024 - seen;
        if (at >= 0 && at < b.length) b[at] ^= 0x10;
        seen += b.length;
        upstream.write(b);
      });
      upstream.pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const url = new URL(
      await getSignedUrl(setup.s3, new PutObjectCommand({ Bucket: 'rustls', Key: 'tampered' }), { expiresIn: 300 }),
    );
    const body = big.subarray(0, 1 << 20);
    const socket = connect({ host: '127.0.0.1', port: (proxy.address() as { port: number }).port, ca: ca.pem });
    const answer = await new Promise<string>((resolve) => {
      const parts: Buffer[] = [];
      socket.on('data', (b: Buffer) => parts.push(b));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(Buffer.concat(parts).toString('latin1')));
      socket.once('secureConnect', () => {
        socket.write(
          `PUT ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Length: ${body.length}\r\n\r\n`,
        );
        socket.write(body);
      });
    });
    // No HTTP answer: the server's TLS saw a record that does not authenticate and closed (bad_record_mac).
    expect(answer).toBe('');
    proxy.close();
    await expect(setup.s3.send(new HeadObjectCommand({ Bucket: 'rustls', Key: 'tampered' }))).rejects.toMatchObject({
      name: 'NotFound',
    });
    const r = await setup.s3.send(new GetObjectCommand({ Bucket: 'rustls', Key: 'big', Range: 'bytes=0-9' }));
    expect(Buffer.from(await r.Body!.transformToByteArray()).equals(big.subarray(0, 10))).toBe(true);
  });

  it('refuses an unknown CAIRN_TLS_ENGINE at start', async () => {
    for (const value of ['openssl', 'RUSTLS', 'rustls ']) {
      await expect(
        startServer({
          address: '127.0.0.1:0',
          drives: [join(base, 'x1'), join(base, 'x2'), join(base, 'x3'), join(base, 'x4')],
          certsDir: certs,
          env: { ...process.env, CAIRN_TLS_ENGINE: value },
        }),
      ).rejects.toThrow(/CAIRN_TLS_ENGINE must be one of node, rustls/);
    }
  });
});
