// MinIO's realtime metrics (GET /minio/admin/v3/metrics, api/admin/metrics.ts) with the query madmin-go's Metrics()
// sends: the drives (in total and by drive) and the S3 request counts, which move after a known workload; a
// stream of `n` documents, the last one final; admin:ServerInfo; what Cairn does not have is refused.
import { createHash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { adminCall, adminStream, type AdminTarget } from '../../server/src/cli/admin-client.js';
import { ALT, ROOT, startTestServer, startWithBucket, type TestSetup } from '../helpers/cairn.js';

let setup: TestSetup;
const as = (c: { accessKey: string; secretKey: string }): AdminTarget => ({
  endpoint: setup.server.url,
  region: 'us-east-1',
  ...c,
});

interface DiskMetric {
  n_disks: number;
  offline?: number;
  healing?: number;
}
interface ApiStats {
  requests?: number;
  incomingBytes?: number;
  outgoingBytes?: number;
  errors_4xx?: number;
}
interface Realtime {
  collected: string;
  hosts: string[];
  aggregated: { disk?: DiskMetric; api?: { nodes: number; since_start: ApiStats } };
  by_disk?: Record<string, DiskMetric>;
  by_host?: Record<string, unknown>;
  final: boolean;
}

/** madmin-go's query (Metrics with MetricsOptions{Type, N, Interval, ByDisk}). */
const madminQuery = (types: number, n: number, more: Record<string, string> = {}) => ({
  types: String(types),
  n: String(n),
  interval: '1s',
  hosts: '',
  disks: '',
  flags: '0',
  ...more,
});

async function samples(t: AdminTarget, query: Record<string, string>): Promise<Realtime[]> {
  const out: Realtime[] = [];
  for await (const doc of await adminStream(t, { method: 'GET', path: 'metrics', query })) out.push(doc as Realtime);
  return out;
}

async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return (e as Error).message;
  }
}

beforeAll(async () => {
  setup = await startWithBucket('rt-metrics');
});

afterAll(async () => {
  await setup?.server.close();
});

describe('realtime metrics', () => {
  it('gives the drives, in total and one by one, in one final document', async () => {
    const [doc, ...more] = await samples(as(ROOT), madminQuery(2, 1, { 'by-disk': 'true' }));
    expect(more).toEqual([]);
    expect(doc.final).toBe(true);
    expect(doc.hosts).toEqual([new URL(setup.server.url).host]);
    expect(doc.aggregated.disk).toMatchObject({ n_disks: 4, offline: 0, healing: 0 });
    expect(doc.aggregated.api).toBeUndefined();
    expect(Object.keys(doc.by_disk ?? {}).sort()).toEqual([...setup.server.drives].sort());
    expect(doc.by_disk?.[setup.server.drives[0]]).toMatchObject({ n_disks: 1, offline: 0 });
    // A drive filter keeps the drives named.
    const [one] = await samples(as(ROOT), madminQuery(2, 1, { disks: setup.server.drives[1] }));
    expect(one.aggregated.disk?.n_disks).toBe(1);
    expect(one.by_disk).toBeUndefined();
  });

  it('counts the requests and bytes of a known workload', async () => {
    const api = async () => (await samples(as(ROOT), madminQuery(1024, 1)))[0].aggregated.api?.since_start ?? {};
    const before = await api();
    const body = Buffer.alloc(1000, 7);
    for (let i = 0; i < 5; i++)
      await setup.s3.send(new PutObjectCommand({ Bucket: 'rt-metrics', Key: `k${i}`, Body: body }));
    for (let i = 0; i < 3; i++) {
      const got = await setup.s3.send(new GetObjectCommand({ Bucket: 'rt-metrics', Key: `k${i}` }));
      const bytes = Buffer.from(await got.Body!.transformToByteArray());
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(createHash('sha256').update(body).digest('hex'));
    }
    // A request is counted once its answer is out: poll until the eight are in.
    await vi.waitFor(
      async () => {
        const after = await api();
        expect(after.requests ?? 0).toBeGreaterThanOrEqual((before.requests ?? 0) + 8);
        expect(after.incomingBytes ?? 0).toBeGreaterThanOrEqual((before.incomingBytes ?? 0) + 5000);
        expect(after.outgoingBytes ?? 0).toBeGreaterThanOrEqual((before.outgoingBytes ?? 0) + 3000);
      },
      { timeout: 60_000, interval: 200 },
    );
    // All types: both parts, and by host when asked.
    const [all] = await samples(as(ROOT), madminQuery(0, 1, { 'by-host': 'true' }));
    expect(all.aggregated.disk?.n_disks).toBe(4);
    expect(all.aggregated.api?.nodes).toBe(1);
    expect(Object.keys(all.by_host ?? {})).toEqual(all.hosts);
  });

  it('streams n documents an interval apart, the last one final', async () => {
    const docs = await samples(as(ROOT), madminQuery(2, 2));
    expect(docs.map((d) => d.final)).toEqual([false, true]);
    expect(Date.parse(docs[1].collected)).toBeGreaterThan(Date.parse(docs[0].collected));
  });

  it('stops an endless stream when the client goes', async () => {
    const abort = new AbortController();
    const stream = await adminStream(
      as(ROOT),
      { method: 'GET', path: 'metrics', query: madminQuery(2, 0) },
      abort.signal,
    );
    for await (const doc of stream) {
      expect((doc as Realtime).final).toBe(false);
      break;
    }
    abort.abort();
    // The server goes on answering.
    const [doc] = await samples(as(ROOT), madminQuery(2, 1));
    expect(doc.final).toBe(true);
  });

  it('ends the open streams when the server closes (a dashboard left open does not hold a stop)', async () => {
    // A grace period far beyond the test's time: only the stream's end lets the close finish.
    const own = await startTestServer({ shutdownGraceMs: 600_000 });
    const t = { endpoint: own.url, region: 'us-east-1', ...ROOT };
    const docs: Realtime[] = [];
    let firstCame = () => {};
    const first = new Promise<void>((resolve) => {
      firstCame = resolve;
    });
    const stream = await adminStream(t, { method: 'GET', path: 'metrics', query: madminQuery(2, 0) });
    const reading = (async () => {
      for await (const doc of stream) {
        docs.push(doc as Realtime);
        firstCame();
      }
    })();
    await first;
    await own.close();
    await reading;
    expect(docs.length).toBeGreaterThanOrEqual(1);
    expect(docs.every((d) => !d.final)).toBe(true);
  });

  it('refuses users without admin:ServerInfo and what Cairn does not have', async () => {
    expect(await outcome(samples(as(ALT), madminQuery(0, 1)))).toMatch(/403 AccessDenied/);
    const refused = async (more: Record<string, string>) =>
      outcome(samples(as(ROOT), { ...madminQuery(0, 1), ...more }));
    expect(await refused({ types: '1' })).toMatch(/501 NotImplemented/); // Scanner
    expect(await refused({ types: '1026', flags: '1' })).toMatch(/501 NotImplemented/); // DayStats
    expect(await refused({ 'pool-idx': '0' })).toMatch(/501 NotImplemented/);
    expect(await refused({ disks: '::drive-set::0' })).toMatch(/501 NotImplemented/);
    expect(await refused({ types: 'disk' })).toMatch(/400 XMinioAdminInvalidArgument/);
    expect(await outcome(adminCall(as(ROOT), { method: 'POST', path: 'metrics' }))).toMatch(/405 MethodNotAllowed/);
  });
});
