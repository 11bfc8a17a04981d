// One leader for the background work of a distributed Cairn (server/src/cluster/leader.ts): four `cairn server`
// processes on loopback with two drives each (one erasure set of 8, EC 4+4). Exactly one node leads (it says
// so in its log, and every node's background-heal status is its answer). kill -9 of the leader: once its lease
// expired another node leads, and an object damaged on a third node (a data shard's file removed) is healed
// when that node reads it: the node forwards the heal request to the new leader over the change bus. The old
// leader started again does not take the lease back.
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { adminCall } from '../../server/src/cli/admin-client.js';
import { decodeMeta } from '../../server/src/storage/meta/meta-file.js';
import { makeClient } from '../helpers/cairn.js';
import { LoopbackCluster } from '../helpers/nodes.js';
import { seededRandom } from '../helpers/random.js';
import { ROOT } from '../helpers/users.js';

const rnd = seededRandom();
const BUCKET = 'led';
const LEADS = 'this node leads the background work: healing, the scanner, lifecycle';

let cluster: LoopbackCluster;
let s3: S3Client[];

beforeAll(async () => {
  cluster = await LoopbackCluster.start(4, 2);
  s3 = cluster.nodes.map((n) => makeClient(n.url));
}, 180_000);

afterAll(async () => {
  for (const c of s3 ?? []) c.destroy();
  await cluster?.remove();
});

/** The nodes (from 0) whose current run logged that it leads. */
const leaders = () => cluster.nodes.filter((n) => n.messages.includes(LEADS)).map((n) => n.index);

/**
 * Polls until node `i`'s background-heal status names `leader` (the leader's own answer, over the bus; a node
 * just started gets answers once the leader's bus takes it back).
 */
async function expectLeaderSeenBy(i: number, leader: number): Promise<void> {
  await vi.waitFor(async () => expect((await healState(i)).leader).toBe(`node${leader + 1}`), {
    timeout: 60_000,
    interval: 500,
  });
}

/** Node `i`'s background-heal status: the leader's name and the objects its queue healed. */
async function healState(i: number): Promise<{ leader?: string; queueHealed: number }> {
  const target = { endpoint: cluster.nodes[i].url, ...ROOT, region: 'us-east-1' };
  const r = (await adminCall(target, { method: 'POST', path: 'background-heal/status' })) as {
    cairn: { leader?: string; queueHealed: number };
  };
  return r.cairn;
}

async function getBytes(c: S3Client, Key: string): Promise<Buffer> {
  const r = await c.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

/** Drive `d` of node `i`: its slot in the set, and the path of `key`'s first part there (under the drive). */
async function shardOf(i: number, d: number, key: string): Promise<{ shard: number; data: number; part: string }> {
  const drive = cluster.folder(i, d);
  const format = JSON.parse(await readFile(join(drive, '.cairn.sys', 'format.json'), 'utf8')) as {
    driveId: string;
    sets: string[][];
  };
  const slot = format.sets[0].indexOf(format.driveId);
  const objDir = join(BUCKET, `${key.replace('/', '.d/')}.o`);
  const meta = decodeMeta(await readFile(join(drive, objDir, 'meta')));
  const ec = meta.versions[0].ec!;
  const files = (await readdir(join(drive, objDir), { recursive: true })) as string[];
  const part = files.find((f) => f.endsWith('part.1'));
  if (!part) throw new Error(`no part of ${key} on ${drive}`);
  return { shard: ec.dist[slot], data: ec.data, part: join(drive, objDir, part) };
}

describe('one leader across four nodes', () => {
  it('one node leads; killed, another leads and heals what a third node forwards to it', async () => {
    await vi.waitFor(() => expect(leaders()).toHaveLength(1), { timeout: 60_000, interval: 200 });
    const [first] = leaders();
    for (const i of [0, 1, 2, 3]) await expectLeaderSeenBy(i, first);

    await s3[0].send(new CreateBucketCommand({ Bucket: BUCKET }));
    // Shards of 300 KB: in part files, not inline in the metadata (128 KiB per drive at most).
    const bodies = [0, 1, 2, 3].map(() => rnd.bytes(1_200_000));
    for (const [k, Body] of bodies.entries())
      await s3[(first + 1) % 4].send(new PutObjectCommand({ Bucket: BUCKET, Key: `heal/k${k}`, Body }));

    await cluster.kill9(first);
    // Its lease expires on the others (30 s without a refresh); one of them takes it.
    await vi.waitFor(() => expect(leaders().filter((i) => i !== first)).toHaveLength(1), {
      timeout: 120_000,
      interval: 500,
    });
    const [next] = leaders().filter((i) => i !== first);
    const others = [0, 1, 2, 3].filter((i) => i !== first && i !== next);
    for (const i of others) await expectLeaderSeenBy(i, next);

    // A data shard of one object on a node that does not lead (a GET reads data shards first): removed.
    let damaged: { node: number; key: string; body: Buffer; part: string } | undefined;
    for (const [k, body] of bodies.entries())
      for (const node of others)
        for (const d of [0, 1]) {
          const s = await shardOf(node, d, `heal/k${k}`);
          if (!damaged && s.shard <= s.data) damaged = { node, key: `heal/k${k}`, body, part: s.part };
        }
    if (!damaged) throw new Error('no data shard on the drives of the nodes that do not lead');
    await rm(damaged.part);

    // That node reads it (byte-exact from the other shards), finds the shard missing and asks the leader, whose
    // queue heals it (its scanner, which would find it too in time, is not what did).
    expect((await healState(damaged.node)).queueHealed).toBe(0);
    expect((await getBytes(s3[damaged.node], damaged.key)).equals(damaged.body)).toBe(true);
    await vi.waitFor(async () => expect((await readFile(damaged.part)).length).toBeGreaterThan(0), {
      timeout: 60_000,
      interval: 200,
    });
    // The part is renamed into place before the heal ends (metadata, journals, the change to every node), and
    // its count goes up after that: polled.
    await vi.waitFor(async () => expect((await healState(damaged.node)).queueHealed).toBe(1), {
      timeout: 60_000,
      interval: 200,
    });
    expect((await getBytes(s3[damaged.node], damaged.key)).equals(damaged.body)).toBe(true);

    // The old leader back: it serves, and the lease stays where it is.
    await cluster.restart(first);
    await expectLeaderSeenBy(first, next);
    expect(cluster.nodes[first].messages).not.toContain(LEADS);
  }, 300_000);
});
