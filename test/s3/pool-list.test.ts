// The deployment's pool list (storage/pool-list.ts, MinIO's pool.bin): a server restarted without a pool that was
// never drained is refused with a message naming that pool, whether it runs alone, as pools or with workers, and
// the refusal changes nothing on the drives; the same pools in another order (or under moved names) serve every
// object. (A drained pool leaving the command line: test/s3/decommission.test.ts; a drain stopped or canceled
// half-way: server/test/storage/pool-list.test.ts.)
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCall } from '../../server/src/cli/admin-client.js';
import { PoolsFixture, sha256 } from '../helpers/pools.js';
import { seededRandom } from '../helpers/random.js';

const rnd = seededRandom();
let f: PoolsFixture;
const digests = new Map<string, string>();

/** The files (not folders) under `dir`, none when it is absent. */
const filesUnder = async (dir: string) =>
  (await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])).filter((e) => !e.isDirectory());

/** What pool n's drives hold of the pool list (drive 1 and 4). */
const listOn = async (n: number) =>
  Promise.all([1, 4].map((d) => readFile(join(f.base, `p${n}`, `d${d}`, '.cairn.sys', 'pools.json'), 'utf8')));

beforeAll(async () => {
  f = await PoolsFixture.make('cairn-pool-list-');
  await f.start([1, 2]);
  await f.s3.send(new CreateBucketCommand({ Bucket: 'bkt' }));
  for (let i = 0; i < 30; i++) {
    const body = rnd.bytes(i % 10 === 0 ? 300_000 : 100 + i);
    await f.s3.send(new PutObjectCommand({ Bucket: 'bkt', Key: `k${i}`, Body: body }));
    digests.set(`k${i}`, sha256(body));
  }
  await f.stop();
}, 120_000);

afterAll(async () => {
  await f?.close();
});

describe('a start without a pool that holds objects', () => {
  it('both pools hold objects, and both pools list both', async () => {
    const held = [...digests.keys()].map((k) => f.poolsOf('bkt', k));
    expect(held.filter((p) => p[0] === 1).length).toBeGreaterThan(0);
    expect(held.filter((p) => p[0] === 2).length).toBeGreaterThan(0);
    for (const n of [1, 2])
      for (const text of await listOn(n)) {
        const list = JSON.parse(text) as { pools: { cmdline: string; decommission?: unknown }[] };
        expect(list.pools.map((p) => p.cmdline)).toEqual([f.arg(1), f.arg(2)]);
        expect(list.pools.every((p) => p.decommission === undefined)).toBe(true);
      }
  });

  it('is refused, naming the pool left out, and changes nothing stored', async () => {
    const before = [await listOn(1), await listOn(2)];
    await expect(f.start([1])).rejects.toThrow(
      new RegExp(
        `pool ${f.arg(2).replace(/[{}.]/g, '\\$&')} \\(the 2nd pool, never decommissioned\\).*decommission start`,
      ),
    );
    await expect(f.start([2])).rejects.toThrow(/p1\/d\{1\.\.\.4\} \(the 1st pool, never decommissioned\)/);
    // A new pool in its place does not make up for it.
    await expect(f.start([1, 3])).rejects.toThrow(/p2\/d\{1\.\.\.4\} \(the 2nd pool/);
    expect([await listOn(1), await listOn(2)]).toEqual(before);
    // Refused before anything was written: the new pool's drives are not even made, let alone formatted.
    expect(await filesUnder(join(f.base, 'p3'))).toEqual([]);
  }, 60_000);

  it('is refused with several workers too (the primary formats the drives)', async () => {
    const r = await f.refusedCommand([1], 2);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/p2\/d\{1\.\.\.4\} \(the 2nd pool, never decommissioned\)/);
  }, 60_000);

  it('the same pools in another order serve every object, and the list follows the command line', async () => {
    await f.start([2, 1]);
    for (const [key, digest] of digests) expect(await f.digestOf('bkt', key), key).toBe(digest);
    const pools = (await adminCall(f.admin, { method: 'GET', path: 'pools/list' })) as { cmdline: string }[];
    expect(pools.map((p) => p.cmdline)).toEqual([f.arg(2), f.arg(1)]);
    await f.stop();
    const list = JSON.parse((await listOn(1))[0]) as { pools: { cmdline: string }[] };
    expect(list.pools.map((p) => p.cmdline)).toEqual([f.arg(2), f.arg(1)]);
    // And still refused without one of them.
    await expect(f.start([2])).rejects.toThrow(/p1\/d\{1\.\.\.4\} \(the 2nd pool, never decommissioned\)/);
  }, 120_000);
});
