// Object lock in the metadata format (version 3): a version's lock survives healing after drive loss, a drive
// that missed a lock update is not taken as the truth (nor healed back to it), and files of format 1 (written
// before object lock) are still read.
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeMeta, META_NAME, META_VERSION } from '../../src/storage/meta/meta-file.js';
import { objectDir } from '../../src/storage/meta/key-path.js';
import { body, data, storesPerTest } from './helpers.js';

const fresh = storesPerTest();

async function setup() {
  const { d, s } = await fresh({ versioning: 'Enabled', objectLockEnabled: true });
  return { d, s, metaPath: (i: number, key: string) => join(d.paths[i], 'bkt', objectDir(key), META_NAME) };
}

const until = new Date(Date.UTC(2100, 0, 1));

describe('object lock metadata', () => {
  it('a locked version healed onto a replaced drive stays locked', async () => {
    const { d, s } = await setup();
    const b = data(300 * 1024);
    const info = await s.putObject('bkt', 'k', body(b), {
      size: b.length,
      lock: { mode: 'COMPLIANCE', retainUntil: until, legalHold: true },
    });
    await rm(d.paths[3], { recursive: true });
    await mkdir(d.paths[3]);
    await s.checkDrives();
    await s.healIdle();
    // Only the healed drive and one other are left: what they hold is the lock as written.
    for (const i of [0, 1]) await rm(join(d.paths[i], 'bkt'), { recursive: true });
    const read = await s.headObject('bkt', 'k', { versionId: info.versionId });
    expect(read.lock).toEqual({ mode: 'COMPLIANCE', retainUntil: until, legalHold: true });
  });

  it('a drive that missed a lock update loses the vote, and healing gives it the update', async () => {
    const { s, metaPath } = await setup();
    await s.putObject('bkt', 'k', body(Buffer.from('x')), { size: 1 });
    const stale = `${metaPath(0, 'k')}.before`;
    await copyFile(metaPath(0, 'k'), stale);
    await s.updateObjectMetadata('bkt', 'k', { updateLock: () => ({ mode: 'GOVERNANCE', retainUntil: until }) });
    // Drive 0 (read first) goes back to the metadata from before the update, as if it had missed it.
    await copyFile(stale, metaPath(0, 'k'));
    expect((await s.headObject('bkt', 'k')).lock).toEqual({ mode: 'GOVERNANCE', retainUntil: until });
    await s.healObject('bkt', 'k');
    const healed = decodeMeta(await readFile(metaPath(0, 'k')));
    expect(healed.versions[0].lock).toEqual({ mode: 'GOVERNANCE', until: until.getTime() });
  });

  it('reads metadata files of format 1 (no lock fields) and writes the current format (6)', async () => {
    const { d, s, metaPath } = await setup();
    await s.putObject('bkt', 'old', body(Buffer.from('abc')), { size: 3 });
    expect(META_VERSION).toBe(6);
    for (let i = 0; i < d.paths.length; i++) {
      const buf = await readFile(metaPath(i, 'old'));
      buf.writeUInt16BE(1, 4); // the same body under format 1, with its CRC made again
      const len = buf.readUInt32BE(6);
      buf.writeUInt32BE(crc32(buf.subarray(0, 10 + len)), 10 + len);
      await writeFile(metaPath(i, 'old'), buf);
    }
    const info = await s.headObject('bkt', 'old');
    expect(info.size).toBe(3);
    expect(info.lock).toBeUndefined();
    await s.updateObjectMetadata('bkt', 'old', { updateLock: () => ({ legalHold: true }) });
    expect((await readFile(metaPath(0, 'old'))).readUInt16BE(4)).toBe(META_VERSION);
    expect((await s.headObject('bkt', 'old')).lock).toEqual({ legalHold: true });
  });
});
