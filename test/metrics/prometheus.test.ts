// The Prometheus endpoints of a real `cairn server` (one process, and two workers): a known workload through
// the AWS SDK, then a scrape parsed by parse-prometheus-text-format (a port of prometheus_client's parser):
// the counts are exactly what was sent, summed over the workers whichever of them answers the scrape; the
// endpoints want the bearer token `cairn admin prometheus generate` prints (of the root, or of a key allowed
// admin:Prometheus), unless the auth type is public.
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { rm } from 'node:fs/promises';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCall } from '../../server/src/cli/admin-client.js';
import { prometheusToken } from '../../server/src/http/metrics-auth.js';
import { s3Error } from '../helpers/cairn.js';
import { spawnCairn } from '../helpers/cli.js';
import { sample, scrape } from '../helpers/prometheus.js';
import { startWorkers, WORKERS_ROOT, type WorkersServer } from '../helpers/workers.js';
import { iamClient } from '../iam/helpers.js';

/** `cairn admin prometheus generate` for this server: its scrape config, and the token in it. */
async function generate(
  server: WorkersServer,
  scope?: string,
  creds: Record<string, string> = {
    CAIRN_ROOT_USER: WORKERS_ROOT.accessKey,
    CAIRN_ROOT_PASSWORD: WORKERS_ROOT.secretKey,
  },
): Promise<{ config: string; token: string }> {
  const child = spawnCairn(
    ['admin', '--endpoint', server.url, 'prometheus', 'generate', ...(scope ? [scope] : [])],
    creds,
  );
  let config = '';
  child.stdout!.on('data', (d) => (config += d));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  expect(code).toBe(0);
  const token = /bearer_token: (\S+)/.exec(config)?.[1];
  expect(token).toBeDefined();
  return { config, token: token! };
}

const SIZE = 1000;
const PUTS = 6;
const GETS = 4;
const MISSING = 3;

describe.each([1, 2])('metrics of a server with %i worker(s)', (workers) => {
  let server: WorkersServer;
  let token: string;
  const slots = Array.from({ length: workers }, (_, i) => i + 1);
  beforeAll(async () => {
    server = await startWorkers(workers);
    token = (await generate(server)).token;
  }, 120_000);
  afterAll(() => server?.close());

  it('counts a known workload exactly, summed over the workers, whichever answers the scrape', async () => {
    const clients: S3Client[] = await Promise.all(slots.map((s) => server.client(s)));
    const on = (i: number) => clients[i % clients.length];
    await clients[0].send(new CreateBucketCommand({ Bucket: 'metered' }));
    const body = Buffer.alloc(SIZE, 'm');
    for (let i = 0; i < PUTS; i++)
      await on(i).send(new PutObjectCommand({ Bucket: 'metered', Key: `k${i}`, Body: body }));
    for (let i = 0; i < GETS; i++) {
      const got = await on(i + 1).send(new GetObjectCommand({ Bucket: 'metered', Key: `k${i}` }));
      expect((await got.Body!.transformToByteArray()).length).toBe(SIZE);
    }
    for (let i = 0; i < MISSING; i++) {
      const err = await s3Error(on(i).send(new GetObjectCommand({ Bucket: 'metered', Key: `missing${i}` })));
      expect(err.name).toBe('NoSuchKey');
    }

    for (const slot of slots) {
      const res = await scrape(server, slot, '/minio/v2/metrics/cluster', token);
      expect(res.status).toBe(200);
      expect(res.worker).toBe(workers > 1 ? String(slot) : undefined);
      expect(res.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
      const m = parsePrometheusTextFormat(res.text);
      expect(m.find((f) => f.name === 'minio_s3_requests_total')?.type).toBe('COUNTER');
      expect(sample(m, 'minio_s3_requests_total', { api: 'putbucket' })).toBe(1);
      expect(sample(m, 'minio_s3_requests_total', { api: 'putobject' })).toBe(PUTS);
      expect(sample(m, 'minio_s3_requests_total', { api: 'getobject' })).toBe(GETS + MISSING);
      expect(sample(m, 'minio_s3_requests_errors_total', { api: 'getobject' })).toBe(MISSING);
      expect(sample(m, 'minio_s3_requests_4xx_errors_total', { api: 'getobject' })).toBe(MISSING);
      expect(sample(m, 'minio_s3_requests_errors_total', { api: 'putobject' })).toBeUndefined();
      expect(sample(m, 'minio_s3_requests_5xx_errors_total', { api: 'getobject' })).toBeUndefined();
      // MinIO's TTFB distribution: cumulative counts by `le` ("%.3f"), every request under +Inf.
      const ttfb = (le: string) => sample(m, 'minio_s3_requests_ttfb_seconds_distribution', { api: 'getobject', le });
      expect(ttfb('+Inf')).toBe(GETS + MISSING);
      expect(ttfb('10.000')).toBeLessThanOrEqual(GETS + MISSING);
      expect(ttfb('0.050')).toBeLessThanOrEqual(ttfb('10.000')!);
      expect(sample(m, 'minio_s3_traffic_received_bytes')).toBe(PUTS * SIZE);
      // GET bodies, and the error documents of the misses.
      const sent = sample(m, 'minio_s3_traffic_sent_bytes')!;
      expect(sent).toBeGreaterThan(GETS * SIZE);
      expect(sent).toBeLessThan(GETS * SIZE + MISSING * 1000);
      expect(sample(m, 'minio_node_process_uptime_seconds')).toBeGreaterThan(0);
      expect(sample(m, 'process_resident_memory_bytes')).toBeGreaterThan(0);
      // MinIO's `server` label on every sample: the node's host:port (the parser keeps no histogram labels).
      const labelled = m.filter((f) => f.type !== 'HISTOGRAM');
      const servers = new Set(labelled.flatMap((f) => (f.metrics ?? []).map((x) => x.labels?.server)));
      expect([...servers]).toEqual([new URL(server.url).host]);
      expect(sample(m, 'minio_cluster_drive_total')).toBe(4);
      expect(sample(m, 'minio_cluster_drive_online_total')).toBe(4);
      expect(sample(m, 'minio_cluster_drive_offline_total')).toBe(0);
      const rawTotal = sample(m, 'minio_cluster_capacity_raw_total_bytes')!;
      const usableTotal = sample(m, 'minio_cluster_capacity_usable_total_bytes')!;
      const usableFree = sample(m, 'minio_cluster_capacity_usable_free_bytes')!;
      expect(rawTotal).toBeGreaterThan(0);
      expect(usableTotal).toBeLessThan(rawTotal);
      expect(usableFree).toBeGreaterThan(0);
      expect(usableFree).toBeLessThanOrEqual(usableTotal);
      // MinIO's cluster health: one set of 4 drives, parity 2 (read quorum 2, write quorum 3), all online.
      const set = { pool: '0', set: '0' };
      expect(sample(m, 'minio_cluster_health_status')).toBe(1);
      expect(sample(m, 'minio_cluster_write_quorum')).toBe(3);
      expect(sample(m, 'minio_cluster_health_erasure_set_status', set)).toBe(1);
      expect(sample(m, 'minio_cluster_health_erasure_set_online_drives', set)).toBe(4);
      expect(sample(m, 'minio_cluster_health_erasure_set_read_quorum', set)).toBe(2);
      expect(sample(m, 'minio_cluster_health_erasure_set_write_quorum', set)).toBe(3);
      expect(sample(m, 'minio_cluster_health_erasure_set_healing_drives', set)).toBe(0);
    }

    const node = parsePrometheusTextFormat((await scrape(server, 1, '/minio/v2/metrics/node', token)).text);
    expect(sample(node, 'minio_s3_requests_total', { api: 'putobject' })).toBe(PUTS);
    expect(sample(node, 'minio_node_drive_total')).toBe(4);
    // Each drive's file system, by its path (MinIO's node dashboard).
    for (const drive of server.drives) {
      const total = sample(node, 'minio_node_drive_total_bytes', { drive })!;
      const used = sample(node, 'minio_node_drive_used_bytes', { drive })!;
      const free = sample(node, 'minio_node_drive_free_bytes', { drive })!;
      expect(total).toBeGreaterThan(0);
      expect(used + free).toBeLessThanOrEqual(total);
      expect(free).toBeGreaterThan(0);
    }
    // The process's memory, CPU, start time and descriptors (MinIO's dashboard panels).
    const started = sample(node, 'minio_node_process_starttime_seconds')!;
    expect(started).toBeLessThanOrEqual(Date.now() / 1000 + 1);
    expect(started).toBeGreaterThan(Date.now() / 1000 - 600);
    expect(sample(node, 'minio_node_process_resident_memory_bytes')).toBeGreaterThan(20 * 1024 * 1024);
    expect(sample(node, 'minio_node_process_cpu_total_seconds')).toBeGreaterThan(0);
    expect(sample(node, 'minio_node_file_descriptor_open_total')).toBeGreaterThan(server.drives.length);
  });

  it('the bucket endpoint: requests, errors, TTFB, traffic and usage per bucket; the others leave them out', async () => {
    const clients: S3Client[] = await Promise.all(slots.map((s) => server.client(s)));
    const on = (i: number) => clients[i % clients.length];
    for (const Bucket of ['per-a', 'per-b', 'per-gone']) await on(0).send(new CreateBucketCommand({ Bucket }));
    const big = Buffer.alloc(2 * 1024 * 1024, 'b');
    await on(0).send(new PutObjectCommand({ Bucket: 'per-a', Key: 'small', Body: Buffer.alloc(SIZE, 'a') }));
    await on(1).send(new PutObjectCommand({ Bucket: 'per-a', Key: 'big', Body: big }));
    await on(1).send(new PutObjectCommand({ Bucket: 'per-b', Key: 'x', Body: Buffer.alloc(10, 'x') }));
    const got = await on(0).send(new GetObjectCommand({ Bucket: 'per-a', Key: 'small' }));
    expect((await got.Body!.transformToByteArray()).length).toBe(SIZE);
    expect((await s3Error(on(1).send(new GetObjectCommand({ Bucket: 'per-a', Key: 'nope' })))).name).toBe('NoSuchKey');
    // Buckets that do not exist make no series; a bucket deleted is forgotten.
    for (let i = 0; i < 3; i++)
      expect((await s3Error(on(i).send(new GetObjectCommand({ Bucket: `no-such-${i}`, Key: 'k' })))).name).toBe(
        'NoSuchBucket',
      );
    await on(0).send(new PutObjectCommand({ Bucket: 'per-gone', Key: 'k', Body: 'g' }));
    await on(0).send(new DeleteObjectCommand({ Bucket: 'per-gone', Key: 'k' }));
    for (const c of clients) await c.send(new DeleteBucketCommand({ Bucket: 'per-gone' })).catch(() => {});

    // A hard quota on per-b (cairn admin quota set, MinIO's set-bucket-quota).
    const admin = { endpoint: server.url, region: 'us-east-1', ...WORKERS_ROOT };
    const quota = { size: 5 * 1024 * 1024, quotatype: 'hard' };
    await adminCall(admin, { method: 'PUT', path: 'set-bucket-quota', query: { bucket: 'per-b' }, body: quota });

    const res = await scrape(server, 1, '/minio/v2/metrics/bucket', token);
    expect(res.status).toBe(200);
    const m = parsePrometheusTextFormat(res.text);
    const of = (name: string, labels: Record<string, string>) => sample(m, name, labels);
    expect(of('minio_bucket_requests_total', { bucket: 'per-a', api: 'putobject' })).toBe(2);
    expect(of('minio_bucket_requests_total', { bucket: 'per-a', api: 'getobject' })).toBe(2);
    expect(of('minio_bucket_requests_4xx_errors_total', { bucket: 'per-a', api: 'getobject' })).toBe(1);
    expect(of('minio_bucket_requests_4xx_errors_total', { bucket: 'per-a', api: 'putobject' })).toBeUndefined();
    expect(of('minio_bucket_requests_total', { bucket: 'per-b', api: 'putobject' })).toBe(1);
    expect(
      of('minio_bucket_requests_ttfb_seconds_distribution', { bucket: 'per-a', api: 'getobject', le: '+Inf' }),
    ).toBe(2);
    expect(of('minio_bucket_traffic_received_bytes', { bucket: 'per-a' })).toBe(SIZE + big.length);
    expect(of('minio_bucket_traffic_received_bytes', { bucket: 'per-b' })).toBe(10);
    const sentA = of('minio_bucket_traffic_sent_bytes', { bucket: 'per-a' })!;
    expect(sentA).toBeGreaterThan(SIZE);
    expect(sentA).toBeLessThan(SIZE + 1000);
    const buckets = new Set(
      m.flatMap((f) => (f.metrics ?? []).map((x) => x.labels?.bucket)).filter((b) => b !== undefined),
    );
    expect([...buckets].filter((b) => b.startsWith('no-such') || b === 'per-gone')).toEqual([]);
    // Usage from the data usage walk, and MinIO's size ranges of the objects.
    expect(of('minio_bucket_usage_total_bytes', { bucket: 'per-a' })).toBe(SIZE + big.length);
    expect(of('minio_bucket_usage_object_total', { bucket: 'per-a' })).toBe(2);
    expect(of('minio_bucket_usage_version_total', { bucket: 'per-a' })).toBe(2);
    expect(of('minio_bucket_usage_deletemarker_total', { bucket: 'per-a' })).toBe(0);
    expect(of('minio_bucket_usage_quota_total_bytes', { bucket: 'per-b' })).toBe(5 * 1024 * 1024);
    expect(of('minio_bucket_usage_quota_total_bytes', { bucket: 'per-a' })).toBeUndefined();
    // The usage's age: counted for this scrape or within the minute before it.
    const age = sample(m, 'minio_bucket_usage_last_activity_nano_seconds')!;
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(61e9);
    const range = (bucket: string, r: string) => of('minio_bucket_objects_size_distribution', { bucket, range: r });
    expect(range('per-a', 'LESS_THAN_1024_B')).toBe(1); // SIZE: 1,000 bytes
    expect(range('per-a', 'BETWEEN_1024B_AND_1_MB')).toBe(0);
    expect(range('per-a', 'BETWEEN_1_MB_AND_10_MB')).toBe(1);
    expect(range('per-b', 'LESS_THAN_1024_B')).toBe(1);
    // The bucket endpoint has only bucket series; the cluster endpoint none of them.
    expect(m.map((f) => f.name).filter((n) => !/^(minio|cairn)_bucket_/.test(n))).toEqual([]);
    const cluster = await scrape(server, slots.length, '/minio/v2/metrics/cluster', token);
    expect(cluster.text).not.toContain('minio_bucket_requests_total');
    expect(cluster.text).toContain('minio_s3_requests_total');
  });

  it("labels operations with MinIO's api names where its handlers are named otherwise", async () => {
    const s3 = await server.client(slots.length);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'metered', Key: 'mp' }));
    const part = await s3.send(
      new UploadPartCommand({ Bucket: 'metered', Key: 'mp', UploadId, PartNumber: 1, Body: Buffer.alloc(SIZE) }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'metered',
        Key: 'mp',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    await s3.send(new DeleteObjectsCommand({ Bucket: 'metered', Delete: { Objects: [{ Key: 'mp' }, { Key: 'k0' }] } }));
    const m = parsePrometheusTextFormat((await scrape(server, 1, '/minio/v2/metrics/cluster', token)).text);
    // Grafana dashboards made for MinIO query these names (cmd/api-router.go's handlers, in lower case).
    expect(sample(m, 'minio_s3_requests_total', { api: 'newmultipartupload' })).toBe(1);
    expect(sample(m, 'minio_s3_requests_total', { api: 'putobjectpart' })).toBe(1);
    expect(sample(m, 'minio_s3_requests_total', { api: 'completemultipartupload' })).toBe(1);
    expect(sample(m, 'minio_s3_requests_total', { api: 'deletemultipleobjects' })).toBe(1);
    expect(sample(m, 'minio_s3_requests_total', { api: 'createmultipartupload' })).toBeUndefined();
    expect(sample(m, 'minio_s3_requests_total', { api: 'uploadpart' })).toBeUndefined();
  });

  it('refuses a scrape without a token, or with a wrong or forged one', async () => {
    // The token with the first character of its signature changed.
    const at = token.lastIndexOf('.') + 1;
    const forged = token.slice(0, at) + (token[at] === 'A' ? 'B' : 'A') + token.slice(at + 1);
    for (const bad of [undefined, 'not-a-jwt', forged]) {
      const res = await scrape(server, 1, '/minio/v2/metrics/cluster', bad);
      expect(res.status).toBe(403);
      expect(JSON.parse(res.text).Code).toBe('AccessDenied');
      expect(res.text).not.toContain('minio_s3_requests_total');
    }
    // A token signed with another secret, for the root's access key.
    const child = spawnCairn(['admin', '--endpoint', server.url, 'prometheus', 'generate'], {
      CAIRN_ROOT_USER: WORKERS_ROOT.accessKey,
      CAIRN_ROOT_PASSWORD: 'some-other-secret',
    });
    let config = '';
    child.stdout!.on('data', (d) => (config += d));
    await new Promise((resolve) => child.once('exit', resolve));
    const otherSecret = /bearer_token: (\S+)/.exec(config)![1];
    expect((await scrape(server, 1, '/minio/v2/metrics/node', otherSecret)).status).toBe(403);
  });

  it('takes tokens of IAM users allowed admin:Prometheus, each checked with its own secret', async () => {
    const iam = iamClient(server.url, { accessKeyId: WORKERS_ROOT.accessKey, secretAccessKey: WORKERS_ROOT.secretKey });
    const keyOf = async (UserName: string, Action: string) => {
      await iam.send(new CreateUserCommand({ UserName }));
      const Statement = [{ Effect: 'Allow', Action, Resource: 'arn:aws:s3:::*' }];
      const PolicyDocument = JSON.stringify({ Version: '2012-10-17', Statement });
      await iam.send(new PutUserPolicyCommand({ UserName, PolicyName: 'p', PolicyDocument }));
      const k = (await iam.send(new CreateAccessKeyCommand({ UserName }))).AccessKey!;
      return { accessKey: k.AccessKeyId!, secretKey: k.SecretAccessKey! };
    };
    const scraper = await keyOf('scraper', 'admin:Prometheus');
    const reader = await keyOf('reader', 's3:GetObject');
    // The scraper's token as its own `cairn admin prometheus generate` prints it: good on every worker.
    const { token: scraperToken } = await generate(server, undefined, {
      CAIRN_ACCESS_KEY: scraper.accessKey,
      CAIRN_SECRET_KEY: scraper.secretKey,
    });
    for (const slot of slots) {
      const res = await scrape(server, slot, '/minio/v2/metrics/cluster', scraperToken);
      expect(res.status).toBe(200);
      expect(res.text).toContain('minio_s3_requests_total');
    }
    // A user without admin:Prometheus; the scraper's name signed with another user's secret; an unknown key.
    const refused = [
      await prometheusToken(reader),
      await prometheusToken({ accessKey: scraper.accessKey, secretKey: reader.secretKey }),
      await prometheusToken({ accessKey: 'NOSUCHKEY', secretKey: scraper.secretKey }),
    ];
    for (const t of refused) expect((await scrape(server, 1, '/minio/v2/metrics/cluster', t)).status).toBe(403);
    // A key made inactive stops scraping.
    await iam.send(
      new UpdateAccessKeyCommand({ UserName: 'scraper', AccessKeyId: scraper.accessKey, Status: 'Inactive' }),
    );
    for (const slot of slots)
      expect((await scrape(server, slot, '/minio/v2/metrics/cluster', scraperToken)).status).toBe(403);
  });

  it('prints a scrape config for the node endpoint too', async () => {
    const { config, token: nodeToken } = await generate(server, 'node');
    expect(config).toContain('metrics_path: /minio/v2/metrics/node');
    expect(config).toContain(`targets: ['${new URL(server.url).host}']`);
    expect((await scrape(server, 1, '/minio/v2/metrics/node', nodeToken)).status).toBe(200);
  });

  it('counts a drive whose folder is gone as offline', async () => {
    await rm(server.drives[3], { recursive: true, force: true });
    const m = parsePrometheusTextFormat((await scrape(server, slots.length, '/minio/v2/metrics/cluster', token)).text);
    expect(sample(m, 'minio_cluster_drive_total')).toBe(4);
    expect(sample(m, 'minio_cluster_drive_online_total')).toBe(3);
    expect(sample(m, 'minio_cluster_drive_offline_total')).toBe(1);
    // Still the write quorum (3 of 4): healthy, one drive fewer online.
    expect(sample(m, 'minio_cluster_health_erasure_set_online_drives', { pool: '0', set: '0' })).toBe(3);
    expect(sample(m, 'minio_cluster_health_status')).toBe(1);
    // A second drive gone: below the write quorum, unhealthy, as /minio/health/cluster says.
    await rm(server.drives[2], { recursive: true, force: true });
    await expect
      .poll(async () => {
        const after = parsePrometheusTextFormat((await scrape(server, 1, '/minio/v2/metrics/cluster', token)).text);
        return [sample(after, 'minio_cluster_health_status'), sample(after, 'minio_cluster_drive_offline_total')];
      })
      .toEqual([0, 2]);
    expect((await fetch(`${server.url}/minio/health/cluster`)).status).toBe(503);
  });
});

describe('metrics with CAIRN_PROMETHEUS_AUTH_TYPE', () => {
  it('public: open to a scrape without a token', async () => {
    const server = await startWorkers(1, { CAIRN_PROMETHEUS_AUTH_TYPE: 'public' });
    try {
      const res = await scrape(server, 1, '/minio/v2/metrics/cluster');
      expect(res.status).toBe(200);
      expect(sample(parsePrometheusTextFormat(res.text), 'minio_cluster_drive_total')).toBe(4);
    } finally {
      await server.close();
    }
  }, 60_000);

  it('any other value: the server does not start', async () => {
    const child = spawnCairn(['server', '--workers', '2', '--address', '127.0.0.1:0', '/nonexistent-cairn-drive'], {
      CAIRN_PROMETHEUS_AUTH_TYPE: 'open',
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain('CAIRN_PROMETHEUS_AUTH_TYPE must be jwt or public');
  });
});
