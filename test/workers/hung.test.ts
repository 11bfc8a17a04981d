// A worker of `cairn server --workers 2` that stops answering (its process stopped with SIGSTOP, as an
// event loop stuck for good would be) holds the other worker's writes: each waits until every worker has
// applied its change. The primary's watchdog kills it once it has left its pings unanswered (15 s, more under load);
// on worker 1 then completes, and the worker is started again and serves what was written meanwhile.
// Workers as processes (SIGSTOP, then SIGKILL) and as threads (a blocked event loop, then terminate()).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { mismatch, pattern } from '../helpers/object-bytes.js';
import { startWorkers, type WorkersServer } from '../helpers/workers.js';

describe.each(['processes', 'threads'])('a worker that stops answering (%s)', (mode) => {
  let server: WorkersServer;
  beforeAll(async () => {
    server = await startWorkers(2, { CAIRN_WORKER_MODE: mode });
    await (await server.client(1)).send(new CreateBucketCommand({ Bucket: 'hung' }));
  });
  afterAll(async () => {
    // A failed test could leave worker 2 stopped: SIGTERM would wait for it.
    try {
      server.resume(2);
    } catch {}
    await server?.close();
  });

  it('is killed and started again; the write it held on another worker completes', { timeout: 120_000 }, async () => {
    const one = await server.client(1);
    const stuck = server.pid(2);
    server.hang(2);
    const body = pattern(50_000, 7);
    const written = one.send(new PutObjectCommand({ Bucket: 'hung', Key: 'meanwhile', Body: body }));
    const killed = await server.logLine((l) => l.worker === 0 && l.msg === 'worker 2 does not answer: killing it');
    expect(killed.workerPid ?? killed.threadId).toBe(stuck);
    expect((await written).ETag).toBeTruthy();
    await server.logLine((l) => l.worker === 0 && l.msg === 'worker 2 is back');
    expect(server.pid(2)).not.toBe(stuck);
    const two = await server.client(2);
    const got = await two.send(new GetObjectCommand({ Bucket: 'hung', Key: 'meanwhile' }));
    expect(mismatch(Buffer.from(await got.Body!.transformToByteArray()), body)).toBeNull();
  });
});
