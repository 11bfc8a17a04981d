// A black-holed link in a distributed Cairn: four `cairn server` processes on loopback with two drives each (one
// erasure set of 8, EC 4+4: writes need 5 drives and 3 of the 4 nodes' lock grants), every link between two
// nodes through a TCP proxy the test controls (test/helpers/tcp-proxy.ts). Node 4's links drop every packet
// (nothing forwarded, nothing reset, as a failed switch or a firewall that drops): only deadlines notice. The
// others take its drives offline (the drive monitor's probe deadline) and go on writing and reading with quorum;
// node 4 refuses writes with 503 SlowDownWrite and stores nothing. The link back: node 4's drives come back
// online and the writes it missed are healed onto them. No timing is asserted: every wait is a generous poll.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeClient } from '../helpers/cairn.js';
import { LoopbackCluster } from '../helpers/nodes.js';
import { seededRandom } from '../helpers/random.js';

const rnd = seededRandom();
const BUCKET = 'hole';

let cluster: LoopbackCluster;
let s3: S3Client[];

beforeAll(async () => {
  cluster = await LoopbackCluster.start(4, 2, {}, { proxied: true });
  s3 = cluster.nodes.map((n) => makeClient(n.url));
}, 180_000);

afterAll(async () => {
  for (const c of s3 ?? []) c.destroy();
  await cluster?.remove();
});

async function getBytes(c: S3Client, Key: string): Promise<Buffer> {
  const r = await c.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

async function errorOf(p: Promise<unknown>): Promise<[number | undefined, string | undefined]> {
  return p.then(
    () => [200, 'ok'],
    (e: { name?: string; $metadata?: { httpStatusCode?: number } }) => [e.$metadata?.httpStatusCode, e.name],
  );
}

/** Whether drive `d` of node `i` holds the metadata of `key` (`dir/name`). */
async function storedOn(i: number, d: number, key: string): Promise<boolean> {
  const files = (await readdir(join(cluster.folder(i, d), BUCKET), { recursive: true }).catch(() => [])) as string[];
  const slash = key.lastIndexOf('/');
  return files.includes(`${key.slice(0, slash)}.d/${key.slice(slash + 1)}.o/meta`);
}

describe('node 4 of four behind a black hole', () => {
  it('is taken offline, the others write and read with quorum; the link back, it is healed and writes again', async () => {
    await s3[0].send(new CreateBucketCommand({ Bucket: BUCKET }));
    const before = rnd.bytes(5000);
    await s3[0].send(new PutObjectCommand({ Bucket: BUCKET, Key: 'h/before', Body: before }));

    cluster.drop(3);
    // The others write and read on (the first writes may wait for node 4's deadlines: no timing asserted).
    const bodies = [rnd.bytes(4000), rnd.bytes(700_000), rnd.bytes(3)];
    for (const [i, body] of bodies.entries())
      await s3[i].send(new PutObjectCommand({ Bucket: BUCKET, Key: `h/k${i}`, Body: body }));
    for (const c of s3.slice(0, 3)) {
      expect((await getBytes(c, 'h/before')).equals(before)).toBe(true);
      for (const [i, body] of bodies.entries()) expect((await getBytes(c, `h/k${i}`)).equals(body)).toBe(true);
    }
    // Node 1's drive monitor took node 4's drives offline (the probe's deadline, not a reset connection).
    const offline = (m: string) => /drive https?:\/\/[^ ]+\/n4\/d\d (does not answer: offline|is offline)/.test(m);
    await vi.waitFor(() => expect(cluster.nodes[0].messages.filter(offline).length).toBeGreaterThanOrEqual(2), {
      timeout: 120_000,
      interval: 500,
    });
    // Silence, not resets: no call to node 4 failed with a reset or refused connection.
    expect(cluster.nodes[0].messages.filter((m) => /n4\/d\d.*(ECONNRESET|ECONNREFUSED)/.test(m))).toEqual([]);
    // Node 4 alone: no majority of lock grants, no write quorum. It refuses and stores nothing.
    expect(
      await errorOf(s3[3].send(new PutObjectCommand({ Bucket: BUCKET, Key: 'h/minority', Body: before }))),
    ).toEqual([503, 'SlowDownWrite']);
    for (const d of [0, 1]) {
      expect(await storedOn(3, d, 'h/minority')).toBe(false);
      expect(await storedOn(3, d, 'h/k0')).toBe(false);
    }

    cluster.reconnect(3);
    // Its drives back online, the writes they missed are healed onto them.
    await vi.waitFor(
      async () => {
        for (const d of [0, 1]) for (const i of [0, 1, 2]) expect(await storedOn(3, d, `h/k${i}`)).toBe(true);
      },
      { timeout: 180_000, interval: 1000 },
    );
    // Node 4 reads them once its own drive monitor sees the others' drives again (it took them offline while cut
    // off; until its next probe it has only its own 2 drives, below read quorum, and answers 503 SlowDownRead).
    await vi.waitFor(
      async () => {
        for (const [i, body] of bodies.entries()) expect((await getBytes(s3[3], `h/k${i}`)).equals(body)).toBe(true);
      },
      { timeout: 120_000, interval: 1000 },
    );
    expect(await errorOf(getBytes(s3[0], 'h/minority'))).toEqual([404, 'NoSuchKey']);
    // And node 4 writes again (once its own drive monitor sees the others' drives).
    const again = rnd.bytes(2000);
    await vi.waitFor(() => s3[3].send(new PutObjectCommand({ Bucket: BUCKET, Key: 'h/again', Body: again })), {
      timeout: 120_000,
      interval: 1000,
    });
    expect((await getBytes(s3[0], 'h/again')).equals(again)).toBe(true);
  }, 600_000);
});
