// The generator end to end against the in-memory server (real sockets, port 0), and its HTTP/1.1
// client against node:http responses framed in every way the generator must understand.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadConfig } from './config.js';
import { Http1Connection } from './http1.js';
import { startMemServer } from './mem-server.js';
import type { MemServer } from './mem-server.js';
import { compareTable, runTable } from './results.js';
import type { ResultFile } from './results.js';
import { runLoad } from './run.js';

let mem: MemServer;
beforeAll(async () => {
  mem = await startMemServer({ bodySize: 1 << 20 });
});
afterAll(() => mem.close());

const base = (over: Partial<LoadConfig>): LoadConfig => ({
  name: 't',
  mode: 'put',
  endpoint: mem.url,
  accessKey: 'ak',
  secretKey: 'sk',
  region: 'us-east-1',
  bucket: 'tb',
  prefix: 'p/',
  objSize: 4096,
  objects: 20,
  concurrency: 4,
  durationMs: 300,
  rangeSize: 1000,
  rangeAlign: 1,
  getRatio: 0.5,
  listMaxKeys: 1000,
  workers: 0,
  prepare: true,
  ...over,
});
const log = () => {};

describe('load generator against the in-memory server', () => {
  it('puts, then gets whole objects and ranges of the right size', async () => {
    const put = await runLoad(base({ mode: 'put', objSize: 300_000 }), log);
    expect(put.ops.put!.ops).toBeGreaterThan(0);
    expect(put.ops.put!.errors).toBe(0);
    expect(put.ops.put!.bytes).toBe(put.ops.put!.ops * 300_000);

    const get = await runLoad(base({ mode: 'get', objSize: 300_000, prepare: false }), log);
    expect(get.ops.get!.ops).toBeGreaterThan(0);
    expect(get.ops.get!.errors).toBe(0);
    expect(get.ops.get!.bytes).toBe(get.ops.get!.ops * 300_000);

    const range = await runLoad(base({ mode: 'get-range', objSize: 300_000, rangeSize: 1000, prepare: false }), log);
    expect(range.ops.get!.errors).toBe(0);
    expect(range.ops.get!.bytes).toBe(range.ops.get!.ops * 1000);
    expect(range.ops.get!.latency.p50).toBeGreaterThan(0);
    expect(range.ops.get!.latency.max).toBeGreaterThanOrEqual(range.ops.get!.latency.p99);
  });

  it('reports a size mismatch as an error, not as throughput', async () => {
    // Objects of 4 KiB exist under p/; reading them as 8 KiB objects must fail every GET.
    await runLoad(base({ mode: 'put', limit: 20, durationMs: 5000 }), log);
    const r = await runLoad(base({ mode: 'get', objSize: 8192, prepare: false }), log);
    expect(r.ops.get!.ops).toBe(0);
    expect(r.ops.get!.errors).toBeGreaterThan(0);
    expect(r.ops.get!.errorSamples[0]).toMatch(/4096 body bytes, expected 8192/);
  });

  it('counts missing objects as errors with the S3 error code', async () => {
    const r = await runLoad(base({ mode: 'head', prefix: 'none/', prepare: false }), log);
    const g = await runLoad(base({ mode: 'get', prefix: 'none/', prepare: false }), log);
    expect(r.ops.head!.ops).toBe(0);
    expect(r.ops.head!.errors).toBeGreaterThan(0);
    expect(g.ops.get!.errorSamples[0]).toMatch(/404 .*NoSuchKey/);
  });

  it('runs small-object cycles, deletes, listing and mixed with two workers', async () => {
    const small = await runLoad(base({ mode: 'small', workers: 2 }), log);
    for (const op of ['put', 'get', 'head', 'delete'] as const) {
      expect(small.ops[op]!.ops, op).toBeGreaterThan(0);
      expect(small.ops[op]!.errors, op).toBe(0);
    }
    expect(small.workers).toBe(2);
    const list = await runLoad(base({ mode: 'list', prefix: 'l/', objects: 30 }), log);
    expect(list.ops.list!.ops).toBeGreaterThan(0);
    expect(list.ops.list!.bytes).toBeGreaterThan(30 * 20); // 30 keys listed in each page
    const mixed = await runLoad(base({ mode: 'mixed', prefix: 'm/' }), log);
    expect(mixed.ops.get!.ops).toBeGreaterThan(0);
    expect(mixed.ops.put!.ops).toBeGreaterThan(0);
    const del = await runLoad(base({ mode: 'delete', prefix: 'd/', objects: 10 }), log);
    expect(del.ops.delete!.ops).toBe(10);
    const after = await runLoad(base({ mode: 'head', prefix: 'd/', objects: 10, prepare: false }), log);
    expect(after.ops.head!.ops).toBe(0);
  });

  it('prints tables and compares two result files', async () => {
    const r = await runLoad(base({ mode: 'put', name: 'cmp' }), log);
    expect(runTable([r])).toMatch(/cmp\s+put\s+4KiB\s+4\s+\d/);
    const a: ResultFile = { tool: 'cairn-load', version: 1, createdAt: '', runs: [r] };
    const doubled = { ...r, ops: { put: { ...r.ops.put!, opsPerSec: r.ops.put!.opsPerSec * 2 } } };
    const b: ResultFile = { ...a, runs: [doubled] };
    expect(compareTable(a, b)).toMatch(/\+100\.0%/);
  });
});

/** A self-signed ECDSA certificate for 127.0.0.1 (openssl), for the framing tests over TLS. */
function selfSigned(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-load-tls-'));
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
        .concat(['-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'])
        .concat(['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]),
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.each(['http', 'https'])('HTTP/1.1 client framing over %s', (proto) => {
  let server: http.Server;
  let url: URL;
  let ca: string | undefined;
  beforeAll(async () => {
    const answer: http.RequestListener = (req, res) => {
      req.resume();
      if (req.url === '/chunked') {
        res.write('a'.repeat(70_000));
        res.write('bc');
        res.end('d'.repeat(5));
      } else if (req.url === '/big') {
        // More than the client's read buffer, in TLS records of 16 KiB.
        res.writeHead(200, { 'content-length': 3_000_000 }).end(Buffer.alloc(3_000_000, 1));
      } else if (req.url === '/close') {
        res.setHeader('connection', 'close');
        res.end('x'.repeat(10));
      } else if (req.url === '/error') {
        res.writeHead(403, { 'content-type': 'application/xml' }).end('<Error><Code>AccessDenied</Code></Error>');
      } else {
        res.writeHead(200, { 'content-length': 5 }).end('hello');
      }
    };
    if (proto === 'https') {
      const pair = selfSigned();
      ca = pair.cert;
      server = https.createServer(pair, answer);
    } else server = http.createServer(answer);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = new URL(`${proto}://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const head = (path: string, method = 'GET') => `${method} ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;

  it('reads chunked, content-length, HEAD and connection: close responses on one connection', async () => {
    const c = new Http1Connection(url, ca);
    expect(await c.request(head('/chunked'), [], false)).toEqual({
      status: 200,
      bytes: 70_007,
      errorText: undefined,
    });
    expect((await c.request(head('/plain'), [], false)).bytes).toBe(5);
    expect((await c.request(head('/big'), [], false)).bytes).toBe(3_000_000);
    expect((await c.request(head('/plain', 'HEAD'), [], true)).bytes).toBe(0);
    expect((await c.request(head('/close'), [], false)).bytes).toBe(10);
    expect((await c.request(head('/plain'), [], false)).bytes).toBe(5); // reconnects
    const e = await c.request(head('/error'), [], false);
    expect(e.status).toBe(403);
    expect(e.errorText).toContain('AccessDenied');
    c.close();
  });

  it('rejects when the server is gone', async () => {
    const c = new Http1Connection(new URL(`${proto}://127.0.0.1:1`));
    await expect(c.request(head('/'), [], false)).rejects.toThrow();
  });
});
