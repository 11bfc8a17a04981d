// Where an object's shards go and how many drives a read or write needs, read back from what the drives hold:
// the set of a key (an HMAC of the key under the deployment id), data and parity per storage class, the shard
// order rotated by crc32(key), the write quorum (data, or data + 1 when data equals parity), the read quorum,
// offline and read-only drives left out, inline shards up to the inline limit and shard files past it. Each
// layout is read back byte-exact with drives missing.
import { createHmac } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { FRAME_HASH_LENGTH, nativeCodec } from '../../src/storage/erasure/codec.js';
import { objectDir } from '../../src/storage/meta/key-path.js';
import { decodeMeta, META_NAME, type VersionRecord } from '../../src/storage/meta/meta-file.js';
import { body, data, drives, get, open, put } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

/** A fresh deployment of `n` drives (closed and removed after the file). */
async function deployment(n: number, o: Parameters<typeof open>[1] = {}) {
  const d = await drives(n);
  const s = await open(d.paths, { blockSize: 4096, ...o });
  cleanups.push(async () => {
    await s.close();
    await d.cleanup();
  });
  await s.makeBucket('bkt');
  return { s, paths: d.paths };
}

/** The latest version record of `key` on each drive (undefined where the drive has no metadata for it). */
async function stored(paths: string[], key: string): Promise<(VersionRecord | undefined)[]> {
  return Promise.all(
    paths.map(async (p) => {
      const file = join(p, 'bkt', objectDir(key), META_NAME);
      const buf = await readFile(file).catch(() => undefined);
      return buf ? decodeMeta(buf).versions[0] : undefined;
    }),
  );
}

/** Shard files (part.N) of `key` on a drive. */
async function shardFiles(path: string, key: string): Promise<string[]> {
  const dir = join(path, 'bkt', objectDir(key));
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (e.isDirectory()) out.push(...(await readdir(join(dir, e.name))));
  }
  return out.sort();
}

/** Every way of choosing `k` of `n` slots. */
function choose(n: number, k: number): number[][] {
  if (k === 0) return [[]];
  if (n < k) return [];
  return [...choose(n - 1, k), ...choose(n - 1, k - 1).map((c) => [...c, n - 1])];
}

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
  return undefined;
}

describe('data and parity of a set', () => {
  // [drives, options, STANDARD data+parity, REDUCED_REDUNDANCY data+parity]
  const cases: [number, { parity?: number; rrsParity?: number }, [number, number], [number, number]][] = [
    [1, {}, [1, 0], [1, 0]],
    [2, {}, [1, 1], [1, 1]],
    [3, {}, [2, 1], [2, 1]],
    [4, {}, [2, 2], [3, 1]],
    [5, {}, [3, 2], [4, 1]],
    [6, {}, [3, 3], [5, 1]],
    [8, {}, [4, 4], [6, 2]],
    [4, { parity: 1 }, [3, 1], [3, 1]],
    [6, { parity: 2, rrsParity: 2 }, [4, 2], [4, 2]],
    [6, { parity: 0 }, [6, 0], [6, 0]],
  ];
  it.each(cases)('%i drives %j: STANDARD %j, REDUCED_REDUNDANCY %j', async (n, o, standard, rrs) => {
    const { s, paths } = await deployment(n, o);
    const set = s.sets[0];
    expect(set.layout('STANDARD')).toEqual({ data: standard[0], parity: standard[1] });
    expect(set.layout('REDUCED_REDUNDANCY')).toEqual({ data: rrs[0], parity: rrs[1] });
    expect(set.defaultData).toBe(standard[0]);
    // What the drives hold says the same.
    await put(s, 'bkt', 'std', data(5000));
    await s.putObject('bkt', 'rrs', body(data(5000)), { size: 5000, storageClass: 'REDUCED_REDUNDANCY' });
    for (const [key, want] of [
      ['std', standard],
      ['rrs', rrs],
    ] as const) {
      const versions = await stored(paths, key);
      expect(
        versions.map((v) => [v?.ec?.data, v?.ec?.parity]),
        key,
      ).toEqual(versions.map(() => want));
    }
  });

  it('write quorum: the data shards, one more when data equals parity', async () => {
    const { s } = await deployment(4);
    const set = s.sets[0];
    expect([set.writeQuorum(2, 2), set.writeQuorum(3, 1), set.writeQuorum(1, 1), set.writeQuorum(4, 0)]).toEqual([
      3, 3, 2, 4,
    ]);
    expect([set.writeQuorum(1, 2), set.writeQuorum(3, 3)]).toEqual([1, 4]);
  });
});

describe('shard order', () => {
  it('drive i holds shard 1 + (i - crc32(key)) mod n, whatever the key', async () => {
    for (const n of [3, 4, 5]) {
      const { s, paths } = await deployment(n);
      for (const key of ['a', 'b', 'photos/2024/x.jpg', 'k', 'zz', 'key-6', 'é']) {
        await put(s, 'bkt', key, data(100));
        const start = crc32(key) % n;
        const want = paths.map((_, i) => 1 + ((i - start + n) % n));
        const versions = await stored(paths, key);
        for (const v of versions) {
          expect(v?.ec?.dist, `${n} ${key}`).toEqual(want);
          expect([v?.ec?.blockSize, v?.ec?.bitrot]).toEqual([4096, 'highwayhash256']);
        }
        expect(s.sets[0].newErasure(key, 'STANDARD').dist).toEqual(want);
      }
    }
  });
});

describe('the set of a key', () => {
  it('one set takes every key', async () => {
    const { s, paths } = await deployment(4, { setSize: 4 });
    await put(s, 'bkt', 'only', data(10));
    expect((await stored(paths, 'only')).every((v) => v !== undefined)).toBe(true);
  });

  it('several sets: HMAC-SHA256 of the key under the deployment id, first four bytes, modulo the sets', async () => {
    const { s, paths } = await deployment(6, { setSize: 2 });
    expect(s.sets).toHaveLength(3);
    const seen = new Set<number>();
    for (let i = 0; i < 24; i++) {
      const key = `obj-${i}`;
      await put(s, 'bkt', key, data(10));
      const want = createHmac('sha256', s.deploymentId).update(key).digest().readUInt32BE(0) % 3;
      seen.add(want);
      const where = (await stored(paths, key)).map((v) => v !== undefined);
      expect(where, key).toEqual(paths.map((_, i) => Math.floor(i / 2) === want));
      expect(s.setOf(key)).toBe(s.sets[want]);
    }
    expect(seen.size).toBe(3);
  });
});

describe('drives that are offline or read-only', () => {
  it('writes skip them, reads skip offline ones', async () => {
    const { s, paths } = await deployment(5); // 3+2: three drives are a write quorum
    const set = s.sets[0];
    set.online[1] = false;
    set.writable[2] = false;
    try {
      const [d0, , d2, d3, d4] = set.drives;
      expect(set.liveDrives()).toEqual([d0, null, d2, d3, d4]);
      expect(set.writeDrives()).toEqual([d0, null, null, d3, d4]);
      const buf = data(20_000);
      await put(s, 'bkt', 'k', buf);
      expect((await stored(paths, 'k')).map((v) => v !== undefined)).toEqual([true, false, false, true, true]);
      expect((await get(s, 'bkt', 'k')).equals(buf)).toBe(true);
    } finally {
      set.online[1] = true;
      set.writable[2] = true;
    }
  });

  it('a write needs its quorum of writable drives', async () => {
    // 2+2: three drives; 3+1 (REDUCED_REDUNDANCY): three; 3+3: four.
    for (const [n, storageClass, quorum] of [
      [4, 'STANDARD', 3],
      [4, 'REDUCED_REDUNDANCY', 3],
      [6, 'STANDARD', 4],
    ] as const) {
      const { s } = await deployment(n);
      const set = s.sets[0];
      for (let off = 0; off <= n - quorum + 1; off++) {
        for (let i = 0; i < n; i++) set.writable[i] = i >= off;
        const got = await code(s.putObject('bkt', `w${off}`, body(data(9000)), { size: 9000, storageClass }));
        expect(got, `${n} ${storageClass} ${off} read-only`).toBe(
          n - off >= quorum ? undefined : 'InsufficientWriteQuorum',
        );
      }
      set.writable.fill(true);
    }
  });

  it('a read needs the data shards: with as many drives it reads, with one fewer InsufficientReadQuorum', async () => {
    const { s } = await deployment(4);
    const set = s.sets[0];
    const buf = data(9000);
    await put(s, 'bkt', 'r', buf);
    try {
      set.online.fill(true);
      set.online[0] = set.online[3] = false;
      expect((await get(s, 'bkt', 'r')).equals(buf)).toBe(true);
      expect((await set.resolve('bkt', 'r')).resolved.answered).toBe(2);
      set.online[1] = false;
      expect(await code(set.resolve('bkt', 'r'))).toBe('InsufficientReadQuorum');
      expect(await code(s.openObject('bkt', 'r'))).toBe('InsufficientReadQuorum');
      expect(await code(s.deleteObject('bkt', 'r'))).toBe('InsufficientWriteQuorum');
    } finally {
      set.online.fill(true);
    }
    expect((await get(s, 'bkt', 'r')).equals(buf)).toBe(true);
  });
});

describe('inline shards and shard files', () => {
  const SHARD = nativeCodec().shardSize(4096, 2);
  const FRAME = FRAME_HASH_LENGTH + SHARD; // a full block's frame, per drive (2+2 on four drives)

  it('inline while every shard fits the limit, files past it; every layout reads back with any two drives', async () => {
    const { s, paths } = await deployment(4, { inlineLimit: 2 * FRAME });
    const set = s.sets[0];
    const sizes: [string, number, boolean][] = [
      ['one-block', 4096, true],
      ['two-blocks', 8192, true], // exactly the limit
      ['two-and-a-bit', 8192 + 1, false], // a third frame: over it
      ['many-blocks', 4096 * 7 + 5, false],
    ];
    const bodies = new Map<string, Buffer>();
    for (const [key, size, inline] of sizes) {
      const buf = data(size);
      bodies.set(key, buf);
      await put(s, 'bkt', key, buf);
      const versions = await stored(paths, key);
      for (const [i, v] of versions.entries()) {
        expect([v?.inline !== undefined, v?.dataDir !== undefined], `${key} drive ${i}`).toEqual([inline, !inline]);
        expect(await shardFiles(paths[i], key), `${key} drive ${i}`).toEqual(inline ? [] : ['part.1']);
      }
    }
    for (const missing of choose(4, 2)) {
      for (const i of missing) set.online[i] = false;
      try {
        for (const [key] of sizes) {
          expect((await get(s, 'bkt', key)).equals(bodies.get(key)!), `${key} without ${missing}`).toBe(true);
        }
      } finally {
        set.online.fill(true);
      }
    }
  });

  it('pooled frame buffers go back once written, except those held while the shards could still be inline', async () => {
    const { s } = await deployment(4, { inlineLimit: 2 * FRAME });
    const pool = s.ctx.pool;
    const before = pool.outBytes;
    const BLOCK = 4 * FRAME; // one block's frames, four drives
    // Past the limit at the third block: the first two were held (left to the GC), the other four go back.
    await put(s, 'bkt', 'files', data(4096 * 6));
    expect(pool.outBytes - before).toBe(2 * BLOCK);
    // Two blocks kept inline: held by the metadata written.
    await put(s, 'bkt', 'inline', data(4096 * 2));
    expect(pool.outBytes - before).toBe(4 * BLOCK);
  });

  it('an older version is read from its own shards, not the latest', async () => {
    for (const inlineLimit of [0, 1024 * 1024]) {
      const { s } = await deployment(4, { inlineLimit });
      await s.updateBucketConfig('bkt', { versioning: 'Enabled' });
      const v1 = data(9000);
      const v2 = data(9000);
      const first = await put(s, 'bkt', 'k', v1);
      await put(s, 'bkt', 'k', v2);
      expect((await get(s, 'bkt', 'k', { versionId: first.versionId })).equals(v1), `inline limit ${inlineLimit}`).toBe(
        true,
      );
      expect((await get(s, 'bkt', 'k')).equals(v2)).toBe(true);
    }
  });

  it('multipart: each part read from its own shard files, part numbers with gaps', async () => {
    const { s } = await deployment(4, { inlineLimit: 0 });
    const set = s.sets[0];
    const up = await s.newMultipartUpload('bkt', 'multi', {});
    const p1 = data(5 * 1024 * 1024);
    const p3 = data(3 * 4096 + 11);
    const r1 = await s.putObjectPart('bkt', 'multi', up.uploadId, 1, body(p1), { size: p1.length });
    const r3 = await s.putObjectPart('bkt', 'multi', up.uploadId, 3, body(p3), { size: p3.length });
    await s.completeMultipartUpload('bkt', 'multi', up.uploadId, [
      { number: 1, etag: r1.etag },
      { number: 3, etag: r3.etag },
    ]);
    const want = Buffer.concat([p1, p3]);
    for (const missing of [[], [0, 1], [2, 3], [0, 3]]) {
      for (const i of missing) set.online[i] = false;
      try {
        const tail = await get(s, 'bkt', 'multi', { range: { start: p1.length - 7, end: want.length - 1 } });
        expect(tail.equals(want.subarray(p1.length - 7)), `without ${missing}`).toBe(true);
      } finally {
        set.online.fill(true);
      }
    }
  });

  it('a drive whose metadata lacks the version gives no shard (stale drive)', async () => {
    const { s, paths } = await deployment(4, { inlineLimit: 0 });
    const set = s.sets[0];
    const old = data(9000);
    await put(s, 'bkt', 'v', old);
    // Drive 0 misses the overwrite: it keeps the old version's metadata and shards.
    set.writable[0] = false;
    const fresh = data(9000);
    try {
      await put(s, 'bkt', 'v', fresh);
    } finally {
      set.writable[0] = true;
    }
    const [stale, ...others] = await stored(paths, 'v');
    expect(others.map((v) => v?.uid)).toEqual(others.map(() => others[0]?.uid));
    expect(stale?.uid).not.toBe(others[0]?.uid);
    // Any two of the others read the new data; with drive 0 and one other there is no read quorum of it.
    for (const missing of [[1], [2], [3]]) {
      for (const i of missing) set.online[i] = false;
      try {
        expect((await get(s, 'bkt', 'v')).equals(fresh), `without ${missing}`).toBe(true);
      } finally {
        set.online.fill(true);
      }
    }
  });
});
