// Real Cairn servers for the bucket replication tests (test/s3/replication*.test.ts): sites restartable on their
// port and drives, replication targets added through MinIO's admin API, rules, and comparable version listings.
import { createServer } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectVersionsCommand, PutBucketPolicyCommand, type S3Client } from '@aws-sdk/client-s3';
import { startServer, type CairnServer } from '@cairn/server';
import { afterAll, beforeAll } from 'vitest';
import type { AdminTarget } from '../../server/src/cli/admin-client.js';
import { ALT, ROOT, makeClient } from './cairn.js';
import { remoteTarget, versionedBucket } from './replication-config.js';
import { spawnCairn } from './cli.js';

export { replicateAll, rule, versionedBucket } from './replication-config.js';

export const POLL = { timeout: 60_000, interval: 100 };
export const TARGET_CREDS = { accessKey: 'replicator', secretKey: 'replicator-secret-never-listed' };
export const MINIO = process.env.CAIRN_TEST_MINIO ?? '/work/ext/bin/minio';

/** A Cairn server restartable on the same port and drives (a replication target names host:port). */
export class Site {
  server!: CairnServer;
  port = 0;
  constructor(
    readonly base: string,
    readonly users = [ALT, TARGET_CREDS],
    /** More server options (e.g. notification targets). */
    readonly extra: Partial<Parameters<typeof startServer>[0]> = {},
  ) {}
  async start(): Promise<this> {
    this.server = await startServer({
      address: `127.0.0.1:${this.port}`,
      credentials: { root: ROOT, users: this.users },
      storage: { background: false },
      shutdownGraceMs: 500,
      drives: [1, 2, 3, 4].map((i) => join(this.base, `d${i}`)),
      replicationRetry: { minMs: 50, maxMs: 400 },
      prometheusAuth: 'public',
      ...this.extra,
    });
    this.port = this.server.port;
    return this;
  }
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }
  client(creds = ROOT): S3Client {
    return makeClient(this.url, { credentials: creds });
  }
  admin(creds = ROOT): AdminTarget {
    return { endpoint: this.url, ...creds, region: 'us-east-1' };
  }
  async stop(): Promise<void> {
    await this.server.close();
  }
}

/**
 * Sites for one test file: a temp folder made before its tests and removed after them with every site in it.
 * `site(name)` starts one; `dir()` is the folder (for other servers' drives).
 */
export function useSites(): { site: (name: string) => Promise<Site>; dir: () => string } {
  let base = '';
  const sites: Site[] = [];
  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'cairn-replication-'));
  });
  afterAll(async () => {
    for (const s of sites) await s.server.close().catch(() => {});
    await rm(base, { recursive: true, force: true });
  });
  return {
    site: async (name) => {
      const s = await new Site(join(base, name)).start();
      sites.push(s);
      return s;
    },
    dir: () => base,
  };
}

/**
 * The target's credentials: a user allowed on `bucket` only what replication needs (MinIO's replication
 * policy: s3:ReplicateObject, s3:ReplicateDelete, the multipart parts' s3:PutObject, the probe's reads).
 */
export async function allowReplicator(s3: S3Client, bucket: string, more: string[] = []): Promise<void> {
  const who = { AWS: [TARGET_CREDS.accessKey] };
  await s3.send(
    new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: who,
            Action: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:PutObject', ...more],
            Resource: [`arn:aws:s3:::${bucket}/*`],
          },
          {
            Effect: 'Allow',
            Principal: who,
            Action: ['s3:ListBucket', 's3:GetBucketVersioning'],
            Resource: [`arn:aws:s3:::${bucket}`],
          },
        ],
      }),
    }),
  );
}

/** Adds a replication target of `bucket` on `from` (asked by `admin`): its ARN. */
export async function addTarget(
  from: Site,
  bucket: string,
  to: { host: string },
  targetBucket: string,
  creds = ROOT,
  admin = ROOT,
) {
  return remoteTarget(from.url, bucket, to.host, targetBucket, creds, admin);
}

/** The changes `s` replicated to the target `arn` so far (its queue's count). */
export const replicated = (s: Site, arn: string) =>
  s.server.replicationStatus().find((t) => t.arn === arn)?.replicated ?? 0;

/**
 * One source and two targets: three sites named `name`-a, -b, -c, a versioned bucket `name` on A and `name`-b /
 * `name`-c on B and C that TARGET_CREDS may replicate into, and A's targets for them (their ARNs). No rule yet.
 */
export async function fanOut(site: (name: string) => Promise<Site>, name: string) {
  const [a, b, c] = [await site(`${name}-a`), await site(`${name}-b`), await site(`${name}-c`)];
  await versionedBucket(a.client(), name);
  for (const [s, bucket] of [
    [b, `${name}-b`],
    [c, `${name}-c`],
  ] as const) {
    await versionedBucket(s.client(), bucket);
    await allowReplicator(s.client(), bucket);
  }
  const toB = await addTarget(a, name, b, `${name}-b`, TARGET_CREDS);
  const toC = await addTarget(a, name, c, `${name}-c`, TARGET_CREDS);
  return { a, b, c, toB, toC };
}

/** Every version of a bucket (delete markers too), newest first per key, as comparable rows. */
export async function versions(s3: S3Client, Bucket: string) {
  const out = await s3.send(new ListObjectVersionsCommand({ Bucket }));
  const rows = [
    ...(out.Versions ?? []).map((v) => ({
      key: v.Key,
      id: v.VersionId,
      etag: v.ETag,
      size: v.Size,
      time: v.LastModified?.getTime(),
      latest: v.IsLatest,
      marker: false,
    })),
    ...(out.DeleteMarkers ?? []).map((m) => ({
      key: m.Key,
      id: m.VersionId,
      etag: undefined,
      size: undefined,
      time: m.LastModified?.getTime(),
      latest: m.IsLatest,
      marker: true,
    })),
  ];
  return rows.sort((a, b) => `${a.key}\0${a.id}`.localeCompare(`${b.key}\0${b.id}`));
}

export async function body(s3: S3Client, Bucket: string, Key: string, VersionId?: string): Promise<Buffer> {
  const out = await s3.send(new GetObjectCommand({ Bucket, Key, VersionId }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/** `cairn admin ARGS...` against a site, as its root user: stdout (rejects with stderr on failure). */
export function runCli(s: Site, args: string[]): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const p = spawnCairn(['admin', '--endpoint', s.url, ...args], {
      CAIRN_ROOT_USER: ROOT.accessKey,
      CAIRN_ROOT_PASSWORD: ROOT.secretKey,
    });
    let stdout = '';
    let stderr = '';
    p.stdout!.on('data', (d) => (stdout += d));
    p.stderr!.on('data', (d) => (stderr += d));
    p.on('exit', (code) => (code === 0 ? resolve(stdout.trim()) : reject(new Error(stderr))));
  });
}
