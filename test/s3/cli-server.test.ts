// `cairn server` as a child process: starts on port 0, serves S3, answers health checks, and on SIGTERM
// finishes the upload in flight before it exits.
import { spawnCairn } from '../helpers/cli.js';
import type { ChildProcess } from 'node:child_process';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { makeClient } from '../helpers/cairn.js';
import { signRequest } from '../helpers/signed-request.js';

const creds = { accessKey: 'cliadmin', secretKey: 'cli-admin-secret' };
let base: string;
let child: ChildProcess;
let url: string;
let stderr = '';

/** The server's JSON log lines (stdout), and waiters for a line to come. */
const logged: Record<string, unknown>[] = [];
type LogLine = Record<string, unknown>;
const logWaiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];

/** Resolves with the first log line (already logged or still to come) that `match` accepts. */
function logLine(match: (l: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  const seen = logged.find(match);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve) => logWaiters.push({ match, resolve }));
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'cairn-cli-'));
  child = spawnCairn(['server', '--address', '127.0.0.1:0', join(base, 'd{1...4}')], {
    CAIRN_ROOT_USER: creds.accessKey,
    CAIRN_ROOT_PASSWORD: creds.secretKey,
    CAIRN_LOG_LEVEL: 'debug', // the request lines (debug) tell the SIGTERM test its upload has arrived
  });
  child.stderr!.on('data', (d) => (stderr += d));
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    logged.push(line);
    for (const w of logWaiters.filter((x) => x.match(line))) {
      logWaiters.splice(logWaiters.indexOf(w), 1);
      w.resolve(line);
    }
  });
  const exited = new Promise<never>((_, reject) => {
    child.on('exit', (code) => reject(new Error(`cairn server exited with ${code}: ${stderr}`)));
  });
  // The address it bound (port 0) is in its start-up line, as a `url` field (test/python reads it too).
  const started = await Promise.race([logLine((l) => typeof l.url === 'string'), exited]);
  expect(started.msg).toBe(`Cairn is serving S3 at ${started.url}`);
  url = started.url as string;
});
afterAll(async () => {
  if (child.exitCode === null) child.kill('SIGKILL');
  await rm(base, { recursive: true, force: true });
});

describe('cairn server', () => {
  it('serves health checks and S3 with the configured root user', async () => {
    for (const p of ['/health/live', '/health/ready', '/minio/health/live', '/minio/health/ready'])
      expect((await fetch(url + p)).status).toBe(200);
    const s3 = makeClient(url, { credentials: creds });
    await s3.send(new CreateBucketCommand({ Bucket: 'cli-bucket' }));
    expect(stderr).not.toContain('development credentials');
  });

  it('SIGTERM lets the upload in flight finish, then exits 0', async () => {
    const body = Buffer.alloc(1 << 20, 3);
    const { headers, target } = await signRequest(url, {
      method: 'PUT',
      path: '/cli-bucket/in-flight',
      body,
      contentSha256: 'UNSIGNED-PAYLOAD',
      credentials: creds,
    });
    const u = new URL(url);
    const response = new Promise<string>((resolve) => {
      const sock = connect(Number(u.port), u.hostname, async () => {
        const head = [
          `PUT ${target} HTTP/1.1`,
          ...Object.entries({ ...headers, 'content-length': String(body.length) }).map(([k, v]) => `${k}: ${v}`),
          '',
          '',
        ].join('\r\n');
        sock.write(head);
        sock.write(body.subarray(0, 1000));
        // The server has the request (it logs it as it starts), then is told to stop and says so; only then
        // does the rest of the body go.
        const url = (l: LogLine) => (l.req as { url?: string } | undefined)?.url;
        await logLine((l) => l.msg === 'incoming request' && url(l) === '/cli-bucket/in-flight');
        child.kill('SIGTERM');
        await logLine((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM');
        sock.write(body.subarray(1000));
      });
      let out = '';
      sock.on('data', (d) => (out += d));
      sock.on('close', () => resolve(out));
      sock.on('error', () => resolve(out));
    });
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    expect((await response).split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    expect(await exit).toBe(0);
    // The object is there after a restart-free check of the drives: start a fresh server on them.
    const { startServer } = await import('@cairn/server');
    const again = await startServer({
      drives: [join(base, 'd{1...4}')],
      address: '127.0.0.1:0',
      credentials: { root: creds },
    });
    try {
      const got = await makeClient(again.url, { credentials: creds }).send(
        new GetObjectCommand({ Bucket: 'cli-bucket', Key: 'in-flight' }),
      );
      expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
    } finally {
      await again.close();
    }
  });
});

describe('cairn server with a URL as a drive', () => {
  // MinIO's distributed form, naming no node this one is (its --address is not among them): refused, never taken
  // for a local folder named `http:` (relative to the working directory: the repository here).
  it('exits 2 naming the reason, and makes no folder', async () => {
    const folder = `cairn-url-drive-${process.pid}`;
    const arg = `http://127.0.0.1:9001/${folder}/d{1...2}`;
    const proc = spawnCairn(['server', '--address', '127.0.0.1:9002', arg], { CAIRN_LOG_LEVEL: 'info' });
    let err = '';
    proc.stderr!.on('data', (d) => (err += d));
    const served = new Promise<string>((resolve) =>
      createInterface({ input: proc.stdout! }).on('line', (l) => l.includes('"url"') && resolve('served')),
    );
    const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve));
    const outcome = await Promise.race([exited, served]);
    if (outcome === 'served') proc.kill('SIGKILL');
    expect(outcome).toBe(2);
    expect(err).toContain('cairn server: none of the endpoints is this node (--address 127.0.0.1:9002)');
    const repo = new URL('../..', import.meta.url).pathname;
    await expect(access(join(repo, 'http:', '127.0.0.1:9001', folder))).rejects.toThrow(/ENOENT/);
  });
});
