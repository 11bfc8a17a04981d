// Server pools of nodes whose nodes run several workers (`--workers 2`): two node processes on loopback, each pool
// the four drives of one node (as test/cluster/pools.test.ts), each node's two workers sharing its drives, its
// lock table (in the node's primary) and the cluster's locks and changes. Keys written through every node land in
// both pools and read and list the same through every node, whichever worker answers; a drain of pool 1, led by
// one worker of the deployment, moves every key to pool 2 while both nodes read them.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { adminCall } from '../../server/src/cli/admin-client.js';
import type { PoolStatus } from '../../server/src/storage/decommission.js';
import { makeClient } from '../helpers/cairn.js';
import { LoopbackCluster } from '../helpers/nodes.js';
import { pattern } from '../helpers/object-bytes.js';
import { ROOT } from '../helpers/users.js';

const NODES = 2;
const LEADS = "this node leads the server pools' decommissions";
const BUCKET = 'pooled';
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let cluster: LoopbackCluster;
let s3: S3Client[];
/** Key -> digest of its body. */
const digests = new Map<string, string>();

const poolArg = (url: string, n: number, c: LoopbackCluster) => `${url}${join(c.base, `n${n + 1}`, 'd{1...4}')}`;
const inPool = (n: number, key: string) => existsSync(join(cluster.folder(n, 0), BUCKET, `${key}.o`, 'meta'));
const pools = (key: string) => [0, 1].filter((n) => inPool(n, key));

async function body(c: S3Client, Key: string): Promise<Buffer> {
  const r = await c.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

async function listed(c: S3Client): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const r = await c.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: token, MaxKeys: 7 }));
    keys.push(...(r.Contents ?? []).map((o) => o.Key!));
    token = r.NextContinuationToken;
  } while (token);
  return keys;
}

beforeAll(async () => {
  cluster = await LoopbackCluster.start(
    NODES,
    4,
    { CAIRN_WORKERS: '2' },
    { args: (urls, c) => urls.map((u, n) => poolArg(u, n, c)) },
  );
  s3 = cluster.nodes.map((n) => makeClient(n.url));
}, 240_000);

afterAll(async () => {
  for (const c of s3 ?? []) c.destroy();
  await cluster?.remove();
});

describe('server pools of nodes of two workers each', () => {
  it('are formatted once, under one deployment id, and both workers of each node serve', async () => {
    const ids = new Set<string>();
    for (let n = 0; n < NODES; n++)
      for (let d = 0; d < 4; d++) {
        const dir = join(cluster.folder(n, d), '.cairn.sys');
        ids.add(JSON.parse(await readFile(join(dir, 'format.json'), 'utf8')).deploymentId);
        const list = JSON.parse(await readFile(join(dir, 'pools.json'), 'utf8')) as { pools: { cmdline: string }[] };
        expect(list.pools.map((p) => p.cmdline)).toEqual(cluster.endpoints);
      }
    expect(ids.size).toBe(1);
    for (const n of cluster.nodes)
      expect(n.messages.filter((m) => /^worker [12] serving$/.test(m)).sort()).toEqual([
        'worker 1 serving',
        'worker 2 serving',
      ]);
  });

  it('keys written through every worker land in both pools and read and list the same through every node', async () => {
    await s3[1].send(new CreateBucketCommand({ Bucket: BUCKET }));
    const keys = Array.from({ length: 16 }, (_, i) => `k${String(i).padStart(2, '0')}`);
    await Promise.all(
      keys.map(async (Key, i) => {
        const b = pattern(i % 2 ? 300 * 1024 : 4096, i);
        digests.set(Key, sha256(b));
        await s3[i % NODES].send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: b }));
      }),
    );
    for (const k of keys) expect(pools(k)).toHaveLength(1);
    // (equal free space: 16 keys all in one pool, p < 1e-4)
    expect(new Set(keys.map((k) => pools(k)[0]))).toEqual(new Set([0, 1]));
    for (const c of s3) {
      expect(await listed(c)).toEqual(keys);
      for (const k of keys) expect(sha256(await body(c, k))).toBe(digests.get(k));
    }
  });

  it('a drain of pool 1 is led by one worker of the deployment and moves every key while both nodes read them', async () => {
    const admin = (n: number) => ({ endpoint: cluster.nodes[n].url, region: 'us-east-1', ...ROOT });
    const statusOf = async (n: number) =>
      (
        (await adminCall(admin(n), {
          method: 'GET',
          path: 'pools/status',
          query: { pool: cluster.endpoints[0] },
        })) as PoolStatus
      ).decommissionInfo;
    // One leader of the drains among the four workers.
    await vi.waitFor(
      () => expect(cluster.nodes.flatMap((n) => n.lines.filter((l) => l.msg === LEADS))).toHaveLength(1),
      {
        timeout: 30_000,
        interval: 100,
      },
    );
    const before = [...digests.keys()].filter((k) => inPool(0, k));
    expect(before.length).toBeGreaterThan(0);
    await adminCall(admin(1), { method: 'POST', path: 'pools/decommission', query: { pool: cluster.endpoints[0] } });
    let reads = 0;
    let draining = true;
    const reader = (async () => {
      while (draining)
        for (const [i, k] of before.entries()) {
          expect(sha256(await body(s3[i % NODES], k))).toBe(digests.get(k));
          reads++;
        }
    })();
    reader.catch(() => {});
    try {
      // Every worker answers the status (requests reach either worker): each is asked a few times.
      for (let n = 0; n < NODES; n++)
        await vi.waitFor(
          async () => {
            const d = await statusOf(n);
            expect(d?.failed).toBe(false);
            expect(d?.complete).toBe(true);
            expect(d?.objectsDecommissioned).toBeGreaterThanOrEqual(before.length);
          },
          { timeout: 90_000, interval: 200 },
        );
    } finally {
      draining = false;
      await reader;
    }
    expect(reads).toBeGreaterThan(0);
    expect([...digests.keys()].filter((k) => inPool(0, k))).toEqual([]);
    for (const k of digests.keys()) expect(pools(k)).toEqual([1]);
    for (const c of s3) {
      expect(await listed(c)).toEqual([...digests.keys()].sort());
      for (const k of digests.keys()) expect(sha256(await body(c, k))).toBe(digests.get(k));
    }
  }, 180_000);
});
