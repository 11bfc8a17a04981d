// Server pools served by several workers (`cairn server --workers 2 p1/d{1...4} p2/d{1...4}`): the primary
// formats every pool and checks the deployment's pool list; each worker opens every pool, each pool's locks and
// changes its own among the workers' (storage/index.ts poolCoordination), so what one worker writes in either pool
// the other reads and lists at once. (Draining a pool with several workers: test/workers/pools-drain.test.ts.)
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../helpers/random.js';
import { startWorkers, type WorkersServer } from '../helpers/workers.js';

const rnd = seededRandom();
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
let base: string;
let server: WorkersServer;
const clients: S3Client[] = [];
const digests = new Map<string, string>();

const arg = (n: number) => join(base, `p${n}`, 'd{1...4}');
/** Whether pool n's first drive holds `key`'s metadata. */
const inPool = (n: number, key: string) => existsSync(join(base, `p${n}`, 'd1', 'bkt', `${key}.o`, 'meta'));

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

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'cairn-worker-pools-'));
  server = await startWorkers(2, {}, [arg(1), arg(2)]);
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
    for (const key of gone)
      await clients[(keys.indexOf(key) + 1) % 2].send(new DeleteObjectCommand({ Bucket: 'bkt', Key: key }));
    for (const s3 of clients) expect(await listed(s3)).toEqual(keys.filter((k) => !gone.includes(k)));
  }, 120_000);
});
