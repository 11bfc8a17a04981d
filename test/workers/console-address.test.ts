// `cairn server --workers 2` with CAIRN_CONSOLE_ADDRESS: every worker serves the console's own address, with
// node:cluster sharing the socket (the default) and with SO_REUSEPORT (the primary holds the port it picked for port
// 0, as for the S3 address, so both workers bind the same one). The primary logs where the console is.
import { get } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startWorkers, type WorkersServer } from '../helpers/workers.js';

let server: WorkersServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** One GET on a new connection: its status and the worker that answered. */
function getOnce(url: string): Promise<{ status: number; worker?: string }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, worker: res.headers['x-cairn-worker'] as string }));
    }).on('error', reject);
  });
}

describe.each(['shared', 'reuseport'])('console address with two workers (%s)', (accept) => {
  it('is served by both workers, on one port that is not the S3 port', async () => {
    server = await startWorkers(2, { CAIRN_CONSOLE_ADDRESS: '127.0.0.1:0', CAIRN_WORKER_ACCEPT: accept });
    const line = await server.logLine((l) => l.worker === 0 && String(l.msg).startsWith('The web console is at'));
    const consoleUrl = line.url as string;
    expect(consoleUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/console\/$/);
    expect(new URL(consoleUrl).port).not.toBe(new URL(server.url).port);
    // New connections until each worker has answered (bounded: the kernel or the primary spreads them).
    const seen = new Set<string>();
    for (let i = 0; i < 200 && seen.size < 2; i++) {
      const res = await getOnce(consoleUrl);
      expect(res.status).toBe(200);
      if (res.worker) seen.add(res.worker);
    }
    expect([...seen].sort()).toEqual(['1', '2']);
    // Each worker logged the same console address.
    const workerUrls = new Set(
      server.logs.filter((l) => l.worker !== 0 && l.msg?.endsWith('serving')).map((l) => l.console),
    );
    expect(workerUrls).toEqual(new Set([consoleUrl]));
  });
});
