// TlsConnection / TlsServerConfig (rustls, sans-I/O) against node:tls's client (OpenSSL) over an in-memory pipe:
// ECDSA and RSA certificates, TLS 1.3 and 1.2, ALPN, large seals read back byte-exact, TLS 1.1 and garbage
// refused with an alert, client certificates checked against the CAs after the handshake, bad inputs refused.
import { execFile } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TlsConnection, TlsServerConfig } from '../index.js';

const run = promisify(execFile);
let dir: string;

interface Pem {
  cert: string;
  key: string;
}
let ca: Pem;
let otherCa: Pem;
const leaves: Record<string, Pem> = {};

async function openssl(args: string[]): Promise<void> {
  await run('openssl', args);
}

const keyArgs = (type: string) =>
  type === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];

async function makeCa(name: string): Promise<Pem> {
  const stem = join(dir, name);
  await openssl(
    ['req', '-x509', ...keyArgs('ec'), '-nodes', '-days', '2', '-subj', `/CN=${name}`]
      .concat(['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'])
      .concat(['-keyout', `${stem}.key`, '-out', `${stem}.crt`]),
  );
  return { cert: await readFile(`${stem}.crt`, 'utf8'), key: await readFile(`${stem}.key`, 'utf8') };
}

async function issue(name: string, by: string, type: string, usage: string): Promise<Pem> {
  const stem = join(dir, name);
  await openssl([
    'req',
    ...keyArgs(type),
    '-nodes',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    `${stem}.key`,
    '-out',
    `${stem}.csr`,
  ]);
  await writeFile(`${stem}.ext`, `subjectAltName=DNS:${name},IP:127.0.0.1\nextendedKeyUsage=${usage}\n`);
  await openssl(
    ['x509', '-req', '-in', `${stem}.csr`, '-CA', join(dir, `${by}.crt`), '-CAkey', join(dir, `${by}.key`)].concat([
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      `${stem}.ext`,
      '-out',
      `${stem}.crt`,
    ]),
  );
  return { cert: await readFile(`${stem}.crt`, 'utf8'), key: await readFile(`${stem}.key`, 'utf8') };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-native-tls-'));
  ca = await makeCa('ca');
  otherCa = await makeCa('other-ca');
  leaves.ecdsa = await issue('ecdsa.test', 'ca', 'ec', 'serverAuth');
  leaves.rsa = await issue('rsa.test', 'ca', 'rsa', 'serverAuth');
  leaves.client = await issue('client.test', 'ca', 'ec', 'clientAuth');
  leaves.stranger = await issue('stranger.test', 'other-ca', 'ec', 'clientAuth');
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Pipe {
  client: TLSSocket;
  /** The client's transport: what is pushed here, the client reads. */
  wire: Duplex;
  conn: TlsConnection;
  /** Plaintext the server side got. */
  got: Buffer[];
  /** The server's failure, if any. */
  error?: Error;
  /** Alert bytes sent after a failure. */
  alert?: Buffer;
  chosen: (string | null)[];
  /** Set: the client's bytes are kept here instead of fed to the server side. */
  held?: Buffer[];
}

/** node:tls's client over an in-memory pipe whose other end is a TlsConnection choosing `config`. */
function pipe(config: TlsServerConfig, opts: ConnectionOptions = {}): Pipe {
  const conn = new TlsConnection();
  const p: Pipe = { conn, got: [], chosen: [] } as unknown as Pipe;
  const wire = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      if (p.held) {
        p.held.push(chunk);
        return cb();
      }
      try {
        // As the server does: feed until the handshake is done, then feedInto memory of the caller's.
        let plain = conn.handshaking ? conn.feed(chunk) : open(conn, chunk);
        if (conn.wantsConfig) {
          p.chosen.push(conn.serverName);
          plain = conn.accept(config) ?? plain;
        }
        if (plain) p.got.push(plain);
      } catch (e) {
        p.error = e as Error;
        p.alert = conn.take() ?? undefined;
        if (p.alert) this.push(p.alert);
        this.push(null);
        return cb();
      }
      const out = conn.take();
      if (out) this.push(out);
      cb();
    },
  });
  p.wire = wire;
  p.client = connect({ socket: wire, ca: ca.cert, servername: 'ecdsa.test', ...opts });
  p.client.on('error', () => undefined);
  return p;
}

/** Both sides done with the handshake (in TLS 1.3 the client is done first: its last flight is still on its way). */
async function secure(p: Pipe): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    p.client.once('secureConnect', () => resolve());
    p.client.once('error', reject);
    p.client.once('close', () => reject(new Error(`closed: ${p.error?.message}`)));
  });
  await expect.poll(() => p.conn.handshaking).toBe(false);
}

/** The plaintext `tls` bytes complete (feedInto a buffer of the room feedBound says); null when none. */
function open(conn: TlsConnection, tls: Buffer): Buffer | null {
  const out = Buffer.alloc(TlsConnection.feedBound(tls.length));
  const n = conn.feedInto(tls, out);
  return n > 0 ? out.subarray(0, n) : null;
}

/** `data` sealed by `conn` (sealInto a buffer of the room sealBound says). */
function seal(conn: TlsConnection, data: Buffer): Buffer {
  const out = Buffer.alloc(TlsConnection.sealBound(data.length));
  return out.subarray(0, conn.sealInto(data, out));
}

/** Sends `data` sealed by the server side (one seal) to the client and reads it back there. */
async function serverToClient(p: Pipe, data: Buffer): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  const done = new Promise<void>((resolve) => {
    p.client.on('data', (b: Buffer) => {
      parts.push(b);
      n += b.length;
      if (n >= data.length) resolve();
    });
  });
  p.wire.push(seal(p.conn, data));
  await done;
  return Buffer.concat(parts);
}

describe('TlsConnection (rustls) with node:tls as the client', () => {
  for (const type of ['ecdsa', 'rsa'] as const) {
    for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
      it(`${type} certificate, ${version}: handshake, ALPN http/1.1, both directions byte-exact`, async () => {
        const config = new TlsServerConfig(Buffer.from(leaves[type].cert), Buffer.from(leaves[type].key));
        const p = pipe(config, { servername: `${type}.test`, maxVersion: version, ALPNProtocols: ['h2', 'http/1.1'] });
        await secure(p);
        expect(p.chosen).toEqual([`${type}.test`]);
        expect(p.client.getProtocol()).toBe(version);
        expect(p.client.alpnProtocol).toBe('http/1.1');
        expect(p.conn.protocol).toBe(version);
        expect(p.conn.alpn).toBe('http/1.1');
        expect(p.conn.handshaking).toBe(false);
        expect(p.conn.cipher).toMatch(/AES_256_GCM|AES_128_GCM|CHACHA20/);
        expect(p.conn.serverName).toBe(`${type}.test`);
        // Client to server: 3 MiB in the client's records.
        const up = randomBytes(3 << 20);
        p.client.write(up);
        await new Promise<void>((r) => p.client.write(Buffer.alloc(0), () => r()));
        await expect.poll(() => p.got.reduce((n, b) => n + b.length, 0), { timeout: 10_000 }).toBe(up.length);
        expect(Buffer.concat(p.got).equals(up)).toBe(true);
        // Server to client: one seal of 5 MiB + 7 (cut into 16 KiB records here), and an empty one.
        const down = randomBytes((5 << 20) + 7);
        expect(seal(p.conn, Buffer.alloc(0)).length).toBe(0);
        // An out without the room sealBound asks for: refused, nothing sealed (the stream goes on intact below).
        expect(() => p.conn.sealInto(down, Buffer.alloc(down.length))).toThrow(/needed/);
        expect((await serverToClient(p, down)).equals(down)).toBe(true);
        // close_notify reaches the client as the end of its stream.
        const ended = new Promise<void>((r) => p.client.once('end', () => r()));
        p.conn.close();
        p.wire.push(p.conn.take());
        await ended;
        expect(() => seal(p.conn, Buffer.from('x'))).toThrow(/closed/);
        p.client.destroy();
      });
    }
  }

  it('feedInto: records cut anywhere across reads, the room feedBound says, refusals', async () => {
    const config = new TlsServerConfig(Buffer.from(leaves.ecdsa.cert), Buffer.from(leaves.ecdsa.key));
    const before = new TlsConnection();
    expect(() => before.feedInto(Buffer.from([22, 3, 1]), Buffer.alloc(1 << 15))).toThrow(/handshake is not done/);
    const p = pipe(config, { minVersion: 'TLSv1.3' });
    await secure(p);
    expect(TlsConnection.feedBound(0)).toBe(16 * 1024);
    // The client's records of 200 KiB kept, then fed in reads of odd sizes: a read of 1 byte can complete a
    // record of 16 KiB (the most feedBound allows beyond the read's length), one of 40 KiB holds 2-3 records.
    p.held = [];
    const up = randomBytes(200 << 10);
    p.client.write(up);
    // TLS 1.3 AES-GCM: 22 bytes more per record of 16 KiB.
    const whole = up.length + Math.ceil(up.length / 16384) * 22;
    await expect.poll(() => p.held?.reduce((n, b) => n + b.length, 0) ?? 0).toBe(whole);
    const wire = Buffer.concat(p.held);
    const sizes = [1, 7, 5, 16 * 1024 + 3, 1, 40 * 1024, 9, 100, 33 * 1024];
    const got: Buffer[] = [];
    let i = 0;
    for (let at = 0; at < wire.length; i++) {
      const piece = wire.subarray(at, at + sizes[i % sizes.length]);
      at += piece.length;
      // Room short of feedBound's by one byte: refused before anything is read, the same read then goes in.
      expect(() => p.conn.feedInto(piece, Buffer.alloc(TlsConnection.feedBound(piece.length) - 1))).toThrow(/needed/);
      const out = Buffer.alloc(TlsConnection.feedBound(piece.length));
      const n = p.conn.feedInto(piece, out);
      if (n > piece.length) expect(n - piece.length).toBeLessThanOrEqual(16 * 1024);
      got.push(out.subarray(0, n));
    }
    expect(Buffer.concat(got).equals(up)).toBe(true);
    // A record whose bytes were changed: refused (AEAD), with an alert for the peer; the connection is done.
    p.held = [];
    p.client.write(Buffer.from('after'));
    await expect.poll(() => p.held?.length ?? 0).toBeGreaterThan(0);
    const bad = Buffer.concat(p.held);
    bad[bad.length - 1] ^= 1;
    expect(() => open(p.conn, bad)).toThrow(/TLS/);
    // The alert (bad_record_mac), encrypted: a TLS 1.3 record that says application_data outside.
    expect(p.conn.take()?.[0]).toBe(23);
    expect(() => open(p.conn, bad)).toThrow(/closed/);
    p.client.destroy();
  });

  it('a client that sends no SNI gets the config chosen for no name', async () => {
    const config = new TlsServerConfig(Buffer.from(leaves.ecdsa.cert), Buffer.from(leaves.ecdsa.key));
    const p = pipe(config, { servername: '', checkServerIdentity: () => undefined });
    await secure(p);
    expect(p.chosen).toEqual([null]);
    p.client.destroy();
  });

  it('refuses TLS 1.1 and 1.0 clients with an alert', async () => {
    const config = new TlsServerConfig(Buffer.from(leaves.ecdsa.cert), Buffer.from(leaves.ecdsa.key));
    for (const v of ['TLSv1.1', 'TLSv1'] as const) {
      const p = pipe(config, { minVersion: v, maxVersion: v, ciphers: 'DEFAULT:@SECLEVEL=0' });
      await expect(secure(p)).rejects.toThrow();
      expect(p.error?.message).toMatch(/TLS/);
      expect(p.alert?.length).toBeGreaterThan(0);
      expect(p.alert?.[0]).toBe(21); // an alert record
      expect(() => p.conn.feed(Buffer.from('more'))).toThrow();
    }
  });

  it('refuses bytes that are not TLS, and calls out of order', () => {
    const c = new TlsConnection();
    expect(() => seal(c, Buffer.from('x'))).toThrow(/not open/);
    const config = new TlsServerConfig(Buffer.from(leaves.ecdsa.cert), Buffer.from(leaves.ecdsa.key));
    expect(() => c.accept(config)).toThrow(/no ClientHello/);
    expect(() => c.feed(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))).toThrow(/TLS/);
    expect(c.protocol).toBeNull();
    expect(c.peerCertificates()).toEqual([]);
  });

  it('refuses a certificate that is not PEM, a key that is not, and a key of another certificate', () => {
    const { cert, key } = leaves.ecdsa;
    expect(() => new TlsServerConfig(Buffer.from('nope'), Buffer.from(key))).toThrow(/no certificate|PEM/);
    expect(() => new TlsServerConfig(Buffer.from(cert), Buffer.from('nope'))).toThrow(/private key/);
    expect(() => new TlsServerConfig(Buffer.from(cert), Buffer.from(leaves.rsa.key))).toThrow();
  });

  describe('client certificates asked for (mutual TLS between nodes)', () => {
    const config = () => new TlsServerConfig(Buffer.from(leaves.ecdsa.cert), Buffer.from(leaves.ecdsa.key), [ca.cert]);

    it("a certificate of the CAs' is authorized, and its chain is given", async () => {
      for (const maxVersion of ['TLSv1.3', 'TLSv1.2'] as const) {
        const p = pipe(config(), { cert: leaves.client.cert, key: leaves.client.key, maxVersion });
        await secure(p);
        expect(p.conn.authorized).toBe(true);
        expect(p.conn.peerError()).toBeNull();
        // Leaf first (OpenSSL's client adds the CA it has to the chain it sends).
        const [leaf] = p.conn.peerCertificates();
        expect(new X509Certificate(leaf).fingerprint256).toBe(new X509Certificate(leaves.client.cert).fingerprint256);
        p.client.destroy();
      }
    });

    it('none, or one of another CA, still connects but is not authorized, and says why', async () => {
      const none = pipe(config());
      await secure(none);
      expect(none.conn.authorized).toBe(false);
      expect(none.conn.peerError()).toBe('no certificate');
      none.client.destroy();
      const stranger = pipe(config(), { cert: leaves.stranger.cert, key: leaves.stranger.key });
      await secure(stranger);
      expect(stranger.conn.authorized).toBe(false);
      expect(stranger.conn.peerError()).toMatch(/UnknownIssuer|issuer/i);
      stranger.client.destroy();
      // A server certificate (serverAuth only) of the right CA is not a client's.
      const server = pipe(config(), { cert: leaves.rsa.cert, key: leaves.rsa.key });
      await secure(server);
      expect(server.conn.authorized).toBe(false);
      server.client.destroy();
    });

    it('without client CAs nobody is authorized; with empty CAs neither', async () => {
      const plain = new TlsServerConfig(Buffer.from(leaves.ecdsa.cert), Buffer.from(leaves.ecdsa.key));
      const p = pipe(plain, { cert: leaves.client.cert, key: leaves.client.key });
      await secure(p);
      expect(p.conn.authorized).toBe(false);
      expect(p.conn.peerCertificates()).toEqual([]);
      p.client.destroy();
      const empty = new TlsServerConfig(Buffer.from(leaves.ecdsa.cert), Buffer.from(leaves.ecdsa.key), []);
      const q = pipe(empty, { cert: leaves.client.cert, key: leaves.client.key });
      await secure(q);
      expect(q.conn.authorized).toBe(false);
      expect(q.conn.peerError()).toMatch(/no trusted CAs/);
      q.client.destroy();
      void otherCa;
    });
  });
});
