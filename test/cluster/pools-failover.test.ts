// The node leading a drain across nodes is killed (SIGKILL) while keys move: once its leader lease expired another
// node takes it, reads the pool list again and resumes the drain, which completes; every key (both versions of the
// versioned bucket's) then reads byte-exact through the surviving nodes, none lost, none doubled.
// Three node processes on loopback, two pools each spread over the three nodes (two drives per node per pool: one
// set of 6, EC 3+3, so each pool keeps its read and write quorums without one node). The pools' ellipses name the
// same folders on every node, `/proc/self/cwd/pN/d{1...2}`, and each node runs in a folder of its own.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, onTestFailed, vi } from 'vitest';
import { adminCall } from '../../server/src/cli/admin-client.js';
import type { PoolStatus } from '../../server/src/storage/decommission.js';
import { makeClient } from '../helpers/cairn.js';
import { LoopbackCluster } from '../helpers/nodes.js';
import { pattern } from '../helpers/object-bytes.js';
import { ROOT } from '../helpers/users.js';

const NODES = 3;
const LEADS = "this node leads the server pools' decommissions";
const PLAIN = 'plain';
const VERSIONED = 'versioned';
/** Keys per bucket: enough that the drain is still under way when its leader is killed, at any load. */
const KEYS = 60;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let cluster: LoopbackCluster;
let s3: S3Client[];
/** `bucket/key` -> its versions' ids (oldest first; `null` in the plain bucket) and bodies' digests. */
const stored = new Map<string, { id: string; digest: string }[]>();

/** Pool p's argument (from 0): two drives on each node, the same folders named relative to each node's folder. */
const poolArg = (urls: string[], p: number) => {
  const port = (u: string) => Number(new URL(u).port);
  return `http://127.0.0.1:{${port(urls[0])}...${port(urls[NODES - 1])}}/proc/self/cwd/p${p + 1}/d{1...2}`;
};
/** Whether node n's first drive of pool p holds the key's metadata. */
const onDrive = (n: number, p: number, bucket: string, key: string) =>
  existsSync(join(cluster.base, `n${n + 1}`, `p${p + 1}`, 'd1', bucket, `${key}.o`, 'meta'));

async function body(c: S3Client, Bucket: string, Key: string, VersionId?: string): Promise<Buffer> {
  const r = await c.send(new GetObjectCommand({ Bucket, Key, VersionId }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

/** Every version the bucket lists through client c, as `key versionId`, in listing order (pages of 50). */
async function versions(c: S3Client, Bucket: string): Promise<string[]> {
  const out: string[] = [];
  let KeyMarker: string | undefined;
  let VersionIdMarker: string | undefined;
  for (;;) {
    const r = await c.send(new ListObjectVersionsCommand({ Bucket, KeyMarker, VersionIdMarker, MaxKeys: 50 }));
    out.push(...(r.Versions ?? []).map((v) => `${v.Key} ${v.VersionId}`));
    expect(r.DeleteMarkers ?? []).toEqual([]);
    if (!r.IsTruncated) return out;
    KeyMarker = r.NextKeyMarker;
    VersionIdMarker = r.NextVersionIdMarker;
  }
}

async function keys(c: S3Client, Bucket: string): Promise<string[]> {
  const out: string[] = [];
  let ContinuationToken: string | undefined;
  do {
    const r = await c.send(new ListObjectsV2Command({ Bucket, ContinuationToken, MaxKeys: 50 }));
    out.push(...(r.Contents ?? []).map((o) => o.Key!));
    ContinuationToken = r.NextContinuationToken;
  } while (ContinuationToken);
  return out;
}

const statusOf = async (n: number): Promise<PoolStatus> =>
  (await adminCall(
    { endpoint: cluster.nodes[n].url, region: 'us-east-1', ...ROOT },
    { method: 'GET', path: 'pools/status', query: { pool: cluster.endpoints[0] } },
  )) as PoolStatus;

beforeAll(async () => {
  cluster = await LoopbackCluster.start(
    NODES,
    4,
    // The dead leader's lease and key locks expire after 10 s, not 30 s: the test waits less.
    { CAIRN_DSYNC_LOCK_EXPIRY: '10s' },
    {
      consecutivePorts: true,
      cwd: (i, c) => join(c.base, `n${i + 1}`),
      args: (urls) => [poolArg(urls, 0), poolArg(urls, 1)],
    },
  );
  s3 = cluster.nodes.map((n) => makeClient(n.url));
}, 240_000);

afterAll(async () => {
  for (const c of s3 ?? []) c.destroy();
  await cluster?.remove();
});

// The CI preflight of 2026-12-07 saw the resumed drain end failed once: it failed at the end of the first pass in
// which a key could not be moved; a key is now tried again in later passes (decommission.ts MAX_RETRIES).
describe('a drain across nodes whose leader is killed', () => {
  it('is resumed by the node that takes the lease and completes; every key reads byte-exact, none lost or doubled', async () => {
    // A failure shows what every node said about pools and decommissions (the drain's warnings name the key).
    onTestFailed(() => {
      for (const n of cluster.nodes)
        for (const m of n.messages.filter((m) => /decommission|pool|lead/i.test(m)))
          console.error(`node ${n.index + 1}: ${m}`);
    });
    await s3[0].send(new CreateBucketCommand({ Bucket: PLAIN }));
    await s3[1].send(new CreateBucketCommand({ Bucket: VERSIONED }));
    await s3[1].send(
      new PutBucketVersioningCommand({ Bucket: VERSIONED, VersioningConfiguration: { Status: 'Enabled' } }),
    );
    // Inline (3 KiB) and sharded (200 KiB) bodies through every node; two versions of each versioned key.
    const names = Array.from({ length: KEYS }, (_, i) => `k${String(i).padStart(3, '0')}`);
    const put = async (Bucket: string, Key: string, i: number, seed: number) => {
      const b = pattern(i % 5 === 0 ? 200 * 1024 : 3072, seed);
      const r = await s3[i % NODES].send(new PutObjectCommand({ Bucket, Key, Body: b }));
      const list = stored.get(`${Bucket}/${Key}`) ?? [];
      list.push({ id: r.VersionId ?? 'null', digest: sha256(b) });
      stored.set(`${Bucket}/${Key}`, list);
    };
    for (let at = 0; at < KEYS; at += 20)
      await Promise.all(
        names
          .slice(at, at + 20)
          .flatMap((Key, j) => [
            put(PLAIN, Key, at + j, at + j),
            put(VERSIONED, Key, at + j, 1000 + at + j).then(() => put(VERSIONED, Key, at + j, 2000 + at + j)),
          ]),
      );
    const inPool1 = [...stored.keys()].filter((bk) => {
      const [b, k] = bk.split('/');
      return onDrive(0, 0, b, k);
    });
    expect(inPool1.length).toBeGreaterThan(KEYS / 4);

    await vi.waitFor(() => expect(cluster.nodes.filter((n) => n.messages.includes(LEADS))).toHaveLength(1), {
      timeout: 30_000,
      interval: 100,
    });
    const leader = cluster.nodes.findIndex((n) => n.messages.includes(LEADS));
    const survivors = [0, 1, 2].filter((n) => n !== leader);
    await adminCall(
      { endpoint: cluster.nodes[survivors[0]].url, region: 'us-east-1', ...ROOT },
      { method: 'POST', path: 'pools/decommission', query: { pool: cluster.endpoints[0] } },
    );
    // Killed as soon as a key of pool 1 reached pool 2 (the drain moves them one at a time).
    const moved = () =>
      inPool1.filter((bk) => {
        const [b, k] = bk.split('/');
        return onDrive(survivors[0], 1, b, k);
      }).length;
    await vi.waitFor(() => expect(moved()).toBeGreaterThan(0), { timeout: 60_000, interval: 10 });
    await cluster.kill9(leader);
    // Mid-drain: keys are left in pool 1 (on the survivors' drives).
    const left = inPool1.filter((bk) => {
      const [b, k] = bk.split('/');
      return onDrive(survivors[0], 0, b, k);
    });
    expect(left.length).toBeGreaterThan(0);

    // Another node takes the lease once the dead one's grants expired (10 s here) and resumes the drain.
    await vi.waitFor(() => expect(survivors.filter((n) => cluster.nodes[n].messages.includes(LEADS))).toHaveLength(1), {
      timeout: 90_000,
      interval: 200,
    });
    for (const n of survivors)
      await vi.waitFor(
        async () => {
          const d = (await statusOf(n)).decommissionInfo;
          expect(d?.failed).toBe(false);
          expect(d?.complete).toBe(true);
        },
        { timeout: 90_000, interval: 250 },
      );

    // Pool 1 holds nothing on the survivors' drives; each key is in pool 2 once.
    for (const bk of stored.keys()) {
      const [b, k] = bk.split('/');
      for (const n of survivors) {
        expect(onDrive(n, 0, b, k), `${bk} left in pool 1 on node ${n + 1}`).toBe(false);
        expect(onDrive(n, 1, b, k), `${bk} not in pool 2 on node ${n + 1}`).toBe(true);
      }
    }
    // Keys in order, each key's versions newest first.
    const expectVersions = [...stored.entries()]
      .filter(([bk]) => bk.startsWith(`${VERSIONED}/`))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .flatMap(([bk, list]) => [...list].reverse().map((v) => `${bk.slice(VERSIONED.length + 1)} ${v.id}`));
    for (const n of survivors) {
      expect(await keys(s3[n], PLAIN)).toEqual(names);
      expect(await keys(s3[n], VERSIONED)).toEqual(names);
      expect(await versions(s3[n], VERSIONED)).toEqual(expectVersions);
      for (const [bk, list] of stored) {
        const [b, k] = bk.split('/');
        for (const v of list)
          expect(sha256(await body(s3[n], b, k, b === VERSIONED ? v.id : undefined)), bk).toBe(v.digest);
      }
    }
  }, 300_000);
});
