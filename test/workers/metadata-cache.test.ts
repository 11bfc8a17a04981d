// CAIRN_METADATA_CACHE_MS with `cairn server --workers 2`: a worker keeps the metadata read of a GET or HEAD
// for the object's next ones, and drops it when any worker writes to the erasure set (the change bus reaches
// every worker before the writer answers). Here kept answers live 10 minutes, so only that invalidation can
// make a worker see a write of the other: overwrites (inline and in shard files), a multipart completion,
// deletes and re-creations made on worker 1 are what worker 2 reads next, and the other way round. That kept
// answers are used at all: server/test/storage/metadata-cache.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { s3Error } from '../helpers/cairn.js';
import { mismatch, pattern } from '../helpers/object-bytes.js';
import { startWorkers, type WorkersServer } from '../helpers/workers.js';

const MiB = 1024 * 1024;
let server: WorkersServer;
/** root[i] is served by worker i + 1. */
let root: S3Client[];

beforeAll(async () => {
  server = await startWorkers(2, { CAIRN_METADATA_CACHE_MS: '600000' });
  root = await Promise.all([1, 2].map((w) => server.client(w)));
  await root[0].send(new CreateBucketCommand({ Bucket: 'kept' }));
});
afterAll(() => server?.close());

/** Worker `w`'s GET (whole, or a range) and HEAD of `key`: the version number in its metadata and bytes checked. */
async function read(w: number, key: string, size: number, v: number): Promise<void> {
  const got = await root[w].send(new GetObjectCommand({ Bucket: 'kept', Key: key }));
  const bytes = Buffer.from(await got.Body!.transformToByteArray());
  expect(got.Metadata?.v, `worker ${w + 1} GET ${key}`).toBe(String(v));
  expect(mismatch(bytes, pattern(size, v), 0, v), `worker ${w + 1} GET ${key}`).toBeNull();
  const ranged = await root[w].send(new GetObjectCommand({ Bucket: 'kept', Key: key, Range: `bytes=${size - 100}-` }));
  const tail = Buffer.from(await ranged.Body!.transformToByteArray());
  expect(mismatch(tail, pattern(size, v).subarray(size - 100), 0, v), `worker ${w + 1} range of ${key}`).toBeNull();
  const head = await root[w].send(new HeadObjectCommand({ Bucket: 'kept', Key: key }));
  expect([head.Metadata?.v, head.ContentLength], `worker ${w + 1} HEAD ${key}`).toEqual([String(v), size]);
}

const put = (w: number, key: string, size: number, v: number) =>
  root[w].send(new PutObjectCommand({ Bucket: 'kept', Key: key, Body: pattern(size, v), Metadata: { v: String(v) } }));

describe('metadata cache across workers', () => {
  it("each worker reads the other's overwrites, deletes and re-creations next, though it kept the old answer", async () => {
    // Inline-sized and multi-block versions in turn: each worker reads (and keeps) before the other writes.
    const sizes = [10_000, 1.5 * MiB, 20_000, 2.5 * MiB, 30_000];
    for (const [v, size] of sizes.entries()) {
      const writer = v % 2;
      await put(writer, 'k', size, v);
      for (const w of [1 - writer, writer, 1 - writer]) await read(w, 'k', size, v);
    }
    for (const deleter of [0, 1]) {
      await root[deleter].send(new DeleteObjectCommand({ Bucket: 'kept', Key: 'k' }));
      for (const w of [1 - deleter, deleter]) {
        expect((await s3Error(root[w].send(new GetObjectCommand({ Bucket: 'kept', Key: 'k' })))).name).toBe(
          'NoSuchKey',
        );
        expect((await s3Error(root[w].send(new HeadObjectCommand({ Bucket: 'kept', Key: 'k' })))).status).toBe(404);
      }
      // Re-created on the worker that did not delete it: both had kept "no such key".
      await put(1 - deleter, 'k', 5000, 100 + deleter);
      for (const w of [deleter, 1 - deleter]) await read(w, 'k', 5000, 100 + deleter);
    }
  });

  it('a multipart upload completed on one worker replaces what the other kept', async () => {
    await put(0, 'mp', 4000, 1);
    await read(1, 'mp', 4000, 1);
    const { UploadId } = await root[0].send(
      new CreateMultipartUploadCommand({ Bucket: 'kept', Key: 'mp', Metadata: { v: '2' } }),
    );
    const whole = pattern(6 * MiB, 2);
    const parts = [];
    for (const [i, slice] of [whole.subarray(0, 5 * MiB), whole.subarray(5 * MiB)].entries()) {
      const r = await root[i % 2].send(
        new UploadPartCommand({ Bucket: 'kept', Key: 'mp', UploadId, PartNumber: i + 1, Body: slice }),
      );
      parts.push({ PartNumber: i + 1, ETag: r.ETag });
    }
    await read(1, 'mp', 4000, 1); // parts are no change of the object: still the old version, kept
    await root[0].send(
      new CompleteMultipartUploadCommand({ Bucket: 'kept', Key: 'mp', UploadId, MultipartUpload: { Parts: parts } }),
    );
    await read(1, 'mp', 6 * MiB, 2);
  });
});
