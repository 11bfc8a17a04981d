// Workers run with bounded heaps (cluster/worker-memory.ts: --max-old-space-size and --max-semi-space-size
// on a process's command line; the same bounds as a thread's resourceLimits, cluster/spawn.ts) and still
// carry bench/load's shapes without running out of memory: concurrent 64 MiB PUTs and GETs, a multipart
// upload of parts sent at once, hundreds of small PUTs and GETs at concurrency 32, and an S3 Select
// returning every record of a big CSV object. Every answer is checked (bytes read back, record count), and
// no worker exited meanwhile (the primary logs each exit). Both modes.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
  SelectObjectContentCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { WORKER_OLD_SPACE_MB, WORKER_SEMI_SPACE_MB } from '../../server/src/cluster/worker-memory.js';
import { mismatch, pattern } from '../helpers/object-bytes.js';
import { startWorkers, WORKER_MODES, type WorkersServer } from '../helpers/workers.js';

const MiB = 1024 * 1024;
const BUCKET = 'mem';

async function getBytes(s3: S3Client, key: string): Promise<Buffer> {
  const r = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

/** Runs `n` tasks, at most `width` at a time. */
async function inParallel(n: number, width: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

describe.each(WORKER_MODES)('workers (%s) with bounded heaps under the load suite shapes', (mode) => {
  let server: WorkersServer;
  let clients: S3Client[];

  beforeAll(async () => {
    server = await startWorkers(2, { CAIRN_WORKER_MODE: mode });
    clients = [await server.client(1), await server.client(2)];
    await clients[0].send(new CreateBucketCommand({ Bucket: BUCKET }));
  });
  afterAll(() => server?.close());

  it('are started with the heap bounds', async () => {
    for (const slot of [1, 2]) {
      // The limit V8 applies, as the worker reports it: old generation plus the young one's three semi-spaces.
      const serving = await server.logLine((l) => l.worker === slot && l.msg === `worker ${slot} serving`);
      expect(serving.heapLimitMb).toBe(WORKER_OLD_SPACE_MB + 3 * WORKER_SEMI_SPACE_MB);
      if (mode === 'threads') continue;
      const argv = (await readFile(`/proc/${server.pid(slot)}/cmdline`, 'utf8')).split('\0');
      expect(argv).toContain(`--max-old-space-size=${WORKER_OLD_SPACE_MB}`);
      expect(argv).toContain(`--max-semi-space-size=${WORKER_SEMI_SPACE_MB}`);
      expect(argv).toContain('--expose-gc');
    }
  });

  it('carry 64 MiB PUTs and GETs, a multipart upload, small objects and a big Select, and none exits', async () => {
    const pids = [server.pid(1), server.pid(2)];
    // Four 64 MiB PUTs at once, two on each worker; then read back crosswise.
    const big = (i: number) => pattern(64 * MiB, i);
    await Promise.all(
      [0, 1, 2, 3].map((i) =>
        clients[i % 2].send(new PutObjectCommand({ Bucket: BUCKET, Key: `big${i}`, Body: big(i) })),
      ),
    );
    await Promise.all(
      [0, 1, 2, 3].map(async (i) =>
        expect(mismatch(await getBytes(clients[(i + 1) % 2], `big${i}`), big(i), 0, i), `big${i}`).toBeNull(),
      ),
    );

    // A multipart upload whose three 16 MiB parts go at once, to both workers.
    const { UploadId } = await clients[0].send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'parts' }));
    const whole = pattern(48 * MiB, 7);
    const parts = await Promise.all(
      [1, 2, 3].map(async (n) => {
        const Body = whole.subarray((n - 1) * 16 * MiB, n * 16 * MiB);
        const r = await clients[n % 2].send(
          new UploadPartCommand({ Bucket: BUCKET, Key: 'parts', UploadId, PartNumber: n, Body }),
        );
        return { PartNumber: n, ETag: r.ETag };
      }),
    );
    await clients[1].send(
      new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'parts', UploadId, MultipartUpload: { Parts: parts } }),
    );
    expect(mismatch(await getBytes(clients[0], 'parts'), whole, 0, 7)).toBeNull();

    // 600 small objects at concurrency 32, then read back.
    const small = (i: number) => pattern(4096, 1000 + i);
    await inParallel(600, 32, async (i) => {
      await clients[i % 2].send(new PutObjectCommand({ Bucket: BUCKET, Key: `small/${i}`, Body: small(i) }));
    });
    await inParallel(600, 32, async (i) => {
      expect(mismatch(await getBytes(clients[(i + 1) % 2], `small/${i}`), small(i))).toBeNull();
    });

    // S3 Select returning every record of a 32 MiB CSV object.
    const rows = 400_000;
    const csv = Buffer.from(
      `id,name,amount\n${Array.from({ length: rows }, (_, i) => `${i},name-${i % 977},${(i * 7919) % 100000}.25`).join('\n')}\n`,
    );
    await clients[0].send(new PutObjectCommand({ Bucket: BUCKET, Key: 'rows.csv', Body: csv }));
    const res = await clients[1].send(
      new SelectObjectContentCommand({
        Bucket: BUCKET,
        Key: 'rows.csv',
        ExpressionType: 'SQL',
        Expression: 'SELECT s.id, s.name, s.amount FROM S3Object s',
        InputSerialization: { CSV: { FileHeaderInfo: 'USE' } },
        OutputSerialization: { CSV: {} },
      }),
    );
    let newlines = 0;
    let ended = false;
    for await (const ev of res.Payload!) {
      if (ev.Records?.Payload) for (const b of ev.Records.Payload) if (b === 10) newlines++;
      if (ev.End) ended = true;
    }
    expect(ended).toBe(true);
    expect(newlines).toBe(rows);

    // Nobody exited (the primary logs every exit and restart), and the same processes still serve.
    expect(server.logs.filter((l) => l.worker === 0 && /exited/.test(String(l.msg)))).toEqual([]);
    expect([server.pid(1), server.pid(2)]).toEqual(pids);
    await Promise.all(clients.map((c) => c.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'after', Body: 'x' }))));
  }, 300_000);
});
