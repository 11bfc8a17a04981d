// A disk that did not mount leaves a plain folder where its drive was, on the parent's file system (often the root
// disk). Cairn must not take that folder for a new, empty drive: formatting it and rebuilding the drive into it would
// fill the parent's file system, and the rebuilt data would vanish under the real disk when it mounts. Here every
// drive is a tmpfs of its own bind-mounted at its folder, as a disk is in production (test/helpers/mounts.ts).
// Mounting needs root: CI runs as root; elsewhere the file is skipped (canMount). (Nodes of a distributed
// deployment: test/cluster/unmounted-drive.test.ts.)
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { adminCall } from '../../server/src/cli/admin-client.js';
import { type CairnServer, startServer } from '../../server/src/main.js';
import { makeClient, ROOT } from '../helpers/cairn.js';
import { canMount, Mounts } from '../helpers/mounts.js';
import { LogLines } from '../helpers/notify-bus.js';
import { seededRandom } from '../helpers/random.js';
import { startWorkers, WORKERS_ROOT } from '../helpers/workers.js';

const rnd = seededRandom();
const sha256 = (b: Buffer | Uint8Array) => createHash('sha256').update(b).digest('hex');
let base: string;
const mounts = new Mounts();

/** Drive folders base/NAME/d1..dN, each a tmpfs (base/NAME/disk-i) bind-mounted at its folder. */
async function mountedDrives(name: string, n: number): Promise<{ drives: string[] }> {
  const drives: string[] = [];
  for (let i = 1; i <= n; i++) {
    const drive = join(base, name, `d${i}`);
    await mounts.drive(join(base, name, `disk-${i}`), drive);
    drives.push(drive);
  }
  return { drives };
}

function start(drives: string[], logs?: LogLines): Promise<CairnServer> {
  return startServer({
    address: '127.0.0.1:0',
    credentials: { root: ROOT, users: [] },
    storage: { driveCheckIntervalMs: 200 },
    shutdownGraceMs: 2000,
    drives,
    // Debug: each drive monitor pass logs `drives checked (started <ms>)` (heal/healer.ts).
    ...(logs ? { logger: logs.logger('debug') } : {}),
  });
}

async function offlineDisks(url: string, root = ROOT): Promise<number> {
  const admin = { endpoint: url, region: 'us-east-1', ...root };
  const info = (await adminCall(admin, { method: 'GET', path: 'info' })) as { backend: { offlineDisks: number } };
  return info.backend.offlineDisks;
}

/** When the drive monitor's pass over the drives that a log message reports began (ms), if it is one. */
function checkStart(msg: unknown): number | undefined {
  const m = /^drives checked \(started (\d+)\)$/.exec(String(msg));
  return m ? Number(m[1]) : undefined;
}

/** Whether a log message reports a drive monitor's pass over the drives begun after `t` (ms). */
const checkedSince = (msg: unknown, t: number) => (checkStart(msg) ?? -1) > t;

async function getBytes(s3: S3Client, key: string): Promise<Buffer> {
  const r = await s3.send(new GetObjectCommand({ Bucket: 'mounts', Key: key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

/**
 * Four mounted drives holding bucket `mounts` with object `before` (written by a server that is stopped again),
 * then the third disk "does not mount": its folder is an empty directory on the parent's file system.
 */
async function deploymentWithUnmountedDisk(name: string) {
  const { drives } = await mountedDrives(name, 4);
  const first = await start(drives);
  const before = rnd.bytes(300_000);
  const s3 = makeClient(first.url);
  await s3.send(new CreateBucketCommand({ Bucket: 'mounts' }));
  await s3.send(new PutObjectCommand({ Bucket: 'mounts', Key: 'before', Body: before }));
  s3.destroy();
  await first.close();
  mounts.unmount(drives[2]);
  expect(readdirSync(drives[2])).toEqual([]);
  return { drives, before, remount: () => mounts.remount(drives[2]) };
}

describe.skipIf(!canMount())('a drive whose disk did not mount', () => {
  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'cairn-mounts-'));
  });

  afterAll(async () => {
    mounts.release();
    await rm(base, { recursive: true, force: true });
  });

  it('is left alone and offline at start, and serves again once mounted', async () => {
    const { drives, before, remount } = await deploymentWithUnmountedDisk('set');
    const logs = new LogLines();
    const server = await start(drives, logs);
    try {
      const s3 = makeClient(server.url);
      expect(await offlineDisks(server.url)).toBe(1);
      expect(sha256(await getBytes(s3, 'before'))).toBe(sha256(before)); // EC 2+2: three drives are enough
      const during = rnd.bytes(200_000);
      await s3.send(new PutObjectCommand({ Bucket: 'mounts', Key: 'during', Body: during }));
      // Two drive checks later: still offline, and nothing was written in the folder (no format, no rebuild).
      const now = Date.now();
      const first = await logs.waitFor((l) => checkedSince(l.msg, now));
      await logs.waitFor((l) => checkedSince(l.msg, checkStart(first.msg)!));
      expect(await offlineDisks(server.url)).toBe(1);
      expect(readdirSync(drives[2])).toEqual([]);

      // The disk mounts: the drive monitor finds its format and takes it back.
      remount();
      await vi.waitFor(async () => expect(await offlineDisks(server.url)).toBe(0), { timeout: 20_000, interval: 200 });
      expect(sha256(await getBytes(s3, 'before'))).toBe(sha256(before));
      expect(sha256(await getBytes(s3, 'during'))).toBe(sha256(during));
      await s3.send(new PutObjectCommand({ Bucket: 'mounts', Key: 'after', Body: 'written with all four' }));
      expect((await getBytes(s3, 'after')).toString()).toBe('written with all four');
      s3.destroy();
    } finally {
      await server.close();
    }
  }, 120_000);

  it('is left alone by every worker of `cairn server --workers 2`', async () => {
    const { drives, before, remount } = await deploymentWithUnmountedDisk('workers');
    const started = Date.now();
    // Debug: each drive monitor pass logs `drives checked (started <ms>)` (heal/healer.ts).
    const server = await startWorkers(2, { CAIRN_LOG_LEVEL: 'debug' }, drives);
    try {
      const warned = `drive ${drives[2]} is a plain folder among mount points`;
      expect(server.logs.some((l) => String(l.msg).startsWith(warned))).toBe(true);
      const s3 = makeClient(server.url, { credentials: WORKERS_ROOT });
      expect(sha256(await getBytes(s3, 'before'))).toBe(sha256(before));
      // Once every worker's drive monitor has checked the drives (every 10 s): none formatted or rebuilt the folder.
      for (const worker of [1, 2]) await server.logLine((l) => l.worker === worker && checkedSince(l.msg, started));
      expect(readdirSync(drives[2])).toEqual([]);
      expect(await offlineDisks(server.url, WORKERS_ROOT)).toBe(1);
      remount();
      await vi.waitFor(async () => expect(await offlineDisks(server.url, WORKERS_ROOT)).toBe(0), {
        timeout: 30_000,
        interval: 500,
      });
      s3.destroy();
    } finally {
      await server.close();
    }
  }, 120_000);

  it('among mount points, a plain folder refuses a new deployment and gets nothing written in it', async () => {
    const { drives } = await mountedDrives('fresh', 3);
    const folder = join(base, 'fresh', 'd4');
    await mkdir(folder);
    await expect(start([...drives, folder])).rejects.toThrow(
      /d4 is a plain folder while other drives are mount points/,
    );
    expect(readdirSync(folder)).toEqual([]);
    for (const d of drives) expect(existsSync(join(d, '.cairn.sys', 'format.json'))).toBe(false);
  }, 60_000);
});
