// The storage RPC end to end: a second Cairn process (node B, a child process) serves drive folders over
// /cairn/storage/v1, and Cairn servers in this process use two of them as drives of their erasure set beside
// local ones (named with the test-only CAIRN_TEST_REMOTE_DRIVES until cluster start-up exists). S3 traffic
// must be byte-exact, a kill -9 of B must leave reads (and, where the quorum allows, writes) working, heal
// must restore B's shards once it is back, and a token made with another secret must be refused.
import type { ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { startServer, type CairnServer } from '@cairn/server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeClient } from '../helpers/cairn.js';
import { spawnCairn } from '../helpers/cli.js';
import { seededRandom } from '../helpers/random.js';
import { ROOT } from '../helpers/users.js';

const rnd = seededRandom();

interface Node {
  child: ChildProcess;
  url: string;
  port: number;
}

/** Node B: a Cairn process with its own drive, serving `served` over the storage RPC. */
async function startNodeB(base: string, served: string[], port = 0): Promise<Node> {
  const child = spawnCairn(['server', '--workers', '1', '--address', `127.0.0.1:${port}`, join(base, 'own')], {
    CAIRN_ROOT_USER: ROOT.accessKey,
    CAIRN_ROOT_PASSWORD: ROOT.secretKey,
    CAIRN_TEST_RPC_DRIVES: served.join(','),
    CAIRN_LOG_LEVEL: 'info',
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`node B exited (${code}): ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (text) => {
      try {
        const line = JSON.parse(text) as { url?: unknown };
        if (typeof line.url === 'string') resolve(line.url);
      } catch {
        // not a log line
      }
    });
  });
  return { child, url, port: Number(new URL(url).port) };
}

async function kill9(node: Node): Promise<void> {
  const gone = new Promise((r) => node.child.once('exit', r));
  node.child.kill('SIGKILL');
  await gone;
}

/** A Cairn server in this process over `local` folders and the remote drives `remote` (URLs). */
function startNodeA(local: string[], remote: string[], secretKey = ROOT.secretKey, parity?: number) {
  return startServer({
    address: '127.0.0.1:0',
    drives: local,
    credentials: { root: { accessKey: ROOT.accessKey, secretKey } },
    env: { CAIRN_TEST_REMOTE_DRIVES: remote.join(',') },
    storage: { driveCheckIntervalMs: 200, driveCheckTimeoutMs: 3000, parity },
    shutdownGraceMs: 2000,
  });
}

/** Paths of every file named `name` under `dir`. */
async function filesNamed(dir: string, name: string): Promise<string[]> {
  const all = (await readdir(dir, { recursive: true }).catch(() => [])) as string[];
  return all.filter((p) => p === name || p.endsWith(`/${name}`));
}

async function getBytes(s3: S3Client, Bucket: string, Key: string, Range?: string): Promise<Buffer> {
  const r = await s3.send(new GetObjectCommand({ Bucket, Key, Range }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

/** The error status of a failed request (undefined when it succeeded). */
async function statusOf(p: Promise<unknown>): Promise<number | undefined> {
  return p.then(
    () => undefined,
    (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode,
  );
}

/** A /call request to node B with `token`: its status. */
function rpcStatus(url: string, token: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        method: 'POST',
        path: '/cairn/storage/v1/call',
        headers: token ? { authorization: `Bearer ${token}` } : {},
      },
      (res) => {
        res.resume();
        resolve(res.statusCode!);
      },
    );
    req.on('error', reject);
    // A msgpack empty array: a valid (empty) batch.
    req.end(Buffer.from([0x90]));
  });
}

/** A token as token.ts mints it, for the given secret (the test's own copy of the derivation). */
function tokenFor(accessKey: string, secretKey: string): string {
  const expiry = Date.now() + 60_000;
  const key = createHmac('sha256', secretKey).update('cairn-storage-rpc-v1').digest();
  return `${expiry}.${createHmac('sha256', key).update(`${accessKey}\n${expiry}`).digest('hex')}`;
}

let base: string;
let b: Node;
const served = ['s1', 's2', 's3', 's4'];

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'cairn-rpc-'));
  b = await startNodeB(
    base,
    served.map((s) => join(base, s)),
  );
});

afterAll(async () => {
  if (b.child.exitCode === null && b.child.signalCode === null) {
    const gone = new Promise((r) => b.child.once('exit', r));
    b.child.kill('SIGTERM');
    await gone;
  }
  await rm(base, { recursive: true, force: true });
});

const remote = (s: string) => `${b.url}${join(base, s)}`;

describe('EC 2+2 over two local and two remote drives', () => {
  let a: CairnServer;
  let s3: S3Client;
  const small = rnd.bytes(4096);
  const big = rnd.bytes(3 * 1024 * 1024 + 17);

  beforeAll(async () => {
    a = await startNodeA([join(base, 'a1'), join(base, 'a2')], [remote('s1'), remote('s2')]);
    s3 = makeClient(a.url);
    await s3.send(new CreateBucketCommand({ Bucket: 'rpc' }));
  });
  afterAll(async () => {
    s3?.destroy();
    await a?.close();
  });

  it('PUT, GET, ranges, multipart, listing and delete are byte-exact, with shards on the remote drives', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'rpc', Key: 'dir/small', Body: small }));
    await s3.send(new PutObjectCommand({ Bucket: 'rpc', Key: 'dir/big', Body: big }));
    expect((await getBytes(s3, 'rpc', 'dir/small')).equals(small)).toBe(true);
    expect((await getBytes(s3, 'rpc', 'dir/big')).equals(big)).toBe(true);
    expect((await getBytes(s3, 'rpc', 'dir/big', 'bytes=1000000-2100000')).equals(big.subarray(1000000, 2100001))).toBe(
      true,
    );
    expect((await getBytes(s3, 'rpc', 'dir/big', 'bytes=-100')).equals(big.subarray(big.length - 100))).toBe(true);

    const parts = [rnd.bytes(5 * 1024 * 1024), rnd.bytes(1024 * 1024 + 5)];
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'rpc', Key: 'dir/multi' }));
    const etags = [];
    for (const [i, Body] of parts.entries()) {
      const r = await s3.send(
        new UploadPartCommand({ Bucket: 'rpc', Key: 'dir/multi', UploadId, PartNumber: i + 1, Body }),
      );
      etags.push({ PartNumber: i + 1, ETag: r.ETag });
    }
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'rpc',
        Key: 'dir/multi',
        UploadId,
        MultipartUpload: { Parts: etags },
      }),
    );
    const whole = Buffer.concat(parts);
    expect((await getBytes(s3, 'rpc', 'dir/multi')).equals(whole)).toBe(true);
    const cross = 'bytes=5242000-5243999'; // across the parts' boundary
    expect((await getBytes(s3, 'rpc', 'dir/multi', cross)).equals(whole.subarray(5242000, 5244000))).toBe(true);

    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'rpc', Prefix: 'dir/' }));
    expect(listed.Contents?.map((c) => [c.Key, c.Size])).toEqual([
      ['dir/big', big.length],
      ['dir/multi', whole.length],
      ['dir/small', small.length],
    ]);

    // The remote drives hold their shards: files written through the RPC on node B's folders.
    for (const s of ['s1', 's2']) {
      expect((await filesNamed(join(base, s, 'rpc'), 'meta')).length).toBe(3);
      expect((await filesNamed(join(base, s, 'rpc'), 'part.1')).length).toBe(2);
    }

    await s3.send(new DeleteObjectCommand({ Bucket: 'rpc', Key: 'dir/small' }));
    expect(await statusOf(getBytes(s3, 'rpc', 'dir/small'))).toBe(404);
    const after = await s3.send(new ListObjectsV2Command({ Bucket: 'rpc', Prefix: 'dir/' }));
    expect(after.Contents?.map((c) => c.Key)).toEqual(['dir/big', 'dir/multi']);
    expect((await filesNamed(join(base, 's1', 'rpc'), 'meta')).length).toBe(2);
  });

  it('refuses a token made with another secret, and a node started with another secret', async () => {
    expect(await rpcStatus(b.url, tokenFor(ROOT.accessKey, ROOT.secretKey))).toBe(200);
    expect(await rpcStatus(b.url, tokenFor(ROOT.accessKey, 'another-secret'))).toBe(403);
    expect(await rpcStatus(b.url, tokenFor('someone-else', ROOT.secretKey))).toBe(403);
    expect(await rpcStatus(b.url, undefined)).toBe(403);
    const wrong = startNodeA([join(base, 'w1'), join(base, 'w2')], [remote('s1'), remote('s2')], 'another-secret');
    await expect(wrong).rejects.toThrow(/EACCES/);
  });

  it('kill -9 of the remote node: reads go on, writes answer the quorum error; after a restart writes work', async () => {
    await kill9(b);
    expect((await getBytes(s3, 'rpc', 'dir/big')).equals(big)).toBe(true);
    expect((await getBytes(s3, 'rpc', 'dir/big', 'bytes=5-70000')).equals(big.subarray(5, 70001))).toBe(true);
    // EC 2+2 needs 3 drives to write (data + 1 when data = parity): with two gone a PUT must fail, storing nothing.
    expect(await statusOf(s3.send(new PutObjectCommand({ Bucket: 'rpc', Key: 'down', Body: small })))).toBe(503);
    expect(await statusOf(getBytes(s3, 'rpc', 'down'))).toBe(404);

    b = await startNodeB(
      base,
      served.map((s) => join(base, s)),
      b.port,
    );
    // The drive monitor brings the remote drives back (the cluster health endpoint says when writes can go on).
    await vi.waitFor(
      async () => {
        const r = await fetch(`${a.url}/minio/health/cluster`);
        expect(r.status).toBe(200);
      },
      { timeout: 30_000, interval: 100 },
    );
    await s3.send(new PutObjectCommand({ Bucket: 'rpc', Key: 'up', Body: big }));
    expect((await getBytes(s3, 'rpc', 'up')).equals(big)).toBe(true);
  });
});

describe('EC 4+2 over four local and two remote drives', () => {
  let a: CairnServer;
  let s3: S3Client;
  const local = ['c1', 'c2', 'c3', 'c4'];

  beforeAll(async () => {
    a = await startNodeA(
      local.map((l) => join(base, l)),
      [remote('s3'), remote('s4')],
      ROOT.secretKey,
      2,
    );
    s3 = makeClient(a.url);
    await s3.send(new CreateBucketCommand({ Bucket: 'rpc' }));
  });
  afterAll(async () => {
    s3?.destroy();
    await a?.close();
  });

  it('writes go on while the remote node is killed; heal restores its shards once it is back', async () => {
    await kill9(b);
    const objects = new Map([
      ['k/inline', rnd.bytes(2000)],
      ['k/big', rnd.bytes(2 * 1024 * 1024 + 3)],
    ]);
    for (const [Key, Body] of objects) await s3.send(new PutObjectCommand({ Bucket: 'rpc', Key, Body }));
    for (const [Key, Body] of objects) expect((await getBytes(s3, 'rpc', Key)).equals(Body)).toBe(true);
    expect(await filesNamed(join(base, 's3', 'rpc'), 'meta')).toEqual([]);

    b = await startNodeB(
      base,
      served.map((s) => join(base, s)),
      b.port,
    );
    // The writes that missed the remote drives were queued for healing when those drives came back.
    await vi.waitFor(
      async () => {
        for (const s of ['s3', 's4']) {
          expect((await filesNamed(join(base, s, 'rpc'), 'meta')).length).toBe(2);
          expect((await filesNamed(join(base, s, 'rpc'), 'part.1')).length).toBe(1);
        }
      },
      { timeout: 30_000, interval: 100 },
    );
    // The healed shards are right: with two local drives' copies gone, reads need them.
    for (const l of ['c1', 'c2']) await rm(join(base, l, 'rpc', 'k.d'), { recursive: true, force: true });
    for (const [Key, Body] of objects) expect((await getBytes(s3, 'rpc', Key)).equals(Body)).toBe(true);
  });
});
