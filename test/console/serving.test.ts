// The web console's files at /console/ on the S3 address: types, caching, a strict Content-Security-Policy,
// no listing and no path escape; /console redirects; an unbuilt console answers 503; a bucket named `console`
// still works for signed requests. --console-address: the same on an address of its own, `/` sent to
// /console/, the S3 API served there too (the page's calls are same-origin), the S3 port refused for it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { makeClient, ROOT, startTestServer, type TestServer } from '../helpers/cairn.js';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.close());

/** A raw GET (fetch would normalise `..` away before sending). */
function rawGet(
  base: string,
  path: string,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the console at /console/', () => {
  it('serves index.html, its script and style sheet with their types and a strict policy', async () => {
    const index = await fetch(`${server.url}/console/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(index.headers.get('content-security-policy')).toMatch(/^default-src 'self';/);
    expect(index.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    // WebAssembly may be compiled (the Argon2 of sealed admin answers), scripts not evaluated nor inlined.
    expect(index.headers.get('content-security-policy')).toMatch(/script-src 'self' 'wasm-unsafe-eval';/);
    expect(index.headers.get('content-security-policy')).not.toMatch(/ 'unsafe-(eval|inline)'/);
    expect(index.headers.get('x-frame-options')).toBe('DENY');
    expect(index.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await index.text();
    const js = /src="\.\/(app-[0-9a-f]+\.js)"/.exec(html)?.[1];
    const css = /href="\.\/(app-[0-9a-f]+\.css)"/.exec(html)?.[1];
    expect(js && css).toBeTruthy();
    const script = await fetch(`${server.url}/console/${js}`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await script.text()).length).toBeGreaterThan(1000);
    const style = await fetch(`${server.url}/console/${css}`, { method: 'HEAD' });
    expect(style.status).toBe(200);
    expect(style.headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('redirects /console to /console/', async () => {
    const res = await fetch(`${server.url}/console`, { redirect: 'manual' });
    expect(res.status).toBe(301);
    expect(res.headers.get('location')).toBe('/console/');
  });

  it('serves only the built files: no listing, no path outside', async () => {
    for (const path of [
      '/console/../package.json',
      '/console/%2e%2e/package.json',
      '/console/..%2f..%2fpackage.json',
      '/console/nothing.js',
      '/console/src/',
      '/console//index.html',
    ]) {
      const res = await rawGet(server.url, path);
      expect(res.status, path).toBe(404);
      expect(res.body).toBe('Not found.\n');
    }
  });

  it('leaves a bucket named console to signed requests', async () => {
    const s3 = server.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'console' }));
    await s3.send(new PutObjectCommand({ Bucket: 'console', Key: 'index.html', Body: 'mine' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'console', Key: 'index.html' }));
    expect(await got.Body!.transformToString()).toBe('mine');
  });

  it('answers 503 with a clear text while the console is not built', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'cairn-console-'));
    const unbuilt = await startTestServer({ consoleDir: empty });
    try {
      const res = await fetch(`${unbuilt.url}/console/`);
      expect(res.status).toBe(503);
      expect(await res.text()).toMatch(/not built: run `npm run build -w console`/);
      // S3 goes on.
      expect((await fetch(`${unbuilt.url}/minio/health/live`)).status).toBe(200);
    } finally {
      await unbuilt.close();
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe('the console on its own address (--console-address)', () => {
  let both: TestServer;
  let consoleBase: string;
  beforeAll(async () => {
    both = await startTestServer({ consoleAddress: '127.0.0.1:0' });
    consoleBase = new URL(both.consoleUrl!).origin;
  });
  afterAll(() => both?.close());

  it('listens on a port of its own and serves the console there, with the same policy', async () => {
    expect(both.consoleUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/console\/$/);
    expect(both.consolePort).not.toBe(both.port);
    const index = await fetch(both.consoleUrl!);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-security-policy')).toMatch(/^default-src 'self';/);
    expect(index.headers.get('x-frame-options')).toBe('DENY');
    expect(await index.text()).toMatch(/<script[^>]+src="\.\/app-[0-9a-f]+\.js"/);
    // Only the S3 address has no console address: nothing is started when it is not asked for.
    expect(server.consoleUrl).toBeUndefined();
  });

  it('sends / to /console/, and only an unsigned GET or HEAD of it', async () => {
    for (const method of ['GET', 'HEAD']) {
      const res = await fetch(`${consoleBase}/`, { method, redirect: 'manual' });
      expect(res.status, method).toBe(302);
      expect(res.headers.get('location')).toBe('/console/');
    }
    // On the S3 address / stays S3's (anonymous ListBuckets: AccessDenied).
    expect((await fetch(`${both.url}/`, { redirect: 'manual' })).status).toBe(403);
    // A signed ListBuckets on the console's address is S3's answer, not a redirect.
    const viaConsole = makeClient(consoleBase);
    const listed = await viaConsole.send(new ListBucketsCommand({}));
    expect(listed.Buckets).toBeDefined();
  });

  it('serves the S3 API the page calls, on the same drives and with the same authentication', async () => {
    const viaConsole = makeClient(consoleBase);
    await viaConsole.send(new CreateBucketCommand({ Bucket: 'from-console-port' }));
    await viaConsole.send(new PutObjectCommand({ Bucket: 'from-console-port', Key: 'a.txt', Body: 'hello' }));
    const got = await both.client().send(new GetObjectCommand({ Bucket: 'from-console-port', Key: 'a.txt' }));
    expect(await got.Body!.transformToString()).toBe('hello');
    // A wrong secret is refused there as on the S3 address, and creates nothing.
    const wrong = makeClient(consoleBase, { credentials: { accessKey: ROOT.accessKey, secretKey: 'not-it' } });
    await expect(wrong.send(new CreateBucketCommand({ Bucket: 'not-made' }))).rejects.toMatchObject({
      name: expect.stringMatching(/SignatureDoesNotMatch|InvalidAccessKeyId/),
    });
    await expect(both.client().send(new HeadBucketCommand({ Bucket: 'not-made' }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
    // No cookie, no CORS opening: the console's address answers like the S3 address.
    const page = await fetch(both.consoleUrl!, { headers: { origin: 'https://evil.example' } });
    expect(page.headers.get('set-cookie')).toBeNull();
    expect(page.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses the S3 port as the console port, and a console port in use, releasing the S3 port', async () => {
    const free = await freePort();
    await expect(
      startTestServer({ address: `127.0.0.1:${free}`, consoleAddress: `127.0.0.1:${free}` }),
    ).rejects.toThrow(/has the S3 address's port/);
    // The S3 port was let go: a server starts on it.
    const again = await startTestServer({ address: `127.0.0.1:${free}` });
    await again.close();
    // A console address someone else holds: the start fails (EADDRINUSE) and the S3 port is let go too.
    await expect(
      startTestServer({ address: `127.0.0.1:${free}`, consoleAddress: `127.0.0.1:${both.port}` }),
    ).rejects.toThrow(/EADDRINUSE/);
    const third = await startTestServer({ address: `127.0.0.1:${free}` });
    await third.close();
  });
});

/** A port nobody listens on now (the OS picks it; closed before use). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}
