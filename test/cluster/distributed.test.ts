// A distributed Cairn: four `cairn server` processes on loopback with two drives each, every one given the same
// eight endpoints (one erasure set of 8, EC 4+4, two drives per node). Any node answers for any object: PUT
// through one, GET, listings and multipart through the others, byte-exact, with every node's caches kept
// current over the network change bus. kill -9 of a node: reads stay byte-exact and writes go on (6 of 8
// drives); of two nodes: writes are refused (503) and store nothing while reads go on; the nodes back, their
// missed shards are healed. A node started with another secret or other arguments refuses to start, saying why.
// The node that formats starts last, once the others wait for its format: they find the system bucket with it.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  DeleteUserPolicyCommand,
  ListUsersCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { iamClient, s3As } from '../iam/helpers.js';
import { makeClient } from '../helpers/cairn.js';
import { LoopbackCluster, WAITING_FOR_FORMAT } from '../helpers/nodes.js';
import { seededRandom } from '../helpers/random.js';

const rnd = seededRandom();
const BUCKET = 'spread';

let cluster: LoopbackCluster;
let s3: S3Client[];

afterEach((ctx) => {
  // On a failure, what the nodes said about the change bus and leadership: a node left out answers from its caches.
  if (ctx.task.result?.state !== 'fail') return;
  for (const n of cluster?.nodes ?? [])
    for (const m of n.messages.filter((m) => /missed|left out|changes again|lead/.test(m)))
      console.error(`node ${n.index + 1}: ${m}`);
});

beforeAll(async () => {
  // The formatter last: the others wait for its format, then all read the new deployment at once.
  cluster = await LoopbackCluster.start(4, 2, {}, { formatterLast: true });
  s3 = cluster.nodes.map((n) => makeClient(n.url));
}, 360_000);

afterAll(async () => {
  for (const c of s3 ?? []) c.destroy();
  await cluster?.remove();
});

async function getBytes(c: S3Client, Key: string, Range?: string): Promise<Buffer> {
  const r = await c.send(new GetObjectCommand({ Bucket: BUCKET, Key, Range }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

async function keys(c: S3Client, Prefix: string): Promise<string[]> {
  const r = await c.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix }));
  return (r.Contents ?? []).map((o) => o.Key!);
}

/** The error status of a failed request (undefined when it succeeded). */
async function statusOf(p: Promise<unknown>): Promise<number | undefined> {
  return p.then(
    () => undefined,
    (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode,
  );
}

/** Files named `name` under drive `d` of node `i`, in the bucket. */
async function filesNamed(i: number, d: number, name: string): Promise<string[]> {
  const dir = `${cluster.folder(i, d)}/${BUCKET}`;
  const all = (await readdir(dir, { recursive: true }).catch(() => [])) as string[];
  return all.filter((p) => p === name || p.endsWith(`/${name}`));
}

describe('four nodes of two drives', () => {
  const small = rnd.bytes(5000);
  const big = rnd.bytes(3 * 1024 * 1024 + 11);

  it('one deployment: the same deployment id and set on every drive of every node', async () => {
    // Started after the others waited for its format (the order that used to race for the system bucket's lock).
    for (const n of cluster.nodes.slice(1)) expect(n.messages.some((m) => m.startsWith(WAITING_FOR_FORMAT))).toBe(true);
    const formats = await Promise.all(
      cluster.nodes.flatMap((_, i) =>
        [0, 1].map(async (d) => JSON.parse(await readFile(`${cluster.folder(i, d)}/.cairn.sys/format.json`, 'utf8'))),
      ),
    );
    expect(new Set(formats.map((f) => f.deploymentId)).size).toBe(1);
    expect(formats[0].sets).toHaveLength(1);
    expect(formats[0].sets[0]).toHaveLength(8);
    expect(formats[0].parity).toBe(4);
    // Each drive sits in the slot of its place in the set's round robin over the nodes.
    expect(new Set(formats.map((f) => f.driveId)).size).toBe(8);
    // The system bucket the formatter wrote before the formats: one document on every drive.
    const system = await Promise.all(
      cluster.nodes.flatMap((_, i) =>
        [0, 1].map((d) => readFile(`${cluster.folder(i, d)}/.cairn.sys/config/_bucket.json`, 'utf8')),
      ),
    );
    expect(new Set(system).size).toBe(1);
  });

  it('PUT through one node, GET, listing, multipart and delete through the others, byte-exact', async () => {
    await s3[0].send(new CreateBucketCommand({ Bucket: BUCKET }));
    // Node 4 lists the (empty) prefix first: its cached listing must follow the writes the others make.
    expect(await keys(s3[3], 'dir/')).toEqual([]);
    await s3[0].send(new PutObjectCommand({ Bucket: BUCKET, Key: 'dir/small', Body: small }));
    await s3[1].send(new PutObjectCommand({ Bucket: BUCKET, Key: 'dir/big', Body: big }));
    expect((await getBytes(s3[2], 'dir/small')).equals(small)).toBe(true);
    expect((await getBytes(s3[2], 'dir/big')).equals(big)).toBe(true);
    expect((await getBytes(s3[3], 'dir/big', 'bytes=1000000-2100000')).equals(big.subarray(1000000, 2100001))).toBe(
      true,
    );
    for (const c of s3) expect(await keys(c, 'dir/')).toEqual(['dir/big', 'dir/small']);

    const parts = [rnd.bytes(5 * 1024 * 1024), rnd.bytes(700_001)];
    const Key = 'dir/multi';
    const { UploadId } = await s3[1].send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key }));
    const etags = await Promise.all(
      parts.map(async (Body, i) => {
        const r = await s3[2 + i].send(
          new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: i + 1, Body }),
        );
        return { PartNumber: i + 1, ETag: r.ETag };
      }),
    );
    await s3[0].send(
      new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key, UploadId, MultipartUpload: { Parts: etags } }),
    );
    const whole = Buffer.concat(parts);
    expect((await getBytes(s3[3], Key)).equals(whole)).toBe(true);
    expect((await getBytes(s3[1], Key, 'bytes=5242000-5243999')).equals(whole.subarray(5242000, 5244000))).toBe(true);
    expect(await keys(s3[3], 'dir/')).toEqual(['dir/big', 'dir/multi', 'dir/small']);

    // Every node holds shards: each of the 8 drives has the big object's part file.
    for (const [i] of cluster.nodes.entries())
      for (const d of [0, 1]) expect(await filesNamed(i, d, 'part.1')).not.toHaveLength(0);

    await s3[2].send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'dir/small' }));
    for (const c of s3) {
      expect(await statusOf(getBytes(c, 'dir/small'))).toBe(404);
      expect(await keys(c, 'dir/')).toEqual(['dir/big', 'dir/multi']);
    }
  }, 120_000);

  it('IAM and bucket configuration changed through one node hold on every other at once', async () => {
    const iam = cluster.nodes.map((n) => iamClient(n.url));
    const readWrite = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 's3:*', Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`] },
      ],
    });
    await iam[0].send(new CreateUserCommand({ UserName: 'carol' }));
    await iam[0].send(new PutUserPolicyCommand({ UserName: 'carol', PolicyName: 'rw', PolicyDocument: readWrite }));
    const k = (await iam[0].send(new CreateAccessKeyCommand({ UserName: 'carol' }))).AccessKey!;
    const carol = cluster.nodes.map((n) =>
      s3As(n.url, { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! }),
    );
    await carol[2].send(new PutObjectCommand({ Bucket: BUCKET, Key: 'by-carol', Body: 'from node 3' }));
    expect((await getBytes(carol[1], 'by-carol')).toString()).toBe('from node 3');
    await iam[3].send(new DeleteUserPolicyCommand({ UserName: 'carol', PolicyName: 'rw' }));
    for (const c of carol)
      expect(await statusOf(c.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'by-carol' })))).toBe(403);

    // Users made through every node at once (each under the cluster-wide iam lock): none lost.
    const names = ['dave', 'erin', 'frank', 'grace'];
    await Promise.all(names.map((UserName, i) => iam[i].send(new CreateUserCommand({ UserName }))));
    for (const c of iam) {
      const listed = (await c.send(new ListUsersCommand({}))).Users!.map((u) => u.UserName);
      expect(listed).toEqual(expect.arrayContaining(['carol', ...names]));
    }

    // Versioning enabled through node 2: node 4 versions its next PUT.
    await s3[1].send(new CreateBucketCommand({ Bucket: 'race' }));
    await s3[1].send(
      new PutBucketVersioningCommand({ Bucket: 'race', VersioningConfiguration: { Status: 'Enabled' } }),
    );
    const put = await s3[3].send(new PutObjectCommand({ Bucket: 'race', Key: 'first', Body: 'v' }));
    expect(put.VersionId).toBeTruthy();
    for (const c of [...iam, ...carol]) c.destroy();
  });

  it('PUTs of one key racing through every node of a versioned bucket: every version kept, each byte-exact', async () => {
    const bodies = Array.from({ length: 16 }, (_, i) => rnd.bytes(1000 + i));
    const ids = await Promise.all(
      bodies.map(
        async (Body, i) => (await s3[i % 4].send(new PutObjectCommand({ Bucket: 'race', Key: 'k', Body }))).VersionId!,
      ),
    );
    for (const c of s3) {
      const v = await c.send(new ListObjectVersionsCommand({ Bucket: 'race', Prefix: 'k' }));
      expect(v.Versions?.map((x) => x.VersionId).sort()).toEqual([...ids].sort());
    }
    for (const [i, VersionId] of ids.entries()) {
      const r = await s3[(i + 1) % 4].send(new GetObjectCommand({ Bucket: 'race', Key: 'k', VersionId }));
      expect(Buffer.from(await r.Body!.transformToByteArray()).equals(bodies[i])).toBe(true);
    }
  });

  it('a node that missed changes while it did not answer reads bucket configuration and IAM again', async () => {
    const iam = iamClient(cluster.nodes[0].url);
    await s3[0].send(new CreateBucketCommand({ Bucket: 'paused' }));
    await iam.send(new CreateUserCommand({ UserName: 'heidi' }));
    const rw = { Effect: 'Allow', Action: 's3:*', Resource: ['arn:aws:s3:::paused', 'arn:aws:s3:::paused/*'] };
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [rw] });
    await iam.send(new PutUserPolicyCommand({ UserName: 'heidi', PolicyName: 'rw', PolicyDocument: policy }));
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'heidi' }))).AccessKey!;
    const heidi = s3As(cluster.nodes[3].url, { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! });
    await heidi.send(new PutObjectCommand({ Bucket: 'paused', Key: 'before', Body: 'b' }));

    cluster.pause(3);
    try {
      await s3[0].send(
        new PutBucketVersioningCommand({ Bucket: 'paused', VersioningConfiguration: { Status: 'Enabled' } }),
      );
      await iam.send(new DeleteUserPolicyCommand({ UserName: 'heidi', PolicyName: 'rw' }));
    } finally {
      cluster.resume(3);
    }
    // No change follows: node 4 hears that it missed some, and reads bucket table and IAM again.
    await vi.waitFor(
      async () => {
        const v = await s3[3].send(new GetBucketVersioningCommand({ Bucket: 'paused' }));
        expect(v.Status).toBe('Enabled');
        expect(await statusOf(heidi.send(new GetObjectCommand({ Bucket: 'paused', Key: 'before' })))).toBe(403);
      },
      { timeout: 30_000, interval: 250 },
    );
    iam.destroy();
    heidi.destroy();
  }, 180_000);

  it('health for maintenance: one node of four may go (6 of 8 drives keep the write quorum of 5), not a second', async () => {
    const health = async (i: number, query = '') => {
      const r = await fetch(`${cluster.nodes[i].url}/minio/health/cluster${query}`);
      return [r.status, r.headers.get('x-minio-write-quorum')];
    };
    await vi.waitFor(async () => expect(await health(0, '?maintenance=true')).toEqual([200, '5']), {
      timeout: 30_000,
      interval: 200,
    });
    await cluster.kill9(3);
    await vi.waitFor(async () => expect(await health(0, '?maintenance=true')).toEqual([412, '5']), {
      timeout: 30_000,
      interval: 200,
    });
    expect(await health(0)).toEqual([200, '5']);
    const read = await fetch(`${cluster.nodes[1].url}/minio/health/cluster/read?maintenance=true`);
    expect(read.status).toBe(200); // 4 drives of other nodes still read (read quorum 4)
  });

  it('a node started with another secret, other arguments or a node list without it refuses to start', async () => {
    await cluster.kill9(3);
    const wrongSecret = await cluster.startNode(3, { secret: 'not-the-deployment-secret' });
    expect(wrongSecret).toMatchObject({ code: 1 });
    expect('stderr' in wrongSecret && wrongSecret.stderr).toContain(
      "refused this node's token: the root credentials (CAIRN_ROOT_USER / CAIRN_ROOT_PASSWORD) differ",
    );
    const more = [...cluster.endpoints, `${cluster.nodes[3].url}${cluster.folder(3, 2)}`];
    const otherArgs = await cluster.startNode(3, { args: [...more, `${cluster.nodes[2].url}${cluster.folder(2, 2)}`] });
    expect(otherArgs).toMatchObject({ code: 1 });
    expect('stderr' in otherArgs && otherArgs.stderr).toContain(
      'was started with other drive arguments: every node must be given the same endpoints',
    );
    const notThisNode = await cluster.startNode(3, { args: cluster.endpoints.slice(0, 6) });
    expect(notThisNode).toMatchObject({ code: 2 });
    expect('stderr' in notThisNode && notThisNode.stderr).toContain('none of the endpoints is this node');
    // None of them touched the drives: the folder only the other arguments named was never made.
    expect(existsSync(cluster.folder(3, 2))).toBe(false);
  }, 180_000);

  it('kill -9 of a node: reads byte-exact, writes go on; restarted, its missed shards are healed', async () => {
    await cluster.kill9(3); // already down after the refusals above
    const during = rnd.bytes(2 * 1024 * 1024 + 5);
    for (const c of s3.slice(0, 3)) expect((await getBytes(c, 'dir/big')).equals(big)).toBe(true);
    await s3[0].send(new PutObjectCommand({ Bucket: BUCKET, Key: 'down/one', Body: during }));
    await s3[1].send(new PutObjectCommand({ Bucket: BUCKET, Key: 'down/inline', Body: small }));
    expect((await getBytes(s3[2], 'down/one')).equals(during)).toBe(true);
    expect((await filesNamed(3, 0, 'meta')).filter((m) => m.startsWith('down.d/'))).toEqual([]);
    expect(await keys(s3[1], 'down/')).toEqual(['down/inline', 'down/one']);

    await cluster.restart(3);
    // The writes node 4 missed are healed once the others see its drives back (their drive monitors).
    await vi.waitFor(
      async () => {
        for (const d of [0, 1]) {
          const metas = await filesNamed(3, d, 'meta');
          expect(metas.filter((m) => m.startsWith('down.d/'))).toHaveLength(2);
        }
      },
      { timeout: 60_000, interval: 200 },
    );
    expect((await getBytes(s3[3], 'down/one')).equals(during)).toBe(true);
    expect(await keys(s3[3], 'down/')).toEqual(['down/inline', 'down/one']);
  }, 240_000);

  it('kill -9 of two nodes: writes refused with 503 and nothing stored, reads go on; back, writes work', async () => {
    await Promise.all([cluster.kill9(2), cluster.kill9(3)]);
    // EC 4+4 writes need 5 drives; 4 are left, which still read.
    const body = rnd.bytes(300_000);
    expect(await statusOf(s3[0].send(new PutObjectCommand({ Bucket: BUCKET, Key: 'lost/w', Body: body })))).toBe(503);
    expect((await getBytes(s3[1], 'dir/big')).equals(big)).toBe(true);
    expect(await statusOf(getBytes(s3[1], 'lost/w'))).toBe(404);
    for (const i of [0, 1])
      for (const d of [0, 1])
        expect(await filesNamed(i, d, 'meta').then((m) => m.filter((p) => p.startsWith('lost.d/')))).toEqual([]);

    await Promise.all([cluster.restart(2), cluster.restart(3)]);
    await vi.waitFor(
      async () => {
        const r = await fetch(`${cluster.nodes[0].url}/minio/health/cluster`);
        expect(r.status).toBe(200);
      },
      { timeout: 60_000, interval: 200 },
    );
    await s3[0].send(new PutObjectCommand({ Bucket: BUCKET, Key: 'lost/w', Body: body }));
    expect((await getBytes(s3[3], 'lost/w')).equals(body)).toBe(true);
  }, 240_000);
});
