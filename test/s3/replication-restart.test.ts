// Replication across a crash: `cairn server` (a child process, one worker per core) queues changes for a target
// Cairn that is down, is killed with SIGKILL, and started again over the same drives once the target is back:
// every change answered before the kill reaches the target, from the queue files on the drive.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startServer, type CairnServer } from '@cairn/server';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { adminCall } from '../../server/src/cli/admin-client.js';
import { ROOT, makeClient } from '../helpers/cairn.js';
import { spawnCairn } from '../helpers/cli.js';

const POLL = { timeout: 60_000, interval: 100 };
let base: string;
let child: ChildProcess | undefined;
let target: CairnServer | undefined;
let targetPort = 0;

/** Starts `cairn server` on port 0 over base/src/d{1...4}; resolves with its URL once it serves. */
async function startSource(): Promise<string> {
  const proc = spawnCairn(['server', '--address', '127.0.0.1:0', join(base, 'src', 'd{1...4}')], {
    CAIRN_ROOT_USER: ROOT.accessKey,
    CAIRN_ROOT_PASSWORD: ROOT.secretKey,
    CAIRN_LOG_LEVEL: 'info',
  });
  child = proc;
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`cairn server exited with ${code}: ${stderr}`)));
    createInterface({ input: proc.stdout! }).on('line', (text) => {
      try {
        const line = JSON.parse(text) as { url?: string };
        if (typeof line.url === 'string') resolve(line.url);
      } catch {
        // not a log line
      }
    });
  });
}

async function stopSource(signal: NodeJS.Signals): Promise<void> {
  const proc = child;
  child = undefined;
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  proc.removeAllListeners('exit');
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill(signal);
  await exited;
}

async function startTarget(): Promise<void> {
  target = await startServer({
    address: `127.0.0.1:${targetPort}`,
    credentials: { root: ROOT, users: [] },
    storage: { background: false },
    shutdownGraceMs: 500,
    drives: [1, 2, 3, 4].map((i) => join(base, 'dst', `d${i}`)),
  });
  targetPort = target.port;
}

async function versionedBucket(s3: S3Client, Bucket: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket }));
  await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
}

const ids = async (s3: S3Client, Bucket: string) => {
  const out = await s3.send(new ListObjectVersionsCommand({ Bucket }));
  return [...(out.Versions ?? []), ...(out.DeleteMarkers ?? [])].map((v) => `${v.Key}@${v.VersionId}`).sort();
};

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'cairn-replication-restart-'));
});

afterAll(async () => {
  await stopSource('SIGTERM');
  await target?.close();
  await rm(base, { recursive: true, force: true });
});

it('changes queued for a target that is down survive kill -9 of the source and are delivered after the restart', async () => {
  await startTarget();
  const dst = makeClient(target!.url);
  await versionedBucket(dst, 'backup');
  const url = await startSource();
  const s3 = makeClient(url);
  await versionedBucket(s3, 'crash');
  const arn = await adminCall(
    { endpoint: url, ...ROOT, region: 'us-east-1' },
    {
      method: 'PUT',
      path: 'set-remote-target',
      query: { bucket: 'crash' },
      body: {
        endpoint: `127.0.0.1:${targetPort}`,
        secure: false,
        credentials: ROOT,
        targetbucket: 'backup',
        type: 'replication',
      },
      encrypt: true,
    },
  );
  await s3.send(
    new PutBucketReplicationCommand({
      Bucket: 'crash',
      ReplicationConfiguration: {
        Role: '',
        Rules: [
          {
            ID: 'all',
            Priority: 1,
            Status: 'Enabled',
            Filter: { Prefix: '' },
            DeleteMarkerReplication: { Status: 'Enabled' },
            Destination: { Bucket: String(arn) },
          },
        ],
      },
    }),
  );
  await target!.close();
  const keys = Array.from({ length: 12 }, (_, i) => `k${String(i).padStart(2, '0')}`);
  for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: 'crash', Key, Body: Key }));
  await s3.send(new DeleteObjectCommand({ Bucket: 'crash', Key: keys[0] }));
  s3.destroy();
  await stopSource('SIGKILL');
  // Each answered change left its entry in a queue folder on the first drive (one folder per worker).
  const queued = await readdir(join(base, 'src', 'd1', '.cairn.sys', 'replication'), { recursive: true });
  expect(queued.filter((f) => f.endsWith('.event'))).toHaveLength(keys.length + 1);

  await startTarget();
  const again = makeClient(await startSource());
  await vi.waitFor(async () => expect(await ids(dst, 'backup')).toHaveLength(keys.length + 1), POLL);
  expect(await ids(dst, 'backup')).toEqual(await ids(again, 'crash'));
  await vi.waitFor(async () => {
    for (const Key of keys.slice(1))
      expect((await again.send(new HeadObjectCommand({ Bucket: 'crash', Key }))).ReplicationStatus).toBe('COMPLETED');
  }, POLL);
});
