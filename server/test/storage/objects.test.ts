// PUT/GET round trips across layouts and sizes around the block and shard boundaries, ranges, parts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { body, data, drives, get, open, put, read } from './helpers.js';
import { S3Error } from '../../src/errors.js';
import type { ErasureObjects } from '../../src/storage/index.js';

const MiB = 1024 * 1024;

const layouts = [
  { name: '1 drive', n: 1, setSize: undefined },
  { name: '2+2', n: 4, setSize: undefined },
  { name: '4+4', n: 8, setSize: undefined },
  { name: '6+2', n: 8, setSize: undefined, parity: 2 },
  { name: 'two sets of 2+2', n: 8, setSize: 4 },
];

for (const l of layouts) {
  describe(`objects on ${l.name}`, () => {
    let s: ErasureObjects;
    let d: Awaited<ReturnType<typeof drives>>;
    beforeAll(async () => {
      d = await drives(l.n);
      s = await open(d.paths, { setSize: l.setSize, parity: l.parity });
      await s.makeBucket('bkt');
    });
    afterAll(async () => {
      await s.close();
      await d.cleanup();
    });

    it('has the layout asked for', () => {
      const setSize = l.setSize ?? l.n;
      expect(s.layout.setSize).toBe(setSize);
      expect(s.layout.parity).toBe(l.parity ?? Math.floor(setSize / 2));
    });

    const dataShards = (l.setSize ?? l.n) - (l.parity ?? Math.floor((l.setSize ?? l.n) / 2));
    const shard = Math.ceil(MiB / dataShards);
    const sizes = [0, 1, shard - 1, shard, shard + 1, MiB - 1, MiB, MiB + 1, 3 * MiB + 17, 200 * 1024];
    it.each(sizes)('size %i round-trips byte-exact with the right ETag', async (size) => {
      const buf = data(size);
      const info = await put(s, 'bkt', `obj-${size}`, buf);
      expect(info.size).toBe(size);
      expect(info.etag).toBe(createHash('md5').update(buf).digest('hex'));
      expect((await get(s, 'bkt', `obj-${size}`)).equals(buf)).toBe(true);
      const head = await s.headObject('bkt', `obj-${size}`);
      expect(head.size).toBe(size);
      expect(head.etag).toBe(info.etag);
    });

    it('serves ranges touching only their blocks', async () => {
      const buf = data(3 * MiB + 5);
      await put(s, 'bkt', 'ranged', buf);
      for (const [a, z] of [
        [0, 0],
        [MiB - 1, MiB],
        [MiB + 3, 2 * MiB + 7],
        [3 * MiB, 3 * MiB + 4],
        [5, 3 * MiB + 4],
      ]) {
        const r = { body: await read(s, 'bkt', 'ranged', { range: { start: a, end: z } }) };
        const got = Buffer.concat(await r.body.toArray());
        expect(got.equals(buf.subarray(a, z + 1))).toBe(true);
      }
      await expect(read(s, 'bkt', 'ranged', { range: { start: 4 * MiB, end: 4 * MiB } })).rejects.toMatchObject({
        code: 'InvalidRange',
      });
    });

    it('overwrites in place and deletes', async () => {
      await put(s, 'bkt', 'ow', data(10));
      const second = data(300 * 1024);
      await put(s, 'bkt', 'ow', second);
      expect((await get(s, 'bkt', 'ow')).equals(second)).toBe(true);
      await s.deleteObject('bkt', 'ow');
      await expect(s.headObject('bkt', 'ow')).rejects.toMatchObject({ code: 'NoSuchKey' });
    });
  });
}

describe('bad input', () => {
  it('refuses wrong sizes and missing buckets, leaving nothing', async () => {
    const d = await drives(4);
    const s = await open(d.paths);
    try {
      await s.makeBucket('bkt');
      const buf = data(1000);
      await expect(s.putObject('bkt', 'k', body(buf), { size: 999 })).rejects.toMatchObject({ code: 'IncompleteBody' });
      await expect(s.putObject('bkt', 'k', body(buf), { size: 1001 })).rejects.toMatchObject({
        code: 'IncompleteBody',
      });
      await expect(s.headObject('bkt', 'k')).rejects.toMatchObject({ code: 'NoSuchKey' });
      await expect(put(s, 'nope', 'k', buf)).rejects.toMatchObject({ code: 'NoSuchBucket' });
      await expect(put(s, 'bkt', 'x'.repeat(1025), buf)).rejects.toMatchObject({ code: 'KeyTooLongError' });
      await expect(
        s.putObject('bkt', 'k', body(buf), {
          size: 1000,
          verify: () => {
            throw new S3Error('BadDigest');
          },
        }),
      ).rejects.toMatchObject({ code: 'BadDigest' });
      await expect(s.headObject('bkt', 'k')).rejects.toMatchObject({ code: 'NoSuchKey' });
      expect((await s.listObjects('bkt', { maxKeys: 10 })).objects).toEqual([]);
    } finally {
      await s.close();
      await d.cleanup();
    }
  });
});

describe('bodies in pieces', () => {
  // Blocks go to the native pass as the body's chunks: chunks that end exactly on a block, chunks of one
  // byte (gathered once a block would hold hundreds), chunks larger than a block; and concurrent uploads,
  // whose ETag MD5s are hashed together in SIMD lanes.
  it('every chunking gives the object and its MD5 back, one upload or twelve at once', async () => {
    const d = await drives(4);
    const s = await open(d.paths);
    try {
      await s.makeBucket('bkt');
      const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
      const cases: [string, Buffer, number][] = [
        ['block-sized chunks', data(3 * MiB), MiB],
        ['one-byte chunks', data(70_000), 1],
        ['chunks across blocks', data(5 * MiB + 17), 3 * MiB + 5],
        ['odd chunks', data(2 * MiB + 3), 4093],
      ];
      for (const [key, buf, chunk] of cases) {
        const info = await s.putObject('bkt', key, body(buf, chunk), { size: buf.length });
        expect(info.etag).toBe(md5(buf));
        expect((await get(s, 'bkt', key)).equals(buf)).toBe(true);
      }
      const many = Array.from({ length: 12 }, (_, i) => data(MiB + i * 100_003));
      const infos = await Promise.all(
        many.map((buf, i) => s.putObject('bkt', `many-${i}`, body(buf, 65_536 + i), { size: buf.length })),
      );
      for (const [i, buf] of many.entries()) {
        expect(infos[i].etag).toBe(md5(buf));
        expect((await get(s, 'bkt', `many-${i}`)).equals(buf)).toBe(true);
      }
    } finally {
      await s.close();
      await d.cleanup();
    }
  });
});

describe('a 100 MiB object', () => {
  it('round-trips on 6+2, also with two drives gone', async () => {
    const d = await drives(8);
    const s = await open(d.paths, { parity: 2 });
    try {
      await s.makeBucket('bkt');
      const buf = data(100 * MiB);
      const info = await put(s, 'bkt', 'huge', buf);
      expect(info.etag).toBe(createHash('md5').update(buf).digest('hex'));
      expect((await get(s, 'bkt', 'huge')).equals(buf)).toBe(true);
      const { rm } = await import('node:fs/promises');
      await rm(`${d.paths[0]}/bkt`, { recursive: true });
      await rm(`${d.paths[5]}/bkt`, { recursive: true });
      expect((await get(s, 'bkt', 'huge')).equals(buf)).toBe(true);
      const r = { body: await read(s, 'bkt', 'huge', { range: { start: 77 * MiB + 5, end: 78 * MiB + 9 } }) };
      expect(Buffer.concat(await r.body.toArray()).equals(buf.subarray(77 * MiB + 5, 78 * MiB + 10))).toBe(true);
    } finally {
      await s.close();
      await d.cleanup();
    }
  });
});

describe('reads racing writes', () => {
  it('a GET started before an overwrite or delete streams the version it opened', async () => {
    const d = await drives(4);
    const s = await open(d.paths);
    try {
      await s.makeBucket('bkt');
      // multipart: the second part's shard files are opened only when the read gets there
      const first = data(6 * MiB + 3);
      const up = await s.newMultipartUpload('bkt', 'k', {});
      const p1 = await s.putObjectPart('bkt', 'k', up.uploadId, 1, body(first.subarray(0, 5 * MiB)), { size: 5 * MiB });
      const p2 = await s.putObjectPart('bkt', 'k', up.uploadId, 2, body(first.subarray(5 * MiB)), { size: MiB + 3 });
      await s.completeMultipartUpload('bkt', 'k', up.uploadId, [
        { number: 1, etag: p1.etag },
        { number: 2, etag: p2.etag },
      ]);
      const r = { body: await read(s, 'bkt', 'k') };
      const it = r.body[Symbol.asyncIterator]();
      const got: Buffer[] = [(await it.next()).value as Buffer];
      await put(s, 'bkt', 'k', data(2 * MiB));
      await s.deleteObject('bkt', 'k');
      for (let n = await it.next(); !n.done; n = await it.next()) got.push(n.value as Buffer);
      expect(Buffer.concat(got).equals(first)).toBe(true);
      await expect(s.headObject('bkt', 'k')).rejects.toMatchObject({ code: 'NoSuchKey' });
      expect((await s.listObjects('bkt', { maxKeys: 10 })).objects).toEqual([]);
    } finally {
      await s.close();
      await d.cleanup();
    }
  });
});
