// The format of a distributed deployment (drive/format.ts formatClusterDrives), on local folders standing for the
// nodes' drives, one of them unreachable: the formatter makes one deployment once a majority of drives answers
// (slots by position), the others wait (FormatPending) until a majority holds it; a drive found empty later takes
// the slot of its position; a drive of another deployment, or in another position, is refused.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Drive, SYS_DIR } from '../../src/storage/drive/drive.js';
import { FORMAT_FILE, formatClusterDrives, FormatPending, type OpenDrive } from '../../src/storage/drive/format.js';
import { LocalDrive } from '../../src/storage/drive/local-drive.js';
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
  it('one formatter, the others wait; drives placed by position, an empty one formatted into its slot', async () => {
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
    const made = await formatClusterDrives(d.paths, { setSize: 4, formatter: true, tmpDir }, opener(down));
    const first = await fmt(d.paths[0]);
    expect(made.deploymentId).toBe(first.deploymentId);
    expect(made.sets[0].map((x) => x.driveId)).toEqual(first.sets[0]);
    expect(await readFile(join(d.paths[3], FORMAT_FILE)).catch(() => null)).toBeNull();

    // Another node: the deployment is there; the drive that was down is back, empty: formatted into slot 3.
    const other = await formatClusterDrives(d.paths, { setSize: 4, formatter: false, tmpDir }, opener(new Set()));
    expect(other.deploymentId).toBe(made.deploymentId);
    expect(other.fresh.map((x) => x.endpoint)).toEqual([d.paths[3]]);
    expect((await fmt(d.paths[3])).driveId).toBe(first.sets[0][3]);
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
