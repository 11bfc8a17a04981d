// The cluster usage series of the Prometheus cluster endpoint (MinIO's minio_cluster_usage_object_total,
// _version_total, _deletemarker_total, _total_bytes, minio_cluster_bucket_total, the size distribution and
// minio_usage_last_activity_nano_seconds) on a real `cairn server` of one process and of two workers. They come
// from the last data usage count, made after each scanner cycle by the leader (or for an admin call): a scrape
// never starts one. After a known workload the test waits for a count made after it, then checks the figures;
// it then changes the data and waits for the next count.
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { adminCall } from '../../server/src/cli/admin-client.js';
import { prometheusToken } from '../../server/src/http/metrics-auth.js';
import { sample, scrape } from '../helpers/prometheus.js';
import { startWorkers, WORKERS_ROOT, type WorkersServer } from '../helpers/workers.js';

const USAGE = [
  'minio_usage_last_activity_nano_seconds',
  'minio_cluster_usage_total_bytes',
  'minio_cluster_usage_object_total',
  'minio_cluster_usage_version_total',
  'minio_cluster_usage_deletemarker_total',
  'minio_cluster_bucket_total',
  'minio_cluster_objects_size_distribution',
];

async function cluster(server: WorkersServer, slot: number, token: string): Promise<ParsedFamily[]> {
  const res = await scrape(server, slot, '/minio/v2/metrics/cluster', token);
  expect(res.status).toBe(200);
  return parsePrometheusTextFormat(res.text);
}

/** When the usage behind a scrape was counted (ms since the epoch), from its age; undefined: none shown. */
function countedAt(m: ParsedFamily[], scrapedAt: number): number | undefined {
  const age = sample(m, 'minio_usage_last_activity_nano_seconds');
  return age === undefined ? undefined : scrapedAt - age / 1e6;
}

/**
 * Waits until every worker's scrape shows a usage count made after `after` for which `check` holds (a count
 * that began before the last change may end after it: the next one has it).
 */
async function countAfter(
  server: WorkersServer,
  slots: number[],
  token: string,
  after: number,
  check: (m: ParsedFamily[]) => void,
): Promise<void> {
  await vi.waitFor(
    async () => {
      for (const slot of slots) {
        const at = Date.now();
        const m = await cluster(server, slot, token);
        expect(countedAt(m, at)).toBeGreaterThan(after);
        check(m);
      }
    },
    { timeout: 60_000, interval: 250 },
  );
}

describe.each([1, 2])('cluster usage metrics of a server with %i worker(s)', (workers) => {
  const slots = Array.from({ length: workers }, (_, i) => i + 1);

  describe('scanner at its default pace (no cycle yet)', () => {
    let server: WorkersServer;
    let token: string;
    beforeAll(async () => {
      server = await startWorkers(workers);
      token = await prometheusToken(WORKERS_ROOT);
    }, 120_000);
    afterAll(() => server?.close());

    it('a scrape starts no usage count: the series appear once an admin call has counted', async () => {
      const s3 = await server.client(1);
      await s3.send(new CreateBucketCommand({ Bucket: 'uncounted' }));
      await s3.send(new PutObjectCommand({ Bucket: 'uncounted', Key: 'k', Body: 'x' }));
      for (let i = 0; i < 2; i++)
        for (const slot of slots) {
          const names = (await cluster(server, slot, token)).map((f) => f.name);
          expect(names).toContain('minio_s3_requests_total');
          expect(names.filter((n) => USAGE.includes(n))).toEqual([]);
        }
      const before = Date.now();
      const target = { endpoint: server.url, region: 'us-east-1', ...WORKERS_ROOT };
      await adminCall(target, { method: 'GET', path: 'datausageinfo' });
      // Whichever worker counted, every worker's scrape shows that count.
      await countAfter(server, slots, token, before, (m) => {
        expect(sample(m, 'minio_cluster_usage_object_total')).toBe(1);
        expect(sample(m, 'minio_cluster_bucket_total')).toBe(1);
      });
    });
  });

  describe('scanner at CAIRN_SCANNER_SPEED=fastest', () => {
    let server: WorkersServer;
    let token: string;
    let clients: S3Client[];
    beforeAll(async () => {
      server = await startWorkers(workers, { CAIRN_SCANNER_SPEED: 'fastest' });
      token = await prometheusToken(WORKERS_ROOT);
      clients = await Promise.all(slots.map((s) => server.client(s)));
    }, 120_000);
    afterAll(() => server?.close());

    it('counts objects, versions, delete markers, bytes and buckets after each scanner cycle', async () => {
      const on = (i: number) => clients[i % clients.length];
      for (const Bucket of ['plain', 'versioned', 'empty']) await on(0).send(new CreateBucketCommand({ Bucket }));
      await on(0).send(
        new PutBucketVersioningCommand({ Bucket: 'versioned', VersioningConfiguration: { Status: 'Enabled' } }),
      );
      const big = 2 * 1024 * 1024;
      await on(0).send(new PutObjectCommand({ Bucket: 'plain', Key: 'small', Body: Buffer.alloc(1000, 's') }));
      await on(1).send(new PutObjectCommand({ Bucket: 'plain', Key: 'big', Body: Buffer.alloc(big, 'b') }));
      await on(1).send(new PutObjectCommand({ Bucket: 'plain', Key: 'kb', Body: Buffer.alloc(2000, 'k') }));
      // Two versions of v (100 + 50 bytes), then a delete marker over it; w stays (10 bytes).
      await on(0).send(new PutObjectCommand({ Bucket: 'versioned', Key: 'v', Body: Buffer.alloc(100, 'v') }));
      await on(1).send(new PutObjectCommand({ Bucket: 'versioned', Key: 'v', Body: Buffer.alloc(50, 'v') }));
      await on(0).send(new DeleteObjectCommand({ Bucket: 'versioned', Key: 'v' }));
      await on(1).send(new PutObjectCommand({ Bucket: 'versioned', Key: 'w', Body: Buffer.alloc(10, 'w') }));
      const written = Date.now();

      await countAfter(server, slots, token, written, (m) => {
        expect(m.find((f) => f.name === 'minio_cluster_usage_object_total')?.type).toBe('GAUGE');
        expect(sample(m, 'minio_cluster_bucket_total')).toBe(3);
        // Objects: keys whose latest version is not a delete marker (small, big, kb, w).
        expect(sample(m, 'minio_cluster_usage_object_total')).toBe(4);
        expect(sample(m, 'minio_cluster_usage_version_total')).toBe(6);
        expect(sample(m, 'minio_cluster_usage_deletemarker_total')).toBe(1);
        expect(sample(m, 'minio_cluster_usage_total_bytes')).toBe(1000 + big + 2000 + 100 + 50 + 10);
        const range = (r: string) => sample(m, 'minio_cluster_objects_size_distribution', { range: r });
        expect(range('LESS_THAN_1024_B')).toBe(2);
        expect(range('BETWEEN_1024B_AND_1_MB')).toBe(1);
        expect(range('BETWEEN_1_MB_AND_10_MB')).toBe(1);
        expect(range('GREATER_THAN_512_MB')).toBe(0);
      });
      // The node endpoint leaves the cluster's usage out.
      const node = parsePrometheusTextFormat((await scrape(server, 1, '/minio/v2/metrics/node', token)).text);
      expect(node.map((f) => f.name).filter((n) => USAGE.includes(n))).toEqual([]);

      // A change shows in the next cycle's count.
      await on(1).send(new DeleteObjectCommand({ Bucket: 'plain', Key: 'big' }));
      const deleted = Date.now();
      await countAfter(server, slots, token, deleted, (m) => {
        expect(sample(m, 'minio_cluster_usage_object_total')).toBe(3);
        expect(sample(m, 'minio_cluster_usage_total_bytes')).toBe(1000 + 2000 + 100 + 50 + 10);
        expect(sample(m, 'minio_cluster_objects_size_distribution', { range: 'BETWEEN_1_MB_AND_10_MB' })).toBe(0);
      });
    }, 150_000);
  });
});
