// A wiped drive found at start on a node of several workers (`--workers 2` with a node list; cluster/node.ts): every
// worker of every node opens the deployment's drives at its start (drive/format.ts formatClusterDrives), and each
// that found it empty formatted it and rebuilt all of it. Now none does at start: the leader's drive monitor
// (heal/healer.ts checkDrive) formats it into its slot and rebuilds it, once. Two nodes of two drives (one set,
// EC 2+2), two workers each; node 2 is killed, its first drive wiped, and node 2 started again: the one rebuild is
// by the worker leading then.
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { makeClient } from '../helpers/cairn.js';
import { LoopbackCluster } from '../helpers/nodes.js';

const ENV = { CAIRN_WORKERS: '2' };
const LEADS = 'this node leads the background work: healing, the scanner, lifecycle';
const KEYS = Array.from({ length: 12 }, (_, i) => `k${i}`);
let cluster: LoopbackCluster;

beforeAll(async () => {
  cluster = await LoopbackCluster.start(2, 2, ENV);
}, 300_000);

afterAll(async () => {
  await cluster?.remove();
});

it('is formatted and rebuilt once, by the leader, not by each worker that starts', async () => {
  const s3 = makeClient(cluster.nodes[0].url);
  await s3.send(new CreateBucketCommand({ Bucket: 'wiped' }));
  for (const key of KEYS) await s3.send(new PutObjectCommand({ Bucket: 'wiped', Key: key, Body: `body of ${key}` }));
  const drive = join(cluster.base, 'n2', 'd1');
  await cluster.kill9(1);
  await rm(drive, { recursive: true });
  await mkdir(drive);
  await cluster.restart(1, { env: ENV });
  // Formatted into its slot, every object rebuilt on it (small objects: each drive's metadata holds the data).
  await vi.waitFor(
    () => {
      expect(existsSync(join(drive, '.cairn.sys', 'format.json'))).toBe(true);
      for (const key of KEYS) expect(existsSync(join(drive, 'wiped', `${key}.o`, 'meta')), key).toBe(true);
    },
    { timeout: 120_000, interval: 200 },
  );
  // Rebuilt once, by a worker that was leading then (it said so before, in its current run); before the change
  // one of node 2's workers did, as it started, before any of them could lead.
  const rebuilds = cluster.nodes.flatMap((n) =>
    n.lines.flatMap((l, at) =>
      l.msg.includes(drive) && l.msg.includes('rebuilding its contents')
        ? [
            {
              node: n.index + 1,
              worker: l.worker,
              ledBefore: n.lines.slice(0, at).some((x) => x.msg === LEADS && x.worker === l.worker),
            },
          ]
        : [],
    ),
  );
  expect(rebuilds).toHaveLength(1);
  expect(rebuilds[0].ledBefore).toBe(true);
  const two = makeClient(cluster.nodes[1].url);
  for (const key of KEYS) {
    const r = await two.send(new GetObjectCommand({ Bucket: 'wiped', Key: key }));
    expect(await r.Body!.transformToString(), key).toBe(`body of ${key}`);
  }
}, 300_000);
