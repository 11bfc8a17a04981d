// Server pools served by several workers (`cairn server --workers 2 p1/d{1...4} p2/d{1...4}`): the primary
// formats every pool and checks the deployment's pool list; each worker opens every pool, each pool's locks and
// changes its own among the workers' (storage/index.ts poolCoordination), so what one worker writes in either pool
// the other reads and lists at once. Last, a drain of pool 1 whose moves race a DELETE and a tagging of the key
// moved through the worker that does not lead the drains: the key lock of a move is the workers' one
// (`pools\0<bucket>/<key>`), so the DELETE is not undone and the tags are not lost; then the leader is killed mid-move
// and the other worker takes over the drain (storage/decommission.ts's lease) while the first, started again, waits.
// (Draining with several workers: test/workers/pools-drain.test.ts.)
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { adminCall } from '../../server/src/cli/admin-client.js';
import type { PoolDecommissionInfo } from '../../server/src/storage/decommission.js';
import { mismatch, pattern } from '../helpers/object-bytes.js';
import { seededRandom } from '../helpers/random.js';
import { startWorkers, WORKERS_ROOT, type WorkersServer } from '../helpers/workers.js';

const MiB = 1024 * 1024;
const LEADS = "this worker leads the server pools' decommissions";
const rnd = seededRandom();
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
let base: string;
let server: WorkersServer;
const clients: S3Client[] = [];
const digests = new Map<string, string>();

const arg = (n: number) => join(base, `p${n}`, 'd{1...4}');
/** Whether pool n's first drive holds `key`'s metadata. */
const inPool = (n: number, key: string, bucket = 'bkt') =>
  existsSync(join(base, `p${n}`, 'd1', bucket, `${key}.o`, 'meta'));

async function listed(s3: S3Client): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: 'bkt', ContinuationToken: token, MaxKeys: 7 }));
    keys.push(...(r.Contents ?? []).map((o) => o.Key!));
    token = r.NextContinuationToken;
  } while (token);
  return keys;
}

/** Where the test asks the drain's moves to stop (CAIRN_TEST_HOLD_MOVES, storage/engine/move.ts). */
const holds = () => join(base, 'holds');
const holdFile = (key: string) => join(holds(), encodeURIComponent(`race/${key}`));

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'cairn-worker-pools-'));
  await mkdir(holds());
  server = await startWorkers(2, { CAIRN_TEST_HOLD_MOVES: holds() }, [arg(1), arg(2)]);
  clients.push(await server.client(1), await server.client(2));
}, 180_000);

afterAll(async () => {
  for (const c of clients) c.destroy();
  await server?.close();
  await rm(base, { recursive: true, force: true });
});

describe('server pools with --workers 2', () => {
  it('the primary formats both pools and lists them on their drives', async () => {
    for (const n of [1, 2]) {
      const list = JSON.parse(await readFile(join(base, `p${n}`, 'd1', '.cairn.sys', 'pools.json'), 'utf8')) as {
        pools: { cmdline: string }[];
      };
      expect(list.pools.map((p) => p.cmdline)).toEqual([arg(1), arg(2)]);
    }
  });

  it('what one worker writes, in either pool, the other reads and lists at once', async () => {
    const [one, two] = clients;
    await one.send(new CreateBucketCommand({ Bucket: 'bkt' }));
    // Worker 2 lists first (its listing caches filled), then each worker writes half the keys.
    expect(await listed(two)).toEqual([]);
    for (let i = 0; i < 24; i++) {
      const key = `k${String(i).padStart(2, '0')}`;
      const body = rnd.bytes(i % 6 === 0 ? 200_000 : 50 + i);
      await clients[i % 2].send(new PutObjectCommand({ Bucket: 'bkt', Key: key, Body: body }));
      digests.set(key, sha256(body));
      // Listed by the worker that did not write it, at once.
      expect(await listed(clients[(i + 1) % 2]), key).toContain(key);
    }
    const keys = [...digests.keys()];
    expect(keys.filter((k) => inPool(1, k)).length).toBeGreaterThan(0);
    expect(keys.filter((k) => inPool(2, k)).length).toBeGreaterThan(0);
    expect(keys.every((k) => inPool(1, k) !== inPool(2, k))).toBe(true);
    for (const s3 of clients) {
      expect(await listed(s3)).toEqual(keys);
      for (const [key, digest] of digests) {
        const r = await s3.send(new GetObjectCommand({ Bucket: 'bkt', Key: key }));
        expect(sha256(await r.Body!.transformToByteArray()), key).toBe(digest);
      }
    }
    // A key of each pool deleted by the worker that did not write it: gone from both workers' listings.
    const gone = [keys.find((k) => inPool(1, k))!, keys.find((k) => inPool(2, k))!];
    for (const key of gone) {
      await clients[(keys.indexOf(key) + 1) % 2].send(new DeleteObjectCommand({ Bucket: 'bkt', Key: key }));
      digests.delete(key);
    }
    for (const s3 of clients) expect(await listed(s3)).toEqual(keys.filter((k) => !gone.includes(k)));
  }, 120_000);

  it("a drain's moves hold each key against a DELETE and a tagging through the other worker; its leader killed, the other takes over", async () => {
    // The worker that leads the drains (the first to take the lease) and the other.
    const leader = server.logs.find((l) => l.msg === LEADS)?.worker;
    expect([1, 2]).toContain(leader);
    const L = leader!;
    const O = 3 - L;
    const [atLeader, atOther] = [clients[L - 1], clients[O - 1]];
    await atOther.send(new CreateBucketCommand({ Bucket: 'race' }));
    // Three keys in pool 1 (a key that exists is written again where it is), large enough that their moves take a
    // while: `a` is deleted and `b` tagged through the other worker while the leader copies it into pool 2; the
    // leader is killed while it copies `c`.
    const body = (seed: number) => pattern(24 * MiB, seed);
    const keys: string[] = [];
    for (let i = 0; keys.length < 3; i++) {
      const key = `${'abc'[keys.length]}${i}`;
      await atOther.send(new PutObjectCommand({ Bucket: 'race', Key: key, Body: 'x' }));
      if (inPool(1, key, 'race')) keys.push(key);
      else await atOther.send(new DeleteObjectCommand({ Bucket: 'race', Key: key }));
    }
    const [a, b, c] = keys;
    for (const [i, key] of keys.entries())
      await atOther.send(new PutObjectCommand({ Bucket: 'race', Key: key, Body: body(i) }));
    expect(keys.map((k) => inPool(1, k, 'race'))).toEqual([true, true, true]);
    // Each key's move stops once its data is staged in pool 2 (the leader holds the key) until the test lets it go.
    for (const key of keys) await writeFile(`${holdFile(key)}.hold`, '');
    const admin = { endpoint: server.url, region: 'us-east-1', ...WORKERS_ROOT };
    await adminCall(admin, { method: 'POST', path: 'pools/decommission', query: { pool: arg(1) } });
    const held = (key: string) =>
      vi.waitFor(() => expect(existsSync(`${holdFile(key)}.held`), `${key} held`).toBe(true), { timeout: 60_000 });
    /** Sends `write` while `key`'s move is held: not answered while it is (checked for 300 ms), then the move goes on. */
    const raced = async (key: string, write: () => Promise<unknown>) => {
      await held(key);
      const answer = write();
      expect(await Promise.race([answer.then(() => 'answered'), sleep(300).then(() => 'waits')])).toBe('waits');
      await rm(`${holdFile(key)}.hold`);
      await answer;
    };
    await raced(a, () => atOther.send(new DeleteObjectCommand({ Bucket: 'race', Key: a })));
    await raced(b, () =>
      atOther.send(
        new PutObjectTaggingCommand({ Bucket: 'race', Key: b, Tagging: { TagSet: [{ Key: 'raced', Value: 'yes' }] } }),
      ),
    );
    await held(c);
    const killed = server.logs.length;
    server.kill(L);
    // The one that takes over moves c without a stop.
    await rm(`${holdFile(c)}.hold`);
    // The other worker takes the lead and finishes the drain (c's half-done copy included); the leader, started
    // again by the primary, waits behind it and runs nothing.
    const leadsSince = (n: number) => server.logs.slice(n).filter((l) => l.msg === LEADS);
    await vi.waitFor(() => expect(leadsSince(killed).map((l) => l.worker)).toEqual([O]), { timeout: 60_000 });
    await server.logLine((l) => l.worker === 0 && l.msg === `worker ${L} is back`);
    atLeader.destroy();
    clients[L - 1] = await server.client(L);
    await vi.waitFor(
      async () => {
        const s = (await adminCall(admin, { method: 'GET', path: 'pools/status', query: { pool: arg(1) } })) as {
          decommissionInfo?: PoolDecommissionInfo;
        };
        expect(s.decommissionInfo?.failed).toBe(false);
        expect(s.decommissionInfo?.complete).toBe(true);
      },
      { timeout: 120_000, interval: 200 },
    );
    expect(leadsSince(0).map((l) => l.worker)).toEqual([L, O]);
    const completed = server.logs.filter((l) => l.msg?.startsWith(`decommission of pool ${arg(1)} complete`));
    expect(completed.map((l) => l.worker)).toEqual([O]);
    // The DELETE was not undone by the move's copy, the tags are on the copy that moved, c moved whole.
    expect([inPool(1, a, 'race'), inPool(2, a, 'race')]).toEqual([false, false]);
    for (const k of [b, c]) expect([inPool(1, k, 'race'), inPool(2, k, 'race')], k).toEqual([false, true]);
    for (const s3 of clients) {
      await expect(s3.send(new HeadObjectCommand({ Bucket: 'race', Key: a }))).rejects.toMatchObject({
        name: 'NotFound',
      });
      const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: 'race', Key: b }));
      expect(tags.TagSet).toEqual([{ Key: 'raced', Value: 'yes' }]);
    }
    for (const [seed, k] of [b, c].entries()) {
      const r = await clients[L - 1].send(new GetObjectCommand({ Bucket: 'race', Key: k }));
      expect(mismatch(Buffer.from(await r.Body!.transformToByteArray()), body(seed + 1), 0, seed + 1), k).toBeNull();
    }
    // Everything the earlier case left moved too, byte-exact.
    for (const [key, digest] of digests) {
      expect(inPool(1, key), key).toBe(false);
      const r = await clients[L - 1].send(new GetObjectCommand({ Bucket: 'bkt', Key: key }));
      expect(sha256(await r.Body!.transformToByteArray()), key).toBe(digest);
    }
  }, 180_000);
});
