// The web console's files at /console/ on the S3 address: types, caching, a strict Content-Security-Policy,
// no listing and no path escape; /console redirects; an unbuilt console answers 503; a bucket named `console`
// still works for signed requests.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../helpers/cairn.js';
import { request } from 'node:http';

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
