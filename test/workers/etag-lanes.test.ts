// The ETag MD5s of all uploads of a `cairn server --workers 2` (threads) are hashed by one batcher shared by
// both worker threads, each upload's MD5 lagging its body by a few MiB (native/src/md5_streams.rs). Against
// node:crypto: concurrent PUTs of different sizes on both workers (around the 1 MiB block and the 2 MiB lag),
// multipart parts cut at odd sizes, uploads given up mid-body while others go on, and a worker thread ended
// with an upload's bytes waiting: the other worker's ETags stay right and the process lives on.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { s3Error } from '../helpers/cairn.js';
import { mismatch, pattern } from '../helpers/object-bytes.js';
import { heldPut, startWorkers, type WorkersServer } from '../helpers/workers.js';

const MiB = 1024 * 1024;
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const etagOf = (e: string | undefined) => (e ?? '').replaceAll('"', '');

describe('ETag MD5s hashed across worker threads', () => {
  let server: WorkersServer;
  let s3: [S3Client, S3Client];
  beforeAll(async () => {
    server = await startWorkers(2, { CAIRN_WORKER_MODE: 'threads' });
    s3 = [await server.client(1), await server.client(2)];
    await s3[0].send(new CreateBucketCommand({ Bucket: 'lanes' }));
  });
  afterAll(() => server?.close());

  const put = (c: S3Client, key: string, body: Buffer) =>
    c.send(new PutObjectCommand({ Bucket: 'lanes', Key: key, Body: body }));

  it('concurrent PUTs of different sizes on both workers get the MD5 of their bytes', async () => {
    const sizes = [0, 1, 64 * 1024, MiB - 1, MiB, MiB + 1, 2 * MiB + 3, 3 * MiB, 5 * MiB + 7, 9 * MiB + 1];
    const bodies = sizes.map((n, i) => pattern(n, i));
    const answers = await Promise.all(bodies.map((b, i) => put(s3[i % 2], `put/${i}`, b)));
    answers.forEach((a, i) => expect(etagOf(a.ETag), `size ${sizes[i]}`).toBe(md5(bodies[i])));
    // The stored bytes are the ones hashed.
    for (const i of [4, 8, 9]) {
      const got = await s3[1 - (i % 2)].send(new GetObjectCommand({ Bucket: 'lanes', Key: `put/${i}` }));
      expect(mismatch(Buffer.from(await got.Body!.transformToByteArray()), bodies[i], 0, i)).toBeNull();
    }
  });

  it('multipart parts of odd sizes, uploaded at once on both workers, each get their MD5', async () => {
    const { UploadId } = await s3[0].send(new CreateMultipartUploadCommand({ Bucket: 'lanes', Key: 'mp' }));
    const parts = [5 * MiB, 5 * MiB + 1, 6 * MiB - 1, 3].map((n, i) => pattern(n, 100 + i));
    const answers = await Promise.all(
      parts.map((Body, i) =>
        s3[i % 2].send(new UploadPartCommand({ Bucket: 'lanes', Key: 'mp', UploadId, PartNumber: i + 1, Body })),
      ),
    );
    answers.forEach((a, i) => expect(etagOf(a.ETag), `part ${i + 1}`).toBe(md5(parts[i])));
    const done = await s3[1].send(
      new CompleteMultipartUploadCommand({
        Bucket: 'lanes',
        Key: 'mp',
        UploadId,
        MultipartUpload: { Parts: answers.map((a, i) => ({ PartNumber: i + 1, ETag: a.ETag })) },
      }),
    );
    const whole = md5(Buffer.concat(parts.map((p) => Buffer.from(md5(p), 'hex'))));
    expect(etagOf(done.ETag)).toBe(`${whole}-4`);
  });

  it('uploads given up mid-body leave the others right and nothing stored', async () => {
    // Cut after 1.5 MiB (a block pushed, its bytes waiting) and after 3.25 MiB (a pass due, perhaps running).
    const cuts = await Promise.all(
      [1.5 * MiB, 3.25 * MiB].flatMap((first, i) => [
        heldPut(server.url, 1, `/lanes/cut-${i}-1`, pattern(8 * MiB, 200 + i), first),
        heldPut(server.url, 2, `/lanes/cut-${i}-2`, pattern(8 * MiB, 210 + i), first),
      ]),
    );
    const bodies = [4 * MiB + 5, 7 * MiB, 2 * MiB - 1, 6 * MiB].map((n, i) => pattern(n, 300 + i));
    const puts = bodies.map((b, i) => put(s3[i % 2], `beside/${i}`, b));
    for (const c of cuts) c.abort();
    for (const c of cuts) await expect(c.answer).rejects.toThrow();
    (await Promise.all(puts)).forEach((a, i) => expect(etagOf(a.ETag)).toBe(md5(bodies[i])));
    for (const key of ['cut-0-1', 'cut-0-2', 'cut-1-1', 'cut-1-2']) {
      expect((await s3Error(s3[0].send(new HeadObjectCommand({ Bucket: 'lanes', Key: key })))).name).toBe('NotFound');
    }
    // The same keys written whole afterwards get their right ETags.
    const again = pattern(8 * MiB, 200);
    expect(etagOf((await put(s3[1], 'cut-0-1', again)).ETag)).toBe(md5(again));
  });

  it('a worker thread ended with bytes waiting: the other worker goes on right, the process lives', async () => {
    const held = await heldPut(server.url, 2, '/lanes/doomed', pattern(8 * MiB, 400), 1.5 * MiB);
    await new Promise((r) => setTimeout(r, 300)); // its first block reaches the batcher
    const bodies = [6 * MiB, 3 * MiB + 9, 5 * MiB].map((n, i) => pattern(n, 500 + i));
    const puts = bodies.map((b, i) => put(s3[0], `after-kill/${i}`, b));
    server.kill(2);
    await expect(held.answer).rejects.toThrow();
    (await Promise.all(puts)).forEach((a, i) => expect(etagOf(a.ETag)).toBe(md5(bodies[i])));
    await server.logLine((l) => l.worker === 0 && l.msg === 'worker 2 is back');
    const back = await server.client(2);
    const body = pattern(4 * MiB + 1, 600);
    const [a, b] = await Promise.all([put(back, 'back/2', body), put(s3[0], 'back/1', body)]);
    expect([etagOf(a.ETag), etagOf(b.ETag)]).toEqual([md5(body), md5(body)]);
  });
});
