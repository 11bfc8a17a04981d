// Ranged GETs at every boundary the erasure layout has: inline vs. shard files, blocks (1 MiB), the
// data shards inside a block (ceil(block / data) bytes each, the last one padded), multipart part
// boundaries with parts of unequal sizes; one byte before and after each, suffix and open ranges,
// partNumber reads and unsatisfiable ranges. Layouts where a shard is not a round number (3+1; 6+2,
// where ceil(1 MiB / 6) is odd and the native layer pads it) catch an offset computed the wrong way.
// Every body is compared byte for byte with the slice expected, plus the status and range headers.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { s3Error, startWithBucket, type TestServer } from '../helpers/cairn.js';
import { mismatch, pattern } from '../helpers/object-bytes.js';

const KiB = 1024;
const MiB = 1024 * KiB;
// Passed to the server explicitly, so the boundaries computed here are the ones on disk even if the
// defaults change. A drive's shard of a part stays inline in the metadata while its frame
// ([32-byte HighwayHash][shard]) fits the inline limit.
const BLOCK = MiB;
const INLINE_LIMIT = 128 * KiB;
const FRAME_HASH = 32;

/** Largest single-block object kept inline: its shard, ceil(size / data) (even-padded), fits the limit. */
const inlineMax = (data: number) => (INLINE_LIMIT - FRAME_HASH) * data; // INLINE_LIMIT - FRAME_HASH is even

interface Want {
  spec: string;
  start: number;
  end: number; // inclusive
}

/** Object offsets where something changes: part starts, block starts, shard starts inside each block. */
function boundaries(parts: number[], data: number): number[] {
  const out = new Set<number>();
  let partStart = 0;
  for (const size of parts) {
    for (let b = 0; b < size; b += BLOCK) {
      const at = partStart + b;
      out.add(at);
      const len = Math.min(BLOCK, size - b);
      const shard = Math.ceil(len / data);
      for (const s of new Set([shard, shard + (shard & 1)])) for (let k = 1; k * s < len; k++) out.add(at + k * s);
    }
    partStart += size;
  }
  out.add(partStart);
  return [...out].sort((a, b) => a - b);
}

/** The ranges to read from an object of these parts, each with the bytes it must return. */
function ranges(parts: number[], data: number): Want[] {
  const size = parts.reduce((a, b) => a + b, 0);
  const last = size - 1;
  const out: Want[] = [];
  const closed = (a: number, z: number) => {
    a = Math.max(0, a);
    if (a <= last && z >= a) out.push({ spec: `bytes=${a}-${z}`, start: a, end: Math.min(z, last) });
  };
  const cuts = boundaries(parts, data);
  for (const x of cuts) {
    closed(x, x); // the byte at (first and last block the same)
    closed(x - 1, x); // the byte before with it (one block ends, the next begins)
  }
  for (let i = 0; i + 1 < cuts.length; i++) {
    closed(cuts[i], cuts[i + 1] - 1); // exactly one segment
    closed(cuts[i] + 1, cuts[i + 1]); // shifted by one
  }
  closed(0, last);
  closed(last, last);
  closed(last - 10, last + 100); // end past the object: clamped
  closed(1, last + 5 * BLOCK);
  if (parts.length > 1) {
    closed(parts[0] - 3, parts[0] + parts[1] + 3); // across two part boundaries
    closed(Math.floor(parts[0] / 2), parts[0] + parts[1] + Math.floor(parts[2] / 2));
  }
  for (const n of new Set([
    1,
    2,
    3,
    Math.ceil(BLOCK / data),
    BLOCK - 1,
    BLOCK,
    BLOCK + 1,
    size - 1,
    size,
    size + 1,
    size + BLOCK,
  ])) {
    if (n > 0 && size > 0) out.push({ spec: `bytes=-${n}`, start: Math.max(0, size - n), end: last });
  }
  for (const a of new Set([0, 1, BLOCK - 1, BLOCK, BLOCK + 1, ...cuts.slice(-4).map((c) => c - 1), last])) {
    if (a >= 0 && a <= last) out.push({ spec: `bytes=${a}-`, start: a, end: last });
  }
  return out;
}

/** Runs `f` over `items`, `n` at a time. */
async function pool<T>(items: T[], n: number, f: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await f(items[next++]);
    }),
  );
}

const layouts = [
  { name: '2+2', drives: 4, parity: 2 },
  { name: '3+1', drives: 4, parity: 1 },
  { name: '6+2', drives: 8, parity: 2 },
];

for (const l of layouts) {
  const data = l.drives - l.parity;
  describe(`ranged GETs on ${l.name}`, () => {
    let server: TestServer;
    let s3: S3Client;
    const bucket = 'ranges';
    beforeAll(async () => {
      ({ server, s3 } = await startWithBucket(bucket, {
        drives: l.drives,
        storage: { background: false, parity: l.parity, blockSize: BLOCK, inlineLimit: INLINE_LIMIT },
        client: { checksums: 'WHEN_REQUIRED' },
      }));
    });
    afterAll(async () => {
      await server?.close();
    });

    /** Reads every range of `want`, collecting what went wrong (one list, so a failure shows them all). */
    async function readRanges(key: string, obj: Buffer, seed: number, etag: string, wants: Want[]): Promise<string[]> {
      const failures: string[] = [];
      await pool(wants, 8, async (w) => {
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: w.spec }));
        const body = Buffer.from(await got.Body!.transformToByteArray());
        const problems = [
          got.$metadata.httpStatusCode !== 206 && `status ${got.$metadata.httpStatusCode}`,
          got.ContentRange !== `bytes ${w.start}-${w.end}/${obj.length}` && `Content-Range ${got.ContentRange}`,
          got.ContentLength !== w.end - w.start + 1 && `Content-Length ${got.ContentLength}`,
          got.ETag !== etag && `ETag ${got.ETag}`,
          mismatch(body, obj.subarray(w.start, w.end + 1), w.start, seed),
        ].filter(Boolean);
        if (problems.length) failures.push(`${key} ${w.spec}: ${problems.join('; ')}`);
      });
      return failures;
    }

    async function putSingle(key: string, obj: Buffer): Promise<string> {
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: obj }));
      expect(put.ETag).toBe(`"${createHash('md5').update(obj).digest('hex')}"`);
      return put.ETag!;
    }

    async function putMultipart(key: string, obj: Buffer, parts: number[]): Promise<string> {
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
      const done: { PartNumber: number; ETag: string }[] = [];
      let at = 0;
      for (const [i, size] of parts.entries()) {
        const r = await s3.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: key,
            UploadId,
            PartNumber: i + 1,
            Body: obj.subarray(at, at + size),
          }),
        );
        done.push({ PartNumber: i + 1, ETag: r.ETag! });
        at += size;
      }
      const c = await s3.send(
        new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: done } }),
      );
      expect(c.ETag).toMatch(new RegExp(`-${parts.length}"$`));
      return c.ETag!;
    }

    const shard = Math.ceil(BLOCK / data);
    const sizes = [
      1,
      7,
      shard,
      inlineMax(data),
      inlineMax(data) + 1,
      BLOCK - 1,
      BLOCK,
      BLOCK + 1,
      2 * BLOCK + shard,
      3 * BLOCK + 5,
    ];
    it.each(sizes.map((size, seed) => ({ size, seed })))(
      'a $size-byte object: whole, ranged at every boundary',
      async ({ size, seed }) => {
        const key = `obj-${size}`;
        const obj = pattern(size, seed);
        const etag = await putSingle(key, obj);
        const whole = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        expect(whole.$metadata.httpStatusCode).toBe(200);
        expect(whole.ContentRange).toBeUndefined();
        expect(whole.ContentLength).toBe(size);
        expect(mismatch(Buffer.from(await whole.Body!.transformToByteArray()), obj, 0, seed)).toBeNull();
        expect(await readRanges(key, obj, seed, etag, ranges([size], data))).toEqual([]);
      },
    );

    it('the sizes straddle the inline threshold (the shard files appear one byte above it)', async () => {
      for (const size of [inlineMax(data), inlineMax(data) + 1]) {
        await putSingle(`straddle-${size}`, pattern(size, 300));
      }
      const dirs = async (key: string) =>
        (await Promise.all(server.drives.map((d) => readdir(join(d, bucket, `${key}.o`))))).map(
          (e) => e.filter((n) => n !== 'meta').length,
        );
      expect(await dirs(`straddle-${inlineMax(data)}`)).toEqual(server.drives.map(() => 0));
      expect(await dirs(`straddle-${inlineMax(data) + 1}`)).toEqual(server.drives.map(() => 1));
    });

    // Without some shards the blocks are rebuilt from parity (Reed-Solomon decode): the same offsets must
    // hold. Two objects, the shard files of the first `parity` drives gone from one and of the last
    // `parity` from the other: at least one of them lacks a data shard whatever the shard placement.
    it.each(['first', 'last'])(
      'with the shard files of the %s drives gone: ranged at every boundary',
      async (which) => {
        const size = 3 * BLOCK + 5;
        const key = `degraded-${which}`;
        const obj = pattern(size, 200);
        const etag = await putSingle(key, obj);
        const gone = which === 'first' ? server.drives.slice(0, l.parity) : server.drives.slice(-l.parity);
        let removed = 0;
        for (const d of gone) {
          const dir = join(d, bucket, `${key}.o`);
          for (const e of await readdir(dir))
            if (e !== 'meta' && ++removed) await rm(join(dir, e), { recursive: true });
        }
        expect(removed).toBe(l.parity); // one data dir per drive: the shards were on disk, and are gone
        const whole = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        expect(mismatch(Buffer.from(await whole.Body!.transformToByteArray()), obj, 0, 200)).toBeNull();
        expect(await readRanges(key, obj, 200, etag, ranges([size], data))).toEqual([]);
      },
    );

    // Unequal parts: part 2 starts mid-block, so its blocks and shards sit at odd object offsets.
    const parts = [5 * BLOCK + 12345, 5 * BLOCK + 1, 777];
    const mpSeed = 100;
    const mpObj = pattern(
      parts.reduce((a, b) => a + b, 0),
      mpSeed,
    );
    let mpEtag = '';
    const mpPut = async () => (mpEtag ||= await putMultipart('mp', mpObj, parts));

    it('a multipart object of unequal parts: ranged at block, shard and part boundaries', async () => {
      await mpPut();
      const whole = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp' }));
      expect(whole.ContentLength).toBe(mpObj.length);
      expect(mismatch(Buffer.from(await whole.Body!.transformToByteArray()), mpObj, 0, mpSeed)).toBeNull();
      expect(await readRanges('mp', mpObj, mpSeed, mpEtag, ranges(parts, data))).toEqual([]);
    });

    it('partNumber GETs return each part with its Content-Range; a part past the last is refused', async () => {
      await mpPut();
      let at = 0;
      for (const [i, size] of parts.entries()) {
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp', PartNumber: i + 1 }));
        expect(got.$metadata.httpStatusCode).toBe(206);
        expect(got.ContentRange).toBe(`bytes ${at}-${at + size - 1}/${mpObj.length}`);
        expect(got.ContentLength).toBe(size);
        expect(got.PartsCount).toBe(parts.length);
        expect(got.ETag).toBe(mpEtag);
        expect(
          mismatch(Buffer.from(await got.Body!.transformToByteArray()), mpObj.subarray(at, at + size), at, mpSeed),
        ).toBeNull();
        const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'mp', PartNumber: i + 1 }));
        expect(head.ContentLength).toBe(size);
        expect(head.ContentRange).toBe(`bytes ${at}-${at + size - 1}/${mpObj.length}`);
        at += size;
      }
      // 400 InvalidPart, as ceph/s3-tests (checked against AWS) expect: test_multipart_get_part; HEAD alike.
      expect(
        await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp', PartNumber: parts.length + 1 }))),
      ).toEqual({ name: 'InvalidPart', status: 400 });
      expect(
        (await s3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'mp', PartNumber: parts.length + 1 }))))
          .status,
      ).toBe(400);
      // Both a part and a range: refused, as S3 does.
      expect(
        await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp', PartNumber: 2, Range: 'bytes=0-9' }))),
      ).toEqual({ name: 'InvalidRequest', status: 400 });
      // A single-part object is its own part 1.
      const key = `obj-${3 * BLOCK + 5}`;
      await putSingle(key, pattern(3 * BLOCK + 5, sizes.indexOf(3 * BLOCK + 5)));
      const one = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, PartNumber: 1 }));
      expect(
        mismatch(
          Buffer.from(await one.Body!.transformToByteArray()),
          pattern(3 * BLOCK + 5, sizes.indexOf(3 * BLOCK + 5)),
        ),
      ).toBeNull();
      expect(await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, PartNumber: 2 })))).toEqual({
        name: 'InvalidPart',
        status: 400,
      }); // test_non_multipart_get_part
    });

    it('unsatisfiable ranges are 416 InvalidRange and change nothing; malformed ones read the whole object', async () => {
      const size = 2 * BLOCK + shard;
      const key = `obj-${size}`;
      const obj = pattern(size, sizes.indexOf(size));
      await putSingle(key, obj);
      const before = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      for (const spec of [`bytes=${size}-`, `bytes=${size}-${size + 10}`, `bytes=${size + BLOCK}-`, 'bytes=-0']) {
        expect(await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: spec }))), spec).toEqual({
          name: 'InvalidRange',
          status: 416,
        });
      }
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'empty', Body: Buffer.alloc(0) }));
      for (const spec of ['bytes=0-', 'bytes=0-0', 'bytes=-1']) {
        expect(
          await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'empty', Range: spec }))),
          spec,
        ).toEqual({ name: 'InvalidRange', status: 416 });
      }
      // HEAD answers a range as GET would, without a body.
      const head = await s3.send(
        new HeadObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${BLOCK - 1}-${BLOCK + shard}` }),
      );
      expect([head.$metadata.httpStatusCode, head.ContentRange, head.ContentLength]).toEqual([
        206,
        `bytes ${BLOCK - 1}-${BLOCK + shard}/${size}`,
        shard + 2,
      ]);
      expect(
        (await s3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${size}-` })))).status,
      ).toBe(416);
      const after = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      expect([after.ETag, after.ContentLength, after.LastModified?.getTime()]).toEqual([
        before.ETag,
        before.ContentLength,
        before.LastModified?.getTime(),
      ]);
      // AWS ignores a Range it cannot parse (end before start, several ranges): 200 and the whole object.
      for (const spec of ['bytes=9-3', 'bytes=0-1,5-9']) {
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: spec }));
        expect(got.$metadata.httpStatusCode, spec).toBe(200);
        expect(got.ContentRange).toBeUndefined();
        expect(mismatch(Buffer.from(await got.Body!.transformToByteArray()), obj), spec).toBeNull();
      }
    });
  });
}
