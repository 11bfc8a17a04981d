// The format of a distributed deployment (drive/format.ts formatClusterDrives), on local folders standing for the
// nodes' drives, one of them unreachable: the formatter makes one deployment once every drive answers, or once a
// majority does after its wait for all of them (slots by position), the others wait (FormatPending) until a majority holds it; a drive found empty later takes
// the slot of its position; a drive of another deployment, or in another position, is refused. The formatter
// writes the system bucket before each format file: nodes opened in any order then read it from the drives, and
// none takes its lock (4 nodes racing for it at start-up, on a loaded machine, could fail to start).
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Drive, SYS_DIR } from '../../src/storage/drive/drive.js';
import { FORMAT_FILE, formatClusterDrives, FormatPending, type OpenDrive } from '../../src/storage/drive/format.js';
import { LocalDrive } from '../../src/storage/drive/local-drive.js';
import { aloneBus, type Locks, KeyedMutex } from '../../src/storage/coordination.js';
import { openStorage, SYSTEM_BUCKET } from '../../src/storage/index.js';
import { drives } from './helpers.js';

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

/** Local folders, except those in `down`, whose every operation fails as an unreachable node's drive does. */
function opener(down: Set<string>): OpenDrive {
  return (root) => {
    const d = new LocalDrive(root);
    if (!down.has(root)) return d;
    const refused = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    return new Proxy(d, {
      get: (target, p) =>
        ['read', 'mkdirs', 'list', 'remove', 'writeAtomic'].includes(String(p)) ? refused : Reflect.get(target, p),
    }) as Drive;
  };
}

const fmt = async (root: string) => JSON.parse(await readFile(join(root, FORMAT_FILE), 'utf8'));

describe('formatClusterDrives', () => {
  it('one formatter, the others wait; drives placed by position, an empty one left to the leader', async () => {
    const d = await drives(4);
    cleanup = d.cleanup;
    const down = new Set([d.paths[3]]);
    const tmpDir = `${SYS_DIR}/tmp/node2`;
    // Not the formatter: nothing formatted yet, it waits.
    await expect(
      formatClusterDrives(d.paths, { setSize: 4, formatter: false, tmpDir }, opener(down)),
    ).rejects.toBeInstanceOf(FormatPending);
    // The formatter with only 2 of 4 drives answering (3 needed): it waits too.
    await expect(
      formatClusterDrives(d.paths, { setSize: 4, formatter: true, tmpDir }, opener(new Set(d.paths.slice(2)))),
    ).rejects.toThrow('2 of 4 drives answer, 3 needed to format');
    // 3 of 4 answer, but the wait for all of them (allBy) is not over: it waits, and writes nothing.
    await expect(
      formatClusterDrives(d.paths, { setSize: 4, formatter: true, tmpDir, allBy: Date.now() + 60_000 }, opener(down)),
    ).rejects.toThrow('3 of 4 drives answer: a new deployment waits for all of them');
    for (const p of d.paths) expect(await readFile(join(p, FORMAT_FILE)).catch(() => null)).toBeNull();
    // Once it is over, a quorum will do.
    const made = await formatClusterDrives(
      d.paths,
      { setSize: 4, formatter: true, tmpDir, allBy: Date.now() - 1 },
      opener(down),
    );
    const first = await fmt(d.paths[0]);
    expect(made.deploymentId).toBe(first.deploymentId);
    expect(made.sets[0].map((x) => x.driveId)).toEqual(first.sets[0]);
    expect(await readFile(join(d.paths[3], FORMAT_FILE)).catch(() => null)).toBeNull();

    // Another node: the deployment is there; the drive that was down is back, empty: placed in slot 3, but left
    // unformatted to the leader's drive monitor (each worker of each node formatting and rebuilding it would
    // rebuild it as many times).
    const other = await formatClusterDrives(d.paths, { setSize: 4, formatter: false, tmpDir }, opener(new Set()));
    expect(other.deploymentId).toBe(made.deploymentId);
    expect(other.fresh).toEqual([]);
    expect(other.sets[0][3].driveId).toBe(first.sets[0][3]);
    expect(await readFile(join(d.paths[3], FORMAT_FILE)).catch(() => null)).toBeNull();
    // Given in another order: refused (a drive sits in the slot of its position).
    const swapped = [d.paths[1], d.paths[0], d.paths[2], d.paths[3]];
    await expect(
      formatClusterDrives(swapped, { setSize: 4, formatter: false, tmpDir }, opener(new Set())),
    ).rejects.toThrow('but its position in the arguments is that of');
  });

  it('refuses a drive of another deployment and a non-empty drive without a format; waits without a majority', async () => {
    const d = await drives(4);
    cleanup = d.cleanup;
    const tmpDir = `${SYS_DIR}/tmp/node1`;
    await formatClusterDrives(d.paths, { setSize: 4, formatter: true, tmpDir }, opener(new Set()));
    const foreign = { ...(await fmt(d.paths[2])), deploymentId: 'another-deployment' };
    await writeFile(join(d.paths[2], FORMAT_FILE), JSON.stringify(foreign));
    await expect(
      formatClusterDrives(d.paths, { setSize: 4, formatter: false, tmpDir }, opener(new Set())),
    ).rejects.toThrow('belongs to another Cairn deployment (another-deployment');
    await rm(join(d.paths[2], SYS_DIR), { recursive: true });
    await mkdir(join(d.paths[2], 'someone-elses-files'));
    await expect(
      formatClusterDrives(d.paths, { setSize: 4, formatter: false, tmpDir }, opener(new Set())),
    ).rejects.toThrow('is not empty and has no Cairn format');
    // Only 2 of 4 drives hold the format (3 needed): wait.
    await rm(join(d.paths[2], 'someone-elses-files'), { recursive: true });
    await expect(
      formatClusterDrives(d.paths, { setSize: 4, formatter: false, tmpDir }, opener(new Set([d.paths[3]]))),
    ).rejects.toThrow('2 of 4 drives hold the deployment');
  });
});

describe('the system bucket of a new distributed deployment', () => {
  /** Node `i` of two over `paths` (half each), its locks recording every name taken. */
  function node(paths: string[], i: number, taken: string[]) {
    const mutex = new KeyedMutex();
    const locks: Locks = {
      acquire: (name) => {
        taken.push(`node${i + 1} ${name}`);
        return mutex.acquire(name);
      },
      held: () => mutex.held(),
    };
    return openStorage({
      drives: paths,
      setSize: paths.length,
      openDrive: (root) => new LocalDrive(root),
      background: false,
      node: { name: `node${i + 1}`, formatter: i === 0, locks, bus: aloneBus },
    });
  }

  it('is on every drive with the format; nodes opened in any order read it without its lock', async () => {
    const d = await drives(4);
    cleanup = d.cleanup;
    const taken: string[] = [];
    // The other node first: nothing formatted, it waits.
    await expect(node(d.paths, 1, taken)).rejects.toBeInstanceOf(FormatPending);
    const formatter = await node(d.paths, 0, taken);
    const other = await node(d.paths, 1, taken);
    try {
      // The other node reads the bucket table first, then the formatter.
      expect(await other.listBuckets()).toEqual([]);
      expect((await other.buckets.listAll()).map((b) => b.name)).toEqual([SYSTEM_BUCKET]);
      expect((await formatter.buckets.listAll()).map((b) => b.name)).toEqual([SYSTEM_BUCKET]);
      expect(taken.filter((t) => t.includes(SYSTEM_BUCKET))).toEqual([]);
      // One document on every drive, written before the drive's format.
      const docs = await Promise.all(d.paths.map((p) => readFile(join(p, SYSTEM_BUCKET, '_bucket.json'), 'utf8')));
      expect(new Set(docs).size).toBe(1);
      expect(JSON.parse(docs[0])).toMatchObject({ config: {} });
      // A user's bucket still takes its lock.
      await other.makeBucket('after');
      expect(taken).toEqual(['node2 bucket\0after']);
    } finally {
      await other.close();
      await formatter.close();
    }
  });
});
