// Folder markers in `cairn gateway nas` (server/src/storage/nas/folders.ts): the empty `x/` objects pyarrow's
// create_dir, Hadoop s3a's mkdirs and the AWS console PUT are folders of the served tree, made, answered, listed
// and removed over HTTP with the AWS SDK and checked on disk; what a folder cannot be or keep is refused and
// changes nothing.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Error } from '../helpers/cairn.js';
import { type NasGateway, startNasGateway } from '../helpers/nas.js';

let gw: NasGateway;
let s3: S3Client;
let outside: string;
const EMPTY_ETAG = `"${createHash('md5').digest('hex')}"`;
const file = (...p: string[]) => join(gw.root, ...p);
const isDir = async (p: string) => (await stat(p).catch(() => null))?.isDirectory() ?? false;
const exists = async (p: string) => (await stat(p).catch(() => null)) !== null;
const keys = async (Prefix?: string) =>
  ((await s3.send(new ListObjectsV2Command({ Bucket: 'data', Prefix }))).Contents ?? []).map((o) => o.Key);

beforeAll(async () => {
  outside = await mkdtemp(join(tmpdir(), 'cairn-nas-outside-'));
  gw = await startNasGateway({
    prepare: async (root) => {
      await mkdir(join(root, 'data/full'), { recursive: true });
      await writeFile(join(root, 'data/full/f.txt'), 'f');
      await writeFile(join(root, 'data/a.txt'), 'a');
      await symlink(outside, join(root, 'data/out-dir'));
    },
  });
  s3 = gw.client();
});
afterAll(async () => {
  await gw?.close();
  await rm(outside, { recursive: true, force: true });
});

describe('an empty PUT of x/ is the folder x', () => {
  it('makes the folder (and those above it); HEAD, GET and the listing answer it as an empty object', async () => {
    const put = await s3.send(
      new PutObjectCommand({ Bucket: 'data', Key: 'made/deep/', Body: '', ContentType: 'application/x-directory' }),
    );
    expect(put.ETag).toBe(EMPTY_ETAG);
    expect(await isDir(file('data/made/deep'))).toBe(true);
    expect(await readdir(file('data/made/deep'))).toEqual([]);
    const h = await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'made/deep/' }));
    expect([h.ContentLength, h.ETag, h.ContentType]).toEqual([0, EMPTY_ETAG, 'application/x-directory']);
    const g = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'made/deep/' }));
    expect(await g.Body!.transformToString()).toBe('');
    expect(g.ETag).toBe(EMPTY_ETAG);
    expect(await keys('made/')).toEqual(['made/deep/']);
    const top = await s3.send(new ListObjectsV2Command({ Bucket: 'data', Delimiter: '/', Prefix: 'made/' }));
    expect(top.CommonPrefixes!.map((p) => p.Prefix)).toEqual(['made/deep/']);
    // The same PUT again: the folder is there, nothing changes; If-None-Match: * sees it.
    await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'made/deep/', Body: '' }));
    const again = new PutObjectCommand({ Bucket: 'data', Key: 'made/deep/', Body: '', IfNoneMatch: '*' });
    expect(await s3Error(s3.send(again))).toEqual({ name: 'PreconditionFailed', status: 412 });
    expect(await readdir(file('data/made'))).toEqual(['deep']);
  });

  it('a folder with content is listed through its content, and still answers HEAD and GET', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'filled/', Body: '' }));
    await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'filled/x.txt', Body: 'x' }));
    expect(await keys('filled')).toEqual(['filled/x.txt']);
    const h = await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'filled/' }));
    expect([h.ContentLength, h.ETag]).toEqual([0, EMPTY_ETAG]);
    const g = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'full/' }));
    expect(await g.Body!.transformToString()).toBe('');
  });

  it('a key ending in / names no file, and nothing where no folder is', async () => {
    for (const Key of ['a.txt/', 'nowhere/']) {
      expect([Key, await s3Error(s3.send(new HeadObjectCommand({ Bucket: 'data', Key })))]).toEqual([
        Key,
        { name: 'NotFound', status: 404 },
      ]);
      expect((await s3Error(s3.send(new GetObjectCommand({ Bucket: 'data', Key })))).name).toBe('NoSuchKey');
    }
    // And a folder is no object without its /.
    expect((await s3Error(s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'full' })))).name).toBe('NoSuchKey');
  });
});

describe('DELETE of x/', () => {
  it('removes an empty folder (and the empty folders above it it leaves)', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'gone/inner/', Body: '' }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'data', Key: 'gone/inner/' }));
    expect(await exists(file('data/gone'))).toBe(false);
    expect(await isDir(file('data'))).toBe(true);
    expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'gone/inner/' })))).status).toBe(404);
    // Absent: 204 as for any key.
    await s3.send(new DeleteObjectCommand({ Bucket: 'data', Key: 'gone/inner/' }));
  });

  it('leaves a folder with content as it is (204, nothing removed)', async () => {
    await s3.send(new DeleteObjectCommand({ Bucket: 'data', Key: 'full/' }));
    expect(await readdir(file('data/full'))).toEqual(['f.txt']);
    expect(await keys('full/')).toEqual(['full/f.txt']);
  });

  it('deleting the last file of a folder removes the folders it leaves empty, as before', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'tmpdir/sub/', Body: '' }));
    await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'tmpdir/sub/f', Body: 'f' }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'data', Key: 'tmpdir/sub/f' }));
    expect(await exists(file('data/tmpdir'))).toBe(false);
  });
});

describe('what a folder cannot be or keep is refused, and nothing changes', () => {
  it('a body, metadata, tags, another content header; a file in the way; no key can name the folder', async () => {
    const before = await readdir(file('data'));
    const cases: [PutObjectCommand, string][] = [
      [new PutObjectCommand({ Bucket: 'data', Key: 'nonempty/', Body: 'x' }), 'InvalidArgument'],
      [new PutObjectCommand({ Bucket: 'data', Key: 'meta/', Body: '', Metadata: { a: 'b' } }), 'NotImplemented'],
      [new PutObjectCommand({ Bucket: 'data', Key: 'tags/', Body: '', Tagging: 'a=b' }), 'NotImplemented'],
      [new PutObjectCommand({ Bucket: 'data', Key: 'cc/', Body: '', CacheControl: 'no-cache' }), 'NotImplemented'],
      [new PutObjectCommand({ Bucket: 'data', Key: 'a.txt/', Body: '' }), 'XMinioParentIsObject'],
      [new PutObjectCommand({ Bucket: 'data', Key: 'a.txt/below/', Body: '' }), 'XMinioParentIsObject'],
      [new PutObjectCommand({ Bucket: 'data', Key: 'x//', Body: '' }), 'InvalidArgument'],
      [new PutObjectCommand({ Bucket: 'data', Key: '../escape/', Body: '' }), 'InvalidArgument'],
      [new PutObjectCommand({ Bucket: 'data', Key: 'out-dir/planted/', Body: '' }), 'AccessDenied'],
    ];
    for (const [cmd, code] of cases) {
      const e = await s3Error(s3.send(cmd));
      expect([cmd.input.Key, e.name]).toEqual([cmd.input.Key, code]);
    }
    expect(await readdir(file('data'))).toEqual(before);
    expect(await readdir(outside)).toEqual([]);
    const tagging = new PutObjectTaggingCommand({
      Bucket: 'data',
      Key: 'full/',
      Tagging: { TagSet: [{ Key: 't', Value: '1' }] },
    });
    expect(await s3Error(s3.send(tagging))).toEqual({ name: 'NotImplemented', status: 501 });
  });
});
