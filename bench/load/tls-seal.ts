// What the rustls engine's TLS costs on the event loop (CAIRN_TLS_ENGINE=rustls, http/rustls-socket.ts), against
// node:tls doing the same: one connection over an in-memory pipe (no kernel), node:tls's client on the other end.
// Seal: 256 MiB of plaintext written in `--write` pieces, sealed into TLS 1.3 records (the server's GET side);
// open: the client's 256 MiB of records fed in 64 KiB reads (the server's PUT side: feedInto memory per read).
// Prints GB/s and microseconds per write (how long one write holds the event loop), by the process's CPU time
// (user + system), not the wall clock: on a shared machine a preempted process's wall clock says nothing of the
// work. Node's side: a TLSSocket server over the same pipe, timed from the
// first write until the last record came out of it.
//   node --import tsx bench/load/tls-seal.ts [--write 1MiB] [--call 64KiB] [--total 256MiB] [--suite TLS_AES_256_GCM_SHA384]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { connect, TLSSocket } from 'node:tls';
import { parseArgs } from 'node:util';
import { TlsConnection, TlsServerConfig } from '@cairn/native';
import { parseSize } from './units.js';

const { values: v } = parseArgs({
  options: {
    write: { type: 'string', default: '1MiB' },
    total: { type: 'string', default: '256MiB' },
    suite: { type: 'string', default: 'TLS_AES_256_GCM_SHA384' },
    call: { type: 'string', default: '64KiB' },
  },
});
const WRITE = parseSize(v.write!);
const TOTAL = Math.ceil(parseSize(v.total!) / WRITE) * WRITE;
const CALL = parseSize(v.call!);

const dir = mkdtempSync(join(tmpdir(), 'tls-seal-'));
execFileSync(
  'openssl',
  [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost',
    '-keyout',
    join(dir, 'k.pem'),
    '-out',
    join(dir, 'c.pem'),
  ],
  { stdio: 'ignore' },
);
const cert = readFileSync(join(dir, 'c.pem'));
const key = readFileSync(join(dir, 'k.pem'));
rmSync(dir, { recursive: true });

const piece = Buffer.alloc(WRITE, 0x5a);
const gbps = (bytes: number, ms: number) => (bytes / 1e6 / ms).toFixed(2);
/** CPU milliseconds this process spent since `from` (a process.cpuUsage()). */
const cpuMs = (from: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000;
};

/** node:tls's client connected through memory to `serverSide` (a Duplex whose writes are the client's bytes). */
function client(wire: Duplex): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const c = connect({ socket: wire, ca: cert, servername: 'localhost', ciphers: v.suite, minVersion: 'TLSv1.3' });
    c.once('secureConnect', () => resolve(c));
    c.once('error', reject);
  });
}

async function rustls(): Promise<void> {
  const conn = new TlsConnection();
  const config = new TlsServerConfig(cert, key);
  let collect: Buffer[] | undefined;
  const wire: Duplex = new Duplex({
    read() {},
    write(chunk: Buffer, _e, cb) {
      if (collect) {
        collect.push(chunk);
        return cb();
      }
      conn.feed(chunk);
      if (conn.wantsConfig) conn.accept(config);
      const out = conn.take();
      if (out) wire.push(out);
      cb();
    },
  });
  const c = await client(wire);
  // TLS 1.3: the client's last flight reaches the server after the client is done.
  while (conn.handshaking) await new Promise((r) => setImmediate(r));
  const t0 = process.cpuUsage();
  let sealed = 0;
  // One output buffer reused, as http/rustls-socket.ts reuses pooled ones.
  const out = Buffer.alloc(TlsConnection.sealBound(WRITE) + 4096);
  // In calls of at most 64 KiB, as http/rustls-socket.ts makes them (`--call`).
  for (let at = 0; at < TOTAL; at += WRITE) {
    let n = 0;
    for (let from = 0; from < WRITE; from += CALL)
      n += conn.sealInto(piece.subarray(from, from + CALL), out.subarray(n));
    sealed += n;
  }
  const sealMs = cpuMs(t0);
  // The client's records, gathered first, then fed in 64 KiB reads (a socket's).
  collect = [];
  for (let at = 0; at < TOTAL; at += WRITE) c.write(piece);
  await new Promise<void>((r) => c.write(Buffer.alloc(0), () => r()));
  while (collect.reduce((n, b) => n + b.length, 0) < TOTAL) await new Promise((r) => setImmediate(r));
  const records = Buffer.concat(collect);
  const t1 = process.cpuUsage();
  let opened = 0;
  // feedInto memory of each read's own, as http/rustls-socket.ts does.
  for (let at = 0; at < records.length; at += 65536) {
    const read = records.subarray(at, at + 65536);
    opened += conn.feedInto(read, Buffer.allocUnsafeSlow(TlsConnection.feedBound(read.length)));
  }
  const openMs = cpuMs(t1);
  console.log(
    `rustls ${conn.protocol} ${conn.cipher}: seal ${gbps(TOTAL, sealMs)} GB/s (${((sealMs * 1000 * WRITE) / TOTAL).toFixed(0)} us per ${WRITE}-byte write, ${sealed - TOTAL} bytes of framing); open ${gbps(opened, openMs)} GB/s (${((openMs * 1000 * 65536) / opened).toFixed(0)} us per 64 KiB read)`,
  );
  c.destroy();
}

async function nodeTls(): Promise<void> {
  // A server TLSSocket over a pipe; its output counted as it comes out.
  let out = 0;
  let done: (() => void) | undefined;
  let target = Infinity;
  // Once the handshake is done the records go nowhere: only the server's sealing is timed.
  let sink = false;
  const toServer = new Duplex({
    read() {},
    write(chunk: Buffer, _e, cb) {
      if (!sink) toClient.push(chunk);
      out += chunk.length;
      if (out >= target) done?.();
      cb();
    },
  });
  const toClient: Duplex = new Duplex({
    read() {},
    write(chunk: Buffer, _e, cb) {
      toServer.push(chunk);
      cb();
    },
  });
  const server = new TLSSocket(toServer, { isServer: true, cert, key, minVersion: 'TLSv1.3' });
  const c = await client(toClient);
  await new Promise((r) => setTimeout(r, 50));
  sink = true;
  const start = out;
  target = start + TOTAL;
  const finished = new Promise<void>((r) => (done = r));
  const t0 = process.cpuUsage();
  let at = 0;
  const more = () => {
    while (at < TOTAL) {
      at += WRITE;
      if (!server.write(piece)) return server.once('drain', more);
    }
  };
  more();
  await finished;
  const ms = cpuMs(t0);
  console.log(`node:tls ${server.getProtocol()} ${server.getCipher().standardName}: seal ${gbps(TOTAL, ms)} GB/s`);
  c.destroy();
  server.destroy();
}

await rustls();
await nodeTls();
