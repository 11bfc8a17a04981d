// MinIO's admin API for operating the server (api/admin) against a real server: info and data usage after a
// known setup, field by field; each call behind its admin: action; a live trace of another client's requests
// that never shows its credentials; top locks; service refused where the server cannot restart.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  CreateBucketCommand,
  HeadObjectCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { adminCall, adminStream, type AdminTarget } from '../../server/src/cli/admin-client.js';
import { ALT, ROOT, startTestServer, startWithBucket, type TestSetup } from '../helpers/cairn.js';

let setup: TestSetup;
let root: AdminTarget;
const as = (c: { accessKey: string; secretKey: string }): AdminTarget => ({
  endpoint: setup.server.url,
  region: 'us-east-1',
  ...c,
});

interface Drive {
  path: string;
  state: string;
  set_index: number;
  disk_index: number;
  uuid: string;
  totalspace: number;
  usedspace: number;
  availspace: number;
}
interface Info {
  mode: string;
  region: string;
  deploymentID: string;
  buckets: unknown;
  objects: unknown;
  versions: unknown;
  deletemarkers: unknown;
  usage: unknown;
  backend: unknown;
  servers: { endpoint: string; state: string; version: string; uptime: number; drives: Drive[] }[];
  pools: Record<string, Record<string, unknown>>;
}
interface Usage {
  bucketsCount: number;
  objectsCount: number;
  versionsCount: number;
  deleteMarkersCount: number;
  objectsTotalSize: number;
  bucketsUsageInfo: unknown;
  bucketsSizes: unknown;
  partial?: boolean;
  capacity: number;
  freeCapacity: number;
  usedCapacity: number;
  lastUpdate: string;
}

/** The admin error a call fails with (`path: status Code: message`), or 'ok'. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return (e as Error).message;
  }
}

beforeAll(async () => {
  setup = await startWithBucket('usage-data');
  root = as(ROOT);
  const { s3 } = setup;
  await s3.send(
    new PutBucketVersioningCommand({ Bucket: 'usage-data', VersioningConfiguration: { Status: 'Enabled' } }),
  );
  // usage-data: k1 in two versions (5 + 7 bytes), k2 (3 bytes) under a delete marker; usage-empty: nothing.
  await s3.send(new PutObjectCommand({ Bucket: 'usage-data', Key: 'k1', Body: 'first' }));
  await s3.send(new PutObjectCommand({ Bucket: 'usage-data', Key: 'k1', Body: 'second!' }));
  await s3.send(new PutObjectCommand({ Bucket: 'usage-data', Key: 'k2', Body: 'abc' }));
  await s3.send(new DeleteObjectCommand({ Bucket: 'usage-data', Key: 'k2' }));
  await s3.send(new CreateBucketCommand({ Bucket: 'usage-empty' }));
});
afterAll(async () => setup.server.close());

describe('info (madmin.InfoMessage)', () => {
  it('gives the counts, the erasure backend and every drive', async () => {
    const info = (await adminCall(root, { method: 'GET', path: 'info' })) as Info;
    const pkg = JSON.parse(await readFile(join(import.meta.dirname, '../../server/package.json'), 'utf8'));
    const format = JSON.parse(await readFile(join(setup.server.drives[0], '.cairn.sys', 'format.json'), 'utf8'));
    expect(info.mode).toBe('online');
    expect(info.region).toBe('us-east-1');
    expect(info.deploymentID).toBe(format.deploymentId);
    expect(info.buckets).toEqual({ count: 2 });
    expect(info.objects).toEqual({ count: 1 });
    expect(info.versions).toEqual({ count: 3 });
    expect(info.deletemarkers).toEqual({ count: 1 });
    expect(info.usage).toEqual({ size: 15 });
    expect(info.backend).toEqual({
      backendType: 'Erasure',
      onlineDisks: 4,
      offlineDisks: 0,
      standardSCParity: 2,
      rrSCParity: 1,
      totalSets: [1],
      totalDrivesPerSet: [4],
    });
    expect(info.servers).toHaveLength(1);
    const server = info.servers[0];
    expect(server.endpoint).toBe(new URL(setup.server.url).host);
    expect(server.state).toBe('online');
    expect(server.version).toBe(pkg.version);
    expect(server.uptime).toBeGreaterThanOrEqual(0);
    expect(server.drives.map((d) => [d.path, d.state, d.set_index, d.disk_index])).toEqual(
      setup.server.drives.map((p, i) => [p, 'ok', 0, i]),
    );
    for (const d of server.drives) {
      expect(d.uuid).toMatch(/^[0-9a-f-]{36}$/);
      expect(d.totalspace).toBeGreaterThan(0);
      expect(d.usedspace).toBeGreaterThan(0);
      expect(d.availspace).toBeLessThanOrEqual(d.totalspace - d.usedspace);
    }
    expect(info.pools[0][0]).toMatchObject({ id: 0, healDisks: 0 });
  });

  it('data usage per bucket, with the usable capacity when asked', async () => {
    const u = (await adminCall(root, {
      method: 'GET',
      path: 'datausageinfo',
      query: { capacity: 'true' },
    })) as Usage;
    expect(u.bucketsCount).toBe(2);
    expect(u.objectsCount).toBe(1);
    expect(u.versionsCount).toBe(3);
    expect(u.deleteMarkersCount).toBe(1);
    expect(u.objectsTotalSize).toBe(15);
    // MinIO's size ranges: the one object (its latest version) is under 1 KiB.
    const histogram = (small: number) => ({
      LESS_THAN_1024_B: small,
      BETWEEN_1024B_AND_1_MB: 0,
      BETWEEN_1_MB_AND_10_MB: 0,
      BETWEEN_10_MB_AND_64_MB: 0,
      BETWEEN_64_MB_AND_128_MB: 0,
      BETWEEN_128_MB_AND_512_MB: 0,
      GREATER_THAN_512_MB: 0,
    });
    expect(u.bucketsUsageInfo).toEqual({
      'usage-data': {
        size: 15,
        objectsCount: 1,
        versionsCount: 3,
        deleteMarkersCount: 1,
        objectsSizesHistogram: histogram(1),
      },
      'usage-empty': {
        size: 0,
        objectsCount: 0,
        versionsCount: 0,
        deleteMarkersCount: 0,
        objectsSizesHistogram: histogram(0),
      },
    });
    expect(u.bucketsSizes).toEqual({ 'usage-data': 15, 'usage-empty': 0 });
    expect(u.partial).toBeUndefined();
    expect(u.capacity).toBeGreaterThan(0);
    expect(u.usedCapacity).toBe(u.capacity - u.freeCapacity);
    expect(Date.parse(u.lastUpdate)).not.toBeNaN();
    const plain = (await adminCall(root, { method: 'GET', path: 'datausageinfo' })) as Record<string, unknown>;
    expect(plain.capacity).toBeUndefined();
  });
});

describe('authorization', () => {
  it('a user without the admin actions is refused every call; a policy grants exactly one', async () => {
    const alt = as(ALT);
    const calls = [
      { method: 'GET', path: 'info' },
      { method: 'GET', path: 'datausageinfo' },
      { method: 'GET', path: 'trace' },
      { method: 'GET', path: 'top/locks' },
      { method: 'POST', path: 'service', query: { action: 'restart' } },
      { method: 'POST', path: 'service', query: { action: 'stop' } },
    ] as const;
    for (const c of calls) expect(await outcome(adminCall(alt, c))).toMatch(/: 403 AccessDenied: /);
    // An IAM user allowed admin:ServerInfo only.
    await adminCall(root, {
      method: 'PUT',
      path: 'add-user',
      query: { accessKey: 'infoonly' },
      body: { secretKey: 'info-only-secret', status: 'enabled' },
      encrypt: true,
    });
    const doc = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['admin:ServerInfo'], Resource: ['arn:aws:s3:::*'] }],
    };
    await adminCall(root, { method: 'PUT', path: 'add-canned-policy', query: { name: 'info-only' }, body: doc });
    await adminCall(root, {
      method: 'PUT',
      path: 'set-user-or-group-policy',
      query: { userOrGroup: 'infoonly', isGroup: 'false', policyName: 'info-only' },
    });
    const infoOnly = as({ accessKey: 'infoonly', secretKey: 'info-only-secret' });
    expect(await outcome(adminCall(infoOnly, { method: 'GET', path: 'info' }))).toBe('ok');
    expect(await outcome(adminCall(infoOnly, { method: 'GET', path: 'datausageinfo' }))).toMatch(/403 AccessDenied/);
    expect(await outcome(adminCall(infoOnly, { method: 'POST', path: 'service', query: { action: 'stop' } }))).toMatch(
      /403 AccessDenied/,
    );
  });

  it('bad arguments get the admin API errors', async () => {
    expect(await outcome(adminCall(root, { method: 'POST', path: 'service', query: { action: 'reboot' } }))).toMatch(
      /400 XMinioAdminInvalidArgument/,
    );
    expect(await outcome(adminCall(root, { method: 'POST', path: 'service', query: { action: 'freeze' } }))).toMatch(
      /501 NotImplemented/,
    );
    expect(await outcome(adminCall(root, { method: 'PUT', path: 'info' }))).toMatch(/405 MethodNotAllowed/);
    expect(await outcome(adminCall(root, { method: 'GET', path: 'top/locks', query: { count: 'x' } }))).toMatch(
      /400 XMinioAdminInvalidArgument/,
    );
    expect(await outcome(adminCall(root, { method: 'GET', path: 'trace', query: { threshold: '5 parsecs' } }))).toMatch(
      /400 XMinioAdminInvalidArgument/,
    );
    // Started in-process (not by `cairn server`): nothing to restart it, and it says so (and keeps serving).
    expect(await outcome(adminCall(root, { method: 'POST', path: 'service', query: { action: 'restart' } }))).toMatch(
      /501 NotImplemented/,
    );
    await setup.s3.send(new HeadObjectCommand({ Bucket: 'usage-data', Key: 'k1' }));
  });
});

type Entry = {
  funcname: string;
  path: string;
  dur: number;
  http: {
    request: { method: string; rawquery?: string; headers: Record<string, string[]> };
    response: { statuscode: number };
    stats: { inputbytes: number; outputbytes: number };
  };
};

/** Reads a trace until `done` says it has seen enough; the entries read. */
async function readTrace(entries: AsyncIterable<unknown>, done: (seen: Entry[]) => boolean): Promise<Entry[]> {
  const seen: Entry[] = [];
  for await (const e of entries) {
    seen.push(e as Entry);
    if (done(seen)) break;
  }
  return seen;
}

describe('trace', () => {
  it('ends when the server closes (a trace left open does not hold a stop)', async () => {
    // A grace period far beyond the test's time: only the trace's end lets the close finish.
    const own = await startTestServer({ shutdownGraceMs: 600_000 });
    const entries = await adminStream(
      { endpoint: own.url, region: 'us-east-1', ...ROOT },
      { method: 'GET', path: 'trace' },
    );
    const reading = (async () => {
      const seen: unknown[] = [];
      for await (const e of entries) seen.push(e);
      return seen;
    })();
    await own.close();
    expect(await reading).toEqual([]);
  });

  it("shows another client's requests as they are answered, without their credentials", async () => {
    const stop = new AbortController();
    const entries = await adminStream(root, { method: 'GET', path: 'trace', query: { s3: 'true' } }, stop.signal);
    await setup.alt.send(new PutObjectCommand({ Bucket: 'usage-data', Key: 'alt/none', Body: 'x' })).catch(() => {});
    await setup.s3.send(new PutObjectCommand({ Bucket: 'usage-data', Key: 'traced key', Body: 'twelve bytes' }));
    const url = await getSignedUrl(setup.s3, new GetObjectCommand({ Bucket: 'usage-data', Key: 'traced key' }), {
      expiresIn: 600,
    });
    expect(await (await fetch(url)).text()).toBe('twelve bytes');
    const signature = new URL(url).searchParams.get('X-Amz-Signature')!;
    const seen = await readTrace(entries, (s) => s.some((e) => e.http.request.rawquery?.includes('X-Amz-Signature')));
    stop.abort();
    const put = seen.find((e) => e.funcname === 's3.PutObject' && e.path === '/usage-data/traced key')!;
    expect(put.http.request.method).toBe('PUT');
    expect(put.http.response.statuscode).toBe(200);
    expect(put.http.stats.inputbytes).toBeGreaterThanOrEqual(12);
    expect(put.dur).toBeGreaterThan(0);
    expect(put.http.request.headers.authorization).toEqual(['*REDACTED*']);
    const denied = seen.find((e) => e.path === '/usage-data/alt/none')!;
    expect(denied.http.response.statuscode).toBe(403);
    const get = seen.find((e) => e.funcname === 's3.GetObject')!;
    expect(get.http.stats.outputbytes).toBe(12);
    expect(get.http.request.rawquery).toContain('X-Amz-Signature=*REDACTED*');
    expect(get.http.request.rawquery).toContain('X-Amz-Credential=*REDACTED*');
    const text = JSON.stringify(seen);
    expect(text).not.toContain(signature);
    expect(text).not.toContain(ROOT.secretKey);
    expect(text).not.toContain(ALT.secretKey);
    expect(text).not.toMatch(/Signature=[0-9a-f]{64}/);
  });

  it('filters: errors only, and a path prefix', async () => {
    const stop = new AbortController();
    const errors = await adminStream(root, { method: 'GET', path: 'trace', query: { err: 'true' } }, stop.signal);
    const prefixed = await adminStream(
      root,
      { method: 'GET', path: 'trace', query: { path: '/usage-empty/' } },
      stop.signal,
    );
    await setup.s3.send(new PutObjectCommand({ Bucket: 'usage-data', Key: 'ok', Body: 'x' }));
    await setup.s3.send(new GetObjectCommand({ Bucket: 'usage-data', Key: 'missing' })).catch(() => {});
    await setup.s3.send(new PutObjectCommand({ Bucket: 'usage-empty', Key: 'p', Body: 'x' }));
    const errs = await readTrace(errors, (s) => s.some((e) => e.path === '/usage-data/missing'));
    const under = await readTrace(prefixed, (s) => s.some((e) => e.path === '/usage-empty/p'));
    stop.abort();
    expect(errs.every((e) => e.http.response.statuscode >= 400)).toBe(true);
    expect(errs.find((e) => e.path === '/usage-data/missing')!.http.response.statuscode).toBe(404);
    expect(under.every((e) => e.path.startsWith('/usage-empty/'))).toBe(true);
  });
});

describe('top locks', () => {
  it('answers madmin.LockEntries (none held by an idle server)', async () => {
    // A write keeps its object's lock until its listing-journal lines are written, a moment after it answered:
    // the previous test's last PUT may still hold one.
    await vi.waitFor(
      async () =>
        expect(await adminCall(root, { method: 'GET', path: 'top/locks', query: { count: '5' } })).toEqual([]),
      { timeout: 30_000, interval: 100 },
    );
  });
});
