// ListMultipartUploads with `cairn server --workers 2`: uploads started through either worker are listed by the
// other in S3's order (key, then initiation), page by page; an upload completed or aborted through one worker is
// gone from the other's next listing. Each worker keeps its own copy of the key-ordered index
// (storage/engine/upload-index.ts) and follows the other's appends to it on the drives.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkers, type WorkersServer } from '../helpers/workers.js';

let server: WorkersServer;
let s3: S3Client[];
const Bucket = 'uploads';

beforeAll(async () => {
  server = await startWorkers(2);
  s3 = await Promise.all([1, 2].map((w) => server.client(w)));
  await s3[0].send(new CreateBucketCommand({ Bucket }));
});
afterAll(() => server?.close());

/** Every page as worker `c` lists them, `max` a page: "key id" strings. */
async function listed(c: S3Client, max: number): Promise<string[]> {
  const out: string[] = [];
  let KeyMarker: string | undefined;
  let UploadIdMarker: string | undefined;
  for (;;) {
    const r = await c.send(new ListMultipartUploadsCommand({ Bucket, MaxUploads: max, KeyMarker, UploadIdMarker }));
    out.push(...(r.Uploads ?? []).map((u) => `${u.Key} ${u.UploadId}`));
    if (!r.IsTruncated) return out;
    KeyMarker = r.NextKeyMarker;
    UploadIdMarker = r.NextUploadIdMarker;
  }
}

describe('multipart upload listing across workers', () => {
  it('lists what either worker started, in order, and follows completions and aborts', async () => {
    const started: { key: string; id: string; at: number }[] = [];
    for (let i = 0; i < 30; i++) {
      const key = `k${(i * 7) % 11}`;
      const r = await s3[i % 2].send(new CreateMultipartUploadCommand({ Bucket, Key: key }));
      started.push({ key, id: r.UploadId!, at: started.length });
    }
    // Same key: in the order they were started (one after the other here).
    const want = [...started]
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.at - b.at))
      .map((u) => `${u.key} ${u.id}`);
    for (const c of s3) {
      expect(await listed(c, 4)).toEqual(want);
      expect(await listed(c, 1000)).toEqual(want);
    }
    // Worker 1 aborts one, worker 2 completes another: each gone from the other worker's next page.
    const [a, b] = [started[3], started[8]];
    await s3[0].send(new AbortMultipartUploadCommand({ Bucket, Key: a.key, UploadId: a.id }));
    const part = await s3[1].send(
      new UploadPartCommand({ Bucket, Key: b.key, UploadId: b.id, PartNumber: 1, Body: Buffer.from('x') }),
    );
    await s3[1].send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: b.key,
        UploadId: b.id,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    const left = want.filter((x) => x !== `${a.key} ${a.id}` && x !== `${b.key} ${b.id}`);
    expect(await listed(s3[1], 5)).toEqual(left);
    expect(await listed(s3[0], 5)).toEqual(left);
  });
});
