// Parts of multipart objects through the S3 gateway: a partNumber GET or HEAD answers that part (its bytes, size,
// checksum and the parts count), GetObjectAttributes lists the parts a page at a time, as the backend Cairn
// itself answers them. The gateway asks the backend for the part list (GetObjectAttributes) only for these.
// A Complete naming one part number twice is refused as AWS refuses it.
import { createHash } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Error, type TestServer } from '../helpers/cairn.js';
import { seededRandom } from '../helpers/random.js';
import { backendClient, type S3Gateway, startBackend, startS3Gateway } from '../helpers/s3gw.js';

let backend: TestServer;
let gw: S3Gateway;
let s3: S3Client;
const rnd = seededRandom();
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('base64');
/** Bodies are compared by digest: vitest's toEqual of two 5 MiB buffers took over a minute on this loaded machine. */
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
const MiB = 1024 * 1024;

/** A multipart object of `parts` made through the gateway (SHA256 part checksums when `checksums`). */
async function upload(key: string, parts: Buffer[], checksums: boolean) {
  const { UploadId } = await s3.send(
    new CreateMultipartUploadCommand({
      Bucket: 'parts',
      Key: key,
      ChecksumAlgorithm: checksums ? 'SHA256' : undefined,
    }),
  );
  const done = [];
  for (const [i, body] of parts.entries()) {
    const sum = checksums ? { ChecksumSHA256: sha256(body) } : {};
    const { ETag } = await s3.send(
      new UploadPartCommand({ Bucket: 'parts', Key: key, UploadId, PartNumber: i + 1, Body: body, ...sum }),
    );
    done.push({ PartNumber: i + 1, ETag, ...sum });
  }
  return s3.send(
    new CompleteMultipartUploadCommand({ Bucket: 'parts', Key: key, UploadId, MultipartUpload: { Parts: done } }),
  );
}

beforeAll(async () => {
  backend = await startBackend();
  gw = await startS3Gateway(backend.url);
  s3 = gw.client();
  await s3.send(new CreateBucketCommand({ Bucket: 'parts' }));
});
afterAll(async () => {
  await gw?.close();
  await backend?.close();
});

describe('parts of multipart objects through the gateway', () => {
  const parts = [rnd.bytes(5 * MiB), rnd.bytes(5 * MiB), rnd.bytes(100_000)];

  it('a partNumber HEAD and GET answer that part: bytes, size, checksum, parts count', async () => {
    const done = await upload('sums', parts, true);
    expect(done.ChecksumSHA256).toMatch(/-3$/);
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: 'parts', Key: 'sums', PartNumber: 2, ChecksumMode: 'ENABLED' }),
    );
    expect(head).toMatchObject({
      PartsCount: 3,
      ContentLength: 5 * MiB,
      ContentRange: `bytes ${5 * MiB}-${10 * MiB - 1}/${10 * MiB + 100_000}`,
      ETag: done.ETag,
      ChecksumSHA256: sha256(parts[1]),
      ChecksumType: 'COMPOSITE',
    });
    const last = await s3.send(
      new GetObjectCommand({ Bucket: 'parts', Key: 'sums', PartNumber: 3, ChecksumMode: 'ENABLED' }),
    );
    expect(last).toMatchObject({ PartsCount: 3, ContentLength: 100_000, ChecksumSHA256: sha256(parts[2]) });
    expect(md5(await last.Body!.transformToByteArray())).toBe(md5(parts[2]));
    const first = await s3.send(
      new GetObjectCommand({ Bucket: 'parts', Key: 'sums', PartNumber: 1, ChecksumMode: 'ENABLED' }),
    );
    expect(first).toMatchObject({ PartsCount: 3, ContentLength: 5 * MiB, ChecksumSHA256: sha256(parts[0]) });
    expect(md5(await first.Body!.transformToByteArray())).toBe(md5(parts[0]));
    expect(await s3Error(s3.send(new GetObjectCommand({ Bucket: 'parts', Key: 'sums', PartNumber: 4 })))).toMatchObject(
      { name: 'InvalidPart', status: 400 },
    );
    // A plain HEAD asks for no parts and counts none.
    expect((await s3.send(new HeadObjectCommand({ Bucket: 'parts', Key: 'sums' }))).PartsCount).toBeUndefined();
    // The whole-object checksum of a checksummed object is listed without its `-N`, as Cairn and AWS answer it.
    const sums = await s3.send(
      new GetObjectAttributesCommand({ Bucket: 'parts', Key: 'sums', ObjectAttributes: ['Checksum', 'ObjectParts'] }),
    );
    expect(sums.Checksum?.ChecksumType).toBe('COMPOSITE');
    expect(sums.Checksum?.ChecksumSHA256).not.toMatch(/-\d+$/);
    expect(sums.ObjectParts?.Parts?.map((p) => p.ChecksumSHA256)).toEqual(parts.map(sha256));
  });

  it('GetObjectAttributes lists the parts a page at a time, as the backend does', async () => {
    await upload('plain', parts, false);
    const ask = (c: S3Client, o: { MaxParts?: number; PartNumberMarker?: string }) =>
      c.send(
        new GetObjectAttributesCommand({
          Bucket: 'parts',
          Key: 'plain',
          ObjectAttributes: ['ETag', 'ObjectParts', 'ObjectSize'],
          ...o,
        }),
      );
    const page = await ask(s3, { MaxParts: 1, PartNumberMarker: '1' });
    expect(page.ObjectSize).toBe(10 * MiB + 100_000);
    expect(page.ObjectParts).toMatchObject({
      TotalPartsCount: 3,
      PartNumberMarker: '1',
      NextPartNumberMarker: '2',
      MaxParts: 1,
      IsTruncated: true,
      Parts: [{ PartNumber: 2, Size: 5 * MiB }],
    });
    expect(page.ObjectParts?.Parts?.[0].ChecksumSHA256).toBeUndefined();
    const direct = await ask(backendClient(backend), {});
    const all = await ask(s3, {});
    expect(all.ObjectParts).toEqual(direct.ObjectParts);
    expect(all.ObjectParts?.Parts?.map((p) => p.Size)).toEqual([5 * MiB, 5 * MiB, 100_000]);
  });

  // ceph/s3-tests test_multipart_resend_first_finishes_last: part 1 sent twice, the Complete names both ETags.
  // AWS asks for ascending part numbers and answers InvalidPartOrder (RGW keeps the last ETag; MinIO answers
  // InvalidPart for the stale one). Cairn answers as AWS does, with or without the gateway.
  it('a Complete naming a part number twice is InvalidPartOrder and stores nothing', async () => {
    const Key = 'resent';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'parts', Key }));
    const send = (Body: string) =>
      s3.send(new UploadPartCommand({ Bucket: 'parts', Key, UploadId, PartNumber: 1, Body }));
    const stale = (await send('BBBBBBBB')).ETag!;
    const last = (await send('AAAAAAAA')).ETag!;
    const complete = (etags: string[]) =>
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'parts',
          Key,
          UploadId,
          MultipartUpload: { Parts: etags.map((ETag) => ({ PartNumber: 1, ETag })) },
        }),
      );
    for (const etags of [
      [stale, last],
      [last, last],
    ])
      expect(await s3Error(complete(etags))).toEqual({ name: 'InvalidPartOrder', status: 400 });
    // The part's first ETag is no longer the part's.
    expect(await s3Error(complete([stale]))).toEqual({ name: 'InvalidPart', status: 400 });
    // Nothing stored, through the gateway nor on the backend; the upload is still there.
    const head = () => new HeadObjectCommand({ Bucket: 'parts', Key });
    expect(await s3Error(s3.send(head()))).toMatchObject({ status: 404 });
    expect(await s3Error(backendClient(backend).send(head()))).toMatchObject({ status: 404 });
    await complete([last]);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'parts', Key }));
    expect(await got.Body!.transformToString()).toBe('AAAAAAAA');
  });
});
