// `cairn gateway nas`: a folder served as S3, read and written with the AWS SDK while plain fs calls (this
// process) and another process change the same folder. Reads, ranges, conditions, listings in S3's order,
// atomic PUT and multipart, metadata and tags beside the files, files changed behind the gateway's back.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { s3Error } from '../helpers/cairn.js';
import { type NasGateway, startNasGateway } from '../helpers/nas.js';
import { signRequest } from '../helpers/signed-request.js';

let gw: NasGateway;
let s3: S3Client;
const md5 = (b: string | Buffer) => createHash('md5').update(b).digest('hex');
const file = (...p: string[]) => join(gw.root, ...p);

/** A plain write by another process (not this one, not the gateway). */
function otherProcessWrites(path: string, content: string): void {
  execFileSync(process.execPath, [
    '-e',
    'require("fs").writeFileSync(process.argv[1], process.argv[2])',
    path,
    content,
  ]);
}

beforeAll(async () => {
  gw = await startNasGateway({
    prepare: async (root) => {
      await mkdir(join(root, 'data/dir/sub'), { recursive: true });
      await mkdir(join(root, 'data/empty/inner'), { recursive: true });
      await writeFile(join(root, 'data/a.csv'), 'name,n\nann,1\nbob,2\n');
      await writeFile(join(root, 'data/dir/b.txt'), 'bee');
      await writeFile(join(root, 'data/dir/sub/c.bin'), Buffer.alloc(1000, 7));
      await writeFile(join(root, 'data/dir-x'), 'dash');
      await writeFile(join(root, 'data/dir0'), 'zero');
      await mkdir(join(root, 'Not A Bucket'));
    },
  });
  s3 = gw.client();
});
afterAll(() => gw?.close());

describe('files placed before the start', () => {
  it('top-level folders are the buckets (others and the hidden area are not)', async () => {
    const names = (await s3.send(new ListBucketsCommand({}))).Buckets!.map((b) => b.Name);
    expect(names).toContain('data');
    expect(names).not.toContain('Not A Bucket');
    expect(names.some((n) => n!.includes('cairn'))).toBe(false);
  });

  it('GET, HEAD and ranges come from the files; the ETag stays the same while the file does', async () => {
    const g = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'a.csv' }));
    expect(await g.Body!.transformToString()).toBe('name,n\nann,1\nbob,2\n');
    const h1 = await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'a.csv' }));
    const h2 = await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'a.csv' }));
    expect(h1.ETag).toBe(g.ETag);
    expect(h2.ETag).toBe(g.ETag);
    // Not the data's MD5, and not shaped like one (clients such as rclone would check the bytes against it).
    expect(g.ETag).toMatch(/^"[0-9a-f]{32}-1"$/);
    expect(h1.ContentLength).toBe(19);
    const r = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'a.csv', Range: 'bytes=7-12' }));
    expect(await r.Body!.transformToString()).toBe('ann,1\n');
    expect(r.ContentRange).toBe('bytes 7-12/19');
    const tail = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'dir/sub/c.bin', Range: 'bytes=-10' }));
    expect(Buffer.from(await tail.Body!.transformToByteArray())).toEqual(Buffer.alloc(10, 7));
    expect(
      await s3Error(s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'a.csv', Range: 'bytes=50-60' }))),
    ).toEqual({ name: 'InvalidRange', status: 416 });
    const listed = (await s3.send(new ListObjectsV2Command({ Bucket: 'data', Prefix: 'a.csv' }))).Contents!;
    expect(listed.map((o) => o.ETag)).toEqual([g.ETag]);
  });

  it('conditional GETs: If-None-Match gives 304, If-Match another ETag 412', async () => {
    const { ETag } = await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'dir/b.txt' }));
    const e304 = await s3Error(s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'dir/b.txt', IfNoneMatch: ETag })));
    expect(e304.status).toBe(304);
    const e412 = await s3Error(s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'dir/b.txt', IfMatch: '"abc"' })));
    expect(e412).toEqual({ name: 'PreconditionFailed', status: 412 });
    const ok = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'dir/b.txt', IfMatch: ETag }));
    expect(await ok.Body!.transformToString()).toBe('bee');
  });

  it('a folder is no object, and keys below a file are none either', async () => {
    expect((await s3Error(s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'dir' })))).name).toBe('NoSuchKey');
    expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'a.csv/x' })))).status).toBe(404);
  });
});

describe('listings', () => {
  // `empty/inner` is an empty folder: a key of its own, `empty/inner/` (a folder marker, folders.ts).
  const all = ['a.csv', 'dir-x', 'dir/b.txt', 'dir/sub/c.bin', 'dir0', 'empty/inner/'];

  it('every key in S3 order (a folder sorts as name/), v1 and v2', async () => {
    const v2 = await s3.send(new ListObjectsV2Command({ Bucket: 'data' }));
    expect(v2.Contents!.map((o) => o.Key)).toEqual(all);
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: 'data' }));
    expect(v1.Contents!.map((o) => o.Key)).toEqual(all);
    expect(v2.Contents!.find((o) => o.Key === 'dir/sub/c.bin')!.Size).toBe(1000);
  });

  it('the / delimiter gives folders as common prefixes, and an empty folder as its key', async () => {
    const top = await s3.send(new ListObjectsV2Command({ Bucket: 'data', Delimiter: '/' }));
    expect(top.Contents!.map((o) => o.Key)).toEqual(['a.csv', 'dir-x', 'dir0']);
    expect(top.CommonPrefixes!.map((p) => p.Prefix)).toEqual(['dir/', 'empty/']);
    const inEmpty = await s3.send(new ListObjectsV2Command({ Bucket: 'data', Delimiter: '/', Prefix: 'empty/' }));
    expect(inEmpty.Contents ?? []).toEqual([]);
    expect(inEmpty.CommonPrefixes!.map((p) => p.Prefix)).toEqual(['empty/inner/']);
    const inner = await s3.send(new ListObjectsV2Command({ Bucket: 'data', Delimiter: '/', Prefix: 'empty/inner/' }));
    expect(inner.Contents!.map((o) => [o.Key, o.Size, o.ETag])).toEqual([['empty/inner/', 0, `"${md5('')}"`]]);
    expect(inner.CommonPrefixes ?? []).toEqual([]);
    const inDir = await s3.send(new ListObjectsV2Command({ Bucket: 'data', Delimiter: '/', Prefix: 'dir/' }));
    expect(inDir.Contents!.map((o) => o.Key)).toEqual(['dir/b.txt']);
    expect(inDir.CommonPrefixes!.map((p) => p.Prefix)).toEqual(['dir/sub/']);
    const partial = await s3.send(new ListObjectsV2Command({ Bucket: 'data', Delimiter: '/', Prefix: 'di' }));
    expect(partial.Contents!.map((o) => o.Key)).toEqual(['dir-x', 'dir0']);
    expect(partial.CommonPrefixes!.map((p) => p.Prefix)).toEqual(['dir/']);
    // Another delimiter: prefixes made from the keys.
    const byDash = await s3.send(new ListObjectsV2Command({ Bucket: 'data', Delimiter: '-' }));
    expect(byDash.CommonPrefixes!.map((p) => p.Prefix)).toEqual(['dir-']);
  });

  it('pages one key at a time (v2 continuation tokens, v1 markers) and starts after a key', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const p = await s3.send(new ListObjectsV2Command({ Bucket: 'data', MaxKeys: 1, ContinuationToken: token }));
      seen.push(...(p.Contents ?? []).map((o) => o.Key!), ...(p.CommonPrefixes ?? []).map((c) => c.Prefix!));
      token = p.NextContinuationToken;
    } while (token);
    expect(seen).toEqual(all);
    const v1: string[] = [];
    let marker: string | undefined;
    for (;;) {
      const p = await s3.send(new ListObjectsCommand({ Bucket: 'data', MaxKeys: 2, Marker: marker, Delimiter: '/' }));
      v1.push(...(p.Contents ?? []).map((o) => o.Key!), ...(p.CommonPrefixes ?? []).map((c) => c.Prefix!));
      if (!p.IsTruncated) break;
      marker = p.NextMarker;
    }
    expect(v1.sort()).toEqual(['a.csv', 'dir-x', 'dir/', 'dir0', 'empty/']);
    const after = await s3.send(new ListObjectsV2Command({ Bucket: 'data', StartAfter: 'dir/b.txt' }));
    expect(after.Contents!.map((o) => o.Key)).toEqual(['dir/sub/c.bin', 'dir0', 'empty/inner/']);
    const afterInside = await s3.send(
      new ListObjectsV2Command({ Bucket: 'data', StartAfter: 'dir/a', Delimiter: '/' }),
    );
    expect(afterInside.CommonPrefixes!.map((p) => p.Prefix)).toEqual(['dir/', 'empty/']);
    const afterAll = await s3.send(new ListObjectsV2Command({ Bucket: 'data', StartAfter: 'dir/z', Delimiter: '/' }));
    expect(afterAll.CommonPrefixes!.map((p) => p.Prefix)).toEqual(['empty/']);
    expect(afterAll.Contents!.map((o) => o.Key)).toEqual(['dir0']);
    // The folder key itself as the marker: what follows it.
    const afterFolder = await s3.send(new ListObjectsV2Command({ Bucket: 'data', StartAfter: 'empty/inner/' }));
    expect(afterFolder.Contents ?? []).toEqual([]);
    const afterEmpty = await s3.send(new ListObjectsV2Command({ Bucket: 'data', StartAfter: 'dir0' }));
    expect(afterEmpty.Contents!.map((o) => o.Key)).toEqual(['empty/inner/']);
  });

  it('versions: one null version per file', async () => {
    const v = await s3.send(new ListObjectVersionsCommand({ Bucket: 'data', Prefix: 'dir/' }));
    expect(v.Versions!.map((x) => [x.Key, x.VersionId, x.IsLatest])).toEqual([
      ['dir/b.txt', 'null', true],
      ['dir/sub/c.bin', 'null', true],
    ]);
  });

  it('a prefix with .. or // matches nothing', async () => {
    for (const Prefix of ['../', 'dir/../', 'dir//'])
      expect((await s3.send(new ListObjectsV2Command({ Bucket: 'data', Prefix }))).KeyCount).toBe(0);
  });
});

describe('changes behind the gateway', () => {
  it('a file written by another process is seen on the next request; changed, it gets a new ETag; removed, it is gone', async () => {
    otherProcessWrites(file('data/late.txt'), 'first');
    const g = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'late.txt' }));
    expect(await g.Body!.transformToString()).toBe('first');
    const keys = (await s3.send(new ListObjectsV2Command({ Bucket: 'data' }))).Contents!.map((o) => o.Key);
    expect(keys).toContain('late.txt');
    otherProcessWrites(file('data/late.txt'), 'second, longer');
    const g2 = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'late.txt' }));
    expect(await g2.Body!.transformToString()).toBe('second, longer');
    expect(g2.ETag).not.toBe(g.ETag);
    await unlink(file('data/late.txt'));
    expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'late.txt' })))).status).toBe(404);
  });

  it('a folder made by another process is a bucket; removed, it is gone', async () => {
    execFileSync(process.execPath, ['-e', 'require("fs").mkdirSync(process.argv[1])', file('made-outside')]);
    await writeFile(file('made-outside/x'), 'x');
    expect((await s3.send(new ListBucketsCommand({}))).Buckets!.map((b) => b.Name)).toContain('made-outside');
    await rm(file('made-outside'), { recursive: true });
    const e = await s3Error(s3.send(new ListObjectsV2Command({ Bucket: 'made-outside' })));
    expect(e.name).toBe('NoSuchBucket');
  });

  it('a file Cairn wrote keeps its metadata when someone renames it; changed in place, the metadata goes', async () => {
    await s3.send(
      new PutObjectCommand({
        Bucket: 'data',
        Key: 'meta/orig.json',
        Body: '{"a":1}',
        ContentType: 'application/json',
        Metadata: { owner: 'ann' },
      }),
    );
    await mkdir(file('data/moved'), { recursive: true });
    await rename(file('data/meta/orig.json'), file('data/moved/renamed.json'));
    const h = await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'moved/renamed.json' }));
    expect(h.ETag).toBe(`"${md5('{"a":1}')}"`);
    expect(h.ContentType).toBe('application/json');
    expect(h.Metadata).toEqual({ owner: 'ann' });
    otherProcessWrites(file('data/moved/renamed.json'), '{"a":2}');
    const h2 = await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'moved/renamed.json' }));
    expect(h2.ETag).not.toBe(h.ETag);
    expect(h2.Metadata).toEqual({});
    expect(h2.ContentType).not.toBe('application/json');
  });
});

describe('writes', () => {
  it('PUTs at once making the same new folders all store their files (none taken for a dangling symlink)', async () => {
    // As `aws s3 sync` does with a tree: several uploads under folders that do not exist yet, in parallel.
    const keys = Array.from({ length: 24 }, (_, i) => `burst/${i % 3}/deeper/f${i}.txt`);
    const puts = await Promise.allSettled(
      keys.map((Key) => s3.send(new PutObjectCommand({ Bucket: 'data', Key, Body: Key }))),
    );
    expect(puts.filter((p) => p.status === 'rejected').map((p) => String((p as PromiseRejectedResult).reason))).toEqual(
      [],
    );
    for (const k of keys) expect(await readFile(file('data', k), 'utf8')).toBe(k);
    await rm(file('data/burst'), { recursive: true });
  });

  it('PUT makes a plain file (folders for the / of its key) and keeps metadata beside it, not in the tree', async () => {
    const body = 'hello, folder';
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: 'data',
        Key: 'new/deep/x.txt',
        Body: body,
        ContentType: 'text/plain',
        Metadata: { k: 'v' },
        ChecksumAlgorithm: 'SHA256',
      }),
    );
    expect(put.ETag).toBe(`"${md5(body)}"`);
    expect(await readFile(file('data/new/deep/x.txt'), 'utf8')).toBe(body);
    expect(await readdir(file('data/new/deep'))).toEqual(['x.txt']);
    const h = await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'new/deep/x.txt', ChecksumMode: 'ENABLED' }));
    expect(h.ContentType).toBe('text/plain');
    expect(h.Metadata).toEqual({ k: 'v' });
    expect(h.ChecksumSHA256).toBe(createHash('sha256').update(body).digest('base64'));
    const listed = (await s3.send(new ListObjectsV2Command({ Bucket: 'data', Prefix: 'new/' }))).Contents!;
    expect(listed.map((o) => [o.Key, o.ETag])).toEqual([['new/deep/x.txt', put.ETag]]);
    // Deleting the only file removes the folders it made.
    await s3.send(new DeleteObjectCommand({ Bucket: 'data', Key: 'new/deep/x.txt' }));
    expect(await stat(file('data/new')).catch(() => null)).toBeNull();
    expect(await stat(file('data')).catch(() => null)).not.toBeNull();
  });

  it('tags of a foreign file leave its ETag alone; copy onto itself replaces metadata', async () => {
    await writeFile(file('data/tagged.txt'), 'tag me');
    const before = await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'tagged.txt' }));
    await s3.send(
      new PutObjectTaggingCommand({
        Bucket: 'data',
        Key: 'tagged.txt',
        Tagging: { TagSet: [{ Key: 't', Value: '1' }] },
      }),
    );
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: 'data', Key: 'tagged.txt' }));
    expect(tags.TagSet).toEqual([{ Key: 't', Value: '1' }]);
    const after = await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'tagged.txt' }));
    expect(after.ETag).toBe(before.ETag);
    await s3.send(
      new CopyObjectCommand({
        Bucket: 'data',
        Key: 'tagged.txt',
        CopySource: 'data/tagged.txt',
        MetadataDirective: 'REPLACE',
        ContentType: 'text/x-tagged',
      }),
    );
    const copied = await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'tagged.txt' }));
    expect(copied.ContentType).toBe('text/x-tagged');
    expect(await readFile(file('data/tagged.txt'), 'utf8')).toBe('tag me');
  });

  it('multipart parts stay in the hidden area and are assembled into the file at completion', async () => {
    const p1 = Buffer.alloc(5 * 1024 * 1024, 1);
    const p2 = Buffer.from('the end');
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'data', Key: 'mp/big.bin' }));
    const e1 = await s3.send(
      new UploadPartCommand({ Bucket: 'data', Key: 'mp/big.bin', UploadId, PartNumber: 1, Body: p1 }),
    );
    const e2 = await s3.send(
      new UploadPartCommand({ Bucket: 'data', Key: 'mp/big.bin', UploadId, PartNumber: 2, Body: p2 }),
    );
    expect(await stat(file('data/mp')).catch(() => null)).toBeNull();
    const ups = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'data' }));
    expect(ups.Uploads!.map((u) => u.Key)).toEqual(['mp/big.bin']);
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'data',
        Key: 'mp/big.bin',
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: e1.ETag },
            { PartNumber: 2, ETag: e2.ETag },
          ],
        },
      }),
    );
    expect(done.ETag).toMatch(/-2"$/);
    expect(md5(await readFile(file('data/mp/big.bin')))).toBe(md5(Buffer.concat([p1, p2])));
    const h = await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'mp/big.bin' }));
    expect(h.ETag).toBe(done.ETag);
    expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: 'data' }))).Uploads ?? []).toEqual([]);
    // An aborted upload leaves nothing.
    const ab = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'data', Key: 'mp/gone.bin' }));
    await s3.send(
      new UploadPartCommand({ Bucket: 'data', Key: 'mp/gone.bin', UploadId: ab.UploadId, PartNumber: 1, Body: 'x' }),
    );
    await s3.send(new AbortMultipartUploadCommand({ Bucket: 'data', Key: 'mp/gone.bin', UploadId: ab.UploadId }));
    expect(await readdir(file('data/mp'))).toEqual(['big.bin']);
    expect(await readdir(file('.cairn.sys/multipart'))).toEqual([]);
  });

  it('a part whose body is still arriving when its upload is aborted gets NoSuchUpload and leaves nothing', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'data', Key: 'mp/late.bin' }));
    const body = Buffer.alloc(256 * 1024, 7);
    const { headers, target } = await signRequest(gw.url, {
      method: 'PUT',
      path: '/data/mp/late.bin',
      query: { partNumber: '1', uploadId: UploadId! },
      body,
    });
    let answer!: (r: { status: number; text: string }) => void;
    const answered = new Promise<{ status: number; text: string }>((r) => (answer = r));
    const req = request(
      `${gw.url}${target}`,
      { method: 'PUT', headers: { ...headers, 'content-length': String(body.length) } },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => answer({ status: res.statusCode!, text }));
      },
    );
    req.write(body.subarray(0, 1024));
    // The part is being written once its temp file is in the upload's folder.
    const folder = file(`.cairn.sys/multipart/${UploadId}`);
    await vi.waitFor(async () => expect((await readdir(folder)).some((f) => f.endsWith('.tmp'))).toBe(true), {
      timeout: 20_000,
      interval: 10,
    });
    await s3.send(new AbortMultipartUploadCommand({ Bucket: 'data', Key: 'mp/late.bin', UploadId }));
    req.end(body.subarray(1024));
    const res = await answered;
    expect(res.status).toBe(404);
    expect(res.text).toContain('<Code>NoSuchUpload</Code>');
    expect(await stat(folder).catch(() => null)).toBeNull();
    expect(await stat(file('data/mp/late.bin')).catch(() => null)).toBeNull();
  });

  it('buckets: CreateBucket makes a folder, DeleteBucket removes an empty one and refuses a full one', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'fresh' }));
    expect((await stat(file('fresh'))).isDirectory()).toBe(true);
    await writeFile(file('fresh/f'), 'f');
    expect((await s3Error(s3.send(new DeleteBucketCommand({ Bucket: 'fresh' })))).name).toBe('BucketNotEmpty');
    await unlink(file('fresh/f'));
    await s3.send(new DeleteBucketCommand({ Bucket: 'fresh' }));
    expect(await stat(file('fresh')).catch(() => null)).toBeNull();
  });
});

describe('concurrent PUT and a plain-file reader', () => {
  it('a reader of the file sees whole versions only, never a partial one', async () => {
    const size = 4 * 1024 * 1024;
    const versions = 12;
    const path = file('data/hot.bin');
    await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'hot.bin', Body: Buffer.alloc(size, 0) }));
    let writing = true;
    let reads = 0;
    const bad: string[] = [];
    const reader = (async () => {
      // Reads until the writer is done, then once more: each read must be one version, whole.
      for (let last = false; !last; ) {
        last = !writing;
        const b = await readFile(path);
        reads++;
        if (b.length !== size) bad.push(`length ${b.length}`);
        else if (!b.equals(Buffer.alloc(size, b[0]))) bad.push('mixed bytes');
      }
    })();
    for (let v = 1; v <= versions; v++)
      await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'hot.bin', Body: Buffer.alloc(size, v) }));
    writing = false;
    await reader;
    expect(bad).toEqual([]);
    expect(reads).toBeGreaterThan(1);
    expect((await readFile(path))[0]).toBe(versions);
    expect(await readdir(file('.cairn.sys/tmp'))).toEqual([]);
  });
});
