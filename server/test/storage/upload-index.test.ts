// The key-ordered index of multipart uploads (storage/engine/upload-index.ts): pages over two erasure sets
// match S3's order (key, then initiation) for every page size, prefix and delimiter; two storage processes on
// the same drives see each other's uploads come and go; the index survives what a crash can leave (a line
// without its folder, a folder without its line, a removal without its line, a torn line) and is rebuilt
// from the upload folders when it is missing (a deployment older than the index); a long index is compacted.
import { createHash } from 'node:crypto';
import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ErasureObjects } from '../../src/storage/index.js';
import { drives, open } from './helpers.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

type Up = { key: string; uploadId: string; initiated: Date };
const order = (a: Up, b: Up) =>
  a.key !== b.key
    ? a.key < b.key
      ? -1
      : 1
    : a.initiated.getTime() - b.initiated.getTime() || (a.uploadId < b.uploadId ? -1 : 1);

/** Every page of a listing, as [uploads (key/id), common prefixes]; checks the markers name the last entry. */
async function walk(
  s: ErasureObjects,
  bucket: string,
  o: { prefix?: string; delimiter?: string; maxUploads: number },
): Promise<{ uploads: string[]; prefixes: string[]; pages: number }> {
  const uploads: string[] = [];
  const prefixes: string[] = [];
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (let pages = 1; ; pages++) {
    const r = await s.listMultipartUploads(bucket, { ...o, keyMarker, uploadIdMarker });
    uploads.push(...r.uploads.map((u) => `${u.key} ${u.uploadId}`));
    prefixes.push(...r.commonPrefixes);
    if (!r.isTruncated) return { uploads, prefixes, pages };
    expect(r.uploads.length + r.commonPrefixes.length).toBe(o.maxUploads);
    keyMarker = r.nextKeyMarker;
    uploadIdMarker = r.nextUploadIdMarker;
    if (pages > 10_000) throw new Error('paging does not end');
  }
}

/** What S3 answers for these uploads, all pages together. */
function expected(all: Up[], prefix = '', delimiter?: string) {
  const uploads: string[] = [];
  const prefixes: string[] = [];
  for (const u of [...all].sort(order)) {
    if (!u.key.startsWith(prefix)) continue;
    const i = delimiter ? u.key.indexOf(delimiter, prefix.length) : -1;
    if (i < 0) uploads.push(`${u.key} ${u.uploadId}`);
    else if (prefixes.at(-1) !== u.key.slice(0, i + 1)) prefixes.push(u.key.slice(0, i + 1));
  }
  return { uploads, prefixes };
}

async function setup(n = 8) {
  const d = await drives(n);
  const s = await open(d.paths, { setSize: 4 });
  cleanup.push(
    () => d.cleanup(),
    () => s.close(),
  );
  await s.makeBucket('bkt');
  return { d, s };
}

const indexFiles = (paths: string[], bucket = 'bkt') =>
  paths.map((p) => join(p, '.cairn.sys', 'multipart', bucket, '_uploads'));

describe('multipart upload index', () => {
  it('pages in key then initiation order over two sets, for any page size, prefix and delimiter', async () => {
    const { s } = await setup();
    const all: Up[] = [];
    const keys = Array.from({ length: 150 }, (_, i) => `${['a', 'b/', 'b/c/', 'd'][i % 4]}k${i % 37}`);
    for (let i = 0; i < keys.length; i += 25)
      all.push(...(await Promise.all(keys.slice(i, i + 25).map((k) => s.newMultipartUpload('bkt', k, {})))));
    // Several uploads of one key, some started in the same millisecond: ordered by time, then id.
    for (let i = 0; i < 4; i++) all.push(await s.newMultipartUpload('bkt', 'b/c/k1', {}));
    expect(new Set(all.map((u) => u.key)).size).toBeLessThan(all.length);
    for (const o of [
      { maxUploads: 1000 },
      { maxUploads: 7 },
      { maxUploads: 1 },
      { maxUploads: 13, prefix: 'b/' },
      { maxUploads: 5, delimiter: '/' },
      { maxUploads: 3, prefix: 'b/', delimiter: '/' },
      { maxUploads: 2, prefix: 'b/c/k1' },
      { maxUploads: 4, prefix: 'zz' },
    ]) {
      const got = await walk(s, 'bkt', o);
      const want = expected(all, o.prefix, o.delimiter);
      expect({ uploads: got.uploads, prefixes: got.prefixes }, JSON.stringify(o)).toEqual(want);
    }
    // Completing and aborting take uploads out; a marker naming an upload that is gone starts after its key.
    const [gone, ...rest] = all.filter((u) => u.key === 'b/c/k1');
    await s.abortMultipartUpload('bkt', gone.key, gone.uploadId);
    await s.abortMultipartUpload('bkt', rest[0].key, rest[0].uploadId);
    const left = all.filter((u) => u !== gone && u !== rest[0]);
    expect((await walk(s, 'bkt', { maxUploads: 9 })).uploads).toEqual(expected(left).uploads);
    const after = await s.listMultipartUploads('bkt', {
      keyMarker: 'b/c/k1',
      uploadIdMarker: gone.uploadId,
      maxUploads: 1,
    });
    expect(after.uploads[0].key > 'b/c/k1').toBe(true);
  });

  it('two storage processes on the same drives see each other’s uploads come and go', async () => {
    const { d, s } = await setup(4);
    const other = await open(d.paths);
    cleanup.push(() => other.close());
    const keys = (r: { uploads: { key: string }[] }) => r.uploads.map((u) => u.key);
    expect(keys(await other.listMultipartUploads('bkt', { maxUploads: 10 }))).toEqual([]);
    const a = await s.newMultipartUpload('bkt', 'x/1', {});
    expect(keys(await other.listMultipartUploads('bkt', { maxUploads: 10 }))).toEqual(['x/1']);
    const b = await other.newMultipartUpload('bkt', 'x/0', {});
    expect(keys(await s.listMultipartUploads('bkt', { maxUploads: 10 }))).toEqual(['x/0', 'x/1']);
    await other.abortMultipartUpload('bkt', 'x/1', a.uploadId);
    expect(keys(await s.listMultipartUploads('bkt', { maxUploads: 10 }))).toEqual(['x/0']);
    await s.abortMultipartUpload('bkt', 'x/0', b.uploadId);
    expect(keys(await other.listMultipartUploads('bkt', { maxUploads: 10 }))).toEqual([]);
  });

  it('a line without its folder is not listed and is dropped once old; a removal without its line too', async () => {
    const { d, s } = await setup(4);
    const kept = await s.newMultipartUpload('bkt', 'kept', {});
    const lost = await s.newMultipartUpload('bkt', 'lost', {});
    await s.listMultipartUploads('bkt', { maxUploads: 10 });
    // A create that died after its line (an hour ago) and before its folder; one that died a moment ago.
    const old = {
      n: `${'0'.repeat(64)}/00000000-0000-4000-8000-000000000000`,
      k: 'a-phantom',
      t: Date.now() - 3_600_000,
    };
    const young = { n: `${'1'.repeat(64)}/11111111-1111-4111-8111-111111111111`, k: 'b-phantom', t: Date.now() };
    for (const f of indexFiles(d.paths)) await appendFile(f, `${JSON.stringify(old)}\n${JSON.stringify(young)}\n`);
    // A completion that died after removing the folder and before writing its line.
    for (const p of d.paths) await rm(join(p, '.cairn.sys', 'multipart', 'bkt', lostDir(lost)), { recursive: true });
    const page = await s.listMultipartUploads('bkt', { maxUploads: 1 });
    expect(page.uploads.map((u) => u.uploadId)).toEqual([kept.uploadId]);
    expect(page.isTruncated).toBe(false);
    // The old phantom's removal is written on every drive; the young one's is not (its create may be under way).
    await expect
      .poll(async () => (await Promise.all(indexFiles(d.paths).map((f) => readFile(f, 'utf8')))).join(''), {
        timeout: 10_000,
      })
      .toContain(`{"n":"${old.n}","x":1}`);
    const text = await readFile(indexFiles(d.paths)[0], 'utf8');
    expect(text).not.toContain(`{"n":"${young.n}","x":1}`);
  });

  it('a torn line (power loss mid-append) costs only itself', async () => {
    const { d, s } = await setup(4);
    await s.listMultipartUploads('bkt', { maxUploads: 10 });
    for (const f of indexFiles(d.paths)) await appendFile(f, '{"n":"ab');
    const u = await s.newMultipartUpload('bkt', 'after-tear', {});
    expect((await s.listMultipartUploads('bkt', { maxUploads: 10 })).uploads.map((x) => x.uploadId)).toEqual([
      u.uploadId,
    ]);
    // A fresh process reads the files whole.
    const other = await open(d.paths);
    cleanup.push(() => other.close());
    expect((await other.listMultipartUploads('bkt', { maxUploads: 10 })).uploads.map((x) => x.uploadId)).toEqual([
      u.uploadId,
    ]);
  });

  it('is rebuilt from the upload folders when it is missing (older deployment, wiped index)', async () => {
    const d = await drives(8);
    cleanup.push(() => d.cleanup());
    const s = await open(d.paths, { setSize: 4 });
    await s.makeBucket('bkt');
    const all: Up[] = [];
    for (let i = 0; i < 40; i++) all.push(await s.newMultipartUpload('bkt', `k${i % 9}`, {}));
    await s.close();
    for (const f of indexFiles(d.paths)) await rm(f, { force: true });
    // A half-written index without its generation line counts as missing too.
    await writeFile(indexFiles(d.paths)[0], `${JSON.stringify({ n: 'x/y', k: 'zz', t: 1 })}\n`);
    const again = await open(d.paths, { setSize: 4 });
    cleanup.push(() => again.close());
    expect((await walk(again, 'bkt', { maxUploads: 6 })).uploads).toEqual(expected(all).uploads);
    for (const f of indexFiles(d.paths)) expect(await readFile(f, 'utf8')).toMatch(/^\{"g":"[0-9a-f-]{36}"\}\n/);
  });

  it('a long index (uploads come and go) is compacted, and every process follows the rewrite', async () => {
    const { d, s } = await setup(4);
    const other = await open(d.paths);
    cleanup.push(() => other.close());
    const stay = await s.newMultipartUpload('bkt', 'stay', {});
    expect((await other.listMultipartUploads('bkt', { maxUploads: 10 })).uploads).toHaveLength(1);
    for (let i = 0; i < 700; i += 50)
      await Promise.all(
        Array.from({ length: 50 }, async (_, j) => {
          const u = await s.newMultipartUpload('bkt', `tmp${i + j}`, {});
          await s.abortMultipartUpload('bkt', u.key, u.uploadId);
        }),
      );
    const before = (await readFile(indexFiles(d.paths)[0])).length;
    await s.listMultipartUploads('bkt', { maxUploads: 10 }); // sees 1,401 lines for one upload: compacts
    await expect
      .poll(async () => (await readFile(indexFiles(d.paths)[0])).length, { timeout: 10_000 })
      .toBeLessThan(before / 10);
    const late = await s.newMultipartUpload('bkt', 'late', {});
    for (const p of [s, other])
      expect((await p.listMultipartUploads('bkt', { maxUploads: 10 })).uploads.map((u) => u.uploadId)).toEqual([
        late.uploadId,
        stay.uploadId,
      ]);
  });
});

function lostDir(u: Up): string {
  return `${createHash('sha256').update(`bkt/${u.key}`).digest('hex')}/${u.uploadId}`;
}
