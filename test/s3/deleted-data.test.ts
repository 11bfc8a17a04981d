// Deleted data leaves the drives. Every file under every drive folder (objects, .cairn.sys: temp area,
// multipart staging, listing journals, reap logs) is searched for a marker that only the deleted objects'
// bytes hold. Removal of deleted data is deferred by the grace period (storage gcGraceMs, 5 s) for GETs
// still streaming it; close() runs what waits, so a test needs no sleep. A process killed within the grace
// period leaves its removals written down on the drives, and the next start carries them out.
import { spawnCairn } from '../helpers/cli.js';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { startServer } from '@cairn/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, makeClient, s3Error } from '../helpers/cairn.js';
import { seededRandom } from '../helpers/random.js';

const MiB = 1024 * 1024;
const random = seededRandom();
let base: string;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'cairn-deleted-data-'));
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

/** A body of `size` bytes made of one marker string, unique to this test run, over and over. */
function marked(size: number): { marker: string; body: Buffer } {
  const marker = `DELETED-DATA-MARKER-${random.int(0, 1e9)}-${random.int(0, 1e9)}`;
  return { marker, body: Buffer.from(marker.repeat(Math.ceil(size / marker.length)).slice(0, size)) };
}

/** Every file under `dir`, at any depth. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else out.push(p);
  }
  return out;
}

/** The files of the drives that hold `marker`, relative to `root`. */
async function holding(root: string, marker: string): Promise<string[]> {
  const hits: string[] = [];
  for (const f of await filesUnder(root)) if ((await readFile(f)).includes(marker)) hits.push(f.slice(root.length));
  return hits;
}

/** The removal logs left on the drives (none once every removal is done). */
async function reapLogs(root: string): Promise<string[]> {
  const all = await filesUnder(root);
  return all.filter((f) => f.includes('/.cairn.sys/reap/'));
}

async function multipart(s3: S3Client, bucket: string, key: string, body: Buffer): Promise<string | undefined> {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const cut = 5 * MiB;
  const p1 = await s3.send(
    new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: body.subarray(0, cut) }),
  );
  const p2 = await s3.send(
    new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 2, Body: body.subarray(cut) }),
  );
  const done = await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId,
      MultipartUpload: {
        Parts: [
          { PartNumber: 1, ETag: p1.ETag },
          { PartNumber: 2, ETag: p2.ETag },
        ],
      },
    }),
  );
  return done.VersionId;
}

describe('after DeleteObject, no drive file holds the deleted bytes', () => {
  it('unversioned and versioned; inline, shard files and multipart; DeleteObject and DeleteObjects', async () => {
    const root = join(base, 'inproc');
    const server = await startServer({
      address: '127.0.0.1:0',
      credentials: { root: ROOT },
      storage: { background: false },
      drives: [1, 2, 3, 4].map((i) => join(root, `d${i}`)),
    });
    const markers: string[] = [];
    try {
      const s3 = makeClient(server.url);
      await s3.send(new CreateBucketCommand({ Bucket: 'plain' }));
      await s3.send(new CreateBucketCommand({ Bucket: 'versioned' }));
      await s3.send(
        new PutBucketVersioningCommand({ Bucket: 'versioned', VersioningConfiguration: { Status: 'Enabled' } }),
      );
      // Inline (in the metadata file), shard files, multipart; each in both buckets.
      const kinds = [
        { key: 'dir/inline', size: 1000 },
        { key: 'dir/shards', size: 3 * MiB + 5 },
        { key: 'dir/multipart', size: 6 * MiB + 7 },
      ];
      for (const bucket of ['plain', 'versioned']) {
        for (const { key, size } of kinds) {
          const { marker, body } = marked(size);
          markers.push(marker);
          const versionId =
            size > 5 * MiB
              ? await multipart(s3, bucket, key, body)
              : (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))).VersionId;
          expect((await holding(root, marker)).length).toBeGreaterThan(0); // the search finds live data
          if (bucket === 'versioned') {
            // A delete marker first (the version stays, as S3 says), then the version itself.
            await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
            expect((await holding(root, marker)).length).toBeGreaterThan(0);
            await s3.send(
              new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: key, VersionId: versionId }] } }),
            );
          } else {
            await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
          }
          const gone = s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
          expect(await s3Error(gone)).toMatchObject({ status: 404 }); // NoSuchKey, or NoSuchVersion
        }
      }
      const left = await s3.send(new ListObjectVersionsCommand({ Bucket: 'versioned' }));
      expect((left.Versions ?? []).length).toBe(0);
    } finally {
      await server.close(); // runs the removals still waiting for their grace period
    }
    for (const marker of markers) expect(await holding(root, marker)).toEqual([]);
    expect(await reapLogs(root)).toEqual([]);
  });
});

/** `cairn server` over root/d{1...4} as a child process; resolves with its URL once it serves. */
async function startCairn(root: string, workers: number): Promise<{ url: string; child: ChildProcess }> {
  const args = ['server', '--workers', String(workers), '--address', '127.0.0.1:0', join(root, 'd{1...4}')];
  const child = spawnCairn(args, {
    CAIRN_ROOT_USER: ROOT.accessKey,
    CAIRN_ROOT_PASSWORD: ROOT.secretKey,
    CAIRN_LOG_LEVEL: 'info',
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`cairn server exited with ${code}: ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (text) => {
      try {
        const line = JSON.parse(text) as { url?: string; worker?: number };
        if (typeof line.url === 'string' && !line.worker) resolve(line.url); // alone, or the primary's
      } catch {
        // not a log line
      }
    });
  });
  child.removeAllListeners('exit');
  return { url, child };
}

async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

describe('a server killed before its grace period ended', () => {
  // Killed with its workers, started again as one process: it takes over the removals its workers owed.
  it('removes the deleted data when it starts again', async () => {
    const root = join(base, 'killed');
    const first = await startCairn(root, 2);
    const s3 = makeClient(first.url);
    await s3.send(new CreateBucketCommand({ Bucket: 'crash' }));
    const shards = marked(3 * MiB + 1);
    const parts = marked(6 * MiB + 3);
    await s3.send(new PutObjectCommand({ Bucket: 'crash', Key: 'shards', Body: shards.body }));
    await multipart(s3, 'crash', 'a/b/parts', parts.body);
    await s3.send(new DeleteObjectCommand({ Bucket: 'crash', Key: 'shards' }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'crash', Key: 'a/b/parts' }));
    await stop(first.child, 'SIGKILL'); // within the 5 s grace: the removals had not run yet (workers exit too)
    s3.destroy();
    expect((await holding(root, shards.marker)).length).toBeGreaterThan(0);
    expect((await holding(root, parts.marker)).length).toBeGreaterThan(0);
    expect((await reapLogs(root)).length).toBeGreaterThan(0); // written down before the delete was answered

    const second = await startCairn(root, 1);
    const again = makeClient(second.url);
    expect(await s3Error(again.send(new GetObjectCommand({ Bucket: 'crash', Key: 'shards' })))).toMatchObject({
      name: 'NoSuchKey',
    });
    again.destroy();
    await stop(second.child, 'SIGTERM'); // a clean stop runs the removals still waiting for their grace period
    expect(await holding(root, shards.marker)).toEqual([]);
    expect(await holding(root, parts.marker)).toEqual([]);
    expect(await reapLogs(root)).toEqual([]); // done removals are not kept written down
  });
});
