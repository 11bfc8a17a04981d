// Several workers per node of a distributed Cairn (`--workers 2` with a node list; cluster/node.ts): two `cairn
// server` nodes on loopback with two drives each (one erasure set of 4, EC 2+2) and two workers each. A worker is
// not a node: a change made through one worker (a new bucket, an object's listing entry, a removal) is applied by
// every worker of every node before its answer, so the next request to any of them sees it, cached listings
// included; and the node's lock table is one (kept by its primary), so writes of one key through all four workers
// at once each get the lock in turn and leave one whole object.
import { createHash } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Agent } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClient } from '../helpers/cairn.js';
import { LoopbackCluster } from '../helpers/nodes.js';
import { seededRandom } from '../helpers/random.js';
import { pinnedAgent, pinToWorker } from '../helpers/workers.js';

const rnd = seededRandom();
const BUCKET = 'many';

let cluster: LoopbackCluster;
const agents: Agent[] = [];
/** `workers[n][w]`: a client answered by worker w+1 of node n+1 only. */
let workers: S3Client[][];

beforeAll(async () => {
  cluster = await LoopbackCluster.start(2, 2, { CAIRN_WORKERS: '2' });
  workers = [];
  for (const n of cluster.nodes) {
    const pinned: S3Client[] = [];
    for (const slot of [1, 2]) {
      const agent = await pinnedAgent(n.url, slot);
      agents.push(agent);
      pinned.push(pinToWorker(makeClient(n.url, { extra: { requestHandler: { httpAgent: agent } } }), slot));
    }
    workers.push(pinned);
  }
}, 300_000);

afterAll(async () => {
  for (const c of workers?.flat() ?? []) c.destroy();
  for (const a of agents) a.destroy();
  await cluster?.remove();
});

const digest = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function getDigest(c: S3Client, Key: string): Promise<string> {
  const r = await c.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
  return digest(await r.Body!.transformToByteArray());
}

async function keys(c: S3Client): Promise<string[]> {
  const r = await c.send(new ListObjectsV2Command({ Bucket: BUCKET }));
  return (r.Contents ?? []).map((o) => o.Key!);
}

describe('two nodes of two workers each', () => {
  it('serve what any worker changed, at once, through every worker of both nodes', async () => {
    const all = workers.flat();
    await workers[0][0].send(new CreateBucketCommand({ Bucket: BUCKET }));
    for (const c of all) await c.send(new HeadBucketCommand({ Bucket: BUCKET }));
    // Every worker lists once first: each caches the (empty) listing that the next PUT must update.
    for (const c of all) expect(await keys(c)).toEqual([]);

    const first = rnd.bytes(300_000);
    await workers[0][0].send(new PutObjectCommand({ Bucket: BUCKET, Key: 'k/one', Body: first }));
    for (const c of all) {
      expect(await keys(c)).toEqual(['k/one']);
      expect(await getDigest(c, 'k/one')).toBe(digest(first));
    }

    const second = rnd.bytes(5000);
    await workers[1][1].send(new PutObjectCommand({ Bucket: BUCKET, Key: 'k/one', Body: second }));
    await workers[1][0].send(new PutObjectCommand({ Bucket: BUCKET, Key: 'k/two', Body: second }));
    for (const c of all) {
      expect(await keys(c)).toEqual(['k/one', 'k/two']);
      expect(await getDigest(c, 'k/one')).toBe(digest(second));
    }

    await workers[0][1].send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'k/one' }));
    for (const c of all) expect(await keys(c)).toEqual(['k/two']);
  }, 300_000);

  it('writes of one key through all four workers at once leave one whole object, the same everywhere', async () => {
    const all = workers.flat();
    const bodies = all.map(() => rnd.bytes(200_000));
    await Promise.all(
      all.map((c, i) => c.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'k/raced', Body: bodies[i] }))),
    );
    const seen = await Promise.all(all.map((c) => getDigest(c, 'k/raced')));
    expect(new Set(seen).size).toBe(1);
    expect(bodies.map(digest)).toContain(seen[0]);
  }, 300_000);
});
