// OpenedObject.readInline: the whole of a version kept in its metadata (a small object) in one buffer, read
// and checked as read() reads it: the same bytes, a missing or corrupt copy read around and healed; absent for
// versions whose data is in shard files.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { objectDir } from '../../src/storage/meta/key-path.js';
import { decodeMeta, encodeMeta, META_NAME } from '../../src/storage/meta/meta-file.js';
import { data, put, readAll, storesPerTest } from './helpers.js';

const setup = storesPerTest();

describe('readInline', () => {
  it("gives an inline version's bytes as read() does, for every small size; files-backed versions have none", async () => {
    const { s } = await setup();
    // Up to two data shards whose frames (hash + shard) fit the 128 KiB inline limit; beyond, shard files.
    for (const size of [0, 1, 2, 3, 4095, 4096, 4097, 65_537, 200_000]) {
      const b = data(size);
      await put(s, 'bkt', `k${size}`, b);
      const o = await s.openObject('bkt', `k${size}`);
      expect(o.readInline, `size ${size}`).toBeDefined();
      expect((await o.readInline!()).equals(b), `size ${size}`).toBe(true);
      expect((await readAll(await o.read())).equals(b)).toBe(true);
    }
    await put(s, 'bkt', 'big', data(300_000));
    expect((await s.openObject('bkt', 'big')).readInline).toBeUndefined();
  });

  it('reads around a missing and a corrupt copy, which are healed', async () => {
    const { d, s } = await setup();
    const b = data(4096);
    await put(s, 'bkt', 'small', b);
    const meta = (i: number) => join(d.paths[i], 'bkt', objectDir('small'), META_NAME);
    const before = await Promise.all([0, 1, 2, 3].map((i) => readFile(meta(i))));
    // One drive loses the object, another's copy has a flipped byte (its check fails: dropped as corrupt).
    await rm(join(d.paths[0], 'bkt', objectDir('small')), { recursive: true });
    const flipped = Buffer.from(before[1]);
    flipped[flipped.length - 10] ^= 0xff;
    await writeFile(meta(1), flipped);
    const o = await s.openObject('bkt', 'small');
    expect((await o.readInline!()).equals(b)).toBe(true);
    await s.healIdle();
    for (const i of [0, 1]) expect((await readFile(meta(i))).equals(before[i]), `drive ${i}`).toBe(true);
  });

  // A whole small object is read from the data shards alone when every copy is there (no batch machinery);
  // a copy missing (data or parity), or a data shard whose bytes fail their hash in an otherwise sound
  // metadata file, must still be read around and healed. (A parity shard's hash is not read by a GET, as for
  // objects in shard files: the scanner's deep check finds it.)
  for (const kind of ['data', 'parity'] as const) {
    const faults = kind === 'data' ? (['missing', 'bad hash'] as const) : (['missing'] as const);
    it(`reads around ${faults.map((f) => `a ${kind} shard ${f}`).join(' and ')}, which is healed`, async () => {
      const { d, s } = await setup();
      for (const fault of faults) {
        const key = `${kind}-${fault}`;
        const b = data(4096);
        await put(s, 'bkt', key, b);
        const meta = (i: number) => join(d.paths[i], 'bkt', objectDir(key), META_NAME);
        const before = await Promise.all([0, 1, 2, 3].map((i) => readFile(meta(i))));
        const m0 = decodeMeta(before[0]);
        const ec = m0.versions[0].ec!;
        const slot = ec.dist.findIndex((n) => (kind === 'data' ? n - 1 < ec.data : n - 1 >= ec.data));
        if (fault === 'missing') await rm(join(d.paths[slot], 'bkt', objectDir(key)), { recursive: true });
        else {
          const m = decodeMeta(before[slot]);
          const frame = Buffer.from(m.versions[0].inline![0]);
          frame[frame.length - 1] ^= 0xff; // a byte of the shard, after its hash
          m.versions[0].inline![0] = frame;
          await writeFile(meta(slot), encodeMeta(m));
        }
        const o = await s.openObject('bkt', key);
        expect((await o.readInline!()).equals(b), `${key}: bytes`).toBe(true);
        await s.healIdle();
        expect((await readFile(meta(slot))).equals(before[slot]), `${key}: drive ${slot} healed`).toBe(true);
      }
    });
  }
});
