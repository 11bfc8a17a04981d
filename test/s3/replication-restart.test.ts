// Replication across a crash: `cairn server` (a child process) queues changes for a target Cairn that is down
// (or slow), is killed with SIGKILL, and started again over the same drives once the target is back: every change
// answered before the kill reaches the target, from the queue files on the drive, and only those not copied yet.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  DeleteObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startServer, type CairnServer } from '@cairn/server';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { ROOT, makeClient } from '../helpers/cairn.js';
import { spawnCairn } from '../helpers/cli.js';
import { queuedEventIds } from '../helpers/event-queue.js';
import { remoteTarget, replicateAll, versionedBucket } from '../helpers/replication-config.js';

// Generous limits: each test restarts servers and waits for queues to drain; on a loaded 2-core machine that
// has taken more than vitest's default minute (timing belongs in bench/, not here).
const POLL = { timeout: 120_000, interval: 100 };
const RESTARTS = 240_000;
let base: string;
let child: ChildProcess | undefined;
let target: CairnServer | undefined;
let targetPort = 0;

/** Starts `cairn server` on port 0 over base/<dir>/d{1...4}; resolves with its URL once it serves. */
async function startSource(dir = 'src', args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const proc = spawnCairn(['server', '--address', '127.0.0.1:0', ...args, join(base, dir, 'd{1...4}')], {
    CAIRN_ROOT_USER: ROOT.accessKey,
    CAIRN_ROOT_PASSWORD: ROOT.secretKey,
    CAIRN_LOG_LEVEL: 'info',
    ...env,
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

async function startTarget(dir = 'dst'): Promise<void> {
  target = await startServer({
    address: `127.0.0.1:${targetPort}`,
    credentials: { root: ROOT, users: [] },
    storage: { background: false },
    shutdownGraceMs: 500,
    drives: [1, 2, 3, 4].map((i) => join(base, dir, `d${i}`)),
  });
  targetPort = target.port;
}

const ids = async (s3: S3Client, Bucket: string) => {
  const out = await s3.send(new ListObjectVersionsCommand({ Bucket }));
  return [...(out.Versions ?? []), ...(out.DeleteMarkers ?? [])].map((v) => `${v.Key}@${v.VersionId}`).sort();
};

/** Registers `endpoint`/`targetBucket` as `bucket`'s replication target and replicates everything to it. */
async function replicateTo(url: string, bucket: string, endpoint: string, targetBucket: string): Promise<void> {
  const s3 = makeClient(url);
  await replicateAll(s3, bucket, await remoteTarget(url, bucket, endpoint, targetBucket));
  s3.destroy();
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'cairn-replication-restart-'));
});

afterAll(async () => {
  await stopSource('SIGTERM');
  await target?.close();
  await rm(base, { recursive: true, force: true });
});

it(
  'changes queued for a target that is down survive kill -9 of the source and are delivered after the restart',
  async () => {
    await startTarget();
    const dst = makeClient(target!.url);
    await versionedBucket(dst, 'backup');
    const url = await startSource();
    const s3 = makeClient(url);
    await versionedBucket(s3, 'crash');
    await replicateTo(url, 'crash', `127.0.0.1:${targetPort}`, 'backup');
    await target!.close();
    const keys = Array.from({ length: 12 }, (_, i) => `k${String(i).padStart(2, '0')}`);
    for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: 'crash', Key, Body: Key }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'crash', Key: keys[0] }));
    s3.destroy();
    await stopSource('SIGKILL');
    // Each answered change left its entry in a queue folder on the first drive (one folder per worker).
    const queued = await queuedEventIds(join(base, 'src', 'd1', '.cairn.sys', 'replication'));
    expect(queued).toHaveLength(keys.length + 1);

    await startTarget();
    const again = makeClient(await startSource());
    await vi.waitFor(async () => expect(await ids(dst, 'backup')).toHaveLength(keys.length + 1), POLL);
    expect(await ids(dst, 'backup')).toEqual(await ids(again, 'crash'));
    await vi.waitFor(async () => {
      for (const Key of keys.slice(1))
        expect((await again.send(new HeadObjectCommand({ Bucket: 'crash', Key }))).ReplicationStatus).toBe('COMPLETED');
    }, POLL);
  },
  RESTARTS,
);

/**
 * A pass-through to the target that holds every request whose path starts with `hold` (never answered: the
 * replication of that key stays in flight) and counts the replica writes it forwards.
 */
function holdingProxy(): { server: Server; hold?: string; replicaWrites: number; port: () => number } {
  const proxy = {
    hold: undefined as string | undefined,
    replicaWrites: 0,
    server: createServer((req: IncomingMessage, res) => {
      if (proxy.hold && req.url?.startsWith(proxy.hold)) return; // held until the sender's connection goes
      if (req.method === 'PUT' && req.headers['x-minio-source-replication-request'] === 'true') proxy.replicaWrites++;
      const up = request(
        { host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      up.on('error', () => res.destroy());
      req.pipe(up);
    }),
    port: () => (proxy.server.address() as AddressInfo).port,
  };
  return proxy;
}

it(
  'kill -9 while several lanes copy, one change held in flight: after the restart exactly the changes not copied go out, each key in order',
  async () => {
    await stopSource('SIGTERM');
    await target?.close();
    targetPort = 0;
    await startTarget('dst-lanes');
    const dst = makeClient(target!.url);
    await versionedBucket(dst, 'backup2');
    const proxy = holdingProxy();
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    try {
      // One worker (one queue) with four lanes per target.
      const source = () => startSource('src-lanes', ['--workers', '1'], { CAIRN_API_REPLICATION_MAX_WORKERS: '4' });
      const url = await source();
      const s3 = makeClient(url);
      await versionedBucket(s3, 'lanes');
      await replicateTo(url, 'lanes', `127.0.0.1:${proxy.port()}`, 'backup2');
      proxy.hold = '/backup2/held';
      // The first change (queue entry 1) never completes; three versions of one key and twelve keys follow.
      await s3.send(new PutObjectCommand({ Bucket: 'lanes', Key: 'held', Body: 'held' }));
      const queueDir = join(base, 'src-lanes', 'd1', '.cairn.sys', 'replication');
      const firstQueued = (await queuedEventIds(queueDir)).map((id) => id.slice(-16))[0];
      expect(firstQueued).toBeDefined();
      for (const v of ['v1', 'v2', 'v3'])
        await s3.send(new PutObjectCommand({ Bucket: 'lanes', Key: 'multi', Body: v }));
      const keys = Array.from({ length: 12 }, (_, i) => `k${String(i).padStart(2, '0')}`);
      for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: 'lanes', Key, Body: Key }));
      const total = 1 + 3 + keys.length;
      // Lanes other than the held one go on: later changes are copied and leave the queue before the first.
      await vi.waitFor(async () => expect((await ids(dst, 'backup2')).length).toBeGreaterThanOrEqual(6), POLL);
      s3.destroy();
      await stopSource('SIGKILL');
      const left = await queuedEventIds(queueDir);
      // The first change (the oldest sequence number of the queue) is among those left.
      const seqOf = (id: string) => id.slice(-16);
      expect(left.map(seqOf).sort()[0]).toBe(firstQueued);
      expect(left.length).toBeLessThan(total);

      proxy.hold = undefined;
      proxy.replicaWrites = 0;
      const again = makeClient(await source());
      await vi.waitFor(async () => expect(await ids(dst, 'backup2')).toHaveLength(total), POLL);
      expect(await ids(dst, 'backup2')).toEqual(await ids(again, 'lanes'));
      await vi.waitFor(async () => {
        expect(await queuedEventIds(queueDir)).toEqual([]);
      }, POLL);
      // Only the changes left in the queue were sent again (none of those already removed), once each.
      expect(proxy.replicaWrites).toBe(left.length);
      // The versions of one key reached the target in order: the latest is the same on both sides.
      const latest = async (c: S3Client, Bucket: string) =>
        (await c.send(new HeadObjectCommand({ Bucket, Key: 'multi' }))).VersionId;
      expect(await latest(dst, 'backup2')).toBe(await latest(again, 'lanes'));
      again.destroy();
    } finally {
      proxy.server.closeAllConnections();
      await new Promise((resolve) => proxy.server.close(resolve));
      dst.destroy();
    }
  },
  RESTARTS,
);
