// A connection made while a multi-worker server starts is answered or refused, never left unanswered. With
// SO_REUSEPORT (--worker-mode threads, or CAIRN_WORKER_ACCEPT=reuseport) the primary holds the port by listening
// on it until a worker has bound it (cluster/primary.ts); a connection that landed on its socket stayed open with
// nobody to answer it (test/go's health check waited for good). Health checks run from before the start.
import { mkdtemp, rm } from 'node:fs/promises';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnCairn } from '../helpers/cli.js';
import { WORKERS_ROOT } from '../helpers/workers.js';

/** A port free now (the OS's pick), for a server that must be asked before it says where it listens. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as { port: number };
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** One health check on a new connection: its status, an error, or 'unanswered' after `waitMs`. */
function health(port: number, waitMs: number): Promise<number | 'error' | 'unanswered'> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/health/live', agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', () => resolve('error'));
    const timer = setTimeout(() => {
      resolve('unanswered');
      req.destroy();
    }, waitMs);
    req.once('close', () => clearTimeout(timer));
  });
}

describe.each([
  ['threads', { CAIRN_WORKER_MODE: 'threads' }],
  ['processes with reuseport', { CAIRN_WORKER_MODE: 'processes', CAIRN_WORKER_ACCEPT: 'reuseport' }],
])('workers as %s, starting', (_, env) => {
  it('answer or refuse every health check made meanwhile', async () => {
    const base = await mkdtemp(join(tmpdir(), 'cairn-startup-accept-'));
    const port = await freePort();
    const child = spawnCairn(
      ['server', '--workers', '2', '--address', `127.0.0.1:${port}`, join(base, 'd{1...4}')],
      {
        CAIRN_ROOT_USER: WORKERS_ROOT.accessKey,
        CAIRN_ROOT_PASSWORD: WORKERS_ROOT.secretKey,
        CAIRN_LOG_LEVEL: 'warn',
        ...env,
      },
      ['ignore', 'ignore', 'pipe'],
    );
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    try {
      const unanswered: number[] = [];
      // Generous for a loaded machine: a health check of a started server is answered in milliseconds.
      for (let attempt = 0; ; attempt++) {
        const r = await health(port, 60_000);
        if (r === 'unanswered') unanswered.push(attempt);
        if (r === 200) break;
        if (child.exitCode !== null) throw new Error(`cairn server exited (${child.exitCode}): ${stderr}`);
        if (attempt > 20_000) throw new Error('the server did not start');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(unanswered).toEqual([]);
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await gone;
      }
      await rm(base, { recursive: true, force: true });
    }
  }, 300_000);
});
