// GET while the same key is overwritten: each answer is one version, whole, and its headers (ETag,
// Content-Length, Content-Range) describe that same version. GET reads the metadata once and plans
// headers and range from it, so headers and body cannot come from two different versions. The versions
// written are multi-block, distinct in every byte (offset-derived patterns, one seed each) and some are
// multipart, so a body stitched from two versions, a truncated body or a shifted range shows.
import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { s3Error, startTestServer, startWithBucket, type TestServer } from '../helpers/cairn.js';
import { mismatch, pattern, pausedGet, sha256 } from '../helpers/object-bytes.js';

let server: TestServer;
let s3: S3Client;
const bucket = 'get-overwrite';
const MiB = 1024 * 1024;

beforeAll(async () => {
  // A long grace before replaced data is removed: the paused reader below must not race the reaper on a
  // loaded machine (the grace itself is the storage tests' subject).
  ({ server, s3 } = await startWithBucket(bucket, {
    storage: { background: false, gcGraceMs: 30_000 },
    client: { checksums: 'WHEN_REQUIRED' },
  }));
});
afterAll(() => server?.close());

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

describe('GET during overwrites', () => {
  // Different sizes and block counts, so a header of one version with the body of the other shows.
  const versions = [Buffer.alloc(300 * 1024, 'a'), Buffer.alloc(1536 * 1024, 'b')];
  const etags = versions.map((v) => `"${md5(v)}"`);

  it('whole and ranged GETs see one version, with its own headers', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: versions[0] }));
    let stop = false;
    const writer = (async () => {
      for (let i = 1; !stop; i++)
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: versions[i % 2] }));
    })();
    const seen = new Set<string>();
    // Each reader reads at least 25 times and on until the readers together saw both versions (the writer
    // alternates them until the readers stop; the bound only keeps a broken writer from hanging the test).
    const reader = async (ranged: boolean) => {
      for (let i = 0; i < 25 || (seen.size < 2 && i < 5000); i++) {
        const got = await s3.send(
          new GetObjectCommand({ Bucket: bucket, Key: 'k', Range: ranged ? 'bytes=100000-' : undefined }),
        );
        const body = Buffer.from(await got.Body!.transformToByteArray());
        const which = etags.indexOf(got.ETag!);
        expect(which).toBeGreaterThanOrEqual(0);
        const want = ranged ? versions[which].subarray(100000) : versions[which];
        expect(body.length).toBe(want.length);
        expect(got.ContentLength).toBe(want.length);
        expect(body.equals(want)).toBe(true);
        if (ranged)
          expect(got.ContentRange).toBe(`bytes 100000-${versions[which].length - 1}/${versions[which].length}`);
        seen.add(got.ETag!);
      }
    };
    try {
      await Promise.all([reader(false), reader(false), reader(true), reader(true)]);
    } finally {
      stop = true;
      await writer;
    }
    expect(seen).toEqual(new Set(etags)); // the readers did see the overwrites
  });

  it('conditional GET answers 304 and 412 from the same read as the data', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'c', Body: versions[0] }));
    const notModified = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'c', IfNoneMatch: etags[0] })).then(
      () => 200,
      (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode,
    );
    expect(notModified).toBe(304);
    const failed = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'c', IfMatch: etags[1] })).then(
      () => 200,
      (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode,
    );
    expect(failed).toBe(412);
    const got = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'c', IfMatch: etags[0], Range: 'bytes=0-9' }),
    );
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(versions[0].subarray(0, 10))).toBe(true);
  });
});

/** A version to write: its bytes (a pattern of its own seed), how it is uploaded, and its ETag. */
interface Version {
  seed: number;
  body: Buffer;
  /** Part sizes when written as a multipart upload. */
  parts?: number[];
  etag: string;
}

function version(seed: number, size: number, parts?: number[]): Version {
  const body = pattern(size, seed);
  if (!parts) return { seed, body, etag: `"${md5(body)}"` };
  let at = 0;
  const md5s = parts.map((n) =>
    createHash('md5')
      .update(body.subarray(at, (at += n)))
      .digest(),
  );
  return {
    seed,
    body,
    parts,
    etag: `"${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-${parts.length}"`,
  };
}

/** PUT (or multipart upload) of `v` at `key`; returns the version id (versioned buckets). */
async function write(b: string, key: string, v: Version, c: S3Client = s3): Promise<string | undefined> {
  if (!v.parts) {
    const r = await c.send(new PutObjectCommand({ Bucket: b, Key: key, Body: v.body }));
    expect(r.ETag).toBe(v.etag);
    return r.VersionId;
  }
  const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: b, Key: key }));
  const done: { PartNumber: number; ETag: string }[] = [];
  let at = 0;
  for (const [i, n] of v.parts.entries()) {
    const r = await c.send(
      new UploadPartCommand({ Bucket: b, Key: key, UploadId, PartNumber: i + 1, Body: v.body.subarray(at, (at += n)) }),
    );
    done.push({ PartNumber: i + 1, ETag: r.ETag! });
  }
  const r = await c.send(
    new CompleteMultipartUploadCommand({ Bucket: b, Key: key, UploadId, MultipartUpload: { Parts: done } }),
  );
  expect(r.ETag).toBe(v.etag);
  return r.VersionId;
}

/** A Range header and the bytes it selects from an object of `size` bytes. */
interface RangeSpec {
  spec: string;
  select(size: number): [number, number];
}
const closed = (a: number, z: number): RangeSpec => ({
  spec: `bytes=${a}-${z}`,
  select: (size) => [a, Math.min(z, size - 1)],
});
const suffix = (n: number): RangeSpec => ({ spec: `bytes=-${n}`, select: (size) => [Math.max(0, size - n), size - 1] });
const open = (a: number): RangeSpec => ({ spec: `bytes=${a}-`, select: (size) => [a, size - 1] });

/**
 * GETs `key` (a range, a version id) and checks the answer is one of `versions`, whole: the ETag names
 * the version, and status, Content-Length, Content-Range and every body byte are that version's.
 * Returns the version seen, 'absent' for a NoSuchKey the caller allows, or a description of what is wrong.
 */
async function checkedGet(
  b: string,
  key: string,
  versions: Version[],
  o: { range?: RangeSpec; versionId?: string; missingOk: boolean },
): Promise<Version | 'absent' | string> {
  let got: GetObjectCommandOutput;
  try {
    got = await s3.send(new GetObjectCommand({ Bucket: b, Key: key, Range: o.range?.spec, VersionId: o.versionId }));
  } catch (e) {
    const name = (e as Error).name;
    return name === 'NoSuchKey' && o.missingOk ? 'absent' : `${o.range?.spec ?? 'GET'}: error ${name}`;
  }
  const what = `${o.range?.spec ?? 'GET'} ETag ${got.ETag}`;
  let body: Buffer;
  try {
    body = Buffer.from(await got.Body!.transformToByteArray());
  } catch (e) {
    return `${what}: body failed: ${(e as Error).message}`;
  }
  const v = versions.find((x) => x.etag === got.ETag);
  if (!v) return `${what}: not an ETag written`;
  const size = v.body.length;
  const [start, end] = o.range ? o.range.select(size) : [0, size - 1];
  const problems = [
    got.$metadata.httpStatusCode !== (o.range ? 206 : 200) && `status ${got.$metadata.httpStatusCode}`,
    o.range && got.ContentRange !== `bytes ${start}-${end}/${size}` && `Content-Range ${got.ContentRange}`,
    !o.range && got.ContentRange !== undefined && `Content-Range ${got.ContentRange}`,
    got.ContentLength !== end - start + 1 && `Content-Length ${got.ContentLength}`,
    mismatch(body, v.body.subarray(start, end + 1), start, v.seed),
  ].filter(Boolean);
  return problems.length ? `${what} (seed ${v.seed}): ${problems.join('; ')}` : v;
}

describe('GET during overwrites of multi-block objects', () => {
  // 3 to 6 MiB, every one a different size, one of them multipart (its part boundary at 5 MiB).
  const versions = [
    version(1, 3 * MiB + 17),
    version(2, 4 * MiB - 1),
    version(3, 5 * MiB + 333),
    version(4, 6 * MiB + 9, [5 * MiB, MiB + 9]),
    version(5, 3 * MiB + MiB / 2),
  ];
  // Every range starts inside every version (else 416 for some), spans block boundaries, and selects
  // different bytes from versions of different sizes.
  const ranges = [
    closed(MiB - 5, 3 * MiB + 100),
    suffix(1_500_000),
    open(2 * MiB + 1),
    closed(3 * MiB - 2, 3 * MiB + 2),
    open(0),
  ];

  /**
   * Readers (whole and ranged) race `writer` on `key` until it is done (and at least 3 reads each).
   * A NoSuchKey is allowed before the first write completed, or always when `missingOk`.
   */
  async function race(
    b: string,
    key: string,
    vs: Version[],
    rs: RangeSpec[],
    writer: (wrote: () => void) => Promise<void>,
    missingOk: boolean,
  ) {
    const failures: string[] = [];
    const seen = new Set<number>();
    let absent = 0;
    let written = 0;
    let stop = false;
    const reader = async (r: number) => {
      for (let i = 0; !stop || i < 3; i++) {
        const before = written;
        const range = r % 2 ? rs[(r + i) % rs.length] : undefined;
        const res = await checkedGet(b, key, vs, { range, missingOk: missingOk || before === 0 });
        if (res === 'absent') absent++;
        else if (typeof res === 'string') failures.push(res);
        else seen.add(res.seed);
      }
    };
    const readers = Array.from({ length: 4 }, (_, r) => reader(r));
    try {
      await writer(() => written++);
    } finally {
      stop = true;
      await Promise.all(readers);
    }
    expect(failures).toEqual([]);
    return { seen, absent };
  }

  it('PUTs and multipart uploads racing whole and ranged GETs: each GET is one version, whole', async () => {
    const { seen } = await race(
      bucket,
      'multi',
      versions,
      ranges,
      async (wrote) => {
        // Two writers, so commits of different versions also race each other.
        await Promise.all(
          [0, 1].map(async (w) => {
            for (let i = 0; i < 4; i++) {
              await write(bucket, 'multi', versions[(w * 2 + i) % versions.length]);
              wrote();
            }
          }),
        );
      },
      false,
    );
    expect(seen.size).toBeGreaterThan(1); // the readers did see overwrites
  });

  it('with deletes in between: a GET is one version whole, or NoSuchKey', async () => {
    await race(
      bucket,
      'del',
      versions,
      ranges,
      async (wrote) => {
        for (let i = 0; i < 6; i++) {
          await write(bucket, 'del', versions[i % versions.length]);
          wrote();
          if (i % 2) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'del' }));
        }
      },
      true,
    );
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'del' }));
    expect(await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'del' })))).toMatchObject({
      name: 'NoSuchKey',
      status: 404,
    });
  });

  it('small objects kept inline in the metadata and a multi-block one replacing each other', async () => {
    // 1000 B and 200 KiB live inside the metadata file (2+2: shards under 128 KiB); 2 MiB has shard files.
    const mixed = [version(31, 1000), version(32, 200 * 1024), version(33, 2 * MiB + 5)];
    const small = [closed(0, 0), closed(10, 500), suffix(300), open(999)];
    const { seen } = await race(
      bucket,
      'mixed',
      mixed,
      small,
      async (wrote) => {
        await Promise.all(
          [0, 1].map(async (w) => {
            for (let i = 0; i < 6; i++) {
              await write(bucket, 'mixed', mixed[(w + i) % 3]);
              wrote();
            }
          }),
        );
      },
      false,
    );
    expect(seen.size).toBeGreaterThan(1);
  });

  it('versioned bucket: reads of older versions by id stay exact while new versions and delete markers land', async () => {
    const vb = 'get-overwrite-versioned';
    await s3.send(new CreateBucketCommand({ Bucket: vb }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: vb, VersioningConfiguration: { Status: 'Enabled' } }));
    const ids = [await write(vb, 'k', versions[3]), await write(vb, 'k', versions[1])];
    expect(ids.every((id) => typeof id === 'string' && id !== 'null')).toBe(true);
    const failures: string[] = [];
    let stop = false;
    const byId = async (n: number) => {
      for (let i = 0; !stop || i < 3; i++) {
        const res = await checkedGet(vb, 'k', [versions[n === 0 ? 3 : 1]], {
          versionId: ids[n],
          range: i % 2 ? ranges[i % ranges.length] : undefined,
          missingOk: false,
        });
        if (typeof res === 'string') failures.push(`version ${n}: ${res}`);
      }
    };
    const latest = async () => {
      for (let i = 0; !stop || i < 3; i++) {
        const res = await checkedGet(vb, 'k', versions, { missingOk: true }); // a delete marker: NoSuchKey
        if (typeof res === 'string' && res !== 'absent') failures.push(`latest: ${res}`);
      }
    };
    const readers = [byId(0), byId(1), byId(0), latest()];
    try {
      for (let i = 0; i < 5; i++) {
        if (i % 3 === 2) await s3.send(new DeleteObjectCommand({ Bucket: vb, Key: 'k' }));
        else await write(vb, 'k', versions[(i * 2) % versions.length]);
      }
    } finally {
      stop = true;
      await Promise.all(readers);
    }
    expect(failures).toEqual([]);
  });

  it('a GET paused mid-body across an overwrite and a delete finishes the version it started, whole', async () => {
    // Big enough (and multipart) that most of it is still unread, its later parts' files not yet opened,
    // when the reader pauses: socket buffers hold a few MiB at most.
    const big = version(9, 20 * MiB + 3, [5 * MiB, 5 * MiB, 5 * MiB, 5 * MiB + 3]);
    await write(bucket, 'paused', big);
    const { paused, result: get } = pausedGet(server.url, `/${bucket}/paused`);
    const response = await paused;
    await write(bucket, 'paused', versions[0]);
    await write(bucket, 'paused', versions[3]);
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'paused' }));
    response.resume();
    const got = await get;
    expect(got.status).toBe(200);
    expect(got.headers.etag).toBe(big.etag);
    expect(got.bytes).toBe(big.body.length);
    expect(got.sha256).toBe(sha256(big.body));
    expect(await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'paused' })))).toMatchObject({
      name: 'NoSuchKey',
    });
  });
});

/**
 * Every path under `root`, relative to it. The reaper removes directories while this walks them: a directory
 * listed by its parent and gone when read is simply gone (ENOENT below the root), not an error. The root
 * itself (the bucket's directory) must exist.
 */
async function listTree(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(join(root, rel), { withFileTypes: true });
    } catch (e) {
      if (rel !== '' && (e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const entry of entries) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      out.push(path);
      if (entry.isDirectory()) await walk(path);
    }
  };
  await walk('');
  return out;
}

describe('a GET paused longer than the grace period of replaced data', () => {
  // The default grace is 5 s; a slow consumer (a training loader, a Spark task waiting on its executor)
  // can pause a body longer than that. A short grace here stands for such a pause.
  async function pausedAcrossGrace(parts: number[]) {
    const short = await startTestServer({ storage: { background: false, gcGraceMs: 200 } });
    try {
      const c = short.client({ checksums: 'WHEN_REQUIRED' });
      await c.send(new CreateBucketCommand({ Bucket: 'grace' }));
      const big = version(21, 20 * MiB + 3, parts);
      await write('grace', 'k', big, c);
      const { paused, result: get } = pausedGet(short.url, '/grace/k');
      const response = await paused;
      await c.send(new PutObjectCommand({ Bucket: 'grace', Key: 'k', Body: Buffer.from('new') }));
      await new Promise((r) => setTimeout(r, 1000)); // five times the grace
      response.resume();
      const got = await get;
      expect(got.headers.etag).toBe(big.etag);
      expect(got.bytes).toBe(big.body.length);
      expect(got.sha256).toBe(sha256(big.body));
      // Once the reader is done, the replaced data goes: no data dir (uuid-named) is left; the new version is inline.
      const dataDirs = async () => {
        const all = await Promise.all(short.drives.map((d) => listTree(join(d, 'grace'))));
        return all.flat().filter((p) => /(^|\/)[0-9a-f-]{36}$/.test(p));
      };
      await vi.waitFor(async () => expect(await dataDirs()).toEqual([]), { timeout: 30_000, interval: 100 });
    } finally {
      await short.close();
    }
  }

  it('one part: its shard files are open, the body finishes whole', async () => {
    await pausedAcrossGrace([20 * MiB + 3]);
  });

  // A GET opens a part's shard files only when it reaches that part: the replaced version's data dir
  // must outlive the grace period while the GET still reads it (Reaper.hold).
  it('several parts: the later parts are still readable, the body finishes whole', async () => {
    await pausedAcrossGrace([5 * MiB, 5 * MiB, 5 * MiB, 5 * MiB + 3]);
  });
});
