// Heavy (1 GiB; run by `npm run test:heavy`, or with CAIRN_TEST_HEAVY=1): the replication of a 1 GiB multipart
// version is cut off mid-way (the target goes away after some of its parts arrived) and completes once the
// target is back, byte-exact, with the source's version id and ETag. The target sits behind a pass-through
// that the test turns off and on; nothing sleeps (the test waits on counters and the queue).
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { startServer, type CairnServer } from '@cairn/server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ROOT, makeClient } from '../helpers/cairn.js';
import { seededRandom } from '../helpers/random.js';
import { remoteTarget, replicateAll, versionedBucket } from '../helpers/replication-config.js';

const HEAVY = process.env.CAIRN_TEST_HEAVY === '1';
const PART = 64 * 1024 * 1024;
const PARTS = 16; // 1 GiB
const CUT_AFTER_PARTS = 5;
const POLL = { timeout: 600_000, interval: 200 };

/**
 * A pass-through to `port` that counts the parts it forwarded, goes down once CUT_AFTER_PARTS went through (cutting
 * every connection, refusing new ones), and is up again when the test sets `down` back to false.
 */
function switchableProxy(port: () => number) {
  const p = {
    down: false,
    armed: true,
    partsForwarded: 0,
    server: undefined as unknown as Server,
    cut(): void {
      p.armed = false;
      p.down = true;
      p.server.closeAllConnections();
    },
  };
  p.server = createServer((req: IncomingMessage, res) => {
    if (p.down) return req.socket.destroy();
    const up = request(
      { host: '127.0.0.1', port: port(), method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        if (req.method === 'PUT' && req.url?.includes('partNumber=')) p.partsForwarded++;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        if (p.partsForwarded >= CUT_AFTER_PARTS && p.armed) answer.once('end', () => p.cut());
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  return p;
}

async function sha256(body: Readable): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of body) h.update(chunk as Buffer);
  return h.digest('hex');
}

describe.skipIf(!HEAVY)('replication of a 1 GiB multipart version (heavy: CAIRN_TEST_HEAVY=1)', () => {
  let base: string;
  let source: CairnServer;
  let target: CairnServer;
  const proxy = switchableProxy(() => target.port);

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'cairn-replication-large-'));
    const start = (name: string) =>
      startServer({
        address: '127.0.0.1:0',
        credentials: { root: ROOT, users: [] },
        storage: { background: false },
        drives: [1, 2, 3, 4].map((i) => join(base, name, `d${i}`)),
        replicationRetry: { minMs: 100, maxMs: 1000 },
      });
    target = await start('dst');
    source = await start('src');
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    proxy.server.closeAllConnections();
    await new Promise((resolve) => proxy.server.close(resolve));
    await source?.close();
    await target?.close();
    await rm(base, { recursive: true, force: true });
  });

  it('is cut off after some parts, then completes once the target is back, byte-exact', async () => {
    const src = makeClient(source.url);
    const dst = makeClient(target.url);
    await versionedBucket(src, 'big');
    await versionedBucket(dst, 'big-copy');
    const viaProxy = `127.0.0.1:${(proxy.server.address() as AddressInfo).port}`;
    const arn = await remoteTarget(source.url, 'big', viaProxy, 'big-copy');
    await replicateAll(src, 'big', arn, { DeleteMarkerReplication: { Status: 'Disabled' } });

    // 16 parts of 64 MiB: one random block, each part marked with its number so no two are alike.
    const block = seededRandom().bytes(PART);
    const up = await src.send(new CreateMultipartUploadCommand({ Bucket: 'big', Key: 'model.bin' }));
    const parts: { PartNumber: number; ETag?: string }[] = [];
    for (let n = 1; n <= PARTS; n++) {
      block.writeUInt32BE(n, 0);
      const out = await src.send(
        new UploadPartCommand({ Bucket: 'big', Key: 'model.bin', UploadId: up.UploadId, PartNumber: n, Body: block }),
      );
      parts.push({ PartNumber: n, ETag: out.ETag });
    }
    const done = await src.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'big',
        Key: 'model.bin',
        UploadId: up.UploadId,
        MultipartUpload: { Parts: parts },
      }),
    );

    // The copy is cut off after CUT_AFTER_PARTS parts: the source says FAILED and keeps the change queued.
    await vi.waitFor(() => expect(source.replicationStatus()[0]?.failedAttempts).toBeGreaterThan(0), POLL);
    expect(proxy.partsForwarded).toBeGreaterThanOrEqual(CUT_AFTER_PARTS);
    expect(proxy.partsForwarded).toBeLessThan(PARTS);
    await vi.waitFor(async () => {
      const head = await src.send(new HeadObjectCommand({ Bucket: 'big', Key: 'model.bin' }));
      expect(head.ReplicationStatus).toBe('FAILED');
    }, POLL);
    expect(source.replicationStatus()[0].queued).toBe(1);
    expect((await dst.send(new ListObjectVersionsCommand({ Bucket: 'big-copy' }))).Versions ?? []).toEqual([]);

    // The target is back: the whole version goes again and arrives complete.
    proxy.down = false;
    await source.replicationIdle();
    expect(source.replicationStatus()[0]).toMatchObject({ queued: 0, replicated: 1, failed: 0 });
    expect((await src.send(new HeadObjectCommand({ Bucket: 'big', Key: 'model.bin' }))).ReplicationStatus).toBe(
      'COMPLETED',
    );
    const replica = await dst.send(new HeadObjectCommand({ Bucket: 'big-copy', Key: 'model.bin' }));
    expect(replica).toMatchObject({
      VersionId: done.VersionId,
      ETag: done.ETag,
      ContentLength: PART * PARTS,
      ReplicationStatus: 'REPLICA',
    });
    const read = async (s3: S3Client, Bucket: string) =>
      sha256((await s3.send(new GetObjectCommand({ Bucket, Key: 'model.bin' }))).Body as Readable);
    expect(await read(dst, 'big-copy')).toBe(await read(src, 'big'));
    src.destroy();
    dst.destroy();
  }, 900_000);
});
