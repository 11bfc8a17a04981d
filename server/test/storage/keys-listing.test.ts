// Keys S3 allows and MinIO does not (a next to a/b, trailing slashes, dots, unicode, long segments) and
// sorted listing with prefix, delimiter and markers over two sets, also with a dead drive.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { rm } from 'node:fs/promises';
import { data, drives, get, open, put } from './helpers.js';
import type { ErasureObjects } from '../../src/storage/index.js';
import { compareKeys } from '../../src/storage/meta/key-path.js';

const KEYS = [
  'a',
  'a/b',
  'a/b/c',
  'a/',
  'a//b',
  '//',
  '/lead',
  '..',
  '../../etc/passwd',
  'x/../y',
  '.',
  'a.o',
  'a.d/z',
  '_idx',
  'meta',
  '%2F%25',
  'with space/and more ',
  'ünïcødé/日本語/🚀',
  'tab\there',
  'ctl\u0001\u001f',
  'a-b',
  'a0',
  `${'L'.repeat(300)}/x`,
  `p/${'é'.repeat(500)}`,
  'k'.repeat(1024),
  '\uffff',
  '\u{1F600}',
];

function s3Sort(keys: string[]): string[] {
  return [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
}

describe('keys and listing (two sets of 2+2)', () => {
  let s: ErasureObjects;
  let d: Awaited<ReturnType<typeof drives>>;
  const bodies = new Map<string, Buffer>();
  beforeAll(async () => {
    d = await drives(8);
    s = await open(d.paths, { setSize: 4 });
    await s.makeBucket('bkt');
    for (const k of KEYS) {
      const b = data(k.length % 3 === 0 ? 200 * 1024 : 100);
      bodies.set(k, b);
      await put(s, 'bkt', k, b);
    }
  });
  afterAll(async () => {
    await s.close();
    await d.cleanup();
  });

  it('compareKeys is UTF-8 byte order', () => {
    const ks = ['\uffff', '\u{1F600}', 'a', 'é', '\ue000'];
    expect([...ks].sort(compareKeys)).toEqual(s3Sort(ks));
  });

  it('stores every key apart and inside the drive', async () => {
    for (const k of KEYS) expect((await get(s, 'bkt', k)).equals(bodies.get(k)!), k).toBe(true);
  });

  it('lists everything in S3 order, in pages', async () => {
    const all: string[] = [];
    let after: string | undefined;
    for (;;) {
      const r = await s.listObjects('bkt', { maxKeys: 5, after });
      all.push(...r.objects.map((o) => o.key));
      if (!r.isTruncated) break;
      after = r.nextAfter;
    }
    expect(all).toEqual(s3Sort(KEYS));
  });

  it('answers prefix and delimiter like S3', async () => {
    const r = await s.listObjects('bkt', { prefix: 'a', delimiter: '/', maxKeys: 1000 });
    expect(r.objects.map((o) => o.key)).toEqual(['a', 'a-b', 'a.o', 'a0']);
    expect(r.commonPrefixes).toEqual(['a.d/', 'a/']);
    const r2 = await s.listObjects('bkt', { prefix: 'a/', delimiter: '/', maxKeys: 1000 });
    expect(r2.objects.map((o) => o.key)).toEqual(['a/', 'a/b']);
    expect(r2.commonPrefixes).toEqual(['a//', 'a/b/']);
    const r3 = await s.listObjects('bkt', { delimiter: '/', maxKeys: 1000 });
    expect(r3.commonPrefixes).toEqual(
      s3Sort(['../', '/', `${'L'.repeat(300)}/`, 'a.d/', 'a/', 'p/', 'with space/', 'x/', 'ünïcødé/']),
    );
    const r4 = await s.listObjects('bkt', { prefix: 'a/b', maxKeys: 1000 });
    expect(r4.objects.map((o) => o.key)).toEqual(['a/b', 'a/b/c']);
    const r5 = await s.listObjects('bkt', { prefix: 'a', delimiter: 'b', maxKeys: 1000 });
    expect(r5.commonPrefixes).toEqual(['a-b', 'a//b', 'a/b']);
    const r6 = await s.listObjects('bkt', { prefix: 'a', delimiter: '/', maxKeys: 2 });
    expect(r6.objects.map((o) => o.key)).toEqual(['a', 'a-b']);
    expect(r6.isTruncated).toBe(true);
    const r7 = await s.listObjects('bkt', { prefix: 'a', delimiter: '/', maxKeys: 1000, after: 'a.d/' });
    expect([...r7.objects.map((o) => o.key), ...r7.commonPrefixes]).toEqual(['a.o', 'a0', 'a/']);
  });

  it('gives size, ETag and mtime in listings without reading data', async () => {
    const r = await s.listObjects('bkt', { prefix: 'a/b', maxKeys: 1 });
    const info = await s.headObject('bkt', 'a/b');
    expect(r.objects[0]).toMatchObject({ key: 'a/b', size: info.size, etag: info.etag });
    expect(r.objects[0].lastModified.getTime()).toBe(info.lastModified.getTime());
  });

  it('hides deleted keys and empty directories', async () => {
    await put(s, 'bkt', 'tmp/one/two', data(10));
    await s.deleteObject('bkt', 'tmp/one/two');
    const r = await s.listObjects('bkt', { delimiter: '/', maxKeys: 1000 });
    expect(r.commonPrefixes).not.toContain('tmp/');
  });

  it('lists the same with a dead drive in each set', async () => {
    const before = (await s.listObjects('bkt', { maxKeys: 1000 })).objects.map((o) => o.key);
    await s.close();
    await rm(d.paths[1], { recursive: true });
    await rm(d.paths[6], { recursive: true });
    s = await open(d.paths, { setSize: 4 });
    const after = (await s.listObjects('bkt', { maxKeys: 1000 })).objects.map((o) => o.key);
    expect(after).toEqual(before);
    for (const k of KEYS) expect((await get(s, 'bkt', k)).equals(bodies.get(k)!), k).toBe(true);
    await s.healIdle();
  });
});

describe('listing journal', () => {
  it('is compacted once overwrites make it long, and listings stay right', async () => {
    const { readFile } = await import('node:fs/promises');
    const d = await drives(1);
    let s = await open(d.paths);
    try {
      await s.makeBucket('bkt');
      for (let i = 0; i < 520; i++) await put(s, 'bkt', 'dir/hot', data(i % 50));
      await put(s, 'bkt', 'dir/cold', data(7));
      const journal = `${d.paths[0]}/bkt/dir.d/_idx`;
      const lines = async () => (await readFile(journal, 'utf8')).split('\n').filter(Boolean).length;
      expect(await lines()).toBeGreaterThan(1000);
      await s.close();
      s = await open(d.paths);
      const r = await s.listObjects('bkt', { prefix: 'dir/', maxKeys: 10 });
      expect(r.objects.map((o) => [o.key, o.size])).toEqual([
        ['dir/cold', 7],
        ['dir/hot', 519 % 50],
      ]);
      await vi.waitFor(async () => expect(await lines()).toBe(2), { timeout: 30_000, interval: 20 });
      await s.close();
      s = await open(d.paths);
      const r2 = await s.listObjects('bkt', { prefix: 'dir/', maxKeys: 10 });
      expect(r2.objects).toEqual(r.objects);
    } finally {
      await s.close();
      await d.cleanup();
    }
  });
});

describe('listing cache', () => {
  it('follows writes between pages and agrees with a cold listing', async () => {
    const d = await drives(4);
    let s = await open(d.paths);
    try {
      await s.makeBucket('bkt');
      for (const k of ['p/a', 'p/c', 'p/e', 'q/x', 'top']) await put(s, 'bkt', k, data(5));
      const page1 = await s.listObjects('bkt', { maxKeys: 2 });
      expect(page1.objects.map((o) => o.key)).toEqual(['p/a', 'p/c']);
      await put(s, 'bkt', 'p/d', data(9)); // lands after the marker
      await put(s, 'bkt', 'p/b', data(9)); // lands before it
      await put(s, 'bkt', 'new/deep/key', data(3)); // new directories
      await put(s, 'bkt', 'p/e', data(11)); // overwrite
      await s.deleteObject('bkt', 'q/x');
      const page2 = await s.listObjects('bkt', { maxKeys: 10, after: page1.nextAfter });
      expect(page2.objects.map((o) => [o.key, o.size])).toEqual([
        ['p/d', 9],
        ['p/e', 11],
        ['top', 5],
      ]);
      const byDelim = await s.listObjects('bkt', { delimiter: '/', maxKeys: 10 });
      expect(byDelim.commonPrefixes).toEqual(['new/', 'p/']);
      const warm = await s.listObjects('bkt', { maxKeys: 100 });
      await s.close();
      s = await open(d.paths);
      const cold = await s.listObjects('bkt', { maxKeys: 100 });
      expect(cold.objects.map((o) => [o.key, o.size, o.etag])).toEqual(
        warm.objects.map((o) => [o.key, o.size, o.etag]),
      );
      expect(warm.objects.map((o) => o.key)).toEqual(['new/deep/key', 'p/a', 'p/b', 'p/c', 'p/d', 'p/e', 'top']);
    } finally {
      await s.close();
      await d.cleanup();
    }
  });
});
