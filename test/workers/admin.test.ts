// The admin API's server calls on a real `cairn server` (api/admin, cluster/trace-relay.ts), and `cairn admin`
// driving it: a trace shows the requests every worker answers; top locks asks the primary's table; info and
// usage as tables and JSON; service restart restarts every worker (new processes) and the server keeps serving
// what it stored; service stop ends the server cleanly; a one-process server restarts in place on its port.
import { type ChildProcess, execFile } from 'node:child_process';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCall, adminStream, type AdminTarget } from '../../server/src/cli/admin-client.js';
import { spawnCairn } from '../helpers/cli.js';
import { startWorkers, WORKERS_ALT, WORKERS_ROOT, type WorkersServer } from '../helpers/workers.js';

const repo = new URL('../..', import.meta.url).pathname;

/** `cairn admin ARGS...` against `url`, as the root user. */
async function cairn(url: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const env = {
    ...process.env,
    CAIRN_ENDPOINT: url,
    CAIRN_ROOT_USER: WORKERS_ROOT.accessKey,
    CAIRN_ROOT_PASSWORD: WORKERS_ROOT.secretKey,
  };
  const argv = ['--conditions=source', '--import', 'tsx', 'server/src/cli/main.ts', 'admin', ...args];
  try {
    const r = await promisify(execFile)(process.execPath, argv, { env, cwd: repo });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout, err: x.stderr };
  }
}

/** The first line of a child's stdout that `match` accepts. */
function lineOf(
  child: ChildProcess,
  match: (line: string) => boolean,
  from: 'stdout' | 'stderr' = 'stdout',
): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child[from]! });
    lines.on('line', (l) => {
      if (match(l)) {
        lines.close();
        resolve(l);
      }
    });
    child.once('exit', (code) => reject(new Error(`exited (${code}) before the line came`)));
  });
}

const exitOf = (child: ChildProcess): Promise<number | null> =>
  child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((r) => child.once('exit', r));

describe('cairn server --workers 2', () => {
  let server: WorkersServer;
  let root: AdminTarget;

  beforeAll(async () => {
    server = await startWorkers(2);
    root = { endpoint: server.url, region: 'us-east-1', ...WORKERS_ROOT };
    await (await server.client(1)).send(new CreateBucketCommand({ Bucket: 'ops' }));
  });
  afterAll(() => server?.close());

  it("a trace shows both workers' requests", async () => {
    const stop = new AbortController();
    const entries = await adminStream(root, { method: 'GET', path: 'trace' }, stop.signal);
    // One of the two is answered by a worker other than the one serving the trace.
    await (await server.client(1)).send(new PutObjectCommand({ Bucket: 'ops', Key: 'from-1', Body: 'one' }));
    await (await server.client(2)).send(new PutObjectCommand({ Bucket: 'ops', Key: 'from-2', Body: 'two' }));
    const paths = new Set<string>();
    for await (const e of entries) {
      paths.add((e as { path: string }).path);
      if (paths.has('/ops/from-1') && paths.has('/ops/from-2')) break;
    }
    stop.abort();
    expect(paths).toContain('/ops/from-1');
    expect(paths).toContain('/ops/from-2');
  });

  it('top locks asks the primary; info and usage reach every drive and bucket', async () => {
    expect(await adminCall(root, { method: 'GET', path: 'top/locks' })).toEqual([]);
    const locks = await cairn(server.url, 'top', 'locks');
    expect(locks.out.split('\n')[0]).toMatch(/^SINCE\s+HELD\s+TYPE\s+WAITING\s+RESOURCE$/);
    const info = await cairn(server.url, 'info');
    expect(info.code).toBe(0);
    expect(info.out).toMatch(/^Cairn \d+\.\d+\.\d+ at 127\.0\.0\.1:\d+: online, up \d/m);
    expect(info.out).toContain('4 drives online, 0 offline; 1 erasure set of 4 drives, parity 2');
    expect(info.out).not.toContain('\u001b['); // no colours when stdout is not a terminal
    for (const d of server.drives) expect(info.out).toMatch(new RegExp(`\\bok\\s+.*${d}$`, 'm'));
    const usage = JSON.parse((await cairn(server.url, '--json', 'info', '--usage')).out) as {
      bucketsUsageInfo: Record<string, { size: number; objectsCount: number }>;
    };
    expect(usage.bucketsUsageInfo.ops).toMatchObject({ size: 6, objectsCount: 2 });
    const table = await cairn(server.url, 'info', '--usage');
    expect(table.out).toMatch(/^ops\s+6 B\s+2\s+2\s+0$/m);
  });

  it('cairn admin trace prints requests made by another client, never their credentials', async () => {
    const child = spawnCairn(['admin', 'trace', '-v'], {
      CAIRN_ENDPOINT: server.url,
      CAIRN_ROOT_USER: WORKERS_ROOT.accessKey,
      CAIRN_ROOT_PASSWORD: WORKERS_ROOT.secretKey,
    });
    try {
      const alt = await server.client(2, WORKERS_ALT);
      // Subscribed once it says so on stderr.
      await lineOf(child, (l) => l.startsWith('tracing requests at'), 'stderr');
      const found = lineOf(child, (l) => l.includes('/ops/traced-by-cli'));
      const headers = lineOf(child, (l) => l.trim().startsWith('authorization:'));
      await alt.send(new GetObjectCommand({ Bucket: 'ops', Key: 'traced-by-cli' })).catch(() => {});
      const seen = await found;
      expect(seen).toMatch(/\[403\] s3\.GetObject GET \/ops\/traced-by-cli\?x-id=GetObject 127\.0\.0\.1 /);
      expect((await headers).trim()).toBe('authorization: *REDACTED*');
    } finally {
      child.kill('SIGINT');
      expect(await exitOf(child)).toBe(0);
    }
  });

  it('service restart starts every worker again and the server keeps serving; stop ends it', async () => {
    const before = [server.pid(1), server.pid(2)];
    const restart = await cairn(server.url, 'service', 'restart');
    expect(restart.out).toContain('restarting the server');
    await server.logLine((l) => l.msg === 'admin API: every worker restarted');
    expect([server.pid(1), server.pid(2)]).not.toContain(before[0]);
    expect([server.pid(1), server.pid(2)]).not.toContain(before[1]);
    for (const slot of [1, 2]) {
      const s3 = await server.client(slot);
      const r = await s3.send(new GetObjectCommand({ Bucket: 'ops', Key: 'from-1' }));
      expect(await r.Body!.transformToString()).toBe('one');
      await s3.send(new PutObjectCommand({ Bucket: 'ops', Key: `after-${slot}`, Body: 'x' }));
    }
    expect((await cairn(server.url, 'service', 'stop')).code).toBe(0);
    expect(await exitOf(server.child)).toBe(0);
  });
});

describe('cairn server --workers 1', () => {
  let server: WorkersServer;
  let root: AdminTarget;

  beforeAll(async () => {
    server = await startWorkers(1);
    root = { endpoint: server.url, region: 'us-east-1', ...WORKERS_ROOT };
    await (await server.client(1)).send(new CreateBucketCommand({ Bucket: 'alone' }));
    await (await server.client(1)).send(new PutObjectCommand({ Bucket: 'alone', Key: 'k', Body: 'kept' }));
  });
  afterAll(() => server?.close());

  it('restarts in place on the same port, then stops', async () => {
    await adminCall(root, { method: 'POST', path: 'service', query: { action: 'restart' } });
    const serving = (l: { msg?: string }) => l.msg?.startsWith('Cairn is serving S3 at') === true;
    await server.logLine((l) => serving(l) && server.logs.filter(serving).length >= 2);
    const again = server.logs.filter(serving);
    expect(again.map((l) => l.url)).toEqual([server.url, server.url]);
    const r = await (await server.client(1)).send(new GetObjectCommand({ Bucket: 'alone', Key: 'k' }));
    expect(await r.Body!.transformToString()).toBe('kept');
    await adminCall(root, { method: 'POST', path: 'service', query: { action: 'stop' } });
    expect(await exitOf(server.child)).toBe(0);
  });
});
