// Multipart behaviour beyond the happy path, over HTTP with @aws-sdk/client-s3: ListParts and
// ListMultipartUploads paging, missing and duplicate parts at completion, UploadPartCopy of a version and
// under copy conditions, and bitrot in the second and third parts of an object.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type ListMultipartUploadsCommandInput,
  type ListPartsCommandInput,
  type S3Client,
  type UploadPartCopyCommandInput,
} from '@aws-sdk/client-s3';
import { s3Error, startWithBucket, type TestServer } from '../helpers/cairn.js';
import { mismatch, pattern, streamedGet } from '../helpers/object-bytes.js';
import { objectDir } from '../../server/src/storage/meta/key-path.js';

const MiB = 1024 * 1024;
let server: TestServer;
let s3: S3Client;
const bucket = 'mp-gaps';

beforeAll(async () => {
  ({ server, s3 } = await startWithBucket(bucket, {
    storage: { background: false, blockSize: MiB },
    client: { checksums: 'WHEN_REQUIRED' },
  }));
});
afterAll(() => server?.close());

async function upload(key: string): Promise<string> {
  return (await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }))).UploadId!;
}
const uploadPart = (Key: string, UploadId: string, PartNumber: number, Body: string | Buffer) =>
  s3.send(new UploadPartCommand({ Bucket: bucket, Key, UploadId, PartNumber, Body }));
const complete = (Key: string, UploadId: string, Parts: CompletedPart[]) =>
  s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key, UploadId, MultipartUpload: { Parts } }));
const abort = (Key: string, UploadId: string) =>
  s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key, UploadId }));
const listParts = (o: Omit<ListPartsCommandInput, 'Bucket'>) => s3.send(new ListPartsCommand({ Bucket: bucket, ...o }));
const listUploads = (o: Omit<ListMultipartUploadsCommandInput, 'Bucket'>) =>
  s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, ...o }));

describe('paging', () => {
  it('ListParts pages with MaxParts and PartNumberMarker, each part once, in order', async () => {
    const key = 'paged-parts';
    const UploadId = await upload(key);
    const numbers = [1, 2, 3, 5, 8, 13, 21];
    for (const n of numbers) await uploadPart(key, UploadId, n, `part ${n}`);
    const seen: number[] = [];
    let marker: string | undefined;
    const pages: { marker?: string; next?: string; truncated?: boolean; count: number }[] = [];
    do {
      const r = await listParts({ Key: key, UploadId, MaxParts: 3, PartNumberMarker: marker });
      expect(r.MaxParts).toBe(3);
      seen.push(...(r.Parts ?? []).map((p) => p.PartNumber!));
      const count = r.Parts?.length ?? 0;
      pages.push({ marker, next: r.NextPartNumberMarker, truncated: r.IsTruncated, count });
      marker = r.IsTruncated ? r.NextPartNumberMarker : undefined;
    } while (marker !== undefined);
    expect(seen).toEqual(numbers);
    // AWS: NextPartNumberMarker is the last part listed; the next page starts after it.
    expect(pages).toEqual([
      { marker: undefined, next: '3', truncated: true, count: 3 },
      { marker: '3', next: '13', truncated: true, count: 3 },
      { marker: '13', next: '21', truncated: false, count: 1 },
    ]);
    const after4 = await listParts({ Key: key, UploadId, PartNumberMarker: '4' });
    expect(after4.Parts?.map((p) => [p.PartNumber, p.Size])).toEqual([
      [5, 6],
      [8, 6],
      [13, 7],
      [21, 7],
    ]);
    await abort(key, UploadId);
  });

  it('ListMultipartUploads pages with MaxUploads, KeyMarker and UploadIdMarker, also inside one key', async () => {
    // Uploads sort by key, then by initiation time (AWS ListMultipartUploads); three share the key "b".
    const prefix = 'uploads/';
    const started: [string, string][] = [];
    for (const k of ['a', 'b', 'b', 'b', 'c', 'd/x', 'd/y']) started.push([prefix + k, await upload(prefix + k)]);
    const seen: [string, string][] = [];
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    let pages = 0;
    for (;;) {
      const r = await listUploads({ Prefix: prefix, MaxUploads: 2, KeyMarker: keyMarker, UploadIdMarker: idMarker });
      pages++;
      expect(r.MaxUploads).toBe(2);
      seen.push(...(r.Uploads ?? []).map((u): [string, string] => [u.Key!, u.UploadId!]));
      if (!r.IsTruncated) break;
      expect(r.Uploads).toHaveLength(2);
      // The markers name the last upload listed.
      expect([r.NextKeyMarker, r.NextUploadIdMarker]).toEqual(seen.at(-1));
      keyMarker = r.NextKeyMarker;
      idMarker = r.NextUploadIdMarker;
    }
    expect(seen).toEqual(started);
    expect(pages).toBe(4);
    // A key marker alone lists the keys after it, none of its own uploads.
    const after = await listUploads({ Prefix: prefix, KeyMarker: `${prefix}b` });
    expect(after.Uploads?.map((u) => u.Key)).toEqual([`${prefix}c`, `${prefix}d/x`, `${prefix}d/y`]);
    // With a delimiter, the uploads under d/ roll up into one common prefix.
    const rolled = await listUploads({ Prefix: prefix, Delimiter: '/' });
    expect(rolled.Uploads?.map((u) => u.Key)).toEqual(started.slice(0, 5).map(([k]) => k));
    expect(rolled.CommonPrefixes?.map((p) => p.Prefix)).toEqual([`${prefix}d/`]);
    for (const [key, id] of started) await abort(key, id);
  });
});

describe('completion', () => {
  const part = Buffer.alloc(5 * MiB, 'p');

  it('a part never uploaded, a wrong ETag or a part named twice is refused; nothing is stored', async () => {
    const key = 'complete-bad';
    const UploadId = await upload(key);
    const e1 = (await uploadPart(key, UploadId, 1, part)).ETag!;
    const e2 = (await uploadPart(key, UploadId, 2, 'last')).ETag!;
    const refused = (parts: CompletedPart[]) => s3Error(complete(key, UploadId, parts));
    // AWS (and ceph/s3-tests test_multipart_upload_missing_part, _incorrect_etag): 400 InvalidPart.
    const invalid = { name: 'InvalidPart', status: 400 };
    expect(
      await refused([
        { PartNumber: 1, ETag: e1 },
        { PartNumber: 3, ETag: e2 },
      ]),
    ).toEqual(invalid);
    expect(
      await refused([
        { PartNumber: 1, ETag: e1 },
        { PartNumber: 2, ETag: e1 },
      ]),
    ).toEqual(invalid);
    // Part numbers must ascend: the same part twice is InvalidPartOrder.
    const twice = [
      { PartNumber: 1, ETag: e1 },
      { PartNumber: 1, ETag: e1 },
      { PartNumber: 2, ETag: e2 },
    ];
    expect(await refused(twice)).toEqual({ name: 'InvalidPartOrder', status: 400 });
    const head = await s3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
    expect(head).toMatchObject({ status: 404 });
    const listed = await listParts({ Key: key, UploadId });
    expect(listed.Parts?.map((p) => [p.PartNumber, p.ETag])).toEqual([
      [1, e1],
      [2, e2],
    ]);
    // The upload is still there and completes with the right list.
    await complete(key, UploadId, [
      { PartNumber: 1, ETag: e1 },
      { PartNumber: 2, ETag: e2 },
    ]);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const body = Buffer.from(await got.Body!.transformToByteArray());
    expect(body.equals(Buffer.concat([part, Buffer.from('last')]))).toBe(true);
  });
});

describe('UploadPartCopy', () => {
  const copyPart = (o: Omit<UploadPartCopyCommandInput, 'Bucket'>) =>
    s3.send(new UploadPartCopyCommand({ Bucket: bucket, ...o }));

  it('copies the version named by versionId and says which version it copied', async () => {
    const vb = 'mp-gaps-versioned';
    await s3.send(new CreateBucketCommand({ Bucket: vb }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: vb, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = pattern(5 * MiB + 3, 1);
    const v2 = pattern(5 * MiB + 3, 2);
    const id1 = (await s3.send(new PutObjectCommand({ Bucket: vb, Key: 'src', Body: v1 }))).VersionId!;
    await s3.send(new PutObjectCommand({ Bucket: vb, Key: 'src', Body: v2 }));
    const key = 'from-version';
    const UploadId = await upload(key);
    const p1 = await copyPart({ Key: key, UploadId, PartNumber: 1, CopySource: `${vb}/src?versionId=${id1}` });
    expect(p1.CopySourceVersionId).toBe(id1);
    const p2 = await copyPart({
      Key: key,
      UploadId,
      PartNumber: 2,
      CopySource: `${vb}/src`,
      CopySourceRange: 'bytes=0-9',
    });
    expect(p2.CopySourceVersionId).not.toBe(id1);
    await complete(
      key,
      UploadId,
      [p1, p2].map((p, i) => ({ PartNumber: i + 1, ETag: p.CopyPartResult!.ETag })),
    );
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const got = Buffer.from(await res.Body!.transformToByteArray());
    expect(mismatch(got, Buffer.concat([v1, v2.subarray(0, 10)]))).toBeNull();
    // A version that does not exist: 404 (AWS answers NoSuchVersion for a versionId it cannot find).
    const other = await upload('x');
    const missing = copyPart({ Key: 'x', UploadId: other, PartNumber: 1, CopySource: `${vb}/src?versionId=nope` });
    expect(await s3Error(missing)).toMatchObject({ status: 404 });
  });

  it('copy conditions: a failed one is 412 PreconditionFailed and uploads no part', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond-src', Body: Buffer.alloc(1000, 's') }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'cond-src' }));
    const key = 'cond-copy';
    const UploadId = await upload(key);
    const copy = (n: number, o: Partial<UploadPartCopyCommandInput>) =>
      copyPart({ Key: key, UploadId, PartNumber: n, CopySource: `${bucket}/cond-src`, ...o });
    const future = new Date(Date.now() + 3600_000);
    const past = new Date(head.LastModified!.getTime() - 3600_000);
    // AWS (CopyObject/UploadPartCopy): any x-amz-copy-source-if-* that fails is 412, never 304.
    const failing = [
      { CopySourceIfMatch: '"0123"' },
      { CopySourceIfNoneMatch: put.ETag },
      { CopySourceIfModifiedSince: future },
      { CopySourceIfUnmodifiedSince: past },
    ];
    for (const f of failing) {
      expect(await s3Error(copy(1, f)), JSON.stringify(f)).toEqual({ name: 'PreconditionFailed', status: 412 });
    }
    expect((await listParts({ Key: key, UploadId })).Parts ?? []).toEqual([]);
    // The same conditions, true: the part is copied.
    const passing = [
      { CopySourceIfMatch: put.ETag },
      { CopySourceIfNoneMatch: '"0123"' },
      { CopySourceIfModifiedSince: past },
      { CopySourceIfUnmodifiedSince: future },
    ];
    for (const [n, p] of passing.entries()) {
      expect((await copy(n + 1, p)).CopyPartResult?.ETag, JSON.stringify(p)).toBe(put.ETag);
    }
    expect((await listParts({ Key: key, UploadId })).Parts?.map((p) => p.PartNumber)).toEqual([1, 2, 3, 4]);
    await abort(key, UploadId);
  });
});

describe('bitrot in later parts', () => {
  // Three parts (5 MiB, 5 MiB, 1 MiB + 7) of 1 MiB blocks on 2+2: part.2 of every drive gets one flipped byte,
  // in a different block per drive, so every shard index (data ones included) is bad somewhere while each
  // block keeps three good shards; part 3's first block loses two of its four shards.
  const parts = [5 * MiB, 5 * MiB, MiB + 7];
  const obj = pattern(
    parts.reduce((a, b) => a + b),
    42,
  );
  const frame = 32 + MiB / 2; // HighwayHash + shard of a full block

  async function putParts(key: string): Promise<void> {
    const UploadId = await upload(key);
    const done: CompletedPart[] = [];
    let at = 0;
    for (const [i, n] of parts.entries()) {
      const r = await uploadPart(key, UploadId, i + 1, obj.subarray(at, (at += n)));
      done.push({ PartNumber: i + 1, ETag: r.ETag });
    }
    await complete(key, UploadId, done);
  }

  /** Flips one byte of block `block` in the shard file of part `part` on drive `d`. */
  async function flip(key: string, d: number, part: number, block: number): Promise<void> {
    const dir = join(server.drives[d], bucket, objectDir(key));
    const dataDir = (await readdir(dir)).find((e) => e !== 'meta')!;
    const file = join(dir, dataDir, `part.${part}`);
    const bytes = await readFile(file);
    bytes[block * frame + 32 + 1000] ^= 0xff;
    await writeFile(file, bytes);
  }

  it('whole, ranged and partNumber GETs return the right bytes', async () => {
    const key = 'rotten';
    await putParts(key);
    for (let d = 0; d < 4; d++) {
      await flip(key, d, 2, d);
      if (d % 2 === 0) await flip(key, d, 3, 0); // two shards of part 3's first block (the second is 7 bytes)
    }
    const whole = await streamedGet(server.url, `/${bucket}/${key}`, { keep: true });
    expect(whole.status).toBe(200);
    expect(mismatch(whole.body!, obj, 0, 42)).toBeNull();
    const from = parts[0] + 3 * MiB - 5; // inside part 2, across block boundaries into part 3
    const range = `bytes=${from}-${from + 3 * MiB}`;
    const ranged = await streamedGet(server.url, `/${bucket}/${key}`, { keep: true, headers: { range } });
    expect(ranged.status).toBe(206);
    expect(mismatch(ranged.body!, obj.subarray(from, from + 3 * MiB + 1), from, 42)).toBeNull();
    for (const n of [2, 3]) {
      const start = parts.slice(0, n - 1).reduce((a, b) => a + b, 0);
      const query = { partNumber: String(n) };
      const got = await streamedGet(server.url, `/${bucket}/${key}`, { keep: true, query });
      expect(mismatch(got.body!, obj.subarray(start, start + parts[n - 1]), start, 42)).toBeNull();
    }
  });

  it('more bad shards in one block of part 2 than parity: an error, never wrong bytes', async () => {
    const key = 'too-rotten';
    await putParts(key);
    for (const d of [0, 1, 2]) await flip(key, d, 2, 1);
    // The response started before part 2 was reached: the body is cut short (streamedGet rejects), or
    // the whole answer is an error; either way no byte sequence is passed off as the object.
    const outcome = await streamedGet(server.url, `/${bucket}/${key}`, { keep: true }).then(
      (r) => (r.status === 200 ? `complete body, same bytes: ${r.body!.equals(obj)}` : `status ${r.status}`),
      (e: Error) => `failed: ${e.message}`,
    );
    expect(outcome).not.toMatch(/^complete body/);
    // The first part is intact and still readable on its own.
    const p1 = await streamedGet(server.url, `/${bucket}/${key}`, { keep: true, query: { partNumber: '1' } });
    expect(mismatch(p1.body!, obj.subarray(0, parts[0]), 0, 42)).toBeNull();
  });
});
