// A metadata change writes every drive of the set in steps (the "pending" line of an existing entry, the data
// folder's rename, the metadata file, after the write quorum the result line), each step one pool task shared by
// the set's drives (GROUPED in engine/erasure-set.ts). What that must keep: on every drive the result line of a
// version comes after its metadata and only once the write reached its quorum, so a listing (which trusts the
// result lines of enough drives) never shows a version that failed; a failed overwrite leaves "pending" (read the
// metadata), its metadata rolled back; concurrent writers' lines come in the same order on every drive. A change
// that leaves the latest version as the lines have it (its replication status, tags) writes no line at all.
import { describe, expect, it } from 'vitest';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ErasureObjects } from '../../src/storage/index.js';
import type { JournalRec } from '../../src/storage/list/journal.js';
import { data, put, storesPerTest } from './helpers.js';

const setup = storesPerTest();

/**
 * The journal lines of key `k/<name>` (folder `bkt/k.d`) on a drive, in file order, once the lines the writes
 * so far left to land (a result line: the PUT does not wait for it) are written.
 */
async function lines(s: ErasureObjects, drive: string, name: string): Promise<JournalRec[]> {
  await (s as unknown as { journals: { flush(): Promise<void> } }).journals.flush();
  const text = await readFile(join(drive, 'bkt/k.d/_idx'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as JournalRec)
    .filter((r) => r.n === `${name}.o`);
}

/** A line as a short word: `p` (pending), the ETag of an `l` line, `x` (gone). */
function word(r: JournalRec): string {
  return 'p' in r ? 'p' : 'l' in r ? r.l.e : 'x';
}

/** Key `k/<name>`'s metadata made unwritable on a drive (a folder where the file goes: rename fails), or given back. */
async function breakMeta(drive: string, name: string, broken: boolean): Promise<void> {
  const meta = join(drive, `bkt/k.d/${name}.o/meta`);
  await rm(meta, { recursive: true, force: true });
  if (broken) await mkdir(meta, { recursive: true });
}

async function etagOf(s: ErasureObjects, key: string): Promise<string> {
  return (await s.headObject('bkt', key)).etag;
}

describe('metadata writes of a set', () => {
  it.each([
    ['inline', 10],
    ['with a data folder', 300 * 1024],
  ])('write the result line after the write quorum, and a failed overwrite leaves "pending" (%s)', async (_n, size) => {
    const { d, s } = await setup();
    const v1 = (await put(s, 'bkt', 'k/a', data(size))).etag;
    const v2 = (await put(s, 'bkt', 'k/a', data(size))).etag;
    // A new entry has no "pending" line; an overwrite's comes before its result.
    for (const drive of d.paths) expect((await lines(s, drive, 'a')).map(word), drive).toEqual([v1, 'p', v2]);

    // Two of 2+2 cannot write their metadata (quorum 3): the overwrite fails and is rolled back.
    for (const i of [0, 1]) await breakMeta(d.paths[i], 'a', true);
    await expect(put(s, 'bkt', 'k/a', data(size))).rejects.toMatchObject({ code: 'InsufficientWriteQuorum' });
    for (const drive of d.paths) {
      // No line of the failed version anywhere: "pending" stays, the listing reads the metadata.
      expect((await lines(s, drive, 'a')).map(word), drive).toEqual([v1, 'p', v2, 'p']);
    }
    expect(await etagOf(s, 'k/a')).toBe(v2);
    const listed = await s.listObjects('bkt', { prefix: 'k/', maxKeys: 100 });
    expect(listed.objects.map((o) => [o.key, o.etag])).toEqual([['k/a', v2]]);
    // A new key fails too and leaves no result line (and no object).
    for (const i of [0, 1]) await breakMeta(d.paths[i], 'b', true);
    await expect(put(s, 'bkt', 'k/b', data(size))).rejects.toMatchObject({ code: 'InsufficientWriteQuorum' });
    for (const drive of d.paths)
      expect(
        (await lines(s, drive, 'b')).filter((r) => 'l' in r),
        drive,
      ).toEqual([]);
    expect((await s.listObjects('bkt', { prefix: 'k/', maxKeys: 100 })).objects.map((o) => o.key)).toEqual(['k/a']);

    // Given back (the two drives' metadata of `a` is gone: they take the next write as new, without "pending").
    for (const i of [0, 1]) await breakMeta(d.paths[i], 'a', false);
    const v4 = (await put(s, 'bkt', 'k/a', data(size))).etag;
    for (const [i, drive] of d.paths.entries())
      expect((await lines(s, drive, 'a')).map(word), drive).toEqual(
        i < 2 ? [v1, 'p', v2, 'p', v4] : [v1, 'p', v2, 'p', 'p', v4],
      );
    expect((await s.listObjects('bkt', { prefix: 'k/', maxKeys: 100 })).objects.map((o) => [o.key, o.etag])).toEqual([
      ['k/a', v4],
    ]);
  });

  it('write the lines of concurrent overwrites in the same order on every drive, ending with the latest', async () => {
    const { d, s } = await setup();
    const written = await Promise.all(
      Array.from({ length: 24 }, (_, i) => put(s, 'bkt', 'k/c', data(i % 2 ? 10 : 200_000))),
    );
    const etags = new Set(written.map((w) => w.etag));
    const latest = await etagOf(s, 'k/c');
    const orders: string[][] = [];
    for (const drive of d.paths) {
      const words = (await lines(s, drive, 'c')).map(word);
      // Each overwrite: "pending", then its result (the first write: its result alone).
      const results = words.filter((w) => w !== 'p');
      expect(words.length, drive).toBe(2 * results.length - 1);
      words.forEach((w, i) => expect(w === 'p', `${drive} line ${i}`).toBe(i % 2 === 1));
      expect(new Set(results), drive).toEqual(etags);
      expect(results.at(-1), drive).toBe(latest);
      orders.push(results);
    }
    for (const o of orders) expect(o).toEqual(orders[0]);
  });

  it('write no line for a change that leaves the latest as listed (replication status, tags), and lines for one that does not', async () => {
    const { d, s } = await setup();
    const v1 = (await put(s, 'bkt', 'k/r', data(10))).etag;
    const completed = () => ({ status: 'COMPLETED' as const });
    expect(await s.updateReplication('bkt', 'k/r', 'null', completed)).toBe(true);
    await s.updateObjectMetadata('bkt', 'k/r', { tagging: 'a=1' });
    for (const drive of d.paths) expect((await lines(s, drive, 'r')).map(word), drive).toEqual([v1]);
    const head = await s.headObject('bkt', 'k/r');
    expect([head.etag, head.replicationStatus, head.tagging]).toEqual([v1, 'COMPLETED', 'a=1']);
    const listed = await s.listObjects('bkt', { prefix: 'k/', maxKeys: 10 });
    expect(listed.objects.map((o) => [o.key, o.etag, o.size])).toEqual([['k/r', v1, 10]]);

    // An overwrite changes the latest: "pending", then its result, as before.
    const v2 = (await put(s, 'bkt', 'k/r', data(20))).etag;
    for (const drive of d.paths) expect((await lines(s, drive, 'r')).map(word), drive).toEqual([v1, 'p', v2]);
  });
});
