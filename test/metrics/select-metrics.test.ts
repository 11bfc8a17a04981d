// S3 Select's byte counts in the Prometheus endpoints of a real `cairn server` (one process, and two workers):
// a known set of queries through the AWS SDK, then a scrape parsed by parse-prometheus-text-format. The
// cairn_s3_select_bytes_{scanned,processed,returned}_total series are exactly the sums of the Stats messages
// the client got (MinIO has no such series), summed over the workers whichever of them answers the scrape; a
// query refused before its stream starts counts nothing.
import { gzipSync } from 'node:zlib';
import {
  CreateBucketCommand,
  PutObjectCommand,
  type S3Client,
  SelectObjectContentCommand,
  type SelectObjectContentCommandInput,
} from '@aws-sdk/client-s3';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prometheusToken } from '../../server/src/http/metrics-auth.js';
import { s3Error } from '../helpers/cairn.js';
import { sample, scrape } from '../helpers/prometheus.js';
import { startWorkers, WORKERS_ROOT, type WorkersServer } from '../helpers/workers.js';

const BUCKET = 'selected';
const ROWS = 3000;
const CSV = `id,name,amount\n${Array.from({ length: ROWS }, (_, i) => `${i},name-${i},${i % 97}`).join('\n')}\n`;

interface Counts {
  scanned: number;
  processed: number;
  returned: number;
  /** The Records payloads' bytes as the client received them. */
  records: number;
}

/** Runs one query and returns its Stats message's figures (and the records' bytes it received). */
async function select(s3: S3Client, input: Partial<SelectObjectContentCommandInput>): Promise<Counts> {
  const res = await s3.send(
    new SelectObjectContentCommand({
      Bucket: BUCKET,
      Key: 'rows.csv',
      ExpressionType: 'SQL',
      Expression: 'SELECT * FROM S3Object s',
      InputSerialization: { CSV: { FileHeaderInfo: 'USE' } },
      OutputSerialization: { CSV: {} },
      ...input,
    }),
  );
  let stats: Counts | undefined;
  let records = 0;
  for await (const ev of res.Payload!) {
    if (ev.Records?.Payload) records += ev.Records.Payload.length;
    const d = ev.Stats?.Details;
    if (d) stats = { scanned: d.BytesScanned!, processed: d.BytesProcessed!, returned: d.BytesReturned!, records: 0 };
  }
  expect(stats).toBeDefined();
  return { ...stats!, records };
}

describe.each([1, 2])('S3 Select metrics of a server with %i worker(s)', (workers) => {
  let server: WorkersServer;
  let token: string;
  const slots = Array.from({ length: workers }, (_, i) => i + 1);
  beforeAll(async () => {
    server = await startWorkers(workers);
    token = await prometheusToken(WORKERS_ROOT);
  }, 120_000);
  afterAll(() => server?.close());

  it('counts the bytes the queries scanned, processed and returned, as their Stats said', async () => {
    const clients = await Promise.all(slots.map((s) => server.client(s)));
    const on = (i: number) => clients[i % clients.length];
    await on(0).send(new CreateBucketCommand({ Bucket: BUCKET }));
    await on(0).send(new PutObjectCommand({ Bucket: BUCKET, Key: 'rows.csv', Body: CSV }));
    const gz = gzipSync(CSV);
    await on(0).send(new PutObjectCommand({ Bucket: BUCKET, Key: 'rows.csv.gz', Body: gz }));

    const queries: Partial<SelectObjectContentCommandInput>[] = [
      {},
      { Expression: "SELECT s.name FROM S3Object s WHERE s.amount = '5'" },
      {
        Key: 'rows.csv.gz',
        Expression: 'SELECT COUNT(*), SUM(CAST(s.amount AS INT)) FROM S3Object s',
        InputSerialization: { CSV: { FileHeaderInfo: 'USE' }, CompressionType: 'GZIP' },
        OutputSerialization: { JSON: {} },
      },
      { Expression: 'SELECT s.id FROM S3Object s LIMIT 3' },
    ];
    const got: Counts[] = [];
    for (const [i, q] of queries.entries()) got.push(await select(on(i), q));
    // What each query's Stats says is what its client received; the gzip object was scanned compressed.
    for (const c of got) expect(c.returned).toBe(c.records);
    expect(got[0].scanned).toBe(CSV.length);
    expect(got[2].scanned).toBe(gz.length);
    expect(got[2].processed).toBe(CSV.length);
    // A query refused before its stream starts (bad SQL, a missing key) scans nothing.
    const bad = await s3Error(select(on(1), { Expression: 'SELECT FROM WHERE' }));
    expect(bad.name).toBe('ParseEmptySelect');
    expect((await s3Error(select(on(0), { Key: 'nope.csv' }))).name).toBe('NoSuchKey');

    const sum = (f: (c: Counts) => number) => got.reduce((a, c) => a + f(c), 0);
    for (const slot of slots) {
      const res = await scrape(server, slot, '/minio/v2/metrics/cluster', token);
      expect(res.status).toBe(200);
      const m = parsePrometheusTextFormat(res.text);
      expect(m.find((f) => f.name === 'cairn_s3_select_bytes_scanned_total')?.type).toBe('COUNTER');
      expect(sample(m, 'cairn_s3_select_bytes_scanned_total')).toBe(sum((c) => c.scanned));
      expect(sample(m, 'cairn_s3_select_bytes_processed_total')).toBe(sum((c) => c.processed));
      expect(sample(m, 'cairn_s3_select_bytes_returned_total')).toBe(sum((c) => c.returned));
      expect(sample(m, 'minio_s3_requests_total', { api: 'selectobjectcontent' })).toBe(queries.length + 2);
    }
    // The node endpoint has them too.
    const node = parsePrometheusTextFormat((await scrape(server, 1, '/minio/v2/metrics/node', token)).text);
    expect(sample(node, 'cairn_s3_select_bytes_returned_total')).toBe(sum((c) => c.returned));
  });
});
