// The background healing's state through MinIO's admin API (POST /minio/admin/v3/background-heal/status) on a
// `cairn server` of two workers: one of them (the leader) runs the healer, and whichever worker answers gives
// the leader's counts (asked over the change bus). An object whose files one drive lost is found by a GET,
// queued, and healed in the background: the counts show it, from both workers alike; `cairn admin heal
// --status` prints them, and the Prometheus cluster endpoint under MinIO's names (minio_heal_objects_heal_total,
// minio_node_scanner_objects_scanned); a key without admin:Heal is refused.
import { access, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { prometheusToken } from '../../server/src/http/metrics-auth.js';
import { objectDir } from '../../server/src/storage/meta/key-path.js';
import { spawnCairn } from '../helpers/cli.js';
import { signRequest } from '../helpers/signed-request.js';
import { startWorkers, WORKERS_ALT, WORKERS_ROOT, type WorkersServer } from '../helpers/workers.js';

const BUCKET = 'bg-heal';
let server: WorkersServer;

beforeAll(async () => {
  server = await startWorkers(2);
}, 120_000);
afterAll(() => server?.close());

interface BgHealState {
  ScannedItemsCount: number;
  HealDisks: string[];
  sets: { id: string; set_index: number; disks: { endpoint: string; state: string; set_index: number }[] }[];
  sc_parity: Record<string, number>;
  cairn: { healedObjects: number; failedObjects: number; queued: number; scanCycles: number };
}

/** The status as worker `slot` answers it (signed by `creds`): the HTTP status and the parsed body. */
async function status(slot: number, creds = WORKERS_ROOT): Promise<{ code: number; body: BgHealState }> {
  const path = '/minio/admin/v3/background-heal/status';
  const { headers } = await signRequest(server.url, { method: 'POST', path, credentials: creds });
  const agent = await server.agent(slot);
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, { method: 'POST', headers, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.once('end', () => resolve({ code: res.statusCode ?? 0, body: JSON.parse(text) as BgHealState }));
    });
    req.once('error', reject);
    req.end();
  });
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

describe('background heal status', () => {
  it("answers the leader's counts from every worker; an object healed in the background is counted", async () => {
    const s3 = await server.client(1);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const before = await status(2);
    expect(before.code).toBe(200);
    expect(before.body.sc_parity).toEqual({ STANDARD: 2, REDUCED_REDUNDANCY: 1 });
    expect(before.body.sets.map((s) => s.disks.map((d) => [d.endpoint, d.state]))).toEqual([
      server.drives.map((d) => [d, 'ok']),
    ]);
    expect(before.body.HealDisks).toEqual([]);

    // Drive 0 loses the object's files; a GET still answers (parity) and queues the object for healing.
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'k', Body: 'background heal' }));
    const lost = join(server.drives[0], BUCKET, objectDir('k'));
    await rm(lost, { recursive: true });
    const got = await (await server.client(2)).send(new GetObjectCommand({ Bucket: BUCKET, Key: 'k' }));
    expect(await got.Body!.transformToString()).toBe('background heal');
    await vi.waitFor(async () => expect(await exists(lost)).toBe(true), { timeout: 30_000, interval: 100 });
    const healed = before.body.cairn.healedObjects + 1;
    await vi.waitFor(
      async () => {
        const [a, b] = await Promise.all([status(1), status(2)]);
        expect(a.body.cairn.healedObjects).toBeGreaterThanOrEqual(healed);
        // Both workers give the one leader's counts.
        expect(b.body.cairn).toEqual(a.body.cairn);
        expect(b.body.ScannedItemsCount).toBe(a.body.ScannedItemsCount);
      },
      { timeout: 30_000, interval: 200 },
    );

    // The Prometheus cluster endpoint gives the same counts under MinIO's names, whichever worker answers.
    const token = await prometheusToken(WORKERS_ROOT);
    const scrape = async () => {
      const res = await fetch(`${server.url}/minio/v2/metrics/cluster`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const families = parsePrometheusTextFormat(await res.text());
      const value = (name: string) => Number(families.find((f) => f.name === name)?.metrics[0]?.value);
      return {
        healed: value('minio_heal_objects_heal_total'),
        failed: value('minio_heal_objects_errors_total'),
        scanned: value('minio_node_scanner_objects_scanned'),
        cycles: value('cairn_scanner_cycles_total'),
      };
    };
    const scraped = await scrape();
    const now = (await status(1)).body;
    expect(scraped.healed).toBeGreaterThanOrEqual(healed);
    expect(scraped.healed).toBeLessThanOrEqual(now.cairn.healedObjects);
    expect(scraped.failed).toBe(0);
    expect(scraped.scanned).toBeLessThanOrEqual(now.ScannedItemsCount);
    expect(scraped.cycles).toBeLessThanOrEqual(now.cairn.scanCycles);
    expect(Number.isInteger(scraped.scanned) && Number.isInteger(scraped.cycles)).toBe(true);

    // `cairn admin heal --status` prints the counts and the drives.
    const child = spawnCairn(['admin', '--endpoint', server.url, 'heal', '--status'], {
      CAIRN_ROOT_USER: WORKERS_ROOT.accessKey,
      CAIRN_ROOT_PASSWORD: WORKERS_ROOT.secretKey,
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(0);
    expect(out).toMatch(/background heal: \d+ objects scanned in \d+ full cycles.*, [1-9]\d* healed, 0 failed/);
    for (const d of server.drives) expect(out).toContain(d);
  });

  it('is behind admin:Heal', async () => {
    const denied = await status(1, WORKERS_ALT).catch((e: Error) => e);
    expect(denied).not.toBeInstanceOf(Error);
    expect((denied as { code: number }).code).toBe(403);
  });
});
