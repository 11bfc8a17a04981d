// `cairn server --workers 2` from start to stop: both workers answer the health endpoints and log with
// their number; a GET on one worker keeps the data it reads alive while the other replaces the object
// (the removal of the old data waits for that reader); and SIGTERM lets an upload in flight on each worker
// finish before the server exits 0.
// Workers as processes and as threads (--worker-mode), one server each.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startServer } from '@cairn/server';
import { makeClient } from '../helpers/cairn.js';
import { mismatch, pattern } from '../helpers/object-bytes.js';
import {
  heldPut,
  pausedGet,
  pinnedAgent,
  startWorkers,
  WORKERS_ROOT,
  type WorkersServer,
  WORKER_MODES,
} from '../helpers/workers.js';
import { get } from 'node:http';

const MiB = 1024 * 1024;
let server: WorkersServer;
let s3: S3Client[];

describe.each(WORKER_MODES)('workers as %s', (mode) => {
  beforeAll(async () => {
    server = await startWorkers(2, { CAIRN_LOG_LEVEL: 'debug', CAIRN_WORKER_MODE: mode });
    s3 = await Promise.all([1, 2].map((w) => server.client(w)));
    await s3[0].send(new CreateBucketCommand({ Bucket: 'life' }));
  });
  afterAll(() => server?.close());

  describe('a multi-worker server', () => {
    it('answers health checks on every worker; every log line names its worker', async () => {
      for (const slot of [1, 2]) {
        const agent = await pinnedAgent(server.url, slot);
        for (const path of ['/health/live', '/health/ready', '/minio/health/live', '/minio/health/ready']) {
          const status = await new Promise<number>((resolve, reject) =>
            get(`${server.url}${path}`, { agent }, (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            }).once('error', reject),
          );
          expect(status, `${path} on worker ${slot}`).toBe(200);
        }
        agent.destroy();
      }
      // Exactly one leader; the primary's lines are worker 0, request lines carry the worker that served.
      const serving = server.logs.filter((l) => typeof l.msg === 'string' && /^worker \d serving$/.test(l.msg));
      expect(serving.map((l) => [l.worker, l.leader]).sort()).toEqual([
        [1, true],
        [2, false],
      ]);
      expect(server.logs.every((l) => typeof l.worker === 'number')).toBe(true);
      const served = new Set(server.logs.filter((l) => l.msg === 'request completed').map((l) => l.worker));
      expect(served).toEqual(new Set([1, 2]));
    });

    it('a GET on one worker keeps the data it reads while another worker replaces the object', async () => {
      const [v1, v2] = [pattern(32 * MiB, 1), pattern(32 * MiB, 2)];
      await s3[0].send(new PutObjectCommand({ Bucket: 'life', Key: 'big', Body: v1 }));
      // Worker 2 starts sending v1 and is held back by a client that stopped reading (32 MiB is more than
      // the sockets buffer), then worker 1 replaces it: after the grace period its removal of v1's data asks
      // worker 2, which still reads it.
      const reading = await pausedGet(server.url, 2, '/life/big');
      await s3[0].send(new PutObjectCommand({ Bucket: 'life', Key: 'big', Body: v2 }));
      await server.logLine((l) => l.worker === 2 && /replaced data dirs waits for their readers/.test(String(l.msg)));
      expect(mismatch(await reading.finish(), v1, 0, 1)).toBeNull();
      const now = await s3[1].send(new GetObjectCommand({ Bucket: 'life', Key: 'big' }));
      expect(mismatch(Buffer.from(await now.Body!.transformToByteArray()), v2, 0, 2)).toBeNull();
    });

    it('SIGTERM: an upload in flight on each worker finishes, then the server exits 0', async () => {
      const bodies = [pattern(3 * MiB, 11), pattern(3 * MiB, 12)];
      const uploads = await Promise.all(
        [1, 2].map((slot) => heldPut(server.url, slot, `/life/inflight-${slot}`, bodies[slot - 1], 1000)),
      );
      // Both workers have the requests, then the server is told to stop and each worker says so.
      for (const slot of [1, 2])
        await server.logLine(
          (l) =>
            l.worker === slot &&
            l.msg === 'incoming request' &&
            (l.req as { url?: string }).url === `/life/inflight-${slot}`,
        );
      const exit = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
      server.child.kill('SIGTERM');
      for (const slot of [1, 2]) await server.logLine((l) => l.worker === slot && l.msg === 'shutting down');
      for (const u of uploads) u.finish();
      for (const u of uploads) expect((await u.answer).status).toBe(200);
      expect(await exit).toBe(0);
      // Both objects are on the drives: a server started afresh on them reads them back.
      const again = await startServer({
        drives: [join(server.base, 'd{1...4}')],
        address: '127.0.0.1:0',
        credentials: { root: WORKERS_ROOT },
      });
      try {
        const client = makeClient(again.url, { credentials: WORKERS_ROOT });
        for (const slot of [1, 2]) {
          const got = await client.send(new GetObjectCommand({ Bucket: 'life', Key: `inflight-${slot}` }));
          expect(mismatch(Buffer.from(await got.Body!.transformToByteArray()), bodies[slot - 1])).toBeNull();
        }
      } finally {
        await again.close();
      }
    });
  });
});
