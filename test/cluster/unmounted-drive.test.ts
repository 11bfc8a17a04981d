// A disk that did not mount on a node of a distributed deployment: its drive folder is a plain, empty directory on
// the parent's file system. No node may take it for a new, empty drive (drive/format.ts formatClusterDrives on the
// node itself, rpc/serve.ts for the others, the leader's drive monitor among them): formatting and rebuilding it
// would fill the parent's file system, and vanish under the real disk once it mounts. Two nodes of two drives (one
// set, EC 2+2), each drive a tmpfs bind-mounted at its folder (test/helpers/mounts.ts; needs root, as CI runs);
// node 2 is killed, its first disk "does not mount", node 2 starts again. (One process alone:
// test/s3/unmounted-drive.test.ts.)
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { adminCall } from '../../server/src/cli/admin-client.js';
import { makeClient } from '../helpers/cairn.js';
import { canMount, Mounts } from '../helpers/mounts.js';
import { LoopbackCluster } from '../helpers/nodes.js';
import { ROOT } from '../helpers/users.js';

// Debug: each drive monitor pass logs `drives checked (started <ms>)` (heal/healer.ts).
const ENV = { CAIRN_LOG_LEVEL: 'debug' };
const POLL = { timeout: 90_000, interval: 250 };
const KEYS = Array.from({ length: 8 }, (_, i) => `k${i}`);
const mounts = new Mounts();
let cluster: LoopbackCluster | undefined;

async function offlineDisks(url: string): Promise<number> {
  const admin = { endpoint: url, region: 'us-east-1', ...ROOT };
  const info = (await adminCall(admin, { method: 'GET', path: 'info' })) as { backend: { offlineDisks: number } };
  return info.backend.offlineDisks;
}

async function readAll(s3: S3Client): Promise<void> {
  for (const key of KEYS) {
    const r = await s3.send(new GetObjectCommand({ Bucket: 'mounts', Key: key }));
    expect(await r.Body!.transformToString(), key).toBe(`body of ${key}`.repeat(key === 'k0' ? 20_000 : 1));
  }
}

/** Whether a node's drive monitor finished a pass over the drives that started after `t` (ms). */
const checkedSince = (messages: string[], t: number) =>
  messages.some((m) => {
    const started = /^drives checked \(started (\d+)\)$/.exec(m);
    return started !== null && Number(started[1]) > t;
  });

describe.skipIf(!canMount())('a drive of a node whose disk did not mount', () => {
  beforeAll(async () => {
    cluster = await LoopbackCluster.start(2, 2, ENV, {
      prepare: async (c) => {
        for (const i of [0, 1])
          for (const d of [0, 1]) await mounts.drive(join(c.base, `n${i + 1}`, `disk-${d + 1}`), c.folder(i, d));
      },
    });
  }, 300_000);

  afterAll(async () => {
    await cluster?.stop();
    mounts.release();
    await cluster?.remove();
  });

  it('is left alone and offline on every node, and serves again once mounted', async () => {
    const c = cluster!;
    const s3 = makeClient(c.nodes[0].url);
    await s3.send(new CreateBucketCommand({ Bucket: 'mounts' }));
    for (const key of KEYS) {
      const body = `body of ${key}`.repeat(key === 'k0' ? 20_000 : 1); // k0 in shards, the others inline
      await s3.send(new PutObjectCommand({ Bucket: 'mounts', Key: key, Body: body }));
    }
    const drive = c.folder(1, 0);
    await c.kill9(1);
    mounts.unmount(drive);
    expect(readdirSync(drive)).toEqual([]);
    const back = Date.now();
    await c.restart(1, { env: ENV });
    expect(c.nodes[1].messages).toContain(
      `drive ${drive} is a plain folder among mount points: a disk that did not mount; offline until one is`,
    );
    // Every node's drive monitor (the leader's among them) has checked every drive since: none formatted or
    // rebuilt the folder, and every node counts it offline.
    await vi.waitFor(() => {
      for (const n of c.nodes) expect(checkedSince(n.messages, back), `node ${n.index + 1}`).toBe(true);
    }, POLL);
    expect(readdirSync(drive)).toEqual([]);
    for (const n of c.nodes) expect(await offlineDisks(n.url), `node ${n.index + 1}`).toBe(1);
    const two = makeClient(c.nodes[1].url);
    await readAll(two); // EC 2+2: three drives are enough
    await two.send(new PutObjectCommand({ Bucket: 'mounts', Key: 'during', Body: 'written with three drives' }));
    expect(readdirSync(drive)).toEqual([]);

    // The disk mounts: every node finds its format and takes it back.
    mounts.remount(drive);
    await vi.waitFor(async () => {
      for (const n of c.nodes) expect(await offlineDisks(n.url), `node ${n.index + 1}`).toBe(0);
    }, POLL);
    await readAll(two);
    const during = await s3.send(new GetObjectCommand({ Bucket: 'mounts', Key: 'during' }));
    expect(await during.Body!.transformToString()).toBe('written with three drives');
    s3.destroy();
    two.destroy();
  }, 300_000);
});
